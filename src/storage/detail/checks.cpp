#include "storage/detail/checks.h"

#include <cmath>
#include <variant>

#include "metadial/core/error.h"
#include "metadial/core/text.h"

namespace metadial::storage::detail {

using ::metadial::detail::concat;

void check_study_name(const std::string& name) {
  MD_CHECK(!name.empty(), "study name must not be empty");
}

void check_new_study_name(const std::string& name) {
  check_study_name(name);
  MD_CHECK(!text::has_control_character(name), "study name '", text::escape_controls(name),
           "' holds a control character (NUL, newline, escape, ...); use printable characters");
}

void check_params(const space::Config& params, int fidelity) {
  for (const auto& [name, value] : params) {
    if (const double* d = std::get_if<double>(&value)) {
      MD_CHECK(std::isfinite(*d), "parameter '", name, "' is ", *d, "; a stored parameter must be finite");
    }
  }
  MD_CHECK(fidelity >= 0, "fidelity ", fidelity,
           " is negative; it is an index into the objective's fidelities (0 = cheapest)");
}

void check_retry_of(int64_t retry_of) {
  MD_CHECK(retry_of >= -1, "retry_of ", retry_of, " is not a trial number (>= 0) nor -1 (no retry)");
}

void check_intermediate(int64_t step, double value) {
  MD_CHECK(step >= 0, "intermediate step ", step, " is negative; steps count from 0");
  MD_CHECK(std::isfinite(value), "intermediate value at step ", step, " is ", value,
           "; only finite values are stored (record a non-finite result as a failed trial)");
}

void check_finish(study::TrialState state, const std::optional<double>& value, double cost) {
  MD_CHECK(state != study::TrialState::kRunning,
           "finish_trial needs a finished state (complete, pruned or failed), got running");
  MD_CHECK(state != study::TrialState::kComplete || value.has_value(), "a complete trial needs a value");
  MD_CHECK(state != study::TrialState::kFailed || !value.has_value(),
           "a failed trial has no value (got ", value.value_or(0.0), "); record it as complete instead");
  MD_CHECK(!value || std::isfinite(*value), "trial value is ", value.value_or(0.0),
           "; only finite values are stored (record a non-finite result as a failed trial)");
  MD_CHECK(std::isfinite(cost) && cost >= 0.0, "trial cost is ", cost, "; it must be finite and >= 0");
}

void check_times(double started_at, double finished_at) {
  MD_CHECK(std::isfinite(started_at) && std::isfinite(finished_at), "set_trial_times: times ", started_at, " and ",
           finished_at, " must be finite (seconds since 1970)");
  MD_CHECK(finished_at >= started_at, "set_trial_times: finished_at ", finished_at, " is before started_at ",
           started_at);
}

std::string retry_without_params_message(const std::string& trial) {
  return concat("cannot queue a retry of ", trial, ": it has no params to run again");
}

std::string times_of_running_message(const std::string& trial) {
  return concat("cannot set the times of ", trial, ": it is still running (only a finished trial's times are set)");
}

void add_to_counts(TrialCounts& counts, study::TrialState state, double cost, int64_t n) {
  counts.cost += cost;
  switch (state) {
    case study::TrialState::kRunning: counts.running += n; break;
    case study::TrialState::kComplete: counts.complete += n; break;
    case study::TrialState::kPruned: counts.pruned += n; break;
    case study::TrialState::kFailed: counts.failed += n; break;
  }
}

bool budget_allows(const TrialBudget& budget, const TrialCounts& counts) {
  if (budget.max_trials > 0 && counts.counted() + counts.running >= budget.max_trials) return false;
  return counts.cost < budget.max_cost;
}

void check_rename(const std::string& from, const std::string& to) {
  MD_CHECK(!from.empty(), "the study to rename needs a name (got an empty one)");
  MD_CHECK(!to.empty(), "cannot rename study '", text::escape_controls(from), "' to an empty name");
  check_new_study_name(to);
  MD_CHECK(from != to, "cannot rename study '", from, "' to itself; give a different new name");
}

std::string no_study_message(const std::string& name, const std::string& where, const std::vector<std::string>& stored) {
  if (stored.empty()) return concat("no study '", name, "' in ", where, " (it holds no studies)");
  constexpr size_t kShown = 10;
  std::string names;
  for (size_t i = 0; i < stored.size() && i < kShown; ++i) names += (i ? ", " : "") + stored[i];
  if (stored.size() > kShown) names += concat(" and ", stored.size() - kShown, " more");
  return concat("no study '", name, "' in ", where, " (it holds ", names, ")");
}

std::string rename_target_exists_message(const std::string& from, const std::string& to, const std::string& where) {
  return concat("cannot rename study '", from, "' to '", to, "': a study named '", to, "' already exists in ", where,
                "; choose another name or delete that study first");
}

std::string running_trials_message(const std::string& name, const std::vector<int64_t>& running_numbers) {
  constexpr size_t kShown = 10;
  std::string numbers;
  for (size_t i = 0; i < running_numbers.size() && i < kShown; ++i) {
    numbers += (i ? ", " : "") + std::to_string(running_numbers[i]);
  }
  if (running_numbers.size() > kShown) numbers += ", ...";
  return concat("refusing to delete study '", name, "': ", running_numbers.size(),
                running_numbers.size() == 1 ? " trial is" : " trials are", " still running (number",
                running_numbers.size() == 1 ? " " : "s ", numbers,
                "), so a worker may be using it; stop its workers, or force the delete if they are gone");
}

std::string describe_trial(int64_t number, const std::string& study_name) {
  return concat("trial ", number, " of study '", study_name, "'");
}

std::string already_finished_message(const std::string& trial, study::TrialState state) {
  return concat(trial, " is already ", study::to_string(state), "; a finished trial never changes");
}

std::string set_params_finished_message(const std::string& trial, study::TrialState state) {
  return concat("cannot set the params of ", trial, ": it is already ", study::to_string(state));
}

std::string params_already_set_message(const std::string& trial) {
  return concat("cannot set the params of ", trial, ": they are already set (params are set once)");
}

std::string report_finished_message(const std::string& trial, int64_t step, study::TrialState state) {
  return concat("cannot report step ", step, " for ", trial, ": it is already ", study::to_string(state));
}

std::string heartbeat_finished_message(const std::string& trial, study::TrialState state) {
  return concat("cannot refresh the heartbeat of ", trial, ": it is already ", study::to_string(state));
}

}  // namespace metadial::storage::detail
