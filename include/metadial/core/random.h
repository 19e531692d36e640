// Seeds and random generators. Every component takes a seed; sub-streams are derived from it
// (splitmix64), so that "trial 17 of study seed 3" always sees the same random numbers,
// whatever ran before it: this is what lets a sampler rebuild its state from the history alone.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <string_view>
#include <utility>

namespace metadial {

/// The generator used across metadial: std::mt19937_64's exact output sequence (tested draw for draw
/// against it), but lazy: std's engine writes its whole 312-word state at seeding and regenerates all
/// 312 words at the first draw (about 1.5 us), while metadial seeds one generator per trial,
/// suggestion or episode and often draws a handful of numbers from it. This one initializes and
/// twists each state word only when the draw that needs it comes (the twist of word i reads words
/// i + 1 and i + 156, so word i's output is the same whether the block is twisted at once or in
/// order). A UniformRandomBitGenerator: std's distributions accept it.
class Rng {
 public:
  using result_type = uint64_t;
  static constexpr result_type default_seed = 5489u;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }

  Rng() : Rng(default_seed) {}
  explicit Rng(result_type seed) { this->seed(seed); }

  /// Restart the sequence of std::mt19937_64(seed).
  void seed(result_type seed) {
    x_[0] = seed;
    ready_ = 1;
    next_ = 0;
  }

  result_type operator()() {
    const size_t i = next_;
    if (ready_ < kN) init_until(std::min(kN, i + kM + 1));  // the first block: words i + 1 and i + 156
    const uint64_t y = (x_[i] & kUpper) | (x_[i + 1 < kN ? i + 1 : 0] & kLower);
    x_[i] = x_[i < kN - kM ? i + kM : i - (kN - kM)] ^ (y >> 1) ^ ((y & 1) ? kA : 0);
    next_ = i + 1 < kN ? i + 1 : 0;
    uint64_t z = x_[i];
    z ^= (z >> 29) & 0x5555555555555555ULL;
    z ^= (z << 17) & 0x71D67FFFEDA60000ULL;
    z ^= (z << 37) & 0xFFF7EEE000000000ULL;
    return z ^ (z >> 43);
  }

  void discard(unsigned long long n) {
    for (; n > 0; --n) (void)(*this)();
  }

 private:
  static constexpr size_t kN = 312, kM = 156;
  static constexpr uint64_t kA = 0xB5026F5AA96619E9ULL, kUpper = ~uint64_t{0} << 31, kLower = ~kUpper;

  // std::mt19937_64's seeding recurrence, run only as far as the draws need.
  void init_until(size_t n) {
    for (; ready_ < n; ++ready_) x_[ready_] = 6364136223846793005ULL * (x_[ready_ - 1] ^ (x_[ready_ - 1] >> 62)) + ready_;
  }

  uint64_t x_[kN];
  size_t ready_ = 0;  ///< words of x_ written by the seeding (kN once the first block is twisted)
  size_t next_ = 0;   ///< the word the next draw twists and returns
};

/// One splitmix64 step: a well-mixed 64-bit value from any 64-bit input.
constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// The key of the sub-stream named `name` (1 to 8 ASCII characters packed big-endian, so
/// stream("eval") == 0x6576616c): `derive_seed(seed, {stream("eval")})` reads as what it is and
/// gives the same seed as the bare hex tag it replaces. A longer or empty name does not compile.
consteval uint64_t stream(std::string_view name) {
  if (name.empty() || name.size() > 8) throw "stream(): the name must have 1 to 8 characters";
  uint64_t key = 0;
  for (char c : name) key = (key << 8) | static_cast<unsigned char>(c);
  return key;
}

/// A seed for a sub-stream identified by `keys`, derived from `seed`.
inline uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> keys) {
  uint64_t h = splitmix64(seed);
  for (uint64_t k : keys) h = splitmix64(h ^ splitmix64(k + 0x632BE59BD9B4E019ULL));
  return h;
}

/// Uniform double in [0, 1) with 53 random bits (the same on every standard library,
/// unlike std::uniform_real_distribution whose algorithm is implementation-defined).
inline double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// Standard normal by Box-Muller on uniform01 (portable across standard libraries).
double standard_normal(Rng& rng);

/// Uniform index in [0, n) for n >= 1: floor(uniform01 * n) (portable; one draw).
inline size_t uniform_below(Rng& rng, size_t n) {
  return std::min(static_cast<size_t>(uniform01(rng) * static_cast<double>(n)), n - 1);
}

/// Fisher-Yates shuffle in place: for i = n-1 down to 1, swap items[i] with items[uniform_below(rng,
/// i + 1)]. Portable (std::shuffle's draws are implementation-defined): the same order with every
/// standard library. The one shuffle of metadial.
template <typename T>
void shuffle(std::span<T> items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[uniform_below(rng, i)]);
}

/// shuffle() of a whole container (std::vector, std::array, ...).
template <typename Container>
  requires requires(Container& c) { std::span(c); }
void shuffle(Container& items, Rng& rng) {
  shuffle(std::span(items), rng);
}

}  // namespace metadial
