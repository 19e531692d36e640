// Ontology of a slot-filling dialogue domain: which slots exist, which the user can constrain
// (informable, with their closed list of values), which the user can ask about (requestable),
// and which the system may ask for (system-requestable). Loaded from a project JSON file
// (data/ontologies/*.json, schema below); the built-in restaurant and movie ontologies are also
// compiled into the library so that no path is needed.
//
// Everything downstream works on integer ids: a slot id indexes slots(), an informable index
// indexes informable() (the order of the belief state), a value id indexes Slot::values, and the
// two special values kDontcare / kNoValue stand for "any value" and "nothing". Strings are used
// only to load and to display.
//
// Schema (keys not listed are rejected, so typos are caught):
//   {"domain": "restaurant", "description": "...",
//    "entity": {"slot": "name", "name_parts": [["the golden", ...], ["dragon", ...]]},
//    "slots": [{"name": "area", "informable": true, "values": ["north", ...],
//               "in_kb": true, "required": false, "kb_skew": 1.0},
//              {"name": "phone", "pattern": "01223 ######"}, ...],
//    "requestable": ["name", "phone", ...], "system_requestable": ["area", ...]}
// The entity slot (the name of an entity) is slot 0 and is not listed in "slots". An informable
// slot with "in_kb": false (movie: num_tickets) is not a database column: the system learns it
// from the user and must state it in its offer. "required": the user's goal always constrains it.
// "kb_skew" is the Zipf exponent of the value frequencies in the generated knowledge base (0 =
// uniform). "pattern" generates a requestable attribute's display text ('#' digit, '@' letter).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace metadial::dialog {

/// Value id meaning "the user does not care" (a valid constraint, matches every entity).
inline constexpr int kDontcare = -1;
/// Value id meaning "no value" (not mentioned / unknown).
inline constexpr int kNoValue = -2;

/// Hard limits that keep every per-turn structure fixed-size (checked when loading).
inline constexpr int kMaxInformable = 8;
inline constexpr int kMaxRequestable = 32;
inline constexpr int kMaxValues = 256;

/// One slot of the ontology.
struct Slot {
  std::string name;
  bool informable = false;          ///< the user can constrain it (has a closed value list)
  bool in_kb = true;                ///< informable and a database column (false: movie's num_tickets)
  bool required = false;            ///< every user goal constrains it
  double kb_skew = 1.0;             ///< Zipf exponent of value frequencies in the generated KB
  std::vector<std::string> values;  ///< informable values, display strings
  std::string pattern;              ///< display pattern of a non-informable attribute
};

/// An immutable ontology. Cheap to share by const reference.
class Ontology {
 public:
  /// Parses the JSON text; `source` names the file in error messages. Throws DataError naming
  /// source and key on malformed input.
  static Ontology parse(std::string_view json_text, const std::string& source);
  /// Reads and parses a file; DataError if it cannot be read or is malformed.
  static Ontology load(const std::string& path);
  /// A built-in ontology by name: "restaurant" or "movie" (the copies of data/ontologies/*.json
  /// compiled into the library). InvalidArgument for another name.
  static Ontology builtin(std::string_view name);
  /// The JSON text of a built-in ontology (what builtin() parses).
  static std::string_view builtin_text(std::string_view name);
  /// Names accepted by builtin().
  static std::vector<std::string> builtin_names();

  const std::string& domain() const { return domain_; }
  const std::string& description() const { return description_; }
  const std::string& source() const { return source_; }

  /// All slots; slot 0 is the entity (name) slot.
  const std::vector<Slot>& slots() const { return slots_; }
  const Slot& slot(int slot_id) const { return slots_[static_cast<size_t>(slot_id)]; }
  int num_slots() const { return static_cast<int>(slots_.size()); }
  static constexpr int entity_slot() { return 0; }
  /// Entity name parts (the knowledge base draws names from their product).
  const std::vector<std::vector<std::string>>& name_parts() const { return name_parts_; }

  /// Slot ids of informable slots, in file order (the belief state's order).
  const std::vector<int>& informable() const { return informable_; }
  /// Slot ids of user-requestable slots, in file order.
  const std::vector<int>& requestable() const { return requestable_; }
  /// Informable indices the system may request / confirm / select, in file order.
  const std::vector<int>& system_requestable() const { return system_requestable_; }
  int num_informable() const { return static_cast<int>(informable_.size()); }
  int num_requestable() const { return static_cast<int>(requestable_.size()); }

  /// Informable index of a slot id, or -1.
  int informable_index(int slot_id) const { return informable_index_[static_cast<size_t>(slot_id)]; }
  /// Requestable index of a slot id, or -1.
  int requestable_index(int slot_id) const { return requestable_index_[static_cast<size_t>(slot_id)]; }
  /// Number of values of informable slot `i` (informable index).
  int num_values(int i) const { return static_cast<int>(slot(informable_[static_cast<size_t>(i)]).values.size()); }

  /// Slot id by name; InvalidArgument listing the slots if unknown.
  int slot_id(std::string_view name) const;
  /// Value id of a slot by display string ("dontcare" -> kDontcare); InvalidArgument if unknown.
  int value_id(int slot_id, std::string_view value) const;
  /// Display string of a value (kDontcare -> "dontcare", kNoValue -> "none").
  std::string_view value_name(int slot_id, int value) const;

 private:
  std::string domain_;
  std::string description_;
  std::string source_;
  std::vector<Slot> slots_;
  std::vector<std::vector<std::string>> name_parts_;
  std::vector<int> informable_;
  std::vector<int> requestable_;
  std::vector<int> system_requestable_;
  std::vector<int> informable_index_;
  std::vector<int> requestable_index_;
};

}  // namespace metadial::dialog
