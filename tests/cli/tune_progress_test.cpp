// `metadial tune`'s progress when its standard error is not a terminal (a pipe, a log file):
// plain lines through the whole study, counting the cost spent of a cost budget when there is one.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "support/binary_test.h"

namespace {

using Cli = metadial::testing::BinaryTest;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The progress lines among the output (the summary follows them).
std::vector<std::string> progress_lines(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(text)) {
    if (line.rfind("tune ", 0) == 0) out.push_back(line);
  }
  return out;
}

TEST_F(Cli, TuneWithACostBudgetCountsTheCostSpentInPlainLinesThroughAPipe) {
  // 200 trials allowed, but the cost budget of 12 full evaluations ends the study.
  write("cfg.toml",
        "[study]\nsampler = \"random\"\ntrials = 200\nmax_cost = 12\nseed = 3\n[objective]\nfunction = \"branin\"\n");
  const auto r = run("tune cfg.toml --storage memory 2>&1 | cat");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
  const auto lines = progress_lines(r.out);
  ASSERT_GE(lines.size(), 5U) << r.out;  // the first trial, then every tenth of the budget
  EXPECT_NE(lines.front().find("] 1/12 cost  1 trials  best"), std::string::npos) << lines.front();
  EXPECT_NE(lines.back().find("] 12/12 cost  12 trials  best"), std::string::npos) << lines.back();
  EXPECT_EQ(r.out.find("/200"), std::string::npos) << r.out;  // not the trial budget
}

TEST_F(Cli, TuneWithATrialBudgetPrintsALineEveryTenthThroughAPipe) {
  write("cfg.toml", "[study]\nsampler = \"random\"\ntrials = 30\nseed = 3\n[objective]\nfunction = \"branin\"\n");
  const auto r = run("tune cfg.toml --storage memory 2>&1 | cat");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto lines = progress_lines(r.out);
  ASSERT_EQ(lines.size(), 11U) << r.out;  // 1/30, then 3/30, 6/30 ... 30/30
  EXPECT_NE(lines.front().find("] 1/30  best"), std::string::npos) << lines.front();
  EXPECT_NE(lines[1].find("] 3/30  best"), std::string::npos) << lines[1];
  EXPECT_NE(lines.back().find("] 30/30  best"), std::string::npos) << lines.back();
}

}  // namespace
