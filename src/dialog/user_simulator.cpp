#include "metadial/dialog/user_simulator.h"

#include <algorithm>

#include "metadial/core/error.h"
#include "metadial/dialog/domain.h"

namespace metadial::dialog {
namespace {

int uniform_int(Rng& rng, int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); }

UserActItem inform(int slot_id, int value) {
  return {UserActType::kInform, static_cast<int8_t>(slot_id), static_cast<int16_t>(value)};
}
UserActItem request(int slot_id) { return {UserActType::kRequest, static_cast<int8_t>(slot_id), static_cast<int16_t>(kNoValue)}; }
UserActItem simple(UserActType t) { return {t, -1, static_cast<int16_t>(kNoValue)}; }

}  // namespace

UserOptions UserOptions::from_name(std::string_view name) {
  if (name == "standard") return standard();
  if (name == "unfriendly") return unfriendly();
  throw InvalidArgument(detail::concat("unknown user behaviour '", name, "' (expected standard or unfriendly)"));
}

void UserOptions::validate() const {
  MD_CHECK(patience >= 1 && patience <= patience_max, "user options: patience ", patience, " / patience_max ",
           patience_max, " (expected 1 <= patience <= patience_max)");
  auto prob = [](double p, const char* name) {
    MD_CHECK(p >= 0.0 && p <= 1.0, "user options: ", name, " ", p, " not in [0, 1]");
  };
  prob(initial_inform_prob, "initial_inform_prob");
  prob(volunteer_prob, "volunteer_prob");
  prob(request_group_prob, "request_group_prob");
  prob(withhold_correction_prob, "withhold_correction_prob");
}

AgendaUser::AgendaUser(const Domain& domain, const UserOptions& options) : domain_(&domain), options_(options) {
  options_.validate();
}

void AgendaUser::push(UserActItem item) {
  MD_ASSERT(agenda_size_ < kAgendaCapacity, "agenda overflow");
  agenda_[static_cast<size_t>(agenda_size_++)] = item;
}

void AgendaUser::remove_informs(int slot_id) {
  int w = 0;
  for (int r = 0; r < agenda_size_; ++r) {
    const UserActItem& it = agenda_[static_cast<size_t>(r)];
    if (it.type == UserActType::kInform && it.slot == slot_id) continue;
    agenda_[static_cast<size_t>(w++)] = it;
  }
  agenda_size_ = w;
}

void AgendaUser::remove_requests(uint32_t answered_mask) {
  const Ontology& o = domain_->ontology();
  int w = 0;
  for (int r = 0; r < agenda_size_; ++r) {
    const UserActItem& it = agenda_[static_cast<size_t>(r)];
    if (it.type == UserActType::kRequest && ((answered_mask >> o.requestable_index(it.slot)) & 1U)) continue;
    agenda_[static_cast<size_t>(w++)] = it;
  }
  agenda_size_ = w;
}

void AgendaUser::start(const Goal& goal, Rng& rng) {
  const Ontology& o = domain_->ontology();
  goal_ = goal;
  patience_ = options_.patience + uniform_int(rng, options_.patience_max - options_.patience + 1);
  agenda_size_ = 0;
  has_last_act_ = false;
  finished_ = false;
  hung_up_ = false;
  failures_ = 0;
  relaxations_ = 0;
  accepted_ = -1;
  accepted_stated_.fill(static_cast<int16_t>(kNoValue));
  answered_ = 0;
  // Bottom to top: bye, requests, constraint informs. The order within each group is random,
  // but is drawn when a run of items is popped (pop_group).
  push(simple(UserActType::kBye));
  for (int r = o.num_requestable() - 1; r >= 0; --r) {
    if ((goal_.requests >> r) & 1U) push(request(o.requestable()[static_cast<size_t>(r)]));
  }
  for (int i = o.num_informable() - 1; i >= 0; --i) {
    const int v = goal_.constraints[static_cast<size_t>(i)];
    if (v >= 0) push(inform(o.informable()[static_cast<size_t>(i)], v));
  }
}

int AgendaUser::check_offer(int entity, const std::array<int16_t, kMaxInformable>& stated, bool* missing) const {
  const Ontology& o = domain_->ontology();
  const KnowledgeBase& kb = domain_->kb();
  *missing = false;
  int first_missing = -1;
  for (int i = 0; i < o.num_informable(); ++i) {
    const int g = goal_.constraints[static_cast<size_t>(i)];
    if (g < 0) continue;
    if (o.slot(o.informable()[static_cast<size_t>(i)]).in_kb) {
      if (kb.value(entity, i) != g) return i;
    } else {
      const int s = stated[static_cast<size_t>(i)];
      if (s == kNoValue || s == kDontcare) {
        if (first_missing < 0) first_missing = i;
      } else if (s != g) {
        return i;
      }
    }
  }
  if (first_missing >= 0) *missing = true;
  return first_missing;
}

