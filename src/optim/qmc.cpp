#include "metadial/optim/qmc.h"

#include <algorithm>
#include <cmath>

#include "metadial/core/error.h"
#include "optim/detail/sobol_directions.h"

namespace metadial::optim {
namespace {

constexpr int kBits = SobolSequence::kBits;

// Direction numbers v_1..v_kBits of one dimension as kBits-bit integers (v_j = m_j / 2^j,
// scaled by 2^kBits): Bratley & Fox's recurrence on the primitive polynomial of degree s,
//   m_k = 2^s m_{k-s} xor m_{k-s} xor  xor_{i=1..s-1} 2^i a_i m_{k-i}.
std::vector<uint32_t> direction_numbers(size_t dim_index) {
  std::vector<uint64_t> m(kBits);
  if (dim_index == 0) {
    std::fill(m.begin(), m.end(), 1);
  } else {
    const detail::SobolRow& row = detail::kSobolRows[dim_index - 1];
    const int s = row.s;
    for (int k = 0; k < s && k < kBits; ++k) m[static_cast<size_t>(k)] = row.m[k];
    for (int k = s; k < kBits; ++k) {
      uint64_t v = m[static_cast<size_t>(k - s)];
      v ^= m[static_cast<size_t>(k - s)] << s;
      for (int i = 1; i < s; ++i) {
        const uint64_t a_i = (row.a >> (s - 1 - i)) & 1U;
        if (a_i) v ^= m[static_cast<size_t>(k - i)] << i;
      }
      m[static_cast<size_t>(k)] = v;
    }
  }
  std::vector<uint32_t> v(kBits);
  for (int k = 0; k < kBits; ++k) {
    v[static_cast<size_t>(k)] = static_cast<uint32_t>(m[static_cast<size_t>(k)] << (kBits - 1 - k));
  }
  return v;
}

uint32_t parity(uint32_t x) { return static_cast<uint32_t>(__builtin_parity(x)); }

}  // namespace

SobolSequence::SobolSequence(size_t dim, std::optional<uint64_t> scramble_seed)
    : dim_(dim), scrambled_(scramble_seed.has_value()), directions_(dim * kBits, 0), shift_(dim, 0) {
  MD_CHECK(dim >= 1 && dim <= kMaxDim, "Sobol sequence: dimension ", dim, " outside 1..", kMaxDim,
           " (Joe & Kuo direction numbers are embedded for ", kMaxDim, " dimensions)");
  static_assert(kMaxDim == static_cast<size_t>(detail::kSobolDims));
  Rng rng(scramble_seed.value_or(0));
  for (size_t j = 0; j < dim; ++j) {
    std::vector<uint32_t> v = direction_numbers(j);
    if (scrambled_) {
      // Linear matrix scramble: output digit i (most significant first) is the parity of
      // (row i of a random lower-triangular 0/1 matrix with unit diagonal) & (input digits).
      // Digit i depends on digits 1..i only and bijectively on digit i, so every elementary
      // interval of width 2^-k keeps its count of points.
      uint32_t rows[kBits];
      for (int i = 0; i < kBits; ++i) {
        const int diag = kBits - 1 - i;                                        // bit position of digit i
        const uint32_t above = diag == kBits - 1 ? 0U : ~((2U << diag) - 1U);  // digits before i
        rows[i] = (static_cast<uint32_t>(rng() >> 32) & above) | (1U << diag);
      }
      for (auto& vk : v) {
        uint32_t out = 0;
        for (int i = 0; i < kBits; ++i) out |= parity(rows[i] & vk) << (kBits - 1 - i);
        vk = out;
      }
      shift_[j] = static_cast<uint32_t>(rng() >> 32);
    }
    std::copy(v.begin(), v.end(), directions_.begin() + static_cast<std::ptrdiff_t>(j * kBits));
  }
}

std::vector<double> SobolSequence::point(uint64_t index) const {
  MD_CHECK(index < (uint64_t{1} << kBits), "Sobol sequence: index ", index, " beyond 2^", kBits);
  const uint64_t gray = index ^ (index >> 1);
  std::vector<double> x(dim_);
  for (size_t j = 0; j < dim_; ++j) {
    uint32_t acc = shift_[j];
    const uint32_t* v = directions_.data() + j * kBits;
    for (uint64_t g = gray, k = 0; g != 0; g >>= 1, ++k) {
      if (g & 1U) acc ^= v[k];
    }
    x[j] = std::ldexp(static_cast<double>(acc), -kBits);
  }
  return x;
}

std::vector<double> latin_hypercube(size_t n, size_t dim, Rng& rng) {
  std::vector<double> out(n * dim);
  std::vector<size_t> perm(n);
  for (size_t j = 0; j < dim; ++j) {
    for (size_t i = 0; i < n; ++i) perm[i] = i;
    shuffle(perm, rng);
    for (size_t i = 0; i < n; ++i) {
      out[i * dim + j] = (static_cast<double>(perm[i]) + uniform01(rng)) / static_cast<double>(n);
    }
  }
  return out;
}

}  // namespace metadial::optim
