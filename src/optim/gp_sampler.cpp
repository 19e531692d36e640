#include "metadial/optim/gp_sampler.h"

#include <LBFGSB.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "metadial/optim/gp.h"
#include "metadial/optim/lhs_sampler.h"
#include "metadial/optim/qmc.h"
#include "metadial/optim/random_sampler.h"
#include "metadial/optim/sobol_sampler.h"
#include "optim/detail/observations.h"
#include "optim/detail/options.h"
#include "optim/detail/sampler_util.h"

namespace metadial::optim {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

using detail::collect_observations;
using detail::Observations;

// Maximizes the acquisition over the float dimensions of a start point with L-BFGS-B in the
// unit box, the discrete dimensions held fixed. Returns the best point seen and its value.
class LocalRefiner {
 public:
  LocalRefiner(const GaussianProcess& gp, AcquisitionKind kind, double best, std::vector<size_t> float_dims)
      : gp_(gp), kind_(kind), best_(best), float_dims_(std::move(float_dims)), grad_(gp.dim()) {}

  std::pair<std::vector<double>, double> refine(const std::vector<double>& start, double start_value) {
    point_ = start;
    best_point_ = start;
    best_value_ = start_value;
    const auto m = static_cast<Eigen::Index>(float_dims_.size());
    Eigen::VectorXd v(m);
    for (Eigen::Index i = 0; i < m; ++i) v(i) = start[float_dims_[static_cast<size_t>(i)]];
    LBFGSpp::LBFGSBParam<double> param;
    param.max_iterations = 30;
    param.epsilon = 1e-6;
    param.epsilon_rel = 1e-6;
    param.delta = 1e-9;
    param.max_linesearch = 20;
    LBFGSpp::LBFGSBSolver<double> solver(param);
    double fx = 0.0;
    auto f = [this](const Eigen::VectorXd& z, Eigen::VectorXd& g) { return negative_acquisition(z, g); };
    try {
      solver.minimize(f, v, fx, Eigen::VectorXd::Zero(m), Eigen::VectorXd::Ones(m));
    } catch (const std::exception&) {
      // A failed line search (flat log-EI far from the data, a bound) ends the refinement;
      // the best point seen is kept.
    }
    return {best_point_, best_value_};
  }

 private:
  double negative_acquisition(const Eigen::VectorXd& z, Eigen::VectorXd& g) {
    for (size_t i = 0; i < float_dims_.size(); ++i) point_[float_dims_[i]] = z(static_cast<Eigen::Index>(i));
    const double a = acquisition_at(gp_, kind_, best_, point_, grad_);
    g.resize(z.size());
    if (!std::isfinite(a)) {
      g.setZero();
      return 1e300;
    }
    for (size_t i = 0; i < float_dims_.size(); ++i) g(static_cast<Eigen::Index>(i)) = -grad_[float_dims_[i]];
    if (a > best_value_) {
      best_value_ = a;
      best_point_ = point_;
    }
    return -a;
  }

  const GaussianProcess& gp_;
  AcquisitionKind kind_;
  double best_;
  std::vector<size_t> float_dims_;
  std::vector<double> grad_, point_, best_point_;
  double best_value_ = kNegInf;
};

}  // namespace

GpSamplerOptions GpSamplerOptions::from_json(const SamplerOptions& options) {
  detail::OptionReader reader(
      "gp", options, {"n_initial", "init", "n_candidates", "n_restarts", "n_local", "acquisition", "constant_liar"});
  GpSamplerOptions o;
  o.n_initial = static_cast<int>(reader.integer("n_initial", o.n_initial, 0, 1'000'000));
  const std::string init = reader.choice("init", to_string(o.init), {"sobol", "lhs", "random"});
  o.init = init == "lhs" ? InitDesign::kLhs : init == "random" ? InitDesign::kRandom : InitDesign::kSobol;
  o.n_candidates = static_cast<int>(reader.integer("n_candidates", o.n_candidates, 1, 10'000'000));
  o.n_restarts = static_cast<int>(reader.integer("n_restarts", o.n_restarts, 1, 1000));
  o.n_local = static_cast<int>(reader.integer("n_local", o.n_local, 0, 1000));
  o.acquisition = reader.choice("acquisition", to_string(o.acquisition), {"logei", "ei"}) == "ei"
                      ? AcquisitionKind::kEi
                      : AcquisitionKind::kLogEi;
  o.constant_liar = reader.boolean("constant_liar", o.constant_liar);
  o.validate();
  return o;
}

void GpSamplerOptions::validate() const {
  MD_CHECK(n_initial >= 0, "sampler 'gp': n_initial must be >= 0 (0 = default), got ", n_initial);
  MD_CHECK(n_candidates >= 1, "sampler 'gp': n_candidates must be >= 1, got ", n_candidates);
  MD_CHECK(n_restarts >= 1, "sampler 'gp': n_restarts must be >= 1, got ", n_restarts);
  MD_CHECK(n_local >= 0, "sampler 'gp': n_local must be >= 0, got ", n_local);
}

int GpSamplerOptions::initial_trials(size_t d) const {
  if (n_initial > 0) return n_initial;
  return static_cast<int>(std::min<size_t>(10, 2 * (d + 1)));
}

const char* to_string(InitDesign design) {
  switch (design) {
    case InitDesign::kLhs:
      return "lhs";
    case InitDesign::kRandom:
      return "random";
    case InitDesign::kSobol:
      break;
  }
  return "sobol";
}

GpSampler::GpSampler(GpSamplerOptions options) : options_(options) { options_.validate(); }

std::unique_ptr<Sampler> GpSampler::create(const SamplerOptions& options) {
  return std::make_unique<GpSampler>(GpSamplerOptions::from_json(options));
}

