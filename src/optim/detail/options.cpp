#include "optim/detail/options.h"

#include <algorithm>

#include "metadial/core/error.h"

namespace metadial::optim::detail {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

OptionReader::OptionReader(std::string sampler, const SamplerOptions& options, std::vector<std::string> known)
    : sampler_(std::move(sampler)), options_(options) {
  MD_CHECK(options.is_object() || options.is_null(), "sampler '", sampler_,
           "': options must be a table of key = value, got ", options.dump());
  if (options.is_null()) return;
  std::sort(known.begin(), known.end());
  for (const auto& [key, _] : options.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw InvalidArgument(metadial::detail::concat("sampler '", sampler_, "': unknown option '", key, "' (known: ",
                                                     known.empty() ? std::string("none") : join(known), ")"));
    }
  }
}

int64_t OptionReader::integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) const {
  if (!options_.is_object() || !options_.contains(key)) return fallback;
  const auto& v = options_.at(key);
  MD_CHECK(v.is_number_integer(), "sampler '", sampler_, "': option '", key, "' must be an integer, got ", v.dump());
  const bool is_unsigned = v.is_number_unsigned();
  MD_CHECK(!is_unsigned || v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), "sampler '",
           sampler_, "': option '", key, "' is too large (got ", v.dump(), ")");
  const auto x = v.get<int64_t>();
  if (max == std::numeric_limits<int64_t>::max()) {
    MD_CHECK(x >= min, "sampler '", sampler_, "': option '", key, "' must be >= ", min, ", got ", x);
  }
  MD_CHECK(x >= min && x <= max, "sampler '", sampler_, "': option '", key, "' must be in [", min, ", ", max, "], got ",
           x);
  return x;
}

bool OptionReader::boolean(const std::string& key, bool fallback) const {
  if (!options_.is_object() || !options_.contains(key)) return fallback;
  const auto& v = options_.at(key);
  MD_CHECK(v.is_boolean(), "sampler '", sampler_, "': option '", key, "' must be true or false, got ", v.dump());
  return v.get<bool>();
}

std::string OptionReader::choice(const std::string& key, const std::string& fallback,
                                 const std::vector<std::string>& allowed) const {
  if (!options_.is_object() || !options_.contains(key)) return fallback;
  const auto& v = options_.at(key);
  const bool ok = v.is_string() && std::find(allowed.begin(), allowed.end(), v.get<std::string>()) != allowed.end();
  MD_CHECK(ok, "sampler '", sampler_, "': option '", key, "' must be one of ", join(allowed), ", got ", v.dump());
  return v.get<std::string>();
}

}  // namespace metadial::optim::detail
