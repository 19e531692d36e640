#include "metadial/dialog/corpus.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/file.h"

namespace metadial::dialog {
namespace {

using Json = nlohmann::json;

// Where we are in the file, for messages.
struct Where {
  const std::string* source;
  std::string dialogue = "?";
  int turn = -1;
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    std::string at = detail::concat("corpus '", *source, "': dialogue '", dialogue, "'");
    if (turn >= 0) at += detail::concat(", turn ", turn);
    throw DataError(detail::concat(at, ": field '", field, "' ", what));
  }
};

const Json& require(const Json& obj, const char* name, const std::string& prefix, const Where& w) {
  auto it = obj.find(name);
  if (it == obj.end()) w.fail(prefix + name, "is missing");
  return *it;
}

std::string get_string(const Json& obj, const char* name, const std::string& prefix, const Where& w, bool required) {
  auto it = obj.find(name);
  if (it == obj.end()) {
    if (required) w.fail(prefix + name, "is missing (expected a string)");
    return {};
  }
  if (!it->is_string()) w.fail(prefix + name, "must be a string");
  return it->get<std::string>();
}

std::vector<CorpusAct> parse_acts(const Json& turn, const char* name, const Where& w) {
  std::vector<CorpusAct> out;
  auto it = turn.find(name);
  if (it == turn.end()) return out;
  if (!it->is_array()) w.fail(name, "must be a list of acts");
  const auto& types = corpus_act_types();
  for (size_t k = 0; k < it->size(); ++k) {
    const Json& a = (*it)[k];
    const std::string prefix = detail::concat(name, "[", k, "].");
    if (!a.is_object()) w.fail(detail::concat(name, "[", k, "]"), "must be an object {type, slot, value}");
    CorpusAct act;
    act.type = get_string(a, "type", prefix, w, true);
    if (std::find(types.begin(), types.end(), act.type) == types.end()) {
      std::string list;
      for (const auto& t : types) list += (list.empty() ? "" : ", ") + t;
      w.fail(prefix + "type", detail::concat("has unknown act type '", act.type, "' (expected one of: ", list, ")"));
    }
    act.slot = get_string(a, "slot", prefix, w, false);
    act.value = get_string(a, "value", prefix, w, false);
    if (!act.value.empty() && act.slot.empty()) w.fail(prefix + "value", "is present without a slot");
    out.push_back(std::move(act));
  }
  return out;
}

CorpusUtterance parse_utterance(const Json& turn, const char* name, const Where& w) {
  const Json& u = require(turn, name, "", w);
  const std::string prefix = std::string(name) + ".";
  if (!u.is_object()) w.fail(name, "must be an object {text, tokens, slots}");
  CorpusUtterance out;
  out.text = get_string(u, "text", prefix, w, true);
  const Json& tokens = require(u, "tokens", prefix, w);
  if (!tokens.is_array()) w.fail(prefix + "tokens", "must be a list of strings");
  for (const Json& t : tokens) {
    if (!t.is_string()) w.fail(prefix + "tokens", "must be a list of strings");
    out.tokens.push_back(t.get<std::string>());
  }
  auto it = u.find("slots");
  if (it != u.end()) {
    if (!it->is_array()) w.fail(prefix + "slots", "must be a list of spans");
    for (size_t k = 0; k < it->size(); ++k) {
      const Json& s = (*it)[k];
      const std::string sp = detail::concat(prefix, "slots[", k, "].");
      if (!s.is_object()) w.fail(detail::concat(prefix, "slots[", k, "]"), "must be an object {slot, start, exclusive_end}");
      CorpusSpan span;
      span.slot = get_string(s, "slot", sp, w, true);
      for (const char* f : {"start", "exclusive_end"}) {
        const Json& v = require(s, f, sp, w);
        if (!v.is_number_integer()) w.fail(sp + f, "must be an integer");
      }
      span.start = s["start"].get<int>();
      span.exclusive_end = s["exclusive_end"].get<int>();
      if (span.start < 0 || span.start >= span.exclusive_end || span.exclusive_end > static_cast<int>(out.tokens.size())) {
        w.fail(sp + "start", detail::concat("span [", span.start, ", ", span.exclusive_end, ") is not inside the ",
                                            out.tokens.size(), " tokens"));
      }
      out.slots.push_back(std::move(span));
    }
  }
  return out;
}

CorpusTurn parse_turn(const Json& t, Where& w) {
  if (!t.is_object()) w.fail("turns", "must hold objects");
  CorpusTurn turn;
  if (t.contains("system_utterance")) turn.system_utterance = parse_utterance(t, "system_utterance", w);
  turn.system_acts = parse_acts(t, "system_acts", w);
  turn.user_utterance = parse_utterance(t, "user_utterance", w);
  turn.user_acts = parse_acts(t, "user_acts", w);
  if (auto it = t.find("user_intents"); it != t.end()) {
    if (!it->is_array()) w.fail("user_intents", "must be a list of strings");
    for (const Json& s : *it) {
      if (!s.is_string()) w.fail("user_intents", "must be a list of strings");
      turn.user_intents.push_back(s.get<std::string>());
    }
  }
  const Json& state = require(t, "dialogue_state", "", w);
  if (!state.is_array()) w.fail("dialogue_state", "must be a list of {slot, value}");
  std::set<std::string> seen;
  for (size_t k = 0; k < state.size(); ++k) {
    const Json& sv = state[k];
    const std::string prefix = detail::concat("dialogue_state[", k, "].");
    if (!sv.is_object()) w.fail(detail::concat("dialogue_state[", k, "]"), "must be an object {slot, value}");
    CorpusSlotValue p{get_string(sv, "slot", prefix, w, true), get_string(sv, "value", prefix, w, true)};
    if (p.slot.empty()) w.fail(prefix + "slot", "is empty");
    if (p.value.empty()) w.fail(prefix + "value", "is empty");
    if (!seen.insert(p.slot).second) w.fail(prefix + "slot", detail::concat("'", p.slot, "' appears twice"));
    turn.dialogue_state.push_back(std::move(p));
  }
  return turn;
}

Json acts_json(const std::vector<CorpusAct>& acts) {
  Json out = Json::array();
  for (const auto& a : acts) {
    Json j;
    j["type"] = a.type;
    if (!a.slot.empty()) j["slot"] = a.slot;
    if (!a.value.empty()) j["value"] = a.value;
    out.push_back(std::move(j));
  }
  return out;
}

Json utterance_json(const CorpusUtterance& u) {
  Json j;
  j["text"] = u.text;
  j["tokens"] = u.tokens;
  Json spans = Json::array();
  for (const auto& s : u.slots) spans.push_back({{"slot", s.slot}, {"start", s.start}, {"exclusive_end", s.exclusive_end}});
  j["slots"] = std::move(spans);
  return j;
}

}  // namespace

