#include "metadial/dialog/ontology.h"

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dialog/builtin_ontologies.h"
#include "metadial/core/error.h"

namespace metadial::dialog {
namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& what) {
  throw DataError(detail::concat("ontology '", source, "': key '", key, "' ", what));
}

void check_keys(const Json& obj, const std::set<std::string>& allowed, const std::string& source,
                const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    if (!allowed.contains(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(source, where.empty() ? k : where + "." + k, "is unknown (expected one of: " + list + ")");
    }
  }
}

std::string get_string(const Json& obj, const std::string& name, const std::string& source,
                       const std::string& where, bool required, std::string fallback = {}) {
  const std::string key = where.empty() ? name : where + "." + name;
  auto it = obj.find(name);
  if (it == obj.end()) {
    if (required) fail(source, key, "is missing (expected a string)");
    return fallback;
  }
  if (!it->is_string()) fail(source, key, "must be a string");
  std::string s = it->get<std::string>();
  if (required && s.empty()) fail(source, key, "must not be empty");
  return s;
}

bool get_bool(const Json& obj, const std::string& name, const std::string& source, const std::string& where,
              bool fallback) {
  auto it = obj.find(name);
  if (it == obj.end()) return fallback;
  if (!it->is_boolean()) fail(source, where + "." + name, "must be true or false");
  return it->get<bool>();
}

std::vector<std::string> get_string_list(const Json& j, const std::string& source, const std::string& key,
                                         bool unique) {
  if (!j.is_array() || j.empty()) fail(source, key, "must be a non-empty array of strings");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& e : j) {
    if (!e.is_string() || e.get<std::string>().empty()) fail(source, key, "must be a non-empty array of non-empty strings");
    std::string s = e.get<std::string>();
    if (unique && !seen.insert(s).second) fail(source, key, "lists '" + s + "' twice");
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Ontology Ontology::parse(std::string_view json_text, const std::string& source) {
  Json root;
  try {
    root = Json::parse(json_text.begin(), json_text.end());
  } catch (const Json::parse_error& e) {
    throw DataError(detail::concat("ontology '", source, "': not valid JSON (", e.what(), ")"));
  }
  if (!root.is_object()) throw DataError(detail::concat("ontology '", source, "': the top level must be a JSON object"));
  check_keys(root, {"domain", "description", "entity", "slots", "requestable", "system_requestable"}, source, "");

  Ontology o;
  o.source_ = source;
  o.domain_ = get_string(root, "domain", source, "", true);
  o.description_ = get_string(root, "description", source, "", false);

  auto ent = root.find("entity");
  if (ent == root.end() || !ent->is_object()) fail(source, "entity", "is missing or not an object (expected {\"slot\": ..., \"name_parts\": [...]})");
  check_keys(*ent, {"slot", "name_parts"}, source, "entity");
  Slot entity_slot;
  entity_slot.name = get_string(*ent, "slot", source, "entity", true);
  auto parts = ent->find("name_parts");
  if (parts == ent->end() || !parts->is_array() || parts->empty()) {
    fail(source, "entity.name_parts", "must be a non-empty array of non-empty string arrays");
  }
  for (size_t p = 0; p < parts->size(); ++p) {
    o.name_parts_.push_back(get_string_list((*parts)[p], source, detail::concat("entity.name_parts[", p, "]"), true));
  }
  o.slots_.push_back(std::move(entity_slot));

  auto slots = root.find("slots");
  if (slots == root.end() || !slots->is_array() || slots->empty()) fail(source, "slots", "must be a non-empty array of slot objects");
  for (size_t k = 0; k < slots->size(); ++k) {
    const Json& js = (*slots)[k];
    const std::string where = detail::concat("slots[", k, "]");
    if (!js.is_object()) fail(source, where, "must be an object");
    check_keys(js, {"name", "informable", "in_kb", "required", "kb_skew", "values", "pattern"}, source, where);
    Slot s;
    s.name = get_string(js, "name", source, where, true);
    for (const auto& other : o.slots_) {
      if (other.name == s.name) fail(source, where + ".name", "repeats the slot name '" + s.name + "'");
    }
    s.informable = get_bool(js, "informable", source, where, false);
    s.in_kb = get_bool(js, "in_kb", source, where, true);
    s.required = get_bool(js, "required", source, where, false);
    if (auto it = js.find("kb_skew"); it != js.end()) {
      if (!it->is_number() || it->get<double>() < 0.0 || it->get<double>() > 10.0) {
        fail(source, where + ".kb_skew", "must be a number in [0, 10]");
      }
      s.kb_skew = it->get<double>();
    }
    if (s.informable) {
      auto v = js.find("values");
      if (v == js.end()) fail(source, where + ".values", "is missing (an informable slot needs its list of values)");
      s.values = get_string_list(*v, source, where + ".values", true);
      for (const auto& value : s.values) {
        if (value == "dontcare" || value == "none") fail(source, where + ".values", "uses the reserved value '" + value + "'");
      }
      if (static_cast<int>(s.values.size()) > kMaxValues) fail(source, where + ".values", detail::concat("has more than ", kMaxValues, " values"));
      if (js.contains("pattern")) fail(source, where + ".pattern", "is for non-informable attributes only");
    } else {
      if (js.contains("values")) fail(source, where + ".values", "is set but the slot is not informable (add \"informable\": true)");
      if (!s.in_kb || s.required) fail(source, where, "sets in_kb/required but is not informable");
      s.pattern = get_string(js, "pattern", source, where, false, "#####");
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
  if (o.informable_.empty()) fail(source, "slots", "has no informable slot");
  if (o.num_informable() > kMaxInformable) fail(source, "slots", detail::concat("has more than ", kMaxInformable, " informable slots"));
  bool any_kb = false;
  for (int id : o.informable_) any_kb = any_kb || o.slot(id).in_kb;
  if (!any_kb) fail(source, "slots", "has no informable slot with in_kb true (the database needs a column)");

  auto find_slot = [&](const std::string& name, const std::string& key) {
    for (int id = 0; id < n; ++id) {
      if (o.slots_[static_cast<size_t>(id)].name == name) return id;
    }
    fail(source, key, "names the unknown slot '" + name + "'");
  };

  auto req = root.find("requestable");
  if (req == root.end()) fail(source, "requestable", "is missing (expected an array of slot names)");
  for (const auto& name : get_string_list(*req, source, "requestable", true)) {
    const int id = find_slot(name, "requestable");
    if (o.slot(id).informable && !o.slot(id).in_kb) fail(source, "requestable", "lists '" + name + "', which is not a database column");
    o.requestable_index_[static_cast<size_t>(id)] = static_cast<int>(o.requestable_.size());
    o.requestable_.push_back(id);
  }
  if (o.num_requestable() > kMaxRequestable) fail(source, "requestable", detail::concat("has more than ", kMaxRequestable, " slots"));

  if (auto sreq = root.find("system_requestable"); sreq != root.end()) {
    for (const auto& name : get_string_list(*sreq, source, "system_requestable", true)) {
      const int id = find_slot(name, "system_requestable");
      if (!o.slot(id).informable) fail(source, "system_requestable", "lists '" + name + "', which is not informable");
      o.system_requestable_.push_back(o.informable_index(id));
    }
  } else {
    for (int i = 0; i < o.num_informable(); ++i) o.system_requestable_.push_back(i);
  }
  return o;
}

Ontology Ontology::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(detail::concat("ontology '", path, "': cannot open the file"));
  std::stringstream buf;
  buf << in.rdbuf();
  return parse(buf.str(), path);
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
