// `metadial tune` with a pruner, end to end through the real binary: [pruner] and --pruner, pruned
// trials stored and counted in the trial budget, a command objective stopped at its intermediate
// values, and one line (exit 2) for every bad pruner setting.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/binary_test.h"

namespace {

using Cli = metadial::testing::BinaryTest;
using metadial::testing::last_line;

std::string curve_config(const std::string& pruner_table, int trials = 30) {
  return "[study]\nsampler = \"random\"\ntrials = " + std::to_string(trials) + "\nseed = 1\n" + pruner_table +
         "[objective]\nfunction = \"learning_curve\"\nsteps = 27\n";
}

// The rows of `metadial trials --csv` as (state, cost).
std::vector<std::pair<std::string, double>> states_and_costs(const std::string& csv) {
  std::vector<std::pair<std::string, double>> out;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream row(line);
    std::string cell;
    while (std::getline(row, cell, ',')) cells.push_back(cell);
    if (cells.size() > 4) out.emplace_back(cells[1], std::stod(cells[4]));
  }
  return out;
}

TEST_F(Cli, TuneWithAPrunerStoresPrunedTrialsThatCountInTheTrialBudget) {
  write("cfg.toml", curve_config("[pruner]\ntype = \"asha\"\nreduction_factor = 3\n"));
  const auto r = run("tune cfg.toml --storage sqlite:p.db --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(last_line(r.out));
  EXPECT_EQ(j["pruner"], "asha");
  EXPECT_GT(j["n_pruned"].get<int>(), 0) << j.dump();
  EXPECT_EQ(j["n_complete"].get<int>() + j["n_pruned"].get<int>(), 30) << j.dump();
  EXPECT_LT(j["total_cost"].get<double>(), 30.0);
  EXPECT_NE(r.out.find("pruner"), std::string::npos) << r.out;

  const auto trials = run("trials --storage sqlite:p.db --csv");
  ASSERT_EQ(trials.code, 0) << trials.err;
  const auto rows = states_and_costs(trials.out);
  ASSERT_EQ(rows.size(), 30u);
  int pruned = 0;
  for (const auto& [state, cost] : rows) {
    if (state == "pruned") {
      ++pruned;
      EXPECT_LT(cost, 1.0);  // the share of the 27 steps it ran
    } else {
      EXPECT_EQ(state, "complete");
      EXPECT_EQ(cost, 1.0);
    }
  }
  EXPECT_EQ(pruned, j["n_pruned"].get<int>());

  // Run again: the study is full, nothing runs; a pruned trial was not replaced.
  const auto again = run("tune cfg.toml --storage sqlite:p.db --json");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(last_line(again.out))["n_run"], 0);
}

TEST_F(Cli, PrunerFlagOverridesTheConfigAndWarnsWhenNothingIsReported) {
  write("cfg.toml", curve_config("", 12));
  const auto median = run("tune cfg.toml --storage memory --pruner median --json");
  ASSERT_EQ(median.code, 0) << median.err;
  EXPECT_EQ(nlohmann::json::parse(last_line(median.out))["pruner"], "median");

  // branin reports no intermediate values: a warning, and the study runs.
  write("branin.toml", "[study]\nsampler = \"random\"\ntrials = 3\n[objective]\nfunction = \"branin\"\n");
  const auto warned = run("tune branin.toml --storage memory --pruner hyperband --json");
  ASSERT_EQ(warned.code, 0) << warned.err;
  EXPECT_NE(warned.err.find("metadial: warning: --pruner: pruner 'hyperband' will prune nothing: objective 'branin' "
                            "reports no intermediate values"),
            std::string::npos)
      << warned.err;
  EXPECT_EQ(nlohmann::json::parse(last_line(warned.out))["n_complete"], 3);
}

TEST_F(Cli, BadPrunerSettingsExitTwoWithOneLine) {
  auto expect_refused = [&](const std::string& config, const std::string& flags, const std::string& line) {
    write("bad.toml", config);
    const auto r = run("tune bad.toml --storage sqlite:never.db " + flags);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.err, line + "\n");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "never.db"));
  };
  expect_refused(curve_config("[pruner]\ntype = \"asha\"\nreduction_factor = 1\n"), "",
                 "metadial: bad.toml:5: pruner 'asha': [pruner] reduction_factor must be >= 2, got 1");
  expect_refused(curve_config("[pruner]\ntype = \"sha\"\n"), "",
                 "metadial: bad.toml:6: unknown pruner 'sha' (known: asha, hyperband, median, none, percentile)");
  expect_refused(curve_config("[pruner]\ntype = \"hyperband\"\nmin_resource = 10\nmax_resource = 9\n"), "",
                 "metadial: bad.toml:5: pruner 'hyperband': [pruner] min_resource (10) is above max_resource (9)");
  expect_refused(curve_config("[pruner]\ntype = \"asha\"\nmin_resource = 26\n"), "",
                 "metadial: bad.toml:5: pruner 'asha': [pruner] min_resource: the first rung, at step 26, is not "
                 "before the objective's last step (26), so nothing would be pruned; lower min_resource");
  expect_refused(curve_config(""), "--pruner sha",
                 "metadial: --pruner: unknown pruner 'sha' (known: asha, hyperband, median, none, percentile)");
}

TEST_F(Cli, APrunedCommandIsStoppedAndCostsWhatItSpent) {
  // A training script: 10 steps of (x - 0.3)^2 + 1 / (1 + t), each preceded by the cost so far.
  write("train.sh",
        "#!/bin/sh\n"
        "t=0\n"
        "while [ $t -lt 10 ]; do\n"
        "  awk -v x=\"$1\" -v t=$t 'BEGIN { printf \"cost: %.17g\\nintermediate: %d %.17g\\n\", (t + 1) / 10, t, "
        "(x - 0.3)^2 + 1 / (1 + t) }'\n"
        "  t=$((t + 1))\n"
        "done\n"
        "awk -v x=\"$1\" 'BEGIN { printf \"objective: %.17g\\n\", (x - 0.3)^2 + 0.1 }'\n",
        /*executable=*/true);
  write("cmd.toml",
        "[study]\nsampler = \"random\"\ntrials = 16\nseed = 2\n[pruner]\ntype = \"median\"\nn_startup_trials = 2\n"
        "[objective]\ncommand = [\"./train.sh\", \"{x}\"]\n[space.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n");
  const auto r = run("tune cmd.toml --storage sqlite:c.db --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(last_line(r.out));
  EXPECT_GT(j["n_pruned"].get<int>(), 0) << j.dump();
  EXPECT_EQ(j["n_complete"].get<int>() + j["n_pruned"].get<int>(), 16);
  // A pruned trial costs its last `cost:` line: below 1 unless it was stopped at its last step (the
  // objective does not say which step is its last).
  const auto trials = run("trials --storage sqlite:c.db --csv");
  int cheaper = 0;
  for (const auto& [state, cost] : states_and_costs(trials.out)) {
    if (state == "pruned") {
      EXPECT_LE(cost, 1.0);
      cheaper += cost < 1.0;
    }
  }
  EXPECT_GT(cheaper, 0);
}

}  // namespace
