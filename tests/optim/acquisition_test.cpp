// Expected improvement and log-EI against 50-digit references (ei_reference.py), stability where
// EI underflows, and derivatives against finite differences.
#include "metadial/optim/acquisition.h"

#include <gtest/gtest.h>

#include <cmath>

#include "optim/ei_reference.h"

namespace metadial::optim {
namespace {

TEST(ExpectedImprovement, MatchesHandComputedValues) {
  // EI(mean 0, sd 1, best 0) = phi(0); EI(mean 1, sd 2, best 0) = 2 h(-0.5) with
  // h(-0.5) = phi(0.5) - 0.5 Phi(-0.5) = 0.35206532676 - 0.5 * 0.30853753873.
  EXPECT_NEAR(expected_improvement(0.0, 1.0, 0.0).value, 0.3989422804014327, 1e-15);
  EXPECT_NEAR(expected_improvement(1.0, 2.0, 0.0).value, 2 * 0.19779655740130603, 1e-15);
  // Improvement certain (z = 8): EI = best - mean up to phi(8) ~ 5e-15.
  EXPECT_NEAR(expected_improvement(-8.0, 1.0, 0.0).value, 8.0, 1e-13);
  for (const auto& row : ei_reference::kH) {
    if (row.h == 0.0 || row.z < -37.5) continue;
    const double ei = expected_improvement(-row.z * 3.0, 3.0, 0.0).value;  // z = (0 - mean) / 3
    EXPECT_NEAR(ei / (3.0 * row.h), 1.0, 1e-9) << "z = " << row.z;
  }
}

TEST(LogExpectedImprovement, MatchesReferenceForAllZ) {
  for (const auto& row : ei_reference::kH) {
    EXPECT_NEAR(log_h(row.z), row.log_h, 1e-12 * std::max(1.0, std::abs(row.log_h))) << "z = " << row.z;
    const double lei = log_expected_improvement(-row.z * 0.5, 0.5, 0.0).value;
    EXPECT_NEAR(lei, row.log_h + std::log(0.5), 1e-12 * std::max(1.0, std::abs(row.log_h))) << "z = " << row.z;
  }
}

TEST(LogExpectedImprovement, FiniteAndIncreasingWhereEiUnderflows) {
  EXPECT_EQ(expected_improvement(40.0, 1.0, 0.0).value, 0.0);  // z = -40: EI underflows
  double prev = -INFINITY;
  for (double z = -1e4; z <= 10.0; z += (z < -50 ? 7.3 : 0.01)) {
    const double v = log_h(z);
    ASSERT_TRUE(std::isfinite(v)) << "z = " << z;
    ASSERT_GT(v, prev) << "z = " << z;
    const double g = log_h_derivative(z);
    ASSERT_TRUE(std::isfinite(g) && g > 0) << "z = " << z;
    prev = v;
  }
}

TEST(LogExpectedImprovement, DerivativeMatchesFiniteDifferences) {
  for (double z : {6.0, 1.3, 0.0, -0.7, -0.999, -1.0, -1.001, -3.0, -12.0, -40.0, -300.0}) {
    const double eps = 1e-6 * std::max(1.0, std::abs(z));
    const double fd = (log_h(z + eps) - log_h(z - eps)) / (2 * eps);
    EXPECT_NEAR(log_h_derivative(z), fd, 1e-6 * std::max(1.0, std::abs(fd))) << "z = " << z;
  }
  for (const auto& [mean, sd, best] : {std::tuple{0.3, 0.7, 0.1}, {5.0, 0.2, 0.0}, {-1.0, 2.0, 0.5}}) {
    const double e = 1e-6;
    const auto a = log_expected_improvement(mean, sd, best);
    const double dm =
        (log_expected_improvement(mean + e, sd, best).value - log_expected_improvement(mean - e, sd, best).value) /
        (2 * e);
    const double ds =
        (log_expected_improvement(mean, sd + e, best).value - log_expected_improvement(mean, sd - e, best).value) /
        (2 * e);
    EXPECT_NEAR(a.d_mean, dm, 1e-5 * std::max(1.0, std::abs(dm)));
    EXPECT_NEAR(a.d_sd, ds, 1e-5 * std::max(1.0, std::abs(ds)));
    const auto b = expected_improvement(mean, sd, best);
    const double em =
        (expected_improvement(mean + e, sd, best).value - expected_improvement(mean - e, sd, best).value) / (2 * e);
    const double es =
        (expected_improvement(mean, sd + e, best).value - expected_improvement(mean, sd - e, best).value) / (2 * e);
    EXPECT_NEAR(b.d_mean, em, 1e-7);
    EXPECT_NEAR(b.d_sd, es, 1e-7);
  }
}

TEST(Erfcx, MatchesReferenceAcrossBothBranches) {
  for (const auto& row : ei_reference::kErfcx) {
    EXPECT_NEAR(erfcx(row.x) / row.erfcx, 1.0, 1e-13) << "x = " << row.x;
  }
}

TEST(ExpectedImprovement, RejectsNonPositiveSd) {
  EXPECT_ANY_THROW(expected_improvement(0.0, 0.0, 1.0));
  EXPECT_ANY_THROW(log_expected_improvement(0.0, -1.0, 1.0));
}

}  // namespace
}  // namespace metadial::optim
