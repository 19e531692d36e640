#include "metadial/dialog/nlg.h"

#include <map>

#include "metadial/core/error.h"
#include "metadial/dialog/domain.h"

namespace metadial::dialog {
namespace {

using Templates = std::vector<std::string>;

int pick(Rng& rng, size_t n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); }

// ---- user templates: [0] training set, [1] extra forms of the extended set -----------------
struct TemplatePair {
  Templates training;
  Templates extra;
};

const TemplatePair kInformGeneric = {
    {"{value} please", "i want {value} for the {slot}", "the {slot} is {value}", "i would like {value}"},
    {"how about {value} for the {slot}", "i'd prefer {value}", "make it {value}", "{slot} : {value}",
     "let's go with {value}", "i am looking for {value} as the {slot}", "preferably {value}"}};

const std::map<std::string, TemplatePair, std::less<>>& inform_specific() {
  static const std::map<std::string, TemplatePair, std::less<>> kMap = {
      {"movie", {{"i want to see {value}", "the movie {value}", "tickets for {value}"},
                 {"can i watch {value}", "the film is {value}", "i'm in the mood for {value}"}}},
      {"theatre_name", {{"at {value}", "the theatre {value}"}, {"somewhere like {value}", "{value} cinema works for me"}}},
      {"date", {{"on {value}", "for {value}"}, {"{value} would be great", "this coming {value}"}}},
      {"time", {{"at {value}", "around {value}"}, {"starting at {value}", "the {value} show"}}},
      {"num_tickets", {{"{value} tickets", "for {value} people"}, {"we are {value}", "a group of {value}"}}},
      {"food", {{"{value} food", "a {value} restaurant"}, {"somewhere serving {value}", "i fancy {value}"}}},
      {"area", {{"in the {value}", "in the {value} area"}, {"around the {value} part of town", "{value} side"}}},
      {"pricerange", {{"{value} price range", "something {value}"}, {"{value} priced", "nothing but {value}"}}},
  };
  return kMap;
}

const TemplatePair kDontcareForms = {{"any {slot} is fine", "i don't care about the {slot}"},
                                {"whatever {slot}", "the {slot} does not matter", "any {slot} will do"}};
const TemplatePair kRequest = {{"what is the {slot} ?", "can you tell me the {slot} ?"},
                               {"i'd like to know the {slot}", "{slot} ?", "and the {slot} ?"}};
const TemplatePair kAffirm = {{"yes", "yes please", "correct"}, {"yeah", "that's right", "sure", "exactly"}};
const TemplatePair kNegate = {{"no", "no that's wrong"}, {"nope", "not really", "no , that's not it"}};
const TemplatePair kReqalts = {{"anything else ?", "is there another one ?"}, {"what else do you have ?", "show me another"}};
const TemplatePair kBye = {{"thank you , goodbye", "bye"}, {"thanks , that's all", "great , see you", "cheers , bye"}};
const TemplatePair kHello = {{"hello"}, {"hi there"}};
const TemplatePair kNull = {{"hmm"}, {"uh"}};
const TemplatePair kOpening = {{"hi ,", "hello ,", ""}, {"good evening ,", "hey there ,", "hi , i need help ,"}};
const TemplatePair kJoin = {{"and"}, {"and", ",", ". also"}};
// An opening turn that states no constraint (a profile that volunteers nothing): the intent.
const TemplatePair& intent_templates(std::string_view domain) {
  static const TemplatePair kMovie = {{"i want to buy movie tickets", "i would like to book tickets for a movie"},
                                      {"can you get me cinema tickets ?", "i need tickets for a film"}};
  static const TemplatePair kRestaurant = {{"i am looking for a restaurant", "i need a place to eat"},
                                           {"can you find me a restaurant ?", "i want to eat out"}};
  static const TemplatePair kGeneric = {{"i need some help", "can you help me ?"}, {"i am looking for something"}};
  if (domain == "movie") return kMovie;
  if (domain == "restaurant" || domain == "sf_restaurant") return kRestaurant;
  return kGeneric;
}

// ---- text building --------------------------------------------------------------------------
struct Builder {
  CorpusUtterance u;
  void text(std::string_view s) {
    for (auto& t : tokenize(s)) u.tokens.push_back(std::move(t));
  }
  void value(const std::string& slot, std::string_view v) {
    const int start = static_cast<int>(u.tokens.size());
    text(v);
    const int end = static_cast<int>(u.tokens.size());
    if (end > start) u.slots.push_back({slot, start, end});
  }
  CorpusUtterance finish() {
    std::string s;
    for (const auto& t : u.tokens) s += (s.empty() ? "" : " ") + t;
    u.text = std::move(s);
    return std::move(u);
  }
};

struct Binding {
  std::string slot_name;   // span name of {value} / {value2}
  std::string value, value2, slot_display, entity, entity_slot;
};

void expand(Builder& b, std::string_view tmpl, const Binding& bind) {
  size_t pos = 0;
  while (pos < tmpl.size()) {
    const size_t open = tmpl.find('{', pos);
    if (open == std::string_view::npos) {
      b.text(tmpl.substr(pos));
      break;
    }
    b.text(tmpl.substr(pos, open - pos));
    const size_t close = tmpl.find('}', open);
    MD_ASSERT(close != std::string_view::npos, "nlg: unclosed placeholder");
    const std::string_view key = tmpl.substr(open + 1, close - open - 1);
    if (key == "value") b.value(bind.slot_name, bind.value);
    else if (key == "value2") b.value(bind.slot_name, bind.value2);
    else if (key == "slot") b.text(bind.slot_display);
    else if (key == "entity") b.value(bind.entity_slot, bind.entity);
    else MD_ASSERT(false, "nlg: unknown placeholder");
    pos = close + 1;
  }
}

const Templates& pair_choices(const TemplatePair& p, TemplateSet set, Templates& scratch) {
  if (set == TemplateSet::kTraining) return p.training;
  scratch = p.training;
  scratch.insert(scratch.end(), p.extra.begin(), p.extra.end());
  return scratch;
}

std::string upper_user_type(UserActType t) {
  switch (t) {
    case UserActType::kHello: return "GREETING";
    case UserActType::kInform: return "INFORM";
    case UserActType::kRequest: return "REQUEST";
    case UserActType::kAffirm: return "AFFIRM";
    case UserActType::kNegate: return "NEGATE";
    case UserActType::kReqalts: return "REQUEST_ALTS";
    case UserActType::kBye: return "GOOD_BYE";
    case UserActType::kNull: return "CANT_UNDERSTAND";
  }
  return "OTHER";
}

}  // namespace

