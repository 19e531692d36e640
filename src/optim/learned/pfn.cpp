// The PFN surrogate: network, prediction, saving and loading.
#include "metadial/optim/learned/pfn.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/init.h"
#include "metadial/nn/matmul.h"
#include "metadial/nn/model_file.h"
#include "optim/learned/detail/pfn_network.h"

namespace metadial::optim::learned {
namespace {

constexpr nn::ModelFileKind kPfnFile{"METADIAL-PFN", 1, "model", "PFN model", "`metadial meta-train pfn --out`"};

// Standardized history values are clipped to this (a history of n values standardizes to at most
// sqrt(n - 1) in magnitude; only an outlier among many goes beyond).
constexpr double kMaxStandardized = 10.0;

}  // namespace

// ---- network -------------------------------------------------------------------------------------

namespace detail {
namespace {

// A Linear layer through nn::dense_linear (Debian's LibTorch multiplies with the reference BLAS,
// which made these products 2/3 of a training step), over the last dimension of x.
torch::Tensor linear(const torch::nn::Linear& l, const torch::Tensor& x) {
  std::vector<int64_t> shape = x.sizes().vec();
  const torch::Tensor y = nn::dense_linear(x.reshape({-1, shape.back()}), l->weight, l->bias);
  shape.back() = y.size(1);
  return y.view(shape);
}

// a [B, H, m, k] times b [B, H, k, n]. At inference on one task (no gradient, B = 1) head by head
// through nn::dense_mm: torch::matmul goes to the reference BLAS.
torch::Tensor head_mm(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.size(0) != 1 || torch::GradMode::is_enabled()) return torch::matmul(a, b);
  std::vector<torch::Tensor> per_head;
  per_head.reserve(static_cast<size_t>(a.size(1)));
  for (int64_t h = 0; h < a.size(1); ++h) per_head.push_back(nn::dense_mm(a[0][h], b[0][h]));
  return torch::stack(per_head).unsqueeze(0);
}

}  // namespace

PfnBlockImpl::PfnBlockImpl(int width, int n_heads, int ffn) : heads(n_heads) {
  ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  qkv = register_module("qkv", torch::nn::Linear(width, 3 * width));
  out = register_module("out", torch::nn::Linear(width, width));
  ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  ff1 = register_module("ff1", torch::nn::Linear(width, ffn));
  ff2 = register_module("ff2", torch::nn::Linear(ffn, width));
}

torch::Tensor PfnBlockImpl::forward(const torch::Tensor& x, int64_t n) {
  const int64_t B = x.size(0), S = x.size(1), E = x.size(2), H = heads, dh = E / H;
  const torch::Tensor qkv_all = linear(qkv, ln1(x)).view({B, S, 3, H, dh}).permute({2, 0, 3, 1, 4});  // [3, B, H, S, dh]
  const torch::Tensor q = qkv_all[0], k = qkv_all[1], v = qkv_all[2];
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  const torch::Tensor kh = k.narrow(2, 0, n), vh = v.narrow(2, 0, n);
  const torch::Tensor s_hist = torch::matmul(q, kh.transpose(-2, -1)) * scale;  // [B, H, S, n]
  // Each token's score for its own key: a query's only key besides the history's; for a history
  // token its key is already among the history's, so the extra column is masked out.
  torch::Tensor s_self = (q * k).sum(-1, /*keepdim=*/true) * scale;  // [B, H, S, 1]
  torch::Tensor self_mask = torch::zeros({S, 1}, x.options());
  self_mask.narrow(0, 0, n).fill_(-std::numeric_limits<float>::infinity());
  s_self = s_self + self_mask;
  const torch::Tensor p = torch::softmax(torch::cat({s_hist, s_self}, -1), -1);
  const torch::Tensor a = (torch::matmul(p.narrow(-1, 0, n), vh) + p.narrow(-1, n, 1) * v)
                              .transpose(1, 2)
                              .reshape({B, S, E});
  const torch::Tensor y = x + linear(out, a);
  return y + linear(ff2, torch::gelu(linear(ff1, ln2(y))));
}

torch::Tensor PfnBlockImpl::history(const torch::Tensor& x, torch::Tensor& k, torch::Tensor& v) {
  const int64_t B = x.size(0), n = x.size(1), E = x.size(2), H = heads, dh = E / H;
  const torch::Tensor qkv_all = linear(qkv, ln1(x)).view({B, n, 3, H, dh}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv_all[0];
  k = qkv_all[1];
  v = qkv_all[2];
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  const torch::Tensor p = torch::softmax(head_mm(q, k.transpose(-2, -1)) * scale, -1);
  const torch::Tensor a = head_mm(p, v).transpose(1, 2).reshape({B, n, E});
  const torch::Tensor y = x + linear(out, a);
  return y + linear(ff2, torch::gelu(linear(ff1, ln2(y))));
}

torch::Tensor PfnBlockImpl::queries(const torch::Tensor& x, const torch::Tensor& kh, const torch::Tensor& vh) {
  const int64_t B = x.size(0), m = x.size(1), E = x.size(2), H = heads, dh = E / H;
  const torch::Tensor qkv_all = linear(qkv, ln1(x)).view({B, m, 3, H, dh}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv_all[0], k = qkv_all[1], v = qkv_all[2];
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  const torch::Tensor s_hist = head_mm(q, kh.transpose(-2, -1)) * scale;  // [B, H, m, n]
  const torch::Tensor s_self = (q * k).sum(-1, /*keepdim=*/true) * scale;  // [B, H, m, 1]
  // The softmax over [s_hist, s_self] written out: concatenating the two took as long as the
  // products on one thread.
  const torch::Tensor mx = torch::maximum(std::get<0>(s_hist.max(-1, /*keepdim=*/true)), s_self);
  const torch::Tensor e_hist = (s_hist - mx).exp(), e_self = (s_self - mx).exp();
  const torch::Tensor a = ((head_mm(e_hist, vh) + e_self * v) / (e_hist.sum(-1, /*keepdim=*/true) + e_self))
                              .transpose(1, 2)
                              .reshape({B, m, E});
  const torch::Tensor y = x + linear(out, a);
  return y + linear(ff2, torch::gelu(linear(ff1, ln2(y))));
}

PfnNetImpl::PfnNetImpl(const PfnOptions& o) {
  x_encoder = register_module("x_encoder", torch::nn::Linear(2 * o.max_dim, o.width));
  y_encoder = register_module("y_encoder", torch::nn::Linear(2, o.width));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int l = 0; l < o.layers; ++l) blocks->push_back(PfnBlock(o.width, o.heads, o.ffn));
  ln_out = register_module("ln_out", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.width})));
  head = register_module("head", torch::nn::Linear(o.width, 2));
}

