// Experiment 1 of seed paper 001 (section 4.1, appendix A): noisy related data for image
// classification. Primary task: clean digit (or fashion item) classification. Related task: the
// same training images with a fraction (75 %) of the labels replaced by wrong ones, plus an input
// flag saying whether the label is correct. M_theta is logistic regression, P_eta a perceptron
// with sigmoid over (image, one-hot label, one-hot flag); only steps (2) and (3) run (no primary
// updates), batch 256, Adam 1e-3, 15,000 iterations, model selection on the validation split.
//
// Torch-free on purpose: reproduction drivers and the CLI configure and run it without
// compiling torch headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metadial/core/idx.h"
#include "metadial/transfer/options.h"

namespace metadial::transfer {

/// How the wrong labels of the related task are drawn.
enum class Corruption {
  kShift,    ///< systematic flip: label y becomes (y + 1) mod classes
  kUniform,  ///< uniformly among the classes - 1 wrong labels, independently per example
};
/// "shift" / "uniform".
std::string to_string(Corruption c);
/// Inverse of to_string; throws InvalidArgument listing the valid names.
Corruption parse_corruption(const std::string& name);

/// Related-task labels: exactly round(wrong_fraction * n) of `labels` (positions drawn with
/// Rng(seed)) replaced by wrong ones; `correct[i]` says whether label i was kept.
struct CorruptedLabels {
  std::vector<uint8_t> labels;
  std::vector<uint8_t> correct;
};
CorruptedLabels corrupt_labels(const std::vector<uint8_t>& labels, int num_classes, double wrong_fraction,
                               Corruption corruption, uint64_t seed);

/// Train / validation / test images of one data set.
struct ImageSplit {
  IdxImages train;
  IdxImages validation;
  IdxImages test;
};

/// Reads `<dir>/<prefix>-images-idx3-ubyte[.gz]` and `<dir>/<prefix>-labels-idx1-ubyte[.gz]`
/// (the MNIST / Fashion-MNIST file names; prefix "train" or "t10k"). Throws DataError when a
/// file is missing or malformed.
IdxImages load_mnist_format(const std::string& dir, const std::string& prefix);

/// A random split of one image set into train / validation / test of the given sizes
/// (n_train + n_val + n_test <= count), drawn with metadial's Rng(seed).
ImageSplit split_images(const IdxImages& all, int64_t n_train, int64_t n_val, int64_t n_test, uint64_t seed);

/// Train and validation drawn at random from `pool` (n_train + n_val <= pool.count); test = `test`.
ImageSplit split_images(const IdxImages& pool, const IdxImages& test, int64_t n_train, int64_t n_val, uint64_t seed);

/// What the weight module P_eta reads as its image input.
enum class WeightImageInput {
  kRaw,      ///< the pixels in [0, 1] (the paper's perceptron over (image, label, flag))
  kCentred,  ///< the pixels minus their mean over the related set: v . x has mean 0 over the data
  kNone,     ///< no image (a zero column): P_eta sees the label and the flag only
};
std::string to_string(WeightImageInput w);
/// "raw" / "centred" / "none"; throws InvalidArgument listing them.
WeightImageInput parse_weight_image_input(const std::string& name);

/// Settings of one run; defaults are the paper's (appendix A).
class NoisyImagesOptions {
  /// The trainer's settings; its weighting picks the Table 1 row. Default: the paper's image
  /// set-up (no primary step, learned weights, batch 256, Adam 1e-3 for theta, 15,000 iterations)
  /// except eta's optimizer: Adam with learning rate 0.1 and epsilon 1e-5 where the paper says 1e-3
  /// (and 1e-8). With the paper's, the correct examples' weights drift down to about 0.1 on the
  /// 6000-image MNIST split (issue 19; bench/results/transfer_weight_drift.md).
  METADIAL_TRANSFER_ARG(NoisyImagesOptions, TrainerOptions, trainer,
                        TrainerOptions()
                            .primary_step(false)
                            .weighting(Weighting::kLearned)
                            .weight_lr(0.1)
                            .weight_adam_eps(1e-5));
  /// What P_eta reads as its image input. Default: the centred images (the paper: the raw pixels,
  /// whose 784 non-negative inputs let v . x move every weight together, faster than the flag
  /// separates them; issue 19).
  METADIAL_TRANSFER_ARG(NoisyImagesOptions, WeightImageInput, weight_input, WeightImageInput::kCentred);
  /// How wrong labels are drawn.
  METADIAL_TRANSFER_ARG(NoisyImagesOptions, Corruption, corruption, Corruption::kShift);
  /// Fraction of related examples whose label is made wrong (exactly round(f * n) of them).
  METADIAL_TRANSFER_ARG(NoisyImagesOptions, double, wrong_fraction, 0.75);
  /// Record the mean learned weight of correct and incorrect related examples every this-many
  /// iterations (0: never). Must be a multiple of trainer().eval_every().
  METADIAL_TRANSFER_ARG(NoisyImagesOptions, int64_t, record_every, 100);
  /// Bins on [0, 1] of the weight histograms (Figure 1).
  METADIAL_TRANSFER_ARG(NoisyImagesOptions, int64_t, histogram_bins, 20);
  /// Seeds the corruption and the modules' initialisation (the trainer keeps trainer().seed()).
  METADIAL_TRANSFER_ARG(NoisyImagesOptions, uint64_t, seed, 0);
  /// Iterations at which to take weight histograms (each 0 = before training, or a multiple of
  /// record_every); those beyond the last iteration are skipped.
  METADIAL_TRANSFER_ARG(NoisyImagesOptions, std::vector<int64_t>, histogram_at,
                        (std::vector<int64_t>{0, 100, 1000, 15000}));

