// InMemoryStorage: studies and trials in a map guarded by one mutex. For tests, for a quick
// study nobody wants to resume, and as the reference the SQLite storage is checked against
// (both run the same typed test suite). Nothing survives the process.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/storage/storage.h"

namespace metadial::storage {

/// Every contract point of storage.h except durability and multi-process access: the data
/// lives as long as the object. All methods lock one mutex; returned records are copies.
/// Not copyable, not movable (it is shared by reference between threads).
class InMemoryStorage final : public Storage {
 public:
  InMemoryStorage() = default;
  InMemoryStorage(const InMemoryStorage&) = delete;
  InMemoryStorage& operator=(const InMemoryStorage&) = delete;

  StudyRecord create_or_load_study(const std::string& name, study::Direction direction,
                                   const nlohmann::json& space, const nlohmann::json& attrs) override;
  std::optional<StudyRecord> find_study(const std::string& name) override;
  std::vector<StudyRecord> list_studies() override;
  int64_t delete_study(const std::string& name, IfRunning if_running) override;
  StudyRecord rename_study(const std::string& from, const std::string& to) override;

  Reservation reserve_trial(int64_t study_id, const std::string& worker, const TrialBudget& budget) override;
  std::optional<QueuedTrial> enqueue_trial(int64_t study_id, const space::Config& params, int fidelity,
                                           bool skip_if_present, int64_t retry_of) override;
  std::vector<QueuedTrial> queued_trials(int64_t study_id) override;
  void set_trial_params(int64_t trial_id, const space::Config& params, int fidelity) override;
  void report_intermediate(int64_t trial_id, int64_t step, double value) override;
  void heartbeat(int64_t trial_id) override;
  void finish_trial(int64_t trial_id, study::TrialState state, std::optional<double> value, double cost,
                    const std::string& fail_reason) override;
  void fail_and_retry(int64_t trial_id, const std::string& fail_reason, int64_t retry_of) override;
  void set_trial_times(int64_t trial_id, double started_at, double finished_at) override;

  std::vector<study::FrozenTrial> trials(int64_t study_id) override;
  std::vector<study::FrozenTrial> running_trials(int64_t study_id) override;
  TrialCounts count_trials(int64_t study_id) override;
  TrialChanges trials_changed_since(int64_t study_id, int64_t cursor) override;
  study::FrozenTrial trial(int64_t trial_id) override;

 private:
  struct TrialEntry {
    int64_t study_id = -1;
    bool params_set = false;
    int64_t seq = 0;  ///< change number of its last change
    study::FrozenTrial record;
  };
  struct StudyEntry {
    StudyRecord record;
    std::vector<int64_t> trial_ids;  ///< index = trial number
    /// Kept up to date by every change, so that a reservation or count_trials does not scan
    /// the study (a trial's cost must not grow with the study).
    TrialCounts counts;
    /// change number -> trial number, one entry per trial (its last change): the trials changed
    /// since a cursor without a scan.
    std::map<int64_t, int64_t> changes;
    std::deque<QueuedTrial> queue;  ///< oldest first
  };

  StudyEntry& study_locked(int64_t study_id);
  TrialEntry& trial_locked(int64_t trial_id);
  std::string describe_locked(const TrialEntry& t) const;
  /// Gives trial `t` (of study `s`) the next change number.
  void touch_locked(StudyEntry& s, TrialEntry& t);
  /// Finishes running trial `t` (checked by the caller) and updates its study's counts.
  void finish_locked(TrialEntry& t, study::TrialState state, std::optional<double> value, double cost,
                     const std::string& fail_reason);
  /// The id of the study of that name; StorageError naming the stored studies if there is none.
  int64_t study_id_locked(const std::string& name) const;

  std::mutex mu_;
  std::map<int64_t, StudyEntry> studies_;     ///< by id
  std::map<std::string, int64_t> study_ids_;  ///< name -> id
  std::map<int64_t, TrialEntry> trials_;      ///< by id
  int64_t next_study_id_ = 1;                 ///< ids 1, 2, ...; never reused after delete_study
  int64_t next_trial_id_ = 1;
  int64_t next_queued_id_ = 1;
  int64_t change_seq_ = 0;                    ///< the change sequence (see storage.h)
};

}  // namespace metadial::storage
