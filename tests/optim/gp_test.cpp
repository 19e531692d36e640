// GaussianProcess against scikit-learn (gp_reference.py), gradients against finite differences,
// and hyperparameter fitting on data with a known answer.
#include "metadial/optim/gp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/optim/acquisition.h"
#include "optim/gp_reference.h"

namespace metadial::optim {
namespace {

namespace ref = gp_reference;

GpHyperparameters reference_hyperparameters() {
  return {ref::kAmplitude, std::vector<double>(std::begin(ref::kLengthscales), std::end(ref::kLengthscales)),
          ref::kNoise};
}

GaussianProcess reference_gp(bool standardize) {
  GpOptions opt;
  opt.standardize = standardize;
  GaussianProcess gp(ref::kD, opt);
  gp.condition(ref::kX, ref::kY, reference_hyperparameters());
  return gp;
}

void expect_matches_sklearn(bool standardize, double lml, const double* grad, const double* mean,
                            const double* sd_noise, const double* sd_latent) {
  const GaussianProcess gp = reference_gp(standardize);
  EXPECT_NEAR(gp.log_marginal_likelihood(), lml, 1e-6);
  std::vector<double> g;
  EXPECT_NEAR(gp.log_marginal_likelihood(reference_hyperparameters(), &g), lml, 1e-6);
  ASSERT_EQ(g.size(), static_cast<size_t>(ref::kD + 2));
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], grad[i], 1e-6) << "gradient " << i;
  for (int t = 0; t < ref::kNTest; ++t) {
    const std::span<const double> x(ref::kXTest + t * ref::kD, ref::kD);
    const GpPrediction p = gp.predict(x);
    EXPECT_NEAR(p.mean, mean[t], 1e-6) << "test point " << t;
    EXPECT_NEAR(std::sqrt(p.variance), sd_latent[t], 1e-6) << "test point " << t;
    EXPECT_NEAR(std::sqrt(p.variance + gp.noise()), sd_noise[t], 1e-6) << "test point " << t;
  }
  std::vector<double> means(ref::kNTest), vars(ref::kNTest);
  gp.predict_batch(std::span<const double>(ref::kXTest, ref::kNTest * ref::kD), means, vars);
  for (int t = 0; t < ref::kNTest; ++t) {
    EXPECT_NEAR(means[static_cast<size_t>(t)], mean[t], 1e-6);
    EXPECT_NEAR(std::sqrt(vars[static_cast<size_t>(t)]), sd_latent[t], 1e-6);
  }
}

TEST(GaussianProcess, MatchesSklearnOnRawTargets) {
  expect_matches_sklearn(false, ref::kLmlRaw, ref::kLmlGradRaw, ref::kMeanRaw, ref::kSdWithNoiseRaw, ref::kSdLatentRaw);
}

TEST(GaussianProcess, MatchesSklearnOnStandardizedTargets) {
  expect_matches_sklearn(true, ref::kLmlStd, ref::kLmlGradStd, ref::kMeanStd, ref::kSdWithNoiseStd, ref::kSdLatentStd);
}

TEST(GaussianProcess, LmlGradientMatchesFiniteDifferences) {
  const GaussianProcess gp = reference_gp(true);
  for (const GpHyperparameters& h : {reference_hyperparameters(), GpHyperparameters{0.3, {2.0, 0.05, 0.4}, 1e-5},
                                     GpHyperparameters{8.0, {0.9, 0.9, 0.02}, 0.3}}) {
    std::vector<double> g;
    gp.log_marginal_likelihood(h, &g);
    const std::vector<double> theta = h.to_log();
    for (size_t i = 0; i < theta.size(); ++i) {
      const double e = 1e-6;
      auto plus = theta, minus = theta;
      plus[i] += e;
      minus[i] -= e;
      const double fd = (gp.log_marginal_likelihood(GpHyperparameters::from_log(plus), nullptr) -
                         gp.log_marginal_likelihood(GpHyperparameters::from_log(minus), nullptr)) /
                        (2 * e);
      EXPECT_NEAR(g[i], fd, 1e-5 * std::max(1.0, std::abs(fd))) << "parameter " << i;
    }
  }
}

TEST(GaussianProcess, PredictionGradientMatchesFiniteDifferences) {
  const GaussianProcess gp = reference_gp(true);
  const std::vector<double> x = {0.41, 0.77, 0.13};
  std::vector<double> dm(3), dv(3);
  gp.predict(x, dm, dv);
  for (size_t i = 0; i < 3; ++i) {
    const double e = 1e-6;
    auto plus = x, minus = x;
    plus[i] += e;
    minus[i] -= e;
    const GpPrediction a = gp.predict(plus), b = gp.predict(minus);
    EXPECT_NEAR(dm[i], (a.mean - b.mean) / (2 * e), 1e-6);
    EXPECT_NEAR(dv[i], (a.variance - b.variance) / (2 * e), 1e-6);
  }
}

