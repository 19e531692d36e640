// BOHB's config generator (HpBandSter's config_generators/bohb.py, Falkner et al. 2018,
// Algorithm 2), over the observations the hyperband pruner's rungs leave in the stored trials.
#include "metadial/optim/bohb_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <numeric>
#include <utility>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "optim/detail/options.h"
#include "optim/detail/parzen.h"
#include "optim/detail/sampler_util.h"

namespace metadial::optim {
namespace {

using study::FrozenTrial;
using study::TrialState;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kFinalBudget = std::numeric_limits<int64_t>::max();
/// HpBandSter's floor on a density before the ratio: max(1e-32, g) / max(l, 1e-32).
const double kLogFloor = std::log(1e-32);

struct Observation {
  std::vector<double> u;
  double loss;
};

/// Observations per budget (a rung's step, or kFinalBudget), each in trial-number order.
using Budgets = std::map<int64_t, std::vector<Observation>>;

/// rung step min_resource * eta^k, saturating; kFinalBudget once past int64_t.
int64_t rung_step(const BohbSamplerOptions& o, int64_t k) {
  int64_t r = o.min_resource;
  for (int64_t i = 0; i < k; ++i) {
    if (r > std::numeric_limits<int64_t>::max() / o.reduction_factor) return kFinalBudget;
    r *= o.reduction_factor;
  }
  return r;
}

Budgets collect(const BohbSamplerOptions& o, const SamplerContext& ctx, std::span<const FrozenTrial> history) {
  Budgets budgets;
  const double sign = ctx.direction == study::Direction::kMinimize ? 1.0 : -1.0;
  for (const auto& t : history) {
    if (t.fidelity != ctx.target_fidelity() || t.params.empty()) continue;
    if (t.state != TrialState::kComplete && t.state != TrialState::kPruned && t.state != TrialState::kRunning) continue;
    std::vector<double> u;
    try {
      u = ctx.space->encode(t.params);
    } catch (const InvalidArgument&) {
      continue;  // a configuration of another space (an edited study): not evidence here
    }
    if (!t.intermediate.empty()) {
      const int64_t last = t.intermediate.rbegin()->first;
      for (int64_t k = 0;; ++k) {
        const int64_t r = rung_step(o, k);
        if (r == kFinalBudget || r > last) break;
        const double v = t.intermediate.lower_bound(r)->second;
        if (std::isfinite(v)) budgets[r].push_back({u, sign * v});
      }
    }
    if (t.is_complete() && std::isfinite(*t.value)) budgets[kFinalBudget].push_back({u, ctx.loss(t)});
  }
  return budgets;
}

size_t n_min_of(const BohbSamplerOptions& o, size_t d) {
  return o.min_points_in_model > 0 ? static_cast<size_t>(o.min_points_in_model) : d + 1;
}

/// The largest budget with at least n_min + 2 observations (Algorithm 2, line 2), or end().
Budgets::const_iterator pick(const Budgets& budgets, size_t n_min) {
  for (auto it = budgets.rbegin(); it != budgets.rend(); ++it) {
    if (it->second.size() >= n_min + 2) return std::prev(it.base());
  }
  return budgets.end();
}

/// A product-kernel density estimate (statsmodels' KDEMultivariate with bw = "normal_reference").
class Kde {
 public:
  Kde(std::vector<std::vector<double>> data, const std::vector<detail::ParzenDimension>& dims, double min_bandwidth)
      : data_(std::move(data)), dims_(dims), bw_(dims.size()) {
    const double n = static_cast<double>(data_.size());
    const double d = static_cast<double>(dims.size());
    for (size_t j = 0; j < dims.size(); ++j) {
      // np.std (ddof 0) of the dimension, in the coordinates statsmodels sees: the unit cube for
      // numerical dimensions, the choice's index for categorical ones.
      double mean = 0.0;
      for (const auto& x : data_) mean += coord(j, x[j]);
      mean /= n;
      double var = 0.0;
      for (const auto& x : data_) var += (coord(j, x[j]) - mean) * (coord(j, x[j]) - mean);
      const double sd = std::sqrt(var / n);
      double bw = std::max(1.06 * sd * std::pow(n, -1.0 / (4.0 + d)), min_bandwidth);
      if (categorical(j)) {
        const double c = static_cast<double>(dims_[j].cells);
        bw = std::min(bw, (c - 1.0) / c);  // beyond, another choice would be likelier than its own
      }
      bw_[j] = bw;
    }
  }

