// The dashboard's JSON API (metadial/dashboard/api.h) on small stored studies, called directly and
// through the HTTP server with cpp-httplib's client.
#include <httplib.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/dashboard/api.h"
#include "metadial/dashboard/server.h"
#include "metadial/space/search_space.h"
#include "metadial/storage/storage.h"

namespace metadial::dashboard {
namespace {

using nlohmann::json;
using study::Direction;
using study::TrialState;

space::SearchSpace test_space() {
  space::SearchSpace s;
  s.add_float("lr", 1e-4, 1e-1, /*log=*/true).add_int("layers", 1, 4).add_categorical("opt", {"adam", "sgd"});
  return s;
}

/// Adds a finished trial with params (lr, layers, opt), `value` and `cost`; returns its number.
int64_t add_trial(storage::Storage& st, int64_t study_id, double lr, int64_t layers, const std::string& opt,
                  std::optional<double> value, TrialState state = TrialState::kComplete, double cost = 1.0,
                  const std::string& reason = "") {
  auto t = st.create_trial(study_id, "test:1");
  st.set_trial_params(t.id, {{"lr", lr}, {"layers", layers}, {"opt", opt}}, 0);
  if (state != TrialState::kRunning) st.finish_trial(t.id, state, value, cost, reason);
  return t.number;
}

json get(Api& api, const std::string& path, std::map<std::string, std::string> query, int expect = 200) {
  const ApiResponse r = api.handle(path, query);
  EXPECT_EQ(r.status, expect) << path << ": " << r.body;
  return json::parse(r.body);
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = storage::open_storage("memory");
    study_ = storage_->create_or_load_study("s", Direction::kMinimize, test_space().to_json(),
                                            json{{"sampler", "tpe"}, {"objective", "branin"}});
  }
  std::unique_ptr<storage::Storage> storage_;
  storage::StudyRecord study_;
};

TEST_F(ApiTest, StudiesListsSamplerObjectiveCountsBestAndActivity) {
  add_trial(*storage_, study_.id, 0.01, 2, "adam", 3.0);
  add_trial(*storage_, study_.id, 0.02, 3, "sgd", 1.5);
  add_trial(*storage_, study_.id, 0.03, 1, "adam", std::nullopt, TrialState::kFailed, 0.5, "diverged");
  add_trial(*storage_, study_.id, 0.04, 1, "sgd", std::nullopt, TrialState::kRunning);
  Api api(*storage_, "memory");
  const json j = get(api, "/api/studies", {});
  ASSERT_EQ(j["studies"].size(), 1u);
  const json& s = j["studies"][0];
  EXPECT_EQ(s["name"], "s");
  EXPECT_EQ(s["sampler"], "tpe");
  EXPECT_EQ(s["objective"], "branin");
  EXPECT_EQ(s["direction"], "minimize");
  EXPECT_EQ(s["counts"]["complete"], 2);
  EXPECT_EQ(s["counts"]["failed"], 1);
  EXPECT_EQ(s["counts"]["running"], 1);
  EXPECT_EQ(s["counts"]["total"], 4);
  EXPECT_DOUBLE_EQ(s["best_value"].get<double>(), 1.5);
  EXPECT_GE(s["last_activity"].get<double>(), study_.created_at);
}

TEST_F(ApiTest, UnknownStudyIs404NamingTheStudiesThere) {
  Api api(*storage_, "sqlite:x.db");
  const json j = get(api, "/api/study", {{"study", "nope"}}, 404);
  EXPECT_NE(j["error"].get<std::string>().find("no study 'nope'"), std::string::npos);
  EXPECT_NE(j["error"].get<std::string>().find("it holds s"), std::string::npos);
}

TEST_F(ApiTest, BadQueryParametersAre400) {
  Api api(*storage_, "memory");
  get(api, "/api/study", {}, 400);
  get(api, "/api/trials", {{"study", "s"}, {"limit", "abc"}}, 400);
  get(api, "/api/trials", {{"study", "s"}, {"limit", "100000"}}, 400);
  get(api, "/api/trials", {{"study", "s"}, {"sort", "bogus"}}, 400);
  get(api, "/api/trials", {{"study", "s"}, {"sort", "param:nope"}}, 400);
  get(api, "/api/trials", {{"study", "s"}, {"state", "complete,bogus"}}, 400);
  get(api, "/api/trials", {{"study", "s"}, {"order", "up"}}, 400);
  get(api, "/api/trial", {{"study", "s"}}, 400);
  get(api, "/api/trial", {{"study", "s"}, {"number", "0"}}, 404);
  get(api, "/api/nothing", {{"study", "s"}}, 404);
}

TEST_F(ApiTest, ChangesGiveOnlyTheTrialsChangedAfterTheCursor) {
  add_trial(*storage_, study_.id, 0.01, 2, "adam", 3.0);
  const int64_t running = add_trial(*storage_, study_.id, 0.02, 2, "adam", std::nullopt, TrialState::kRunning);
  Api api(*storage_, "memory");
  const int64_t cursor = get(api, "/api/study", {{"study", "s"}})["cursor"];
  EXPECT_TRUE(get(api, "/api/changes", {{"study", "s"}, {"cursor", std::to_string(cursor)}})["changed"].empty());
  // Another writer finishes the running trial and adds one.
  storage_->finish_trial(storage_->trials(study_.id)[static_cast<size_t>(running)].id, TrialState::kComplete, 0.5,
                         1.0, "");
  const int64_t added = add_trial(*storage_, study_.id, 0.03, 2, "sgd", 2.0);
  const json j = get(api, "/api/changes", {{"study", "s"}, {"cursor", std::to_string(cursor)}});
  EXPECT_EQ(j["changed"], json::array({running, added}));
  EXPECT_GT(j["cursor"].get<int64_t>(), cursor);
  EXPECT_EQ(j["counts"]["complete"], 3);
  EXPECT_TRUE(get(api, "/api/changes", {{"study", "s"}, {"cursor", std::to_string(j["cursor"].get<int64_t>())}})["changed"].empty());
}

/// Writes `text` to `path`.
void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string numbered_lines(int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

class LogTail : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("metadial-logtail-" + std::to_string(getpid()) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LogTail, GivesTheLastLinesOfALongLogAndAllOfAShortOne) {
  write_file(dir_ / "long.out", numbered_lines(1, 120));
  json j = log_tail((dir_ / "long.out").string(), 50, 65536);
  ASSERT_EQ(j["lines"].size(), 50u) << j.dump();
  EXPECT_EQ(j["lines"][0], "line 71");
  EXPECT_EQ(j["lines"][49], "line 120");
  EXPECT_TRUE(j["truncated"].get<bool>());
  write_file(dir_ / "short.out", "one\ntwo without a newline");
  j = log_tail((dir_ / "short.out").string(), 50, 65536);
  EXPECT_EQ(j["lines"], json::array({"one", "two without a newline"}));
  EXPECT_FALSE(j["truncated"].get<bool>());
  write_file(dir_ / "empty.out", "");
  EXPECT_TRUE(log_tail((dir_ / "empty.out").string(), 50, 65536)["lines"].empty());
}

TEST_F(LogTail, ReadsOnlyTheEndOfAHugeLogAndDropsTheCutLine) {
  write_file(dir_ / "huge.out", numbered_lines(1, 100000));
  const json j = log_tail((dir_ / "huge.out").string(), 50, 100);
  ASSERT_FALSE(j["lines"].empty());
  EXPECT_EQ(j["lines"].back(), "line 100000");
  EXPECT_LE(j["lines"].size(), 10u);
  for (const auto& l : j["lines"]) EXPECT_EQ(l.get<std::string>().rfind("line ", 0), 0u) << l;  // no cut line
  EXPECT_TRUE(j["truncated"].get<bool>());
}

TEST_F(LogTail, RefusesALinkADirectoryAndSaysWhenTheFileIsMissing) {
  write_file(dir_ / "secret", "do not show");
  std::filesystem::create_symlink(dir_ / "secret", dir_ / "link.out");
  json j = log_tail((dir_ / "link.out").string(), 50, 65536);
  EXPECT_FALSE(j.contains("lines"));
  EXPECT_NE(j["error"].get<std::string>().find("symbolic link"), std::string::npos) << j.dump();
  j = log_tail(dir_.string(), 50, 65536);
  EXPECT_EQ(j["error"], "not a regular file");
  j = log_tail((dir_ / "missing.out").string(), 50, 65536);
  EXPECT_EQ(j["error"], "no such file on this machine");
  EXPECT_EQ(j["path"], (dir_ / "missing.out").string());
}

TEST_F(LogTail, TrialDetailHasTheTailOfACommandObjectivesLog) {
  auto st = storage::open_storage("memory");
  const auto study = st->create_or_load_study("cmd", Direction::kMinimize, test_space().to_json(),
                                              json{{"objective", "command"}, {"log_dir", dir_.string()}});
  const auto plain = st->create_or_load_study("plain", Direction::kMinimize, test_space().to_json(), json::object());
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  auto here = st->create_trial(study.id, std::string(host) + ":42");
  st->finish_trial(here.id, TrialState::kComplete, 1.0, 1.0, "");
  auto there = st->create_trial(study.id, "elsewhere:7");
  st->finish_trial(there.id, TrialState::kComplete, 2.0, 1.0, "");
  add_trial(*st, plain.id, 0.01, 2, "adam", 3.0);
  write_file(dir_ / "trial-0.out", numbered_lines(1, 80) + "objective: 1\n");
  write_file(dir_ / "trial-0.err", "<b>warning</b>\n");
  ApiOptions options;
  options.log_lines = 20;
  Api api(*st, "memory", options);
  json j = get(api, "/api/trial", {{"study", "cmd"}, {"number", "0"}});
  ASSERT_TRUE(j.contains("log")) << j.dump();
  EXPECT_EQ(j["log"]["out"]["path"], (dir_ / "trial-0.out").string());
  ASSERT_EQ(j["log"]["out"]["lines"].size(), 20u);
  EXPECT_EQ(j["log"]["out"]["lines"].back(), "objective: 1");
  EXPECT_TRUE(j["log"]["out"]["truncated"].get<bool>());
  EXPECT_EQ(j["log"]["err"]["lines"], json::array({"<b>warning</b>"}));
  // A trial of another host: its log is not here, and the answer says where it is.
  j = get(api, "/api/trial", {{"study", "cmd"}, {"number", "1"}});
  EXPECT_NE(j["log"]["out"]["error"].get<std::string>().find("ran on host 'elsewhere'"), std::string::npos)
      << j.dump();
  // A study without log_dir has no log.
  EXPECT_FALSE(get(api, "/api/trial", {{"study", "plain"}, {"number", "0"}}).contains("log"));
}

TEST(ThinPoints, KeepsEveryImprovementInNumberAndFinishOrder) {
  // Values 5 4 6 3 7 2 8 ... in number order; finish order reversed: improvements differ.
  const std::vector<double> v = {5, 4, 6, 3, 7, 2, 8, 9, 10, 1, 11, 12};
  std::vector<size_t> finish(v.size());
  for (size_t i = 0; i < v.size(); ++i) finish[i] = v.size() - 1 - i;
  const auto kept = thin_points(v, finish, Direction::kMinimize, 2);
  // Number order: 0 (5), 1 (4), 3 (3), 5 (2), 9 (1); finish order 11 (12), 10 (11), 9 (1); last 11.
  EXPECT_EQ(kept, (std::vector<size_t>{0, 1, 3, 5, 9, 10, 11}));
  const auto kept_max = thin_points(v, {}, Direction::kMaximize, 0);
  EXPECT_EQ(kept_max, (std::vector<size_t>{0, 2, 4, 6, 7, 8, 10, 11}));
  // Room for more: evenly spaced others fill up to max_points.
  EXPECT_EQ(thin_points(v, {}, Direction::kMinimize, 100).size(), v.size());
  EXPECT_EQ(thin_points(v, {}, Direction::kMinimize, 8).size(), 8u);
}

TEST_F(ApiTest, PointsOfALargeStudyAreThinnedButKeepTheExactBestSoFar) {
  Rng rng(7);
  std::vector<double> values;
  for (int i = 0; i < 3000; ++i) {
    values.push_back(uniform01(rng) * 100.0 / (1.0 + i * 0.01));
    add_trial(*storage_, study_.id, 0.001 + 0.05 * uniform01(rng), 1 + i % 4, i % 3 ? "adam" : "sgd", values.back(),
              TrialState::kComplete, 0.5);
  }
  Api api(*storage_, "memory");
  const json p = get(api, "/api/points", {{"study", "s"}, {"max_points", "200"}});
  EXPECT_EQ(p["total_complete"], 3000);
  const auto numbers = p["number"].get<std::vector<int64_t>>();
  const auto vals = p["value"].get<std::vector<double>>();
  EXPECT_GE(numbers.size(), 200u);
  EXPECT_LT(numbers.size(), 300u);
  ASSERT_EQ(p["params"]["opt"].size(), numbers.size());
  // The best so far recomputed from the points sent equals the true one at every point sent.
  std::vector<double> true_best(values.size());
  for (size_t i = 0; i < values.size(); ++i) true_best[i] = i == 0 ? values[0] : std::min(true_best[i - 1], values[i]);
  std::set<int64_t> sent(numbers.begin(), numbers.end());
  double best = vals[0];
  for (size_t k = 0; k < numbers.size(); ++k) {
    best = std::min(best, vals[k]);
    EXPECT_DOUBLE_EQ(best, true_best[static_cast<size_t>(numbers[k])]) << "at trial " << numbers[k];
  }
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i] < true_best[i - 1]) {
      EXPECT_TRUE(sent.count(static_cast<int64_t>(i))) << "improvement " << i << " not sent";
    }
  }
  // Cumulative cost by finish time: trial k finished (k + 1)-th, each costing 0.5.
  EXPECT_DOUBLE_EQ(p["cum_cost"].back().get<double>(), 0.5 * 3000);
  EXPECT_DOUBLE_EQ(p["total_cost"].get<double>(), 0.5 * 3000);
}

