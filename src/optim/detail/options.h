// Reading a sampler's options table: typed getters with defaults and ranges, and a check that
// every key given is one the sampler knows, so a typo ("n_inital") is an error, not a default.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "metadial/optim/sampler.h"

namespace metadial::optim::detail {

class OptionReader {
 public:
  /// Throws InvalidArgument if `options` is not an object or holds a key not in `known`.
  OptionReader(std::string sampler, const SamplerOptions& options, std::vector<std::string> known);

  /// An integer in [min, max]; `fallback` when absent.
  int64_t integer(const std::string& key, int64_t fallback, int64_t min,
                  int64_t max = std::numeric_limits<int64_t>::max()) const;
  bool boolean(const std::string& key, bool fallback) const;
  /// One of `allowed`; `fallback` when absent.
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed) const;

 private:
  std::string sampler_;
  const SamplerOptions& options_;
};

}  // namespace metadial::optim::detail
