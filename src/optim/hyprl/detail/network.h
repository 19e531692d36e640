// Internals of the Hyp-RL policy shared by policy.cpp and trainer.cpp: the LSTM Q-network and
// the tensors a policy keeps (standardized grid features), and the encoding of histories.
#pragma once

#include <torch/torch.h>

#include <mutex>
#include <span>
#include <vector>

#include "metadial/optim/hyprl/policy.h"

namespace metadial::optim::hyprl::detail {

/// Sizes of the network's inputs and outputs.
struct NetDims {
  int64_t features = 0;    ///< grid feature columns per row
  int64_t meta = 0;        ///< meta-features read (0: none)
  int64_t hidden = 64;
  int64_t head_hidden = 128;
  int64_t actions = 0;     ///< grid rows
  /// LSTM input: [features, utility, start flag, meta].
  int64_t input() const { return features + 2 + meta; }
};

using LstmState = std::tuple<torch::Tensor, torch::Tensor>;

/// LSTM over the history, then an MLP head on [LSTM output, meta] with one output per row.
class QNetImpl : public torch::nn::Module {
 public:
  explicit QNetImpl(NetDims dims);
  /// x: [T, B, input()], meta: [B, meta] (ignored when dims.meta == 0) -> Q: [T, B, actions].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& meta);
  /// One step: x [B, input()], state from the previous step (or none) -> Q [B, actions].
  torch::Tensor step(const torch::Tensor& x, const torch::Tensor& meta, std::optional<LstmState>& state);

  NetDims dims;

 private:
  torch::Tensor head(const torch::Tensor& h, const torch::Tensor& meta);
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(QNet);

/// Copies every parameter of `from` into `to` (same architecture).
void copy_parameters(const QNet& from, QNet& to);

}  // namespace metadial::optim::hyprl::detail

namespace metadial::optim::hyprl {

struct Policy::Impl {
  Impl(objective::TabularGrid g, int n_meta, PolicyOptions o);

  objective::TabularGrid grid;
  PolicyOptions options;
  int n_meta = 0;              ///< meta-features the network reads (0 when options say none)
  mutable detail::QNet net{nullptr};  ///< mutable: forward passes of a const policy
  torch::Tensor features;      ///< [actions, features]: grid columns standardized over the rows
  nlohmann::json card = nlohmann::json::object();
  mutable std::mutex mu;       ///< serializes forward passes of q_values / choose

  /// Utility of a response (larger = better).
  double utility(double response) const { return grid.layout().maximize ? response : -response; }
  /// LSTM inputs for one history: [n + 1, input()] (start token first).
  torch::Tensor encode(std::span<const Observation> history, const torch::Tensor& meta) const;
  /// Meta tensor [meta] for the network (empty when it reads none); checks the size.
  torch::Tensor meta_tensor(std::span<const double> meta) const;
};

}  // namespace metadial::optim::hyprl