  /// log of the density at u.
  double log_pdf(const std::vector<double>& u) const {
    std::vector<double> terms;
    terms.reserve(data_.size());
    for (const auto& x : data_) {
      double s = 0.0;
      for (size_t j = 0; j < u.size(); ++j) s += log_kernel(j, x[j], u[j]);
      terms.push_back(s);
    }
    double m = -kInf;
    for (double v : terms) m = std::max(m, v);
    if (m == -kInf) return -kInf;
    double sum = 0.0;
    for (double v : terms) sum += std::exp(v - m);
    return m + std::log(sum / static_cast<double>(terms.size()));
  }

  /// A draw from the density with numerical bandwidths times `factor` (HpBandSter's get_config).
  std::vector<double> sample(Rng& rng, double factor) const {
    const auto& x = data_[uniform_below(rng, data_.size())];
    std::vector<double> u(x.size());
    for (size_t j = 0; j < x.size(); ++j) {
      if (categorical(j)) {
        const size_t c = dims_[j].cells;
        const size_t choice = uniform01(rng) < 1.0 - bw_[j] ? cell(j, x[j]) : uniform_below(rng, c);
        u[j] = (static_cast<double>(choice) + 0.5) / static_cast<double>(c);
      } else {
        u[j] = truncated_normal(rng, x[j], factor * bw_[j]);
      }
    }
    return u;
  }

 private:
  bool categorical(size_t j) const { return dims_[j].kind == detail::ParzenDimension::Kind::kCategorical; }
  size_t cell(size_t j, double u) const {
    const size_t c = dims_[j].cells;
    return std::min(c - 1, static_cast<size_t>(std::max(0.0, u) * static_cast<double>(c)));
  }
  double coord(size_t j, double u) const { return categorical(j) ? static_cast<double>(cell(j, u)) : u; }

  double log_kernel(size_t j, double centre, double u) const {
    if (categorical(j)) {  // Aitchison-Aitken
      const double c = static_cast<double>(dims_[j].cells);
      return cell(j, centre) == cell(j, u) ? std::log(1.0 - bw_[j]) : std::log(bw_[j] / (c - 1.0));
    }
    const double z = (u - centre) / bw_[j];
    return -0.5 * z * z - std::log(bw_[j]) - 0.5 * std::log(2.0 * std::numbers::pi);
  }

  /// N(m, s) conditioned on [0, 1], m in [0, 1], by rejection (a draw lands inside with
  /// probability at least min(1 / 2, 0.34 / s)).
  static double truncated_normal(Rng& rng, double m, double s) {
    for (int attempt = 0; attempt < 10000; ++attempt) {
      const double v = m + s * standard_normal(rng);
      if (v >= 0.0 && v <= 1.0) return v;
    }
    return std::clamp(m, 0.0, 1.0);
  }

