// The MLP image target on the MNIST test images of ../shared/data/mnist-t10k: splits, learning,
// determinism, clone, and input checks.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "metadial/core/error.h"
#include "metadial/online/image_target.h"

namespace metadial::online {
namespace {

const char* kMnist = METADIAL_SOURCE_DIR "/../shared/data/mnist-t10k";

std::shared_ptr<const ImageData> mnist() {
  static std::shared_ptr<const ImageData> d =
      ImageData::load({.dir = kMnist, .train = 3000, .validation = 500, .test = 1000, .split_seed = 1});
  return d;
}

// One intra-op thread, as the experiments run: set for the binary by tests/support/torch_test_environment.cpp.
class ImageTarget : public ::testing::Test {};

TEST_F(ImageTarget, SplitsTestOnlyFolderThreeWays) {
  auto d = mnist();
  EXPECT_EQ(d->train_count(), 3000);
  EXPECT_EQ(d->validation_count(), 500);
  EXPECT_EQ(d->test_count(), 1000);
  EXPECT_EQ(d->inputs(), 784);
  EXPECT_THROW(ImageData::load({.dir = kMnist, .train = 9000, .validation = 1000, .test = 1000}), InvalidArgument);
  EXPECT_THROW(ImageData::load({.dir = "/nonexistent/images"}), DataError);
}

// Chance is 10 %; 300 SGD steps of batch 64 with momentum reach well above 80 % on MNIST.
TEST_F(ImageTarget, TrainingRaisesValidationAccuracyFromChance) {
  ImageClassifierTarget t(mnist(), {.hidden = 32});
  t.reset(3);
  const double before = t.validation_score();
  EXPECT_LT(before, 0.3);
  t.train({{"learning_rate", 0.05}, {"momentum", 0.9}}, 300);
  EXPECT_EQ(t.steps_done(), 300);
  const double after = t.validation_score();
  EXPECT_GT(after, 0.8);
  EXPECT_GT(t.test_score(), 0.8);
  const TargetStats s = t.stats();
  EXPECT_GT(s.max_prob, 0.5);
  EXPECT_LT(s.entropy, std::log(10.0));
  EXPECT_GT(s.recent_loss, 0.0);
  EXPECT_LT(s.recent_loss, 1.0);
}

// A learning rate of 1e-5 barely moves the weights: the gain over 100 steps is far below 0.05's.
TEST_F(ImageTarget, LearningRateChangesProgress) {
  ImageClassifierTarget a(mnist(), {.hidden = 32});
  ImageClassifierTarget b(mnist(), {.hidden = 32});
  a.reset(1);
  b.reset(1);
  a.train({{"learning_rate", 1e-5}}, 100);
  b.train({{"learning_rate", 0.05}}, 100);
  EXPECT_GT(b.validation_score(), a.validation_score() + 0.3);
}

TEST_F(ImageTarget, SameSeedSameScoresAndCloneContinuesIdentically) {
  const Tuple hp{{"learning_rate", 0.02}, {"dropout", 0.3}, {"batch_size", 32}, {"weight_decay", 1e-4}};
  ImageClassifierTarget a(mnist(), {.hidden = 16});
  ImageClassifierTarget b(mnist(), {.hidden = 16});
  a.reset(7);
  b.reset(7);
  a.train(hp, 50);
  b.train(hp, 50);
  EXPECT_EQ(a.validation_score(), b.validation_score());
  std::unique_ptr<Target> c = a.clone();
  a.train(hp, 30);
  c->train(hp, 30);
  EXPECT_EQ(a.validation_score(), c->validation_score());
  EXPECT_EQ(c->steps_done(), 80);
  b.reset(8);
  b.train(hp, 50);
  EXPECT_NE(b.validation_score(), ImageClassifierTarget(mnist(), {.hidden = 16}).validation_score());
}

TEST_F(ImageTarget, RejectsUnknownHyperparameterAndBadValues) {
  ImageClassifierTarget t(mnist(), {.hidden = 8, .name = "mnist"});
  try {
    t.train({{"epsilon", 0.1}}, 1);
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'epsilon' is not accepted by the mnist target"), std::string::npos);
  }
  EXPECT_THROW(t.train({{"learning_rate", -1.0}}, 1), InvalidArgument);
  EXPECT_THROW(t.train({{"dropout", 1.0}}, 1), InvalidArgument);
  EXPECT_THROW(t.train({{"batch_size", 2.5}}, 1), InvalidArgument);
  EXPECT_EQ(t.accepted(), (std::vector<std::string>{"batch_size", "dropout", "learning_rate", "momentum", "weight_decay"}));
}

}  // namespace
}  // namespace metadial::online
