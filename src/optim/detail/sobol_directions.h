// Joe & Kuo's Sobol direction numbers (new-joe-kuo-6.21201), first kSobolDims dimensions.
// Generated table in sobol_directions.cpp (see sobol_directions_gen.py beside it).
#pragma once

#include <cstdint>

namespace metadial::optim::detail {

/// Number of dimensions with direction numbers (dimension 1 + the table's rows).
inline constexpr int kSobolDims = 64;

/// One row of new-joe-kuo-6.21201: dimension d, degree s of the primitive polynomial, its
/// interior coefficients a (bit s-2 .. bit 0 = a_1 .. a_{s-1}), and initial numbers m_1..m_s.
struct SobolRow {
  int d;
  int s;
  uint32_t a;
  uint32_t m[18];
};

/// Rows for dimensions 2..kSobolDims.
extern const SobolRow kSobolRows[kSobolDims - 1];

}  // namespace metadial::optim::detail