TEST_F(ApiTest, TrialsTableSortsFiltersAndPagesThroughEveryTrial) {
  for (int i = 0; i < 120; ++i) {
    const TrialState st = i % 10 == 9 ? TrialState::kFailed : TrialState::kComplete;
    add_trial(*storage_, study_.id, 0.001 * (1 + i), 1 + i % 4, i % 2 ? "adam" : "sgd",
              st == TrialState::kComplete ? std::optional<double>((i * 37) % 101) : std::nullopt, st, 1.0,
              st == TrialState::kFailed ? "exit code 3" : "");
  }
  Api api(*storage_, "memory");
  std::set<int64_t> seen;
  double previous = 1e300;
  bool in_failed_tail = false;
  for (int offset = 0; offset < 120; offset += 50) {
    const json j = get(api, "/api/trials", {{"study", "s"}, {"sort", "value"}, {"order", "desc"},
                                            {"offset", std::to_string(offset)}, {"limit", "50"}});
    EXPECT_EQ(j["matched"], 120);
    for (const auto& r : j["rows"]) {
      seen.insert(r["number"].get<int64_t>());
      if (r["value"].is_null()) {
        in_failed_tail = true;  // trials without a value come last
        continue;
      }
      EXPECT_FALSE(in_failed_tail) << "a valued trial after the trials without value";
      EXPECT_LE(r["value"].get<double>(), previous);
      previous = r["value"].get<double>();
    }
  }
  EXPECT_EQ(seen.size(), 120u);
  const json failed = get(api, "/api/trials", {{"study", "s"}, {"state", "failed"}});
  EXPECT_EQ(failed["matched"], 12);
  EXPECT_EQ(failed["rows"][0]["fail_reason"], "exit code 3");
  const json sgd = get(api, "/api/trials", {{"study", "s"}, {"q", "SGD"}, {"state", "complete,failed"}});
  EXPECT_EQ(sgd["matched"], 60);
  const json by_param = get(api, "/api/trials", {{"study", "s"}, {"sort", "param:lr"}, {"order", "desc"}, {"limit", "1"}});
  EXPECT_EQ(by_param["rows"][0]["number"], 119);
}

