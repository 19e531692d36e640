// The two-level LSTM optimizer: networks, plain C++ rollout, saving and loading.
#include "metadial/optim/learned/model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/init.h"
#include "metadial/nn/model_file.h"
#include "optim/learned/detail/network.h"

namespace metadial::optim::learned {
namespace {

constexpr nn::ModelFileKind kModelFile{"METADIAL-LEARNED-OPTIMIZER", 1, "model", "learned-optimizer model",
                                       "`metadial meta-train optimizer --out`"};

}  // namespace

namespace detail {

NetImpl::NetImpl(const ModelOptions& o) {
  cell1 = register_module("cell1", torch::nn::LSTMCell(o.input_size(), o.hidden));
  head1 = register_module("head1", torch::nn::Linear(o.hidden, 2 * o.dim));
  if (o.fidelities > 1) {
    cell2 = register_module("cell2", torch::nn::LSTMCell(o.dim + 1, o.fidelity_hidden));
    head2 = register_module("head2", torch::nn::Linear(o.fidelity_hidden, o.fidelities));
  }
}

std::vector<torch::Tensor> NetImpl::level1_parameters() const {
  auto p = cell1->parameters();
  for (auto& t : head1->parameters()) p.push_back(t);
  return p;
}

std::vector<torch::Tensor> NetImpl::level2_parameters() const {
  if (!cell2) return {};
  auto p = cell2->parameters();
  for (auto& t : head2->parameters()) p.push_back(t);
  return p;
}

namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

inline float sigmoidf(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// tanh through expf: glibc's tanhf goes through expm1f, which took a third of a suggestion's time.
// Absolute error below 1e-7 (the cancellation near 0 is absolute, not relative), which is all the
// LSTM gates need; the saturated ends come out as exactly +-1.
inline float tanhf_fast(float v) { return 1.0f - 2.0f / (std::exp(2.0f * v) + 1.0f); }

}  // namespace

CellWeights extract(const torch::nn::LSTMCell& cell, const torch::nn::Linear& head) {
  CellWeights w;
  w.in = static_cast<int>(cell->options.input_size());
  w.hidden = static_cast<int>(cell->options.hidden_size());
  w.out = static_cast<int>(head->options.out_features());
  w.w_ih = to_vector(cell->weight_ih);
  w.w_hh = to_vector(cell->weight_hh);
  w.bias = to_vector(cell->bias_ih + cell->bias_hh);
  w.head_w = to_vector(head->weight);
  w.head_b = to_vector(head->bias);
  return w;
}

namespace {

// Dot product with 8 independent partial sums (lets the compiler vectorize and pipeline it).
inline float dot(const float* a, const float* b, size_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (size_t j = 0; j < 8; ++j) acc[j] += a[k + j] * b[k + j];
  }
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; k < n; ++k) s += a[k] * b[k];
  return s;
}

}  // namespace

// Compiled twice, for the x86-64 baseline (SSE2: the 8 partial sums of dot() in two registers) and
// for AVX (one register), and picked at load time (GCC's target_clones): the same products and sums
// in the same order, so the same bits, in about 20-25 % less time on AVX machines
// (bench_learned: BM_LstmMfSuggest/1, BM_LstmSuggest/3). No FMA in either
// clone: a fused multiply-add would round differently.
__attribute__((target_clones("avx", "default"))) void CellWeights::step(std::span<const float> x, std::vector<float>& h,
                                                                        std::vector<float>& c) const {
  const auto H = static_cast<size_t>(hidden), I = static_cast<size_t>(in);
  thread_local std::vector<float> g;
  g.resize(4 * H);
  for (size_t r = 0; r < 4 * H; ++r) {
    g[r] = bias[r] + dot(w_ih.data() + r * I, x.data(), I) + dot(w_hh.data() + r * H, h.data(), H);
  }
  for (size_t k = 0; k < H; ++k) {
    const float i = sigmoidf(g[k]), f = sigmoidf(g[H + k]), gg = tanhf_fast(g[2 * H + k]), o = sigmoidf(g[3 * H + k]);
    c[k] = f * c[k] + i * gg;
    h[k] = o * tanhf_fast(c[k]);
  }
}

