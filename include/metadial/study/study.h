// The study engine: a Study (a named set of trials in a Storage, over one search space),
// live Trial handles from ask(), tell(), and optimize(): the loop that asks a sampler, evaluates
// the objective on J threads, lets a pruner stop trials at their intermediate values, and records
// every outcome, within budgets of trials, cost and time.
//
//   auto storage = storage::open_storage("sqlite:runs.db");
//   auto study = Study::create_or_load(*storage, "branin-gp", space, Direction::kMinimize);
//   OptimizeResult r = optimize(study, objective, sampler, OptimizeOptions{.n_trials = 30});
//
// Budget semantics: n_trials and max_cost count the whole study, earlier runs included, so the
// same command run again after a crash continues to the same target. Trials that failed do not
// count towards n_trials (their cost does count towards max_cost); max_consecutive_failures
// stops a study whose objective keeps failing. The budgets hold for any number of workers (threads
// and processes, on any storage): a trial is reserved only while the budget allows it, in one
// atomic step of the storage: the study never holds more than n_trials counted (complete + pruned)
// trials, and no trial starts once the total cost reached max_cost (the trials running then may
// still add theirs). A worker that finds the
// trial budget full while other workers' trials still run waits for them (they may fail and need
// replacing) and fails those whose worker died or went silent (heartbeat_timeout_s).
//
// Heartbeats: every trial ask() or ask_within() hands out is kept alive (Storage::heartbeat every
// heartbeat interval, on one thread per study) from the ask until it is told or its Trial handle is
// destroyed, so a trial held by ask/tell code (a Python training loop) is never taken for a dead
// worker's; optimize() uses the same. A trial whose worker went silent is failed by the others
// (fail_abandoned_trials) and, with retry_failed = K, re-run up to K times with the same params as a
// new trial recording the first one's number (FrozenTrial::retry_of). The silent worker's late
// result is refused: tell() throws StorageError, and optimize() logs it and keeps the stored record.
//
// Enqueued configurations (enqueue(), Optuna's enqueue_trial: the default configuration, a previous
// study's best) are run first, by whichever worker starts the next trial, without asking the
// sampler; once run, every sampler sees them in the history like any other trial.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/objective/objective.h"
#include "metadial/optim/pruner.h"
#include "metadial/optim/sampler.h"
#include "metadial/space/search_space.h"
#include "metadial/storage/storage.h"
#include "metadial/study/trial.h"

namespace metadial::study {

class Study;
class Heartbeats;

/// A live, running trial: read its proposal, report intermediate values, then tell the study.
/// Move-only; the study it came from must outlive it.
class Trial {
 public:
  Trial(Trial&&) = default;
  Trial& operator=(Trial&& other) noexcept;
  Trial(const Trial&) = delete;
  Trial& operator=(const Trial&) = delete;
  /// Stops the trial's heartbeats (a trial dropped without tell() is then failed by other workers
  /// once it has been silent for their heartbeat timeout).
  ~Trial();

  int64_t id() const { return record_.id; }
  int64_t number() const { return record_.number; }
  const space::Config& params() const { return record_.params; }
  int fidelity() const { return record_.fidelity; }
  /// Records an intermediate value at a step (stored at once).
  void report(int64_t step, double value);
  /// The record as it was when asked (params and fidelity set, state running).
  const FrozenTrial& record() const { return record_; }

 private:
  friend class Study;
  Trial(storage::Storage* storage, FrozenTrial record, std::shared_ptr<Heartbeats> heartbeats);
  /// Stops the heartbeats (tell, destruction); idempotent.
  void stop_heartbeats() noexcept;
  storage::Storage* storage_;
  FrozenTrial record_;
  std::shared_ptr<Heartbeats> heartbeats_;  ///< null once told or moved from
};

class Study {
 public:
  /// Creates the study, or loads it by name. A loaded study must have the same search space and
  /// direction: otherwise InvalidArgument says what differs (pick another --study name).
  static Study create_or_load(storage::Storage& storage, const std::string& name, const space::SearchSpace& space,
                              Direction direction, const nlohmann::json& attrs = nlohmann::json::object());
  /// Loads an existing study; throws InvalidArgument listing the stored names if absent.
  static Study load(storage::Storage& storage, const std::string& name);

  const std::string& name() const { return record_.name; }
  int64_t id() const { return record_.id; }
  const space::SearchSpace& space() const { return space_; }
  Direction direction() const { return record_.direction; }
  const nlohmann::json& attrs() const { return record_.attrs; }
  storage::Storage& storage() const { return *storage_; }

