// The subcommands of the `metadial` program, callable from tests without a process.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/tune_config.h"
#include "metadial/objective/objective.h"

namespace CLI {
class App;
}

namespace metadial::cli {

/// Default storage when neither --storage nor [study] storage is given.
inline constexpr const char* kDefaultStorage = "sqlite:metadial.db";

struct TuneArgs {
  std::string config_path;
  std::optional<std::string> storage;
  std::optional<std::string> study;
  std::optional<std::string> sampler;
  std::optional<std::string> pruner;
  std::optional<int64_t> trials;
  std::optional<int> jobs;
  std::optional<uint64_t> seed;
  std::optional<double> max_cost;
  std::optional<double> max_wall_s;
  std::optional<double> heartbeat_interval_s;
  std::optional<double> heartbeat_timeout_s;
  std::optional<int> retry_failed;
  bool json = false;
};

/// Flags of `metadial tune`.
void declare_tune(CLI::App& command, TuneArgs& args);
/// `metadial tune`: returns the process exit code (0 ok, 1 the study stopped on failures,
/// interrupt::exit_code() -- 130, 143, 129 -- when a signal stopped it; the summary is printed).
/// Throws ConfigError / InvalidArgument / StorageError for user errors (exit 2 in main).
int run_tune(const TuneArgs& args, std::ostream& out);

struct EnqueueArgs {
  std::string config_path;
  std::optional<std::string> storage;
  std::optional<std::string> study;
  std::vector<std::string> params;  ///< NAME=VALUE, one per parameter
  std::optional<std::string> file;  ///< or a TOML / JSON file: one table of NAME = value
  bool skip_if_present = false;
};

/// Flags of `metadial enqueue`.
void declare_enqueue(CLI::App& command, EnqueueArgs& args);
/// `metadial enqueue CONFIG`: puts a configuration in the queue of the config's study (created if
/// new, as `tune` would): the next trial any worker starts runs it first. One line on stdout.
int run_enqueue(const EnqueueArgs& args, std::ostream& out);

struct ReadArgs {
  std::string storage = kDefaultStorage;
  std::optional<std::string> study;
  bool csv = false;
  bool json = false;
};

/// Flags of `metadial studies` (--storage), `trials` (+ --study, --csv), `best` (+ --study, --json).
void declare_studies(CLI::App& command, ReadArgs& args);
void declare_trials(CLI::App& command, ReadArgs& args);
void declare_best(CLI::App& command, ReadArgs& args);

/// `metadial trials`: a table (or CSV) of every trial of a study.
int run_trials(const ReadArgs& args, std::ostream& out);
/// `metadial best`: the best trial of a study.
int run_best(const ReadArgs& args, std::ostream& out);
/// `metadial studies`: the studies in a storage.
int run_studies(const ReadArgs& args, std::ostream& out);

// Every name and value that `tune`, `studies`, `trials`, `best` and `study` print in text goes
// through text::escape_controls; JSON and CSV output keep the stored bytes (their formats quote).

/// Builds the objective a config describes (a built-in function or an external command).
std::unique_ptr<objective::Objective> make_objective(const TuneConfig& cfg);
/// The external-command objective of a config's [objective] table (command = [...]).
std::unique_ptr<objective::Objective> make_command_objective(const TuneConfig& cfg);
/// The absolute log_dir of a config's command objective (trial-<number>.out / .err are there), if it
/// keeps logs; `tune` records it in the study's attrs ("log_dir"), where the dashboard finds a
/// trial's log.
std::optional<std::string> command_log_dir(const TuneConfig& cfg);

}  // namespace metadial::cli