void CellWeights::head(std::span<const float> h, std::span<float> out_v) const {
  const auto H = static_cast<size_t>(hidden);
  for (size_t r = 0; r < static_cast<size_t>(out); ++r) out_v[r] = head_b[r] + dot(head_w.data() + r * H, h.data(), H);
}

}  // namespace detail

// ---- ModelOptions --------------------------------------------------------------------------------

const char* to_string(Proposal proposal) {
  switch (proposal) {
    case Proposal::kAbsolute: return "absolute";
    case Proposal::kIncumbent: return "incumbent";
  }
  return "?";
}

Proposal proposal_from_string(const std::string& name) {
  if (name == "absolute") return Proposal::kAbsolute;
  if (name == "incumbent") return Proposal::kIncumbent;
  throw InvalidArgument("unknown proposal '" + name + "' (known: absolute, incumbent)");
}

double clamped_logit(double x) {
  if (!(x > 0.0)) return -kMaxLogit;
  if (!(x < 1.0)) return kMaxLogit;
  return std::clamp(std::log(x / (1.0 - x)), -kMaxLogit, kMaxLogit);
}

void ModelOptions::validate() const {
  MD_CHECK(dim >= 1 && dim <= 16, "learned optimizer: dim must be in [1, 16], got ", dim);
  MD_CHECK(fidelities >= 1 && fidelities <= 8, "learned optimizer: fidelities must be in [1, 8], got ", fidelities);
  MD_CHECK(hidden >= 1 && hidden <= 1024, "learned optimizer: hidden must be in [1, 1024], got ", hidden);
  MD_CHECK(fidelity_hidden >= 1 && fidelity_hidden <= 1024, "learned optimizer: fidelity_hidden must be in [1, 1024], got ",
           fidelity_hidden);
  MD_CHECK(static_cast<int>(costs.size()) == fidelities, "learned optimizer: give ", fidelities,
           " costs (one per fidelity), got ", costs.size());
  for (double c : costs) MD_CHECK(c > 0 && std::isfinite(c), "learned optimizer: costs must be positive, got ", c);
  MD_CHECK(cost_scale > 0 && std::isfinite(cost_scale), "learned optimizer: cost_scale must be positive, got ",
           cost_scale);
}

nlohmann::json ModelOptions::to_json() const {
  return {{"dim", dim},         {"fidelities", fidelities}, {"hidden", hidden}, {"fidelity_hidden", fidelity_hidden},
          {"costs", costs},     {"cost_scale", cost_scale}, {"proposal", to_string(proposal)}};
}

ModelOptions ModelOptions::from_json(const nlohmann::json& j) {
  ModelOptions o;
  o.dim = j.at("dim").get<int>();
  o.fidelities = j.at("fidelities").get<int>();
  o.hidden = j.at("hidden").get<int>();
  o.fidelity_hidden = j.at("fidelity_hidden").get<int>();
  o.costs = j.at("costs").get<std::vector<double>>();
  o.cost_scale = j.at("cost_scale").get<double>();
  o.proposal = proposal_from_string(j.value("proposal", std::string("absolute")));
  o.validate();
  return o;
}

std::pair<double, double> OnlineNormalizer::add(double y) {
  ++n;
  sum += y;
  sum_sq += y * y;
  min = n == 1 ? y : std::min(min, y);
  const double mean = sum / static_cast<double>(n);
  const double var = sum_sq / static_cast<double>(n) - mean * mean;
  const double sd = std::sqrt(std::max(var, 0.0));
  if (!(sd > 1e-12 * (1.0 + std::abs(mean)))) return {0.0, 0.0};
  return {std::clamp((y - mean) / sd, -5.0, 5.0), std::clamp((y - min) / sd, -5.0, 5.0)};
}

double squash(double u) { return 1.0 / (1.0 + std::exp(-u)); }

// ---- LearnedOptimizer ------------------------------------------------------------------------------

LearnedOptimizer::Impl::Impl(ModelOptions o) : options(std::move(o)) {
  options.validate();
  net = nn::build_module([&] { return detail::Net(options); });  // weights: reset_parameters or load
}