  /// Every trial, ordered by number.
  std::vector<FrozenTrial> trials() const;
  /// The best complete trial at the target fidelity `fidelity` (or any fidelity when -1).
  std::optional<FrozenTrial> best_trial(int fidelity = -1) const;

  /// Puts a configuration in the study's queue: the next trial any worker starts runs it at
  /// `fidelity`, before any sampler is asked (Storage::enqueue_trial). The configuration must hold
  /// every parameter of the space and no other, each within its bounds (InvalidArgument naming the
  /// parameter); a float parameter given as an integer is stored as a float, an int parameter given
  /// as an integral float as an integer. With `skip_if_present`, nothing is queued (nullopt) when
  /// the study already has it, queued or in a trial that did not fail.
  std::optional<storage::QueuedTrial> enqueue(const space::Config& params, int fidelity, bool skip_if_present = false);
  /// The configurations queued and not yet taken by a trial, oldest first.
  std::vector<storage::QueuedTrial> queued() const;

  /// Reserves the next trial and asks the sampler for its configuration. The sampler sees every
  /// trial with a smaller number (none if it says !uses_history()), and a seed derived from
  /// (seed, trial number). The history is borrowed from the study's cache, whose lock is held
  /// during the sampler's suggest(): asks of one study (and of its copies) suggest one at a time.
  Trial ask(optim::Sampler& sampler, uint64_t seed,
            const std::vector<objective::Fidelity>& fidelities = {objective::Fidelity{"full", 1.0}},
            double budget_left = std::numeric_limits<double>::infinity());
  /// ask(), only while the study-wide budget allows another trial (checked atomically with the
  /// reservation, across every worker of the study: see Storage::reserve_trial); empty when it
  /// does not. `counts`, if given, receives the study's counts the decision was made on. Both take
  /// a queued configuration first (enqueue()): the sampler is not asked then.
  std::optional<Trial> ask_within(const storage::TrialBudget& budget, optim::Sampler& sampler, uint64_t seed,
                                  const std::vector<objective::Fidelity>& fidelities,
                                  storage::TrialCounts* counts = nullptr);
  /// Finishes a trial as complete; a non-finite value makes it failed instead.
  void tell(Trial& trial, double value, double cost = 0.0);
  /// Finishes a trial as pruned; its value is its last intermediate value, if any.
  void tell_pruned(Trial& trial, double cost = 0.0);
  void tell_failed(Trial& trial, const std::string& reason, double cost = 0.0);

  /// Asks `pruner` whether the running `trial` should stop after its latest report, showing it the
  /// study's trials as stored now (read through a cache of its own, updated with only the trials
  /// changed since the last call; its lock is held during the decision). `ctx` is
  /// pruner_context(direction(), objective). False, without reading anything, for a pruner that never
  /// prunes.
  bool should_prune(const optim::Pruner& pruner, const optim::PrunerContext& ctx, const Trial& trial);

  /// Marks as failed the running trials whose worker is gone: a process of this host that no
  /// longer exists, or another worker silent for longer than `heartbeat_timeout_s`. With
  /// `retry_failed` = K > 0 each such trial that had params is queued again with retry_of = the
  /// first trial of its chain, in the transaction that fails it (Storage::fail_and_retry), while its
  /// chain holds fewer than K retries; the next trial any worker starts re-runs it. Returns how many trials it failed. Safe to call from any number of
  /// workers at once (a trial is failed, and so retried, once).
  int fail_abandoned_trials(double heartbeat_timeout_s, int retry_failed = 0);

  /// Seconds between the heartbeats of this study's asked, untold trials (default 5; shared by the
  /// copies of this Study object). Throws InvalidArgument unless finite and > 0.
  void set_heartbeat_interval(double seconds);

