#include "metadial/dialog/ontology.h"

#include <set>

#include <nlohmann/json.hpp>

#include "dialog/builtin_ontologies.h"
#include "metadial/core/config.h"
#include "metadial/core/error.h"

namespace metadial::dialog {
namespace {

// Checks a list of strings read from key `key` of `t`: not empty, no empty string, and (with
// `unique`) no string twice. `what` names the list in messages ("[entity] name_parts[1]").
void check_list(const config::Table& t, const std::string& key, const std::string& what,
                const std::vector<std::string>& list, bool unique) {
  if (list.empty()) t.fail_at(key, what + " must be a non-empty array of strings");
  std::set<std::string> seen;
  for (const auto& s : list) {
    if (s.empty()) t.fail_at(key, what + " must not hold an empty string");
    if (unique && !seen.insert(s).second) t.fail_at(key, what + " lists '" + s + "' twice");
  }
}

std::vector<std::string> string_list(const config::Table& t, const std::string& key, bool unique) {
  const auto list = t.strings(key);
  if (!list) t.missing(key, "a non-empty array of strings");
  check_list(t, key, t.label(key), *list, unique);
  return *list;
}

std::string non_empty_string(const config::Table& t, const std::string& key) {
  std::string s = t.require_string(key);
  if (s.empty()) t.invalid(key, "must not be empty");
  return s;
}

}  // namespace

Ontology Ontology::parse(std::string_view json_text, const std::string& source) {
  // An ontology is data: its errors are DataErrors, worded by the config reader ("FILE:LINE: ...").
  return config::rethrow_as<DataError>([&] {
    const config::Table root = config::parse_json(json_text, source);
    root.expect_keys({"domain", "description", "entity", "slots", "requestable", "system_requestable"});

    Ontology o;
    o.source_ = source;
    o.domain_ = non_empty_string(root, "domain");
    o.description_ = root.string("description").value_or("");

    const config::Table ent = root.require_table("entity", "{\"slot\": ..., \"name_parts\": [[...], ...]}");
    ent.expect_keys({"slot", "name_parts"});
    Slot entity_slot;
    entity_slot.name = non_empty_string(ent, "slot");
    const nlohmann::json* parts = ent.find("name_parts");
    if (parts == nullptr) ent.missing("name_parts", "a non-empty array of non-empty string arrays");
    if (!parts->is_array() || parts->empty()) ent.invalid("name_parts", "must be a non-empty array of non-empty string arrays");
    for (size_t p = 0; p < parts->size(); ++p) {
      const std::string what = detail::concat(ent.label("name_parts"), "[", p, "]");
      const nlohmann::json& list = (*parts)[p];
      std::vector<std::string> names;
      bool ok = list.is_array();
      for (const auto& e : ok ? list : nlohmann::json::array()) {
        ok = ok && e.is_string();
        if (ok) names.push_back(e.get<std::string>());
      }
      if (!ok) ent.fail_at("name_parts", what + " must be an array of strings");
      check_list(ent, "name_parts", what, names, true);
      o.name_parts_.push_back(std::move(names));
    }
    o.slots_.push_back(std::move(entity_slot));

    if (!root.contains("slots")) root.missing("slots", "a non-empty array of slot objects");
    const std::vector<config::Table> slots = root.tables("slots");
    if (slots.empty()) root.invalid("slots", "must be a non-empty array of slot objects");
    for (const config::Table& js : slots) {
      js.expect_keys({"name", "informable", "in_kb", "required", "kb_skew", "values", "pattern"});
      Slot s;
      s.name = non_empty_string(js, "name");
      for (const auto& other : o.slots_) {
        if (other.name == s.name) js.invalid("name", "repeats the slot name '" + s.name + "'");
      }
      s.informable = js.boolean("informable").value_or(false);
      s.in_kb = js.boolean("in_kb").value_or(true);
      s.required = js.boolean("required").value_or(false);
      if (const auto skew = js.number("kb_skew")) {
        if (*skew < 0.0 || *skew > 10.0) js.invalid("kb_skew", "must be a number in [0, 10]");
        s.kb_skew = *skew;
      }
      if (s.informable) {
        if (!js.contains("values")) js.missing("values", "an informable slot needs its list of values");
        s.values = string_list(js, "values", true);
        for (const auto& value : s.values) {
          if (value == "dontcare" || value == "none") js.invalid("values", "uses the reserved value '" + value + "'");
        }
        if (static_cast<int>(s.values.size()) > kMaxValues) {
          js.invalid("values", detail::concat("has more than ", kMaxValues, " values"));
        }
        if (js.contains("pattern")) js.invalid("pattern", "is for non-informable attributes only");
      } else {
        if (js.contains("values")) js.invalid("values", "is set but the slot is not informable (add \"informable\": true)");
        if (!s.in_kb || s.required) js.fail(js.section() + " sets in_kb/required but is not informable");
        s.pattern = js.string("pattern").value_or("#####");
      }
      o.slots_.push_back(std::move(s));
    }

    const int n = o.num_slots();
    o.informable_index_.assign(static_cast<size_t>(n), -1);
    o.requestable_index_.assign(static_cast<size_t>(n), -1);
    for (int id = 0; id < n; ++id) {
      if (o.slots_[static_cast<size_t>(id)].informable) {
        o.informable_index_[static_cast<size_t>(id)] = static_cast<int>(o.informable_.size());
        o.informable_.push_back(id);
      }
    }
    if (o.informable_.empty()) root.invalid("slots", "has no informable slot");
    if (o.num_informable() > kMaxInformable) {
      root.invalid("slots", detail::concat("has more than ", kMaxInformable, " informable slots"));
    }
    bool any_kb = false;
    for (int id : o.informable_) any_kb = any_kb || o.slot(id).in_kb;
    if (!any_kb) root.invalid("slots", "has no informable slot with in_kb true (the database needs a column)");

    auto find_slot = [&](const std::string& name, const std::string& key) {
      for (int id = 0; id < n; ++id) {
        if (o.slots_[static_cast<size_t>(id)].name == name) return id;
      }
      root.invalid(key, "names the unknown slot '" + name + "'");
    };

    if (!root.contains("requestable")) root.missing("requestable", "an array of slot names");
    for (const auto& name : string_list(root, "requestable", true)) {
      const int id = find_slot(name, "requestable");
      if (o.slot(id).informable && !o.slot(id).in_kb) {
        root.invalid("requestable", "lists '" + name + "', which is not a database column");
      }
      o.requestable_index_[static_cast<size_t>(id)] = static_cast<int>(o.requestable_.size());
      o.requestable_.push_back(id);
    }
    if (o.num_requestable() > kMaxRequestable) {
      root.invalid("requestable", detail::concat("has more than ", kMaxRequestable, " slots"));
    }

    if (root.contains("system_requestable")) {
      for (const auto& name : string_list(root, "system_requestable", true)) {
        const int id = find_slot(name, "system_requestable");
        if (!o.slot(id).informable) root.invalid("system_requestable", "lists '" + name + "', which is not informable");
        o.system_requestable_.push_back(o.informable_index(id));
      }
    } else {
      for (int i = 0; i < o.num_informable(); ++i) o.system_requestable_.push_back(i);
    }
    return o;
  });
}

Ontology Ontology::load(const std::string& path) {
  return parse(config::rethrow_as<DataError>([&] { return config::read_file(path); }), path);
}

std::string_view Ontology::builtin_text(std::string_view name) {
  if (name == "restaurant") return builtin_data::kRestaurantOntology;
  if (name == "movie") return builtin_data::kMovieOntology;
  if (name == "sf_restaurant") return builtin_data::kSfRestaurantOntology;
  throw InvalidArgument(
      detail::concat("unknown built-in ontology '", name, "' (expected restaurant, movie or sf_restaurant)"));
}

Ontology Ontology::builtin(std::string_view name) {
  return parse(builtin_text(name), detail::concat("builtin:", name));
}

std::vector<std::string> Ontology::builtin_names() { return {"restaurant", "movie", "sf_restaurant"}; }

int Ontology::slot_id(std::string_view name) const {
  for (int id = 0; id < num_slots(); ++id) {
    if (slots_[static_cast<size_t>(id)].name == name) return id;
  }
  std::string list;
  for (const auto& s : slots_) list += (list.empty() ? "" : ", ") + s.name;
  throw InvalidArgument(detail::concat("domain '", domain_, "': unknown slot '", name, "' (slots: ", list, ")"));
}

int Ontology::value_id(int slot_id, std::string_view value) const {
  MD_CHECK(slot_id >= 0 && slot_id < num_slots(), "slot id ", slot_id, " out of range");
  if (value == "dontcare") return kDontcare;
  const auto& values = slot(slot_id).values;
  for (size_t v = 0; v < values.size(); ++v) {
    if (values[v] == value) return static_cast<int>(v);
  }
  throw InvalidArgument(detail::concat("domain '", domain_, "': slot '", slot(slot_id).name, "' has no value '", value, "'"));
}

std::string_view Ontology::value_name(int slot_id, int value) const {
  if (value == kDontcare) return "dontcare";
  if (value < 0) return "none";
  const auto& values = slot(slot_id).values;
  if (static_cast<size_t>(value) >= values.size()) return "?";
  return values[static_cast<size_t>(value)];
}

}  // namespace metadial::dialog
