#include "metadial/study/trial.h"

#include <chrono>

#include "metadial/core/error.h"

namespace metadial::study {

const char* to_string(TrialState s) {
  switch (s) {
    case TrialState::kRunning: return "running";
    case TrialState::kComplete: return "complete";
    case TrialState::kPruned: return "pruned";
    case TrialState::kFailed: return "failed";
  }
  return "?";
}

TrialState trial_state_from_string(const std::string& s) {
  if (s == "running") return TrialState::kRunning;
  if (s == "complete") return TrialState::kComplete;
  if (s == "pruned") return TrialState::kPruned;
  if (s == "failed") return TrialState::kFailed;
  throw InvalidArgument("unknown trial state '" + s + "' (expected running, complete, pruned or failed)");
}

const char* to_string(Direction d) { return d == Direction::kMinimize ? "minimize" : "maximize"; }

Direction direction_from_string(const std::string& s) {
  if (s == "minimize") return Direction::kMinimize;
  if (s == "maximize") return Direction::kMaximize;
  throw InvalidArgument("unknown direction '" + s + "' (expected minimize or maximize)");
}

double now_unix_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace metadial::study
