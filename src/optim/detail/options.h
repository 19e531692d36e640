// Reading a sampler's (or a pruner's) options table: typed getters with defaults and ranges, and a
// check that every key given is one it knows, so a typo ("n_inital") is an error, not a default.
// Built on the config reader (metadial/core/config.h), so the messages are the ones of every other
// table; options come through the API, so every error is an InvalidArgument:
//   sampler 'gp': unknown key 'n_inital' in [sampler] (expected one of: acquisition, ...)
//   sampler 'gp': [sampler] n_initial must be an integer, got a string
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "metadial/core/config.h"
#include "metadial/optim/sampler.h"

namespace metadial::optim::detail {

class OptionReader {
 public:
  /// Throws InvalidArgument if `options` is not an object (or null) or holds a key not in `known`.
  OptionReader(const std::string& sampler, const SamplerOptions& options, const std::vector<std::string>& known);
  /// The same for another kind of component: `kind` "pruner" reads [pruner] and names it
  /// "pruner 'NAME'" in messages.
  OptionReader(const std::string& kind, const std::string& name, const nlohmann::json& options,
               const std::vector<std::string>& known);

  /// An integer in [min, max]; `fallback` when absent.
  int64_t integer(const std::string& key, int64_t fallback, int64_t min,
                  int64_t max = std::numeric_limits<int64_t>::max()) const;
  /// A number in [min, max]; `fallback` when absent.
  double number(const std::string& key, double fallback, double min, double max) const;
  bool boolean(const std::string& key, bool fallback) const;
  /// One of `allowed`; `fallback` when absent.
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed) const;
  /// A string; std::nullopt when absent.
  std::optional<std::string> string(const std::string& key) const;
  /// A string that must be given; `hint` says what it is ("the path of a model ...").
  std::string require_string(const std::string& key, const std::string& hint) const;
  /// Numbers, each finite; std::nullopt when absent.
  std::optional<std::vector<double>> numbers(const std::string& key) const;
  /// The raw value of `key`, or nullptr (for options of more than one type).
  const nlohmann::json* find(const std::string& key) const { return table_.find(key); }
  /// Throws InvalidArgument "sampler 'NAME': [sampler] KEY <what>" (or the kind's words).
  [[noreturn]] void invalid(const std::string& key, const std::string& what) const;

 private:
  config::Table table_;
};

}  // namespace metadial::optim::detail
