// The target at full size (slow: about 10 s): the DQN with PyDial's default
// hyperparameters reaches >= 85 % test success on env1 after 4000 training dialogues.
#include <gtest/gtest.h>

#include "metadial/train/dqn_trainer.h"

namespace metadial::train {
namespace {

TEST(DqnEnv1, DefaultDqnReaches85PercentSuccessAfter4000Dialogues) {
  DqnExperiment ex;
  ex.domain = dialog::Domain::builtin("restaurant");
  ex.env = dialog::env_preset("env1");
  ex.train.dialogues = 4000;
  ex.train.window = 1000;
  ex.seeds = 3;
  ex.threads = 2;
  ex.test_dialogues = 500;
  const auto outcomes = run_dqn_experiment(ex);
  std::vector<double> success;
  for (const auto& o : outcomes) {
    success.push_back(o.test.success_rate);
    // Learning happened: the last training window beats the first (epsilon 0.3 -> 0).
    EXPECT_GT(o.train.curve.back().train_success, o.train.curve.front().train_success) << "seed " << o.index;
  }
  EXPECT_GE(mean_ci95(success).mean, 0.85);
}

}  // namespace
}  // namespace metadial::train
