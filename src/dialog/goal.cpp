#include "metadial/dialog/goal.h"

#include <algorithm>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/dialog/domain.h"

namespace metadial::dialog {
namespace {

int uniform_int(Rng& rng, int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); }

}  // namespace

void GoalOptions::validate() const {
  MD_CHECK(min_constraints >= 1 && min_constraints <= max_constraints, "goal options: min_constraints ",
           min_constraints, " / max_constraints ", max_constraints, " (expected 1 <= min <= max)");
  MD_CHECK(min_requests >= 0 && min_requests <= max_requests, "goal options: min_requests ", min_requests,
           " / max_requests ", max_requests, " (expected 0 <= min <= max)");
  MD_CHECK(entity_goal_prob >= 0.0 && entity_goal_prob <= 1.0, "goal options: entity_goal_prob ",
           entity_goal_prob, " not in [0, 1]");
}

GoalGenerator::GoalGenerator(const Domain& domain, const GoalOptions& options) : domain_(&domain), options_(options) {
  options_.validate();
}

Goal GoalGenerator::sample(Rng& rng) const {
  const Ontology& o = domain_->ontology();
  const KnowledgeBase& kb = domain_->kb();
  Goal g;
  // Database slots that may be constrained, in random order (Fisher-Yates on a small array).
  std::array<int, kMaxInformable> kb_slots{};
  int n_kb = 0;
  for (int i = 0; i < o.num_informable(); ++i) {
    if (o.slot(o.informable()[static_cast<size_t>(i)]).in_kb) kb_slots[static_cast<size_t>(n_kb++)] = i;
  }
  for (int k = n_kb - 1; k > 0; --k) std::swap(kb_slots[static_cast<size_t>(k)], kb_slots[static_cast<size_t>(uniform_int(rng, k + 1))]);
  const int hi = std::min(options_.max_constraints, n_kb);
  const int lo = std::min(options_.min_constraints, hi);
  const int n_constraints = lo + uniform_int(rng, hi - lo + 1);
  const bool from_entity = uniform01(rng) < options_.entity_goal_prob;
  const int entity = uniform_int(rng, kb.size());
  for (int k = 0; k < n_constraints; ++k) {
    const int i = kb_slots[static_cast<size_t>(k)];
    const int v = from_entity ? kb.value(entity, i) : uniform_int(rng, o.num_values(i));
    g.constraints[static_cast<size_t>(i)] = static_cast<int16_t>(v);
  }
  for (int i = 0; i < o.num_informable(); ++i) {
    const Slot& s = o.slot(o.informable()[static_cast<size_t>(i)]);
    if (s.required && g.constraints[static_cast<size_t>(i)] < 0) {
      const int v = (s.in_kb && from_entity) ? kb.value(entity, i) : uniform_int(rng, o.num_values(i));
      g.constraints[static_cast<size_t>(i)] = static_cast<int16_t>(v);
    }
  }
  // Requests: requestable slots other than the entity name and the constrained slots.
  std::array<int, kMaxRequestable> candidates{};
  int n_cand = 0;
  for (int r = 0; r < o.num_requestable(); ++r) {
    const int id = o.requestable()[static_cast<size_t>(r)];
    if (id == Ontology::entity_slot()) continue;
    const int i = o.informable_index(id);
    if (i >= 0 && g.constraints[static_cast<size_t>(i)] >= 0) continue;
    candidates[static_cast<size_t>(n_cand++)] = r;
  }
  for (int k = n_cand - 1; k > 0; --k) std::swap(candidates[static_cast<size_t>(k)], candidates[static_cast<size_t>(uniform_int(rng, k + 1))]);
  const int rhi = std::min(options_.max_requests, n_cand);
  const int rlo = std::min(options_.min_requests, rhi);
  const int n_requests = rlo + uniform_int(rng, rhi - rlo + 1);
  for (int k = 0; k < n_requests; ++k) g.requests |= 1U << candidates[static_cast<size_t>(k)];
  return g;
}

}  // namespace metadial::dialog
