// register_builtin_objectives: the test functions of test_functions.h and the synthetic learning
// curve of learning_curve.h, by name.
#include "metadial/objective/learning_curve.h"
#include "metadial/objective/registry.h"
#include "metadial/objective/test_functions.h"

namespace metadial::objective {

void register_builtin_objectives(ObjectiveRegistry& registry) {
  for (const auto& name : test_function_names()) {
    registry.add(name, [name](const ObjectiveOptions& options) -> std::unique_ptr<Objective> {
      return make_test_function(name, options);
    });
  }
  registry.add("learning_curve", [](const ObjectiveOptions& options) -> std::unique_ptr<Objective> {
    return make_learning_curve(options);
  });
}

}  // namespace metadial::objective
