// End-to-end tests of `metadial dialog ...` and of tuning the dqn-dialogue objective: the real
// binary, run as a user would. Built with LibTorch only (the sanitizer build has no DQN).
#if METADIAL_WITH_TORCH
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/binary_test.h"

namespace fs = std::filesystem;

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using Result = metadial::testing::CliResult;
using metadial::testing::last_line;
using metadial::testing::slurp;

class DialogCli : public metadial::testing::BinaryTest {
 protected:
  // A user error: exit 2 and exactly one line on stderr containing `what`.
  void expect_user_error(const std::string& args, const std::string& what) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(what)) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("metadial: ", 0), 0U) << r.err;
  }
};

TEST_F(DialogCli, TrainWritesAModelThatEvalAndShowRead) {
  const Result t = run("dialog train --env env1 --policy dqn --dialogues 300 --window 100 --seed 1 --out m.pt "
                       "--test-dialogues 50 --set h1=64 --set h2=32");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_THAT(t.out, HasSubstr("training DQN on env1 (restaurant): 300 dialogues, seed 1, h1 64 h2 32"));
  EXPECT_THAT(t.out, HasSubstr("\n      300  "));
  EXPECT_THAT(t.out, HasSubstr("test (50 dialogues, greedy): success "));
  EXPECT_THAT(t.out, HasSubstr("model written to m.pt"));

  const Result e = run("dialog eval --model m.pt --dialogues 40 --json");
  ASSERT_EQ(e.code, 0) << e.err;
  const auto j = nlohmann::json::parse(last_line(e.out));
  EXPECT_EQ(j["env"], "env1");  // from the model
  EXPECT_EQ(j["policy"], "dqn");
  EXPECT_EQ(j["dialogues"], 40);
  for (const char* k : {"success_rate", "success_ci95", "avg_reward", "reward_ci95", "avg_turns", "turns_ci95"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_GE(j["success_rate"].get<double>(), 0.0);
  EXPECT_LE(j["success_rate"].get<double>(), 1.0);

  const Result s = run("dialog show --model m.pt --env env3 -n 2");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_THAT(s.out, HasSubstr("=== dialogue 2 of 2: policy dqn on env3 (restaurant) ==="));
  EXPECT_THAT(s.out, HasSubstr("heard:"));
  EXPECT_THAT(s.out, HasSubstr("outcome: "));
}

TEST_F(DialogCli, EvalOfTheRulePolicyPrintsRatesWithConfidenceIntervals) {
  const Result r = run("dialog eval --policy rule --env env1 --dialogues 200");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("policy rule on env1 (restaurant), 200 dialogues, seed 0 (95 % CI)"));
  EXPECT_THAT(r.out, HasSubstr("success rate  "));
  EXPECT_THAT(r.out, HasSubstr("avg reward    "));
  const Result j = run("dialog eval --policy rule --env env1 --dialogues 200 --json");
  ASSERT_EQ(j.code, 0);
  EXPECT_GE(nlohmann::json::parse(last_line(j.out))["success_rate"].get<double>(), 0.95);
}

TEST_F(DialogCli, TrainingIsDeterministicForASeed) {
  auto curve = [&](int seed) {
    const Result r = run("dialog train --dialogues 200 --window 50 --test-dialogues 20 --set h1=32 --set h2=16 --json --seed " +
                         std::to_string(seed));
    EXPECT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(last_line(r.out));
    return j["curve"].dump() + j["test"].dump();
  };
  const std::string a = curve(4), b = curve(4), c = curve(5);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST_F(DialogCli, BadInputIsOneLineAndExitCode2) {
  expect_user_error("dialog train --env env9 --dialogues 10", "unknown environment 'env9'");
  expect_user_error("dialog train --policy sarsa --dialogues 10", "unknown policy 'sarsa' (known: rule, random, dqn)");
  expect_user_error("dialog eval --policy gp --env env1", "unknown policy 'gp'");
  expect_user_error("dialog train --dialogues 10 --set width=3", "unknown DQN hyperparameter 'width' (known: h1, h2");
  expect_user_error("dialog train --dialogues 10 --set h1=3.5", "'h1' must be an integer");
  expect_user_error("dialog eval --policy dqn", "--policy dqn needs --model PATH");

  ASSERT_EQ(run("dialog train --dialogues 20 --set h1=16 --set h2=8 --test-dialogues 0 --out m.pt").code, 0);
  const std::string model = slurp(dir_ / "m.pt");
  write("cut.pt", model.substr(0, model.size() - 10));
  expect_user_error("dialog eval --model cut.pt", "'cut.pt': truncated model file");
  write("foreign.pt", "{\"weights\": [1, 2, 3]}\n");
  expect_user_error("dialog eval --model foreign.pt", "'foreign.pt' is not a metadial DQN model");
  expect_user_error("dialog eval --model m.pt --domain movie", "model 'm.pt': the model takes observations of");
  expect_user_error("dialog show --model missing.pt", "cannot open model file 'missing.pt'");

  write("bad.json", "{\"domain\": \"x\", \"slots\": [");
  expect_user_error("dialog eval --policy rule --ontology bad.json", "bad.json");
  write("bad.toml", "domain = \"x\"\nslots = 3\n");
  expect_user_error("dialog show --policy rule --ontology bad.toml", "bad.toml");
}

// Issue 21, item 7: an evaluation over nothing (0 % of 0 turns / responses, exit 0) is a user error.
TEST_F(DialogCli, EvaluationOverAnEmptyTestSetIsRefused) {
  write("train.json", R"([{"dialogue_id": "d1", "turns": [{"user_utterance": {"text": "hi", "tokens": ["hi"]},
      "dialogue_state": []}]}])");
  write("empty.json", "[]\n");
  expect_user_error("dialog dst --train train.json --test empty.json --epochs 1", "corpus 'empty.json': no dialogues");
  expect_user_error("dialog dst --train train.json --dev empty.json --test train.json --epochs 1",
                    "corpus 'empty.json': no dialogues");

  std::string city;
  for (const char* c : {"paris", "rome", "paris", "rome"}) {
    city += std::string("1 a table in ") + c + "\tsure\n2 <SILENCE>\tapi_call " + c + "\n";
  }
  write("trn.txt", city);
  write("cands.txt", "1 sure\n1 api_call paris\n1 api_call rome\n");
  write("kb.txt", "1 resto_1 R_cuisine thai\n2 resto_1 R_location paris\n");
  ASSERT_EQ(run("memn2n train --train trn.txt --dev trn.txt --candidates cands.txt --epochs 1 --memory 4 --out mm.pt").code, 0);
  expect_user_error("memn2n eval --model mm.pt --test kb.txt", "kb.txt: no bot response in 1 dialogue");
  expect_user_error("memn2n train --train trn.txt --dev trn.txt --test kb.txt --candidates cands.txt --epochs 1",
                    "kb.txt: no bot response in 1 dialogue");
}

