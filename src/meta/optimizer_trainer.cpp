// REINFORCE meta-training of the two-level LSTM optimizer on GP-prior functions.
#include "metadial/meta/optimizer_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <span>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/core/returns.h"
#include "metadial/nn/optim.h"
#include "metadial/optim/acquisition.h"
#include "metadial/optim/gp.h"
#include "meta/detail/trainer_common.h"
#include "optim/learned/detail/network.h"

namespace metadial::meta {

using optim::learned::OnlineNormalizer;
using optim::learned::Rollout;
using optim::learned::squash;
namespace detail = optim::learned::detail;
namespace {

/// I_0: the incumbent before any target-fidelity result (one sd above the normalized mean).
constexpr double kIncumbentStart = 1.0;

double group_norm(const std::vector<torch::Tensor>& params) {
  double s = 0.0;
  for (const auto& p : params) {
    if (p.grad().defined()) s += p.grad().pow(2).sum().item<double>();
  }
  return std::sqrt(s);
}

std::vector<torch::Tensor> cell_params(const torch::nn::LSTMCell& c) { return c ? c->parameters() : std::vector<torch::Tensor>{}; }
std::vector<torch::Tensor> head_params(const torch::nn::Linear& l) { return l ? l->parameters() : std::vector<torch::Tensor>{}; }

// Expected improvement of x below `best` under a GP on the target observations (xs row-major).
double ei_at(const std::vector<double>& xs, const std::vector<double>& ys, std::span<const double> x, double best,
             double lengthscale) {
  const size_t d = x.size();
  double mean = 0.0, var = 1.0;
  if (!ys.empty()) {
    optim::GpOptions go;
    go.standardize = false;
    optim::GaussianProcess gp(d, go);
    optim::GpHyperparameters h;
    h.amplitude = 1.0;
    h.lengthscales.assign(d, lengthscale);
    h.noise = 1e-6;
    gp.condition(xs, ys, h);
    const optim::GpPrediction p = gp.predict(x);
    mean = p.mean;
    var = p.variance;
  }
  return optim::expected_improvement(mean, std::sqrt(std::max(var, 1e-12)), best).value;
}

/// The meta-training prior's families with their parameter ranges (the model card's "families").
nlohmann::json prior_families(const GpPriorOptions& p) {
  std::vector<std::string> kernels;
  for (auto k : p.kernels) kernels.emplace_back(to_string(k));
  const double scale = p.dim_scaled ? std::sqrt(static_cast<double>(p.dim)) : 1.0;
  nlohmann::json gp = {{"family", "gp"},
                       {"probability", 1.0 - p.bump_fraction},
                       {"form", "random Fourier features of a stationary GP sample, normalized to mean 0, sd 1"},
                       {"kernels", kernels},
                       {"lengthscale", {p.min_lengthscale * scale, p.max_lengthscale * scale}},
                       {"per_dimension_factor", {1.0 / p.anisotropy, p.anisotropy}},
                       {"variance", {p.min_variance, p.max_variance}},
                       {"features", p.n_features}};
  nlohmann::json out = nlohmann::json::array({gp});
  if (p.bump_fraction > 0) {
    out.push_back({{"family", "bumps"},
                   {"probability", p.bump_fraction},
                   {"form", "sum of n axis-aligned Gaussian bumps w exp(-|(x - c) / s|^2 / 2) plus background x a "
                            "gp-family sample, normalized to mean 0, sd 1"},
                   {"bumps", {1, p.max_bumps}},
                   {"centre", "uniform in the cube"},
                   {"width_per_dimension", {p.min_bump_width, p.max_bump_width}},
                   {"weight", "-U[0.3, 1] (basin) with probability 0.8, else +U[0.3, 1]"},
                   {"background", p.bump_background}});
  }
  return out;
}

}  // namespace

const char* to_string(Loss loss) {
  switch (loss) {
    case Loss::kMin: return "min";
    case Loss::kSum: return "sum";
    case Loss::kOi: return "oi";
    case Loss::kEi: return "ei";
  }
  return "?";
}

Loss loss_from_string(const std::string& name) {
  if (name == "min") return Loss::kMin;
  if (name == "sum") return Loss::kSum;
  if (name == "oi") return Loss::kOi;
  if (name == "ei") return Loss::kEi;
  throw InvalidArgument("unknown loss '" + name + "' (known: min, sum, oi, ei)");
}

void TrainerOptions::finalize() {
  fidelity.fidelities = model.fidelities;
  fidelity.validate();
  prior.dim = model.dim;
  prior.validate();
  model.costs = fidelity.cost_vector();
  MD_CHECK(horizon >= 1 && horizon <= 10000, "horizon must be in [1, 10000], got ", horizon);
  MD_CHECK(batch >= 2, "batch must be >= 2 (the baseline averages the other episodes), got ", batch);
  MD_CHECK(iterations >= 0, "iterations must be >= 0, got ", iterations);
  MD_CHECK(learning_rate > 0, "learning rate must be positive, got ", learning_rate);
  MD_CHECK(!learning_rate_final || (*learning_rate_final >= 0 && *learning_rate_final <= learning_rate),
           "the final learning rate must be in [0, ", learning_rate, "] (the initial one), got ",
           learning_rate_final.value_or(0.0));
  MD_CHECK(entropy >= 0, "entropy weight must be >= 0, got ", entropy);
  MD_CHECK(clip > 0, "clip must be positive, got ", clip);
  MD_CHECK(gamma > 0 && gamma <= 1, "gamma must be in (0, 1], got ", gamma);
  MD_CHECK(lambda >= 0 && lambda <= 1, "lambda must be in [0, 1], got ", lambda);
  MD_CHECK(budget >= 0, "budget must be >= 0 (0: no budget, eq. 6), got ", budget);
  MD_CHECK(eval_every >= 0 && n_validation >= 1, "eval_every must be >= 0 and n_validation >= 1");
  MD_CHECK(rollouts_per_function >= 1 && batch % rollouts_per_function == 0,
           "rollouts per function must divide the batch (", batch, "), got ", rollouts_per_function);
  MD_CHECK(method == Method::kReinforce || rollouts_per_function == 1,
           "rollouts per function is a REINFORCE option (the gradient method needs no baseline)");
  MD_CHECK(ppo_epochs >= 1 && ppo_epochs <= 100, "ppo epochs must be in [1, 100], got ", ppo_epochs);
  MD_CHECK(method == Method::kReinforce || ppo_epochs == 1, "ppo epochs is a REINFORCE option");
  MD_CHECK(ppo_clip > 0 && ppo_clip < 1, "ppo clip must be in (0, 1), got ", ppo_clip);
  MD_CHECK(!advantage_per_function || (method == Method::kReinforce && rollouts_per_function > 1),
           "advantages per function need REINFORCE with rollouts per function > 1 (a function's own episodes)");
  MD_CHECK(advantage_sd_floor >= 0 && advantage_sd_floor <= 1, "advantage sd floor must be in [0, 1], got ",
           advantage_sd_floor);
  MD_CHECK(advantage_sd_floor == 0 || advantage_per_function, "an advantage sd floor needs advantages per function");
  if (method == Method::kGradient) {
    MD_CHECK(loss != Loss::kEi, "--method gradient supports --loss min|sum|oi, not ei (use --method reinforce)");
  }
  model.cost_scale = budget > 0 ? budget : horizon * model.costs.back();
  model.validate();
}

std::vector<MultiFidelityFunction> held_out_functions(const TrainerOptions& options, int n, uint64_t seed) {
  GpPriorOptions p = options.prior;
  p.dim = options.model.dim;
  p.n_normalize = std::max(p.n_normalize, 2048);
  p.refine_steps = std::max(p.refine_steps, 100);
  FidelityOptions fo = options.fidelity;
  fo.fidelities = options.model.fidelities;
  Rng rng(derive_seed(seed, {0x7e57ULL}));
  std::vector<MultiFidelityFunction> out;
  for (int i = 0; i < n; ++i) out.push_back(sample_multi_fidelity(p, fo, rng));
  return out;
}

Trajectory run_model(const LearnedOptimizer& model, const MultiFidelityFunction& f, int steps, uint64_t seed,
                     bool greedy) {
  const int d = model.dim(), M = model.n_fidelities();
  MD_CHECK(f.target().dim == d, "run_model: the function has dimension ", f.target().dim, ", the model ", d);
  MD_CHECK(M == 1 || f.n_fidelities() == M, "run_model: the function has ", f.n_fidelities(), " fidelities, the model ", M);
  Rollout r(model);
  Rng rng(seed);
  Trajectory tr;
  std::vector<double> mu(static_cast<size_t>(d)), sd(static_cast<size_t>(d)), x(static_cast<size_t>(d));
  for (int t = 0; t < steps; ++t) {
    r.propose(mu, sd);
    for (size_t k = 0; k < x.size(); ++k) x[k] = squash(greedy ? mu[k] : mu[k] + sd[k] * standard_normal(rng));
    int m = 0;
    if (M > 1) {
      const auto p = r.fidelity_probs(x);
      if (greedy) {
        m = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
      } else {
        double u = uniform01(rng), acc = 0.0;
        m = M - 1;
        for (int k = 0; k < M; ++k) {
          acc += p[static_cast<size_t>(k)];
          if (u < acc) {
            m = k;
            break;
          }
        }
      }
    }
    const RffFunction& level = M == 1 ? f.target() : f.levels[static_cast<size_t>(m)];
    const double y = level.value(x);
    r.observe(x, m, y);
    tr.x.push_back(x);
    tr.fidelity.push_back(M == 1 ? f.n_fidelities() - 1 : m);
    tr.y.push_back(y);
    tr.target.push_back(f.target().value(x));
  }
  return tr;
}

ValidationResult validate(const LearnedOptimizer& model, const std::vector<MultiFidelityFunction>& functions,
                          int steps, uint64_t seed) {
  ValidationResult v;
  v.n = static_cast<int>(functions.size());
  std::vector<double> regrets;
  double cost = 0.0;
  for (size_t i = 0; i < functions.size(); ++i) {
    const auto& f = functions[i];
    const Trajectory tr = run_model(model, f, steps, derive_seed(seed, {i}));
    double inc = kIncumbentStart;
    for (size_t t = 0; t < tr.y.size(); ++t) {
      if (tr.fidelity[t] == f.n_fidelities() - 1) inc = std::min(inc, tr.target[t]);
      cost += f.costs[static_cast<size_t>(tr.fidelity[t])];
    }
    regrets.push_back(std::max(0.0, inc - f.target().minimum));
  }
  double s = 0, s2 = 0;
  for (double r : regrets) {
    s += r;
    s2 += r * r;
  }
  const double n = std::max<double>(1.0, static_cast<double>(regrets.size()));
  v.mean_regret = s / n;
  v.sem_regret = regrets.size() > 1 ? std::sqrt(std::max(0.0, s2 / n - v.mean_regret * v.mean_regret) / (n - 1)) : 0.0;
  v.mean_cost = cost / n;
  return v;
}

// ---- ReinforceTrainer ----------------------------------------------------------------------------

nlohmann::json load_initial_weights(LearnedOptimizer& model, const std::string& path) {
  const LearnedOptimizer from = LearnedOptimizer::load(path);
  const auto& a = model.options();
  const auto& b = from.options();
  auto differ = [&](const char* what, int want, int got) {
    if (want != got) {
      throw InvalidArgument(metadial::detail::concat("--init '", path, "': ", what, " ", got, " differs from this training's ",
                                           want, " (the model file must have the same dims, fidelities, hidden "
                                                 "and fidelity-hidden sizes)"));
    }
  };
  differ("dims", a.dim, b.dim);
  differ("fidelities", a.fidelities, b.fidelities);
  differ("hidden", a.hidden, b.hidden);
  if (a.proposal != b.proposal) {
    throw InvalidArgument(metadial::detail::concat("--init '", path, "': proposal '", to_string(b.proposal),
                                                   "' differs from this training's '", to_string(a.proposal), "'"));
  }
  if (a.fidelities > 1) differ("fidelity hidden", a.fidelity_hidden, b.fidelity_hidden);
  torch::NoGradGuard ng;
  const auto dst = model.impl().net->parameters();
  const auto src = from.impl().net->parameters();
  MD_CHECK(dst.size() == src.size(), "--init '", path, "': ", src.size(), " parameter tensors, expected ", dst.size());
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
  return from.card();
}

torch::Tensor sample_fidelities(const torch::Tensor& log_probs, Rng& rng) {
  const torch::Tensor p = log_probs.detach().exp().to(torch::kFloat64).contiguous();
  const int64_t B = p.size(0), M = p.size(1);
  const double* pp = p.data_ptr<double>();
  torch::Tensor out = torch::empty({B, 1}, torch::kInt64);
  int64_t* m = out.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const double r = uniform01(rng);
    double acc = 0.0;
    m[b] = M - 1;
    for (int64_t k = 0; k < M; ++k) {
      acc += pp[b * M + k];
      if (r < acc) {
        m[b] = k;
        break;
      }
    }
  }
  return out;
}

