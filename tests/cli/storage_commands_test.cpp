// `metadial storage copy`, run as a user would: studies go from one storage to another with every
// trial, intermediate value and attribute (timestamps excepted: they are the copy's time); a study
// already at the destination is refused, never duplicated; a trial running at copy time arrives
// failed. The PostgreSQL leg runs against the process's throwaway server (postgres_fixture.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/storage/storage.h"
#include "metadial/study/trial.h"
#include "storage/postgres_fixture.h"
#include "support/binary_test.h"

namespace {

namespace fs = std::filesystem;
using metadial::storage::open_storage;
using metadial::storage::OpenMode;
using metadial::storage::Storage;
using metadial::study::Direction;
using metadial::study::FrozenTrial;
using metadial::study::TrialState;

class StorageCopy : public metadial::testing::BinaryTest {
 protected:
  std::string sqlite(const std::string& name) const { return "sqlite:" + (dir_ / name).string(); }

  /// A study of every kind of trial: complete (with intermediate values), pruned, failed with a
  /// reason, one whose sampler failed (no params), one still running; int, float and categorical
  /// params; attrs; two workers; a retry of a trial; a queued configuration (a retry too).
  static void fill(Storage& st, const std::string& name, Direction direction) {
    const nlohmann::json space = {{"x", {{"type", "float"}, {"low", -1.0}, {"high", 1.0}}},
                                  {"n", {{"type", "int"}, {"low", 1}, {"high", 9}}},
                                  {"c", {{"type", "categorical"}, {"choices", {"a", "b"}}}}};
    const nlohmann::json attrs = {{"sampler", "gp"}, {"seed", 7}, {"note", "ünïcode"}};
    const auto rec = st.create_or_load_study(name, direction, space, attrs);
    const auto params = [](double x, int64_t n, const char* c) {
      return metadial::space::Config{{"x", x}, {"n", n}, {"c", std::string(c)}};
    };
    auto t = st.create_trial(rec.id, "hostA:11");
    st.set_trial_params(t.id, params(0.125, 3, "a"), 1);
    st.report_intermediate(t.id, 0, 2.5);
    st.report_intermediate(t.id, 4, 1.25);
    st.finish_trial(t.id, TrialState::kComplete, 0.1 + 0.2, 3.5, "");
    t = st.create_trial(rec.id, "hostB:22");
    st.set_trial_params(t.id, params(-0.75, 9, "b"), 0);
    st.report_intermediate(t.id, 1, 7.0);
    st.finish_trial(t.id, TrialState::kPruned, 7.0, 0.5, "");
    t = st.create_trial(rec.id, "hostA:11");
    st.set_trial_params(t.id, params(1.0 / 3.0, 1, "a"), 0);
    st.finish_trial(t.id, TrialState::kFailed, std::nullopt, 0.25, "objective exited with status 3\nsecond line");
    t = st.create_trial(rec.id, "hostB:22");
    st.finish_trial(t.id, TrialState::kFailed, std::nullopt, 0.0, "sampler 'gp' failed: singular matrix");
    t = st.create_trial(rec.id, "hostA:11");
    st.set_trial_params(t.id, params(0.5, 2, "b"), 0);
    st.report_intermediate(t.id, 0, 9.0);
    // A retry of trial 2 (its worker went silent), complete.
    st.enqueue_trial(rec.id, params(1.0 / 3.0, 1, "a"), 0, false, 2);
    t = st.create_trial(rec.id, "hostB:22");
    st.finish_trial(t.id, TrialState::kComplete, 0.125, 0.25, "");
    st.create_trial(rec.id, "hostB:22");  // running, no params yet
    st.enqueue_trial(rec.id, params(0.25, 5, "b"), 1, false, 3);  // queued for the next trial, a retry of 3
  }

