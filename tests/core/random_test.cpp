// The shared random helpers (stream names, shuffle) and the reward-to-go.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/core/returns.h"

namespace metadial {
namespace {

TEST(Stream, NamesPackToTheHexTagsTheyReplace) {
  static_assert(stream("eval") == 0x6576616cULL);
  static_assert(stream("init") == 0x696e6974ULL);
  static_assert(stream("folds") == 0x666f6c6473ULL);
  static_assert(stream("rl") == 0x726cULL);
  static_assert(stream("12345678") == 0x3132333435363738ULL);
  EXPECT_EQ(derive_seed(7, {stream("eval")}), derive_seed(7, {0x6576616cULL}));
  EXPECT_NE(derive_seed(7, {stream("eval")}), derive_seed(7, {stream("test")}));
}

TEST(Shuffle, IsAPermutationSameSeedSameOrderOtherSeedOther) {
  auto shuffled = [](uint64_t seed) {
    std::vector<int> v(50);
    std::iota(v.begin(), v.end(), 0);
    Rng rng(seed);
    shuffle(v, rng);
    return v;
  };
  std::vector<int> sorted = shuffled(1);
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_EQ(shuffled(1), shuffled(1));
  EXPECT_NE(shuffled(1), shuffled(2));
  EXPECT_NE(shuffled(1), identity);
}

// The draw sequence is part of the contract (data splits and batch orders of earlier runs stay
// the same): Fisher-Yates from the back, j = floor(uniform01 * (i + 1)).
TEST(Shuffle, DrawsFromTheBackOneUniformPerSwap) {
  std::vector<int> v{0, 1, 2, 3, 4, 5, 6};
  std::vector<int> want = v;
  Rng rng(3), ref(3);
  shuffle(v, rng);
  for (size_t i = want.size() - 1; i > 0; --i) {
    const auto j = std::min(static_cast<size_t>(uniform01(ref) * static_cast<double>(i + 1)), i);
    std::swap(want[i], want[j]);
  }
  EXPECT_EQ(v, want);
  EXPECT_EQ(rng(), ref());  // and no more draws than that
  std::vector<int> empty, one{4};
  shuffle(empty, rng);
  shuffle(one, rng);
  EXPECT_EQ(one, std::vector<int>{4});
}

// Rng is std::mt19937_64's sequence, drawn lazily: every earlier result's random numbers stay the same.
TEST(Rng, DrawsExactlyStdMt19937_64) {
  for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{5489}, uint64_t{0xFFFFFFFFFFFFFFFFULL},
                        derive_seed(42, {stream("eval")})}) {
    Rng rng(seed);
    std::mt19937_64 ref(seed);
    for (int k = 0; k < 1000; ++k) ASSERT_EQ(rng(), ref()) << "seed " << seed << ", draw " << k;  // 3+ blocks
  }
  Rng a, b;
  std::mt19937_64 ref;
  EXPECT_EQ(a(), ref());
  a.discard(400);
  ref.discard(400);
  EXPECT_EQ(a(), ref());
  b = a;  // a copy continues the same sequence
  const uint64_t next = ref();
  EXPECT_EQ(a(), next);
  EXPECT_EQ(b(), next);
  a.seed(9);
  ref.seed(9);
  EXPECT_EQ(a(), ref());
  // Copied in the middle of its first block (part of the state not yet seeded): the same.
  Rng c(11);
  std::mt19937_64 ref_c(11);
  for (int k = 0; k < 100; ++k) EXPECT_EQ(c(), ref_c());
  Rng d = c;
  for (int k = 0; k < 700; ++k) ASSERT_EQ(d(), ref_c()) << "draw " << k;
  // A UniformRandomBitGenerator: std's distributions take it (and draw what they draw from std's engine).
  std::uniform_int_distribution<int> die(1, 6);
  Rng e(12);
  std::mt19937_64 ref_e(12);
  for (int k = 0; k < 50; ++k) EXPECT_EQ(die(e), die(ref_e));
}

TEST(RewardToGo, MatchesHandComputedValues) {
  // r = (-1, -1, 14), gamma 0.5: G2 = 14, G1 = -1 + 7 = 6, G0 = -1 + 3 = 2.
  EXPECT_EQ(reward_to_go(std::vector<double>{-1.0, -1.0, 14.0}, 0.5), (std::vector<double>{2.0, 6.0, 14.0}));
  EXPECT_EQ(reward_to_go(std::vector<double>{-1.0, -1.0}, 1.0), (std::vector<double>{-2.0, -1.0}));
  EXPECT_TRUE(reward_to_go(std::vector<double>{}, 0.9).empty());
  std::vector<double> in_place{1.0, 2.0, 4.0};  // gamma 0.5: (1 + 2 * 0.5 + 4 * 0.25, 2 + 2, 4)
  reward_to_go(in_place, 0.5, in_place);
  EXPECT_EQ(in_place, (std::vector<double>{3.0, 4.0, 4.0}));
}

}  // namespace
}  // namespace metadial
