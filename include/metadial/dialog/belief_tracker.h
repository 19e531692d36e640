// Rule-based belief tracker (PyDial's baseline "focus" tracker) and the fixed-size observation
// vector that neural policies read.
//
// Per informable slot the belief is a distribution over its values + dontcare + none (none = not
// mentioned yet). Each turn, with p(v) the total confidence of the hypotheses that inform slot=v
// (an affirm to confirm(slot=v) counts as informing v):
//     b'(v) = (1 - sum_v p(v)) * b(v) + p(v),
// and a negate to confirm(slot=v) first moves the fraction `confidence` of the old b(v) to none
// (so affirm 0.8 + negate 0.2 still raises b(v)). Requested
// slots accumulate r' = 1 - (1 - r)(1 - p_request) until the system informs them. The method
// (none / by constraints / by alternatives / finished) follows the same focus rule; the discourse
// acts (affirm, negate, reqalts, bye) are this turn's confidences.
//
// System-side features (PyDial's belief['features']): the last offered entity, whether an offer
// happened, whether the last act said nothing matches, entities offered since then. And database
// summaries recomputed each turn: the accepted constraints (top value with probability >
// accept_threshold), the entities matching them, which unaccepted slots still discriminate
// between those entities.
//
// Observation layout (observation_size() floats):
//   for each informable slot: [b(value_0) .. b(value_{V-1}), b(dontcare), b(none)]
//   requested flags, one per requestable slot
//   method: [none, byconstraints, byalternatives, finished]
//   discourse: [affirm, negate, reqalts, bye]
//   [offer happened, last act was inform(name=none), offered entity still matches]
//   inform info, for k = 1..K database slots (the k slots with the most confident top values):
//     [0 matches, 1 match, 2..4 matches, 5+ matches, remaining slots discriminate]
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "metadial/dialog/acts.h"
#include "metadial/dialog/knowledge_base.h"

namespace metadial::dialog {

class Domain;

/// Tracker settings.
struct TrackerOptions {
  float accept_threshold = 0.5F;  ///< a top value above this is used to query the database
  void validate() const;
};

/// Method indices.
enum Method : int { kMethodNone = 0, kMethodByConstraints = 1, kMethodByAlternatives = 2, kMethodFinished = 3 };
/// Discourse act indices.
enum Discourse : int { kDiscAffirm = 0, kDiscNegate = 1, kDiscReqalts = 2, kDiscBye = 3 };

/// Top hypotheses of a slot (excluding none).
struct SlotTop {
  int value = kNoValue;  ///< value id, kDontcare, or kNoValue when nothing has mass
  float prob = 0.0F;
};

/// The belief state: read-only for policies. Sized once per domain, reused across dialogues.
struct BeliefState {
  // ---- per slot beliefs (informable index i: probs[offset[i] .. offset[i] + V_i + 2)) ----
  std::vector<float> probs;
  std::vector<int> offset;
  std::array<SlotTop, kMaxInformable> top{};
  std::array<SlotTop, kMaxInformable> second{};
  std::vector<float> requested;          ///< per requestable index
  std::array<float, 4> method{};         ///< see Method
  std::array<float, 4> discourse{};      ///< see Discourse (this turn)
  // ---- system-side features ----
  int offered_entity = -1;               ///< last entity the system offered, or -1
  bool offer_happened = false;
  bool last_inform_none = false;
  EntitySet offered_since_none;          ///< entities offered since the last inform(name=none)
  int last_action = -1;                  ///< last summary action, -1 at the start
  int turn = 0;
  // ---- database summaries (recomputed every turn) ----
  std::array<int, kMaxInformable> accepted{};  ///< value / kDontcare if accepted, else kNoValue
  int num_accepted = 0;
  bool non_kb_accepted = true;           ///< every non-database slot is accepted
  EntitySet matches;                     ///< entities matching the accepted constraints
  int match_count = 0;
  uint32_t discriminating = 0;           ///< unaccepted database slots that split `matches`
  bool offered_matches = false;          ///< offered_entity is in `matches`
  std::array<std::array<float, 5>, kMaxInformable> inform_info{};
  EntitySet scratch;                     ///< working set of the tracker (no meaning for policies)

  /// Belief over slot i's values, dontcare (index V) and none (index V + 1).
  std::span<const float> slot(int i) const {
    const auto b = static_cast<size_t>(offset[static_cast<size_t>(i)]);
    const auto e = static_cast<size_t>(offset[static_cast<size_t>(i) + 1]);
    return {probs.data() + b, e - b};
  }
};

/// Updates a BeliefState from N-best lists and system acts, and writes observations.
class BeliefTracker {
 public:
  BeliefTracker(const Domain& domain, const TrackerOptions& options);

  /// Everything at "nothing said yet" (b(none) = 1).
  void reset(BeliefState& state) const;
  /// System-side bookkeeping for the act the system just took (summary action `action`):
  /// offered entity, requested slots it answered, inform(name=none).
  void note_system_act(BeliefState& state, const SystemAct& act, int action) const;
  /// Folds in the user's turn as heard (`nbest`), in reply to `last_act`.
  void update(BeliefState& state, const NBestList& nbest, const SystemAct& last_act) const;
  /// Writes the observation vector (observation_size() floats).
  void observation(const BeliefState& state, std::span<float> out) const;
  int observation_size() const { return observation_size_; }

 private:
  void summarize(BeliefState& state) const;

  const Domain* domain_;
  TrackerOptions options_;
  int observation_size_ = 0;
  int num_kb_slots_ = 0;
};

}  // namespace metadial::dialog