torch::Tensor PfnNetImpl::forward(const torch::Tensor& x, const torch::Tensor& yin, int64_t n) {
  torch::Tensor h = linear(x_encoder, x) + linear(y_encoder, yin);
  for (const auto& b : *blocks) h = b->as<PfnBlockImpl>()->forward(h, n);
  const torch::Tensor o = linear(head, ln_out(h.narrow(1, n, h.size(1) - n)));  // [B, m, 2]
  return torch::stack({o.select(-1, 0), torch::softplus(o.select(-1, 1)) + kPfnMinVariance}, -1);
}

void PfnNetImpl::encode_history(const torch::Tensor& x, const torch::Tensor& yin, std::vector<torch::Tensor>& k,
                                std::vector<torch::Tensor>& v) {
  torch::Tensor h = linear(x_encoder, x) + linear(y_encoder, yin);
  k.assign(blocks->size(), {});
  v.assign(blocks->size(), {});
  for (size_t l = 0; l < blocks->size(); ++l) h = (*blocks)[l]->as<PfnBlockImpl>()->history(h, k[l], v[l]);
}

torch::Tensor PfnNetImpl::forward_queries(const torch::Tensor& x, const std::vector<torch::Tensor>& k,
                                          const std::vector<torch::Tensor>& v) {
  torch::Tensor h = linear(x_encoder, x) + y_encoder->bias;  // a query's y input is 0
  for (size_t l = 0; l < blocks->size(); ++l) h = (*blocks)[l]->as<PfnBlockImpl>()->queries(h, k[l], v[l]);
  const torch::Tensor o = linear(head, ln_out(h));
  return torch::stack({o.select(-1, 0), torch::softplus(o.select(-1, 1)) + kPfnMinVariance}, -1);
}

void encode_points(std::span<const double> points, size_t d, int max_dim, float* x_rows) {
  const auto M = static_cast<size_t>(max_dim);
  const size_t k = points.size() / d;
  for (size_t r = 0; r < k; ++r) {
    float* row = x_rows + r * 2 * M;
    for (size_t i = 0; i < M; ++i) {
      row[i] = i < d ? static_cast<float>(points[r * d + i] - 0.5) : 0.0f;
      row[M + i] = i < d ? 1.0f : 0.0f;
    }
  }
}

