// An objective that runs an external program per trial: the user's training script.
//
// The argv template may hold placeholders, replaced per trial:
//   {name}           a parameter's value: doubles in the shortest form that round-trips
//                    (std::to_chars, e.g. 0.1, 1e-05, 3), ints as integers, categoricals as is
//   {fidelity}       the fidelity index (0 = cheapest);  {fidelity_name} its name
//   {trial_number}   the trial's number in its study;    {trial_id} its storage id
//   {{ and }}        a literal brace
// A parameter shadows the reserved name it shares. A placeholder that names neither is rejected
// at construction when a search space is given, else at evaluation.
//
// The program runs in its own process group (fork + exec; it gets SIGKILL if metadial dies, so a
// kill -9 leaves no orphan program; its own children are not covered), stdin from /dev/null, in
// `working_dir`, with the environment plus `env` plus METADIAL_TRIAL_ID, METADIAL_TRIAL_NUMBER,
// METADIAL_FIDELITY (index) and METADIAL_FIDELITY_NAME. Its stdout is read as it arrives:
//   objective: <number>             the result; the LAST such line wins (leading spaces allowed)
//   cost: <number>                  optional; else the fidelity's cost (or wall seconds, cost=time)
//   intermediate: <step> <value>    forwarded to Reporter::report at once (so pruning can act)
// With `log_dir`, stdout and stderr are kept as log_dir/trial-<number>.out and .err. A log is
// created anew (O_CREAT | O_EXCL | O_NOFOLLOW): an old log of an earlier run (a plain file with no
// other link) is removed first; a symbolic link, a hard-linked file or anything else in its place
// fails the trial and is left untouched, so that a link planted in log_dir never redirects the
// write. Each log holds at most `log_max_bytes` of the program's output: past that, its tail is
// kept (between half and all of log_max_bytes, from the start of a line where one is near), after
// a first line that says how many bytes were dropped.
// The run is limited to min(timeout_s, reporter.seconds_left()); past it, or when the reporter
// throws (TrialPruned), the whole process group gets SIGTERM, then SIGKILL 2 s later. When the
// program exits, anything it left running in its process group is killed. A pruned trial costs
// the last `cost:` the program printed before it was stopped, else its seconds (cost = "time"),
// else the fidelity's cost.
//
// Interrupts (core/interrupt.h): the process group is registered while the program runs, so that
// Ctrl-C, SIGTERM or SIGHUP to a program that called interrupt::install() stops it (SIGTERM, then
// SIGKILL after interrupt::kGraceSeconds); evaluate() also notices interrupt::requested() itself
// and does the same. The trial then fails with "interrupted by SIGINT" (SIGTERM, SIGHUP), unless
// the program had already finished. No program is started once an interrupt has been requested.
//
// Failures throw metadial::Error with one line naming the trial and the program: not found, not
// executable, timed out, interrupted, killed by a signal, non-zero exit (with the last line of
// stderr), no objective line, a non-numeric value. Text the program printed is quoted as valid
// UTF-8 (an invalid byte becomes U+FFFD). evaluate() is thread-safe: concurrent calls run
// concurrent processes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "metadial/objective/objective.h"
#include "metadial/objective/registry.h"

namespace metadial::objective {

/// Where an evaluation's cost comes from when the program prints no `cost:` line.
enum class CommandCost {
  fidelity,  ///< the fidelity's cost (default)
  time,      ///< the wall-clock seconds the program ran
};

/// Settings of a CommandObjective; chained setters, validated by CommandObjective's constructor.
struct CommandOptions {
  /// Program and arguments, with placeholders. argv[0] is looked up in PATH unless it has a '/'.
  std::vector<std::string> argv;
  /// Wall-clock limit per evaluation in seconds (none: only the reporter's deadline applies).
  std::optional<double> timeout_s;
  /// Folder for trial-<number>.out / .err (created, if missing, by the constructor); empty: logs
  /// are not kept.
  std::string log_dir;
  /// Most bytes of a program's output kept in each log (its tail is kept); 0: no limit.
  int64_t log_max_bytes = kDefaultLogMaxBytes;
  /// Working directory of the program (empty: the current one). A relative argv[0] with a '/'
  /// (./train.sh) is resolved from it.
  std::string working_dir;
  /// Fidelities, cheapest first; the program sees the index as {fidelity} / METADIAL_FIDELITY.
  std::vector<Fidelity> fidelities = {Fidelity{"full", 1.0}};
  /// Extra environment variables (override inherited ones).
  std::map<std::string, std::string> env;
  CommandCost cost = CommandCost::fidelity;

