// Template natural-language generation for the simulated dialogues (Liu et al. 2018, section
// 4.1): the simulated user's semantic turns and the system's acts become text, with the value
// mentions recorded as token spans (sim-M's `slots`).
//
// The user has two template sets: kTraining, used to build the training corpus, and kExtended,
// a strict superset (every training template plus more surface forms) used only in interactive
// evaluation, so that the agent meets phrasings it never saw offline. The system has one set.
// Templates are token sequences with placeholders {value}, {value2}, {slot} (the slot's display
// name) and {entity}; generic templates work for any ontology, a few slot-specific ones (by slot
// name) make the movie and restaurant domains read naturally.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/dialog/acts.h"
#include "metadial/dialog/corpus.h"

namespace metadial::dialog {

class Domain;

/// Which user templates to draw from.
enum class TemplateSet { kTraining, kExtended };

/// "training" / "extended"; InvalidArgument otherwise.
TemplateSet template_set_from_name(std::string_view name);
const char* to_string(TemplateSet set);

/// Display name of a slot in text ("theatre_name" -> "theatre", "num_tickets" -> "number of tickets").
std::string slot_display_name(std::string_view slot);

/// Realizes user turns as text.
class UserNlg {
 public:
  UserNlg(const Domain& domain, TemplateSet set);
  /// The text of `turn` (opening: the user's first turn, which may carry a greeting). Spans
  /// name the slot of each informed value. An empty turn gives an empty utterance.
  CorpusUtterance realize(const UserTurn& turn, bool opening, Rng& rng) const;
  /// Number of templates an item of this kind can be realized with (tests: extended > training).
  int num_templates(UserActType type, int slot_id, bool dontcare = false) const;
  TemplateSet set() const { return set_; }

 private:
  const std::vector<std::string>& choices(UserActType type, int slot_id, bool dontcare,
                                          std::vector<std::string>& scratch) const;
  const Domain* domain_;
  TemplateSet set_;
};

/// Realizes system acts as text.
class SystemNlg {
 public:
  explicit SystemNlg(const Domain& domain);
  /// The text of `act`; spans name the slot of each value mentioned (entity names: the entity
  /// slot's name).
  CorpusUtterance realize(const SystemAct& act, Rng& rng) const;

 private:
  const Domain* domain_;
};

/// The sim-M acts of a user turn ("INFORM" slot value, "REQUEST" slot, "AFFIRM", ...).
std::vector<CorpusAct> corpus_acts(const Domain& domain, const UserTurn& turn);
/// The sim-M acts of a system act (REQUEST / CONFIRM / SELECT / OFFER + INFORM of the stated and
/// given values / NOTIFY_FAILURE / INFORM of requested values / OTHER for reqmore / GOOD_BYE).
std::vector<CorpusAct> corpus_acts(const Domain& domain, const SystemAct& act);

}  // namespace metadial::dialog