void init_pfn(PfnNet& net, Rng& rng) {
  nn::reset_parameters(net->x_encoder, rng);
  nn::reset_parameters(net->y_encoder, rng);
  for (const auto& m : *net->blocks) {
    auto* b = m->as<PfnBlockImpl>();
    nn::reset_parameters(b->qkv, rng);
    nn::reset_parameters(b->out, rng);
    nn::reset_parameters(b->ff1, rng);
    nn::reset_parameters(b->ff2, rng);
  }
  nn::reset_parameters(net->head, rng);
  torch::NoGradGuard no_grad;
  for (const auto& item : net->named_parameters()) {
    const std::string& name = item.key();
    if (name.find("ln") == std::string::npos) continue;  // layer norms: weight 1, bias 0
    if (name.ends_with("weight")) item.value().fill_(1.0);
    if (name.ends_with("bias")) item.value().fill_(0.0);
  }
}

}  // namespace detail

// ---- options -------------------------------------------------------------------------------------

void PfnOptions::validate() const {
  MD_CHECK(max_dim >= 1 && max_dim <= 16, "PFN: max_dim must be in [1, 16], got ", max_dim);
  MD_CHECK(width >= 4 && width <= 1024, "PFN: width must be in [4, 1024], got ", width);
  MD_CHECK(layers >= 1 && layers <= 24, "PFN: layers must be in [1, 24], got ", layers);
  MD_CHECK(heads >= 1 && heads <= 64 && width % heads == 0, "PFN: heads must be in [1, 64] and divide width ", width,
           ", got ", heads);
  MD_CHECK(ffn >= 1 && ffn <= 8192, "PFN: ffn must be in [1, 8192], got ", ffn);
}

nlohmann::json PfnOptions::to_json() const {
  return {{"max_dim", max_dim}, {"width", width}, {"layers", layers}, {"heads", heads}, {"ffn", ffn}};
}

PfnOptions PfnOptions::from_json(const nlohmann::json& j) {
  PfnOptions o;
  o.max_dim = j.at("max_dim").get<int>();
  o.width = j.at("width").get<int>();
  o.layers = j.at("layers").get<int>();
  o.heads = j.at("heads").get<int>();
  o.ffn = j.at("ffn").get<int>();
  o.validate();
  return o;
}

// ---- model ---------------------------------------------------------------------------------------

PfnModel::Impl::Impl(PfnOptions o) : options(std::move(o)) {
  options.validate();
  net = nn::build_module([&] { return detail::PfnNet(options); });
}

PfnModel::PfnModel(PfnOptions options, uint64_t seed) : impl_(std::make_unique<Impl>(std::move(options))) {
  Rng rng(seed);
  detail::init_pfn(impl_->net, rng);
}

PfnModel::PfnModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PfnModel::~PfnModel() = default;
PfnModel::PfnModel(PfnModel&&) noexcept = default;
PfnModel& PfnModel::operator=(PfnModel&&) noexcept = default;

const PfnOptions& PfnModel::options() const { return impl_->options; }
const nlohmann::json& PfnModel::card() const { return impl_->card; }
void PfnModel::set_card(nlohmann::json card) { impl_->card = std::move(card); }

int64_t PfnModel::n_parameters() const {
  int64_t n = 0;
  for (const auto& p : impl_->net->parameters()) n += p.numel();
  return n;
}

void PfnModel::save(const std::string& path) const {
  const nlohmann::json header = {{"format", "metadial-pfn"},
                                 {"options", impl_->options.to_json()},
                                 {"card", impl_->card},
                                 {"parameter_names", nn::parameter_names(*impl_->net)}};
  nn::save_model_file(path, kPfnFile, header, impl_->net->parameters());
}

PfnModel PfnModel::load(const std::string& path) {
  MD_CHECK(std::filesystem::is_regular_file(path), "no PFN model at '", path, "' (train one with `metadial meta-train pfn --out ",
           path, "`)");
  const nn::ModelFile file = nn::load_model_file(path, kPfnFile);
  std::unique_ptr<Impl> impl;
  try {
    const nlohmann::json& h = file.header;
    MD_CHECK_AS(DataError, h.at("format") == "metadial-pfn", "format ", h.at("format").dump());
    impl = std::make_unique<Impl>(PfnOptions::from_json(h.at("options")));
    impl->card = h.value("card", nlohmann::json::object());
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw DataError(metadial::detail::concat("'", path, "': corrupt PFN model header (",
                                             what.substr(0, what.find('\n')), ")"));
  }
  const size_t n = nn::copy_parameters(path, kPfnFile, file, *impl->net);
  MD_CHECK_AS(DataError, n == file.params.size(), "'", path, "': the file holds ", file.params.size(),
              " parameter tensors, the network its header describes has ", n);
  return PfnModel(std::move(impl));
}

