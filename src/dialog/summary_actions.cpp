#include "metadial/dialog/summary_actions.h"

#include "metadial/core/error.h"
#include "metadial/dialog/belief_tracker.h"

namespace metadial::dialog {

SummaryActionSet::SummaryActionSet(const Ontology& ontology) : ontology_(&ontology) {
  for (int i : ontology.system_requestable()) {
    const std::string& slot = ontology.slot(ontology.informable()[static_cast<size_t>(i)]).name;
    actions_.push_back({SummaryKind::kRequest, i});
    names_.push_back("request_" + slot);
    actions_.push_back({SummaryKind::kConfirm, i});
    names_.push_back("confirm_" + slot);
    actions_.push_back({SummaryKind::kSelect, i});
    names_.push_back("select_" + slot);
  }
  const std::pair<SummaryKind, const char*> globals[] = {
      {SummaryKind::kInform, "inform"}, {SummaryKind::kInformByName, "inform_byname"},
      {SummaryKind::kInformAlternatives, "inform_alternatives"}, {SummaryKind::kBye, "bye"},
      {SummaryKind::kReqmore, "reqmore"}};
  for (const auto& [kind, name] : globals) {
    actions_.push_back({kind, -1});
    names_.emplace_back(name);
  }
}

int SummaryActionSet::index(std::string_view name) const {
  for (int a = 0; a < size(); ++a) {
    if (names_[static_cast<size_t>(a)] == name) return a;
  }
  std::string list;
  for (const auto& n : names_) list += (list.empty() ? "" : ", ") + n;
  throw InvalidArgument(detail::concat("unknown summary action '", name, "' (actions: ", list, ")"));
}

int SummaryActionSet::index(SummaryKind kind, int slot) const {
  for (int a = 0; a < size(); ++a) {
    const SummaryAction& x = actions_[static_cast<size_t>(a)];
    if (x.kind == kind && x.slot == slot) return a;
  }
  return -1;
}

void SummaryActionSet::mask(const BeliefState& b, std::span<uint8_t> out) const {
  MD_ASSERT(static_cast<int>(out.size()) == size(), "mask size");
  for (int a = 0; a < size(); ++a) {
    const SummaryAction& x = actions_[static_cast<size_t>(a)];
    bool ok = true;
    switch (x.kind) {
      case SummaryKind::kRequest: ok = true; break;
      case SummaryKind::kConfirm: ok = b.top[static_cast<size_t>(x.slot)].value != kNoValue; break;
      case SummaryKind::kSelect: ok = b.second[static_cast<size_t>(x.slot)].value != kNoValue; break;
      case SummaryKind::kInform: ok = b.num_accepted > 0 && b.non_kb_accepted && b.discriminating == 0; break;
      case SummaryKind::kInformByName: ok = b.offered_entity >= 0; break;
      case SummaryKind::kInformAlternatives:
        ok = b.offered_entity >= 0 && b.discourse[kDiscReqalts] > 0.5F;
        break;
      case SummaryKind::kBye: ok = b.method[kMethodFinished] > 0.5F; break;
      case SummaryKind::kReqmore: ok = b.offered_entity >= 0; break;
    }
    out[static_cast<size_t>(a)] = ok ? 1 : 0;
  }
}

uint32_t SummaryActionSet::requested_mask(const BeliefState& b) const {
  uint32_t m = 0;
  for (size_t r = 0; r < b.requested.size(); ++r) {
    if (b.requested[r] > 0.5F) m |= 1U << r;
  }
  return m;
}

SystemAct SummaryActionSet::offer(const BeliefState& b, bool alternatives) const {
  SystemAct act;
  for (int i = 0; i < ontology_->num_informable(); ++i) {
    const int v = b.accepted[static_cast<size_t>(i)];
    if (v >= 0) act.stated[static_cast<size_t>(i)] = static_cast<int16_t>(v);
  }
  int e = -1;
  if (alternatives) {
    for (int c = b.matches.next(0); c >= 0; c = b.matches.next(c + 1)) {
      if (!b.offered_since_none.test(c)) {
        e = c;
        break;
      }
    }
  } else if (b.offered_entity >= 0 && b.matches.test(b.offered_entity)) {
    e = b.offered_entity;
  } else {
    e = b.matches.next(0);
  }
  if (e < 0) {
    act.type = SystemActType::kInformNone;
  } else {
    act.type = SystemActType::kOffer;
    act.entity = e;
  }
  return act;
}

SystemAct SummaryActionSet::to_master(int a, const BeliefState& b) const {
  MD_CHECK(a >= 0 && a < size(), "summary action ", a, " out of range [0, ", size(), ")");
  const SummaryAction& x = actions_[static_cast<size_t>(a)];
  SystemAct act;
  const int slot_id = x.slot >= 0 ? ontology_->informable()[static_cast<size_t>(x.slot)] : -1;
  const SlotTop t1 = x.slot >= 0 ? b.top[static_cast<size_t>(x.slot)] : SlotTop{};
  const SlotTop t2 = x.slot >= 0 ? b.second[static_cast<size_t>(x.slot)] : SlotTop{};
  switch (x.kind) {
    case SummaryKind::kSelect:
      if (t2.value != kNoValue) {
        act.type = SystemActType::kSelect;
        act.slot = static_cast<int8_t>(slot_id);
        act.value = static_cast<int16_t>(t1.value);
        act.value2 = static_cast<int16_t>(t2.value);
        break;
      }
      [[fallthrough]];
    case SummaryKind::kConfirm:
      if (t1.value != kNoValue) {
        act.type = SystemActType::kConfirm;
        act.slot = static_cast<int8_t>(slot_id);
        act.value = static_cast<int16_t>(t1.value);
        break;
      }
      [[fallthrough]];
    case SummaryKind::kRequest:
      act.type = SystemActType::kRequest;
      act.slot = static_cast<int8_t>(slot_id);
      break;
    case SummaryKind::kInform:
      act = offer(b, false);
      break;
    case SummaryKind::kInformByName:
      if (b.offered_entity >= 0) {
        act.type = SystemActType::kInformRequested;
        act.entity = b.offered_entity;
        act.informed = requested_mask(b);
      } else {
        act = offer(b, false);
        if (act.type == SystemActType::kOffer) act.informed = requested_mask(b);
      }
      break;
    case SummaryKind::kInformAlternatives:
      act = offer(b, b.offered_entity >= 0);
      break;
    case SummaryKind::kBye:
      act.type = SystemActType::kBye;
      break;
    case SummaryKind::kReqmore:
      act.type = SystemActType::kReqmore;
      break;
  }
  return act;
}

}  // namespace metadial::dialog
