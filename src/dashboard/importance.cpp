#include "metadial/dashboard/importance.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/space/search_space.h"

namespace metadial::dashboard {
namespace {

/// A leaf of a fitted tree: its box in the unit cube and its value.
struct Leaf {
  std::vector<double> lo, hi;
  double value = 0.0;
};

class TreeBuilder {
 public:
  TreeBuilder(const std::vector<std::vector<double>>& x, const std::vector<double>& y, const ForestOptions& o, Rng& rng)
      : x_(x), y_(y), o_(o), rng_(rng), d_(x.front().size()) {}

  /// Fits one tree to the points `idx` (with repeats: a bootstrap sample); returns its leaves.
  std::vector<Leaf> fit(std::vector<size_t> idx) {
    leaves_.clear();
    Leaf root{std::vector<double>(d_, 0.0), std::vector<double>(d_, 1.0), 0.0};
    grow(idx, 0, std::move(root));
    return std::move(leaves_);
  }

 private:
  void grow(std::vector<size_t>& idx, int depth, Leaf box) {
    double sum = 0.0;
    for (size_t i : idx) sum += y_[i];
    box.value = sum / static_cast<double>(idx.size());
    const auto n = idx.size();
    const auto min_leaf = static_cast<size_t>(std::max(1, o_.min_samples_leaf));
    if (depth >= o_.max_depth || n < 2 * min_leaf) {
      leaves_.push_back(std::move(box));
      return;
    }
    // A random subset of the dimensions (partial Fisher-Yates: the first k of a shuffled order).
    std::vector<size_t> dims(d_);
    std::iota(dims.begin(), dims.end(), size_t{0});
    const auto k = std::clamp<size_t>(static_cast<size_t>(std::ceil(o_.feature_fraction * static_cast<double>(d_))),
                                      size_t{1}, d_);
    for (size_t i = 0; i < k; ++i) std::swap(dims[i], dims[i + uniform_below(rng_, d_ - i)]);

    double best_gain = 0.0;
    size_t best_dim = 0;
    double best_thr = 0.0;
    std::vector<size_t> order(idx);
    for (size_t t = 0; t < k; ++t) {
      const size_t j = dims[t];
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x_[a][j] < x_[b][j]; });
      // Sum of squared errors removed by a split = n_l * mean_l^2 + n_r * mean_r^2 - n * mean^2.
      double left = 0.0;
      for (size_t i = 0; i + 1 < n; ++i) {
        left += y_[order[i]];
        const size_t nl = i + 1;
        if (nl < min_leaf || n - nl < min_leaf) continue;
        const double a = x_[order[i]][j], b = x_[order[i + 1]][j];
        if (!(a < b)) continue;
        const double right = sum - left;
        const double gain = left * left / static_cast<double>(nl) + right * right / static_cast<double>(n - nl) -
                            sum * sum / static_cast<double>(n);
        if (gain > best_gain * (1.0 + 1e-12) + 1e-300) {
          best_gain = gain;
          best_dim = j;
          best_thr = 0.5 * (a + b);
        }
      }
    }
    if (best_gain <= 0.0) {
      leaves_.push_back(std::move(box));
      return;
    }
    std::vector<size_t> li, ri;
    for (size_t i : idx) (x_[i][best_dim] <= best_thr ? li : ri).push_back(i);
    idx.clear();
    idx.shrink_to_fit();
    Leaf lbox = box, rbox = std::move(box);
    lbox.hi[best_dim] = best_thr;
    rbox.lo[best_dim] = best_thr;
    grow(li, depth + 1, std::move(lbox));
    grow(ri, depth + 1, std::move(rbox));
  }

  const std::vector<std::vector<double>>& x_;
  const std::vector<double>& y_;
  const ForestOptions& o_;
  Rng& rng_;
  size_t d_;
  std::vector<Leaf> leaves_;
};