  std::vector<std::vector<double>> data_;
  std::vector<detail::ParzenDimension> dims_;
  std::vector<double> bw_;
};

}  // namespace

void BohbSamplerOptions::validate() const {
  MD_CHECK(min_resource >= 1, "bohb: min_resource ", min_resource, " must be >= 1");
  MD_CHECK(reduction_factor >= 2, "bohb: reduction_factor ", reduction_factor, " must be >= 2");
  MD_CHECK(min_points_in_model >= 0, "bohb: min_points_in_model ", min_points_in_model, " must be >= 0 (0: d + 1)");
  MD_CHECK(top_n_percent > 0 && top_n_percent < 100, "bohb: top_n_percent ", top_n_percent, " must be in (0, 100)");
  MD_CHECK(num_samples >= 1, "bohb: num_samples ", num_samples, " must be >= 1");
  MD_CHECK(random_fraction >= 0 && random_fraction <= 1, "bohb: random_fraction ", random_fraction,
           " must be in [0, 1]");
  MD_CHECK(std::isfinite(bandwidth_factor) && bandwidth_factor > 0, "bohb: bandwidth_factor ", bandwidth_factor,
           " must be > 0");
  MD_CHECK(std::isfinite(min_bandwidth) && min_bandwidth > 0, "bohb: min_bandwidth ", min_bandwidth, " must be > 0");
}

BohbSamplerOptions BohbSamplerOptions::from_json(const SamplerOptions& options) {
  detail::OptionReader reader("bohb", options,
                              {"min_resource", "reduction_factor", "min_points_in_model", "top_n_percent",
                               "num_samples", "random_fraction", "bandwidth_factor", "min_bandwidth"});
  BohbSamplerOptions o;
  o.min_resource = reader.integer("min_resource", o.min_resource, 1);
  o.reduction_factor = reader.integer("reduction_factor", o.reduction_factor, 2);
  o.min_points_in_model = static_cast<int>(reader.integer("min_points_in_model", o.min_points_in_model, 0, 1000000));
  o.top_n_percent = reader.number("top_n_percent", o.top_n_percent, 0.0, 100.0);
  if (!(o.top_n_percent > 0 && o.top_n_percent < 100)) reader.invalid("top_n_percent", "must be in (0, 100)");
  o.num_samples = static_cast<int>(reader.integer("num_samples", o.num_samples, 1, 1000000));
  o.random_fraction = reader.number("random_fraction", o.random_fraction, 0.0, 1.0);
  o.bandwidth_factor = reader.number("bandwidth_factor", o.bandwidth_factor, 0.0, 1e6);
  if (!(o.bandwidth_factor > 0)) reader.invalid("bandwidth_factor", "must be > 0");
  o.min_bandwidth = reader.number("min_bandwidth", o.min_bandwidth, 0.0, 1e6);
  if (!(o.min_bandwidth > 0)) reader.invalid("min_bandwidth", "must be > 0");
  return o;
}

BohbSampler::BohbSampler(BohbSamplerOptions options) : options_(options) { options_.validate(); }

std::unique_ptr<Sampler> BohbSampler::create(const SamplerOptions& options) {
  return std::make_unique<BohbSampler>(BohbSamplerOptions::from_json(options));
}

std::optional<int64_t> BohbSampler::model_budget(const SamplerContext& ctx,
                                                 std::span<const FrozenTrial> history) const {
  detail::check_context(ctx, "bohb");
  const Budgets budgets = collect(options_, ctx, history);
  const auto it = pick(budgets, n_min_of(options_, ctx.space->size()));
  if (it == budgets.end()) return std::nullopt;
  return it->first;
}

Suggestion BohbSampler::suggest(const SamplerContext& ctx, std::span<const FrozenTrial> history) {
  detail::check_context(ctx, "bohb");
  const space::SearchSpace& space = *ctx.space;
  const size_t d = space.size();
  Rng rng(ctx.seed);
  // The first draw decides random or model, so a random proposal does not depend on the history.
  if (uniform01(rng) < options_.random_fraction) return detail::suggestion_at(ctx, detail::uniform_point(d, rng));

  const Budgets budgets = collect(options_, ctx, history);
  const size_t n_min = n_min_of(options_, d);
  const auto it = pick(budgets, n_min);
  if (it == budgets.end()) return detail::suggestion_at(ctx, detail::uniform_point(d, rng));

  // Good: the n_l best; bad: the n_g worst (stable: earlier trials first among equal losses).
  const std::vector<Observation>& obs = it->second;
  const size_t n = obs.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return obs[a].loss < obs[b].loss; });
  const size_t n_good = std::min(
      n, std::max(n_min, static_cast<size_t>(std::floor(options_.top_n_percent / 100.0 * static_cast<double>(n)))));
  const size_t n_bad = std::min(n, std::max(n_min, n - n_good));
  std::vector<std::vector<double>> good, bad;
  for (size_t i = 0; i < n_good; ++i) good.push_back(obs[order[i]].u);
  for (size_t i = n - n_bad; i < n; ++i) bad.push_back(obs[order[i]].u);

  std::vector<detail::ParzenDimension> dims;
  for (size_t j = 0; j < d; ++j) dims.push_back(detail::ParzenDimension::of(space, j));
  const Kde l(std::move(good), dims, options_.min_bandwidth);
  const Kde g(std::move(bad), dims, options_.min_bandwidth);

  std::vector<double> best;
  double best_score = -kInf;
  for (int s = 0; s < options_.num_samples; ++s) {
    std::vector<double> u = l.sample(rng, options_.bandwidth_factor);
    double score = std::max(l.log_pdf(u), kLogFloor) - std::max(g.log_pdf(u), kLogFloor);
    if (std::isnan(score)) score = -kInf;
    if (best.empty() || score > best_score) {
      best_score = score;
      best = std::move(u);
    }
  }
  return detail::suggestion_at(ctx, best);
}

}  // namespace metadial::optim
