// Argument checks and messages shared by every storage, so that InMemoryStorage and
// SqliteStorage reject the same calls with the same words.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "metadial/space/search_space.h"
#include "metadial/storage/storage.h"
#include "metadial/study/trial.h"

namespace metadial::storage::detail {

/// Non-empty study name (to look a study up); throws InvalidArgument.
void check_study_name(const std::string& name);
/// A name for a new study (create, rename to): non-empty, no NUL or other control character.
void check_new_study_name(const std::string& name);
/// Finite float params (JSON has no NaN / inf), fidelity >= 0; throws InvalidArgument.
void check_params(const space::Config& params, int fidelity);
/// A queued configuration's retry_of: a trial number or -1 (InvalidArgument otherwise).
void check_retry_of(int64_t retry_of);
/// step >= 0, finite value; throws InvalidArgument.
void check_intermediate(int64_t step, double value);
/// A finishing state (not running); complete needs a value, failed has none; values finite;
/// cost finite and >= 0. Throws InvalidArgument.
void check_finish(study::TrialState state, const std::optional<double>& value, double cost);
/// The StorageError message of fail_and_retry on a trial without params.
std::string retry_without_params_message(const std::string& trial);
/// Finite times, finished_at >= started_at (set_trial_times); throws InvalidArgument.
void check_times(double started_at, double finished_at);
/// The StorageError message of set_trial_times on a running trial.
std::string times_of_running_message(const std::string& trial);

/// Adds `n` trials in `state` with total cost `cost` to `counts` (n < 0 takes them away).
void add_to_counts(TrialCounts& counts, study::TrialState state, double cost, int64_t n);

/// Whether a reservation may create a trial with the study at `counts` (see reserve_trial).
bool budget_allows(const TrialBudget& budget, const TrialCounts& counts);

/// from and to non-empty and different; throws InvalidArgument.
void check_rename(const std::string& from, const std::string& to);

/// The StorageError messages of delete_study / rename_study. `where` names the storage
/// ("SQLite storage 'runs.db'"); `stored` are the names of the studies it holds.
std::string no_study_message(const std::string& name, const std::string& where, const std::vector<std::string>& stored);
std::string rename_target_exists_message(const std::string& from, const std::string& to, const std::string& where);
std::string running_trials_message(const std::string& name, const std::vector<int64_t>& running_numbers);

/// "trial 12 of study 'tune'".
std::string describe_trial(int64_t number, const std::string& study_name);

/// The StorageError messages for a call on a finished trial or on params already set.
std::string already_finished_message(const std::string& trial, study::TrialState state);
std::string set_params_finished_message(const std::string& trial, study::TrialState state);
std::string params_already_set_message(const std::string& trial);
std::string report_finished_message(const std::string& trial, int64_t step, study::TrialState state);
std::string heartbeat_finished_message(const std::string& trial, study::TrialState state);

}  // namespace metadial::storage::detail
