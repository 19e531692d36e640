#include "metadial/nn/init.h"

#include <cmath>
#include <string>
#include <vector>

#include "metadial/core/error.h"

namespace metadial::nn {
namespace {

template <typename Draw>
void fill(const torch::Tensor& t, Draw draw) {
  MD_CHECK(t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kFloat64,
           "reset_parameters: a parameter of dtype ", t.scalar_type(), " (expected float or double)");
  torch::NoGradGuard no_grad;
  std::vector<double> values(static_cast<size_t>(t.numel()));
  for (auto& v : values) v = draw();
  t.copy_(torch::from_blob(values.data(), t.sizes(), torch::kFloat64));
}

void uniform_bound(const torch::Tensor& t, double bound, Rng& rng) {
  fill(t, [&] { return (2.0 * uniform01(rng) - 1.0) * bound; });
}

// One module's own parameters; `where` names it in an error.
void reset_own(torch::nn::Module& m, const std::string& where, Rng& rng) {
  const std::vector<torch::Tensor> params = m.parameters(/*recurse=*/false);
  if (params.empty()) return;
  double bound = 0.0;
  if (const auto* l = dynamic_cast<const torch::nn::LinearImpl*>(&m)) {
    bound = 1.0 / std::sqrt(static_cast<double>(l->options.in_features()));
  } else if (const auto* r = dynamic_cast<const torch::nn::LSTMImpl*>(&m)) {
    bound = 1.0 / std::sqrt(static_cast<double>(r->options.hidden_size()));
  } else if (const auto* c = dynamic_cast<const torch::nn::LSTMCellImpl*>(&m)) {
    bound = 1.0 / std::sqrt(static_cast<double>(c->options.hidden_size()));
  } else if (const auto* e = dynamic_cast<const torch::nn::EmbeddingImpl*>(&m)) {
    fill(e->weight, [&] { return standard_normal(rng); });
    if (const auto& pad = e->options.padding_idx()) {
      torch::NoGradGuard no_grad;
      e->weight[*pad].zero_();  // as LibTorch does: the padding row starts (and stays) zero
    }
    return;
  } else {
    throw InvalidArgument("reset_parameters: " + where + " (" + m.name() +
                          ") owns parameters of a kind it does not know (known: Linear, LSTM, LSTMCell, "
                          "Embedding); initialize them explicitly");
  }
  for (const auto& p : params) uniform_bound(p, bound, rng);
}

}  // namespace

namespace detail {
namespace {
std::recursive_mutex& build_mutex() {
  static std::recursive_mutex m;
  return m;
}
}  // namespace

GlobalGeneratorScope::GlobalGeneratorScope() : lock_(build_mutex()) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> g(gen.mutex());
  state_ = gen.get_state();
}

GlobalGeneratorScope::~GlobalGeneratorScope() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> g(gen.mutex());
  gen.set_state(state_);
}
}  // namespace detail

void uniform_(const torch::Tensor& t, double bound, Rng& rng) { uniform_bound(t, bound, rng); }

void reset_parameters(torch::nn::Module& module, Rng& rng) {
  reset_own(module, "the module", rng);
  for (const auto& item : module.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    reset_own(*item.value(), "submodule '" + item.key() + "'", rng);
  }
}

}  // namespace metadial::nn
