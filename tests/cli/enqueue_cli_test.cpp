// Known configurations run first: `[[enqueue]]` tables in the tune config and `metadial enqueue`,
// end to end through the real binary; bad tables and flags are one line naming where (exit 2).
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "support/binary_test.h"

namespace {

using Cli = metadial::testing::BinaryTest;

// The rows of `metadial trials --csv` (header dropped).
std::vector<std::string> csv_rows(const std::string& csv) {
  std::vector<std::string> rows;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) rows.push_back(line);
  return rows;
}

size_t count_rows_with(const std::vector<std::string>& rows, const std::string& needle) {
  return static_cast<size_t>(
      std::count_if(rows.begin(), rows.end(), [&](const std::string& r) { return r.find(needle) != std::string::npos; }));
}

constexpr const char* kBranin = "[study]\nsampler = \"random\"\ntrials = 3\nseed = 1\n[objective]\nfunction = \"branin\"\n";

TEST_F(Cli, EnqueueTablesRunFirstAndOnlyOnceWhenTheStudyIsResumed) {
  write("cfg.toml", std::string(kBranin) +
                        "[[enqueue]]\nx0 = 0.25\nx1 = 0.75\n"
                        "[[enqueue]]\nx0 = 1\nx1 = 0\n");  // integers for float parameters
  const auto r = run("tune cfg.toml --storage sqlite:e.db");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("tune: queued 2 configurations from [[enqueue]] to run first"), std::string::npos) << r.err;
  auto trials = run("trials --storage sqlite:e.db --csv");
  ASSERT_EQ(trials.code, 0) << trials.err;
  auto rows = csv_rows(trials.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].rfind("0,complete,", 0), 0u) << rows[0];
  EXPECT_NE(rows[0].find(",0.25,0.75,"), std::string::npos) << rows[0];
  EXPECT_NE(rows[1].find(",1,0,"), std::string::npos) << rows[1];
  // Resumed to 5 trials: the tables are in the study already, so they are not queued again.
  const auto again = run("tune cfg.toml --storage sqlite:e.db --trials 5");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.err.find("queued"), std::string::npos) << again.err;
  rows = csv_rows(run("trials --storage sqlite:e.db --csv").out);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(count_rows_with(rows, ",0.25,0.75,"), 1u);
}

TEST_F(Cli, ABadEnqueueTableIsOneLineNamingTheFileLineAndKey) {
  struct Case {
    const char* table;
    std::vector<std::string> needles;
  };
  const Case cases[] = {
      {"[[enqueue]]\nx0 = 0.5\nx1 = 0.5\nx2 = 0.5\n", {"cfg.toml:10:", "unknown key 'x2' in [[enqueue]]", "x0, x1"}},
      {"[[enqueue]]\nx0 = 0.5\n", {"cfg.toml:7:", "[[enqueue]] needs x1 (a number in [0, 1])"}},
      {"[[enqueue]]\nx0 = 0.5\nx1 = 1.5\n", {"cfg.toml:9:", "[[enqueue]] parameter 'x1': value 1.5 outside [0, 1]"}},
      {"[[enqueue]]\nx0 = true\nx1 = 0.5\n", {"cfg.toml:8:", "[[enqueue]] x0 must be a number in [0, 1], got a boolean"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.table);
    write("cfg.toml", std::string(kBranin) + c.table);
    const auto r = run("tune cfg.toml --storage sqlite:bad.db");
    expect_user_error(r, {});
    for (const auto& n : c.needles) EXPECT_NE(r.err.find(n), std::string::npos) << "missing '" << n << "' in " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad.db"));  // refused before the storage was touched
}

TEST_F(Cli, EnqueueCommandQueuesAConfigurationThatTheNextTuneRunsFirst) {
  write("cfg.toml", kBranin);
  const auto q = run("enqueue cfg.toml --storage sqlite:e.db --params x0=0.125 x1=0.5");
  ASSERT_EQ(q.code, 0) << q.err;
  EXPECT_NE(q.out.find("queued {x0: 0.125, x1: 0.5} in study 'cfg' (1 configuration waiting)"), std::string::npos)
      << q.out;
  write("best.json", "{\"x0\": 0.5, \"x1\": 0.25}\n");
  const auto f = run("enqueue cfg.toml --storage sqlite:e.db --file best.json");
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_NE(f.out.find("(2 configurations waiting)"), std::string::npos) << f.out;
  const auto same = run("enqueue cfg.toml --storage sqlite:e.db --file best.json --skip-if-present");
  ASSERT_EQ(same.code, 0) << same.err;
  EXPECT_NE(same.out.find("not queued (the study has it already)"), std::string::npos) << same.out;
  const auto listed = run("trials --storage sqlite:e.db");
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_NE(listed.out.find("2 configurations queued, run first by the next trials:"), std::string::npos) << listed.out;

  const auto r = run("tune cfg.toml --storage sqlite:e.db --trials 3");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = csv_rows(run("trials --storage sqlite:e.db --csv").out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NE(rows[0].find(",0.125,0.5,"), std::string::npos) << rows[0];
  EXPECT_NE(rows[1].find(",0.5,0.25,"), std::string::npos) << rows[1];
  EXPECT_EQ(run("trials --storage sqlite:e.db").out.find("queued"), std::string::npos);
}

TEST_F(Cli, EnqueueRefusesABadConfigurationWithOneLine) {
  write("cfg.toml", kBranin);
  expect_user_error(run("enqueue cfg.toml --storage sqlite:e.db --params x0=abc x1=0.5"),
                    {"--params: x0 is a float parameter; 'abc' is not a number"});
  expect_user_error(run("enqueue cfg.toml --storage sqlite:e.db --params x0=0.5"),
                    {"--params: x1 is missing (give every parameter: x0, x1)"});
  expect_user_error(run("enqueue cfg.toml --storage sqlite:e.db --params x0=0.5 x1=2"),
                    {"--params: parameter 'x1': value 2 outside [0, 1]"});
  expect_user_error(run("enqueue cfg.toml --storage sqlite:e.db --params lr=0.5"),
                    {"--params: 'lr' is not a parameter of the search space (its parameters: x0, x1)"});
  expect_user_error(run("enqueue cfg.toml --storage sqlite:e.db"), {"--params NAME=VALUE ... or with --file PATH"});
  write("bad.toml", "x0 = 0.5\nx1 = \"high\"\n");
  expect_user_error(run("enqueue cfg.toml --storage sqlite:e.db --file bad.toml"),
                    {"bad.toml:2:", "parameter 'x1': expected a number, got 'high'"});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "e.db"));
}

}  // namespace