Trainer::Trainer(TrainerOptions options) : state_(std::make_unique<State>(std::move(options))) {
  State& s = *state_;
  if (!s.o.init.empty()) s.init_card = load_initial_weights(s.model, s.o.init);
  s.adam = std::make_unique<torch::optim::Adam>(s.model.impl().net->parameters(),
                                                torch::optim::AdamOptions(s.o.learning_rate));
}
Trainer::~Trainer() = default;
void Trainer::set_learning_rate(double lr) { nn::set_learning_rate(*state_->adam, lr); }
double Trainer::learning_rate() const { return nn::learning_rate(*state_->adam); }

double cosine_learning_rate(double lr, double lr_final, int it, int iterations) {
  return iterations <= 0 ? lr : nn::cosine_learning_rate(lr, lr_final, static_cast<double>(it) / iterations);
}
const GradientNorms& Trainer::last_gradient_norms() const { return state_->norms; }
const TrainerOptions& Trainer::options() const { return state_->o; }
const nlohmann::json& Trainer::init_card() const { return state_->init_card; }
LearnedOptimizer& Trainer::model() { return state_->model; }

std::unique_ptr<Trainer> make_trainer(TrainerOptions options) {
  if (options.method == Method::kGradient) return std::make_unique<GradientTrainer>(std::move(options));
  return std::make_unique<ReinforceTrainer>(std::move(options));
}

