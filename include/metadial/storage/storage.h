// Where studies and trials live. A narrow interface; implementations: InMemoryStorage,
// SqliteStorage (the embedded default). Open one by URL with open_storage().
//
// Contract for every implementation:
//  - Thread safety: every method may be called concurrently from any number of threads on
//    one Storage object. SqliteStorage is in addition safe for several processes on one file,
//    PostgresStorage for any number of processes on any number of hosts on one database.
//  - Immutability: a finished trial (complete, pruned, failed) never changes again; finish_trial
//    on a finished trial throws StorageError. Params are set once, before the trial is finished.
//    The only way a trial goes is with its whole study (delete_study).
//  - Durability (SqliteStorage, PostgresStorage): when a writing method returns, its change is committed
//    (one transaction per call) and survives a crash of the process.
//  - Numbering: create_trial hands out trial numbers 0, 1, 2 ... per study, atomically, with
//    no gaps and no duplicates, also across processes.
//  - Ids: study and trial ids are never handed out twice, also after delete_study, so a worker
//    still holding the id of a deleted study or trial gets StorageError instead of writing into
//    a study created later.
//  - Housekeeping (delete_study, rename_study) is atomic: one transaction in SqliteStorage, one
//    lock in InMemoryStorage; another reader sees the study before or after, never half of it.
//  - Returned FrozenTrials are snapshots: they do not follow later changes.
//  - Budgets: reserve_trial checks the study's budget and creates the trial in one atomic step
//    (one transaction / one lock), so workers in any number of processes never start more trials
//    than the budget allows, however they interleave.
//  - Queue: enqueue_trial puts a configuration in the study's queue; the trials reserve_trial
//    creates take the queued configurations first, oldest first, their params set in the same
//    atomic step that creates them, so each runs once however many workers take trials.
//  - Changes: every write that changes a trial's record (create, params, intermediate value,
//    finish; not a heartbeat) takes the next number of one change sequence of the storage;
//    trials_changed_since(cursor) returns the trials changed after a cursor and the new cursor.
//  - Text: study names hold no NUL or control character (InvalidArgument); a fail reason or
//    worker name is stored as valid UTF-8 (invalid bytes become U+FFFD), so that any reader of
//    the file (Python's sqlite3 included) can read it.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/study/trial.h"

namespace metadial::storage {

/// What delete_study does with a study that still has trials in state running (a worker may be
/// evaluating them right now, or may have died without finishing them).
enum class IfRunning {
  kRefuse,  ///< throw StorageError and delete nothing
  kDelete,  ///< delete anyway; the worker's next call on the study or its trials throws StorageError
};

/// How open_storage opens a SQLite file.
enum class OpenMode {
  kCreate,    ///< create the file (and the schema) if needed: for writing studies
  kExisting,  ///< the file must exist (StorageError naming the path otherwise): for changing
              ///< studies that are already there, without leaving a stray empty file
  kReadOnly,  ///< the file must exist and is never written (no schema change, no journal-mode
              ///< switch; a read-only file can be read); every writing call throws StorageError
};

/// The study-wide budget a reservation must respect (the budgets of optimize()).
struct TrialBudget {
  /// complete + pruned + running trials may not exceed this (failed ones do not count, so that a
  /// failure is replaced); 0 = no limit.
  int64_t max_trials = 0;
  /// No trial starts once the study's total cost (of every trial) reaches this.
  double max_cost = std::numeric_limits<double>::infinity();
};

/// How many trials of a study are in each state, and their total cost.
struct TrialCounts {
  int64_t running = 0;
  int64_t complete = 0;
  int64_t pruned = 0;
  int64_t failed = 0;
  double cost = 0.0;  ///< sum over every trial (running ones have cost 0 until finished)
  /// What the trial budget counts as done: complete + pruned.
  int64_t counted() const { return complete + pruned; }
  int64_t total() const { return running + complete + pruned + failed; }
};

/// What reserve_trial decided.
struct Reservation {
  std::optional<study::FrozenTrial> trial;  ///< the new running trial; empty when the budget is full
  TrialCounts counts;                       ///< the study's counts the decision was made on
};

/// Trials changed after a cursor, and the cursor to pass next time.
struct TrialChanges {
  std::vector<study::FrozenTrial> trials;  ///< ordered by number; each as it is now
  int64_t cursor = 0;
};

/// A configuration waiting in a study's queue for the next trial (Storage::enqueue_trial).
struct QueuedTrial {
  int64_t id = -1;  ///< increases in the order configurations were queued
  space::Config params;
  int fidelity = 0;
  double queued_at = 0.0;  ///< unix seconds
  int64_t retry_of = -1;   ///< the trial number it retries (FrozenTrial::retry_of), -1 if none
};

/// What is stored about a study itself.
struct StudyRecord {
  int64_t id = -1;
  std::string name;
  study::Direction direction = study::Direction::kMinimize;
  nlohmann::json space;   ///< SearchSpace::to_json(), to check a resumed study matches
  nlohmann::json attrs;   ///< free-form: sampler, objective, seed ... (for reports)
  double created_at = 0.0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  /// Creates the study, or returns the existing one of that name unchanged.
  virtual StudyRecord create_or_load_study(const std::string& name, study::Direction direction,
                                           const nlohmann::json& space, const nlohmann::json& attrs) = 0;
  /// The study of that name, if any.
  virtual std::optional<StudyRecord> find_study(const std::string& name) = 0;
  virtual std::vector<StudyRecord> list_studies() = 0;

