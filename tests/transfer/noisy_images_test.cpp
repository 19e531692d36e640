#include "metadial/transfer/noisy_images.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/transfer/modules.h"

namespace metadial::transfer {
namespace {

// Ten classes of 6x6 "images": a random prototype per class plus pixel noise, clipped to bytes.
IdxImages synthetic_images(int64_t n, uint64_t seed) {
  Rng proto_rng(1234);  // the same classes in every split
  std::vector<std::vector<double>> proto(10, std::vector<double>(36));
  for (auto& p : proto)
    for (double& v : p) v = uniform01(proto_rng) < 0.4 ? 200.0 : 20.0;
  Rng rng(seed);
  IdxImages im;
  im.count = n;
  im.rows = 6;
  im.cols = 6;
  for (int64_t i = 0; i < n; ++i) {
    const auto y = static_cast<uint8_t>(std::min(9.0, uniform01(rng) * 10));
    im.labels.push_back(y);
    for (double v : proto[y]) {
      const double noisy = v + 60 * standard_normal(rng);
      im.pixels.push_back(static_cast<uint8_t>(std::clamp(noisy, 0.0, 255.0)));
    }
  }
  return im;
}

TEST(CorruptLabels, ShiftMakesExactlyTheFractionWrongByOne) {
  std::vector<uint8_t> y(1000);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<uint8_t>(i % 10);
  const CorruptedLabels c = corrupt_labels(y, 10, 0.75, Corruption::kShift, 3);
  int wrong = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (c.correct[i] != 0) {
      EXPECT_EQ(c.labels[i], y[i]);
    } else {
      ++wrong;
      EXPECT_EQ(c.labels[i], (y[i] + 1) % 10);
    }
  }
  EXPECT_EQ(wrong, 750);
  EXPECT_EQ(corrupt_labels(y, 10, 0.75, Corruption::kShift, 3).correct, c.correct);  // same seed
  EXPECT_NE(corrupt_labels(y, 10, 0.75, Corruption::kShift, 4).correct, c.correct);  // other seed
}

TEST(CorruptLabels, UniformNeverKeepsTheTrueLabelAndSpreadsOverTheOthers) {
  std::vector<uint8_t> y(9000, 4);
  const CorruptedLabels c = corrupt_labels(y, 10, 1.0, Corruption::kUniform, 1);
  std::map<int, int> counts;
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_EQ(c.correct[i], 0);
    EXPECT_NE(c.labels[i], 4);
    counts[c.labels[i]]++;
  }
  ASSERT_EQ(counts.size(), 9u);
  for (const auto& [label, n] : counts) EXPECT_NEAR(n, 1000, 120) << "label " << label;  // ~4 sd
}

TEST(SplitImages, GivesDisjointSplitsOfTheRequestedSizes) {
  IdxImages all;
  all.count = 50;
  all.rows = all.cols = 1;
  for (int i = 0; i < 50; ++i) {
    all.pixels.push_back(static_cast<uint8_t>(i));  // the pixel is the example's id
    all.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  const ImageSplit s = split_images(all, 30, 10, 10, 7);
  EXPECT_EQ(s.train.count, 30);
  EXPECT_EQ(s.validation.count, 10);
  EXPECT_EQ(s.test.count, 10);
  std::set<int> ids;
  for (const auto* part : {&s.train, &s.validation, &s.test}) {
    for (size_t i = 0; i < part->pixels.size(); ++i) {
      ids.insert(part->pixels[i]);
      EXPECT_EQ(part->labels[i], part->pixels[i] % 10);  // labels travel with their image
    }
  }
  EXPECT_EQ(ids.size(), 50u);
  EXPECT_THROW(split_images(all, 30, 10, 11, 7), InvalidArgument);
}

TEST(LoadMnistFormat, MissingDirectoryIsADataErrorNamingTheFiles) {
  try {
    load_mnist_format("/nonexistent/mnist", "t10k");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("t10k-images-idx3-ubyte.gz"), std::string::npos) << e.what();
  }
}

NoisyImagesResult run(Weighting w, Corruption c = Corruption::kShift) {
  ImageSplit data{synthetic_images(1000, 1), synthetic_images(300, 2), synthetic_images(300, 3)};
  NoisyImagesOptions o;
  o.trainer(TrainerOptions()
                .iterations(600)
                .batch_size(64)
                .primary_step(false)
                .weighting(w)
                .model_lr(0.003)
                .weight_lr(0.03)
                .eval_every(100)
                .seed(5))
      .corruption(c)
      .record_every(100)
      .seed(5)
      .histogram_at({0, 600});
  return run_noisy_images(data, o);
}

