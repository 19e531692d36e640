// Gradient-based meta-training of the LSTM optimizer (Chen et al. 2017): the unrolled episode is
// differentiated end to end through the RFF function samples. With M > 1 fidelities the first
// level still learns by that pathwise gradient (through whichever fidelity was queried), and the
// second level's discrete fidelity choice by REINFORCE (a hybrid the paper does not have; its
// notebooks train both levels by REINFORCE, and we measured REINFORCE-trained proposals to ignore
// their observations: bench/results/learned_open_loop.md).
#include <algorithm>
#include <cmath>
#include <optional>
#include <span>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/core/returns.h"
#include "metadial/meta/optimizer_trainer.h"
#include "meta/detail/trainer_common.h"
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

/// One fidelity level of the batch's functions as padded tensors (padding features have weight 0).
struct BatchFunctions {
  torch::Tensor omega;   // [B, D, d]
  torch::Tensor phase;   // [B, D]
  torch::Tensor weight;  // [B, D]
  torch::Tensor offset;  // [B]
  torch::Tensor centre, scale, bump_w;  // [B, NB, d], [B, NB, d], [B, NB]; undefined when no bumps

  /// `level` indexes MultiFidelityFunction::levels; -1 = the target.
  BatchFunctions(const std::vector<MultiFidelityFunction>& fs, int d, const torch::TensorOptions& to, int level = -1) {
    const auto B = static_cast<int64_t>(fs.size());
    auto at = [level](const MultiFidelityFunction& f) -> const RffFunction& {
      return level < 0 ? f.target() : f.levels[static_cast<size_t>(level)];
    };
    size_t D = 1;
    for (const auto& f : fs) D = std::max(D, at(f).n_features());
    const auto ds = static_cast<size_t>(d);
    std::vector<double> om(fs.size() * D * ds, 0.0), ph(fs.size() * D, 0.0), w(fs.size() * D, 0.0), off(fs.size());
    for (size_t b = 0; b < fs.size(); ++b) {
      const RffFunction& f = at(fs[b]);
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
    size_t NB = 0;
    for (const auto& f : fs) NB = std::max(NB, at(f).n_bumps());
    if (NB > 0) {  // padding bumps have weight 0
      std::vector<double> c(fs.size() * NB * ds, 0.0), sc(fs.size() * NB * ds, 1.0), bw(fs.size() * NB, 0.0);
      for (size_t b = 0; b < fs.size(); ++b) {
        const RffFunction& f = at(fs[b]);
        std::copy(f.bump_centre.begin(), f.bump_centre.end(), c.begin() + static_cast<std::ptrdiff_t>(b * NB * ds));
        std::copy(f.bump_scale.begin(), f.bump_scale.end(), sc.begin() + static_cast<std::ptrdiff_t>(b * NB * ds));
        std::copy(f.bump_weight.begin(), f.bump_weight.end(), bw.begin() + static_cast<std::ptrdiff_t>(b * NB));
      }
      const auto NBl = static_cast<int64_t>(NB);
      centre = torch::from_blob(c.data(), {B, NBl, d}, f64).to(to).clone();
      scale = torch::from_blob(sc.data(), {B, NBl, d}, f64).to(to).clone();
      bump_w = torch::from_blob(bw.data(), {B, NBl}, f64).to(to).clone();
    }
  }

  /// f_b(x_b) for x [B, d] -> [B], differentiable in x.
  torch::Tensor operator()(const torch::Tensor& x) const {
    const torch::Tensor a = torch::bmm(omega, x.unsqueeze(2)).squeeze(2) + phase;
    torch::Tensor v = offset + (weight * torch::cos(a)).sum(1);
    if (bump_w.defined()) {
      const torch::Tensor z = (x.unsqueeze(1) - centre) * scale;  // [B, NB, d]
      v = v + (bump_w * torch::exp(-0.5 * z.pow(2).sum(2))).sum(1);
    }
    return v;
  }
};

/// The newest observation ys.back() normalized online over all of ys (as OnlineNormalizer, but
/// differentiably): (y~, gap), each [B, 1]; zeros until two observations differ.
std::pair<torch::Tensor, torch::Tensor> normalized(const std::vector<torch::Tensor>& ys, const torch::Tensor& zeros) {
  if (ys.size() < 2) return {zeros, zeros};
  const torch::Tensor& y = ys.back();
  const torch::Tensor Y = torch::stack(ys, 1);  // [B, n]
  const torch::Tensor mean = Y.mean(1);
  const torch::Tensor var = (Y - mean.unsqueeze(1)).pow(2).mean(1);
  const torch::Tensor ok = var > torch::pow(1e-12 * (1.0 + mean.detach().abs()), 2);
  const torch::Tensor sd = torch::sqrt(torch::where(ok, var, torch::ones_like(var)));
  const torch::Tensor mn = std::get<0>(Y.min(1));
  return {torch::where(ok, torch::clamp((y - mean) / sd, -5.0, 5.0), torch::zeros_like(y)).unsqueeze(1),
          torch::where(ok, torch::clamp((y - mn) / sd, -5.0, 5.0), torch::zeros_like(y)).unsqueeze(1)};
}

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

namespace {

/// One unrolled episode batch of the first level, shared by unrolled_loss (M = 1) and the hybrid
/// (M > 1). x_t = sigmoid(mu_t) (+ sd_t eps_t when reparameterized, eps_t from `rng`) is
/// differentiated through the queried level f_{m_t}; with a second level, m_t is drawn from it
/// (after eps_t, from the same `rng`) reading x_t detached and the spent cost.
struct Rollout {
  std::vector<torch::Tensor> losses;       ///< per step l_t, [B] each (the loss of the header)
  torch::Tensor total;                     ///< sum_t l_t accumulated step by step, [B]
  std::vector<torch::Tensor> logps, ents;  ///< M > 1: log pi(m_t) and the entropy, [B] each
  std::vector<double> lc;                  ///< M > 1: cost losses c_t, [B x T] episode-major
  std::vector<double> spent;               ///< M > 1: cost spent per episode
};

Rollout rollout(LearnedOptimizer& model, const std::vector<MultiFidelityFunction>& fs, Loss loss, int T,
                uint64_t noise_seed, bool reparameterize, bool detach_inputs, double budget) {
  const auto& mo = model.options();
  const int d = mo.dim, M = mo.fidelities;
  const auto B = static_cast<int64_t>(fs.size());
  const auto Bs = fs.size(), Ts = static_cast<size_t>(T);
  auto& net = model.impl().net;
  const auto to = torch::TensorOptions().dtype(net->cell1->weight_ih.scalar_type());
  std::vector<BatchFunctions> level;
  if (M == 1) {
    level.emplace_back(fs, d, to);
  } else {
    for (int m = 0; m < M; ++m) level.emplace_back(fs, d, to, m);
  }
  const double c_target = fs.front().costs.back();

  Rng rng(noise_seed);
  std::vector<double> eps(Bs * static_cast<size_t>(d));
  torch::Tensor h = torch::zeros({B, mo.hidden}, to), c = torch::zeros({B, mo.hidden}, to);
  torch::Tensor h2, c2;
  if (M > 1) {
    h2 = torch::zeros({B, mo.fidelity_hidden}, to);
    c2 = torch::zeros({B, mo.fidelity_hidden}, to);
  }
  torch::Tensor input = torch::zeros({B, mo.input_size()}, to);
  input.select(1, d + 3).fill_(1.0);  // start flag
  // The incumbent (model.h): x*, its value and fidelity; the centre before any observation.
  const bool relative = mo.proposal == optim::learned::Proposal::kIncumbent;
  torch::Tensor best_x = torch::full({B, d}, 0.5, to), best_y = torch::zeros({B}, to);
  torch::Tensor best_m = torch::full({B}, -1, torch::kInt64);
  if (relative) input.slice(1, d + 4, 2 * d + 4).fill_(0.5);
  const torch::Tensor ones = torch::ones({B, 1}, to), zeros = torch::zeros({B, 1}, to);
  std::vector<torch::Tensor> ys;
  torch::Tensor incumbent = torch::full({B}, kIncumbentStart, to);
  Rollout r;
  r.total = torch::zeros({B}, to);
  r.lc.assign(M > 1 ? Bs * Ts : 0, 0.0);
  r.spent.assign(M > 1 ? Bs : 0, 0.0);
  std::vector<double> spent_in(Bs), fid(Bs);
  std::vector<int64_t> ms(Bs);
  for (int t = 0; t < T; ++t) {
    std::tie(h, c) = net->cell1(input, std::make_tuple(h, c));
    const torch::Tensor out = net->head1(h);
    torch::Tensor u = out.slice(1, 0, d);
    if (relative) {
      u = u + torch::clamp(torch::logit(best_x, 1e-6), -optim::learned::kMaxLogit, optim::learned::kMaxLogit);
    }
    if (reparameterize) {
      for (auto& e : eps) e = standard_normal(rng);
      const torch::Tensor e = torch::from_blob(eps.data(), {B, d}, torch::kFloat64).to(to).clone();
      u = u + out.slice(1, d).clamp(detail::kMinLogSd, detail::kMaxLogSd).exp() * e;
    }
    const torch::Tensor x = torch::sigmoid(u);
    torch::Tensor y, l, fcol = ones;
    if (M == 1) {
      y = level[0](x);
      switch (loss) {
        case Loss::kSum: l = y; break;
        case Loss::kOi: l = torch::clamp_max(y - incumbent, 0.0); break;
        case Loss::kMin:
        case Loss::kEi: l = torch::zeros_like(y); break;
      }
      incumbent = torch::minimum(incumbent, y);
    } else {
      // Second level: [x_t, spent / cost_scale] -> fidelity m_t.
      for (size_t b = 0; b < Bs; ++b) spent_in[b] = r.spent[b] / mo.cost_scale;
      const torch::Tensor w = torch::cat(
          {x.detach(), torch::from_blob(spent_in.data(), {B, 1}, torch::kFloat64).to(to).clone()}, 1);
      std::tie(h2, c2) = net->cell2(w, std::make_tuple(h2, c2));
      const torch::Tensor logsm = torch::log_softmax(net->head2(h2), 1);
      const torch::Tensor idx = sample_fidelities(logsm, rng);
      std::copy(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + B, ms.begin());
      r.logps.push_back(logsm.gather(1, idx).squeeze(1));
      r.ents.push_back(-(logsm.exp() * logsm).sum(1));
      const torch::Tensor m_t = idx.squeeze(1);
      y = torch::zeros({B}, to);
      for (int m = 0; m < M; ++m) y = y + (m_t == m).to(to.dtype()) * level[static_cast<size_t>(m)](x);
      const torch::Tensor target = (m_t == M - 1).to(to.dtype());
      switch (loss) {
        case Loss::kSum: l = target * y + (1.0 - target) * incumbent; break;
        case Loss::kOi: l = target * torch::clamp_max(y - incumbent, 0.0); break;
        case Loss::kMin:
        case Loss::kEi: l = torch::zeros({B}, to); break;
      }
      incumbent = incumbent + target * torch::clamp_max(y - incumbent, 0.0);  // min over target results
      for (size_t b = 0; b < Bs; ++b) {
        const double cost = fs[b].costs[static_cast<size_t>(ms[b])];
        const double before = r.spent[b];
        r.spent[b] += cost;
        r.lc[b * Ts + static_cast<size_t>(t)] =
            budget > 0 ? (std::max(budget, r.spent[b]) - std::max(budget, before)) / c_target : cost / c_target;
        fid[b] = static_cast<double>(ms[b]) / static_cast<double>(M - 1);
      }
      fcol = torch::from_blob(fid.data(), {B, 1}, torch::kFloat64).to(to).clone();
    }
    {
      const torch::Tensor m_now = M == 1 ? torch::zeros({B}, torch::kInt64) : torch::from_blob(ms.data(), {B}, torch::kInt64).clone();
      const torch::Tensor replace = (m_now > best_m) | ((m_now == best_m) & (y.detach() < best_y.detach()));
      best_x = torch::where(replace.unsqueeze(1), x, best_x);
      best_y = torch::where(replace, y, best_y);
      best_m = torch::where(replace, m_now, best_m);
    }
    if (loss == Loss::kMin && t + 1 == T) l = incumbent;
    r.losses.push_back(l);
    if (loss != Loss::kMin) r.total = r.total + l;
    ys.push_back(y);
    if (t + 1 == T) break;
    // The next input: x, y normalized online (as OnlineNormalizer, differentiably), fidelity, flag 0.
    const auto [yn, gap] = normalized(ys, zeros);
    std::vector<torch::Tensor> parts = detach_inputs
                                           ? std::vector<torch::Tensor>{x.detach(), yn.detach(), gap.detach(), fcol, zeros}
                                           : std::vector<torch::Tensor>{x, yn, gap, fcol, zeros};
    if (relative) parts.push_back(detach_inputs ? best_x.detach() : best_x);
    input = torch::cat(parts, 1);
  }
  if (loss == Loss::kMin) r.total = incumbent;
  return r;
}

}  // namespace

double unrolled_loss(LearnedOptimizer& model, const std::vector<MultiFidelityFunction>& functions, Loss loss,
                     int horizon, uint64_t noise_seed, bool reparameterize, bool backward, bool detach_inputs) {
  const auto& o = model.options();
  MD_CHECK(o.fidelities == 1, "unrolled_loss is the single-fidelity loss (the model has ", o.fidelities,
           " fidelities; GradientTrainer trains those with the hybrid)");
  MD_CHECK(loss != Loss::kEi,
           "gradient-based meta-training supports the losses min, sum, oi (ei needs a GP "
           "posterior; use --method reinforce)");
  MD_CHECK(!functions.empty(), "unrolled_loss: no functions");
  MD_CHECK(horizon >= 1, "unrolled_loss: horizon must be >= 1, got ", horizon);
  for (const auto& f : functions) {
    MD_CHECK(f.target().dim == o.dim, "unrolled_loss: a function has dimension ", f.target().dim, ", the model ",
             o.dim);
  }
  std::optional<torch::NoGradGuard> no_grad;
  if (!backward) no_grad.emplace();
  const Rollout r = rollout(model, functions, loss, horizon, noise_seed, reparameterize, detach_inputs, 0.0);
  const torch::Tensor l = r.total.mean() / static_cast<double>(horizon);
  if (backward) l.backward();
  return l.item<double>();
}

namespace {

/// The hybrid's update for M > 1 (see the header): the first level's pathwise gradient of
/// lambda * sum_t l_t, the second level's REINFORCE on the same per-step losses as the REINFORCE
/// trainer (eq. 8: lambda l_t + (1 - lambda) c_t, reward-to-go, leave-one-out baseline, entropy
/// bonus). The second level reads x_t detached: the score term of m_t's probability with respect
/// to the first level's weights is dropped (lower variance; the first level still sees the
/// consequences of every fidelity choice through its inputs). Accumulates the gradients; returns
/// (mean loss per episode, mean cost per episode).
std::pair<double, double> hybrid_backward(LearnedOptimizer& model, const std::vector<MultiFidelityFunction>& fs,
                                          const TrainerOptions& o, uint64_t noise_seed) {
  const int T = o.horizon;
  const auto B = static_cast<int64_t>(fs.size());
  const auto Bs = fs.size(), Ts = static_cast<size_t>(T);
  const double lam = o.lambda;
  const Rollout r = rollout(model, fs, o.loss, T, noise_seed, o.reparameterize, o.detach_inputs, o.budget);
  // First level: the pathwise part. Second level: REINFORCE on the detached per-step losses.
  const torch::Tensor L = torch::stack(r.losses, 1);  // [B, T]
  const torch::Tensor Lc = L.detach().to(torch::kFloat64).contiguous();
  const double* lp = Lc.data_ptr<double>();
  std::vector<double> G(Bs * Ts);
  double mean_loss = 0.0, mean_cost = 0.0;
  for (size_t b = 0; b < Bs; ++b) {
    const std::span<double> g(G.data() + b * Ts, Ts);  // rewards, then their reward-to-go in place
    for (size_t t = Ts; t-- > 0;) {
      g[t] = -(lam * lp[b * Ts + t] + (1.0 - lam) * r.lc[b * Ts + t]);
      mean_loss -= g[t];
    }
    reward_to_go(g, o.gamma, g);
    mean_cost += r.spent[b];
  }
  std::vector<float> adv = loo_advantages(G, Bs, Ts, Bs);
  const torch::Tensor A = torch::from_blob(adv.data(), {T, B}, torch::kFloat32).to(L.options());
  const torch::Tensor surrogate = lam * L.sum(1).mean() / static_cast<double>(T) -
                                  (torch::stack(r.logps) * A).sum(0).mean() / static_cast<double>(T) -
                                  o.entropy * torch::stack(r.ents).mean();
  surrogate.backward();
  return {mean_loss / static_cast<double>(Bs), mean_cost / static_cast<double>(Bs)};
}

}  // namespace

// ---- GradientTrainer ---------------------------------------------------------------------------

GradientTrainer::GradientTrainer(TrainerOptions options) : Trainer(std::move(options)) {
  State& s = *state_;
  if (!s.o.reparameterize) {
    // Deterministic proposals: the log-sd half of the head is unused in training; pin it at the
    // minimum so that every consumer's sampling is the mean (it receives no gradient after this).
    torch::NoGradGuard ng;
    auto& head = s.model.impl().net->head1;
    head->weight.slice(0, s.o.model.dim).zero_();
    head->bias.slice(0, s.o.model.dim).fill_(detail::kMinLogSd);
  }
}

TrainingProgress GradientTrainer::step() {
  State& s = *state_;
  const TrainerOptions& o = s.o;
  auto& net = s.model.impl().net;
  net->train();
  std::vector<MultiFidelityFunction> fs;
  fs.reserve(static_cast<size_t>(o.batch));
  for (int b = 0; b < o.batch; ++b) fs.push_back(sample_multi_fidelity(o.prior, o.fidelity, s.rng));
  const uint64_t noise_seed = s.rng();
  s.adam->zero_grad();
  double mean_loss = 0.0, mean_cost = 0.0;
  if (o.model.fidelities == 1) {
    const double l = unrolled_loss(s.model, fs, o.loss, o.horizon, noise_seed, o.reparameterize, true, o.detach_inputs);
    mean_loss = l * o.horizon;
    mean_cost = o.horizon * o.model.costs.back();
  } else {
    std::tie(mean_loss, mean_cost) = hybrid_backward(s.model, fs, o, noise_seed);
  }
  s.norms.level1_lstm = group_norm(net->cell1->parameters());
  s.norms.level1_head = group_norm(net->head1->parameters());
  if (net->cell2) {
    s.norms.level2_lstm = group_norm(net->cell2->parameters());
    s.norms.level2_head = group_norm(net->head2->parameters());
  }
  // Each level clipped on its own: the REINFORCE gradient of the second level must not shrink the
  // first level's pathwise one.
  torch::nn::utils::clip_grad_norm_(net->level1_parameters(), o.clip);
  if (net->cell2) torch::nn::utils::clip_grad_norm_(net->level2_parameters(), o.clip);
  s.adam->step();
  ++s.iteration;
  TrainingProgress p;
  p.iteration = s.iteration;
  p.surrogate = mean_loss / o.horizon;
  p.mean_loss = mean_loss;
  p.mean_cost = mean_cost;
  return p;
}

}  // namespace metadial::meta
