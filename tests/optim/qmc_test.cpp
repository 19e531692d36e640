// Sobol sequence (against scipy's unscrambled points, net properties with and without scramble,
// discrepancy) and Latin hypercubes.
#include "metadial/optim/qmc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "metadial/core/error.h"
#include "optim/sobol_reference.h"

namespace metadial::optim {
namespace {

// L2-star discrepancy of points in [0,1]^d (Warnock's formula).
double l2_star_discrepancy(const std::vector<std::vector<double>>& pts) {
  const size_t n = pts.size(), d = pts.front().size();
  double a = 0, b = 0;
  for (const auto& p : pts) {
    double prod = 1;
    for (double x : p) prod *= (1 - x * x) / 2;
    a += prod;
  }
  for (const auto& p : pts) {
    for (const auto& q : pts) {
      double prod = 1;
      for (size_t k = 0; k < d; ++k) prod *= 1 - std::max(p[k], q[k]);
      b += prod;
    }
  }
  const double nn = static_cast<double>(n);
  return std::sqrt(std::pow(1.0 / 3.0, static_cast<double>(d)) - 2.0 * a / nn + b / (nn * nn));
}

// True if the first 2^k points put exactly one point in each cell [i/2^k, (i+1)/2^k) of dimension j.
bool stratified(const SobolSequence& seq, int k, size_t j) {
  const uint64_t n = uint64_t{1} << k;
  std::vector<int> count(n, 0);
  for (uint64_t i = 0; i < n; ++i) {
    const double x = seq.point(i)[j];
    if (!(x >= 0.0 && x < 1.0)) return false;
    ++count[static_cast<size_t>(std::floor(x * static_cast<double>(n)))];
  }
  return std::all_of(count.begin(), count.end(), [](int c) { return c == 1; });
}

TEST(SobolSequence, MatchesScipyUnscrambledPoints) {
  const SobolSequence seq(sobol_reference::kD);
  for (int n = 0; n < sobol_reference::kN; ++n) {
    const std::vector<double> p = seq.point(static_cast<uint64_t>(n));
    for (int j = 0; j < sobol_reference::kD; ++j) {
      ASSERT_EQ(p[static_cast<size_t>(j)] * 64.0, sobol_reference::kPoints64[n * sobol_reference::kD + j])
          << "point " << n << " dimension " << j;
    }
  }
}

TEST(SobolSequence, MatchesScipyAtFarIndices) {
  const SobolSequence seq(sobol_reference::kD);
  const size_t n_far = std::size(sobol_reference::kFarIndex);
  for (size_t f = 0; f < n_far; ++f) {
    const std::vector<double> p = seq.point(sobol_reference::kFarIndex[f]);
    for (size_t j = 0; j < p.size(); ++j) {
      ASSERT_EQ(p[j] * 0x1p30, sobol_reference::kFarPoints[f * p.size() + j])
          << "index " << sobol_reference::kFarIndex[f] << " dimension " << j;
    }
  }
}

TEST(SobolSequence, FirstPowerOfTwoPointsFillEveryCellOnceInEachDimension) {
  const SobolSequence seq(SobolSequence::kMaxDim);
  for (int k : {1, 4, 8, 10}) {
    for (size_t j = 0; j < seq.dim(); ++j) EXPECT_TRUE(stratified(seq, k, j)) << "k " << k << " dimension " << j;
  }
}

TEST(SobolSequence, ScrambledPointsStayStratifiedInEachDimension) {
  for (uint64_t seed : {1u, 2u, 77u}) {
    const SobolSequence seq(40, seed);
    EXPECT_TRUE(seq.scrambled());
    for (int k : {1, 5, 9}) {
      for (size_t j = 0; j < seq.dim(); ++j)
        EXPECT_TRUE(stratified(seq, k, j)) << "seed " << seed << " k " << k << " dim " << j;
    }
  }
}

TEST(SobolSequence, ScrambleDependsOnSeedAndMovesPoints) {
  const SobolSequence plain(3), a(3, 5), b(3, 5), c(3, 6);
  EXPECT_EQ(a.point(7), b.point(7));
  EXPECT_NE(a.point(7), c.point(7));
  EXPECT_NE(a.point(0), plain.point(0));  // the plain sequence starts at the origin
  EXPECT_EQ(plain.point(0), std::vector<double>(3, 0.0));
}

// Leading pairs of dimensions (some later pairs of Sobol's sequence, e.g. 30 and 39, are worse
// than random at 256 points, in scipy as here).
TEST(SobolSequence, TwoDimensionalDiscrepancyIsBelowRandom) {
  constexpr size_t kN = 256;
  for (auto [j1, j2] : {std::pair<size_t, size_t>{0, 1}, {2, 3}, {4, 5}}) {
    double worst_sobol = 0, best_random = 1e9;
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      const SobolSequence seq(40, seed);
      std::vector<std::vector<double>> s, r;
      Rng rng(seed);
      for (size_t i = 0; i < kN; ++i) {
        const auto p = seq.point(i);
        s.push_back({p[j1], p[j2]});
        r.push_back({uniform01(rng), uniform01(rng)});
      }
      worst_sobol = std::max(worst_sobol, l2_star_discrepancy(s));
      best_random = std::min(best_random, l2_star_discrepancy(r));
    }
    EXPECT_LT(worst_sobol, best_random) << "dimensions " << j1 << ", " << j2;
    EXPECT_LT(worst_sobol, 0.5 * best_random) << "dimensions " << j1 << ", " << j2;
  }
}

TEST(SobolSequence, RejectsDimensionsWithoutDirectionNumbers) {
  EXPECT_THROW(SobolSequence(0), InvalidArgument);
  EXPECT_THROW(SobolSequence(SobolSequence::kMaxDim + 1), InvalidArgument);
  EXPECT_NO_THROW(SobolSequence(SobolSequence::kMaxDim, 3));
}

TEST(LatinHypercube, EveryCellOfEveryDimensionHoldsOnePoint) {
  Rng rng(11);
  constexpr size_t kN = 17, kD = 5;
  const std::vector<double> x = latin_hypercube(kN, kD, rng);
  ASSERT_EQ(x.size(), kN * kD);
  for (size_t j = 0; j < kD; ++j) {
    std::set<size_t> cells;
    for (size_t i = 0; i < kN; ++i) {
      const double u = x[i * kD + j];
      ASSERT_GE(u, 0.0);
      ASSERT_LT(u, 1.0);
      cells.insert(static_cast<size_t>(u * kN));
    }
    EXPECT_EQ(cells.size(), kN) << "dimension " << j;
  }
}

TEST(LatinHypercube, SameSeedSameDesign) {
  Rng a(3), b(3), c(4);
  EXPECT_EQ(latin_hypercube(8, 3, a), latin_hypercube(8, 3, b));
  Rng a2(3);
  EXPECT_NE(latin_hypercube(8, 3, a2), latin_hypercube(8, 3, c));
}

TEST(UniformIndex, CoversTheRangeAndStaysInside) {
  Rng rng(1);
  std::vector<int> count(7, 0);
  for (int i = 0; i < 7000; ++i) ++count[uniform_below(rng, 7)];
  for (int c : count) EXPECT_NEAR(c, 1000, 150);
}

}  // namespace
}  // namespace metadial::optim
