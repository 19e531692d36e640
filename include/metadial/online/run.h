// One training run of a target under some hyperparameter control (the controller, a fixed tuple,
// a schedule, a PBT population): its options, the schedule it followed and what it reached.
// Compute is counted in training steps, over every network trained (a PBT population of 8 for
// L steps costs 8 L; a random search of 10 full trainings costs 10 L).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "metadial/online/target.h"

namespace metadial::online {

/// How long a run trains and how often its hyperparameters may change.
struct RunOptions {
  int64_t total_steps = 2000;  ///< training length L of one network
  int64_t interval = 50;       ///< K: steps between two hyperparameter decisions
  uint64_t seed = 0;           ///< the target's seed (weights, data order)

  /// Throws InvalidArgument when total_steps < 1, interval < 1, or interval > total_steps.
  void validate() const;
  /// Number of decisions: ceil(total_steps / interval).
  int64_t decisions() const { return (total_steps + interval - 1) / interval; }
};

/// One interval of a run: the tuple used from `step` on and the validation score after it.
struct ScheduleEntry {
  int64_t step = 0;          ///< training step at which the tuple took effect
  Tuple tuple;               ///< hyperparameters used for the interval
  double validation = 0.0;   ///< validation score at the end of the interval
  double reward = 0.0;       ///< change of validation score over the interval
};

/// What a run reached and what it cost.
struct RunResult {
  std::string method;                  ///< "controller", "fixed", "cosine", "pbt", ...
  double validation = 0.0;             ///< final validation score
  double test = 0.0;                   ///< final test score
  int64_t steps = 0;                   ///< training steps spent, every network counted
  double wall_s = 0.0;                 ///< wall time, seconds
  std::vector<ScheduleEntry> schedule; ///< the hyperparameters followed (the best member's, for PBT)
};

/// Writes the schedule as CSV: step,<one column per hyperparameter>,validation,reward.
void write_schedule_csv(const RunResult& r, std::ostream& out);

}  // namespace metadial::online
