// The `metadial tune` configuration file (TOML), parsed and checked with positions:
// every error is one line "FILE:LINE: what is wrong (what would be right)".
//
//   [study]      name, sampler, trials, seed, jobs, direction, max_cost, max_wall_s,
//                trial_timeout_s, max_consecutive_failures, heartbeat_interval_s,
//                heartbeat_timeout_s, retry_failed, storage
//   [sampler]    options of the chosen sampler (passed through, checked by the sampler)
//   [pruner]     type = "none" | "median" | "percentile" | "asha" | "hyperband" (+ its options,
//                passed through, checked by the pruner)
//   [objective]  function = "branin" (+ its options)   or   command = [argv...] (+ timeout_s,
//                log_dir, workdir, cost, fidelities, env)
//   [space.NAME] type = "float" | "int" | "categorical", low, high, log, step, choices
//   [[enqueue]]  a value for every parameter of the space (NAME = value): a configuration run first
//                (checked against the space when the study is set up: enqueued_config)
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/core/config.h"
#include "metadial/core/error.h"
#include "metadial/space/search_space.h"
#include "metadial/study/study.h"

namespace metadial::cli {

/// Most trials evaluated in parallel (threads of one process): [study] jobs and --jobs.
inline constexpr int64_t kMaxJobs = 1024;
/// Longest heartbeat interval, seconds (a day): [study] heartbeat_interval_s, --heartbeat-interval.
inline constexpr double kMaxHeartbeatIntervalS = 86400.0;

/// An integer [study] setting and the `tune` flag that overrides it, with the one range both are
/// checked against: a flag refuses exactly what the config refuses, with the same words.
struct IntSetting {
  const char* key;   ///< [study] key
  const char* flag;  ///< flag of `tune`, or nullptr
  int64_t min;
  int64_t max;
  /// "must be >= 0" or "must be between 1 and 1024".
  std::string range() const;
  bool allows(int64_t v) const { return v >= min && v <= max; }
  /// The value of a flag's text: an integer in range, else InvalidArgument naming the flag
  /// ("--jobs must be between 1 and 1024 (got 100000)"); never clamped or wrapped.
  int64_t parse_flag(std::string_view text) const;
};

inline constexpr IntSetting kTrialsSetting{"trials", "--trials", 0, std::numeric_limits<int64_t>::max()};
inline constexpr IntSetting kSeedSetting{"seed", "--seed", 0, std::numeric_limits<int64_t>::max()};
inline constexpr IntSetting kJobsSetting{"jobs", "--jobs", 1, kMaxJobs};
/// Re-runs of a trial whose worker went silent or died (study::OptimizeOptions::retry_failed).
inline constexpr IntSetting kRetryFailedSetting{"retry_failed", "--retry-failed", 0, 100};
inline constexpr IntSetting kMaxConsecutiveFailuresSetting{"max_consecutive_failures", nullptr, 1,
                                                           std::numeric_limits<int>::max()};

/// A number of seconds or of cost units ([study] key and flag): > 0 (NaN refused), at most `max`.
struct PositiveSetting {
  const char* key;
  const char* flag;
  double max = std::numeric_limits<double>::infinity();
  /// "must be > 0" or "must be > 0 and at most 86400".
  std::string range() const;
  bool allows(double v) const { return v > 0 && v <= max; }
  /// Throws InvalidArgument "--max-cost must be > 0 (got -1)" unless allows(v).
  void check_flag(double v) const;
};

inline constexpr PositiveSetting kMaxCostSetting{"max_cost", "--max-cost"};
inline constexpr PositiveSetting kMaxWallSetting{"max_wall_s", "--max-wall"};
inline constexpr PositiveSetting kTrialTimeoutSetting{"trial_timeout_s", nullptr};
inline constexpr PositiveSetting kHeartbeatIntervalSetting{"heartbeat_interval_s", "--heartbeat-interval",
                                                           kMaxHeartbeatIntervalS};
/// Also: must exceed the heartbeat interval.
inline constexpr PositiveSetting kHeartbeatTimeoutSetting{"heartbeat_timeout_s", "--heartbeat-timeout"};

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
  int max_consecutive_failures = study::OptimizeOptions{}.max_consecutive_failures;
  int retry_failed = 0;
  /// How often this run's running trials are marked alive, and the silence after which another
  /// worker's running trial is failed (defaults: study::OptimizeOptions's); timeout > interval.
  double heartbeat_interval_s = study::OptimizeOptions{}.heartbeat_interval_s;
  double heartbeat_timeout_s = study::OptimizeOptions{}.heartbeat_timeout_s;
  std::optional<std::string> storage;

  // [sampler]
  nlohmann::json sampler_options = nlohmann::json::object();
  int sampler_line = 0;

  // [pruner]
  std::string pruner = "none";                               ///< type
  nlohmann::json pruner_options = nlohmann::json::object();  ///< the other keys of [pruner]
  int pruner_line = 0;       ///< line of [pruner]; 0 when the pruner does not come from the file
  int pruner_type_line = 0;  ///< line of its type

  // [objective]: either a built-in function (+ options) or a command (+ options)
  std::string function;               ///< empty for a command objective
  nlohmann::json objective_options = nlohmann::json::object();  ///< other keys of [objective]
  int objective_line = 0;

  // [space]
  std::optional<space::SearchSpace> space;  ///< absent: the objective's own space

  // [[enqueue]]: configurations to run first, as written (the space may be the objective's, known
  // only once it is built: enqueued_config checks them)
  std::vector<config::Table> enqueue;
};

/// The configuration of an [[enqueue]] table, or of the table in a file given to `metadial
/// enqueue`: a value for every parameter of `space` and no other key, each of its type and within
/// its bounds. A ConfigError "FILE:LINE: ..." at the key at fault otherwise (an unknown key, a
/// missing parameter, a value out of range).
space::Config enqueued_config(const config::Table& table, const space::SearchSpace& space);

/// Parses and checks a config file. Throws ConfigError with "FILE:LINE: ..." on any problem:
/// syntax, unknown key, wrong type, bad bounds.
TuneConfig load_tune_config(const std::string& path);

/// Same, from a string (`name` is used in messages).
TuneConfig parse_tune_config(const std::string& text, const std::string& name);

/// The options optimize() runs a config's study with (budgets, jobs, seed, failures, trial
/// timeout, heartbeats): the one mapping from [study] to study::OptimizeOptions, validated.
study::OptimizeOptions optimize_options(const TuneConfig& cfg);

/// An objective's refusal of its [objective] table (InvalidArgument's message `what`, which names
/// the objective and the key: the config reader's wording) as the config's error:
/// "FILE:LINE: what", LINE being the [objective] table's.
ConfigError objective_error(const TuneConfig& cfg, const std::string& what);

}  // namespace metadial::cli
