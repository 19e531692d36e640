// Internals of the learned optimizer shared by model.cpp and trainer.cpp: the two LSTM levels in
// LibTorch, and their plain C++ copy for fast step-by-step inference.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "metadial/optim/learned/model.h"

namespace metadial::optim::learned::detail {

/// Both levels. Level 2 is present only when options.fidelities > 1.
class NetImpl : public torch::nn::Module {
 public:
  explicit NetImpl(const ModelOptions& o);
  torch::nn::LSTMCell cell1{nullptr}, cell2{nullptr};
  torch::nn::Linear head1{nullptr}, head2{nullptr};
  /// Parameters of level 1 (cell1, head1) and of level 2 (cell2, head2).
  std::vector<torch::Tensor> level1_parameters() const;
  std::vector<torch::Tensor> level2_parameters() const;
};
TORCH_MODULE(Net);

/// Clamp range of the policy's log sd.
inline constexpr double kMinLogSd = -5.0;
inline constexpr double kMaxLogSd = 1.0;

/// An LSTM cell and a linear head as flat float arrays (row-major, torch gate order i, f, g, o).
struct CellWeights {
  int in = 0, hidden = 0, out = 0;
  std::vector<float> w_ih, w_hh, bias;  ///< [4H x in], [4H x H], [4H] (b_ih + b_hh)
  std::vector<float> head_w, head_b;    ///< [out x H], [out]
  /// One LSTM step in place.
  void step(std::span<const float> x, std::vector<float>& h, std::vector<float>& c) const;
  /// head(h) into out (size out).
  void head(std::span<const float> h, std::span<float> out) const;
};

CellWeights extract(const torch::nn::LSTMCell& cell, const torch::nn::Linear& head);

}  // namespace metadial::optim::learned::detail

namespace metadial::optim::learned {

struct LearnedOptimizer::Impl {
  explicit Impl(ModelOptions o);
  ModelOptions options;
  detail::Net net{nullptr};
  detail::CellWeights level1, level2;
  nlohmann::json card = nlohmann::json::object();
};

}  // namespace metadial::optim::learned
