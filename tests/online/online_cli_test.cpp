// End-to-end tests of `metadial online ...`: the real binary on a small MNIST config, the JSON
// summary and schedule files, meta-train + frozen reuse, and the one-line errors (exit 2) for a
// hyperparameter the target does not accept, an empty choice list and K > training length; the
// DQN dialogue target through the same command.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/binary_test.h"

namespace fs = std::filesystem;

namespace {

using Result = metadial::testing::CliResult;
using metadial::testing::slurp;

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n' ? 1 : 0;
  return n;
}

const std::string kBase = R"(
[target]
data = ")" METADIAL_SOURCE_DIR R"(/../shared/data/mnist-t10k"
name = "mnist"
train = 1000
validation = 200
test = 300
hidden = 16

[run]
steps = 100
interval = 20
seed = 1
)";

using OnlineCli = metadial::testing::BinaryTest;

TEST_F(OnlineCli, RunPrintsAccuracyScheduleStepsAndWritesCsv) {
  write("c.toml", kBase + "[hyperparameters]\nlearning_rate = [0.01, 0.1]\nbatch_size = [32, 64]\n");
  const Result r = run("online run c.toml --json --out sched");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("method"), "controller");
  EXPECT_EQ(j.at("training_steps"), 100);
  EXPECT_GT(j.at("test_accuracy").get<double>(), 0.3);  // chance is 0.1; 100 steps of SGD on MNIST
  EXPECT_LE(j.at("test_accuracy").get<double>(), 1.0);
  ASSERT_EQ(j.at("schedule").size(), 5U);
  const double lr = j.at("schedule")[0].at("tuple").at("learning_rate");
  EXPECT_TRUE(lr == 0.01 || lr == 0.1);
  const std::string csv = slurp(dir_ / "sched" / "schedule.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "step,batch_size,dropout,learning_rate,momentum,weight_decay,validation,reward");
  EXPECT_EQ(count_lines(csv), 6);
}

TEST_F(OnlineCli, BaselinesRunThroughTheSameCommand) {
  write("c.toml", kBase + "[hyperparameters]\nlearning_rate = [0.01, 0.1]\n[pbt]\npopulation = 4\n");
  for (const char* m : {"fixed", "cosine", "pbt"}) {
    const Result r = run(std::string("online run c.toml --json --method ") + m);
    ASSERT_EQ(r.code, 0) << m << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("method"), m);
    EXPECT_EQ(j.at("training_steps"), std::string(m) == "pbt" ? 400 : 100);
  }
}

TEST_F(OnlineCli, MetaTrainedControllerIsReusedFrozen) {
  write("c.toml", kBase + "[hyperparameters]\nlearning_rate = [0.01, 0.1]\n");
  const Result m = run("online meta-train c.toml --runs 2 --save ctl.pt --json");
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(nlohmann::json::parse(m.out).at("training_steps"), 200);
  write("f.toml", kBase + "[hyperparameters]\nlearning_rate = [0.01, 0.1]\n[controller]\nload = \"ctl.pt\"\n");
  const Result r = run("online run f.toml --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("method"), "controller-frozen");
}

TEST_F(OnlineCli, HyperparameterTheTargetDoesNotAcceptIsOneLineExit2) {
  write("c.toml", kBase + "[hyperparameters]\nepsilon = [0.1, 0.2]\n");
  const Result r = run("online run c.toml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("c.toml:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'epsilon' is not accepted by the mnist target"), std::string::npos) << r.err;
}

TEST_F(OnlineCli, EmptyChoiceListIsOneLineExit2) {
  write("c.toml", kBase + "[hyperparameters]\nlearning_rate = []\n");
  const Result r = run("online run c.toml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("'learning_rate': empty choice list"), std::string::npos) << r.err;
}

TEST_F(OnlineCli, IntervalLongerThanTrainingIsOneLineExit2) {
  std::string text = kBase + "[hyperparameters]\nlearning_rate = [0.01]\n";
  text.replace(text.find("interval = 20"), 13, "interval = 500");
  write("c.toml", text);
  const Result r = run("online run c.toml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("interval K = 500 is larger than the training length of 100 steps"), std::string::npos)
      << r.err;
}

TEST_F(OnlineCli, UnknownKeyAndMissingDataAreOneLineExit2) {
  write("c.toml", kBase + "[run2]\nx = 1\n");
  Result r = run("online run c.toml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown key 'run2' in the top level"), std::string::npos) << r.err;
  std::string text = kBase + "[hyperparameters]\nlearning_rate = [0.01]\n";
  text.replace(text.find("data = \""), 8, "data = \"/nonexistent");
  write("d.toml", text);
  r = run("online run d.toml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
}

const std::string kDqn = R"(
[target]
type = "dqn_dialog"
env = "env1"
validation = 20
test = 30

[target.dqn]
h1 = 16
h2 = 8
batch_size = 8
learn_start = 16

[run]
steps = 40
interval = 10
seed = 1
)";

TEST_F(OnlineCli, DqnDialogTargetRunsAndReportsItsSchedule) {
  write("c.toml", kDqn + "[hyperparameters]\nlearning_rate = [0.001, 0.01]\nepsilon = [0.0, 0.3]\n");
  const Result r = run("online run c.toml --json --out sched");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("target"), "dqn-dialog");
  EXPECT_EQ(j.at("training_steps"), 40);
  EXPECT_GE(j.at("test_accuracy").get<double>(), 0.0);
  EXPECT_LE(j.at("test_accuracy").get<double>(), 1.0);
  ASSERT_EQ(j.at("schedule").size(), 4U);
  const std::string csv = slurp(dir_ / "sched" / "schedule.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "step,epsilon,learning_rate,validation,reward");
  const Result p = run("online run c.toml --json --method pbt");
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(nlohmann::json::parse(p.out).at("training_steps"), 8 * 40);
}

TEST_F(OnlineCli, HyperparameterTheDqnTargetDoesNotAcceptIsOneLineExit2) {
  write("c.toml", kDqn + "[hyperparameters]\nmomentum = [0.0, 0.9]\n");
  const Result r = run("online run c.toml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("'momentum' is not accepted by the dqn-dialog target (it accepts: epsilon, learning_rate)"),
            std::string::npos)
      << r.err;
}

}  // namespace