TemplateSet template_set_from_name(std::string_view name) {
  if (name == "training") return TemplateSet::kTraining;
  if (name == "extended") return TemplateSet::kExtended;
  throw InvalidArgument(detail::concat("unknown template set '", name, "' (expected training or extended)"));
}

const char* to_string(TemplateSet set) { return set == TemplateSet::kTraining ? "training" : "extended"; }

std::string slot_display_name(std::string_view slot) {
  if (slot == "theatre_name") return "theatre";
  if (slot == "num_tickets") return "number of tickets";
  if (slot == "pricerange") return "price range";
  std::string s(slot);
  for (char& c : s) {
    if (c == '_') c = ' ';
  }
  return s;
}

UserNlg::UserNlg(const Domain& domain, TemplateSet set) : domain_(&domain), set_(set) {}

const Templates& UserNlg::choices(UserActType type, int slot_id, bool dontcare, Templates& scratch) const {
  switch (type) {
    case UserActType::kInform: {
      if (dontcare) return pair_choices(kDontcareForms, set_, scratch);
      const auto& spec = inform_specific();
      const std::string& name = domain_->ontology().slot(slot_id).name;
      TemplatePair p = kInformGeneric;
      if (auto it = spec.find(name); it != spec.end()) {
        p.training.insert(p.training.end(), it->second.training.begin(), it->second.training.end());
        p.extra.insert(p.extra.end(), it->second.extra.begin(), it->second.extra.end());
      }
      Templates tmp;
      scratch = pair_choices(p, set_, tmp);
      return scratch;
    }
    case UserActType::kRequest: return pair_choices(kRequest, set_, scratch);
    case UserActType::kAffirm: return pair_choices(kAffirm, set_, scratch);
    case UserActType::kNegate: return pair_choices(kNegate, set_, scratch);
    case UserActType::kReqalts: return pair_choices(kReqalts, set_, scratch);
    case UserActType::kBye: return pair_choices(kBye, set_, scratch);
    case UserActType::kHello: return pair_choices(kHello, set_, scratch);
    case UserActType::kNull: return pair_choices(kNull, set_, scratch);
  }
  return pair_choices(kNull, set_, scratch);
}