  static constexpr int64_t kDefaultLogMaxBytes = 10 * 1024 * 1024;

  CommandOptions() = default;
  explicit CommandOptions(std::vector<std::string> argv_) : argv(std::move(argv_)) {}
  CommandOptions& timeout(double seconds) {
    timeout_s = seconds;
    return *this;
  }
  CommandOptions& logs(std::string dir) {
    log_dir = std::move(dir);
    return *this;
  }
  CommandOptions& log_limit(int64_t bytes) {
    log_max_bytes = bytes;
    return *this;
  }
  CommandOptions& cwd(std::string dir) {
    working_dir = std::move(dir);
    return *this;
  }
  CommandOptions& with_fidelities(std::vector<Fidelity> f) {
    fidelities = std::move(f);
    return *this;
  }
  CommandOptions& set_env(std::string name, std::string value) {
    env[std::move(name)] = std::move(value);
    return *this;
  }
  CommandOptions& cost_from(CommandCost c) {
    cost = c;
    return *this;
  }
};

/// Reads CommandOptions from a JSON object (the config's [objective] table):
///   command = ["./train.sh", "--lr", "{lr}"]   (required; array of strings)
///   timeout_s = 600, log_dir = "trial-logs", log_max_bytes = 10485760, working_dir = ".",
///   fidelities = [{name = "short", cost = 1}, {name = "long", cost = 10}],
///   env = {CUDA_VISIBLE_DEVICES = "0"}, cost = "fidelity" | "time"
/// Throws InvalidArgument naming an unknown key (and the known ones) or a value of the wrong type.
CommandOptions command_options_from_json(const nlohmann::json& j);

/// Runs an external command per evaluation (see the top of this header).
class CommandObjective final : public Objective {
 public:
  /// Validates the options (non-empty argv, well-formed placeholders, timeout > 0, fidelities
  /// with positive costs, env names without '=', log_max_bytes >= 0, working_dir an existing
  /// folder, log_dir a folder that exists or can be created, and is writable: it is created here,
  /// so that a bad one fails before the first trial); with `space`, also that every placeholder
  /// names a parameter of it or a reserved name. Throws InvalidArgument naming the key.
  explicit CommandObjective(CommandOptions options, std::optional<space::SearchSpace> space = std::nullopt);

  Evaluation evaluate(const space::Config& config, int fidelity, Reporter& reporter) override;
  std::vector<Fidelity> fidelities() const override { return options_.fidelities; }
  std::string name() const override { return "command"; }
  /// A program may print `intermediate:` lines (how many, the objective cannot know).
  bool reports_intermediate() const override { return true; }
  const CommandOptions& options() const { return options_; }

  /// The argv of one evaluation, placeholders replaced (exposed for tests and dry runs).
  std::vector<std::string> expand(const space::Config& config, int fidelity, int64_t trial_number,
                                  int64_t trial_id) const;

 private:
  /// One piece of an argv template: literal text or a placeholder name.
  struct Piece {
    bool placeholder = false;
    std::string text;
  };
  CommandOptions options_;
  std::vector<std::vector<Piece>> template_;
};

/// Adds "command" (options as command_options_from_json) to a registry. Placeholders are then
/// checked at evaluation, since the registry does not know the search space.
void register_command_objective(ObjectiveRegistry& registry);

}  // namespace metadial::objective
