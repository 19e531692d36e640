// The `pfn` sampler.
#include "metadial/optim/learned/pfn_sampler.h"

#include "metadial/optim/learned/sampler.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <set>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/sobol_sampler.h"
#include "optim/detail/observations.h"
#include "optim/detail/options.h"
#include "optim/detail/sampler_util.h"

namespace metadial::optim::learned {
namespace {

using optim::detail::collect_observations;
using optim::detail::Observations;

// Yeo-Johnson transform of z with parameter lambda.
double yeo_johnson(double z, double lambda) {
  if (z >= 0.0) return std::abs(lambda) < 1e-9 ? std::log1p(z) : (std::pow(z + 1.0, lambda) - 1.0) / lambda;
  return std::abs(lambda - 2.0) < 1e-9 ? -std::log1p(-z) : -(std::pow(1.0 - z, 2.0 - lambda) - 1.0) / (2.0 - lambda);
}

}  // namespace

std::vector<double> power_transform(std::span<const double> y) {
  const size_t n = y.size();
  std::vector<double> z(y.begin(), y.end());
  if (n < 3) return z;
  double mu = 0.0, var = 0.0;
  for (double v : y) mu += v / static_cast<double>(n);
  for (double v : y) var += (v - mu) * (v - mu) / static_cast<double>(n);
  const double sd = std::sqrt(var);
  if (!(sd > 1e-12 * (1.0 + std::abs(mu))) || !std::isfinite(sd)) return z;
  for (double& v : z) v = (v - mu) / sd;
  // lambda on a grid of [-2, 4] by 0.1, maximizing the Gaussian profile log-likelihood of the
  // transformed values plus the log-Jacobian (as scikit-learn's PowerTransformer, without its
  // Brent refinement; a grid keeps it deterministic and cheap).
  double best_lambda = 1.0, best_ll = -std::numeric_limits<double>::infinity();
  std::vector<double> t(n);
  for (int k = -20; k <= 40; ++k) {
    const double lambda = 0.1 * k;
    double m = 0.0, jac = 0.0;
    for (size_t i = 0; i < n; ++i) {
      t[i] = yeo_johnson(z[i], lambda);
      m += t[i] / static_cast<double>(n);
      jac += (z[i] >= 0 ? 1.0 : -1.0) * std::log1p(std::abs(z[i]));
    }
    double v = 0.0;
    for (double ti : t) v += (ti - m) * (ti - m) / static_cast<double>(n);
    if (!(v > 0.0) || !std::isfinite(v)) continue;
    const double ll = -0.5 * static_cast<double>(n) * std::log(v) + (lambda - 1.0) * jac;
    if (ll > best_ll) {
      best_ll = ll;
      best_lambda = lambda;
    }
  }
  for (double& v : z) v = yeo_johnson(v, best_lambda);
  return z;
}

void PfnSamplerOptions::validate() const {
  MD_CHECK(n_initial >= 0, "sampler 'pfn': n_initial must be >= 0 (0 = default), got ", n_initial);
  MD_CHECK(n_candidates >= 1, "sampler 'pfn': n_candidates must be >= 1, got ", n_candidates);
  MD_CHECK(n_local >= 0, "sampler 'pfn': n_local must be >= 0, got ", n_local);
}

int PfnSamplerOptions::initial_trials(size_t d) const {
  if (n_initial > 0) return n_initial;
  return static_cast<int>(std::min<size_t>(10, 2 * (d + 1)));
}

AcquisitionSearchOptions PfnSamplerOptions::search() const {
  AcquisitionSearchOptions s;
  s.n_candidates = n_candidates;
  s.n_local = n_local;
  s.per_round = 16;  // 4 x 4 x 16 = 256 refinement queries: as many as candidates, half the time of 512 + 512
  return s;
}

std::string default_pfn_model_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "pfn.pt").string();
}

