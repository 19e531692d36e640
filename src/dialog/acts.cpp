#include "metadial/dialog/acts.h"

#include "metadial/dialog/knowledge_base.h"

namespace metadial::dialog {

const char* to_string(UserActType t) {
  switch (t) {
    case UserActType::kHello: return "hello";
    case UserActType::kInform: return "inform";
    case UserActType::kRequest: return "request";
    case UserActType::kAffirm: return "affirm";
    case UserActType::kNegate: return "negate";
    case UserActType::kReqalts: return "reqalts";
    case UserActType::kBye: return "bye";
    case UserActType::kNull: return "null";
  }
  return "?";
}

const char* to_string(SystemActType t) {
  switch (t) {
    case SystemActType::kHello: return "hello";
    case SystemActType::kRequest: return "request";
    case SystemActType::kConfirm: return "confirm";
    case SystemActType::kSelect: return "select";
    case SystemActType::kOffer: return "inform";
    case SystemActType::kInformNone: return "inform";
    case SystemActType::kInformRequested: return "inform";
    case SystemActType::kReqmore: return "reqmore";
    case SystemActType::kBye: return "bye";
  }
  return "?";
}

std::string to_string(const Ontology& ontology, const UserActItem& item) {
  std::string out = to_string(item.type);
  out += '(';
  if (item.type == UserActType::kInform) {
    out += ontology.slot(item.slot).name;
    out += '=';
    out += ontology.value_name(item.slot, item.value);
  } else if (item.type == UserActType::kRequest) {
    out += ontology.slot(item.slot).name;
  }
  out += ')';
  return out;
}

std::string to_string(const Ontology& ontology, const UserTurn& turn) {
  if (turn.size == 0) return "null()";
  std::string out;
  for (int k = 0; k < turn.size; ++k) {
    if (k) out += ' ';
    out += to_string(ontology, turn.items[static_cast<size_t>(k)]);
  }
  return out;
}

std::string to_string(const Ontology& ontology, const KnowledgeBase& kb, const SystemAct& act) {
  std::string out = to_string(act.type);
  out += '(';
  auto add = [&](const std::string& s) {
    if (out.back() != '(') out += ',';
    out += s;
  };
  auto stated = [&] {
    for (int i = 0; i < ontology.num_informable(); ++i) {
      const int v = act.stated[static_cast<size_t>(i)];
      if (v == kNoValue) continue;
      const int id = ontology.informable()[static_cast<size_t>(i)];
      add(ontology.slot(id).name + "=" + std::string(ontology.value_name(id, v)));
    }
  };
  auto informed = [&] {
    for (int r = 0; r < ontology.num_requestable(); ++r) {
      if (!((act.informed >> r) & 1U)) continue;
      const int id = ontology.requestable()[static_cast<size_t>(r)];
      if (id == Ontology::entity_slot()) continue;
      add(ontology.slot(id).name + "=\"" + kb.display(ontology, act.entity, id) + "\"");
    }
  };
  switch (act.type) {
    case SystemActType::kRequest:
      add(ontology.slot(act.slot).name);
      break;
    case SystemActType::kConfirm:
      add(ontology.slot(act.slot).name + "=" + std::string(ontology.value_name(act.slot, act.value)));
      break;
    case SystemActType::kSelect:
      add(ontology.slot(act.slot).name + "=" + std::string(ontology.value_name(act.slot, act.value)));
      add(ontology.slot(act.slot).name + "=" + std::string(ontology.value_name(act.slot, act.value2)));
      break;
    case SystemActType::kOffer:
      add(ontology.slot(Ontology::entity_slot()).name + "=\"" + kb.name(act.entity) + "\"");
      stated();
      informed();
      break;
    case SystemActType::kInformNone:
      add(ontology.slot(Ontology::entity_slot()).name + "=none");
      stated();
      break;
    case SystemActType::kInformRequested:
      add(ontology.slot(Ontology::entity_slot()).name + "=\"" + kb.name(act.entity) + "\"");
      informed();
      break;
    default:
      break;
  }
  out += ')';
  return out;
}

}  // namespace metadial::dialog