const std::vector<std::string>& corpus_act_types() {
  static const std::vector<std::string> kTypes = {
      "AFFIRM",         "CANT_UNDERSTAND", "CONFIRM", "INFORM",       "GOOD_BYE", "GREETING",  "NEGATE",    "OTHER",
      "NOTIFY_FAILURE", "NOTIFY_SUCCESS",  "OFFER",   "REQUEST",      "REQUEST_ALTS", "SELECT", "THANK_YOU"};
  return kTypes;
}

std::string CorpusTurn::state_value(std::string_view slot) const {
  for (const auto& p : dialogue_state) {
    if (p.slot == slot) return p.value;
  }
  return {};
}

std::vector<CorpusDialogue> parse_corpus(std::string_view json_text, const std::string& source) {
  Json root;
  try {
    root = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    throw DataError(detail::concat("corpus '", source, "': not valid JSON (", e.what(), ")"));
  }
  Where w{&source};
  if (!root.is_array()) throw DataError(detail::concat("corpus '", source, "': expected a JSON list of dialogues"));
  std::vector<CorpusDialogue> out;
  out.reserve(root.size());
  std::set<std::string> ids;
  for (size_t d = 0; d < root.size(); ++d) {
    const Json& dj = root[d];
    w.dialogue = detail::concat("#", d);
    w.turn = -1;
    if (!dj.is_object()) w.fail("", "must be an object {dialogue_id, turns}");
    CorpusDialogue dialogue;
    dialogue.dialogue_id = get_string(dj, "dialogue_id", "", w, true);
    w.dialogue = dialogue.dialogue_id;
    if (!ids.insert(dialogue.dialogue_id).second) w.fail("dialogue_id", "is not unique");
    const Json& turns = require(dj, "turns", "", w);
    if (!turns.is_array() || turns.empty()) w.fail("turns", "must be a non-empty list");
    for (size_t k = 0; k < turns.size(); ++k) {
      w.turn = static_cast<int>(k);
      dialogue.turns.push_back(parse_turn(turns[k], w));
    }
    out.push_back(std::move(dialogue));
  }
  return out;
}

