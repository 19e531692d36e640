// Seeds and random generators. Every component takes a seed; sub-streams are derived from it
// (splitmix64), so that "trial 17 of study seed 3" always sees the same random numbers,
// whatever ran before it: this is what lets a sampler rebuild its state from the history alone.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <random>

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

}  // namespace metadial
