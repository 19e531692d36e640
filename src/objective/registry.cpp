#include "metadial/objective/registry.h"

#include <limits>

#include "metadial/core/error.h"

namespace metadial::objective {

double NullReporter::seconds_left() const { return std::numeric_limits<double>::infinity(); }

void ObjectiveRegistry::add(const std::string& name, ObjectiveFactory factory) {
  MD_CHECK(!name.empty(), "objective name must not be empty");
  factories_[name] = std::move(factory);
}

std::vector<std::string> ObjectiveRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : factories_) out.push_back(name);
  return out;
}

std::unique_ptr<Objective> ObjectiveRegistry::create(const std::string& name, const ObjectiveOptions& options) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw InvalidArgument(detail::concat("unknown objective '", name, "' (known: ", known, ")"));
  }
  return it->second(options);
}

}  // namespace metadial::objective
