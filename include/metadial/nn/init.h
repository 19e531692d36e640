// Initial weights from an explicit generator. LibTorch modules draw their initial parameters from
// torch's process-wide generator, which a library must neither reseed (torch::manual_seed from a
// constructor breaks the caller's own seeding and races between threads) nor depend on (the
// weights would change with whatever ran before). So a component builds its network with
// build_module() (LibTorch's constructors still draw their default weights, but the global
// generator is put back as it was) and then reset_parameters() re-draws every parameter in place,
// with the distribution LibTorch's default initialization uses, from a metadial::Rng seeded from
// the component's own seed: same seed, same weights, on every thread; the caller's torch seed
// neither matters nor moves.
//
// Includes torch: it takes torch modules.
#pragma once

#include <torch/torch.h>

#include <mutex>
#include <type_traits>
#include <utility>

#include "metadial/core/random.h"

namespace metadial::nn {

namespace detail {
/// While alive: holds metadial's module-building lock and, on destruction, puts torch's default
/// CPU generator back in the state it had on construction. Use build_module().
class GlobalGeneratorScope {
 public:
  GlobalGeneratorScope();
  ~GlobalGeneratorScope();
  GlobalGeneratorScope(const GlobalGeneratorScope&) = delete;
  GlobalGeneratorScope& operator=(const GlobalGeneratorScope&) = delete;

 private:
  std::unique_lock<std::recursive_mutex> lock_;  // recursive: a build may build a part
  torch::Tensor state_;
};
}  // namespace detail

/// Returns build() (which constructs LibTorch modules) and leaves torch's global generator in the
/// state it was in before: LibTorch's module constructors draw their default initial weights from
/// it and take no generator. Follow it with reset_parameters() so that the weights come from the
/// component's seed. metadial's builds are serialized by one lock, so threads building at once do
/// not undo each other's draws; a thread outside metadial drawing from torch's global generator
/// during a build would see its draws repeated afterwards (builds are short and happen when a
/// component is constructed or loaded).
template <typename Build>
std::invoke_result_t<Build> build_module(Build&& build) {
  detail::GlobalGeneratorScope scope;
  return std::forward<Build>(build)();
}

/// Re-draws, in place and without gradient tracking, the parameters of `module` and of its
/// submodules (pre-order, each module's parameters in registration order) with LibTorch 1.13's
/// default initialization:
///   Linear            weight and bias U(-1/sqrt(in_features), 1/sqrt(in_features))
///   LSTM, LSTMCell    every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))
///   Embedding         weight N(0, 1)
/// Draws are uniform01() / standard_normal() of `rng` (portable: the same numbers with every
/// standard library), one per element in row-major order. Modules without parameters (Dropout,
/// containers) are skipped; a module of another kind that owns parameters directly throws
/// InvalidArgument naming it (initialize its parameters yourself, e.g. with uniform_()).
void reset_parameters(torch::nn::Module& module, Rng& rng);

/// Overload for a module holder (torch::nn::Linear, a TORCH_MODULE net, ...).
template <typename Holder>
  requires requires(Holder h) { *h.ptr(); }
void reset_parameters(Holder& holder, Rng& rng) {
  reset_parameters(*holder.ptr(), rng);
}

/// Fills `t` in place (no gradient tracking) with U(-bound, bound) draws of `rng`, one per element
/// in row-major order (float or double tensors).
void uniform_(const torch::Tensor& t, double bound, Rng& rng);

}  // namespace metadial::nn