TEST(GaussianProcess, AcquisitionGradientMatchesFiniteDifferences) {
  const GaussianProcess gp = reference_gp(true);
  double best = 1e9;
  for (double y : ref::kY) best = std::min(best, y);
  for (AcquisitionKind kind : {AcquisitionKind::kLogEi, AcquisitionKind::kEi}) {
    for (const std::vector<double>& x : {std::vector<double>{0.41, 0.77, 0.13}, {0.95, 0.05, 0.5}, {0.2, 0.99, 0.6}}) {
      std::vector<double> g(3);
      acquisition_at(gp, kind, best, x, g);
      for (size_t i = 0; i < 3; ++i) {
        const double e = 1e-6;
        auto plus = x, minus = x;
        plus[i] += e;
        minus[i] -= e;
        const double fd = (acquisition_at(gp, kind, best, plus) - acquisition_at(gp, kind, best, minus)) / (2 * e);
        EXPECT_NEAR(g[i], fd, 1e-5 * std::max(1.0, std::abs(fd))) << to_string(kind) << " coordinate " << i;
      }
    }
  }
}

TEST(GaussianProcess, FitFindsLongLengthscaleOnIrrelevantDimension) {
  // y depends on x0 only; x1 is noise-free irrelevant.
  Rng data_rng(5);
  std::vector<double> x, y;
  for (int i = 0; i < 30; ++i) {
    const double a = uniform01(data_rng), b = uniform01(data_rng);
    x.insert(x.end(), {a, b});
    y.push_back(std::sin(5.0 * a) + 0.3 * a);
  }
  GaussianProcess gp(2);
  Rng rng(1);
  gp.fit(x, y, rng);
  const auto& h = gp.hyperparameters();
  EXPECT_LT(h.lengthscales[0], 1.0);
  EXPECT_GT(h.lengthscales[1], 3.0);
  EXPECT_GT(h.lengthscales[1], 10.0 * h.lengthscales[0]);
  // The fit beats the default starting point in likelihood, and predicts a held-out point.
  EXPECT_GT(gp.log_marginal_likelihood(),
            gp.log_marginal_likelihood(GpHyperparameters{1.0, {0.5, 0.5}, 1e-3}, nullptr));
  const GpPrediction p = gp.predict(std::vector<double>{0.5, 0.123});
  EXPECT_NEAR(p.mean, std::sin(2.5) + 0.15, 0.02);
}

TEST(GaussianProcess, FitRecoversNoiseLevel) {
  Rng data_rng(9);
  std::vector<double> x, y;
  for (int i = 0; i < 80; ++i) {
    const double a = uniform01(data_rng);
    x.push_back(a);
    y.push_back(std::sin(4.0 * a) + 0.2 * standard_normal(data_rng));
  }
  GpOptions opt;
  opt.standardize = false;
  GaussianProcess gp(1, opt);
  Rng rng(2);
  gp.fit(x, y, rng);
  EXPECT_NEAR(std::sqrt(gp.hyperparameters().noise), 0.2, 0.06);
}

TEST(GaussianProcess, SameRngSameFit) {
  std::vector<double> x(ref::kX, ref::kX + ref::kN * ref::kD), y(ref::kY, ref::kY + ref::kN);
  GaussianProcess a(ref::kD), b(ref::kD);
  Rng ra(4), rb(4);
  a.fit(x, y, ra);
  b.fit(x, y, rb);
  EXPECT_EQ(a.hyperparameters().lengthscales, b.hyperparameters().lengthscales);
  EXPECT_EQ(a.log_marginal_likelihood(), b.log_marginal_likelihood());
}

TEST(GaussianProcess, HandlesDuplicatePointsAndConstantTargets) {
  GaussianProcess gp(2);
  Rng rng(1);
  const std::vector<double> x = {0.5, 0.5, 0.5, 0.5, 0.1, 0.9};
  gp.fit(x, std::vector<double>{1.0, 1.0, 1.0}, rng);
  const GpPrediction p = gp.predict(std::vector<double>{0.5, 0.5});
  EXPECT_NEAR(p.mean, 1.0, 1e-6);
  EXPECT_TRUE(std::isfinite(p.variance) && p.variance > 0);
}

TEST(GaussianProcess, RejectsMismatchedShapes) {
  GaussianProcess gp(2);
  Rng rng(1);
  EXPECT_THROW(gp.fit(std::vector<double>{0.1, 0.2, 0.3}, std::vector<double>{1.0, 2.0}, rng), InvalidArgument);
  EXPECT_THROW(gp.predict(std::vector<double>{0.1, 0.2}), InvalidArgument);  // no data yet
  EXPECT_THROW(GaussianProcess(0), InvalidArgument);
  GpOptions bad;
  bad.min_noise = 0.0;
  EXPECT_THROW(GaussianProcess(1, bad), InvalidArgument);
}

}  // namespace
}  // namespace metadial::optim