ReinforceTrainer::ReinforceTrainer(TrainerOptions options) : Trainer(std::move(options)) {}

TrainingProgress ReinforceTrainer::step() {
  State& s = *state_;
  const TrainerOptions& o = s.o;
  const int B = o.batch, T = o.horizon, d = o.model.dim, M = o.model.fidelities;
  const auto Bs = static_cast<size_t>(B), Ts = static_cast<size_t>(T), ds = static_cast<size_t>(d);
  auto& net = s.model.impl().net;
  net->train();

  std::vector<MultiFidelityFunction> fs;
  fs.reserve(Bs);
  const int K = o.rollouts_per_function;
  for (int b = 0; b < B; ++b) {
    if (b % K == 0) {
      fs.push_back(sample_multi_fidelity(o.prior, o.fidelity, s.rng));
    } else {
      fs.push_back(fs.back());
    }
  }
  const double c_target = o.model.costs.back();
  const double lam = M > 1 ? o.lambda : 1.0;

  torch::Tensor h1 = torch::zeros({B, o.model.hidden}), c1 = torch::zeros({B, o.model.hidden});
  torch::Tensor h2, c2;
  if (M > 1) {
    h2 = torch::zeros({B, o.model.fidelity_hidden});
    c2 = torch::zeros({B, o.model.fidelity_hidden});
  }
  const int in1 = o.model.input_size();
  std::vector<float> input(Bs * static_cast<size_t>(in1), 0.0f);
  const bool relative = o.model.proposal == optim::learned::Proposal::kIncumbent;
  std::vector<double> best_x(Bs * ds, 0.5), best_y(Bs, 0.0);  // the incumbent (model.h)
  std::vector<int> best_m(Bs, -1);
  std::vector<float> shift(Bs * ds, 0.0f);  // logit(x*), the mean's offset (kIncumbent)
  for (size_t b = 0; b < Bs; ++b) {
    float* row = input.data() + b * static_cast<size_t>(in1);
    row[ds + 3] = 1.0f;  // start flag
    if (relative) std::fill(row + ds + 4, row + 2 * ds + 4, 0.5f);
  }
  std::vector<OnlineNormalizer> normalizers(Bs);
  std::vector<double> incumbent(Bs, kIncumbentStart), spent(Bs, 0.0);
  std::vector<double> lo(Bs * Ts, 0.0), lc(Bs * Ts, 0.0);
  std::vector<std::vector<double>> obs_x(Bs), obs_y(Bs);
  std::vector<torch::Tensor> logps, ents;
  // What a replay (ppo_epochs > 1) needs: each step's input, incumbent shift, draw and fidelity input.
  std::vector<torch::Tensor> ins, shifts, us, ws, idxs;
  std::vector<float> eps(Bs * ds), xs_f(Bs * ds), w2(Bs * (ds + 1));
  std::vector<int64_t> ms(Bs);
  std::vector<double> x(ds);
  const double half_log_2pi = 0.5 * std::log(2.0 * std::numbers::pi);
  const bool replay = o.ppo_epochs > 1;
  // One step of each level, shared by the rollout and its replay (ppo_epochs > 1). The first level
  // gives the mean and log-sd of u (the mean offset by the incumbent's logit for kIncumbent models).
  const auto level1 = [&](const torch::Tensor& in, const torch::Tensor& shift_t, torch::Tensor& h, torch::Tensor& c) {
    std::tie(h, c) = net->cell1(in, std::make_tuple(h, c));
    const torch::Tensor out = net->head1(h);
    torch::Tensor mu = out.slice(1, 0, d);
    if (relative) mu = mu + shift_t;
    return std::make_pair(mu, out.slice(1, d).clamp(detail::kMinLogSd, detail::kMaxLogSd));
  };
  // The Gaussian's log-density at u and its entropy, per episode.
  const auto gauss_logp = [&](const torch::Tensor& u, const torch::Tensor& mu, const torch::Tensor& log_sd) {
    return (-0.5 * ((u - mu) / log_sd.exp()).pow(2) - log_sd - half_log_2pi).sum(1);
  };
  const auto gauss_ent = [&](const torch::Tensor& log_sd) { return (log_sd + 0.5 + half_log_2pi).sum(1); };
  // The second level's log-softmax over the fidelities from w = (x_t, spent / cost_scale).
  const auto level2 = [&](const torch::Tensor& w, torch::Tensor& h, torch::Tensor& c) {
    std::tie(h, c) = net->cell2(w, std::make_tuple(h, c));
    return torch::log_softmax(net->head2(h), 1);
  };
  // Adds the chosen fidelities' log-probabilities and the categorical's entropy to logp and ent.
  const auto add_fidelity = [](const torch::Tensor& logsm, const torch::Tensor& idx, torch::Tensor& logp,
                               torch::Tensor& ent) {
    logp = logp + logsm.gather(1, idx).squeeze(1);
    ent = ent - (logsm.exp() * logsm).sum(1);
  };

  for (int t = 0; t < T; ++t) {
    const torch::Tensor in = torch::from_blob(input.data(), {B, in1}, torch::kFloat32).clone();
    torch::Tensor shift_t;
    if (relative) shift_t = torch::from_blob(shift.data(), {B, d}, torch::kFloat32).clone();
    const auto [mu, log_sd] = level1(in, shift_t, h1, c1);
    for (auto& e : eps) e = static_cast<float>(standard_normal(s.rng));
    const torch::Tensor eps_t = torch::from_blob(eps.data(), {B, d}, torch::kFloat32);
    const torch::Tensor u = (mu + log_sd.exp() * eps_t).detach();
    torch::Tensor logp = gauss_logp(u, mu, log_sd);
    torch::Tensor ent = gauss_ent(log_sd);
    if (replay) {
      ins.push_back(in);
      shifts.push_back(shift_t);
      us.push_back(u);
    }
    const torch::Tensor xt = torch::sigmoid(u).contiguous();
    std::copy(xt.data_ptr<float>(), xt.data_ptr<float>() + Bs * ds, xs_f.begin());
    if (M > 1) {
      for (size_t b = 0; b < Bs; ++b) {
        for (size_t k = 0; k < ds; ++k) w2[b * (ds + 1) + k] = xs_f[b * ds + k];
        w2[b * (ds + 1) + ds] = static_cast<float>(spent[b] / o.model.cost_scale);
      }
      const torch::Tensor w = torch::from_blob(w2.data(), {B, d + 1}, torch::kFloat32).clone();
      const torch::Tensor logsm = level2(w, h2, c2);
      const torch::Tensor idx = sample_fidelities(logsm, s.rng);
      std::copy(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + B, ms.begin());
      add_fidelity(logsm, idx, logp, ent);
      if (replay) {
        ws.push_back(w);
        idxs.push_back(idx);
      }
    } else {
      std::fill(ms.begin(), ms.end(), 0);
    }
    logps.push_back(logp);
    ents.push_back(ent);

    for (size_t b = 0; b < Bs; ++b) {
      for (size_t k = 0; k < ds; ++k) x[k] = xs_f[b * ds + k];
      const auto& f = fs[b];
      const int m = static_cast<int>(ms[b]);
      const bool is_target = m == f.n_fidelities() - 1;
      const double y = f.levels[static_cast<size_t>(m)].value(x);
      const double prev = incumbent[b];
      double l = 0.0;
      switch (o.loss) {
        case Loss::kMin: break;
        case Loss::kSum: l = is_target ? y : prev; break;
        case Loss::kOi: l = is_target ? std::min(y - prev, 0.0) : 0.0; break;
        case Loss::kEi: l = -ei_at(obs_x[b], obs_y[b], x, prev, f.target().lengthscale); break;
      }
      if (is_target) {
        incumbent[b] = std::min(prev, y);
        obs_x[b].insert(obs_x[b].end(), x.begin(), x.end());
        obs_y[b].push_back(y);
      }
      if (o.loss == Loss::kMin && t == T - 1) l = incumbent[b];
      lo[b * Ts + static_cast<size_t>(t)] = l;
      const double c = f.costs[static_cast<size_t>(m)];
      const double before = spent[b];
      spent[b] += c;
      lc[b * Ts + static_cast<size_t>(t)] =
          o.budget > 0 ? (std::max(o.budget, spent[b]) - std::max(o.budget, before)) / c_target : c / c_target;
      const auto [yn, gap] = normalizers[b].add(y);
      float* row = input.data() + b * static_cast<size_t>(in1);
      for (size_t k = 0; k < ds; ++k) row[k] = static_cast<float>(x[k]);
      row[ds] = static_cast<float>(yn);
      row[ds + 1] = static_cast<float>(gap);
      row[ds + 2] = M > 1 ? static_cast<float>(m) / static_cast<float>(M - 1) : 1.0f;
      row[ds + 3] = 0.0f;
      if (optim::learned::replaces_incumbent(m, y, best_m[b], best_y[b])) {
        best_m[b] = m;
        best_y[b] = y;
        std::copy(x.begin(), x.end(), best_x.begin() + static_cast<std::ptrdiff_t>(b * ds));
      }
      if (relative) {
        for (size_t k = 0; k < ds; ++k) {
          row[ds + 4 + k] = static_cast<float>(best_x[b * ds + k]);
          shift[b * ds + k] = static_cast<float>(optim::learned::clamped_logit(best_x[b * ds + k]));
        }
      }
    }
  }

  // Rewards, reward-to-go, leave-one-out baseline, standardized advantages.
  std::vector<double> G(Bs * Ts);
  double mean_loss = 0.0, mean_cost = 0.0;
  for (size_t b = 0; b < Bs; ++b) {
    const std::span<double> g(G.data() + b * Ts, Ts);  // rewards, then their reward-to-go in place
    for (size_t t = Ts; t-- > 0;) {
      g[t] = -(lam * lo[b * Ts + t] + (M > 1 ? (1.0 - lam) * lc[b * Ts + t] : 0.0));
      mean_loss -= g[t];
    }
    reward_to_go(g, o.gamma, g);
    mean_cost += spent[b];
  }
  mean_loss /= B;
  mean_cost /= B;
  // Leave-one-out baseline within groups of `group` episodes (the whole batch when K = 1).
  std::vector<float> adv =
      loo_advantages(G, Bs, Ts, K > 1 ? static_cast<size_t>(K) : Bs, o.advantage_per_function, o.advantage_sd_floor);
  const torch::Tensor A = torch::from_blob(adv.data(), {T, B}, torch::kFloat32);
  const torch::Tensor logp_all = torch::stack(logps);  // [T, B]
  const auto update = [&](const torch::Tensor& loss) {
    s.adam->zero_grad();
    loss.backward();
    s.norms.level1_lstm = group_norm(cell_params(net->cell1));
    s.norms.level1_head = group_norm(head_params(net->head1));
    s.norms.level2_lstm = group_norm(cell_params(net->cell2));
    s.norms.level2_head = group_norm(head_params(net->head2));
    torch::nn::utils::clip_grad_norm_(net->parameters(), o.clip);
    s.adam->step();
  };
  torch::Tensor surrogate;
  double clip_fraction = 0.0;
  if (!replay) {
    surrogate = -(logp_all * A).sum(0).mean() / static_cast<double>(T) - o.entropy * torch::stack(ents).mean();
    update(surrogate);
  } else {
    // PPO: the rollout's log-probabilities, then o.ppo_epochs - 1 replays of the same episodes
    // through the updated network (the same inputs, draws and fidelities, from zero states).
    const torch::Tensor old_logp = logp_all.detach();
    const auto replay_policy = [&] {
      torch::Tensor rh1 = torch::zeros({B, o.model.hidden}), rc1 = torch::zeros({B, o.model.hidden}), rh2, rc2;
      if (M > 1) {
        rh2 = torch::zeros({B, o.model.fidelity_hidden});
        rc2 = torch::zeros({B, o.model.fidelity_hidden});
      }
      std::vector<torch::Tensor> lp, en;
      for (size_t t = 0; t < Ts; ++t) {
        const auto [mu, log_sd] = level1(ins[t], shifts[t], rh1, rc1);
        torch::Tensor l = gauss_logp(us[t], mu, log_sd), e = gauss_ent(log_sd);
        if (M > 1) add_fidelity(level2(ws[t], rh2, rc2), idxs[t], l, e);
        lp.push_back(l);
        en.push_back(e);
      }
      return std::make_pair(torch::stack(lp), torch::stack(en));
    };
    for (int epoch = 0; epoch < o.ppo_epochs; ++epoch) {
      const auto [lp, en] = epoch == 0 ? std::make_pair(logp_all, torch::stack(ents)) : replay_policy();
      const torch::Tensor loss = -clipped_objective(lp, old_logp, A, o.ppo_clip).sum(0).mean() / static_cast<double>(T) -
                                 o.entropy * en.mean();
      update(loss);
      if (epoch == 0) surrogate = loss;
      if (epoch + 1 == o.ppo_epochs) {
        clip_fraction = ((lp.detach() - old_logp).exp() - 1.0).abs().gt(o.ppo_clip).to(torch::kFloat64).mean().item<double>();
      }
    }
  }
  ++s.iteration;

  TrainingProgress p;
  p.iteration = s.iteration;
  p.surrogate = surrogate.item<double>();
  p.mean_loss = mean_loss;
  p.mean_cost = mean_cost;
  p.clip_fraction = clip_fraction;
  return p;
}