constexpr const char* kSmallStudy = R"(
[study]
name = "small"
sampler = "random"
trials = 3
seed = 0

[objective]
function = "dqn-dialogue"
env = "env1"
dialogues = 100
seeds = 2
threads = 2
test_dialogues = 30
dqn = { h2 = 16 }

[space.epsilon]
type = "float"
low = 0.1
high = 1.0

[space.h1]
type = "int"
low = 16
high = 48
)";

TEST_F(DialogCli, TuneTheDqnObjectiveThenCompareDefaultAndTuned) {
  write("small.toml", kSmallStudy);
  const Result t = run("tune small.toml --storage sqlite:s.db --json");
  ASSERT_EQ(t.code, 0) << t.err;
  const auto tj = nlohmann::json::parse(last_line(t.out));
  EXPECT_EQ(tj["objective"], "dqn-dialogue");
  EXPECT_EQ(tj["n_complete"], 3);
  const double best = tj["best_value"].get<double>();
  EXPECT_GE(best, 0.0);
  EXPECT_LE(best, 1.0);

  const Result c = run("dialog compare small.toml --storage sqlite:s.db --seeds 2 --json");
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_THAT(c.out, HasSubstr("default vs tuned DQN on env1 (restaurant): 2 fresh seeds (base seed 1) x 100 training dialogues"));
  const auto cj = nlohmann::json::parse(last_line(c.out));
  EXPECT_DOUBLE_EQ(cj["study_value"].get<double>(), best);
  EXPECT_DOUBLE_EQ(cj["default"]["params"]["h1"].get<double>(), 300.0);
  EXPECT_TRUE(cj["tuned"]["params"].contains("epsilon"));
  EXPECT_TRUE(cj["tuned"].contains("success_rate"));

  // --no-default: only the tuned configuration is retrained, with the same fresh seeds (same result).
  const Result n = run("dialog compare small.toml --storage sqlite:s.db --seeds 2 --no-default --json");
  ASSERT_EQ(n.code, 0) << n.err;
  const auto nj = nlohmann::json::parse(last_line(n.out));
  EXPECT_FALSE(nj.contains("default"));
  EXPECT_EQ(nj["tuned"], cj["tuned"]);
  EXPECT_THAT(n.out, Not(HasSubstr("  default done")));
}

TEST_F(DialogCli, ConfigErrorsOfTheDqnObjectiveNameTheFileAndKey) {
  std::string cfg = kSmallStudy;
  cfg.replace(cfg.find("[space.h1]"), 10, "[space.width]");
  write("bad_space.toml", cfg);
  expect_user_error("tune bad_space.toml --storage memory", "bad_space.toml:");
  expect_user_error("tune bad_space.toml --storage memory", "[space] parameter 'width' is not a DQN hyperparameter");
  std::string cfg2 = kSmallStudy;
  cfg2.replace(cfg2.find("dialogues = 100"), 15, "episodes = 100");
  write("bad_option.toml", cfg2);
  expect_user_error("tune bad_option.toml --storage memory", "unknown key 'episodes' in [objective] (expected one of: ");
  write("branin.toml", "[objective]\nfunction = \"branin\"\n");
  expect_user_error("dialog compare branin.toml --storage memory", "needs [objective] function = \"dqn-dialogue\"");
  write("small.toml", kSmallStudy);
  expect_user_error("dialog compare small.toml --storage sqlite:none.db", "no SQLite storage at 'none.db'");
}

}  // namespace

#endif  // METADIAL_WITH_TORCH