PfnSampler::PfnSampler(std::shared_ptr<const PfnModel> model, PfnSamplerOptions options, std::string source)
    : model_(std::move(model)), source_(std::move(source)), options_(options) {
  MD_CHECK(model_ != nullptr, "sampler 'pfn': no model");
  options_.validate();
}

PfnSampler::PfnSampler(std::string path, PfnSamplerOptions options)
    : path_(std::move(path)), source_("'" + path_ + "'"), options_(options) {
  options_.validate();
}

std::unique_ptr<Sampler> PfnSampler::create(const SamplerOptions& options) {
  const optim::detail::OptionReader reader("pfn", options,
                                           {"model", "n_initial", "n_candidates", "n_local", "constant_liar", "power_transform"});
  PfnSamplerOptions o;
  o.n_initial = static_cast<int>(reader.integer("n_initial", o.n_initial, 0, 1'000'000));
  o.n_candidates = static_cast<int>(reader.integer("n_candidates", o.n_candidates, 1, 1'000'000));
  o.n_local = static_cast<int>(reader.integer("n_local", o.n_local, 0, 1000));
  o.constant_liar = reader.boolean("constant_liar", o.constant_liar);
  o.power_transform = reader.boolean("power_transform", o.power_transform);
  // A model named in the config is read now (a bad file is reported when the study starts); the
  // default one at the first suggestion, as the lstm sampler's.
  if (const auto path = reader.string("model")) {
    return std::make_unique<PfnSampler>(std::make_shared<const PfnModel>(PfnModel::load(*path)), o, "'" + *path + "'");
  }
  return std::make_unique<PfnSampler>(default_pfn_model_path(default_models_dir()), o);
}

const PfnModel& PfnSampler::model() {
  std::lock_guard lock(mu_);
  if (!model_) model_ = std::make_shared<const PfnModel>(PfnModel::load(path_));
  return *model_;
}

Suggestion PfnSampler::suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) {
  optim::detail::check_context(ctx, "pfn");
  const space::SearchSpace& space = *ctx.space;
  const size_t d = space.size();
  if (d == 0) return optim::detail::suggestion_at(ctx, {});
  const PfnModel& pfn = model();
  MD_CHECK(d <= static_cast<size_t>(pfn.max_dim()), "sampler 'pfn': model ", source_, " handles spaces of at most ",
           pfn.max_dim(), " dimensions, the study's search space has ", d,
           " parameters; use sampler 'gp' (or 'tpe') for this space");
  const Observations obs = collect_observations(ctx, history);

  // Initial design, and whenever fewer than 2 complete trials exist to condition on.
  if (ctx.trial_number < options_.initial_trials(d) || obs.y.size() < 2) return SobolSampler().suggest(ctx, history);

  Rng rng(ctx.seed);
  std::vector<double> x = obs.x, y = options_.power_transform ? power_transform(obs.y) : obs.y;
  const double best = *std::min_element(y.begin(), y.end());
  if (options_.constant_liar && !obs.running.empty()) {
    x.insert(x.end(), obs.running.begin(), obs.running.end());
    y.resize(x.size() / d, best);
  }
  const PfnSurrogate surrogate(pfn, d, x, y);

  // Anchors: the 5 best observed points.
  std::vector<size_t> order(obs.y.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return obs.y[a] < obs.y[b]; });
  std::vector<double> anchors;
  for (size_t k = 0; k < std::min<size_t>(5, order.size()); ++k) {
    const double* p = obs.x.data() + order[k] * d;
    anchors.insert(anchors.end(), p, p + d);
  }
  const std::vector<ScoredPoint> pool = maximize_log_ei(surrogate, best, anchors, options_.search(), rng, &space);
  for (const ScoredPoint& p : pool) {
    const space::Config config = space.decode(p.x);
    if (!obs.tried.contains(space.encode(config))) return Suggestion{config, -1};
  }
  return optim::detail::suggestion_at(ctx, optim::detail::uniform_point(d, rng));  // everything tried
}

}  // namespace metadial::optim::learned