void AgendaUser::push_correction(int i, bool with_negate) {
  const int slot_id = domain_->ontology().informable()[static_cast<size_t>(i)];
  remove_informs(slot_id);
  push(inform(slot_id, goal_.constraints[static_cast<size_t>(i)]));
  if (with_negate) push(simple(UserActType::kNegate));
}

int AgendaUser::react_to_offer(int entity, const std::array<int16_t, kMaxInformable>& stated, uint32_t informed) {
  bool missing = false;
  const int bad = check_offer(entity, stated, &missing);
  if (bad >= 0 && missing) {  // only an unstated non-database slot (e.g. num_tickets): tell it
    push_correction(bad, /*with_negate=*/false);
    return 1;
  }
  if (bad >= 0) {  // wrong entity
    ++failures_;
    push_correction(bad, /*with_negate=*/true);
    return 2;
  }
  if (entity != accepted_) {
    accepted_ = entity;
    accepted_stated_ = stated;
    answered_ = 0;
  }
  // The accepted entity satisfies every constraint: nothing left to inform.
  const Ontology& o = domain_->ontology();
  for (int i = 0; i < o.num_informable(); ++i) {
    if (goal_.constraints[static_cast<size_t>(i)] >= 0) remove_informs(o.informable()[static_cast<size_t>(i)]);
  }
  answered_ |= informed & goal_.requests;
  remove_requests(answered_);
  return 0;
}

int AgendaUser::react(const SystemAct& act, Rng& rng) {
  const Ontology& o = domain_->ontology();
  switch (act.type) {
    case SystemActType::kHello:
    case SystemActType::kReqmore:
    case SystemActType::kBye:
      return 0;
    case SystemActType::kRequest:
    case SystemActType::kSelect: {
      const int i = o.informable_index(act.slot);
      if (i < 0) return 0;
      remove_informs(act.slot);
      push(inform(act.slot, goal_.constraints[static_cast<size_t>(i)]));
      return 1;
    }
    case SystemActType::kConfirm: {
      const int i = o.informable_index(act.slot);
      if (i < 0) return 0;
      const int g = goal_.constraints[static_cast<size_t>(i)];
      if (g == kDontcare || act.value == g) {
        push(simple(UserActType::kAffirm));
        return 1;
      }
      if (options_.withhold_correction_prob > 0.0 && uniform01(rng) < options_.withhold_correction_prob) {
        push(simple(UserActType::kNegate));
        return 1;
      }
      push_correction(i, /*with_negate=*/true);
      return 2;
    }
    case SystemActType::kOffer:
      return react_to_offer(act.entity, act.stated, act.informed);
    case SystemActType::kInformRequested: {
      // Naming another entity than the accepted one is an offer of it (judged on the database
      // slots; a non-database constraint it does not restate is missing).
      if (act.entity != accepted_) return react_to_offer(act.entity, act.stated, act.informed);
      answered_ |= act.informed & goal_.requests;
      remove_requests(answered_);
      return 0;
    }
    case SystemActType::kInformNone: {
      for (int i = 0; i < o.num_informable(); ++i) {
        const int s = act.stated[static_cast<size_t>(i)];
        if (s == kNoValue) continue;
        const int g = goal_.constraints[static_cast<size_t>(i)];
        if (s == g) continue;
        if (g == kDontcare) {  // the system queried a value the user does not care about
          const int slot_id = o.informable()[static_cast<size_t>(i)];
          remove_informs(slot_id);
          push(inform(slot_id, kDontcare));
          return 1;
        }
        ++failures_;  // the system misunderstood a constraint
        push_correction(i, /*with_negate=*/true);
        return 2;
      }
      // Truthful: nothing matches the stated constraints, all of which are the user's. Relax a
      // stated database constraint that is not required.
      std::array<int, kMaxInformable> cand{};
      int n = 0;
      for (int i = 0; i < o.num_informable(); ++i) {
        const Slot& slot = o.slot(o.informable()[static_cast<size_t>(i)]);
        if (act.stated[static_cast<size_t>(i)] >= 0 && slot.in_kb && !slot.required) cand[static_cast<size_t>(n++)] = i;
      }
      if (n == 0) {
        push(simple(UserActType::kBye));
        return 1;
      }
      const int i = cand[static_cast<size_t>(uniform_int(rng, n))];
      const int slot_id = o.informable()[static_cast<size_t>(i)];
      goal_.constraints[static_cast<size_t>(i)] = static_cast<int16_t>(kDontcare);
      ++relaxations_;
      remove_informs(slot_id);
      push(inform(slot_id, kDontcare));
      return 1;
    }
  }
  return 0;
}