LearnedOptimizer train(TrainerOptions options, const std::function<void(const TrainingProgress&)>& on_progress) {
  const std::unique_ptr<Trainer> trainer = make_trainer(std::move(options));
  const TrainerOptions& o = trainer->options();
  LearnedOptimizer& trained = trainer->model();
  auto update = [&] { return trainer->step(); };
  const auto held_out = held_out_functions(o, o.n_validation, derive_seed(o.seed, {3}));
  const uint64_t val_seed = derive_seed(o.seed, {4});
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto& net = trained.impl().net;
  // A continued training (--init) counts the iterations and seconds of the model it started from.
  int64_t prior_iterations = 0;
  double prior_seconds = 0.0;
  if (!o.init.empty()) {
    const nlohmann::json& c = trainer->init_card();
    prior_iterations = c.value("total_iterations", c.value("iterations_run", int64_t{0}));
    prior_seconds = c.value("total_train_seconds", c.value("train_seconds", 0.0));
  }

  trained.refresh_inference_weights();
  const ValidationResult initial = validate(trained, held_out, o.horizon, val_seed);
  ValidationResult best = initial;
  int best_iteration = 0;
  std::vector<torch::Tensor> best_weights;
  for (const auto& p : net->parameters()) best_weights.push_back(p.detach().clone());
  nlohmann::json history = nlohmann::json::array();
  history.push_back({{"iteration", 0}, {"regret", initial.mean_regret}, {"cost", initial.mean_cost}});
  auto card_of = [&](int it) -> nlohmann::json {
    return {{"method", to_string(o.method)},
      {"loss", to_string(o.loss)},
      {"dims", o.model.dim},
      {"fidelities", o.model.fidelities},
      {"costs", o.model.costs},
      {"horizon", o.horizon},
      {"batch", o.batch},
      {"rollouts_per_function", o.rollouts_per_function},
      {"ppo_epochs", o.ppo_epochs},
      {"ppo_clip", o.ppo_clip},
      {"advantage_per_function", o.advantage_per_function},
      {"advantage_sd_floor", o.advantage_sd_floor},
      {"iterations_run", it},
      {"total_iterations", prior_iterations + it},
      {"total_train_seconds", prior_seconds + elapsed()},
      {"learning_rate", o.learning_rate},
      {"learning_rate_final", o.learning_rate_final ? nlohmann::json(*o.learning_rate_final) : nlohmann::json()},
      {"init", o.init},
      {"entropy", o.method == Method::kReinforce || o.model.fidelities > 1 ? o.entropy : 0.0},  // the hybrid: level 2
      {"reparameterize", o.method == Method::kGradient && o.reparameterize},
      {"detach_inputs", o.method == Method::kGradient && o.detach_inputs},
      {"clip", o.clip},
      {"gamma", o.gamma},
      {"lambda", o.model.fidelities > 1 ? o.lambda : 1.0},
      {"budget", o.budget},
      {"seed", o.seed},
      {"hidden", o.model.hidden},
      {"fidelity_hidden", o.model.fidelity_hidden},
      {"prior",
       {{"lengthscale", {o.prior.min_lengthscale, o.prior.max_lengthscale}},
        {"variance", {o.prior.min_variance, o.prior.max_variance}},
        {"lengthscale_scaled_by_sqrt_dim", o.prior.dim_scaled},
        {"n_features", o.prior.n_features},
        {"anisotropy", o.prior.anisotropy},
        {"families", prior_families(o.prior)}}},
      {"low_correlation", o.fidelity.low_correlation},
      {"train_seconds", elapsed()},
      {"n_parameters", trained.n_parameters()},
      {"proposal", optim::learned::to_string(o.model.proposal)},
      {"validation",
       {{"functions", o.n_validation},
        {"steps", o.horizon},
        {"initial_regret", initial.mean_regret},
        {"regret", best.mean_regret},
        {"regret_sem", best.sem_regret},
        {"mean_cost", best.mean_cost},
        {"best_iteration", best_iteration},
        {"history", history}}}};
  };
  // The best weights so far, with their card, to o.checkpoint (the current weights are kept).
  auto write_checkpoint = [&](int it) {
    if (o.checkpoint.empty()) return;
    torch::NoGradGuard ng;
    auto params = net->parameters();
    std::vector<torch::Tensor> current;
    for (size_t i = 0; i < params.size(); ++i) {
      current.push_back(params[i].detach().clone());
      params[i].copy_(best_weights[i]);
    }
    const nlohmann::json saved = trained.card();
    trained.set_card(card_of(it));
    trained.save(o.checkpoint);
    trained.set_card(saved);
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(current[i]);
  };
  if (on_progress) {
    TrainingProgress p;
    p.validation = initial;
    on_progress(p);
  }
  int it = 0;
  while (it < o.iterations && !(o.time_limit_s > 0 && elapsed() > o.time_limit_s)) {
    if (o.learning_rate_final) trainer->set_learning_rate(cosine_learning_rate(o.learning_rate, *o.learning_rate_final, it, o.iterations));
    TrainingProgress p = update();
    p.learning_rate = trainer->learning_rate();
    ++it;
    const bool last = it == o.iterations || (o.time_limit_s > 0 && elapsed() > o.time_limit_s);
    if ((o.eval_every > 0 && it % o.eval_every == 0) || last) {
      trained.refresh_inference_weights();
      p.validation = validate(trained, held_out, o.horizon, val_seed);
      history.push_back({{"iteration", it}, {"regret", p.validation->mean_regret}, {"cost", p.validation->mean_cost}});
      if (p.validation->mean_regret < best.mean_regret || !o.keep_best) {
        best = *p.validation;
        best_iteration = it;
        torch::NoGradGuard ng;
        auto params = net->parameters();
        for (size_t i = 0; i < params.size(); ++i) best_weights[i] = params[i].detach().clone();
      }
      write_checkpoint(it);
    }
    p.elapsed_s = elapsed();
    if (on_progress) on_progress(p);
  }
  {
    torch::NoGradGuard ng;
    auto params = net->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_weights[i]);
  }
  trained.refresh_inference_weights();
  trained.set_card(card_of(it));
  return std::move(trained);
}

}  // namespace metadial::meta
