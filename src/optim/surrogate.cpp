#include "metadial/optim/surrogate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "metadial/core/error.h"
#include "metadial/optim/acquisition.h"
#include "metadial/optim/gp.h"
#include "metadial/space/search_space.h"

namespace metadial::optim {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Perturbs `base` with Gaussian noise of sd `scale` (clamped to the cube); a discrete dimension is
// redrawn uniformly with probability 1/d instead. Snapped to the space when there is one.
void perturb(std::span<const double> base, double scale, Rng& rng, const space::SearchSpace* space,
             std::vector<double>& out) {
  const size_t d = base.size();
  out.resize(d);
  for (size_t i = 0; i < d; ++i) {
    if (space && space->is_discrete(i)) {
      out[i] = uniform01(rng) < 1.0 / static_cast<double>(d) ? uniform01(rng) : base[i];
    } else {
      out[i] = std::clamp(base[i] + scale * standard_normal(rng), 0.0, 1.0);
    }
  }
  if (space) out = space->snap(out);
}

// log EI of every point of `xs` (m x d), -infinity where it is not finite.
std::vector<double> score(const Surrogate& s, double best, const std::vector<double>& xs) {
  const size_t m = xs.size() / s.dim();
  std::vector<double> means(m), vars(m), values(m);
  s.predict_batch(xs, means, vars);
  for (size_t c = 0; c < m; ++c) {
    const double sd = std::sqrt(std::max(vars[c], 0.0));
    const double v = sd > 0.0 ? log_expected_improvement(means[c], sd, best).value : kNegInf;
    values[c] = std::isfinite(v) ? v : kNegInf;
  }
  return values;
}

}  // namespace

size_t GpSurrogate::dim() const { return gp_->dim(); }

void GpSurrogate::predict_batch(std::span<const double> xs, std::span<double> means,
                                std::span<double> variances) const {
  gp_->predict_batch(xs, means, variances);
}

void AcquisitionSearchOptions::validate() const {
  MD_CHECK(n_candidates >= 1, "acquisition search: n_candidates must be >= 1, got ", n_candidates);
  MD_CHECK(n_local >= 0, "acquisition search: n_local must be >= 0, got ", n_local);
  MD_CHECK(rounds >= 0, "acquisition search: rounds must be >= 0, got ", rounds);
  MD_CHECK(per_round >= 1, "acquisition search: per_round must be >= 1, got ", per_round);
  MD_CHECK(radius > 0.0 && std::isfinite(radius), "acquisition search: radius must be positive, got ", radius);
  MD_CHECK(shrink > 0.0 && shrink <= 1.0, "acquisition search: shrink must be in (0, 1], got ", shrink);
}

std::vector<ScoredPoint> maximize_log_ei(const Surrogate& surrogate, double best, std::span<const double> anchors,
                                         const AcquisitionSearchOptions& options, Rng& rng,
                                         const space::SearchSpace* space) {
  options.validate();
  const size_t d = surrogate.dim();
  MD_CHECK(d >= 1, "acquisition search: the surrogate has no dimensions");
  MD_CHECK(anchors.size() % d == 0, "acquisition search: anchors of size ", anchors.size(), " are not k x ", d);
  MD_CHECK(!space || space->size() == d, "acquisition search: the space has ", space ? space->size() : 0,
           " dimensions, the surrogate ", d);

  // Candidates: uniform points, and perturbations of the anchors (a quarter, when there are any).
  const auto n_cand = static_cast<size_t>(options.n_candidates);
  const size_t n_anchor = anchors.size() / d;
  const size_t n_perturb = n_anchor > 0 ? n_cand / 4 : 0;
  std::vector<double> cand;
  cand.reserve(n_cand * d);
  std::vector<double> p(d);
  for (size_t c = 0; c < n_cand - n_perturb; ++c) {
    for (auto& v : p) v = uniform01(rng);
    if (space) p = space->snap(p);
    cand.insert(cand.end(), p.begin(), p.end());
  }
  for (size_t c = 0; c < n_perturb; ++c) {
    const double scale = std::pow(10.0, -3.0 + 2.0 * uniform01(rng));  // 0.001 .. 0.1
    perturb(anchors.subspan((c % n_anchor) * d, d), scale, rng, space, p);
    cand.insert(cand.end(), p.begin(), p.end());
  }
  const std::vector<double> values = score(surrogate, best, cand);

  std::vector<ScoredPoint> pool;
  pool.reserve(n_cand + static_cast<size_t>(options.n_local * options.rounds * options.per_round));
  for (size_t c = 0; c < n_cand; ++c) {
    const auto first = cand.begin() + static_cast<std::ptrdiff_t>(c * d);
    pool.push_back({values[c], std::vector<double>(first, first + static_cast<std::ptrdiff_t>(d))});
  }

  // Starts: the n_local best distinct candidates.
  std::vector<size_t> order(n_cand);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] > values[b]; });
  std::vector<ScoredPoint> starts;
  std::set<std::vector<double>> seen;
  for (size_t c : order) {
    if (starts.size() >= static_cast<size_t>(options.n_local)) break;
    if (seen.insert(pool[c].x).second) starts.push_back(pool[c]);
  }

  // Refinement rounds: every start's perturbations in one batch.
  double radius = options.radius;
  const auto per = static_cast<size_t>(options.per_round);
  for (int r = 0; r < options.rounds && !starts.empty(); ++r, radius *= options.shrink) {
    std::vector<double> batch;
    batch.reserve(starts.size() * per * d);
    for (const ScoredPoint& s : starts) {
      for (size_t k = 0; k < per; ++k) {
        perturb(s.x, radius, rng, space, p);
        batch.insert(batch.end(), p.begin(), p.end());
      }
    }
    const std::vector<double> v = score(surrogate, best, batch);
    for (size_t i = 0; i < starts.size(); ++i) {
      for (size_t k = 0; k < per; ++k) {
        const size_t j = i * per + k;
        const auto first = batch.begin() + static_cast<std::ptrdiff_t>(j * d);
        ScoredPoint sp{v[j], std::vector<double>(first, first + static_cast<std::ptrdiff_t>(d))};
        if (sp.value > starts[i].value) starts[i] = sp;
        pool.push_back(std::move(sp));
      }
    }
  }

  std::stable_sort(pool.begin(), pool.end(), [](const ScoredPoint& a, const ScoredPoint& b) { return a.value > b.value; });
  return pool;
}

}  // namespace metadial::optim
