#include "metadial/dialog/domain.h"

namespace metadial::dialog {

Domain::Domain(Ontology ontology, const KbOptions& kb)
    : ontology_(std::move(ontology)), kb_(ontology_, kb), actions_(ontology_) {}

Domain::Domain(Ontology ontology, KnowledgeBase kb)
    : ontology_(std::move(ontology)), kb_(std::move(kb)), actions_(ontology_) {}

std::shared_ptr<const Domain> Domain::builtin(std::string_view name, const KbOptions& kb) {
  return std::make_shared<const Domain>(Ontology::builtin(name), kb);
}

std::shared_ptr<const Domain> Domain::load(const std::string& ontology_path, const KbOptions& kb) {
  return std::make_shared<const Domain>(Ontology::load(ontology_path), kb);
}

}  // namespace metadial::dialog
