// A dialogue domain: the ontology, its knowledge base and its summary action set, built once
// and shared read-only (std::shared_ptr<const Domain>) by every environment, user simulator and
// policy that works on it, across threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "metadial/dialog/knowledge_base.h"
#include "metadial/dialog/ontology.h"
#include "metadial/dialog/summary_actions.h"

namespace metadial::dialog {

/// Ontology + knowledge base + summary actions. Immutable after construction.
class Domain {
 public:
  /// Generates the knowledge base from `kb`.
  explicit Domain(Ontology ontology, const KbOptions& kb = {});
  /// Uses an explicit knowledge base (built from the same ontology).
  Domain(Ontology ontology, KnowledgeBase kb);

  /// A built-in domain: "restaurant" or "movie".
  static std::shared_ptr<const Domain> builtin(std::string_view name, const KbOptions& kb = {});
  /// A domain from an ontology file (DataError naming the file and key if malformed).
  static std::shared_ptr<const Domain> load(const std::string& ontology_path, const KbOptions& kb = {});

  const Ontology& ontology() const { return ontology_; }
  const KnowledgeBase& kb() const { return kb_; }
  const SummaryActionSet& actions() const { return actions_; }
  const std::string& name() const { return ontology_.domain(); }

 private:
  Ontology ontology_;
  KnowledgeBase kb_;
  SummaryActionSet actions_;
};

}  // namespace metadial::dialog
