// `metadial meta-train hyprl` and `metadial tune` with the hyprl sampler and the tabular
// objective, end to end on a small synthetic benchmark written as meta-data files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/meta_train.h"
#include "metadial/core/error.h"

namespace metadial::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// 12 data sets over a 10 x 6 grid (a, b) with one meta-feature m; the best row is (a=2, b=1)
// when m = 0 and (a=7, b=4) when m = 1, with accuracy 0.95.
class HyprlCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("metadial-hyprl-cli-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "bench");
    write("bench/layout.toml",
          "model = \"toy\"\nresponse = \"accuracy\"\nmaximize = true\nmeta_features = 1\n"
          "[[hyperparameter]]\nname = \"a\"\n[[hyperparameter]]\nname = \"b\"\n");
    for (int i = 0; i < 12; ++i) {
      const int m = i % 2;
      const int ba = m ? 7 : 2, bb = m ? 4 : 1;
      std::ostringstream f;
      for (int a = 0; a < 10; ++a) {
        for (int b = 0; b < 6; ++b) {
          const int dist = std::abs(a - ba) + std::abs(b - bb);
          const double acc = dist == 0 ? 0.95 : 0.85 - 0.04 * dist + 0.01 * ((a * 7 + b * 3 + i) % 5);
          f << acc << " 0:" << a << " 1:" << b << " 2:" << m << "\n";
        }
      }
      write("bench/d" + std::to_string(i / 10) + std::to_string(i % 10), f.str());
    }
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  MetaTrainHyprlArgs train_args() const {
    MetaTrainHyprlArgs a;
    a.metadata = path("bench");
    a.holdout = {"d10", "d11"};
    a.horizon = 5;
    a.episodes = 2400;
    a.gamma = 0.5;
    a.learning_rate = 3e-3;
    a.eval_every = 1200;
    a.lstm_hidden = 32;
    a.out = path("models/toy.pt");
    return a;
  }

  fs::path dir_;
};

TEST_F(HyprlCli, MetaTrainWritesAModelThatTuneUsesOnAHeldOutDataSet) {
  std::ostringstream out;
  ASSERT_EQ(run_meta_train_hyprl(train_args(), out), 0);
  EXPECT_THAT(out.str(), HasSubstr("training on 10 data sets, held out: 2"));
  EXPECT_THAT(out.str(), HasSubstr("episode 1200: held-out normalized regret @1"));
  ASSERT_TRUE(fs::exists(path("models/toy.pt")));
  std::ifstream card_file(path("models/toy.json"));
  const auto card = nlohmann::json::parse(card_file);
  EXPECT_EQ(card.at("train_datasets").size(), 10u);
  EXPECT_EQ(card.at("heldout_datasets"), nlohmann::json({"d10", "d11"}));
  EXPECT_EQ(card.at("created_by"), "metadial meta-train hyprl");

  // d11 has m = 1: its best row is (a=7, b=4); the meta-features come from its own file.
  write("tune.toml", "[study]\nsampler = \"hyprl\"\ntrials = 3\nseed = 0\n[sampler]\nmodel = \"" +
                         path("models/toy.pt") + "\"\nmeta_features = \"" + path("bench/d11") +
                         "\"\n[objective]\nfunction = \"tabular\"\nmetadata = \"" + path("bench") +
                         "\"\ndataset = \"d11\"\n");
  TuneArgs t;
  t.config_path = path("tune.toml");
  t.storage = "memory";
  t.json = true;
  std::ostringstream tune_out;
  ASSERT_EQ(run_tune(t, tune_out), 0);
  std::string text = tune_out.str();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const auto summary = nlohmann::json::parse(text.substr(text.rfind('\n') + 1));  // the --json line
  EXPECT_DOUBLE_EQ(summary.at("best_value").get<double>(), 0.95);
  EXPECT_EQ(summary.at("best_trial").get<int>(), 0);  // the policy's first pick
  EXPECT_EQ(summary.at("best_params").at("a"), "7");
  EXPECT_EQ(summary.at("best_params").at("b"), "4");
}

TEST_F(HyprlCli, FoldsWriteOneModelPerFold) {
  MetaTrainHyprlArgs a = train_args();
  a.holdout.clear();
  a.folds = 3;
  a.fold = 1;
  a.episodes = 64;
  std::ostringstream out;
  ASSERT_EQ(run_meta_train_hyprl(a, out), 0);
  EXPECT_THAT(out.str(), HasSubstr("[fold 1/3] training on 8 data sets, held out: 4"));
  EXPECT_TRUE(fs::exists(path("models/toy-fold1.pt")));
  EXPECT_FALSE(fs::exists(path("models/toy-fold0.pt")));
}

