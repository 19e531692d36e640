// The shared acquisition search (surrogate.h): it finds the maximum of log EI for surrogates whose
// answer is known (a quadratic mean with a constant variance: the minimizer of the mean), its
// refinement improves on the best candidate, it respects a search space's discrete dimensions,
// and the GP adapter gives the GP's own predictions.
#include "metadial/optim/surrogate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/optim/gp.h"
#include "metadial/space/search_space.h"

namespace metadial::optim {
namespace {

// mean(x) = sum_i (x_i - c_i)^2, variance 0.01 everywhere: log EI below any `best` is largest
// where the mean is smallest, at c.
class Quadratic final : public Surrogate {
 public:
  explicit Quadratic(std::vector<double> c) : c_(std::move(c)) {}
  size_t dim() const override { return c_.size(); }
  void predict_batch(std::span<const double> xs, std::span<double> means, std::span<double> variances) const override {
    const size_t d = c_.size();
    for (size_t j = 0; j < means.size(); ++j) {
      double s = 0.0;
      for (size_t i = 0; i < d; ++i) s += (xs[j * d + i] - c_[i]) * (xs[j * d + i] - c_[i]);
      means[j] = s;
      variances[j] = 0.01;
    }
    ++calls_;
  }
  mutable int calls_ = 0;  ///< predict_batch() calls

 private:
  std::vector<double> c_;
};

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

TEST(AcquisitionSearch, FindsTheMinimizerOfAQuadraticMean) {
  const std::vector<double> c = {0.23, 0.71, 0.42};
  const Quadratic q(c);
  for (uint64_t seed : {1, 2, 3}) {
    Rng rng(seed);
    AcquisitionSearchOptions o;
    const int calls_before = q.calls_;
    const auto pool = maximize_log_ei(q, 0.5, {}, o, rng);
    ASSERT_FALSE(pool.empty());
    // One batch for the candidates and one per round; every scored point is in the pool.
    EXPECT_EQ(q.calls_ - calls_before, 1 + o.rounds);
    EXPECT_EQ(pool.size(), static_cast<size_t>(o.n_candidates + o.n_local * o.rounds * o.per_round));
    EXPECT_LT(distance(pool.front().x, c), 0.03) << "seed " << seed;
    for (size_t k = 1; k < pool.size(); ++k) ASSERT_GE(pool[k - 1].value, pool[k].value);
  }
}

TEST(AcquisitionSearch, RefinementImprovesOnTheBestCandidate) {
  const std::vector<double> c = {0.61, 0.18, 0.93, 0.35};
  const Quadratic q(c);
  AcquisitionSearchOptions none;
  none.n_local = 0;
  AcquisitionSearchOptions refined;
  Rng r1(7), r2(7);
  const auto a = maximize_log_ei(q, 0.5, {}, none, r1);
  const auto b = maximize_log_ei(q, 0.5, {}, refined, r2);
  EXPECT_GT(b.front().value, a.front().value);
  EXPECT_LT(distance(b.front().x, c), 0.5 * distance(a.front().x, c));
}

TEST(AcquisitionSearch, AnchorsAreSearchedAroundAndASpaceSnapsPoints) {
  space::SearchSpace s;
  s.add_float("a", 0.0, 1.0).add_int("k", 0, 4);
  const Quadratic q({0.77, 0.5});
  const std::vector<double> anchors = {0.75, 0.5};
  Rng rng(3);
  const auto pool = maximize_log_ei(q, 0.5, anchors, {}, rng, &s);
  for (const auto& p : pool) EXPECT_EQ(p.x, s.snap(p.x));
  EXPECT_NEAR(pool.front().x[0], 0.77, 0.01);
  EXPECT_EQ(pool.front().x[1], s.snap(std::vector<double>{0.77, 0.5})[1]);
}

TEST(AcquisitionSearch, RefusesBadOptionsAndMismatchedSizes) {
  const Quadratic q({0.5, 0.5});
  Rng rng(1);
  AcquisitionSearchOptions o;
  o.shrink = 0.0;
  EXPECT_THROW(maximize_log_ei(q, 0.0, {}, o, rng), InvalidArgument);
  EXPECT_THROW(maximize_log_ei(q, 0.0, std::vector<double>{0.1, 0.2, 0.3}, {}, rng), InvalidArgument);
  space::SearchSpace s;
  s.add_float("a", 0.0, 1.0);
  EXPECT_THROW(maximize_log_ei(q, 0.0, {}, {}, rng, &s), InvalidArgument);
}

TEST(GpSurrogate, GivesTheGaussianProcessPredictions) {
  GaussianProcess gp(2);
  const std::vector<double> x = {0.1, 0.2, 0.8, 0.3, 0.5, 0.9, 0.3, 0.6};
  const std::vector<double> y = {1.0, -0.5, 0.25, 0.7};
  Rng rng(1);
  gp.fit(x, y, rng);
  const GpSurrogate s(gp);
  EXPECT_EQ(s.dim(), 2u);
  const std::vector<double> xs = {0.4, 0.4, 0.9, 0.1};
  std::vector<double> m(2), v(2);
  s.predict_batch(xs, m, v);
  for (size_t j = 0; j < 2; ++j) {
    const GpPrediction p = gp.predict(std::span<const double>(xs).subspan(2 * j, 2));
    EXPECT_NEAR(m[j], p.mean, 1e-12);
    EXPECT_NEAR(v[j], p.variance, 1e-12);
  }
}

}  // namespace
}  // namespace metadial::optim