  /// Expects `b` to hold `a`'s study `name` trial for trial, timestamps excepted; trials running in
  /// `a` must be failed "running at copy time" in `b`.
  static void expect_same_study(Storage& a, Storage& b, const std::string& name) {
    const auto ra = a.find_study(name);
    const auto rb = b.find_study(name);
    ASSERT_TRUE(ra && rb) << name;
    EXPECT_EQ(ra->direction, rb->direction);
    EXPECT_EQ(ra->space, rb->space);
    EXPECT_EQ(ra->attrs, rb->attrs);
    const auto qa = a.queued_trials(ra->id);
    const auto qb = b.queued_trials(rb->id);
    ASSERT_EQ(qa.size(), qb.size());
    for (size_t i = 0; i < qa.size(); ++i) {
      EXPECT_EQ(qa[i].params, qb[i].params);
      EXPECT_EQ(qa[i].fidelity, qb[i].fidelity);
      EXPECT_EQ(qa[i].retry_of, qb[i].retry_of);
    }
    const auto ta = a.trials(ra->id);
    const auto tb = b.trials(rb->id);
    ASSERT_EQ(ta.size(), tb.size());
    for (size_t i = 0; i < ta.size(); ++i) {
      SCOPED_TRACE("trial " + std::to_string(ta[i].number));
      EXPECT_EQ(ta[i].number, tb[i].number);
      EXPECT_EQ(ta[i].params, tb[i].params);
      EXPECT_EQ(ta[i].fidelity, tb[i].fidelity);
      EXPECT_EQ(ta[i].value, tb[i].value);  // bit for bit
      EXPECT_EQ(ta[i].intermediate, tb[i].intermediate);
      EXPECT_EQ(ta[i].cost, tb[i].cost);
      EXPECT_EQ(ta[i].worker, tb[i].worker);
      EXPECT_EQ(ta[i].retry_of, tb[i].retry_of);
      EXPECT_TRUE(tb[i].is_finished());
      if (ta[i].state == TrialState::kRunning) {
        EXPECT_EQ(tb[i].state, TrialState::kFailed);
        EXPECT_EQ(tb[i].fail_reason.rfind("running at copy time", 0), 0u) << tb[i].fail_reason;
      } else {
        EXPECT_EQ(ta[i].state, tb[i].state);
        EXPECT_EQ(ta[i].fail_reason, tb[i].fail_reason);
        EXPECT_EQ(ta[i].started_at, tb[i].started_at);  // the source's times, bit for bit
        EXPECT_EQ(ta[i].finished_at, tb[i].finished_at);
      }
    }
  }
};

TEST_F(StorageCopy, SqliteToPostgresToSqliteKeepsEveryTrialAndCopyingTwiceIsRefused) {
  auto& cluster = metadial::storage::testing::PostgresCluster::shared();
  const std::string pg = cluster.new_database_url();
  const std::string pg_masked = metadial::storage::mask_password(pg);
  {
    auto src = open_storage(sqlite("a.db"));
    fill(*src, "alpha", Direction::kMinimize);
    fill(*src, "beta", Direction::kMaximize);
    src->create_or_load_study("empty", Direction::kMinimize, nlohmann::json::object(), nlohmann::json::object());
  }

  auto r = run("storage copy --from sqlite:a.db --to '" + pg + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("copied study 'alpha' (7 trials; 2 were running, copied as failed)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("copied 3 studies, 14 trials"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(cluster.password()), std::string::npos) << "password printed: " << r.out;
  EXPECT_NE(r.out.find(pg_masked), std::string::npos) << r.out;

  r = run("storage copy --from '" + pg + "' --to sqlite:b.db");
  ASSERT_EQ(r.code, 0) << r.err;
  {
    auto a = open_storage(sqlite("a.db"), OpenMode::kReadOnly);
    auto p = open_storage(pg, OpenMode::kReadOnly);
    auto b = open_storage(sqlite("b.db"), OpenMode::kReadOnly);
    for (const char* name : {"alpha", "beta", "empty"}) {
      expect_same_study(*a, *p, name);
      expect_same_study(*a, *b, name);
    }
    EXPECT_EQ(b->list_studies().size(), 3u);
  }

  // Copying again: refused with one line naming the studies, the destination unchanged.
  r = run("storage copy --from sqlite:a.db --to '" + pg + "'");
  expect_user_error(r, {"'alpha', 'beta', 'empty'", "nothing was copied", pg_masked});
  EXPECT_EQ(r.err.find(cluster.password()), std::string::npos) << r.err;
  r = run("storage copy --from sqlite:a.db --to '" + pg + "' --study beta");
  expect_user_error(r, {"'beta'", "nothing was copied"});
  {
    auto p = open_storage(pg, OpenMode::kReadOnly);
    EXPECT_EQ(p->list_studies().size(), 3u);
    EXPECT_EQ(p->count_trials(p->find_study("alpha")->id).total(), 7);
  }
}

TEST_F(StorageCopy, OneStudyByNameAndUserErrors) {
  {
    auto src = open_storage(sqlite("a.db"));
    fill(*src, "alpha", Direction::kMinimize);
    fill(*src, "beta", Direction::kMaximize);
  }
  auto r = run("storage copy --from sqlite:a.db --to sqlite:c.db --study beta");
  ASSERT_EQ(r.code, 0) << r.err;
  {
    auto a = open_storage(sqlite("a.db"), OpenMode::kReadOnly);
    auto c = open_storage(sqlite("c.db"), OpenMode::kReadOnly);
    ASSERT_EQ(c->list_studies().size(), 1u);
    expect_same_study(*a, *c, "beta");
  }
  // Every study now: refused, since beta is there already; nothing written.
  expect_user_error(run("storage copy --from sqlite:a.db --to sqlite:c.db"), {"already has study 'beta'", "c.db"});
  {
    auto c = open_storage(sqlite("c.db"), OpenMode::kReadOnly);
    EXPECT_EQ(c->list_studies().size(), 1u);
  }
  expect_user_error(run("storage copy --from sqlite:a.db --to sqlite:d.db --study gamma"),
                    {"no study 'gamma'", "alpha, beta"});
  EXPECT_FALSE(fs::exists(dir_ / "d.db")) << "a refused copy must not create the destination";
  expect_user_error(run("storage copy --from sqlite:a.db --to sqlite:a.db"), {"same storage"});
}

}  // namespace
