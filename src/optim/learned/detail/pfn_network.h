// Internals of the PFN (optim/learned/pfn.h) shared by pfn.cpp and the trainer
// (meta/pfn_trainer.cpp): the transformer in LibTorch and the tensor layout of its inputs.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "metadial/optim/learned/pfn.h"

namespace metadial::optim::learned::detail {

/// Smallest predicted variance of a standardized value (sd 0.01).
inline constexpr double kPfnMinVariance = 1e-4;

/// One pre-norm transformer block with the history/query attention mask of pfn.h.
class PfnBlockImpl : public torch::nn::Module {
 public:
  PfnBlockImpl(int width, int heads, int ffn);
  /// x: [B, S, E] with the first n tokens the history.
  torch::Tensor forward(const torch::Tensor& x, int64_t n);
  /// The same for the history's tokens alone (x: [B, n, E]); k, v receive this layer's keys and
  /// values of the history [B, H, n, dh], which is all that queries need of it.
  torch::Tensor history(const torch::Tensor& x, torch::Tensor& k, torch::Tensor& v);
  /// The same for query tokens alone (x: [B, m, E]) given the history's keys and values.
  torch::Tensor queries(const torch::Tensor& x, const torch::Tensor& kh, const torch::Tensor& vh);
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear qkv{nullptr}, out{nullptr}, ff1{nullptr}, ff2{nullptr};
  int heads = 1;
};
TORCH_MODULE(PfnBlock);

class PfnNetImpl : public torch::nn::Module {
 public:
  explicit PfnNetImpl(const PfnOptions& o);
  /// x: [B, S, 2 max_dim] (x - 1/2 padded, then the dimension mask), yin: [B, S, 2] ([y~, 1] for
  /// the n history tokens, 0 for the queries). Returns [B, S - n, 2]: mean and variance of each
  /// query's standardized value.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& yin, int64_t n);
  /// The history's part of forward() (x, yin: its n tokens): every layer's keys and values.
  void encode_history(const torch::Tensor& x, const torch::Tensor& yin, std::vector<torch::Tensor>& k,
                      std::vector<torch::Tensor>& v);
  /// The queries' part of forward() (x: [B, m, 2 max_dim]) given encode_history()'s output: the
  /// same numbers as forward() without recomputing the history for every batch of queries.
  torch::Tensor forward_queries(const torch::Tensor& x, const std::vector<torch::Tensor>& k,
                                const std::vector<torch::Tensor>& v);
  torch::nn::Linear x_encoder{nullptr}, y_encoder{nullptr}, head{nullptr};
  torch::nn::LayerNorm ln_out{nullptr};
  torch::nn::ModuleList blocks{nullptr};
};
TORCH_MODULE(PfnNet);

/// Fills the encoder inputs for one task: `points` (k x d, row-major) into rows [row0, row0 + k)
/// of x [S, 2 max_dim] (float, contiguous accessor).
void encode_points(std::span<const double> points, size_t d, int max_dim, float* x_rows);

/// Draws the initial weights from `rng`: Linear layers as LibTorch (nn/init.h), layer norms 1 and 0.
void init_pfn(PfnNet& net, Rng& rng);

}  // namespace metadial::optim::learned::detail

namespace metadial::optim::learned {

/// A history the model is conditioned on (PfnModel::condition).
struct PfnHistory {
  size_t dim = 0;
  double mu = 0.0, sd = 1.0;         ///< standardization of the history's values
  std::vector<torch::Tensor> k, v;   ///< per layer, [1, H, n, dh]
};

struct PfnModel::Impl {
  explicit Impl(PfnOptions o);
  PfnOptions options;
  detail::PfnNet net{nullptr};
  nlohmann::json card = nlohmann::json::object();
};

}  // namespace metadial::optim::learned