TEST_F(ApiTest, TrialDetailAndCurvesHoldIntermediateValues) {
  auto run = storage_->create_trial(study_.id, "w:1");
  storage_->set_trial_params(run.id, {{"lr", 0.01}, {"layers", int64_t{2}}, {"opt", std::string("adam")}}, 1);
  for (int s = 0; s < 500; ++s) storage_->report_intermediate(run.id, s, 1.0 / (1 + s));
  auto done = storage_->create_trial(study_.id, "w:1");
  storage_->set_trial_params(done.id, {{"lr", 0.02}, {"layers", int64_t{3}}, {"opt", std::string("sgd")}}, 1);
  storage_->report_intermediate(done.id, 0, 2.0);
  storage_->report_intermediate(done.id, 1, 1.0);
  storage_->finish_trial(done.id, TrialState::kComplete, 1.0, 2.0, "");
  Api api(*storage_, "memory");
  const json t = get(api, "/api/trial", {{"study", "s"}, {"number", "0"}});
  EXPECT_EQ(t["state"], "running");
  EXPECT_EQ(t["fidelity"], 1);
  EXPECT_EQ(t["params"]["opt"], "adam");
  EXPECT_EQ(t["intermediate"]["step"].size(), 500u);
  const json c = get(api, "/api/curves", {{"study", "s"}, {"max_steps", "50"}});
  EXPECT_EQ(c["total_with_curves"], 2);
  ASSERT_EQ(c["curves"].size(), 2u);
  EXPECT_EQ(c["curves"][0]["number"], 0);  // running first
  EXPECT_EQ(c["curves"][0]["step"].size(), 50u);
  EXPECT_EQ(c["curves"][0]["step"][0], 0);
  EXPECT_EQ(c["curves"][0]["step"].back(), 499);  // first and last steps kept
  EXPECT_EQ(c["curves"][1]["step"], json::array({0, 1}));
}

