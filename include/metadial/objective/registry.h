// Objective registry: name -> factory, filled by explicit register_* calls.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/objective/objective.h"

namespace metadial::objective {

/// Options from the config's [objective] table, minus the `function` key itself.
using ObjectiveOptions = nlohmann::json;
using ObjectiveFactory = std::function<std::unique_ptr<Objective>(const ObjectiveOptions&)>;

class ObjectiveRegistry {
 public:
  void add(const std::string& name, ObjectiveFactory factory);
  bool contains(const std::string& name) const { return factories_.count(name) > 0; }
  /// Throws InvalidArgument naming the known objectives if `name` is unknown.
  std::unique_ptr<Objective> create(const std::string& name, const ObjectiveOptions& options = {}) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, ObjectiveFactory> factories_;
};

/// Adds the built-in test functions (see test_functions.h) and "learning_curve" (learning_curve.h).
void register_builtin_objectives(ObjectiveRegistry& registry);

}  // namespace metadial::objective