void AgendaUser::pop_group(UserTurn& out, Rng& rng, bool opening) {
  const Ontology& o = domain_->ontology();
  if (agenda_size_ == 0) push(simple(UserActType::kBye));
  UserActItem top = agenda_[static_cast<size_t>(agenda_size_ - 1)];
  if (top.type == UserActType::kBye) {
    // Before leaving: without an accepted entity, restate the constraints; with unanswered
    // requests, ask them again. Either means the system gave nothing new: a failure.
    const uint32_t open = goal_.requests & ~answered_;
    if (accepted_ < 0 || open != 0) {
      ++failures_;
      if (accepted_ < 0) {
        for (int i = o.num_informable() - 1; i >= 0; --i) {
          const int v = goal_.constraints[static_cast<size_t>(i)];
          if (v >= 0) push(inform(o.informable()[static_cast<size_t>(i)], v));
        }
      } else {
        for (int r = o.num_requestable() - 1; r >= 0; --r) {
          if ((open >> r) & 1U) push(request(o.requestable()[static_cast<size_t>(r)]));
        }
      }
      if (agenda_size_ > 0 && agenda_[static_cast<size_t>(agenda_size_ - 1)].type == UserActType::kBye) {
        out.push(agenda_[static_cast<size_t>(--agenda_size_)]);  // nothing to restate (no constraints)
        return;
      }
      top = agenda_[static_cast<size_t>(agenda_size_ - 1)];
      opening = true;  // restate everything pending of that kind
    } else {
      out.push(top);
      --agenda_size_;
      return;
    }
  }
  // Pop a run of items of the top item's type; after the first, each further one with the
  // behaviour's probability. The run's order is shuffled (the agenda order is the file order).
  const UserActType type = top.type;
  const double p = type == UserActType::kRequest ? options_.request_group_prob
                   : opening                     ? options_.initial_inform_prob
                                                 : options_.volunteer_prob;
  int run = 0;
  while (run < agenda_size_ && agenda_[static_cast<size_t>(agenda_size_ - 1 - run)].type == type) ++run;
  // Shuffle the run in place so that which constraint comes first is random.
  for (int k = run - 1; k > 0; --k) {
    const int j = uniform_int(rng, k + 1);
    std::swap(agenda_[static_cast<size_t>(agenda_size_ - 1 - k)], agenda_[static_cast<size_t>(agenda_size_ - 1 - j)]);
  }
  out.push(agenda_[static_cast<size_t>(--agenda_size_)]);
  for (int k = 1; k < run && out.size < kMaxTurnItems; ++k) {
    if (p <= 0.0 || uniform01(rng) >= p) break;
    out.push(agenda_[static_cast<size_t>(--agenda_size_)]);
  }
}

UserTurn AgendaUser::respond(const SystemAct& act, Rng& rng) {
  UserTurn out;
  if (finished_) return out;
  if (act.type == SystemActType::kBye) {
    finished_ = true;
    return out;
  }
  const bool repeated = has_last_act_ && act.type != SystemActType::kHello && act == last_act_;
  last_act_ = act;
  has_last_act_ = true;
  if (repeated) ++failures_;

  const int pushed = react(act, rng);
  if (pushed > 0) {
    for (int k = 0; k < pushed; ++k) out.push(agenda_[static_cast<size_t>(--agenda_size_)]);
    // Answers to request / select / confirm may come with further pending constraints.
    const bool answer = act.type == SystemActType::kRequest || act.type == SystemActType::kSelect ||
                        act.type == SystemActType::kConfirm;
    if (answer && options_.volunteer_prob > 0.0) {
      while (agenda_size_ > 0 && agenda_[static_cast<size_t>(agenda_size_ - 1)].type == UserActType::kInform &&
             out.size < kMaxTurnItems && uniform01(rng) < options_.volunteer_prob) {
        out.push(agenda_[static_cast<size_t>(--agenda_size_)]);
      }
    }
  } else {
    pop_group(out, rng, act.type == SystemActType::kHello);
  }
  if (failures_ >= patience_ && !out.has(UserActType::kBye)) {
    out = UserTurn{};
    out.push(simple(UserActType::kBye));
    hung_up_ = true;
  }
  if (out.has(UserActType::kBye)) finished_ = true;
  return out;
}

bool AgendaUser::success() const {
  if (accepted_ < 0) return false;
  bool missing = false;
  if (check_offer(accepted_, accepted_stated_, &missing) >= 0) return false;
  return (goal_.requests & ~answered_) == 0;
}

}  // namespace metadial::dialog