LearnedOptimizer::LearnedOptimizer(ModelOptions options, uint64_t seed)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  // PyTorch's default initialization, drawn from metadial's portable generator: a seed gives the
  // same network everywhere, and torch's global generator is not touched.
  Rng rng(seed);
  nn::reset_parameters(impl_->net, rng);
  refresh_inference_weights();
}

LearnedOptimizer::LearnedOptimizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LearnedOptimizer::~LearnedOptimizer() = default;
LearnedOptimizer::LearnedOptimizer(LearnedOptimizer&&) noexcept = default;
LearnedOptimizer& LearnedOptimizer::operator=(LearnedOptimizer&&) noexcept = default;

const ModelOptions& LearnedOptimizer::options() const { return impl_->options; }
const nlohmann::json& LearnedOptimizer::card() const { return impl_->card; }
void LearnedOptimizer::set_card(nlohmann::json card) { impl_->card = std::move(card); }

int64_t LearnedOptimizer::n_parameters() const {
  int64_t n = 0;
  for (const auto& p : impl_->net->parameters()) n += p.numel();
  return n;
}

void LearnedOptimizer::refresh_inference_weights() {
  impl_->level1 = detail::extract(impl_->net->cell1, impl_->net->head1);
  if (impl_->options.fidelities > 1) impl_->level2 = detail::extract(impl_->net->cell2, impl_->net->head2);
}

void LearnedOptimizer::save(const std::string& path) const {
  const nlohmann::json header = {{"format", "metadial-learned-optimizer"},
                                 {"options", impl_->options.to_json()},
                                 {"card", impl_->card},
                                 {"parameter_names", nn::parameter_names(*impl_->net)}};
  nn::save_model_file(path, kModelFile, header, impl_->net->parameters());
}

LearnedOptimizer LearnedOptimizer::load(const std::string& path) {
  MD_CHECK(std::filesystem::is_regular_file(path), "no learned-optimizer model at '", path,
           "' (train one with `metadial meta-train optimizer --out ", path, "`)");
  const nn::ModelFile file = nn::load_model_file(path, kModelFile);
  std::unique_ptr<Impl> impl;
  try {
    const nlohmann::json& h = file.header;
    MD_CHECK_AS(DataError, h.at("format") == "metadial-learned-optimizer", "format ", h.at("format").dump());
    // The options are range-checked (validate()) before the network is built: at most a few MB.
    impl = std::make_unique<Impl>(ModelOptions::from_json(h.at("options")));
    impl->card = h.value("card", nlohmann::json::object());
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw DataError(metadial::detail::concat("'", path, "': corrupt learned-optimizer model header (",
                                             what.substr(0, what.find('\n')), ")"));
  }
  const size_t n = nn::copy_parameters(path, kModelFile, file, *impl->net);
  MD_CHECK_AS(DataError, n == file.params.size(), "'", path, "': the file holds ", file.params.size(),
              " parameter tensors, the network its header describes has ", n);
  LearnedOptimizer model(std::move(impl));
  model.refresh_inference_weights();
  return model;
}

// ---- Rollout -------------------------------------------------------------------------------------

Rollout::Rollout(const LearnedOptimizer& model) : model_(&model) {
  const ModelOptions& o = model.options();
  h1_.assign(static_cast<size_t>(o.hidden), 0.0f);
  c1_ = h1_;
  if (o.fidelities > 1) {
    h2_.assign(static_cast<size_t>(o.fidelity_hidden), 0.0f);
    c2_ = h2_;
  }
  input_.assign(static_cast<size_t>(o.input_size()), 0.0f);
  input_[static_cast<size_t>(o.dim) + 3] = 1.0f;  // start flag
  best_x_.assign(static_cast<size_t>(o.dim), 0.5);
  if (o.proposal == Proposal::kIncumbent) {
    for (size_t k = 0; k < best_x_.size(); ++k) input_[static_cast<size_t>(o.dim) + 4 + k] = 0.5f;
  }
  mu_.resize(static_cast<size_t>(o.dim));
  sd_.resize(static_cast<size_t>(o.dim));
}

