#include "metadial/dialog/user_simulator.h"

#include <algorithm>
#include <cmath>

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
  if (name == "simm") return simm();
  throw InvalidArgument(detail::concat("unknown user behaviour '", name, "' (expected standard, unfriendly or simm)"));
}

void UserProfile::validate() const {
  MD_CHECK(!name.empty(), "user profile: empty name");
  auto prob = [&](double p, const char* field) {
    MD_CHECK(p >= 0.0 && p <= 1.0, "user profile '", name, "': ", field, " ", p, " not in [0, 1]");
  };
  prob(share, "share");
  prob(extra_prob, "extra_prob");
  prob(change_prob, "change_prob");
  MD_CHECK(volunteer >= kAll, "user profile '", name, "': volunteer ", volunteer, " (expected \"all\" or >= 0)");
  MD_CHECK(patience >= 1 && patience <= patience_max, "user profile '", name, "': patience ", patience,
           " / patience_max ", patience_max, " (expected 1 <= patience <= patience_max)");
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
  if (profiles.empty()) return;
  double sum = 0.0;
  for (size_t k = 0; k < profiles.size(); ++k) {
    profiles[k].validate();
    sum += profiles[k].share;
    for (size_t j = 0; j < k; ++j) {
      MD_CHECK(profiles[j].name != profiles[k].name, "user options: profile '", profiles[k].name, "' given twice");
    }
  }
  MD_CHECK(std::abs(sum - 1.0) <= 1e-6, "user options: the profile shares sum to ", sum, " (expected 1)");
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
  profile_ = -1;
  user_turns_ = 0;
  change_at_ = -1;
  changes_ = 0;
  stated_ = 0;
  if (!options_.profiles.empty()) {
    // This dialogue's profile (by share), its patience and whether (and when) it changes its mind.
    const double u = uniform01(rng);
    double acc = 0.0;
    profile_ = static_cast<int>(options_.profiles.size()) - 1;
    for (size_t k = 0; k < options_.profiles.size(); ++k) {
      acc += options_.profiles[k].share;
      if (u < acc) {
        profile_ = static_cast<int>(k);
        break;
      }
    }
    const UserProfile& p = options_.profiles[static_cast<size_t>(profile_)];
    patience_ = p.patience + uniform_int(rng, p.patience_max - p.patience + 1);
    if (p.change_prob > 0.0 && uniform01(rng) < p.change_prob) change_at_ = 2 + uniform_int(rng, 3);
  }
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
  const bool first_turn = opening;
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
  // With a profile, the number of constraints is the profile's (0 in the opening turn: the intent).
  int take = -1;
  if (profile_ >= 0 && type == UserActType::kInform) {
    const int v = options_.profiles[static_cast<size_t>(profile_)].volunteer;
    take = v == UserProfile::kAll ? run : std::min(v, run);
    if (take == 0 && first_turn) {
      out.push(simple(UserActType::kHello));
      return;
    }
    take = std::max(take, 1);
  }
  // Shuffle the run in place so that which constraint comes first is random.
  for (int k = run - 1; k > 0; --k) {
    const int j = uniform_int(rng, k + 1);
    std::swap(agenda_[static_cast<size_t>(agenda_size_ - 1 - k)], agenda_[static_cast<size_t>(agenda_size_ - 1 - j)]);
  }
  out.push(agenda_[static_cast<size_t>(--agenda_size_)]);
  if (take >= 0) {
    for (int k = 1; k < take && out.size < kMaxTurnItems; ++k) out.push(agenda_[static_cast<size_t>(--agenda_size_)]);
    return;
  }
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
    double extra = options_.volunteer_prob;
    if (profile_ >= 0) {
      const UserProfile& p = options_.profiles[static_cast<size_t>(profile_)];
      extra = p.answer_only_asked ? 0.0 : p.extra_prob;
    }
    if (answer && extra > 0.0) {
      while (agenda_size_ > 0 && agenda_[static_cast<size_t>(agenda_size_ - 1)].type == UserActType::kInform &&
             out.size < kMaxTurnItems && uniform01(rng) < extra) {
        out.push(agenda_[static_cast<size_t>(--agenda_size_)]);
      }
    }
  } else {
    pop_group(out, rng, act.type == SystemActType::kHello);
  }
  if (profile_ >= 0) {
    ++user_turns_;
    if (user_turns_ == change_at_) maybe_change(out, rng);
    for (int k = 0; k < out.size; ++k) {
      const UserActItem& it = out.items[static_cast<size_t>(k)];
      const int i = it.type == UserActType::kInform ? domain_->ontology().informable_index(it.slot) : -1;
      if (i >= 0 && it.value >= 0) stated_ |= 1U << i;
    }
  }
  if (failures_ >= patience_ && !out.has(UserActType::kBye)) {
    out = UserTurn{};
    out.push(simple(UserActType::kBye));
    hung_up_ = true;
  }
  if (out.has(UserActType::kBye)) finished_ = true;
  return out;
}