TEST_F(ApiTest, ImportanceNamesEveryParameterAndIsRecomputedAfterAChange) {
  Rng rng(3);
  for (int i = 0; i < 40; ++i) {
    const double lr = std::exp(std::log(1e-4) + uniform01(rng) * (std::log(1e-1) - std::log(1e-4)));
    add_trial(*storage_, study_.id, lr, 1 + static_cast<int64_t>(uniform_below(rng, 4)), "adam", std::log(lr) * std::log(lr));
  }
  Api api(*storage_, "memory");
  const json j = get(api, "/api/importance", {{"study", "s"}});
  ASSERT_EQ(j["params"].size(), 3u);
  EXPECT_EQ(j["n_trials"], 40);
  EXPECT_EQ(j["params"][0]["param"], "lr");
  EXPECT_GT(j["params"][0]["importance"].get<double>(), 0.8);
  add_trial(*storage_, study_.id, 0.01, 2, "sgd", 1.0);
  EXPECT_EQ(get(api, "/api/importance", {{"study", "s"}})["n_trials"], 41);
}

// ---------------------------------------------------------------- over HTTP

ServerOptions options(int port) {
  ServerOptions o;
  o.port = port;
  return o;
}

/// Serves on a thread; the destructor stops the server and joins, also when a test fails half way.
class Serving {
 public:
  explicit Serving(Server& server) : server_(server), thread_([this] { server_.serve(); }) {}
  ~Serving() {
    while (!server_.running()) std::this_thread::yield();  // stop() before serve() started would be lost
    server_.stop();
    thread_.join();
  }

