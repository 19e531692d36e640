// The dashboard on PostgreSQL: the JSON API and the report over a read-only connection to a
// throwaway server (tests/storage/postgres_fixture.h: initdb + pg_ctl as an unprivileged user), while
// another connection writes. Skipped only when the PostgreSQL binaries are not installed; a server
// that is installed but does not start fails the test.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "metadial/dashboard/api.h"
#include "metadial/dashboard/report.h"
#include "metadial/space/search_space.h"
#include "metadial/storage/storage.h"
#include "storage/postgres_fixture.h"

namespace metadial::dashboard {
namespace {

using nlohmann::json;
using study::Direction;
using study::TrialState;

/// Whether initdb and pg_ctl are installed where the fixture looks for them.
bool postgres_installed() {
  if (const char* env = std::getenv("METADIAL_PG_BIN"); env != nullptr && *env != '\0') {
    return ::access((std::string(env) + "/initdb").c_str(), X_OK) == 0;
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string bin = e.path().string() + "/bin";
    if (::access((bin + "/initdb").c_str(), X_OK) == 0 && ::access((bin + "/pg_ctl").c_str(), X_OK) == 0) return true;
  }
  return false;
}

json get(Api& api, const std::string& path, std::map<std::string, std::string> query) {
  const ApiResponse r = api.handle(path, query);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  return json::parse(r.body);
}

int64_t add_trial(storage::Storage& st, int64_t study_id, double x, std::optional<double> value,
                  TrialState state = TrialState::kComplete) {
  auto t = st.create_trial(study_id, "pg:1");
  st.set_trial_params(t.id, {{"x", x}, {"k", std::string(x < 0.5 ? "a" : "b")}}, 0);
  st.report_intermediate(t.id, 0, x * 2);
  if (state != TrialState::kRunning)
    st.finish_trial(t.id, state, value, 1.0, state == TrialState::kFailed ? "boom" : "");
  return t.number;
}

TEST(DashboardOnPostgres, ApiAndReportReadAStudyWhileAnotherConnectionWrites) {
  if (!postgres_installed()) {
    GTEST_SKIP() << "PostgreSQL is not installed (no initdb and pg_ctl under /usr/lib/postgresql/*/bin or "
                    "METADIAL_PG_BIN): install the Debian package postgresql (scripts/setup-deps) to run this test";
  }
  auto& cluster = storage::testing::PostgresCluster::shared();
  const std::string url = cluster.new_database_url();
  auto writer = storage::open_storage(url);
  space::SearchSpace space;
  space.add_float("x", 0.0, 1.0).add_categorical("k", {"a", "b"});
  const std::string name = "pg <study> & \"x\"";
  const auto study = writer->create_or_load_study(name, Direction::kMinimize, space.to_json(),
                                                  json{{"sampler", "tpe"}, {"objective", "toy"}});
  for (int i = 0; i < 12; ++i) add_trial(*writer, study.id, i / 12.0, 5.0 - i * 0.25);
  add_trial(*writer, study.id, 0.9, std::nullopt, TrialState::kFailed);
  const int64_t running = add_trial(*writer, study.id, 0.3, std::nullopt, TrialState::kRunning);

  auto reader = storage::open_storage(url, storage::OpenMode::kReadOnly);
  const std::string label = storage::mask_password(url);
  EXPECT_EQ(label.find(cluster.password()), std::string::npos);
  Api api(*reader, label);
  json j = get(api, "/api/studies", {});
  ASSERT_EQ(j["studies"].size(), 1u);
  EXPECT_EQ(j["studies"][0]["name"], name);
  EXPECT_EQ(j["studies"][0]["sampler"], "tpe");
  EXPECT_EQ(j["studies"][0]["counts"]["complete"], 12);
  EXPECT_EQ(j["studies"][0]["counts"]["failed"], 1);
  EXPECT_EQ(j["studies"][0]["counts"]["running"], 1);
  EXPECT_DOUBLE_EQ(j["studies"][0]["best_value"].get<double>(), 5.0 - 11 * 0.25);

  const std::map<std::string, std::string> q = {{"study", name}};
  const int64_t cursor = get(api, "/api/study", q)["cursor"];
  j = get(api, "/api/points", q);
  EXPECT_EQ(j["number"].size(), 12u);
  EXPECT_EQ(j["params"]["k"].size(), 12u);
  j = get(api, "/api/trials", {{"study", name}, {"sort", "value"}, {"order", "asc"}, {"limit", "5"}});
  EXPECT_EQ(j["matched"], 14);
  EXPECT_EQ(j["rows"][0]["number"], 11);
  j = get(api, "/api/trials", {{"study", name}, {"state", "failed"}});
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["fail_reason"], "boom");
  j = get(api, "/api/trial", {{"study", name}, {"number", "3"}});
  EXPECT_EQ(j["intermediate"]["step"], json::array({0}));
  EXPECT_EQ(get(api, "/api/curves", q)["total_with_curves"], 14);
  EXPECT_EQ(get(api, "/api/importance", q)["params"].size(), 2u);

  // The writer finishes the running trial and adds one: /api/changes names both.
  const auto trials = writer->trials(study.id);
  writer->finish_trial(trials[static_cast<std::size_t>(running)].id, TrialState::kComplete, 0.1, 1.0, "");
  const int64_t added = add_trial(*writer, study.id, 0.7, 4.0);
  j = get(api, "/api/changes", {{"study", name}, {"cursor", std::to_string(cursor)}});
  EXPECT_EQ(j["changed"], json::array({running, added}));
  EXPECT_EQ(j["counts"]["complete"], 14);
  EXPECT_DOUBLE_EQ(get(api, "/api/study", q)["best"]["value"].get<double>(), 0.1);

  // The report reads the same study over PostgreSQL.
  const std::string html = render_report(*reader, label, name);
  EXPECT_NE(html.find("<h1 id=\"study-name\">pg &lt;study&gt; &amp; &quot;x&quot;</h1>"), std::string::npos);
  EXPECT_NE(html.find("\"total_complete\":14"), std::string::npos);
}

}  // namespace
}  // namespace metadial::dashboard
