// GP-prior functions through random Fourier features: covariance, normalization, minimum,
// gradients, and multi-fidelity correlation.
#include "metadial/meta/gp_prior.h"

#include <gtest/gtest.h>

#include <cmath>

#include "metadial/core/error.h"

namespace metadial::meta {
namespace {

// Over many draws, E[f(x) f(x')] = sigma^2 k(|x - x'| / l): the spectral sampling of each kernel is
// right. The kernel values at r = l differ by more than the tolerance (RBF 0.607, Matern-5/2
// 0.524, Matern-3/2 0.483), so a wrong spectral density fails.
TEST(GpPrior, RffCovarianceMatchesKernel) {
  for (PriorKernel kernel : {PriorKernel::kRbf, PriorKernel::kMatern32, PriorKernel::kMatern52}) {
    GpPriorOptions o;
    o.dim = 2;
    o.kernels = {kernel};
    o.min_lengthscale = o.max_lengthscale = 0.3;
    o.dim_scaled = false;
    o.min_variance = o.max_variance = 1.5;
    o.n_features = 32;
    o.normalize = false;
    Rng rng(7);
    const int n = 20000;
    const std::vector<double> radii = {0.0, 0.15, 0.3, 0.6};
    std::vector<double> sums(radii.size(), 0.0);
    const std::vector<double> x0 = {0.2, 0.4};
    for (int i = 0; i < n; ++i) {
      const RffFunction f = sample_gp_function(o, rng);
      const double f0 = f.value(x0);
      for (size_t k = 0; k < radii.size(); ++k) {
        // Along the diagonal direction (1, 1) / sqrt(2).
        const std::vector<double> x1 = {x0[0] + radii[k] / std::sqrt(2.0), x0[1] + radii[k] / std::sqrt(2.0)};
        sums[k] += f0 * f.value(x1);
      }
    }
    for (size_t k = 0; k < radii.size(); ++k) {
      const double want = 1.5 * kernel_correlation(kernel, radii[k] / 0.3);
      EXPECT_NEAR(sums[k] / n, want, 0.04) << to_string(kernel) << " r=" << radii[k];
    }
  }
}

TEST(GpPrior, KernelCorrelationHandValues) {
  EXPECT_NEAR(kernel_correlation(PriorKernel::kRbf, 1.0), std::exp(-0.5), 1e-15);
  EXPECT_NEAR(kernel_correlation(PriorKernel::kMatern32, 1.0), (1 + std::sqrt(3.0)) * std::exp(-std::sqrt(3.0)), 1e-15);
  EXPECT_NEAR(kernel_correlation(PriorKernel::kMatern52, 1.0), (1 + std::sqrt(5.0) + 5.0 / 3.0) * std::exp(-std::sqrt(5.0)),
              1e-15);
  EXPECT_EQ(kernel_correlation(PriorKernel::kMatern52, 0.0), 1.0);
}

TEST(GpPrior, NormalizedSamplesHaveUnitScaleInEveryDimension) {
  for (int d = 1; d <= 6; ++d) {
    GpPriorOptions o;
    o.dim = d;
    o.refine_steps = 100;
    o.n_normalize = 2048;
    Rng rng(static_cast<uint64_t>(d));
    double mean_abs = 0, sd_sum = 0;
    const int reps = 20;
    for (int r = 0; r < reps; ++r) {
      const RffFunction f = sample_gp_function(o, rng);
      Rng pr(100 + static_cast<uint64_t>(r));
      double s = 0, s2 = 0, fresh_min = INFINITY;
      const int n = 2000;
      std::vector<double> x(static_cast<size_t>(d));
      for (int i = 0; i < n; ++i) {
        for (auto& v : x) v = uniform01(pr);
        const double y = f.value(x);
        s += y;
        s2 += y * y;
        fresh_min = std::min(fresh_min, y);
      }
      mean_abs += std::abs(s / n);
      sd_sum += std::sqrt(s2 / n - (s / n) * (s / n));
      // The estimated minimum is attained at argmin, and is below (or within 0.02 of) the best of
      // 2000 fresh points.
      ASSERT_EQ(f.argmin.size(), static_cast<size_t>(d));
      EXPECT_DOUBLE_EQ(f.value(f.argmin), f.minimum);
      EXPECT_LT(f.minimum, fresh_min + 0.02) << "d=" << d;
      for (double v : f.argmin) EXPECT_TRUE(v >= 0.0 && v <= 1.0);
    }
    EXPECT_LT(mean_abs / reps, 0.15) << "d=" << d;
    EXPECT_NEAR(sd_sum / reps, 1.0, 0.1) << "d=" << d;
  }
}

TEST(GpPrior, GradientMatchesFiniteDifferences) {
  GpPriorOptions o;
  o.dim = 3;
  Rng rng(3);
  const RffFunction f = sample_gp_function(o, rng);
  const std::vector<double> x = {0.3, 0.6, 0.1};
  std::vector<double> g(3);
  const double v = f.value(x, g);
  EXPECT_DOUBLE_EQ(v, f.value(x));
  for (size_t k = 0; k < 3; ++k) {
    auto xp = x, xm = x;
    xp[k] += 1e-6;
    xm[k] -= 1e-6;
    EXPECT_NEAR(g[k], (f.value(xp) - f.value(xm)) / 2e-6, 1e-5 * (1 + std::abs(g[k])));
  }
}

// The bumps family by hand: one bump of weight w, centre c, widths s adds w exp(-|(x-c)/s|^2/2).
TEST(GpPrior, BumpsAreGaussianBasinsAndTheirGradientMatchesFiniteDifferences) {
  RffFunction f;
  f.dim = 2;
  f.offset = 0.25;
  f.bump_centre = {0.3, 0.7};
  f.bump_scale = {1.0 / 0.1, 1.0 / 0.2};
  f.bump_weight = {-2.0};
  const std::vector<double> x = {0.4, 0.5};
  // z = ((0.4 - 0.3) / 0.1, (0.5 - 0.7) / 0.2) = (1, -1): 0.25 - 2 e^-1.
  EXPECT_NEAR(f.value(x), 0.25 - 2.0 * std::exp(-1.0), 1e-12);
  EXPECT_NEAR(f.value(std::vector<double>{0.3, 0.7}), -1.75, 1e-12);

  GpPriorOptions o;
  o.dim = 3;
  o.bump_fraction = 1.0;
  o.anisotropy = 4.0;
  o.refine_steps = 100;
  o.n_normalize = 512;
  Rng rng(4);
  for (int rep = 0; rep < 5; ++rep) {
    const RffFunction g = sample_gp_function(o, rng);
    EXPECT_EQ(g.family, "bumps");
    EXPECT_GE(g.n_bumps(), 1u);
    EXPECT_LE(g.n_bumps(), 8u);
    const std::vector<double> p = {0.31, 0.52, 0.83};
    std::vector<double> grad(3);
    EXPECT_DOUBLE_EQ(g.value(p, grad), g.value(p));
    for (size_t k = 0; k < 3; ++k) {
      auto xp = p, xm = p;
      xp[k] += 1e-6;
      xm[k] -= 1e-6;
      EXPECT_NEAR(grad[k], (g.value(xp) - g.value(xm)) / 2e-6, 1e-5 * (1 + std::abs(grad[k])));
    }
    // The estimated minimum is no worse than every bump centre (they are starts of the search).
    for (size_t i = 0; i < g.n_bumps(); ++i) {
      const std::vector<double> c(g.bump_centre.begin() + static_cast<std::ptrdiff_t>(3 * i),
                                  g.bump_centre.begin() + static_cast<std::ptrdiff_t>(3 * i + 3));
      EXPECT_LE(g.minimum, g.value(c) + 1e-12);
    }
  }
  // The default prior draws no bumps and isotropic functions, exactly as before these options.
  GpPriorOptions plain;
  plain.dim = 2;
  Rng a(5), b(5);
  GpPriorOptions none = plain;
  none.bump_fraction = 0.0;
  none.anisotropy = 1.0;
  const RffFunction fa = sample_gp_function(plain, a), fb = sample_gp_function(none, b);
  EXPECT_EQ(fa.n_bumps(), 0u);
  EXPECT_EQ(fa.family, "gp");
  EXPECT_EQ(fa.value(x), fb.value(x));
}

// Anisotropy a: each dimension's frequencies are divided by a factor in [1/a, a].
TEST(GpPrior, AnisotropyStretchesEachDimensionWithinItsRange) {
  GpPriorOptions o;
  o.dim = 2;
  o.kernels = {PriorKernel::kRbf};
  o.min_lengthscale = o.max_lengthscale = 0.2;
  o.dim_scaled = false;
  o.anisotropy = 10.0;
  o.n_features = 4000;
  o.normalize = false;
  Rng rng(8);
  double max_ratio = 1.0;
  for (int rep = 0; rep < 6; ++rep) {
    const RffFunction f = sample_gp_function(o, rng);
    // RBF: omega_k ~ N(0, 1 / (l a_k)^2), so the sd of omega_k over features is 1 / (0.2 a_k).
    double s0 = 0, s1 = 0;
    for (size_t j = 0; j < f.n_features(); ++j) {
      s0 += f.omega[2 * j] * f.omega[2 * j];
      s1 += f.omega[2 * j + 1] * f.omega[2 * j + 1];
    }
    const double a0 = 1.0 / (0.2 * std::sqrt(s0 / static_cast<double>(f.n_features())));
    const double a1 = 1.0 / (0.2 * std::sqrt(s1 / static_cast<double>(f.n_features())));
    for (double a : {a0, a1}) {
      EXPECT_GT(a, 0.1 * 0.93);
      EXPECT_LT(a, 10.0 * 1.07);
    }
    max_ratio = std::max(max_ratio, std::max(a0 / a1, a1 / a0));
  }
  EXPECT_GT(max_ratio, 2.0);  // the dimensions do differ
  GpPriorOptions bad = o;
  bad.anisotropy = 0.5;
  EXPECT_THROW(sample_gp_function(bad, rng), InvalidArgument);
}

TEST(GpPrior, SameSeedSameFunctionOtherSeedOther) {
  GpPriorOptions o;
  o.dim = 2;
  Rng a(5), b(5), c(6);
  const auto fa = sample_gp_function(o, a), fb = sample_gp_function(o, b), fc = sample_gp_function(o, c);
  const std::vector<double> x = {0.5, 0.25};
  EXPECT_EQ(fa.value(x), fb.value(x));
  EXPECT_NE(fa.value(x), fc.value(x));
}

TEST(GpPrior, CombineIsTheLinearMix) {
  GpPriorOptions o;
  o.dim = 2;
  Rng rng(9);
  const auto f = sample_gp_function(o, rng), g = sample_gp_function(o, rng);
  const auto h = f.combine(0.3, g, -2.0, 0.7);
  const std::vector<double> x = {0.1, 0.9};
  EXPECT_NEAR(h.value(x), 0.3 * f.value(x) - 2.0 * g.value(x) + 0.7, 1e-12);
  EXPECT_EQ(h.n_features(), f.n_features() + g.n_features());
}

// rho_m is the correlation of fidelity m with the target over the cube: 0.6, 0.8, 1.0 for M = 3.
TEST(GpPrior, MultiFidelityCorrelationIsControlled) {
  GpPriorOptions o;
  o.dim = 2;
  FidelityOptions fo;
  fo.fidelities = 3;
  fo.low_correlation = 0.6;
  ASSERT_EQ(fo.correlations(), (std::vector<double>{0.6, 0.8, 1.0}));
  ASSERT_EQ(fo.cost_vector(), (std::vector<double>{1.0, 10.0, 100.0}));
  Rng rng(11);
  double c0 = 0, c1 = 0;
  const int reps = 30;
  for (int r = 0; r < reps; ++r) {
    const auto mf = sample_multi_fidelity(o, fo, rng);
    ASSERT_EQ(mf.n_fidelities(), 3);
    Rng pr(static_cast<uint64_t>(r));
    const double r0 = correlation(mf.levels[0], mf.target(), 2000, pr);
    const double r1 = correlation(mf.levels[1], mf.target(), 2000, pr);
    EXPECT_NEAR(r0, 0.6, 0.15);
    EXPECT_NEAR(r1, 0.8, 0.1);
    c0 += r0;
    c1 += r1;
  }
  EXPECT_NEAR(c0 / reps, 0.6, 0.04);
  EXPECT_NEAR(c1 / reps, 0.8, 0.03);
}

TEST(GpPrior, MultiFidelityTargetIsANormalizedSample) {
  GpPriorOptions o;
  o.dim = 1;
  o.normalize = false;  // implied anyway for families
  FidelityOptions fo;
  fo.costs = {2.0, 5.0};
  Rng rng(1);
  const auto mf = sample_multi_fidelity(o, fo, rng);
  EXPECT_EQ(mf.costs, (std::vector<double>{2.0, 5.0}));
  EXPECT_EQ(mf.target().argmin.size(), 1u);
  EXPECT_EQ(mf.levels[0].n_features(), 2 * mf.target().n_features());
}

TEST(GpPrior, LengthscaleRangeScalesWithSqrtDim) {
  GpPriorOptions o;
  o.dim = 4;
  o.min_lengthscale = 0.1;
  o.max_lengthscale = 0.2;
  Rng rng(2);
  for (int i = 0; i < 20; ++i) {
    const auto f = sample_gp_function(o, rng);
    EXPECT_GE(f.lengthscale, 0.2 - 1e-12);
    EXPECT_LE(f.lengthscale, 0.4 + 1e-12);
  }
  o.dim_scaled = false;
  const auto g = sample_gp_function(o, rng);
  EXPECT_LE(g.lengthscale, 0.2 + 1e-12);
}

TEST(GpPrior, BadOptionsThrowOneLine) {
  GpPriorOptions o;
  o.dim = 0;
  Rng rng(0);
  EXPECT_THROW(sample_gp_function(o, rng), InvalidArgument);
  o.dim = 2;
  o.min_lengthscale = 0.5;
  o.max_lengthscale = 0.1;
  EXPECT_THROW(sample_gp_function(o, rng), InvalidArgument);
  FidelityOptions fo;
  fo.costs = {10.0, 1.0};
  EXPECT_THROW(fo.validate(), InvalidArgument);
  EXPECT_THROW(kernel_from_string("cauchy"), InvalidArgument);
  EXPECT_EQ(kernel_from_string("matern32"), PriorKernel::kMatern32);
}

}  // namespace
}  // namespace metadial::meta
