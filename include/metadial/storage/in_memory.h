// InMemoryStorage: studies and trials in a map guarded by one mutex. For tests, for a quick
// study nobody wants to resume, and as the reference the SQLite storage is checked against
// (both run the same typed test suite). Nothing survives the process.
#pragma once

#include <cstdint>
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

  study::FrozenTrial create_trial(int64_t study_id, const std::string& worker) override;
  void set_trial_params(int64_t trial_id, const space::Config& params, int fidelity) override;
  void report_intermediate(int64_t trial_id, int64_t step, double value) override;
  void heartbeat(int64_t trial_id) override;
  void finish_trial(int64_t trial_id, study::TrialState state, std::optional<double> value, double cost,
                    const std::string& fail_reason) override;

  std::vector<study::FrozenTrial> trials(int64_t study_id) override;
  study::FrozenTrial trial(int64_t trial_id) override;

 private:
  struct TrialEntry {
    int64_t study_id = -1;
    bool params_set = false;
    study::FrozenTrial record;
  };
  struct StudyEntry {
    StudyRecord record;
    std::vector<int64_t> trial_ids;  ///< index = trial number
  };

  StudyEntry& study_locked(int64_t study_id);
  TrialEntry& trial_locked(int64_t trial_id);
  std::string describe_locked(const TrialEntry& t) const;

  std::mutex mu_;
  std::map<int64_t, StudyEntry> studies_;      ///< by id, ids 1, 2, ...
  std::map<std::string, int64_t> study_ids_;   ///< name -> id
  std::vector<TrialEntry> trials_;             ///< trial id i lives at index i - 1
};

}  // namespace metadial::storage
