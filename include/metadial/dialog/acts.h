// Semantic dialogue acts, as integer records: what the simulated user says (a turn of act items
// such as negate() + inform(area=north)), the noisy N-best list the system hears, and the full
// ("master") system act a summary action is mapped to. All are fixed-size values: a turn never
// allocates. to_string functions render them for people (PyDial's notation).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "metadial/dialog/ontology.h"

namespace metadial::dialog {

/// User act types.
enum class UserActType : uint8_t {
  kHello,    ///< hello(): opens the dialogue without content (unused by the agenda user)
  kInform,   ///< inform(slot=value), value may be kDontcare
  kRequest,  ///< request(slot): asks for an attribute of the offered entity
  kAffirm,   ///< affirm(): yes (to a confirm)
  kNegate,   ///< negate(): no (to a confirm or a wrong offer)
  kReqalts,  ///< reqalts(): asks for another entity
  kBye,      ///< bye(): ends the dialogue
  kNull,     ///< null(): nothing understood
};

/// One item of a user turn.
struct UserActItem {
  UserActType type = UserActType::kNull;
  int8_t slot = -1;         ///< slot id (inform / request), -1 otherwise
  int16_t value = kNoValue; ///< value id (inform), kNoValue otherwise
  friend bool operator==(const UserActItem&, const UserActItem&) = default;
};

/// Maximum number of items in one user turn.
inline constexpr int kMaxTurnItems = 12;

/// A user turn: a short list of act items, e.g. negate() inform(food=thai).
struct UserTurn {
  std::array<UserActItem, kMaxTurnItems> items{};
  int8_t size = 0;

  bool push(UserActItem item) {
    if (size >= kMaxTurnItems) return false;
    items[static_cast<size_t>(size++)] = item;
    return true;
  }
  bool has(UserActType t) const {
    for (int k = 0; k < size; ++k) {
      if (items[static_cast<size_t>(k)].type == t) return true;
    }
    return false;
  }
  /// Item-wise equality over the first `size` items.
  friend bool operator==(const UserTurn& a, const UserTurn& b) {
    if (a.size != b.size) return false;
    for (int k = 0; k < a.size; ++k) {
      if (!(a.items[static_cast<size_t>(k)] == b.items[static_cast<size_t>(k)])) return false;
    }
    return true;
  }
};

/// One hypothesis of the N-best list: a user turn and its confidence.
struct Hypothesis {
  UserTurn turn;
  float confidence = 0.0F;
};

/// Maximum N-best size.
inline constexpr int kMaxNBest = 8;

/// What the system hears: hypotheses by decreasing confidence; confidences sum to <= 1.
struct NBestList {
  std::array<Hypothesis, kMaxNBest> hyps{};
  int8_t size = 0;
};

/// System (master) act types.
enum class SystemActType : uint8_t {
  kHello,            ///< welcome message (the implicit act before the user's first turn)
  kRequest,          ///< request(slot)
  kConfirm,          ///< confirm(slot=value)
  kSelect,           ///< select(slot=value, slot=value2)
  kOffer,            ///< inform(name=entity, stated constraints..., informed attributes...)
  kInformNone,       ///< inform(name=none, stated constraints...): nothing matches
  kInformRequested,  ///< inform(name=entity, requested attributes...)
  kReqmore,          ///< reqmore(): anything else?
  kBye,              ///< bye()
};

/// A full system act. Equality is field-wise (the user counts identical repeats).
struct SystemAct {
  SystemActType type = SystemActType::kHello;
  int8_t slot = -1;           ///< request / confirm / select: slot id
  int16_t value = kNoValue;   ///< confirm / select: first value
  int16_t value2 = kNoValue;  ///< select: second value
  int32_t entity = -1;        ///< offer / inform requested: entity id
  /// offer / none: the constraint the system states per informable index (kNoValue = not stated)
  std::array<int16_t, kMaxInformable> stated{};
  /// offer / inform requested: bit r set for each requestable index r whose value is given
  uint32_t informed = 0;

  SystemAct() { stated.fill(static_cast<int16_t>(kNoValue)); }
  friend bool operator==(const SystemAct&, const SystemAct&) = default;
};

class KnowledgeBase;

/// "inform(area=north,food=thai)"-style rendering.
std::string to_string(const Ontology& ontology, const UserActItem& item);
std::string to_string(const Ontology& ontology, const UserTurn& turn);
/// Renders a system act; entity names and attribute values come from `kb`.
std::string to_string(const Ontology& ontology, const KnowledgeBase& kb, const SystemAct& act);
const char* to_string(UserActType t);
const char* to_string(SystemActType t);

}  // namespace metadial::dialog