int UserNlg::num_templates(UserActType type, int slot_id, bool dontcare) const {
  Templates scratch;
  return static_cast<int>(choices(type, slot_id, dontcare, scratch).size());
}

CorpusUtterance UserNlg::realize(const UserTurn& turn, bool opening, Rng& rng) const {
  const Ontology& o = domain_->ontology();
  Builder b;
  if (turn.size == 0) return b.finish();
  Templates scratch;
  if (opening) {
    const Templates& t = pair_choices(kOpening, set_, scratch);
    b.text(t[static_cast<size_t>(pick(rng, t.size()))]);
  }
  for (int k = 0; k < turn.size; ++k) {
    const UserActItem& it = turn.items[static_cast<size_t>(k)];
    if (k > 0) {
      const Templates& j = pair_choices(kJoin, set_, scratch);
      b.text(j[static_cast<size_t>(pick(rng, j.size()))]);
    }
    Binding bind;
    if (it.slot >= 0) {
      bind.slot_name = o.slot(it.slot).name;
      bind.slot_display = slot_display_name(bind.slot_name);
    }
    const bool dontcare = it.type == UserActType::kInform && it.value == kDontcare;
    if (it.type == UserActType::kInform && !dontcare) bind.value = std::string(o.value_name(it.slot, it.value));
    const Templates& t = opening && it.type == UserActType::kHello
                             ? pair_choices(intent_templates(domain_->name()), set_, scratch)
                             : choices(it.type, it.slot, dontcare, scratch);
    expand(b, t[static_cast<size_t>(pick(rng, t.size()))], bind);
  }
  return b.finish();
}

SystemNlg::SystemNlg(const Domain& domain) : domain_(&domain) {}

CorpusUtterance SystemNlg::realize(const SystemAct& act, Rng& rng) const {
  const Ontology& o = domain_->ontology();
  const KnowledgeBase& kb = domain_->kb();
  Builder b;
  Binding bind;
  bind.entity_slot = o.slot(Ontology::entity_slot()).name;
  if (act.slot >= 0) {
    bind.slot_name = o.slot(act.slot).name;
    bind.slot_display = slot_display_name(bind.slot_name);
    if (act.value != kNoValue) bind.value = std::string(o.value_name(act.slot, act.value));
    if (act.value2 != kNoValue) bind.value2 = std::string(o.value_name(act.slot, act.value2));
  }
  auto one = [&](std::initializer_list<const char*> ts) {
    const auto n = ts.size();
    expand(b, *(ts.begin() + pick(rng, n)), bind);
  };
  auto stated = [&](bool with_and) {
    bool first = true;
    for (int i = 0; i < o.num_informable(); ++i) {
      const int v = act.stated[static_cast<size_t>(i)];
      if (v == kNoValue) continue;
      const int sid = o.informable()[static_cast<size_t>(i)];
      if (!first) b.text(with_and ? "and" : ",");
      first = false;
      b.text(slot_display_name(o.slot(sid).name));
      if (v == kDontcare) b.text("any");
      else b.value(o.slot(sid).name, o.value_name(sid, v));
    }
  };
  auto informed = [&] {
    for (int r = 0; r < o.num_requestable(); ++r) {
      if (!((act.informed >> r) & 1U)) continue;
      const int sid = o.requestable()[static_cast<size_t>(r)];
      b.text(", the");
      b.text(slot_display_name(o.slot(sid).name));
      b.text("is");
      b.value(o.slot(sid).name, kb.display(o, act.entity, sid));
    }
  };
  switch (act.type) {
    case SystemActType::kHello: one({"hello , how can i help you ?", "hi , what can i do for you ?"}); break;
    case SystemActType::kRequest:
      if (bind.slot_name == "num_tickets") one({"how many tickets do you need ?", "how many tickets ?"});
      else one({"which {slot} would you like ?", "what {slot} do you prefer ?"});
      break;
    case SystemActType::kConfirm: one({"do you want {value} for the {slot} ?", "so the {slot} is {value} ?"}); break;
    case SystemActType::kSelect: one({"would you like {value} or {value2} ?", "{value} or {value2} for the {slot} ?"}); break;
    case SystemActType::kOffer:
      bind.entity = kb.name(act.entity);
      one({"i found {entity} for you :", "how about {entity} :"});
      stated(false);
      informed();
      break;
    case SystemActType::kInformNone:
      b.text("sorry , nothing matches");
      stated(true);
      break;
    case SystemActType::kInformRequested:
      bind.entity = kb.name(act.entity);
      one({"for {entity}", "about {entity}"});
      informed();
      break;
    case SystemActType::kReqmore: one({"can i help you with anything else ?", "anything else ?"}); break;
    case SystemActType::kBye: one({"goodbye .", "thank you , goodbye ."}); break;
  }
  return b.finish();
}

