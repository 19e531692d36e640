// Image classifier targets: a one-hidden-layer MLP (ReLU, dropout) on Fashion-MNIST or MNIST,
// trained by SGD with momentum and weight decay, for the online controller and its baselines.
//
//   hyperparameters  learning_rate, momentum, weight_decay, dropout (on the hidden layer),
//                    batch_size (examples per step); any of them may change between train() calls
//   scores           accuracy on the validation split (reward, selection) and on the test split
//   data             load_image_data(): a folder of IDX files. With train-images-idx3-ubyte[.gz]
//                    (Fashion-MNIST's layout) train + validation come from the training file and
//                    test from t10k; with only t10k (../shared/data/mnist-t10k) the t10k images are
//                    split three ways. Splits are fixed by split_seed, shared by every target.
//
// The matrix products go through nn::dense_mm (a fast kernel; Debian's torch uses reference BLAS).
// Torch stays behind a pimpl.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "metadial/online/target.h"

namespace metadial::online {

/// Where the images come from and how they are split.
struct ImageDataOptions {
  std::string dir = "/usr/share/datasets/fashion-mnist";  ///< folder of IDX files
  int64_t train = 20000;       ///< training examples
  int64_t validation = 2000;   ///< validation examples (the controller's reward)
  int64_t test = 10000;        ///< test examples (at most what the folder has)
  uint64_t split_seed = 0;     ///< which examples go where
};

/// Images split into train / validation / test, as float tensors in [0, 1]. Immutable; shared.
class ImageData {
 public:
  /// Reads and splits the images; throws DataError for missing or malformed files and
  /// InvalidArgument when the folder has fewer images than the splits ask for.
  static std::shared_ptr<const ImageData> load(const ImageDataOptions& options);
  ~ImageData();
  int64_t train_count() const;
  int64_t validation_count() const;
  int64_t test_count() const;
  int64_t inputs() const;  ///< pixels per image

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  ImageData() = default;
  std::unique_ptr<Impl> impl_;
};

/// Options of ImageClassifierTarget.
struct ImageClassifierOptions {
  int64_t hidden = 64;  ///< hidden units of the MLP
  /// Values used where a tuple omits a hyperparameter (the "fixed default" baseline).
  Tuple defaults{{"learning_rate", 0.01}, {"momentum", 0.9}, {"weight_decay", 0.0}, {"dropout", 0.0},
                 {"batch_size", 64}};
  std::string name = "image";  ///< "fashion-mnist", "mnist", ... (in messages and reports)

  /// Throws InvalidArgument on hidden < 1 or a default outside its domain.
  void validate() const;
};

/// Throws InvalidArgument when a tuple's value is outside its domain: learning_rate > 0,
/// momentum in [0, 1), weight_decay >= 0, dropout in [0, 1), batch_size an integer >= 1.
void check_image_tuple(const Tuple& t);

/// The MLP classifier target. Copies share the data (clone()).
class ImageClassifierTarget final : public Target {
 public:
  ImageClassifierTarget(std::shared_ptr<const ImageData> data, ImageClassifierOptions options = {});
  ~ImageClassifierTarget() override;
  ImageClassifierTarget(const ImageClassifierTarget&) = delete;
  ImageClassifierTarget& operator=(const ImageClassifierTarget&) = delete;

  std::string name() const override;
  Tuple defaults() const override;
  void reset(uint64_t seed) override;
  void train(const Tuple& hp, int64_t steps) override;
  double validation_score() override;
  double test_score() override;
  TargetStats stats() const override;
  int64_t steps_done() const override;
  std::unique_ptr<Target> clone() const override;

 private:
  struct Impl;
  explicit ImageClassifierTarget(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace metadial::online