 private:
  Server& server_;
  std::thread thread_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("metadial-dashboard-" + std::to_string(getpid()) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    url_ = "sqlite:" + (dir_ / "runs.db").string();
    writer_ = storage::open_storage(url_);
    study_ = writer_->create_or_load_study("<script>alert(1)</script>", Direction::kMaximize, test_space().to_json(),
                                           json::object());
    add_trial(*writer_, study_.id, 0.01, 2, "adam", 3.0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<storage::Storage> writer_;
  storage::StudyRecord study_;
};

TEST_F(ServerTest, ServesThePageTheChartLibraryAndTheApiReadOnly) {
  auto reader = storage::open_storage(url_, storage::OpenMode::kReadOnly);
  Server server(*reader, url_, options(0));
  const int port = server.bind();
  ASSERT_GT(port, 0);
  Serving serving(server);
  httplib::Client client("127.0.0.1", port);
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<title>metadial dashboard</title>"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  auto chart = client.Get("/chart.min.js");
  ASSERT_TRUE(chart);
  EXPECT_EQ(chart->status, 200);
  EXPECT_EQ(chart->body.size(), std::filesystem::file_size("/usr/share/javascript/chart.js/chart.min.js"));
  EXPECT_EQ(chart->get_header_value("Content-Type"), "application/javascript; charset=utf-8");
  for (const char* path : {"/etc/passwd", "/../CMakeLists.txt", "/app.js/../../x", "/index.html", "/appXjs"}) {
    auto r = client.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  auto studies = client.Get("/api/studies");
  ASSERT_TRUE(studies);
  EXPECT_EQ(studies->status, 200);
  EXPECT_EQ(json::parse(studies->body)["studies"][0]["name"], "<script>alert(1)</script>");
  // The name travels encoded in the query; a trial written by another storage object shows.
  httplib::Params q{{"study", "<script>alert(1)</script>"}, {"cursor", "0"}};
  auto before = client.Get("/api/changes", q, httplib::Headers{});
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200) << before->body;
  const int64_t cursor = json::parse(before->body)["cursor"];
  const int64_t added = add_trial(*writer_, study_.id, 0.02, 3, "sgd", 4.0);
  q = {{"study", "<script>alert(1)</script>"}, {"cursor", std::to_string(cursor)}};
  auto after = client.Get("/api/changes", q, httplib::Headers{});
  ASSERT_TRUE(after);
  EXPECT_EQ(json::parse(after->body)["changed"], json::array({added}));
}

TEST_F(ServerTest, APortInUseIsAnInvalidArgumentNamingIt) {
  auto reader = storage::open_storage(url_, storage::OpenMode::kReadOnly);
  Server first(*reader, url_, options(0));
  const int port = first.bind();
  Server second(*reader, url_, options(port));
  try {
    second.bind();
    FAIL() << "bound a port in use";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
  }
  EXPECT_FALSE(is_loopback("0.0.0.0"));
  EXPECT_TRUE(is_loopback("127.0.0.1"));
}

}  // namespace
}  // namespace metadial::dashboard