Suggestion GpSampler::suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) {
  detail::check_context(ctx, "gp");
  const space::SearchSpace& space = *ctx.space;
  const size_t d = space.size();
  if (d == 0) return detail::suggestion_at(ctx, {});
  const Observations obs = collect_observations(ctx, history);
  const int n_init = options_.initial_trials(d);

  // Initial design, and whenever fewer than 2 complete trials exist to fit a model to.
  if (ctx.trial_number < n_init || obs.y.size() < 2) {
    switch (options_.init) {
      case InitDesign::kLhs:
        return LhsSampler(LhsSamplerOptions{n_init}).suggest(ctx, history);
      case InitDesign::kRandom:
        return RandomSampler().suggest(ctx, history);
      case InitDesign::kSobol:
        break;
    }
    return SobolSampler().suggest(ctx, history);
  }

  Rng rng(ctx.seed);
  GpOptions gp_options;
  gp_options.n_restarts = options_.n_restarts;
  GaussianProcess gp(d, gp_options);
  gp.fit(obs.x, obs.y, rng);
  const double best = *std::min_element(obs.y.begin(), obs.y.end());
  if (options_.constant_liar && !obs.running.empty()) {
    std::vector<double> x = obs.x, y = obs.y;
    x.insert(x.end(), obs.running.begin(), obs.running.end());
    y.resize(x.size() / d, best);
    gp.condition(x, y, gp.hyperparameters());
  }

  // Candidates: uniform points, and perturbations of the best observed points (a quarter).
  const auto n_cand = static_cast<size_t>(options_.n_candidates);
  const size_t n_perturb = n_cand / 4;
  std::vector<double> cand;
  cand.reserve(n_cand * d);
  for (size_t c = 0; c < n_cand - n_perturb; ++c) {
    const std::vector<double> s = space.snap(detail::uniform_point(d, rng));
    cand.insert(cand.end(), s.begin(), s.end());
  }
  std::vector<size_t> order(obs.y.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return obs.y[a] < obs.y[b]; });
  const size_t n_top = std::min<size_t>(5, order.size());
  std::vector<double> p(d);
  for (size_t c = 0; c < n_perturb; ++c) {
    const double* base = obs.x.data() + order[c % n_top] * d;
    const double scale = std::pow(10.0, -3.0 + 2.0 * uniform01(rng));  // 0.001 .. 0.1
    for (size_t i = 0; i < d; ++i) {
      if (space.is_discrete(i)) {
        p[i] = uniform01(rng) < 1.0 / static_cast<double>(d) ? uniform01(rng) : base[i];
      } else {
        p[i] = std::clamp(base[i] + scale * standard_normal(rng), 0.0, 1.0);
      }
    }
    const std::vector<double> s = space.snap(p);
    cand.insert(cand.end(), s.begin(), s.end());
  }

  const size_t m = cand.size() / d;
  std::vector<double> means(m), vars(m), values(m);
  gp.predict_batch(cand, means, vars);
  for (size_t c = 0; c < m; ++c) {
    const double sd = std::sqrt(vars[c]);
    const double v = options_.acquisition == AcquisitionKind::kEi ? expected_improvement(means[c], sd, best).value
                                                                  : log_expected_improvement(means[c], sd, best).value;
    values[c] = std::isnan(v) ? kNegInf : v;
  }

  // Pool of (value, point): all candidates, plus the refined best n_local distinct ones.
  std::vector<std::pair<double, std::vector<double>>> pool;
  pool.reserve(m + static_cast<size_t>(options_.n_local));
  for (size_t c = 0; c < m; ++c) {
    const auto first = cand.begin() + static_cast<std::ptrdiff_t>(c * d);
    pool.emplace_back(values[c], std::vector<double>(first, first + static_cast<std::ptrdiff_t>(d)));
  }
  std::vector<size_t> by_value(m);
  std::iota(by_value.begin(), by_value.end(), size_t{0});
  std::stable_sort(by_value.begin(), by_value.end(), [&](size_t a, size_t b) { return values[a] > values[b]; });

  std::vector<size_t> float_dims;
  for (size_t i = 0; i < d; ++i) {
    if (!space.is_discrete(i)) float_dims.push_back(i);
  }
  if (!float_dims.empty() && options_.n_local > 0) {
    LocalRefiner refiner(gp, options_.acquisition, best, float_dims);
    std::set<std::vector<double>> started;
    for (size_t c : by_value) {
      if (started.size() >= static_cast<size_t>(options_.n_local)) break;
      const std::vector<double> start = pool[c].second;
      if (!started.insert(start).second) continue;
      auto [point, value] = refiner.refine(start, values[c]);
      std::vector<double> snapped = space.snap(point);
      const double snapped_value = snapped == point ? value : acquisition_at(gp, options_.acquisition, best, snapped);
      pool.emplace_back(std::isnan(snapped_value) ? kNegInf : snapped_value, std::move(snapped));
    }
  }

  // Best point not tried yet at the target fidelity (exact comparison on encode(decode(u)),
  // the encoding a stored configuration has).
  std::vector<size_t> pool_order(pool.size());
  std::iota(pool_order.begin(), pool_order.end(), size_t{0});
  std::stable_sort(pool_order.begin(), pool_order.end(),
                   [&](size_t a, size_t b) { return pool[a].first > pool[b].first; });
  for (size_t idx : pool_order) {
    const space::Config config = space.decode(pool[idx].second);
    if (!obs.tried.contains(space.encode(config))) return Suggestion{config, -1};
  }
  return detail::suggestion_at(ctx, detail::uniform_point(d, rng));  // everything tried: any point
}

}  // namespace metadial::optim
