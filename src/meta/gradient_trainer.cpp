// Gradient-based meta-training of the single-fidelity LSTM optimizer (Chen et al. 2017): the
// unrolled episode is differentiated end to end through the RFF function samples.
#include <algorithm>
#include <cmath>
#include <optional>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/meta/optimizer_trainer.h"
#include "optim/learned/detail/network.h"

namespace metadial::meta {

namespace detail = optim::learned::detail;
namespace {

/// I_0, as in the REINFORCE trainer: one sd above the normalized mean.
constexpr double kIncumbentStart = 1.0;

double group_norm(const std::vector<torch::Tensor>& params) {
  double s = 0.0;
  for (const auto& p : params) {
    if (p.grad().defined()) s += p.grad().pow(2).sum().item<double>();
  }
  return std::sqrt(s);
}

/// The batch's target functions as padded tensors (padding features have weight 0).
struct BatchFunctions {
  torch::Tensor omega;   // [B, D, d]
  torch::Tensor phase;   // [B, D]
  torch::Tensor weight;  // [B, D]
  torch::Tensor offset;  // [B]

  BatchFunctions(const std::vector<MultiFidelityFunction>& fs, int d, const torch::TensorOptions& to) {
    const auto B = static_cast<int64_t>(fs.size());
    size_t D = 1;
    for (const auto& f : fs) D = std::max(D, f.target().n_features());
    const auto ds = static_cast<size_t>(d);
    std::vector<double> om(fs.size() * D * ds, 0.0), ph(fs.size() * D, 0.0), w(fs.size() * D, 0.0), off(fs.size());
    for (size_t b = 0; b < fs.size(); ++b) {
      const RffFunction& f = fs[b].target();
      std::copy(f.omega.begin(), f.omega.end(), om.begin() + static_cast<std::ptrdiff_t>(b * D * ds));
      std::copy(f.phase.begin(), f.phase.end(), ph.begin() + static_cast<std::ptrdiff_t>(b * D));
      std::copy(f.weight.begin(), f.weight.end(), w.begin() + static_cast<std::ptrdiff_t>(b * D));
      off[b] = f.offset;
    }
    const auto Dl = static_cast<int64_t>(D);
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    omega = torch::from_blob(om.data(), {B, Dl, d}, f64).to(to).clone();
    phase = torch::from_blob(ph.data(), {B, Dl}, f64).to(to).clone();
    weight = torch::from_blob(w.data(), {B, Dl}, f64).to(to).clone();
    offset = torch::from_blob(off.data(), {B}, f64).to(to).clone();
  }

