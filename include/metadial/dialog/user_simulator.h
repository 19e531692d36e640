// Agenda-based user simulator (Schatzmann et al. 2007, as in PyDial's benchmark user).
//
// The user holds a goal and an agenda: a stack of pending user act items. At the start the
// agenda holds, from the bottom, bye(), the requests (random order) and the informs of the
// constrained slots (random order). Each system act makes the user push its reaction on top:
//   request(s)            -> inform(s=goal value, or dontcare)
//   confirm(s=v)          -> affirm() if v agrees with the goal, else negate() inform(s=goal)
//   select(s=a,s=b)       -> inform(s=goal)
//   offer of an entity    -> accepted if it satisfies every constraint (then the requests follow);
//                            otherwise negate() inform(s=goal) for the first violated slot
//   inform(name=none,...) -> if the stated constraints agree with the goal the user believes it
//                            and relaxes one of them to dontcare (a goal change, as PyDial's
//                            relaxation); otherwise it corrects the wrong one
//   inform of requested   -> marks those requests answered
//   reqmore / hello       -> (nothing; the user goes on with its agenda)
// and then says its reaction, or, when it had nothing to react, pops the next group of items
// (informs, requests, or bye once every request is answered). Behaviour parameters decide how
// many further items are volunteered in the same turn.
//
// Patience (drawn per dialogue in [patience, patience_max]): the user counts failures (the
// system repeating its previous act exactly, offering an entity that violates a constraint, wrongly saying nothing matches, or giving nothing new when
// the user has nothing left but its bye); when they reach the patience the user hangs up (bye()).
//
// User profiles (in the manner of Shah et al. 2018's agenda-based user, whose users differ in
// cooperativeness and randomness): with UserOptions::profiles set, each dialogue draws one
// profile by its share (in start(), from the user's generator) and the profile replaces the
// behaviour parameters above:
//   volunteer          constraints the user states when it has the initiative (the opening
//                      turn, and a turn with nothing to react to): all of them, or at most n;
//                      0 = the opening turn carries only the intent (hello()), later turns one
//                      constraint at a time
//   answer_only_asked  an answer to request / select / confirm says that slot only; otherwise
//                      each further pending constraint joins the answer with extra_prob
//   change_prob        chance per dialogue that the user changes its mind: at its 2nd, 3rd or
//                      4th turn (drawn; if it cannot then, at the first later turn where it can),
//                      before accepting an offer, it replaces one constraint it stated in an
//                      earlier turn by another value that still has a matching entity (any other
//                      value for a non-database slot) and says so in that turn (if the user hangs
//                      up in that turn, the bye replaces what it would have said)
//   patience .. patience_max  as above, per profile
// Without profiles (PyDial's presets) the user draws nothing more than before.
//
// Success (objective, PyDial's ObjectiveSuccessEvaluator): the user accepted an offered entity
// that satisfies every constraint of its final goal and every requested slot of that entity was
// informed. A goal with no matching entity can only succeed through the system saying
// inform(name=none) truthfully, the user relaxing, and a later correct offer.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/dialog/acts.h"
#include "metadial/dialog/goal.h"

namespace metadial::dialog {

class Domain;

/// One kind of user in a mix (see the file comment).
struct UserProfile {
  static constexpr int kAll = -1;
  std::string name;
  double share = 1.0;              ///< fraction of the dialogues with this profile
  int volunteer = kAll;            ///< constraints stated on the user's initiative: kAll or 0..n
  bool answer_only_asked = false;  ///< answers say the asked slot only
  double extra_prob = 0.3;         ///< otherwise: each further pending constraint joins an answer
  double change_prob = 0.0;        ///< chance per dialogue to change one stated constraint
  int patience = 4;                ///< failures before hanging up: drawn per dialogue
  int patience_max = 6;            ///< uniformly in [patience, patience_max]
  /// InvalidArgument naming the profile and the bad field.
  void validate() const;
};

/// Behaviour of the simulated user.
struct UserOptions {
  int patience = 4;                      ///< failures before hanging up: drawn per dialogue
  int patience_max = 6;                  ///< uniformly in [patience, patience_max] (PyDial: 4,6)
  double initial_inform_prob = 0.7;      ///< each further constraint volunteered in the first turn
  double volunteer_prob = 0.3;           ///< each further pending constraint given with an answer
  double request_group_prob = 0.5;       ///< each further request asked in the same turn
  double withhold_correction_prob = 0.0; ///< to a wrong confirm, negate() without the right value
  /// A mix of profiles, one drawn per dialogue (shares summing to 1); empty: the fields above.
  std::vector<UserProfile> profiles;

