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

/// The generator used across metadial.
using Rng = std::mt19937_64;

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
