// Trial records: what a storage keeps and a sampler reads. The lowest piece of study/:
// storage/, objective/ and optim/ include this header and nothing else from study/.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "metadial/space/search_space.h"

namespace metadial::study {

enum class TrialState { kRunning, kComplete, kPruned, kFailed };

/// "running" / "complete" / "pruned" / "failed".
const char* to_string(TrialState s);
/// Inverse of to_string; throws InvalidArgument on anything else.
TrialState trial_state_from_string(const std::string& s);

enum class Direction { kMinimize, kMaximize };
const char* to_string(Direction d);
Direction direction_from_string(const std::string& s);
/// True if value a is better than b in direction d (strictly).
inline bool better(Direction d, double a, double b) { return d == Direction::kMinimize ? a < b : a > b; }

/// A read-only snapshot of one trial.
struct FrozenTrial {
  int64_t id = -1;       ///< storage-wide identifier
  int64_t number = -1;   ///< 0, 1, 2 ... within its study, in order of creation
  TrialState state = TrialState::kRunning;
  space::Config params;  ///< empty while the sampler has not yet proposed it
  int fidelity = 0;      ///< index into the objective's fidelities, 0 = cheapest
  std::optional<double> value;               ///< final objective value (complete trials)
  std::map<int64_t, double> intermediate;    ///< step -> value reported while running
  double cost = 0.0;                         ///< cost charged to the study's budget
  std::string fail_reason;                   ///< why a failed trial failed
  std::string worker;                        ///< "host:pid" of the process that ran it
  double started_at = 0.0;                   ///< unix seconds
  double finished_at = 0.0;                  ///< unix seconds, 0 while running
  double heartbeat_at = 0.0;                 ///< last sign of life, unix seconds
  /// The number of the trial this one re-runs with the same params (retry_failed: the first trial
  /// of the chain, whose worker went silent), -1 for a trial of its own.
  int64_t retry_of = -1;

  bool is_finished() const { return state != TrialState::kRunning; }
  bool is_complete() const { return state == TrialState::kComplete && value.has_value(); }
  double duration() const { return finished_at > 0 ? finished_at - started_at : 0.0; }
};

/// Seconds since the unix epoch, as a double.
double now_unix_seconds();

}  // namespace metadial::study