  /// f_b(x_b) for x [B, d] -> [B], differentiable in x.
  torch::Tensor operator()(const torch::Tensor& x) const {
    const torch::Tensor a = torch::bmm(omega, x.unsqueeze(2)).squeeze(2) + phase;
    return offset + (weight * torch::cos(a)).sum(1);
  }
};

}  // namespace

const char* to_string(Method method) {
  switch (method) {
    case Method::kReinforce:
      return "reinforce";
    case Method::kGradient:
      return "gradient";
  }
  return "?";
}

Method method_from_string(const std::string& name) {
  if (name == "reinforce") return Method::kReinforce;
  if (name == "gradient") return Method::kGradient;
  throw InvalidArgument("unknown meta-training method '" + name + "' (known: reinforce, gradient)");
}

double unrolled_loss(LearnedOptimizer& model, const std::vector<MultiFidelityFunction>& functions, Loss loss,
                     int horizon, uint64_t noise_seed, bool reparameterize, bool backward, bool detach_inputs) {
  const auto& o = model.options();
  MD_CHECK(o.fidelities == 1, "gradient-based meta-training is single-fidelity (the model has ", o.fidelities,
           " fidelities; train those with --method reinforce)");
  MD_CHECK(loss != Loss::kEi,
           "gradient-based meta-training supports the losses min, sum, oi (ei needs a GP "
           "posterior; use --method reinforce)");
  MD_CHECK(!functions.empty(), "unrolled_loss: no functions");
  MD_CHECK(horizon >= 1, "unrolled_loss: horizon must be >= 1, got ", horizon);
  const int d = o.dim, T = horizon;
  const auto B = static_cast<int64_t>(functions.size());
  for (const auto& f : functions) {
    MD_CHECK(f.target().dim == d, "unrolled_loss: a function has dimension ", f.target().dim, ", the model ", d);
  }
  auto& net = model.impl().net;
  const auto to = torch::TensorOptions().dtype(net->cell1->weight_ih.scalar_type());
  const BatchFunctions f(functions, d, to);
  std::optional<torch::NoGradGuard> no_grad;
  if (!backward) no_grad.emplace();

  Rng rng(noise_seed);
  std::vector<double> eps(static_cast<size_t>(B * d));
  torch::Tensor h = torch::zeros({B, o.hidden}, to), c = torch::zeros({B, o.hidden}, to);
  torch::Tensor input = torch::zeros({B, o.input_size()}, to);
  input.select(1, o.input_size() - 1).fill_(1.0);  // start flag
  const torch::Tensor ones = torch::ones({B, 1}, to), zeros = torch::zeros({B, 1}, to);
  std::vector<torch::Tensor> ys;
  torch::Tensor incumbent = torch::full({B}, kIncumbentStart, to);
  torch::Tensor total = torch::zeros({B}, to);
  for (int t = 0; t < T; ++t) {
    std::tie(h, c) = net->cell1(input, std::make_tuple(h, c));
    const torch::Tensor out = net->head1(h);
    torch::Tensor u = out.slice(1, 0, d);
    if (reparameterize) {
      for (auto& e : eps) e = standard_normal(rng);
      const torch::Tensor e = torch::from_blob(eps.data(), {B, d}, torch::kFloat64).to(to).clone();
      u = u + out.slice(1, d).clamp(detail::kMinLogSd, detail::kMaxLogSd).exp() * e;
    }
    const torch::Tensor x = torch::sigmoid(u);
    const torch::Tensor y = f(x);
    switch (loss) {
      case Loss::kSum:
        total = total + y;
        break;
      case Loss::kOi:
        total = total + torch::clamp_max(y - incumbent, 0.0);
        break;
      case Loss::kMin:
      case Loss::kEi:
        break;
    }
    incumbent = torch::minimum(incumbent, y);
    ys.push_back(y);
    if (t + 1 == T) break;
    // The next input: x, y normalized online (as OnlineNormalizer, differentiably), fidelity 1, flag 0.
    torch::Tensor yn = zeros, gap = zeros;
    if (ys.size() >= 2) {
      const torch::Tensor Y = torch::stack(ys, 1);  // [B, n]
      const torch::Tensor mean = Y.mean(1);
      const torch::Tensor var = (Y - mean.unsqueeze(1)).pow(2).mean(1);
      const torch::Tensor ok = var > torch::pow(1e-12 * (1.0 + mean.detach().abs()), 2);
      const torch::Tensor sd = torch::sqrt(torch::where(ok, var, torch::ones_like(var)));
      const torch::Tensor mn = std::get<0>(Y.min(1));
      yn = torch::where(ok, torch::clamp((y - mean) / sd, -5.0, 5.0), torch::zeros_like(y)).unsqueeze(1);
      gap = torch::where(ok, torch::clamp((y - mn) / sd, -5.0, 5.0), torch::zeros_like(y)).unsqueeze(1);
    }
    input = detach_inputs ? torch::cat({x.detach(), yn.detach(), gap.detach(), ones, zeros}, 1)
                          : torch::cat({x, yn, gap, ones, zeros}, 1);
  }
  if (loss == Loss::kMin) total = incumbent;
  const torch::Tensor l = total.mean() / static_cast<double>(T);
  if (backward) l.backward();
  return l.item<double>();
}

// ---- GradientTrainer ---------------------------------------------------------------------------

struct GradientTrainer::Impl {
  explicit Impl(TrainerOptions opts)
      : o((opts.finalize(), std::move(opts))), model(o.model, derive_seed(o.seed, {1})), rng(derive_seed(o.seed, {2})) {
    MD_CHECK(o.model.fidelities == 1, "--method gradient is single-fidelity (got --fidelities ", o.model.fidelities,
             "; a multi-fidelity model's fidelity network needs --method reinforce)");
    MD_CHECK(o.loss != Loss::kEi, "--method gradient supports --loss min|sum|oi, not ei (use --method reinforce)");
    torch::set_num_threads(o.threads);
    if (!o.reparameterize) {
      // Deterministic proposals: the log-sd half of the head is unused in training; pin it at the
      // minimum so that every consumer's sampling is the mean (it receives no gradient after this).
      torch::NoGradGuard ng;
      auto& head = model.impl().net->head1;
      head->weight.slice(0, o.model.dim).zero_();
      head->bias.slice(0, o.model.dim).fill_(detail::kMinLogSd);
    }
    adam = std::make_unique<torch::optim::Adam>(model.impl().net->parameters(),
                                                torch::optim::AdamOptions(o.learning_rate));
  }
  TrainerOptions o;
  LearnedOptimizer model;
  Rng rng;
  std::unique_ptr<torch::optim::Adam> adam;
  GradientNorms norms;
  int iteration = 0;
};

GradientTrainer::GradientTrainer(TrainerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
GradientTrainer::~GradientTrainer() = default;
GradientTrainer::GradientTrainer(GradientTrainer&&) noexcept = default;
GradientTrainer& GradientTrainer::operator=(GradientTrainer&&) noexcept = default;
const GradientNorms& GradientTrainer::last_gradient_norms() const { return impl_->norms; }
const TrainerOptions& GradientTrainer::options() const { return impl_->o; }
LearnedOptimizer& GradientTrainer::model() { return impl_->model; }

TrainingProgress GradientTrainer::step() {
  Impl& s = *impl_;
  const TrainerOptions& o = s.o;
  auto& net = s.model.impl().net;
  net->train();
  std::vector<MultiFidelityFunction> fs;
  fs.reserve(static_cast<size_t>(o.batch));
  for (int b = 0; b < o.batch; ++b) fs.push_back(sample_multi_fidelity(o.prior, o.fidelity, s.rng));
  const uint64_t noise_seed = s.rng();
  s.adam->zero_grad();
  const double l = unrolled_loss(s.model, fs, o.loss, o.horizon, noise_seed, o.reparameterize, true, o.detach_inputs);
  s.norms.level1_lstm = group_norm(net->cell1->parameters());
  s.norms.level1_head = group_norm(net->head1->parameters());
  torch::nn::utils::clip_grad_norm_(net->parameters(), o.clip);
  s.adam->step();
  ++s.iteration;
  TrainingProgress p;
  p.iteration = s.iteration;
  p.surrogate = l;
  p.mean_loss = l * o.horizon;
  p.mean_cost = o.horizon * o.model.costs.back();
  return p;
}

}  // namespace metadial::meta
