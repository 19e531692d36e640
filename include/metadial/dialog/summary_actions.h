// Summary actions (PyDial's SummaryAction for GP-SARSA / DQN policies) and their deterministic
// mapping to full system acts, with PyDial's action masks.
//
// Order: for each system-requestable slot s: request_s, confirm_s, select_s; then inform,
// inform_byname, inform_alternatives, bye, reqmore. (PyDial also lists repeat and restart but
// always masks them because its simulated user cannot answer them; they are left out here.)
//
// Mapping, from the belief state:
//   request_s            request(s)
//   confirm_s            confirm(s=top value)                 [no top value: request(s)]
//   select_s             select(s=top, s=second)              [fewer than two: confirm, request]
//   inform               query the database with the accepted constraints; re-offer the last
//                        offered entity if it still matches, else the matching entity with the
//                        lowest id, stating the accepted constraints; none -> inform(name=none)
//   inform_byname        the requested attributes (requested > 0.5) of the offered entity
//                        [nothing offered yet: as inform, with the requested attributes]
//   inform_alternatives  the lowest-id matching entity not offered since the last "none"
//                        [nothing offered yet: as inform]
//   bye / reqmore        bye() / reqmore()
// Masks (PyDial's getNonExecutable): request never; confirm without a top value; select without
// two values; inform unless some constraint is accepted, every non-database slot is accepted and
// no unaccepted slot discriminates between the matching entities; inform_byname and reqmore
// before any offer; inform_alternatives unless an offer happened and the user asked for
// alternatives (reqalts > 0.5); bye unless the user is finished (> 0.5).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metadial/dialog/acts.h"
#include "metadial/dialog/ontology.h"

namespace metadial::dialog {

struct BeliefState;

/// Summary action kinds.
enum class SummaryKind : uint8_t {
  kRequest, kConfirm, kSelect, kInform, kInformByName, kInformAlternatives, kBye, kReqmore,
};

/// One summary action; `slot` is an informable index for request / confirm / select, else -1.
struct SummaryAction {
  SummaryKind kind = SummaryKind::kInform;
  int slot = -1;
};

/// The summary action set of a domain.
class SummaryActionSet {
 public:
  explicit SummaryActionSet(const Ontology& ontology);

  int size() const { return static_cast<int>(actions_.size()); }
  const SummaryAction& at(int a) const { return actions_[static_cast<size_t>(a)]; }
  /// "request_area", "inform_byname", ...
  const std::string& name(int a) const { return names_[static_cast<size_t>(a)]; }
  /// Index of a name; InvalidArgument listing the names if unknown.
  int index(std::string_view name) const;
  /// Index of a kind (and informable slot for request / confirm / select), or -1.
  int index(SummaryKind kind, int slot = -1) const;

  /// Writes 1 for executable, 0 for masked actions (size() entries).
  void mask(const BeliefState& belief, std::span<uint8_t> out) const;
  /// The full system act of summary action `a` in `belief`.
  SystemAct to_master(int a, const BeliefState& belief) const;

 private:
  SystemAct offer(const BeliefState& belief, bool alternatives) const;
  uint32_t requested_mask(const BeliefState& belief) const;

  const Ontology* ontology_;
  std::vector<SummaryAction> actions_;
  std::vector<std::string> names_;
};

}  // namespace metadial::dialog
