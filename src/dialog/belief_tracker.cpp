#include "metadial/dialog/belief_tracker.h"

#include <algorithm>

#include "metadial/core/error.h"
#include "metadial/dialog/domain.h"

namespace metadial::dialog {
namespace {

// Index of a value in a slot's belief vector: values, then dontcare (V), then none (V + 1).
inline int belief_index(int value, int num_values) {
  if (value >= 0) return value;
  return value == kDontcare ? num_values : num_values + 1;
}

}  // namespace

void TrackerOptions::validate() const {
  MD_CHECK(accept_threshold > 0.0F && accept_threshold < 1.0F, "tracker: accept_threshold ", accept_threshold,
           " not in (0, 1)");
}

BeliefTracker::BeliefTracker(const Domain& domain, const TrackerOptions& options) : domain_(&domain), options_(options) {
  options_.validate();
  const Ontology& o = domain.ontology();
  int n = 0;
  for (int i = 0; i < o.num_informable(); ++i) {
    n += o.num_values(i) + 2;
    if (o.slot(o.informable()[static_cast<size_t>(i)]).in_kb) ++num_kb_slots_;
  }
  n += o.num_requestable() + 4 + 4 + 3 + 5 * num_kb_slots_;
  observation_size_ = n;
}

void BeliefTracker::reset(BeliefState& s) const {
  const Ontology& o = domain_->ontology();
  const int ni = o.num_informable();
  s.offset.assign(static_cast<size_t>(ni + 1), 0);
  for (int i = 0; i < ni; ++i) s.offset[static_cast<size_t>(i + 1)] = s.offset[static_cast<size_t>(i)] + o.num_values(i) + 2;
  s.probs.assign(static_cast<size_t>(s.offset.back()), 0.0F);
  for (int i = 0; i < ni; ++i) s.probs[static_cast<size_t>(s.offset[static_cast<size_t>(i + 1)] - 1)] = 1.0F;
  s.requested.assign(static_cast<size_t>(o.num_requestable()), 0.0F);
  s.method = {1.0F, 0.0F, 0.0F, 0.0F};
  s.discourse = {0.0F, 0.0F, 0.0F, 0.0F};
  s.offered_entity = -1;
  s.offer_happened = false;
  s.last_inform_none = false;
  const int n = domain_->kb().size();
  if (s.offered_since_none.capacity() != n) s.offered_since_none.resize(n);
  s.offered_since_none.clear();
  if (s.matches.capacity() != n) s.matches.resize(n);
  if (s.scratch.capacity() != n) s.scratch.resize(n);
  s.last_action = -1;
  s.turn = 0;
  summarize(s);
}

void BeliefTracker::note_system_act(BeliefState& s, const SystemAct& act, int action) const {
  s.last_action = action;
  s.last_inform_none = false;
  auto clear_informed = [&] {
    for (size_t r = 0; r < s.requested.size(); ++r) {
      if ((act.informed >> r) & 1U) s.requested[r] = 0.0F;
    }
  };
  switch (act.type) {
    case SystemActType::kOffer:
    case SystemActType::kInformRequested:
      s.offered_entity = act.entity;
      s.offer_happened = true;
      s.offered_since_none.set(act.entity);
      clear_informed();
      break;
    case SystemActType::kInformNone:
      s.last_inform_none = true;
      s.offered_since_none.clear();
      break;
    default:
      break;
  }
  s.offered_matches = s.offered_entity >= 0 && s.matches.test(s.offered_entity);
}

void BeliefTracker::update(BeliefState& s, const NBestList& nbest, const SystemAct& last_act) const {
  const Ontology& o = domain_->ontology();
  const int ni = o.num_informable();
  std::array<float, kMaxValues + 2> p{};
  const bool confirm = last_act.type == SystemActType::kConfirm;

  for (int i = 0; i < ni; ++i) {
    const int sid = o.informable()[static_cast<size_t>(i)];
    const int nv = o.num_values(i);
    std::fill(p.begin(), p.begin() + nv + 2, 0.0F);
    float neg = 0.0F;
    const bool confirmed_here = confirm && last_act.slot == sid;
    for (int h = 0; h < nbest.size; ++h) {
      const Hypothesis& hyp = nbest.hyps[static_cast<size_t>(h)];
      bool informed = false;
      for (int k = 0; k < hyp.turn.size && !informed; ++k) {
        const UserActItem& it = hyp.turn.items[static_cast<size_t>(k)];
        if (it.type == UserActType::kInform && it.slot == sid) {
          p[static_cast<size_t>(belief_index(it.value, nv))] += hyp.confidence;
          informed = true;
        }
      }
      if (!informed && confirmed_here) {
        if (hyp.turn.has(UserActType::kAffirm)) {
          p[static_cast<size_t>(belief_index(last_act.value, nv))] += hyp.confidence;
        } else if (hyp.turn.has(UserActType::kNegate)) {
          neg += hyp.confidence;
        }
      }
    }
    float total = 0.0F;
    for (int v = 0; v < nv + 2; ++v) total += p[static_cast<size_t>(v)];
    if (total > 1.0F) {
      for (int v = 0; v < nv + 2; ++v) p[static_cast<size_t>(v)] /= total;
      total = 1.0F;
    }
    float* b = s.probs.data() + s.offset[static_cast<size_t>(i)];
    if (neg > 0.0F) {  // "not v": first take that share of the old belief in v to none
      const int idx = belief_index(last_act.value, nv);
      const float moved = b[idx] * std::min(neg, 1.0F);
      b[idx] -= moved;
      b[nv + 1] += moved;
    }
    if (total > 0.0F) {
      for (int v = 0; v < nv + 2; ++v) b[v] = (1.0F - total) * b[v] + p[static_cast<size_t>(v)];
    }
  }

  // Requested slots, method and discourse acts.
  const int nr = o.num_requestable();
  std::array<float, kMaxRequestable> req{};
  std::array<float, 4> method_evidence{};
  s.discourse = {0.0F, 0.0F, 0.0F, 0.0F};
  for (int h = 0; h < nbest.size; ++h) {
    const Hypothesis& hyp = nbest.hyps[static_cast<size_t>(h)];
    const float c = hyp.confidence;
    uint32_t asked = 0;
    bool any_inform = false;
    for (int k = 0; k < hyp.turn.size; ++k) {
      const UserActItem& it = hyp.turn.items[static_cast<size_t>(k)];
      if (it.type == UserActType::kRequest) {
        const int r = o.requestable_index(it.slot);
        if (r >= 0) asked |= 1U << r;
      } else if (it.type == UserActType::kInform && o.informable_index(it.slot) >= 0) {
        any_inform = true;
      }
    }
    for (int r = 0; r < nr; ++r) {
      if ((asked >> r) & 1U) req[static_cast<size_t>(r)] += c;
    }
    if (hyp.turn.has(UserActType::kAffirm)) s.discourse[kDiscAffirm] += c;
    if (hyp.turn.has(UserActType::kNegate)) s.discourse[kDiscNegate] += c;
    if (hyp.turn.has(UserActType::kReqalts)) s.discourse[kDiscReqalts] += c;
    if (hyp.turn.has(UserActType::kBye)) s.discourse[kDiscBye] += c;
    if (hyp.turn.has(UserActType::kBye)) method_evidence[kMethodFinished] += c;
    else if (hyp.turn.has(UserActType::kReqalts)) method_evidence[kMethodByAlternatives] += c;
    else if (any_inform) method_evidence[kMethodByConstraints] += c;
  }
  for (int r = 0; r < nr; ++r) {
    float& x = s.requested[static_cast<size_t>(r)];
    x = 1.0F - (1.0F - x) * (1.0F - std::min(req[static_cast<size_t>(r)], 1.0F));
  }
  float e_total = method_evidence[1] + method_evidence[2] + method_evidence[3];
  if (e_total > 1.0F) {
    for (float& e : method_evidence) e /= e_total;
    e_total = 1.0F;
  }
  for (int m = 0; m < 4; ++m) s.method[static_cast<size_t>(m)] = (1.0F - e_total) * s.method[static_cast<size_t>(m)] + method_evidence[static_cast<size_t>(m)];
  ++s.turn;
  summarize(s);
}

void BeliefTracker::summarize(BeliefState& s) const {
  const Ontology& o = domain_->ontology();
  const KnowledgeBase& kb = domain_->kb();
  const int ni = o.num_informable();
  std::array<int, kMaxInformable> constraint{};
  constraint.fill(kNoValue);
  s.num_accepted = 0;
  s.non_kb_accepted = true;
  uint32_t unaccepted_kb = 0;
  for (int i = 0; i < ni; ++i) {
    const int nv = o.num_values(i);
    const float* b = s.probs.data() + s.offset[static_cast<size_t>(i)];
    SlotTop t1, t2;
    for (int v = 0; v <= nv; ++v) {  // values and dontcare, not none
      const float x = b[v];
      if (x <= 0.0F) continue;
      const int value = v == nv ? kDontcare : v;
      if (x > t1.prob) {
        t2 = t1;
        t1 = {value, x};
      } else if (x > t2.prob) {
        t2 = {value, x};
      }
    }
    s.top[static_cast<size_t>(i)] = t1;
    s.second[static_cast<size_t>(i)] = t2;
    const bool acc = t1.value != kNoValue && t1.prob > options_.accept_threshold;
    s.accepted[static_cast<size_t>(i)] = acc ? t1.value : kNoValue;
    const bool in_kb = o.slot(o.informable()[static_cast<size_t>(i)]).in_kb;
    if (acc) {
      ++s.num_accepted;
      constraint[static_cast<size_t>(i)] = t1.value;
    } else if (in_kb) {
      unaccepted_kb |= 1U << i;
    } else {
      s.non_kb_accepted = false;
    }
  }
  kb.match(std::span<const int>(constraint.data(), static_cast<size_t>(ni)), s.matches);
  s.match_count = s.matches.count();
  s.discriminating = s.match_count > 1 ? kb.discriminating_slots(s.matches, unaccepted_kb) : 0;
  s.offered_matches = s.offered_entity >= 0 && s.matches.test(s.offered_entity);

  // Inform info: the k database slots with the most confident top values, k = 1..K.
  std::array<int, kMaxInformable> order{};
  int nk = 0;
  for (int i = 0; i < ni; ++i) {
    if (o.slot(o.informable()[static_cast<size_t>(i)]).in_kb) order[static_cast<size_t>(nk++)] = i;
  }
  for (int a = 1; a < nk; ++a) {  // stable insertion sort by decreasing top probability
    const int x = order[static_cast<size_t>(a)];
    int b = a - 1;
    while (b >= 0 && s.top[static_cast<size_t>(order[static_cast<size_t>(b)])].prob < s.top[static_cast<size_t>(x)].prob) {
      order[static_cast<size_t>(b + 1)] = order[static_cast<size_t>(b)];
      --b;
    }
    order[static_cast<size_t>(b + 1)] = x;
  }
  constraint.fill(kNoValue);
  for (int k = 0; k < nk; ++k) {
    const int i = order[static_cast<size_t>(k)];
    constraint[static_cast<size_t>(i)] = s.top[static_cast<size_t>(i)].value;
    uint32_t rest = 0;
    for (int j = k + 1; j < nk; ++j) rest |= 1U << order[static_cast<size_t>(j)];
    kb.match(std::span<const int>(constraint.data(), static_cast<size_t>(ni)), s.scratch);
    const int n = s.scratch.count();
    auto& info = s.inform_info[static_cast<size_t>(k)];
    info = {n == 0 ? 1.0F : 0.0F, n == 1 ? 1.0F : 0.0F, (n >= 2 && n <= 4) ? 1.0F : 0.0F, n >= 5 ? 1.0F : 0.0F,
            (n > 1 && kb.discriminating_slots(s.scratch, rest) != 0) ? 1.0F : 0.0F};
  }
}

void BeliefTracker::observation(const BeliefState& s, std::span<float> out) const {
  MD_ASSERT(static_cast<int>(out.size()) == observation_size_, "observation buffer size");
  size_t k = 0;
  for (float x : s.probs) out[k++] = x;
  for (float x : s.requested) out[k++] = x;
  for (float x : s.method) out[k++] = x;
  for (float x : s.discourse) out[k++] = x;
  out[k++] = s.offer_happened ? 1.0F : 0.0F;
  out[k++] = s.last_inform_none ? 1.0F : 0.0F;
  out[k++] = s.offered_matches ? 1.0F : 0.0F;
  for (int j = 0; j < num_kb_slots_; ++j) {
    for (float x : s.inform_info[static_cast<size_t>(j)]) out[k++] = x;
  }
  MD_ASSERT(k == out.size(), "observation layout");
}

}  // namespace metadial::dialog