  /// Deletes the study of that name with all its trials, params and intermediate values, in one
  /// atomic step. Returns how many trials were deleted. Throws, deleting nothing:
  /// InvalidArgument for an empty name; StorageError when there is no such study (the message
  /// names the studies there are), or when `if_running` is kRefuse and any of its trials is running
  /// (the message gives their numbers). The name is free for a new study afterwards; the ids are
  /// not reused (see Ids above). A SQLite file does not shrink: the space is reused by later writes.
  virtual int64_t delete_study(const std::string& name, IfRunning if_running) = 0;
  /// Renames a study in one atomic step and returns its new record: id, direction, space, attrs,
  /// created_at, trials and their numbers stay as they were. Throws, changing nothing:
  /// InvalidArgument for an empty name or `to` == `from`; StorageError when `from` does not exist
  /// (the message names the studies there are) or a study named `to` exists. Allowed while trials
  /// are running: a running worker holds the study by id and keeps writing to it under the new
  /// name, but a worker started later with the old name creates a new, empty study of that name.
  virtual StudyRecord rename_study(const std::string& from, const std::string& to) = 0;

  /// Reserves the next trial number of the study, only while the budget allows it, decided
  /// atomically with the creation: a new trial in state running is created when
  /// counts.counted() + counts.running < budget.max_trials (or no limit) and counts.cost <
  /// budget.max_cost. `counts` are those before the new trial. The trial has no params yet, unless
  /// the study's queue holds a configuration: then it takes the oldest (params and fidelity set,
  /// the configuration out of the queue), in the same atomic step.
  virtual Reservation reserve_trial(int64_t study_id, const std::string& worker, const TrialBudget& budget) = 0;
  /// reserve_trial without a budget: always creates the trial.
  study::FrozenTrial create_trial(int64_t study_id, const std::string& worker) {
    return std::move(*reserve_trial(study_id, worker, TrialBudget{}).trial);
  }
  /// Puts a configuration at the end of the study's queue (see reserve_trial) and returns it. The
  /// trial that takes it records `retry_of` (-1: none; else the number of the trial it re-runs).
  /// With `skip_if_present`, nothing is queued (nullopt) when the study already has the same params
  /// at the same fidelity, queued or in a trial that did not fail, checked in the same atomic step
  /// (workers that start together from one config queue it once). StorageError if there is no such
  /// study; InvalidArgument on a params value that cannot be stored (as set_trial_params).
  virtual std::optional<QueuedTrial> enqueue_trial(int64_t study_id, const space::Config& params, int fidelity,
                                                   bool skip_if_present, int64_t retry_of) = 0;
  /// The study's queued configurations that no trial has taken yet, oldest first.
  virtual std::vector<QueuedTrial> queued_trials(int64_t study_id) = 0;
  /// Sets the params and fidelity the sampler chose for a running trial.
  virtual void set_trial_params(int64_t trial_id, const space::Config& params, int fidelity) = 0;
  /// Records an intermediate value (and refreshes the heartbeat).
  virtual void report_intermediate(int64_t trial_id, int64_t step, double value) = 0;
  /// Refreshes the heartbeat of a running trial.
  virtual void heartbeat(int64_t trial_id) = 0;
  /// Finishes a running trial: complete (value set), pruned or failed (reason set).
  virtual void finish_trial(int64_t trial_id, study::TrialState state, std::optional<double> value,
                            double cost, const std::string& fail_reason) = 0;

  /// Fails a running trial whose worker died or went silent (cost 0, `fail_reason`) and, in the
  /// same transaction, queues its params and fidelity as a retry of the trial numbered `retry_of`
  /// (retry_failed): both happen or neither, so a crash cannot lose the retry of a failed trial.
  /// StorageError if the trial is no longer running (another worker finished or failed it: nothing
  /// is queued) or has no params.
  virtual void fail_and_retry(int64_t trial_id, const std::string& fail_reason, int64_t retry_of) = 0;
  /// Sets a finished trial's start and finish times (its heartbeat to the finish time), for
  /// `metadial storage copy`, which keeps the source's times. Not a change (trials_changed_since
  /// does not report it). Throws StorageError for a running trial, InvalidArgument for times that
  /// are not finite or end before they start.
  virtual void set_trial_times(int64_t trial_id, double started_at, double finished_at) = 0;

  /// All trials of a study, ordered by number.
  virtual std::vector<study::FrozenTrial> trials(int64_t study_id) = 0;
  /// The study's running trials (ordered by number), without their intermediate values: what a
  /// worker checks for abandoned trials.
  virtual std::vector<study::FrozenTrial> running_trials(int64_t study_id) = 0;
  /// How many trials of the study are in each state, and their total cost.
  virtual TrialCounts count_trials(int64_t study_id) = 0;
  /// The trials of the study changed after `cursor` (0: every trial), and the cursor to pass next
  /// time. A caller that keeps the trials it has and applies the changes (replacing by number)
  /// holds what trials() would return, without reading every trial again.
  virtual TrialChanges trials_changed_since(int64_t study_id, int64_t cursor) = 0;
  /// One trial by id; throws StorageError if absent.
  virtual study::FrozenTrial trial(int64_t trial_id) = 0;
};

/// `url` with any password replaced by *** (in the user part of a URI, in a `password=` query
/// parameter, in a `password=` keyword); other text unchanged. For every message and every line
/// of output that shows a storage URL.
std::string mask_password(const std::string& url);

/// Opens a storage from a URL: "memory", "sqlite:PATH", or a PostgreSQL URL
/// ("postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME", "postgres://...", or "postgresql:" followed by
/// libpq KEY=VALUE pairs; see postgres.h). Throws StorageError / InvalidArgument.
/// With OpenMode::kExisting or kReadOnly a SQLite file that does not exist is a StorageError (a
/// "memory" URL opens, empty, either way).
std::unique_ptr<Storage> open_storage(const std::string& url, OpenMode mode = OpenMode::kCreate);

}  // namespace metadial::storage
