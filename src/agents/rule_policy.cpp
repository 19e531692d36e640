#include "metadial/agents/rule_policy.h"

#include <algorithm>

#include "metadial/core/error.h"

namespace metadial::agents {

using dialog::SummaryKind;

RulePolicy::RulePolicy(RulePolicyOptions options) : options_(options) {
  MD_CHECK(options_.request_below >= 0.0F && options_.request_below <= options_.confirm_below &&
               options_.confirm_below <= 1.0F,
           "rule policy: thresholds need 0 <= request_below (", options_.request_below, ") <= confirm_below (",
           options_.confirm_below, ") <= 1");
  MD_CHECK(options_.max_asks >= 1, "rule policy: max_asks ", options_.max_asks, " must be >= 1");
}

void RulePolicy::begin_dialogue() {
  std::fill(asks_.begin(), asks_.end(), 0);
  last_ = -1;
}

void RulePolicy::bind(const dialog::Domain& domain) {
  const auto& acts = domain.actions();
  const int ni = domain.ontology().num_informable();
  request_.assign(static_cast<size_t>(ni), -1);
  confirm_.assign(static_cast<size_t>(ni), -1);
  select_.assign(static_cast<size_t>(ni), -1);
  for (int i = 0; i < ni; ++i) {
    request_[static_cast<size_t>(i)] = acts.index(SummaryKind::kRequest, i);
    confirm_[static_cast<size_t>(i)] = acts.index(SummaryKind::kConfirm, i);
    select_[static_cast<size_t>(i)] = acts.index(SummaryKind::kSelect, i);
  }
  inform_ = acts.index(SummaryKind::kInform);
  byname_ = acts.index(SummaryKind::kInformByName);
  alternatives_ = acts.index(SummaryKind::kInformAlternatives);
  bye_ = acts.index(SummaryKind::kBye);
  reqmore_ = acts.index(SummaryKind::kReqmore);
  asks_.assign(static_cast<size_t>(ni), 0);
  bound_ = &domain;
}

int RulePolicy::act(const PolicyInput& input) {
  MD_CHECK(input.belief != nullptr && input.domain != nullptr, "rule policy: needs the belief state and the domain");
  if (bound_ != input.domain) bind(*input.domain);
  const dialog::BeliefState& b = *input.belief;
  const dialog::Ontology& o = input.domain->ontology();

  // A new dialogue that did not call begin_dialogue(): the belief is at its start.
  if (b.last_action < 0 && last_ >= 0) begin_dialogue();
  const int a = choose(b, o);
  last_ = a;
  return a;
}

int RulePolicy::choose(const dialog::BeliefState& b, const dialog::Ontology& o) {
  if (b.method[dialog::kMethodFinished] > 0.5F) return bye_;
  if (b.offered_entity >= 0) {
    for (float r : b.requested) {
      if (r > 0.5F) return byname_;
    }
    if (b.discourse[dialog::kDiscReqalts] > 0.5F) return alternatives_;
  }
  for (int i : o.system_requestable()) {
    const auto k = static_cast<size_t>(i);
    const dialog::SlotTop& t1 = b.top[k];
    const dialog::SlotTop& t2 = b.second[k];
    if (t1.prob >= options_.confirm_below) continue;
    if (asks_[k] >= options_.max_asks && b.accepted[k] != dialog::kNoValue) continue;
    const bool in_kb = o.slot(o.informable()[k]).in_kb;
    const bool matters = t1.prob >= options_.request_below || !in_kb || ((b.discriminating >> i) & 1U);
    if (!matters) continue;
    int a = confirm_[k];
    if (t1.prob < options_.request_below) a = request_[k];
    else if (t2.prob >= options_.select_second_above) a = select_[k];
    if (a == last_) a = (a == request_[k] && t1.value != dialog::kNoValue) ? confirm_[k] : request_[k];
    ++asks_[k];
    return a;
  }
  if (b.offered_matches && b.last_action == byname_) return reqmore_;
  return inform_;
}

}  // namespace metadial::agents