std::vector<CorpusAct> corpus_acts(const Domain& domain, const UserTurn& turn) {
  const Ontology& o = domain.ontology();
  std::vector<CorpusAct> out;
  for (int k = 0; k < turn.size; ++k) {
    const UserActItem& it = turn.items[static_cast<size_t>(k)];
    CorpusAct a{upper_user_type(it.type), {}, {}};
    if (it.slot >= 0) a.slot = o.slot(it.slot).name;
    if (it.type == UserActType::kInform) a.value = std::string(o.value_name(it.slot, it.value));
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<CorpusAct> corpus_acts(const Domain& domain, const SystemAct& act) {
  const Ontology& o = domain.ontology();
  const KnowledgeBase& kb = domain.kb();
  std::vector<CorpusAct> out;
  const std::string slot = act.slot >= 0 ? o.slot(act.slot).name : std::string();
  auto value = [&](int v) { return std::string(o.value_name(act.slot, v)); };
  auto stated = [&] {
    for (int i = 0; i < o.num_informable(); ++i) {
      const int v = act.stated[static_cast<size_t>(i)];
      if (v == kNoValue) continue;
      const int sid = o.informable()[static_cast<size_t>(i)];
      out.push_back({"INFORM", o.slot(sid).name, std::string(o.value_name(sid, v))});
    }
  };
  auto informed = [&] {
    for (int r = 0; r < o.num_requestable(); ++r) {
      if (!((act.informed >> r) & 1U)) continue;
      const int sid = o.requestable()[static_cast<size_t>(r)];
      out.push_back({"INFORM", o.slot(sid).name, kb.display(o, act.entity, sid)});
    }
  };
  const std::string entity_slot = o.slot(Ontology::entity_slot()).name;
  switch (act.type) {
    case SystemActType::kHello: out.push_back({"GREETING", {}, {}}); break;
    case SystemActType::kRequest: out.push_back({"REQUEST", slot, {}}); break;
    case SystemActType::kConfirm: out.push_back({"CONFIRM", slot, value(act.value)}); break;
    case SystemActType::kSelect:
      out.push_back({"SELECT", slot, value(act.value)});
      out.push_back({"SELECT", slot, value(act.value2)});
      break;
    case SystemActType::kOffer:
      out.push_back({"OFFER", entity_slot, kb.name(act.entity)});
      stated();
      informed();
      break;
    case SystemActType::kInformNone:
      out.push_back({"NOTIFY_FAILURE", {}, {}});
      stated();
      break;
    case SystemActType::kInformRequested:
      out.push_back({"INFORM", entity_slot, kb.name(act.entity)});
      informed();
      break;
    case SystemActType::kReqmore: out.push_back({"OTHER", {}, {}}); break;
    case SystemActType::kBye: out.push_back({"GOOD_BYE", {}, {}}); break;
  }
  return out;
}

}  // namespace metadial::dialog
