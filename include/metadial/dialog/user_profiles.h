// Mixes of simulated-user profiles (user_simulator.h, UserProfile), read from TOML:
//
//   [mix]                       # share of the dialogues per profile; the shares sum to 1
//   talkative = 0.25
//   terse = 0.75
//
//   [profile.talkative]         # every field optional (defaults: UserProfile)
//   volunteer = "all"           # constraints stated on the user's initiative: "all" or n >= 0
//   answer_only_asked = false   # answers say the asked slot only
//   extra_prob = 0.5            # otherwise each further pending constraint joins an answer
//   change_prob = 0.0           # chance per dialogue to change a stated constraint
//   patience = 4                # failures before hanging up, drawn in [patience, patience_max]
//   patience_max = 6
//
//   [profile.terse]
//   volunteer = 0
//   answer_only_asked = true
//
// Every profile named in [mix] needs its [profile.NAME] table; a table not in [mix] is not used.
// Errors are one ConfigError line naming the file, the line and the key: an unknown key, a
// probability outside [0, 1], a mix whose shares do not sum to 1, a profile without a table.
//
// The built-in default (UserOptions::simm(), examples/user_profiles.toml holds the same numbers)
// was chosen by bench/repro/user_profiles_simm.cpp to match sim-M's turns per dialogue, their
// distribution and the slot mentions per user turn (bench/results/user_profiles_simm.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metadial/dialog/user_simulator.h"

namespace metadial::dialog {

/// Parses a mix (TOML text; `name` is the file name in messages) into user options: the
/// standard user's fields and the mix's profiles.
UserOptions parse_user_profiles(std::string_view toml, const std::string& name);
/// Reads a mix from a TOML file.
UserOptions load_user_profiles(const std::string& path);
/// The default mix's profiles (UserOptions::simm()).
std::vector<UserProfile> simm_profiles();

}  // namespace metadial::dialog