void Rollout::advance_level1() {
  if (proposed_) return;
  const auto& w = model_->impl().level1;
  w.step(input_, h1_, c1_);
  const auto d = static_cast<size_t>(model_->dim());
  std::vector<float> out(2 * d);
  w.head(h1_, out);
  const bool relative = model_->options().proposal == Proposal::kIncumbent;
  for (size_t k = 0; k < d; ++k) {
    mu_[k] = out[k] + (relative ? static_cast<float>(clamped_logit(best_x_[k])) : 0.0f);
    sd_[k] = std::exp(std::clamp(out[d + k], static_cast<float>(detail::kMinLogSd), static_cast<float>(detail::kMaxLogSd)));
  }
  proposed_ = true;
}

void Rollout::propose(std::span<double> mean, std::span<double> sd) {
  advance_level1();
  for (size_t k = 0; k < mu_.size(); ++k) {
    mean[k] = mu_[k];
    sd[k] = sd_[k];
  }
}

void Rollout::level2(std::span<const double> x, std::vector<float>& h, std::vector<float>& c) const {
  const ModelOptions& o = model_->options();
  std::vector<float> in(static_cast<size_t>(o.dim + 1));
  for (size_t k = 0; k < static_cast<size_t>(o.dim); ++k) in[k] = static_cast<float>(x[k]);
  in.back() = static_cast<float>(spent_ / o.cost_scale);
  model_->impl().level2.step(in, h, c);
}

std::vector<double> Rollout::fidelity_probs(std::span<const double> x) {
  const ModelOptions& o = model_->options();
  MD_CHECK(static_cast<int>(x.size()) == o.dim, "Rollout: point of size ", x.size(), ", the model's dimension is ", o.dim);
  if (o.fidelities == 1) return {1.0};
  advance_level1();
  pending_h2_ = h2_;
  pending_c2_ = c2_;
  level2(x, pending_h2_, pending_c2_);
  pending_x_.assign(x.begin(), x.end());
  level2_ready_ = true;
  std::vector<float> logits(static_cast<size_t>(o.fidelities));
  model_->impl().level2.head(pending_h2_, logits);
  const float mx = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double s = 0;
  for (size_t m = 0; m < p.size(); ++m) s += (p[m] = std::exp(static_cast<double>(logits[m] - mx)));
  for (auto& v : p) v /= s;
  return p;
}

void Rollout::observe(std::span<const double> x, int fidelity, double y) {
  const ModelOptions& o = model_->options();
  MD_CHECK(static_cast<int>(x.size()) == o.dim, "Rollout: point of size ", x.size(), ", the model's dimension is ", o.dim);
  MD_CHECK(fidelity >= 0 && fidelity < o.fidelities, "Rollout: fidelity ", fidelity, " outside [0, ", o.fidelities, ")");
  advance_level1();
  if (o.fidelities > 1) {
    bool same = level2_ready_ && pending_x_.size() == x.size();
    for (size_t k = 0; same && k < x.size(); ++k) same = pending_x_[k] == static_cast<float>(x[k]);
    if (same) {
      h2_.swap(pending_h2_);
      c2_.swap(pending_c2_);
    } else {
      level2(x, h2_, c2_);
    }
    spent_ += o.costs[static_cast<size_t>(fidelity)];
  }
  const auto [yn, gap] = norm_.add(y);
  const auto d = static_cast<size_t>(o.dim);
  for (size_t k = 0; k < d; ++k) input_[k] = static_cast<float>(x[k]);
  input_[d] = static_cast<float>(yn);
  input_[d + 1] = static_cast<float>(gap);
  input_[d + 2] = o.fidelities > 1 ? static_cast<float>(fidelity) / static_cast<float>(o.fidelities - 1) : 1.0f;
  input_[d + 3] = 0.0f;
  if (replaces_incumbent(fidelity, y, best_m_, best_y_)) {
    best_m_ = fidelity;
    best_y_ = y;
    best_x_.assign(x.begin(), x.end());
  }
  if (o.proposal == Proposal::kIncumbent) {
    for (size_t k = 0; k < d; ++k) input_[d + 4 + k] = static_cast<float>(best_x_[k]);
  }
  proposed_ = false;
  level2_ready_ = false;
  ++steps_;
}

}  // namespace metadial::optim::learned
