#include "metadial/core/error.h"
#include "metadial/optim/sampler.h"

namespace metadial::optim {

void SamplerRegistry::add(const std::string& name, SamplerFactory factory) {
  MD_CHECK(!name.empty(), "sampler name must not be empty");
  factories_[name] = std::move(factory);
}

std::vector<std::string> SamplerRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : factories_) out.push_back(name);
  return out;
}

std::unique_ptr<Sampler> SamplerRegistry::create(const std::string& name, const SamplerOptions& options) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw InvalidArgument(detail::concat("unknown sampler '", name, "' (known: ", known, ")"));
  }
  return it->second(options.is_null() ? SamplerOptions::object() : options);
}

}  // namespace metadial::optim
