// FNV-1a (64 bits): the fingerprints and checksums metadial writes into files (model-file parameter
// checksums, knowledge-base and tabular-grid fingerprints). Not cryptographic: it catches cut or
// altered files and mismatched inputs, nothing adversarial.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace metadial {

/// The FNV-1a offset basis: the hash of nothing.
inline constexpr uint64_t kFnv1aBasis = 0xCBF29CE484222325ULL;

/// Continues hash `h` over n bytes at `data`.
inline uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ULL;
  }
  return h;
}

/// Continues `h` over the bytes of `s` followed by a 0 byte (so "ab","c" and "a","bc" differ).
inline uint64_t fnv1a(uint64_t h, std::string_view s) {
  h = fnv1a(h, s.data(), s.size());
  const char end = 0;
  return fnv1a(h, &end, 1);
}

/// 16 lowercase hex digits.
inline std::string to_hex(uint64_t h) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) s[static_cast<size_t>(i)] = kDigits[h & 15];
  return s;
}

}  // namespace metadial
