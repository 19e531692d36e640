// The pieces the meta-weighted transfer trainer is generic over: batches of named tensors, data
// sets to sample them from, the model M_theta and the weight module P_eta (both LibTorch modules),
// and small concrete modules (a linear / one-hidden-layer classifier with one or two heads, and
// a perceptron weight module over (input, label, flag)).
//
// This header includes <torch/torch.h> on purpose: Model and WeightModule derive from
// torch::nn::Module, so any code that defines a model needs torch anyway. Code that only
// configures or runs an experiment includes the torch-free options.h / noisy_images.h instead.
//
// Functional parameters: the trainer evaluates M at simulated parameters
// theta' = theta - beta * grad (equation 7) that must stay in the autograd graph, so a Model
// computes its losses from an explicit parameter list (same order as parameters()) rather than
// from its registered tensors. Writing a model this way takes one forward function; the
// registered parameters are then only storage for the optimizer and for saving.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace metadial::transfer {

/// Which task a loss is for: models with two heads route each task to its own head.
enum class Task { kPrimary, kRelated };

/// A batch: named tensors whose first dimension is the example, plus the examples' positions in
/// their data set (so per-example state such as fixed random weights can be looked up).
struct Batch {
  torch::Tensor index;                           ///< int64 (B), required (size() reads it)
  std::map<std::string, torch::Tensor> fields;  ///< e.g. "x" (B x 784), "y" (B), "flag" (B)

  /// The field `name`; throws InvalidArgument naming it and the fields there are.
  const torch::Tensor& at(const std::string& name) const;
  bool has(const std::string& name) const { return fields.count(name) > 0; }
  int64_t size() const { return index.size(0); }
};

/// Where the trainer draws batches from.
class Dataset {
 public:
  virtual ~Dataset() = default;
  /// Number of examples.
  virtual int64_t size() const = 0;
  /// The examples at positions `index` (int64, values in [0, size())).
  virtual Batch gather(const torch::Tensor& index) const = 0;
};

/// A data set held as named tensors with equal first dimension (images, padded token ids, ...).
class TensorDataset final : public Dataset {
 public:
  /// Throws InvalidArgument when `fields` is empty or the first dimensions differ.
  explicit TensorDataset(std::map<std::string, torch::Tensor> fields);
  int64_t size() const override { return size_; }
  Batch gather(const torch::Tensor& index) const override;
  /// The whole field `name` (throws InvalidArgument when absent).
  const torch::Tensor& field(const std::string& name) const;
  /// Every example, in order.
  Batch all() const;

 private:
  std::map<std::string, torch::Tensor> fields_;
  int64_t size_ = 0;
};

/// The model M_theta. Implementations compute per-example losses from an explicit parameter
/// list so that the trainer can evaluate them at simulated parameters (see the file comment).
class Model : public torch::nn::Module {
 public:
  /// Per-example losses (shape B) of `batch` for `task`, with parameters `params` given in the
  /// order of parameters(). Must be differentiable in `params` twice (create_graph).
  virtual torch::Tensor losses(const Batch& batch, Task task, const std::vector<torch::Tensor>& params) = 0;
  /// Per-example correctness (B, 0/1 as float) of the predictions with the registered parameters.
  virtual torch::Tensor correct(const Batch& batch, Task task) = 0;
};

/// The weight module P_eta: one logit per related example; its weight is sigmoid(logit).
class WeightModule : public torch::nn::Module {
 public:
  /// Logits (shape B) for the related examples of `batch`.
  virtual torch::Tensor logits(const Batch& batch) = 0;
};

/// Softmax classifier over the field `x` (float, B x inputs) with targets `y` (int64 class ids):
/// logistic regression when hidden == 0, else one tanh hidden layer shared by the heads.
/// With heads == 2, Task::kRelated uses the second output layer (multi-task learning).
/// Parameters are drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with metadial's Rng(seed)
/// (torch's default initialisation, but portable and free of torch's global generator).
class Classifier final : public Model {
 public:
  Classifier(int64_t inputs, int64_t classes, int64_t hidden = 0, int64_t heads = 1, uint64_t seed = 0);
  torch::Tensor losses(const Batch& batch, Task task, const std::vector<torch::Tensor>& params) override;
  torch::Tensor correct(const Batch& batch, Task task) override;
  /// Class scores (B x classes) for `task`.
  torch::Tensor scores(const torch::Tensor& x, Task task, const std::vector<torch::Tensor>& params) const;

 private:
  int64_t hidden_;
  int64_t heads_;
};

/// Perceptron weight module of the image experiment: logit = v . [x, onehot(y), onehot(flag)] + b
/// over the fields `x` (B x inputs), `y` (int64 labels) and, when flags > 0, `flag` (int64 in
/// [0, flags)). With 784 pixels, 10 classes and 2 flag values it has the paper's 797 parameters.
/// `input_field` names the batch field read as the input x (default "x"; the image experiment can
/// give it a centred copy of the images, or a zero column to leave the image out).
class PerceptronWeights final : public WeightModule {
 public:
  PerceptronWeights(int64_t inputs, int64_t classes, int64_t flags, uint64_t seed = 0, std::string input_field = "x");
  torch::Tensor logits(const Batch& batch) override;
  /// The logit's four terms per example (each shape B, no graph): v_x . x, v_y[y], v_flag[flag]
  /// (0 without flags) and b; their sum is logits(batch).
  struct Parts {
    torch::Tensor input, label, flag, bias;
  };
  Parts parts(const Batch& batch);

 private:
  int64_t classes_;
  int64_t flags_;
  std::string input_field_;
  torch::Tensor weight_;  // (inputs + classes + flags)
  torch::Tensor bias_;    // (1)
};

/// Fills `t` in place with U(-bound, bound) from metadial's Rng (portable, thread-safe).
void uniform_init(torch::Tensor& t, double bound, uint64_t seed);

}  // namespace metadial::transfer
