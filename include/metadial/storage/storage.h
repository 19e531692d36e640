// Where studies and trials live. A narrow interface; implementations: InMemoryStorage,
// SqliteStorage (the embedded default). Open one by URL with open_storage().
//
// Contract for every implementation:
//  - Thread safety: every method may be called concurrently from any number of threads on
//    one Storage object. SqliteStorage is in addition safe for several processes on one file.
//  - Immutability: a finished trial (complete, pruned, failed) never changes again; finish_trial
//    on a finished trial throws StorageError. Params are set once, before the trial is finished.
//    The only way a trial goes is with its whole study (delete_study).
//  - Durability (SqliteStorage): when a writing method returns, its change is committed
//    (one transaction per call) and survives a crash of the process.
//  - Numbering: create_trial hands out trial numbers 0, 1, 2 ... per study, atomically, with
//    no gaps and no duplicates, also across processes.
//  - Ids: study and trial ids are never handed out twice, also after delete_study, so a worker
//    still holding the id of a deleted study or trial gets StorageError instead of writing into
//    a study created later.
//  - Housekeeping (delete_study, rename_study) is atomic: one transaction in SqliteStorage, one
//    lock in InMemoryStorage; another reader sees the study before or after, never half of it.
//  - Returned FrozenTrials are snapshots: they do not follow later changes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
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

/// Whether open_storage may create a SQLite file that does not exist yet.
enum class OpenMode {
  kCreate,    ///< create the file (and the schema) if needed: for writing studies
  kExisting,  ///< the file must exist (StorageError naming the path otherwise): for reading or
              ///< changing studies that are already there, without leaving a stray empty file
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

  /// Reserves the next trial number of the study: a new trial in state running, no params yet.
  virtual study::FrozenTrial create_trial(int64_t study_id, const std::string& worker) = 0;
  /// Sets the params and fidelity the sampler chose for a running trial.
  virtual void set_trial_params(int64_t trial_id, const space::Config& params, int fidelity) = 0;
  /// Records an intermediate value (and refreshes the heartbeat).
  virtual void report_intermediate(int64_t trial_id, int64_t step, double value) = 0;
  /// Refreshes the heartbeat of a running trial.
  virtual void heartbeat(int64_t trial_id) = 0;
  /// Finishes a running trial: complete (value set), pruned or failed (reason set).
  virtual void finish_trial(int64_t trial_id, study::TrialState state, std::optional<double> value,
                            double cost, const std::string& fail_reason) = 0;

  /// All trials of a study, ordered by number.
  virtual std::vector<study::FrozenTrial> trials(int64_t study_id) = 0;
  /// One trial by id; throws StorageError if absent.
  virtual study::FrozenTrial trial(int64_t trial_id) = 0;
};

/// Opens a storage from a URL: "memory" or "sqlite:PATH". Throws StorageError / InvalidArgument.
/// With OpenMode::kExisting a SQLite file that does not exist is a StorageError (a "memory" URL
/// opens, empty, either way).
std::unique_ptr<Storage> open_storage(const std::string& url, OpenMode mode = OpenMode::kCreate);

}  // namespace metadial::storage