TEST_F(HyprlCli, BadFlagsAndBadDataAreOneLineErrors) {
  std::ostringstream out;
  MetaTrainHyprlArgs a = train_args();
  a.holdout = {"zzz"};
  try {
    run_meta_train_hyprl(a, out);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("no data set 'zzz'"));
  }
  a = train_args();
  a.folds = 3;
  EXPECT_THROW(run_meta_train_hyprl(a, out), InvalidArgument);
  a = train_args();
  a.reward = "regret";
  EXPECT_THROW(run_meta_train_hyprl(a, out), InvalidArgument);
  const std::string bad = write("bench/d03", "0.5 0:0 1:0 2:0\n0.5 0:zero 1:1 2:0\n");
  a = train_args();
  try {
    run_meta_train_hyprl(a, out);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr(bad + ":2: value 'zero' of index 0 is not a finite number"));
  }
}

TEST_F(HyprlCli, TuneRefusesAModelTrainedForAnotherGrid) {
  MetaTrainHyprlArgs a = train_args();
  a.episodes = 32;
  std::ostringstream out;
  ASSERT_EQ(run_meta_train_hyprl(a, out), 0);
  // Another benchmark: a 3 x 2 grid.
  fs::create_directories(dir_ / "other");
  write("other/layout.toml", "model = \"small\"\nmeta_features = 1\n[[hyperparameter]]\nname = \"a\"\n"
                             "[[hyperparameter]]\nname = \"b\"\n");
  write("other/x", "0.1 0:0 1:0 2:0\n0.2 0:0 1:1 2:0\n0.3 0:1 1:0 2:0\n0.4 0:1 1:1 2:0\n0.5 0:2 1:0 2:0\n"
                   "0.6 0:2 1:1 2:0\n");
  write("tune.toml", "[study]\nsampler = \"hyprl\"\ntrials = 2\n[sampler]\nmodel = \"" + path("models/toy.pt") +
                         "\"\nmeta_features = [0.0]\n[objective]\nfunction = \"tabular\"\nmetadata = \"" +
                         path("other/x") + "\"\n");
  TuneArgs t;
  t.config_path = path("tune.toml");
  t.storage = "memory";
  std::ostringstream tune_out;
  try {
    run_tune(t, tune_out);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("was trained for the toy grid: 60 configurations of a, b"));
    EXPECT_THAT(e.what(), HasSubstr("a (3 values), b (2 values)"));
  }
  // A missing model is named with the config's file and line.
  write("tune2.toml", "[study]\nsampler = \"hyprl\"\n[sampler]\nmodel = \"nope.pt\"\n[objective]\n"
                      "function = \"tabular\"\nmetadata = \"" + path("other/x") + "\"\n");
  t.config_path = path("tune2.toml");
  try {
    run_tune(t, tune_out);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("tune2.toml:3: no Hyp-RL model at 'nope.pt'"));
  }
}

}  // namespace
}  // namespace metadial::cli

namespace metadial::cli {
namespace {

// The README's Hyp-RL example runs as shipped: the model in models/ matches the SVM grid and
// the example's meta-features, and 10 trials reach a good A9A configuration.
TEST(HyprlExample, ShippedModelRunsTheReadmeExample) {
  const fs::path src = METADIAL_SOURCE_DIR;
  if (!fs::exists(src / "../shared/data/hpo-metadata/svm/A9A")) GTEST_SKIP() << "no SVM meta-data";
  const fs::path out = fs::temp_directory_path() / ("metadial-hyprl-example-" + std::to_string(getpid()));
  const std::string cmd = "cd '" + src.string() + "' && " + METADIAL_BINARY +
                          " tune examples/hyprl_svm.toml --storage memory --json >'" + out.string() + "' 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out);
  std::string line, last;
  while (std::getline(in, line)) last = line;
  fs::remove(out);
  const auto j = nlohmann::json::parse(last);
  EXPECT_EQ(j.at("n_complete").get<int>(), 10);
  // A9A's best accuracy on the grid is 0.8492; the shipped policy is within 0.5 point of it.
  EXPECT_GT(j.at("best_value").get<double>(), 0.845);
}

}  // namespace
}  // namespace metadial::cli