void AgendaUser::maybe_change(UserTurn& out, Rng& rng) {
  // Not now (nothing stated yet that this turn does not say, an accepted offer, a bye, a full
  // turn): try again at the next turn.
  const Ontology& o = domain_->ontology();
  const KnowledgeBase& kb = domain_->kb();
  ++change_at_;
  if (accepted_ >= 0 || out.has(UserActType::kBye) || out.size >= kMaxTurnItems) return;
  uint32_t said = 0;
  for (int k = 0; k < out.size; ++k) {
    const UserActItem& it = out.items[static_cast<size_t>(k)];
    const int i = it.type == UserActType::kInform ? o.informable_index(it.slot) : -1;
    if (i >= 0) said |= 1U << i;
  }
  std::array<int, kMaxInformable> cand{};
  int n = 0;
  for (int i = 0; i < o.num_informable(); ++i) {
    if (((stated_ & ~said) >> i) & 1U && goal_.constraints[static_cast<size_t>(i)] >= 0) cand[static_cast<size_t>(n++)] = i;
  }
  if (n == 0) return;
  const int i = cand[static_cast<size_t>(uniform_int(rng, n))];
  const int slot_id = o.informable()[static_cast<size_t>(i)];
  const int old = goal_.constraints[static_cast<size_t>(i)];
  int value = -1;
  if (o.slot(slot_id).in_kb) {
    // An entity that matches the other database constraints and has another value here.
    auto fits = [&](int e) {
      if (kb.value(e, i) == old) return false;
      for (int j = 0; j < o.num_informable(); ++j) {
        const int g = goal_.constraints[static_cast<size_t>(j)];
        if (j != i && g >= 0 && o.slot(o.informable()[static_cast<size_t>(j)]).in_kb && kb.value(e, j) != g) return false;
      }
      return true;
    };
    int count = 0;
    for (int e = 0; e < kb.size(); ++e) count += fits(e) ? 1 : 0;
    if (count == 0) return;
    int pick = uniform_int(rng, count);
    for (int e = 0; e < kb.size() && value < 0; ++e) {
      if (fits(e) && pick-- == 0) value = kb.value(e, i);
    }
  } else {
    const int nv = o.num_values(i);
    if (nv < 2) return;
    value = (old + 1 + uniform_int(rng, nv - 1)) % nv;
  }
  goal_.constraints[static_cast<size_t>(i)] = static_cast<int16_t>(value);
  remove_informs(slot_id);
  out.push(inform(slot_id, value));
  ++changes_;
  change_at_ = -1;
}

bool AgendaUser::success() const {
  if (accepted_ < 0) return false;
  bool missing = false;
  if (check_offer(accepted_, accepted_stated_, &missing) >= 0) return false;
  return (goal_.requests & ~answered_) == 0;
}

}  // namespace metadial::dialog