/// V_j / V of one tree for every dimension j; empty when the tree's variance is 0.
std::vector<double> tree_fractions(const std::vector<Leaf>& leaves, size_t d) {
  double mean = 0.0, second = 0.0;
  std::vector<double> volume(leaves.size());
  for (size_t k = 0; k < leaves.size(); ++k) {
    double w = 1.0;
    for (size_t j = 0; j < d; ++j) w *= leaves[k].hi[j] - leaves[k].lo[j];
    volume[k] = w;
    mean += w * leaves[k].value;
    second += w * leaves[k].value * leaves[k].value;
  }
  const double variance = second - mean * mean;
  if (!(variance > 1e-12 * std::max(1.0, second))) return {};
  std::vector<double> fractions(d, 0.0);
  for (size_t j = 0; j < d; ++j) {
    std::vector<double> cuts = {0.0, 1.0};
    for (const auto& l : leaves) {
      cuts.push_back(l.lo[j]);
      cuts.push_back(l.hi[j]);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    // f_j on interval [cuts[i], cuts[i+1]) = sum over the leaves spanning it of value * volume / width:
    // added over each leaf's range of intervals with a difference array.
    std::vector<double> diff(cuts.size(), 0.0);
    for (size_t k = 0; k < leaves.size(); ++k) {
      const double width = leaves[k].hi[j] - leaves[k].lo[j];
      if (!(width > 0.0)) continue;
      const auto a = static_cast<size_t>(std::lower_bound(cuts.begin(), cuts.end(), leaves[k].lo[j]) - cuts.begin());
      const auto b = static_cast<size_t>(std::lower_bound(cuts.begin(), cuts.end(), leaves[k].hi[j]) - cuts.begin());
      const double c = leaves[k].value * volume[k] / width;
      diff[a] += c;
      diff[b] -= c;
    }
    double f = 0.0, vj = 0.0;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      f += diff[i];
      vj += (cuts[i + 1] - cuts[i]) * (f - mean) * (f - mean);
    }
    fractions[j] = std::clamp(vj / variance, 0.0, 1.0);
  }
  return fractions;
}

}  // namespace

std::vector<double> fanova_importance(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                                      const ForestOptions& options) {
  MD_CHECK(x.size() == y.size(), "fanova_importance: ", x.size(), " points but ", y.size(), " values");
  MD_CHECK(x.size() >= 2, "fanova_importance: needs at least 2 points (got ", x.size(), ")");
  MD_CHECK(options.n_trees >= 1, "fanova_importance: n_trees ", options.n_trees, " must be at least 1");
  const size_t d = x.front().size();
  for (size_t i = 0; i < x.size(); ++i) {
    MD_CHECK(x[i].size() == d, "fanova_importance: point ", i, " has ", x[i].size(), " coordinates, point 0 has ", d);
    MD_CHECK(std::isfinite(y[i]), "fanova_importance: value ", i, " is ", y[i], " (must be finite)");
  }
  std::vector<double> total(d, 0.0);
  if (d == 0) return total;
  Rng rng(derive_seed(options.seed, {stream("fanova")}));
  TreeBuilder builder(x, y, options, rng);
  int used = 0;
  for (int t = 0; t < options.n_trees; ++t) {
    std::vector<size_t> sample(x.size());
    for (auto& s : sample) s = uniform_below(rng, x.size());
    const auto fractions = tree_fractions(builder.fit(std::move(sample)), d);
    if (fractions.empty()) continue;
    ++used;
    for (size_t j = 0; j < d; ++j) total[j] += fractions[j];
  }
  if (used > 0) {
    for (auto& v : total) v /= used;
  }
  return total;
}

StudyImportance study_importance(const space::SearchSpace& space, const std::vector<study::FrozenTrial>& trials,
                                 const ForestOptions& options, int64_t min_trials, int64_t max_trials) {
  StudyImportance result;
  std::map<int, int64_t> complete_at;
  for (const auto& t : trials) {
    if (t.is_complete() && std::isfinite(*t.value)) ++complete_at[t.fidelity];
  }
  int fidelity = -1;
  for (const auto& [f, n] : complete_at) {
    if (n >= std::max<int64_t>(min_trials, 2)) fidelity = f;
  }
  if (fidelity < 0 || space.empty()) return result;
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (const auto& t : trials) {
    if (!t.is_complete() || t.fidelity != fidelity || !std::isfinite(*t.value)) continue;
    try {
      x.push_back(space.encode(t.params));
    } catch (const InvalidArgument&) {
      continue;  // params that do not fit the space (cannot happen for trials the study ran)
    }
    y.push_back(*t.value);
  }
  if (max_trials > 0 && static_cast<int64_t>(x.size()) > max_trials) {
    std::vector<std::vector<double>> xs;
    std::vector<double> ys;
    const auto m = static_cast<size_t>(max_trials);
    for (size_t i = 0; i < m; ++i) {
      const size_t k = i * x.size() / m;
      xs.push_back(std::move(x[k]));
      ys.push_back(y[k]);
    }
    x = std::move(xs);
    y = std::move(ys);
  }
  if (x.size() < 2) return result;
  const auto fractions = fanova_importance(x, y, options);
  result.fidelity = fidelity;
  result.n_trials = static_cast<int64_t>(x.size());
  for (size_t j = 0; j < space.size(); ++j) result.params.push_back({space.param(j).name, fractions[j]});
  return result;
}

}  // namespace metadial::dashboard
