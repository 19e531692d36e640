// Space-filling designs in the unit cube: the (scrambled) Sobol sequence and Latin hypercubes.
//
// SobolSequence gives point n of a Sobol sequence directly (no state), so the sampler that
// proposes trial n can take point n whatever ran before. Direction numbers are Joe & Kuo's
// new-joe-kuo-6.21201 for the first kMaxDim dimensions; points are enumerated in Gray-code
// order (as Joe & Kuo's generator and scipy.stats.qmc.Sobol do), so the first 2^k points
// form a (t, k, d)-net. The scramble is Matousek's random linear matrix scramble followed by a
// random digital shift (what scipy.stats.qmc.Sobol(scramble=True) does), drawn from a seed:
// it keeps every 1-d projection of the first 2^k points one point per cell of width 2^-k.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "metadial/core/random.h"

namespace metadial::optim {

/// Sobol points in [0,1)^dim, optionally scrambled. Immutable after construction.
class SobolSequence {
 public:
  /// Dimensions that have Joe & Kuo direction numbers.
  static constexpr size_t kMaxDim = 64;
  /// Bits per coordinate: 2^kBits points before the sequence repeats.
  static constexpr int kBits = 32;

  /// A sequence in `dim` dimensions (1 <= dim <= kMaxDim, else InvalidArgument); scrambled
  /// with a scramble drawn from `scramble_seed` if given, the plain sequence otherwise.
  explicit SobolSequence(size_t dim, std::optional<uint64_t> scramble_seed = std::nullopt);

  size_t dim() const { return dim_; }
  bool scrambled() const { return scrambled_; }

  /// Point `index` (0-based) of the sequence; index < 2^kBits.
  std::vector<double> point(uint64_t index) const;

 private:
  size_t dim_;
  bool scrambled_;
  std::vector<uint32_t> directions_;  // dim_ x kBits, row-major: column j holds bit j's number
  std::vector<uint32_t> shift_;       // digital shift per dimension (0 when not scrambled)
};

/// A Latin hypercube of n points in [0,1)^dim, row-major (n x dim): in every dimension each
/// of the n cells [i/n, (i+1)/n) holds exactly one point, placed uniformly inside it.
std::vector<double> latin_hypercube(size_t n, size_t dim, Rng& rng);

}  // namespace metadial::optim