TEST(NoisyImages, LearnedWeightsIgnoreTheWrongLabelsOnASmallImageSet) {
  const NoisyImagesResult learned = run(Weighting::kLearned);
  EXPECT_EQ(learned.related_correct, 250);
  EXPECT_EQ(learned.related_incorrect, 750);
  ASSERT_EQ(learned.weights.size(), 7u);  // iterations 0, 100, ..., 600
  EXPECT_EQ(learned.weights.front().iteration, 0);
  EXPECT_EQ(learned.weights.back().iteration, 600);
  // Seeds 1-6: final mean weights 0.947-0.966 (correct) and 0.002-0.003 (incorrect).
  EXPECT_GT(learned.weights.back().mean_correct, 0.9);
  EXPECT_LT(learned.weights.back().mean_incorrect, 0.02);
  ASSERT_EQ(learned.histograms.size(), 2u);
  for (const auto& h : learned.histograms) {
    ASSERT_EQ(h.correct.size(), 20u);
    EXPECT_EQ(std::accumulate(h.correct.begin(), h.correct.end(), int64_t{0}), 250);
    EXPECT_EQ(std::accumulate(h.incorrect.begin(), h.incorrect.end(), int64_t{0}), 750);
  }
  // At the end the incorrect examples sit in the lowest bins, the correct ones in the highest.
  EXPECT_GT(learned.histograms[1].incorrect[0] + learned.histograms[1].incorrect[1], 700);
  EXPECT_GT(learned.histograms[1].correct[19] + learned.histograms[1].correct[18], 200);

  const NoisyImagesResult ones = run(Weighting::kOnes);
  const NoisyImagesResult oracle = run(Weighting::kOracle);
  EXPECT_GT(oracle.test_accuracy, 0.9);
  EXPECT_GT(learned.test_accuracy, oracle.test_accuracy - 0.05);
  EXPECT_LT(ones.test_accuracy, learned.test_accuracy - 0.3);
  // The oracle's recorded weights are its 0/1 truth.
  EXPECT_EQ(oracle.weights.back().mean_correct, 1.0);
  EXPECT_EQ(oracle.weights.back().mean_incorrect, 0.0);
}

TEST(NoisyImages, UniformWrongLabelsLeaveTheTrueClassMostFrequent) {
  // With uniform wrong labels (75 % spread over 9 classes, 8.3 % each) "1 for all" still learns
  // the right rule; with the systematic shift it learns the shifted one.
  EXPECT_GT(run(Weighting::kOnes, Corruption::kUniform).test_accuracy, 0.8);
  EXPECT_LT(run(Weighting::kOnes, Corruption::kShift).test_accuracy, 0.5);
}

TEST(PerceptronWeights, PartsSumToTheLogitAndReadTheNamedInput) {
  Rng rng(2);
  Batch b;
  b.index = torch::arange(5, torch::kLong);
  std::vector<float> x(5 * 4);
  for (float& v : x) v = static_cast<float>(uniform01(rng));
  b.fields["wx"] = torch::tensor(x).reshape({5, 4});
  b.fields["y"] = torch::tensor(std::vector<int64_t>{0, 1, 2, 1, 0});
  b.fields["flag"] = torch::tensor(std::vector<int64_t>{0, 1, 1, 0, 1});
  PerceptronWeights p(4, 3, 2, /*seed=*/9, "wx");
  const auto parts = p.parts(b);
  const torch::Tensor sum = parts.input + parts.label + parts.flag + parts.bias;
  EXPECT_TRUE(torch::allclose(sum, p.logits(b).detach(), 1e-6, 1e-6));
  EXPECT_THROW(PerceptronWeights(4, 3, 2, 9).logits(b), InvalidArgument);  // reads "x" by default
}

TEST(NoisyImages, WeightModuleInputsAndNormalisedLossesRecordTheLogitTerms) {
  ImageSplit data{synthetic_images(400, 1), synthetic_images(200, 2), synthetic_images(200, 3)};
  for (const WeightImageInput wi : {WeightImageInput::kRaw, WeightImageInput::kCentred, WeightImageInput::kNone}) {
    NoisyImagesOptions o;
    o.trainer(TrainerOptions().iterations(200).batch_size(64).primary_step(false).weight_lr(0.03).eval_every(100)
                  .normalize_weights(wi == WeightImageInput::kCentred))
        .weight_input(wi)
        .record_every(100)
        .histogram_at({});
    const NoisyImagesResult r = run_noisy_images(data, o);
    ASSERT_EQ(r.weights.size(), 3u) << to_string(wi);
    const WeightSnapshot& last = r.weights.back();
    EXPECT_GT(last.meta_grad_norm, 0) << to_string(wi);
    if (wi == WeightImageInput::kNone) {
      EXPECT_EQ(last.input_correct, 0.0);
    } else if (wi == WeightImageInput::kCentred) {
      // Centred images: the image term averages to 0 over all related examples.
      EXPECT_NEAR((100 * last.input_correct + 300 * last.input_incorrect) / 400, 0.0, 1e-4);
    }
    // The flag separates: correct examples' flag term above the incorrect ones'.
    EXPECT_GT(last.flag_correct, last.flag_incorrect) << to_string(wi);
    EXPECT_GT(last.mean_correct, last.mean_incorrect) << to_string(wi);
  }
  EXPECT_EQ(parse_weight_image_input("centred"), WeightImageInput::kCentred);
  EXPECT_THROW(parse_weight_image_input("pixels"), InvalidArgument);
}

TEST(NoisyImagesOptions, RecordEveryMustMatchTheValidationInterval) {
  NoisyImagesOptions o;
  o.record_every(150);
  EXPECT_THROW(o.validate(), InvalidArgument);
  o.record_every(200);
  o.histogram_at({0, 300});
  EXPECT_THROW(o.validate(), InvalidArgument);
  o.histogram_at({0, 400});
  EXPECT_NO_THROW(o.validate());
}

}  // namespace
}  // namespace metadial::transfer
