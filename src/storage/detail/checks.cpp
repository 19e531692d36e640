#include "storage/detail/checks.h"

#include <cmath>
#include <variant>

#include "metadial/core/error.h"

namespace metadial::storage::detail {

using ::metadial::detail::concat;

void check_study_name(const std::string& name) {
  MD_CHECK(!name.empty(), "study name must not be empty");
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
