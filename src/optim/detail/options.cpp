#include "optim/detail/options.h"

#include <algorithm>
#include <cmath>

#include "metadial/core/error.h"

namespace metadial::optim::detail {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

config::Table make_table(const std::string& kind, const std::string& name, const nlohmann::json& options,
                         const std::vector<std::string>& known) {
  return config::rethrow_as<InvalidArgument>([&] {
    config::Table t = config::Table::from_json(options, kind + " '" + name + "'", "[" + kind + "]");
    t.expect_keys(known);
    return t;
  });
}

}  // namespace

OptionReader::OptionReader(const std::string& sampler, const SamplerOptions& options,
                           const std::vector<std::string>& known)
    : table_(make_table("sampler", sampler, options, known)) {}

OptionReader::OptionReader(const std::string& kind, const std::string& name, const nlohmann::json& options,
                           const std::vector<std::string>& known)
    : table_(make_table(kind, name, options, known)) {}

double OptionReader::number(const std::string& key, double fallback, double min, double max) const {
  const auto v = config::rethrow_as<InvalidArgument>([&] { return table_.number(key); });
  if (!v) return fallback;
  if (!(*v >= min && *v <= max)) invalid(key, metadial::detail::concat("must be in [", min, ", ", max, "], got ", *v));
  return *v;
}

void OptionReader::invalid(const std::string& key, const std::string& what) const {
  config::rethrow_as<InvalidArgument>([&] { table_.invalid(key, what); });
  throw InvalidArgument(what);  // not reached: invalid() always throws
}

int64_t OptionReader::integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) const {
  const auto v = config::rethrow_as<InvalidArgument>([&] { return table_.integer(key); });
  if (!v) return fallback;
  if (max == std::numeric_limits<int64_t>::max()) {
    if (*v < min) invalid(key, metadial::detail::concat("must be >= ", min, ", got ", *v));
  } else if (*v < min || *v > max) {
    invalid(key, metadial::detail::concat("must be in [", min, ", ", max, "], got ", *v));
  }
  return *v;
}

bool OptionReader::boolean(const std::string& key, bool fallback) const {
  return config::rethrow_as<InvalidArgument>([&] { return table_.boolean(key); }).value_or(fallback);
}

std::string OptionReader::choice(const std::string& key, const std::string& fallback,
                                 const std::vector<std::string>& allowed) const {
  const auto v = config::rethrow_as<InvalidArgument>([&] { return table_.string(key); });
  if (!v) return fallback;
  if (std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
    invalid(key, metadial::detail::concat("must be one of ", join(allowed), ", got \"", *v, "\""));
  }
  return *v;
}

std::optional<std::string> OptionReader::string(const std::string& key) const {
  return config::rethrow_as<InvalidArgument>([&] { return table_.string(key); });
}

std::string OptionReader::require_string(const std::string& key, const std::string& hint) const {
  return config::rethrow_as<InvalidArgument>([&] { return table_.require_string(key, hint); });
}

std::optional<std::vector<double>> OptionReader::numbers(const std::string& key) const {
  const auto v = config::rethrow_as<InvalidArgument>([&] { return table_.numbers(key); });
  if (v) {
    for (double x : *v) {
      if (!std::isfinite(x)) invalid(key, metadial::detail::concat("must hold finite numbers, got ", x));
    }
  }
  return v;
}

}  // namespace metadial::optim::detail