  /// PyDial's standard user.
  static UserOptions standard() { return {}; }
  /// Unfriendly user (env5): volunteers nothing, one item per turn, sometimes does not say the
  /// right value after a wrong confirm, and loses patience after 2 or 3 failures.
  static UserOptions unfriendly() {
    UserOptions o;
    o.patience = 2;
    o.patience_max = 3;
    o.initial_inform_prob = 0.0;
    o.volunteer_prob = 0.0;
    o.request_group_prob = 0.0;
    o.withhold_correction_prob = 0.3;
    return o;
  }
  /// The default mix of the end-to-end agent's corpus and interaction (user_profiles.h): chosen
  /// to match sim-M's turns per dialogue and slot mentions per user turn.
  static UserOptions simm();
  /// "standard", "unfriendly" or "simm"; InvalidArgument otherwise.
  static UserOptions from_name(std::string_view name);
  void validate() const;
};

/// The agenda-based user. One per environment; reused across dialogues without allocating.
class AgendaUser {
 public:
  AgendaUser(const Domain& domain, const UserOptions& options);

  /// Starts a dialogue with `goal`; draws the patience from `rng`.
  void start(const Goal& goal, Rng& rng);
  /// The user's turn in answer to `act` (SystemActType::kHello for the opening turn). Returns an
  /// empty turn after a system bye. Draws from `rng`.
  UserTurn respond(const SystemAct& act, Rng& rng);

  const Goal& goal() const { return goal_; }
  /// The user said bye (its goal completed, or it hung up) or the system said bye.
  bool finished() const { return finished_; }
  /// The user ran out of patience.
  bool hung_up() const { return hung_up_; }
  int failures() const { return failures_; }
  /// This dialogue's patience.
  int patience() const { return patience_; }
  /// Entity the user accepted, or -1.
  int accepted_entity() const { return accepted_; }
  /// Requests answered about the accepted entity (bits over requestable indices).
  uint32_t answered() const { return answered_; }
  /// Constraints relaxed to dontcare after a truthful "none".
  int relaxations() const { return relaxations_; }
  /// Objective success of the dialogue so far (see the file comment).
  bool success() const;
  const UserOptions& options() const { return options_; }
  /// Index in options().profiles of this dialogue's profile; -1 without profiles.
  int profile() const { return profile_; }
  /// Constraints the user changed its mind about this dialogue (0 or 1).
  int changes() const { return changes_; }

 private:
  static constexpr int kAgendaCapacity = 64;

  void push(UserActItem item);
  void remove_informs(int slot_id);
  void remove_requests(uint32_t answered_mask);
  int react(const SystemAct& act, Rng& rng);
  // -1: entity fine; otherwise informable index of the first problem; *missing is set when the
  // only problem is an unstated non-database slot.
  int check_offer(int entity, const std::array<int16_t, kMaxInformable>& stated, bool* missing) const;
  int react_to_offer(int entity, const std::array<int16_t, kMaxInformable>& stated, uint32_t informed);
  void push_correction(int informable_index, bool with_negate);
  void pop_group(UserTurn& out, Rng& rng, bool opening);
  void pop_profile(UserTurn& out, Rng& rng, bool opening);
  void maybe_change(UserTurn& out, Rng& rng);

  const Domain* domain_;
  UserOptions options_;
  Goal goal_;
  std::array<UserActItem, kAgendaCapacity> agenda_{};
  int agenda_size_ = 0;
  SystemAct last_act_;
  bool has_last_act_ = false;
  bool finished_ = false;
  bool hung_up_ = false;
  int failures_ = 0;
  int patience_ = 1;
  int relaxations_ = 0;
  int accepted_ = -1;
  std::array<int16_t, kMaxInformable> accepted_stated_{};
  uint32_t answered_ = 0;
  // Profiles: this dialogue's profile, the user's turns so far, when it changes its mind (-1:
  // never), the informable indices it has stated (bits).
  int profile_ = -1;
  int user_turns_ = 0;
  int change_at_ = -1;
  int changes_ = 0;
  uint32_t stated_ = 0;
};

}  // namespace metadial::dialog
