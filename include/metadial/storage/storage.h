// Where studies and trials live. A narrow interface; implementations: InMemoryStorage,
// SqliteStorage (the embedded default). Open one by URL with open_storage().
//
// Contract for every implementation:
//  - Thread safety: every method may be called concurrently from any number of threads on
//    one Storage object. SqliteStorage is in addition safe for several processes on one file.
//  - Immutability: a finished trial (complete, pruned, failed) never changes again; finish_trial
//    on a finished trial throws StorageError. Params are set once, before the trial is finished.
//  - Durability (SqliteStorage): when a writing method returns, its change is committed
//    (one transaction per call) and survives a crash of the process.
//  - Numbering: create_trial hands out trial numbers 0, 1, 2 ... per study, atomically, with
//    no gaps and no duplicates, also across processes.
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
std::unique_ptr<Storage> open_storage(const std::string& url);

}  // namespace metadial::storage
