// Handcrafted rule policy in the manner of PyDial's HDC policy: the reference a learned policy
// must approach. It reads the belief state:
//   1. the user is finished                                  -> bye
//   2. an entity was offered and the user requested slots    -> inform_byname
//   3. an entity was offered and the user asked alternatives -> inform_alternatives
//   4. for each system-requestable slot in ontology order, unless its top value is confident
//      (>= confirm_below, or above the tracker's accept threshold after max_asks questions
//      about the slot): if the slot matters (it has a tentative value, or it is not a database
//      column, or it still splits the matching entities) then
//        top < request_below                   -> request_slot
//        second >= select_second_above         -> select_slot
//        otherwise                             -> confirm_slot
//      but never the same act twice in a row (the user loses patience with exact repeats):
//      a repeated confirm / select becomes request, a repeated request becomes confirm.
//   5. just answered the requests and nothing new is asked   -> reqmore
//   6. otherwise                                             -> inform (offer, or say none)
#pragma once

#include <vector>

#include "metadial/agents/policy.h"

namespace metadial::agents {

/// Thresholds of the rule policy.
struct RulePolicyOptions {
  float request_below = 0.4F;         ///< below: ask the slot
  float confirm_below = 0.8F;         ///< below (and above request_below): confirm or select
  float select_second_above = 0.2F;   ///< second value at least this: select instead of confirm
  int max_asks = 2;                   ///< questions about a slot before a top value > 0.5 will do
};

/// The handcrafted policy. Needs PolicyInput::belief and ::domain.
class RulePolicy final : public Policy {
 public:
  explicit RulePolicy(RulePolicyOptions options = {});
  std::string name() const override { return "rule"; }
  void begin_dialogue() override;
  int act(const PolicyInput& input) override;

 private:
  void bind(const dialog::Domain& domain);
  int choose(const dialog::BeliefState& belief, const dialog::Ontology& ontology);

  RulePolicyOptions options_;
  const dialog::Domain* bound_ = nullptr;
  std::vector<int> request_, confirm_, select_;  // per informable index, -1 if not system-requestable
  int inform_ = -1, byname_ = -1, alternatives_ = -1, bye_ = -1, reqmore_ = -1;
  std::vector<int> asks_;  // per informable index: questions asked this dialogue
  int last_ = -1;          // this policy's previous action in the dialogue
};

}  // namespace metadial::agents