 public:
  /// Throws InvalidArgument naming the first setting out of its domain.
  void validate() const;
};

/// Mean weight step (2) gives to the related examples with correct and with incorrect labels.
struct WeightSnapshot {
  int64_t iteration = 0;
  double mean_correct = 0;
  double mean_incorrect = 0;
  /// Learned weighting only: the mean of each term of P_eta's logit (PerceptronWeights::Parts)
  /// over the correct and over the incorrect related examples, and the mean L2 norm of eta's
  /// meta-gradient over the eta updates since the previous snapshot (0 at iteration 0).
  double input_correct = 0, input_incorrect = 0;
  double label_correct = 0, label_incorrect = 0;
  double flag_correct = 0, flag_incorrect = 0;
  double bias = 0;
  double meta_grad_norm = 0;
};

/// Counts of related examples per weight bin ([i/bins, (i+1)/bins), the last bin closed).
struct WeightHistogram {
  int64_t iteration = 0;
  std::vector<int64_t> correct;
  std::vector<int64_t> incorrect;
};

/// The outcome of one run.
struct NoisyImagesResult {
  double test_accuracy = 0;            ///< of the model selected on validation, in [0, 1]
  double best_validation_accuracy = 0;
  int64_t best_iteration = 0;
  std::vector<WeightSnapshot> weights; ///< every record_every iterations (iteration 0 included)
  std::vector<WeightHistogram> histograms;
  double step_seconds = 0;             ///< wall time of the training iterations alone
  double step_cpu_seconds = 0;         ///< their CPU time (the calling thread's)
  double total_seconds = 0;            ///< including validation and the weight records
  int64_t related_correct = 0;         ///< related examples whose label is right
  int64_t related_incorrect = 0;
};

/// One run: builds the primary (clean train split) and related (corrupted train split, flag,
/// oracle weight) data sets, trains, selects on validation, tests. Uses the calling thread and
/// LibTorch's intra-op threads (the paper's single-core setting: the program calls
/// metadial::nn::set_torch_threads(1) once, from main). Throws InvalidArgument for bad options or
/// images of another size than the splits agree on.
NoisyImagesResult run_noisy_images(const ImageSplit& data, const NoisyImagesOptions& options);

}  // namespace metadial::transfer