std::vector<CorpusDialogue> load_corpus(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(detail::concat("corpus '", path, "': cannot be read (missing file or no permission)"));
  std::ostringstream ss;
  ss << in.rdbuf();
  auto dialogues = parse_corpus(ss.str(), path);
  // A file is read to train or score on: with no dialogue, a tracker would report 0 % of 0 turns.
  if (dialogues.empty()) {
    throw DataError(detail::concat("corpus '", path, "': no dialogues (expected a non-empty JSON list of dialogues)"));
  }
  return dialogues;
}

std::string to_corpus_json(const std::vector<CorpusDialogue>& dialogues, bool pretty) {
  Json root = Json::array();
  for (const auto& d : dialogues) {
    Json turns = Json::array();
    for (const auto& t : d.turns) {
      Json j;
      if (t.system_utterance) j["system_utterance"] = utterance_json(*t.system_utterance);
      if (t.system_utterance || !t.system_acts.empty()) j["system_acts"] = acts_json(t.system_acts);
      j["user_utterance"] = utterance_json(t.user_utterance);
      j["user_acts"] = acts_json(t.user_acts);
      if (!t.user_intents.empty()) j["user_intents"] = t.user_intents;
      Json state = Json::array();
      for (const auto& p : t.dialogue_state) state.push_back({{"slot", p.slot}, {"value", p.value}});
      j["dialogue_state"] = std::move(state);
      turns.push_back(std::move(j));
    }
    root.push_back({{"dialogue_id", d.dialogue_id}, {"turns", std::move(turns)}});
  }
  return pretty ? root.dump(1) : root.dump();
}

void save_corpus(const std::string& path, const std::vector<CorpusDialogue>& dialogues) {
  write_file_atomically(path, to_corpus_json(dialogues));
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u == ' ' || u == '\t' || u == '\n' || u == '\r') {
      flush();
    } else if (c == ',' || c == '?' || c == '!' || c == ';' || c == '"' || c == '(' || c == ')') {
      flush();
      out.emplace_back(1, c);
    } else {
      cur.push_back(u < 128 ? static_cast<char>(std::tolower(u)) : c);
    }
  }
  flush();
  // A trailing full stop is its own token ("tickets." -> "tickets", "."), but "7.30" stays.
  std::vector<std::string> res;
  res.reserve(out.size());
  for (auto& t : out) {
    if (t.size() > 1 && t.back() == '.') {
      t.pop_back();
      res.push_back(std::move(t));
      res.emplace_back(".");
    } else {
      res.push_back(std::move(t));
    }
  }
  return res;
}

int CorpusOntology::slot_index(std::string_view slot) const {
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] == slot) return static_cast<int>(i);
  }
  return -1;
}

void CorpusOntology::add(const std::vector<CorpusDialogue>& dialogues) {
  for (const auto& d : dialogues) {
    for (const auto& t : d.turns) {
      for (const auto& p : t.dialogue_state) {
        int s = slot_index(p.slot);
        if (s < 0) {
          slots.push_back(p.slot);
          values.emplace_back();
          s = static_cast<int>(slots.size()) - 1;
        }
        auto& vs = values[static_cast<size_t>(s)];
        if (std::find(vs.begin(), vs.end(), p.value) == vs.end()) vs.push_back(p.value);
      }
    }
  }
}

CorpusOntology CorpusOntology::from(const std::vector<const std::vector<CorpusDialogue>*>& corpora) {
  CorpusOntology tmp;
  for (const auto* c : corpora) tmp.add(*c);
  std::vector<size_t> order(tmp.slots.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tmp.slots[a] < tmp.slots[b]; });
  CorpusOntology out;
  for (size_t i : order) {
    out.slots.push_back(tmp.slots[i]);
    out.values.push_back(tmp.values[i]);
  }
  return out;
}

}  // namespace metadial::dialog
