// Human-readable dialogues: one turn as text (the user's act and what the system heard, a
// belief summary, the system's summary and full act, the reward), for `metadial dialog show`
// and for debugging. Display only: never called in the simulation hot path.
#pragma once

#include <string>

#include "metadial/dialog/belief_tracker.h"
#include "metadial/dialog/env.h"

namespace metadial::dialog {

/// The user's goal, e.g. "constraints: food=thai area=dontcare ...; requests: phone, postcode".
std::string render_goal(const Domain& domain, const Goal& goal);
/// N-best list, one hypothesis per line: "  0.80 inform(food=thai)".
std::string render_nbest(const Domain& domain, const NBestList& nbest, const std::string& indent = "  ");
/// One line per informable slot with its top values, then requested slots, method, matches.
std::string render_belief(const Domain& domain, const BeliefState& belief, const std::string& indent = "  ");
/// A whole turn (record + the belief after it).
std::string render_turn(const Domain& domain, const TurnRecord& record, const BeliefState& belief);
/// The env's last turn.
std::string render_last_turn(const DialogueEnv& env);

}  // namespace metadial::dialog