 private:
  Trial suggest(FrozenTrial record, optim::Sampler& sampler, uint64_t seed,
                const std::vector<objective::Fidelity>& fidelities, double budget_left);
  Study(storage::Storage* storage, storage::StudyRecord record, space::SearchSpace space);
  /// What ask() shows the sampler: every trial of the study, as it was at `cursor` of the
  /// storage's change sequence, kept up to date with Storage::trials_changed_since (only the
  /// trials changed since are read) and sorted by number, so that the history of trial n is a
  /// span of its prefix (no copy). `mu` is held while a sampler reads that span.
  struct HistoryCache {
    std::mutex mu;
    int64_t cursor = 0;
    std::vector<FrozenTrial> trials;
    /// Under mu: reads the changes since `cursor` and puts each trial in its place.
    void update(storage::Storage& storage, int64_t study_id);
    /// Under mu: the trials numbered below `number`.
    std::span<const FrozenTrial> before(int64_t number) const;
  };
  storage::Storage* storage_;
  storage::StudyRecord record_;
  space::SearchSpace space_;
  std::shared_ptr<HistoryCache> cache_ = std::make_shared<HistoryCache>();
  /// What should_prune() shows the pruner (apart from cache_, so that reports do not wait for a
  /// sampler's suggest()).
  std::shared_ptr<HistoryCache> prune_cache_ = std::make_shared<HistoryCache>();
  /// The heartbeat thread of the trials asked through this study (and its copies).
  std::shared_ptr<Heartbeats> heartbeats_;
};

/// Why optimize() stopped.
enum class StopReason { kTrials, kCost, kWallTime, kFailures, kNothingToDo, kInterrupted };
const char* to_string(StopReason r);

/// What optimize() passes to its progress callback after every finished trial.
struct Progress {
  const FrozenTrial* trial = nullptr;        ///< the trial that just finished
  int64_t n_counted = 0;                     ///< complete + pruned trials in the study
  int64_t n_failed_run = 0;                  ///< failed trials in this run
  int64_t n_target = 0;                      ///< n_trials budget (0 if none)
  std::optional<double> best_value;          ///< best value so far (target fidelity)
  double total_cost = 0.0;
  double elapsed_s = 0.0;
};

struct OptimizeOptions {
  int64_t n_trials = 0;  ///< complete + pruned trials the study should reach; 0 = unbounded
  double max_cost = std::numeric_limits<double>::infinity();    ///< total cost of the study
  double max_wall_s = std::numeric_limits<double>::infinity();  ///< wall time of this run
  int jobs = 1;                                  ///< trials evaluated in parallel, on threads
  int max_consecutive_failures = 10;             ///< stop with an error after this many in a row
  double trial_timeout_s = std::numeric_limits<double>::infinity();
  /// How often running trials say they are alive, and how often a worker that waits looks for
  /// abandoned trials of other workers.
  double heartbeat_interval_s = 5.0;
  /// Silence after which another worker's running trial is failed (while this run works, so that
  /// the study's budget is not held by a dead worker's trials).
  double heartbeat_timeout_s = 120.0;
  /// Re-runs of a trial failed because its worker went silent or died (not of one whose objective
  /// failed), with the same params, as new trials (Study::fail_abandoned_trials); 0 = none.
  int retry_failed = 0;
  uint64_t seed = 0;
  std::function<void(const Progress&)> on_trial_finished;  ///< called under a lock, one at a time
  /// Called with one line when this run's result is refused because another worker already failed
  /// the trial (it took this worker for dead); the stored record stays. Under a lock.
  std::function<void(const std::string&)> on_warning;

  /// Throws InvalidArgument on jobs < 1, negative trials or retries, a non-positive timeout, etc.
  void validate() const;
};

struct OptimizeResult {
  StopReason stop_reason = StopReason::kTrials;
  int64_t n_run = 0;         ///< trials started by this run
  int64_t n_complete = 0;    ///< complete trials in the study
  int64_t n_pruned = 0;
  int64_t n_failed = 0;      ///< failed trials in the study
  int64_t n_recovered = 0;   ///< abandoned running trials of other workers this run marked failed
  int64_t n_refused = 0;     ///< results of this run refused: another worker had failed the trial
  double total_cost = 0.0;   ///< cost of every trial in the study
  double wall_seconds = 0.0;
  std::optional<FrozenTrial> best;  ///< best complete trial at the target fidelity
  std::string last_failure;        ///< reason of the last failed trial of this run
};

/// Runs trials until a budget is reached, or until max_consecutive_failures trials failed in a
/// row (stop_reason kFailures, last_failure says why: callers report it as an error).
OptimizeResult optimize(Study& study, objective::Objective& objective, optim::Sampler& sampler,
                        const OptimizeOptions& options);
/// The same with a pruner: at every intermediate value a trial reports before the objective's
/// max_step, the pruner may stop it (Reporter::report throws TrialPruned); the trial is stored as
/// pruned, with the cost the objective says it spent (TrialPruned::cost(), else its fidelity's
/// cost), and counts towards n_trials. Throws InvalidArgument first if the pruner refuses the
/// objective (Pruner::validate).
OptimizeResult optimize(Study& study, objective::Objective& objective, optim::Sampler& sampler,
                        const optim::Pruner& pruner, const OptimizeOptions& options);
/// The context a pruner decides in, for a study of this direction over this objective.
optim::PrunerContext pruner_context(Direction direction, const objective::Objective& objective);

/// "host:pid" of this process.
std::string this_worker();

}  // namespace metadial::study
