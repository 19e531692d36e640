// The `metadial tune` configuration file (TOML), parsed and checked with positions:
// every error is one line "FILE:LINE: what is wrong (what would be right)".
//
//   [study]      name, sampler, trials, seed, jobs, direction, max_cost, max_wall_s,
//                trial_timeout_s, max_consecutive_failures, storage
//   [sampler]    options of the chosen sampler (passed through, checked by the sampler)
//   [objective]  function = "branin" (+ its options)   or   command = [argv...] (+ timeout_s,
//                log_dir, workdir, cost, fidelities, env)
//   [space.NAME] type = "float" | "int" | "categorical", low, high, log, step, choices
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/space/search_space.h"

namespace metadial::cli {

struct TuneConfig {
  std::string file;  ///< path of the config, for messages

  // [study]
  std::optional<std::string> study_name;
  std::string sampler = "gp";
  int64_t trials = 30;
  uint64_t seed = 0;
  int jobs = 1;
  std::optional<std::string> direction;  ///< minimize | maximize; default: the objective's
  std::optional<double> max_cost;
  std::optional<double> max_wall_s;
  std::optional<double> trial_timeout_s;
  int max_consecutive_failures = 10;
  std::optional<std::string> storage;

  // [sampler]
  nlohmann::json sampler_options = nlohmann::json::object();
  int sampler_line = 0;

  // [objective]: either a built-in function (+ options) or a command (+ options)
  std::string function;               ///< empty for a command objective
  nlohmann::json objective_options = nlohmann::json::object();  ///< other keys of [objective]
  int objective_line = 0;

  // [space]
  std::optional<space::SearchSpace> space;  ///< absent: the objective's own space
};

/// Parses and checks a config file. Throws ConfigError with "FILE:LINE: ..." on any problem:
/// syntax, unknown key, wrong type, bad bounds.
TuneConfig load_tune_config(const std::string& path);

/// Same, from a string (`name` is used in messages).
TuneConfig parse_tune_config(const std::string& text, const std::string& name);

/// An objective's refusal of its [objective] table (InvalidArgument's message `what`, which names
/// the objective and the key: the config reader's wording) as the config's error:
/// "FILE:LINE: what", LINE being the [objective] table's.
ConfigError objective_error(const TuneConfig& cfg, const std::string& what);

}  // namespace metadial::cli
