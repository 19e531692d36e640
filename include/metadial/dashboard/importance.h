// Parameter importance for the dashboard: functional ANOVA of a small random forest (Hutter, Hoos
// & Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter Importance", ICML 2014),
// main effects only.
//
// Method. The complete trials' configurations are encoded into the unit cube [0,1]^d
// (SearchSpace::encode: log parameters on their log scale, an int's or a category's cell of equal
// width) and a random forest of regression trees is fitted to their values (each tree on a
// bootstrap sample, splits chosen by variance reduction among a random ~70 % of the dimensions).
// A tree is piecewise constant on boxes, so its functional ANOVA under the uniform measure on the
// cube is exact: with leaves k of volume w_k and value v_k, the mean is m = sum w_k v_k and the
// variance V = sum w_k v_k^2 - m^2; the marginal of dimension j, f_j(x_j) = integral of the tree
// over the other dimensions, is constant between the tree's split points on j, and its variance
// V_j = integral (f_j - m)^2 dx_j. A parameter's importance is V_j / V averaged over the trees
// (with V > 0): the fraction of the variance its main effect explains. The fractions of all
// parameters sum to at most 1; the rest is interactions. A parameter the function ignores gets
// about 0 (exactly 0 in a tree that never splits on it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metadial/study/trial.h"

namespace metadial::space {
class SearchSpace;
}

namespace metadial::dashboard {

/// Settings of the forest fitted by fanova_importance.
struct ForestOptions {
  int n_trees = 32;
  int max_depth = 10;
  int min_samples_leaf = 3;        ///< a split leaves at least this many points on each side
  double feature_fraction = 0.7;   ///< share of the dimensions tried at each split (at least one)
  uint64_t seed = 0;               ///< bootstrap samples and dimension subsets
};

/// Fraction of the variance explained by each dimension's main effect (see above), for points `x`
/// (each of the same dimension d, coordinates in [0,1]) with values `y`. InvalidArgument when there
/// are fewer than 2 points, sizes differ or a value is not finite. All zeros when y is constant.
std::vector<double> fanova_importance(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                                      const ForestOptions& options);

/// The importance of each parameter of a study.
struct ParamImportance {
  std::string param;
  double importance = 0.0;  ///< fraction of the variance (0..1)
};

struct StudyImportance {
  std::vector<ParamImportance> params;  ///< in the order of the space
  int fidelity = 0;                     ///< the fidelity whose complete trials were used
  int64_t n_trials = 0;                 ///< how many trials the forest was fitted to
};

/// Importance of each parameter of `space` from the complete trials of `trials`: those at the
/// highest fidelity that has at least `min_trials` complete trials (none: an empty result), at
/// most `max_trials` of them (evenly spaced by number when there are more).
StudyImportance study_importance(const space::SearchSpace& space, const std::vector<study::FrozenTrial>& trials,
                                 const ForestOptions& options, int64_t min_trials = 8, int64_t max_trials = 2000);

}  // namespace metadial::dashboard