std::shared_ptr<const PfnHistory> PfnModel::condition(size_t dim, std::span<const double> x,
                                                      std::span<const double> y) const {
  const PfnOptions& o = impl_->options;
  MD_CHECK(dim >= 1 && dim <= static_cast<size_t>(o.max_dim), "PFN: dimension ", dim, " outside [1, ", o.max_dim, "]");
  const size_t n = y.size();
  MD_CHECK(n >= 1 && x.size() == n * dim, "PFN: history of ", x.size(), " coordinates for ", n, " values in ", dim,
           " dimensions (need at least one observation)");
  auto h = std::make_shared<PfnHistory>();
  h->dim = dim;
  double mu = 0.0;
  for (double v : y) mu += v;
  mu /= static_cast<double>(n);
  double var = 0.0;
  for (double v : y) var += (v - mu) * (v - mu);
  double sd = std::sqrt(var / static_cast<double>(n));
  if (!(sd > 1e-12 * (1.0 + std::abs(mu))) || !std::isfinite(sd)) sd = 1.0;
  h->mu = mu;
  h->sd = sd;
  const auto M = static_cast<size_t>(o.max_dim);
  torch::Tensor xt = torch::empty({1, static_cast<int64_t>(n), static_cast<int64_t>(2 * M)}, torch::kFloat32);
  torch::Tensor yt = torch::zeros({1, static_cast<int64_t>(n), 2}, torch::kFloat32);
  detail::encode_points(x, dim, o.max_dim, xt.data_ptr<float>());
  float* yp = yt.data_ptr<float>();
  for (size_t i = 0; i < n; ++i) {
    yp[2 * i] = static_cast<float>(std::clamp((y[i] - mu) / sd, -kMaxStandardized, kMaxStandardized));
    yp[2 * i + 1] = 1.0f;
  }
  torch::NoGradGuard no_grad;
  impl_->net->encode_history(xt, yt, h->k, h->v);
  return h;
}

void PfnModel::predict(const PfnHistory& h, std::span<const double> xq, std::span<double> means,
                       std::span<double> variances) const {
  const PfnOptions& o = impl_->options;
  const size_t dim = h.dim;
  MD_CHECK(xq.size() % dim == 0, "PFN: ", xq.size(), " query coordinates are not m x ", dim);
  const size_t m = xq.size() / dim;
  MD_CHECK(means.size() == m && variances.size() == m, "PFN: ", m, " queries but outputs of size ", means.size(), " and ",
           variances.size());
  if (m == 0) return;
  const auto M = static_cast<size_t>(o.max_dim);
  torch::Tensor xt = torch::empty({1, static_cast<int64_t>(m), static_cast<int64_t>(2 * M)}, torch::kFloat32);
  detail::encode_points(xq, dim, o.max_dim, xt.data_ptr<float>());
  torch::NoGradGuard no_grad;
  const torch::Tensor out = impl_->net->forward_queries(xt, h.k, h.v).contiguous();
  const float* op = out.data_ptr<float>();
  for (size_t j = 0; j < m; ++j) {
    means[j] = h.mu + h.sd * static_cast<double>(op[2 * j]);
    variances[j] = h.sd * h.sd * static_cast<double>(op[2 * j + 1]);
  }
}

void PfnModel::predict(size_t dim, std::span<const double> x, std::span<const double> y, std::span<const double> xq,
                       std::span<double> means, std::span<double> variances) const {
  predict(*condition(dim, x, y), xq, means, variances);
}

// ---- surrogate -----------------------------------------------------------------------------------

PfnSurrogate::PfnSurrogate(const PfnModel& model, size_t dim, std::span<const double> x, std::span<const double> y)
    : model_(&model), dim_(dim), history_(model.condition(dim, x, y)) {}

void PfnSurrogate::predict_batch(std::span<const double> xs, std::span<double> means,
                                 std::span<double> variances) const {
  model_->predict(*history_, xs, means, variances);
}

}  // namespace metadial::optim::learned
