// A two-slot toy domain shared by the dialog tests: colour (red, green, blue) and size (small,
// large), four entities, so that every count and every dialogue can be worked out by hand.
#pragma once

#include <memory>

#include "metadial/dialog/domain.h"

namespace metadial::dialog::testing {

inline constexpr const char* kToyOntology = R"json({
  "domain": "toy",
  "entity": {"slot": "name", "name_parts": [["thing"]]},
  "slots": [
    {"name": "colour", "informable": true, "values": ["red", "green", "blue"]},
    {"name": "size", "informable": true, "values": ["small", "large"]},
    {"name": "phone", "pattern": "######"}
  ],
  "requestable": ["name", "phone", "colour", "size"]
})json";

/// Entities: 0 red small, 1 red large, 2 green small, 3 blue small.
inline std::shared_ptr<const Domain> toy_domain() {
  Ontology o = Ontology::parse(kToyOntology, "toy.json");
  KnowledgeBase kb = KnowledgeBase::from_rows(o, {{"red", "small"}, {"red", "large"}, {"green", "small"}, {"blue", "small"}});
  return std::make_shared<const Domain>(std::move(o), std::move(kb));
}

}  // namespace metadial::dialog::testing
