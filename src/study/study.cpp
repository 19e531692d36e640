#include "metadial/study/study.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "metadial/core/error.h"
#include "metadial/core/random.h"

namespace metadial::study {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// True if `worker` ("host:pid") names a process of this host that no longer exists.
bool local_worker_is_gone(const std::string& worker) {
  const auto colon = worker.rfind(':');
  if (colon == std::string::npos || worker.substr(0, colon) != host_name()) return false;
  char* end = nullptr;
  const long pid = std::strtol(worker.c_str() + colon + 1, &end, 10);
  if (pid <= 0 || *end != '\0') return false;
  if (pid == static_cast<long>(getpid())) return false;
  return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

bool is_better(Direction d, double a, double b) { return d == Direction::kMinimize ? a < b : a > b; }

}  // namespace

std::string this_worker() { return host_name() + ":" + std::to_string(getpid()); }

void Trial::report(int64_t step, double value) {
  MD_CHECK(std::isfinite(value), "trial ", record_.number, ": intermediate value at step ", step,
           " is not finite (", value, ")");
  storage_->report_intermediate(record_.id, step, value);
  record_.intermediate[step] = value;
}

Study Study::create_or_load(storage::Storage& storage, const std::string& name, const space::SearchSpace& space,
                            Direction direction, const nlohmann::json& attrs) {
  MD_CHECK(!name.empty(), "a study name must not be empty");
  MD_CHECK(!space.empty(), "study '", name, "': the search space has no parameters");
  auto record = storage.create_or_load_study(name, direction, space.to_json(), attrs);
  MD_CHECK(record.direction == direction, "study '", name, "' already exists with direction ",
           to_string(record.direction), ", not ", to_string(direction), "; use another study name");
  auto stored = space::SearchSpace::from_json(record.space);
  MD_CHECK(stored == space, "study '", name, "' already exists with another search space (stored: ",
           record.space.dump(), "); use another study name or the same space");
  return Study(&storage, std::move(record), std::move(stored));
}

Study Study::load(storage::Storage& storage, const std::string& name) {
  auto record = storage.find_study(name);
  if (!record) {
    std::string known;
    for (const auto& s : storage.list_studies()) known += (known.empty() ? "" : ", ") + s.name;
    throw InvalidArgument(detail::concat("no study named '", name, "' in this storage (",
                                         known.empty() ? "it holds none" : "it holds: " + known, ")"));
  }
  auto space = space::SearchSpace::from_json(record->space);
  return Study(&storage, std::move(*record), std::move(space));
}

std::vector<FrozenTrial> Study::trials() const { return storage_->trials(record_.id); }

std::optional<FrozenTrial> Study::best_trial(int fidelity) const {
  std::optional<FrozenTrial> best;
  for (auto& t : trials()) {
    if (!t.is_complete() || (fidelity >= 0 && t.fidelity != fidelity)) continue;
    if (!best || is_better(record_.direction, *t.value, *best->value)) best = std::move(t);
  }
  return best;
}

Trial Study::ask(optim::Sampler& sampler, uint64_t seed, const std::vector<objective::Fidelity>& fidelities,
                 double budget_left) {
  MD_CHECK(!fidelities.empty(), "an objective needs at least one fidelity");
  FrozenTrial record = storage_->create_trial(record_.id, this_worker());
  std::vector<FrozenTrial> history;
  for (auto& t : storage_->trials(record_.id)) {
    if (t.number < record.number) history.push_back(std::move(t));
  }
  optim::SamplerContext ctx;
  ctx.space = &space_;
  ctx.direction = record_.direction;
  ctx.fidelities = fidelities;
  ctx.trial_number = record.number;
  ctx.seed = derive_seed(seed, {static_cast<uint64_t>(record.number)});
  ctx.study_seed = seed;
  ctx.budget_left = budget_left;
  optim::Suggestion s;
  try {
    s = sampler.suggest(ctx, history);
    if (s.fidelity < 0) s.fidelity = ctx.target_fidelity();
    MD_CHECK(s.fidelity < static_cast<int>(fidelities.size()), "sampler '", sampler.name(), "' chose fidelity ",
             s.fidelity, " but the objective has ", fidelities.size());
    space_.encode(s.config);  // validates the proposal against the space
    storage_->set_trial_params(record.id, s.config, s.fidelity);
  } catch (const std::exception& e) {
    storage_->finish_trial(record.id, TrialState::kFailed, std::nullopt, 0.0,
                           std::string("sampler '") + sampler.name() + "' failed: " + e.what());
    throw;
  }
  record.params = std::move(s.config);
  record.fidelity = s.fidelity;
  return Trial(storage_, std::move(record));
}

void Study::tell(Trial& trial, double value, double cost) {
  if (!std::isfinite(value)) {
    tell_failed(trial, detail::concat("objective returned ", value), cost);
    return;
  }
  storage_->finish_trial(trial.id(), TrialState::kComplete, value, cost, "");
}

void Study::tell_pruned(Trial& trial, double cost) {
  std::optional<double> last;
  if (!trial.record().intermediate.empty()) last = trial.record().intermediate.rbegin()->second;
  storage_->finish_trial(trial.id(), TrialState::kPruned, last, cost, "");
}

void Study::tell_failed(Trial& trial, const std::string& reason, double cost) {
  storage_->finish_trial(trial.id(), TrialState::kFailed, std::nullopt, cost, reason);
}

int Study::fail_abandoned_trials(double heartbeat_timeout_s) {
  int n = 0;
  const double now = now_unix_seconds();
  for (const auto& t : trials()) {
    if (t.state != TrialState::kRunning) continue;
    std::string reason;
    if (local_worker_is_gone(t.worker)) {
      reason = "worker " + t.worker + " died while running this trial";
    } else if (t.worker != this_worker() && now - std::max(t.heartbeat_at, t.started_at) > heartbeat_timeout_s) {
      reason = detail::concat("worker ", t.worker, " stopped sending heartbeats (silent for ",
                              static_cast<int64_t>(now - std::max(t.heartbeat_at, t.started_at)), " s)");
    }
    if (reason.empty()) continue;
    try {
      storage_->finish_trial(t.id, TrialState::kFailed, std::nullopt, 0.0, reason);
      ++n;
    } catch (const StorageError&) {
      // Another process finished or failed it meanwhile: nothing to do.
    }
  }
  return n;
}

const char* to_string(StopReason r) {
  switch (r) {
    case StopReason::kTrials: return "trial budget reached";
    case StopReason::kCost: return "cost budget reached";
    case StopReason::kWallTime: return "wall-time budget reached";
    case StopReason::kFailures: return "too many failures in a row";
    case StopReason::kNothingToDo: return "the study already has the requested trials";
  }
  return "?";
}

void OptimizeOptions::validate() const {
  MD_CHECK(n_trials >= 0, "trials must be >= 0 (got ", n_trials, ")");
  MD_CHECK(jobs >= 1, "jobs must be >= 1 (got ", jobs, ")");
  MD_CHECK(max_cost > 0, "max_cost must be > 0 (got ", max_cost, ")");
  MD_CHECK(max_wall_s > 0, "max_wall_s must be > 0 (got ", max_wall_s, ")");
  MD_CHECK(trial_timeout_s > 0, "trial timeout must be > 0 seconds (got ", trial_timeout_s, ")");
  MD_CHECK(max_consecutive_failures >= 1, "max_consecutive_failures must be >= 1 (got ", max_consecutive_failures,
           ")");
  MD_CHECK(heartbeat_interval_s > 0 && heartbeat_timeout_s > heartbeat_interval_s,
           "heartbeat_timeout_s must exceed heartbeat_interval_s > 0");
  MD_CHECK(n_trials > 0 || std::isfinite(max_cost) || std::isfinite(max_wall_s),
           "optimize needs a budget: trials, max_cost or max_wall_s");
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Reporter for one running trial: stores intermediate values and enforces the deadline.
class TrialReporter final : public objective::Reporter {
 public:
  TrialReporter(Trial& trial, Clock::time_point deadline, double timeout_s)
      : trial_(trial), deadline_(deadline), timeout_s_(timeout_s) {}
  void report(int64_t step, double value) override {
    trial_.report(step, value);
    if (Clock::now() > deadline_) {
      throw Error(detail::concat("timed out after ", timeout_s_, " s (at step ", step, ")"));
    }
  }
  double seconds_left() const override {
    if (!std::isfinite(timeout_s_)) return std::numeric_limits<double>::infinity();
    return std::chrono::duration<double>(deadline_ - Clock::now()).count();
  }
  int64_t trial_number() const override { return trial_.number(); }
  int64_t trial_id() const override { return trial_.id(); }

 private:
  Trial& trial_;
  Clock::time_point deadline_;
  double timeout_s_;
};

// Shared state of one optimize() run.
struct Run {
  std::mutex mu;
  std::condition_variable cv;
  int64_t n_counted = 0;  // complete + pruned in the study
  int64_t n_running = 0;  // started by this run, not finished
  int64_t n_run = 0;
  int64_t n_failed_run = 0;
  int consecutive_failures = 0;
  double total_cost = 0.0;
  bool stop = false;
  StopReason reason = StopReason::kTrials;
  std::optional<double> best;
  std::string last_failure;
  std::exception_ptr error;  // an unexpected error (storage, sampler) to rethrow
  std::vector<int64_t> running_ids;
};

}  // namespace

OptimizeResult optimize(Study& study, objective::Objective& objective, optim::Sampler& sampler,
                        const OptimizeOptions& options) {
  options.validate();
  const auto t0 = Clock::now();
  const auto fidelities = objective.fidelities();
  MD_CHECK(!fidelities.empty(), "objective '", objective.name(), "' has no fidelity");
  const int target = static_cast<int>(fidelities.size()) - 1;

  OptimizeResult result;
  result.n_recovered = study.fail_abandoned_trials(options.heartbeat_timeout_s);

  Run run;
  for (const auto& t : study.trials()) {
    run.total_cost += t.cost;
    if (t.state == TrialState::kComplete || t.state == TrialState::kPruned) ++run.n_counted;
    if (t.is_complete() && t.fidelity == target && (!run.best || is_better(study.direction(), *t.value, *run.best))) {
      run.best = t.value;
    }
  }
  std::mutex sampler_mu;  // suggestions are made one at a time, in trial-number order

  // Under run.mu: true if another trial may start now; false and run.stop set if the run is
  // over; false with run.stop unset if the trial budget is full but running trials may still
  // fail (and need replacing), in which case the caller waits.
  auto may_start = [&]() -> bool {
    if (run.stop) return false;
    if (options.n_trials > 0 && run.n_counted + run.n_running >= options.n_trials) {
      if (run.n_running == 0) {
        run.stop = true;
        run.reason = run.n_run == 0 ? StopReason::kNothingToDo : StopReason::kTrials;
      }
      return false;
    }
    if (run.total_cost >= options.max_cost) {
      run.stop = true;
      run.reason = StopReason::kCost;
      return false;
    }
    if (seconds_since(t0) >= options.max_wall_s) {
      run.stop = true;
      run.reason = StopReason::kWallTime;
      return false;
    }
    return true;
  };

  auto worker = [&]() {
    for (;;) {
      {
        std::unique_lock lock(run.mu);
        while (!may_start()) {
          if (run.stop) {
            run.cv.notify_all();
            return;
          }
          run.cv.wait(lock);
        }
        ++run.n_running;
        ++run.n_run;
      }
      std::optional<Trial> trial;
      try {
        std::lock_guard slock(sampler_mu);
        trial.emplace(study.ask(sampler, options.seed, fidelities, options.max_cost - run.total_cost));
      } catch (...) {
        std::lock_guard lock(run.mu);
        --run.n_running;
        if (!run.error) run.error = std::current_exception();
        run.stop = true;
        run.cv.notify_all();
        return;
      }
      {
        std::lock_guard lock(run.mu);
        run.running_ids.push_back(trial->id());
      }
      const double nominal_cost = fidelities[static_cast<size_t>(trial->fidelity())].cost;
      const auto deadline = std::isfinite(options.trial_timeout_s)
                                ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(options.trial_timeout_s))
                                : Clock::time_point::max();
      TrialReporter reporter(*trial, deadline, options.trial_timeout_s);
      TrialState state = TrialState::kComplete;
      double value = 0.0, cost = nominal_cost;
      std::string reason;
      const auto started = Clock::now();
      try {
        const objective::Evaluation ev = objective.evaluate(trial->params(), trial->fidelity(), reporter);
        value = ev.value;
        cost = ev.cost;
        if (!std::isfinite(value)) {
          state = TrialState::kFailed;
          reason = detail::concat("objective returned ", value);
        } else if (Clock::now() > deadline) {
          state = TrialState::kFailed;
          reason = detail::concat("timed out after ", options.trial_timeout_s, " s (took ", seconds_since(started),
                                  " s)");
        }
      } catch (const TrialPruned&) {
        state = TrialState::kPruned;
      } catch (const std::exception& e) {
        state = TrialState::kFailed;
        reason = e.what();
      } catch (...) {
        state = TrialState::kFailed;
        reason = "objective threw a non-standard exception";
      }
      if (!std::isfinite(cost) || cost < 0) cost = nominal_cost;
      try {
        if (state == TrialState::kComplete) {
          study.tell(*trial, value, cost);
        } else if (state == TrialState::kPruned) {
          study.tell_pruned(*trial, cost);
        } else {
          study.tell_failed(*trial, reason, cost);
        }
      } catch (...) {
        std::lock_guard lock(run.mu);
        --run.n_running;
        if (!run.error) run.error = std::current_exception();
        run.stop = true;
        run.cv.notify_all();
        return;
      }
      FrozenTrial done = trial->record();
      done.state = state;
      done.cost = cost;
      done.finished_at = now_unix_seconds();
      if (state == TrialState::kComplete) done.value = value;
      done.fail_reason = reason;
      {
        std::lock_guard lock(run.mu);
        --run.n_running;
        std::erase(run.running_ids, trial->id());
        run.total_cost += cost;
        if (state == TrialState::kFailed) {
          ++run.n_failed_run;
          run.last_failure = detail::concat("trial ", done.number, ": ", reason);
          if (++run.consecutive_failures >= options.max_consecutive_failures) {
            run.stop = true;
            run.reason = StopReason::kFailures;
          }
        } else {
          ++run.n_counted;
          run.consecutive_failures = 0;
          if (state == TrialState::kComplete && done.fidelity == target &&
              (!run.best || is_better(study.direction(), value, *run.best))) {
            run.best = value;
          }
        }
        if (options.on_trial_finished) {
          Progress p;
          p.trial = &done;
          p.n_counted = run.n_counted;
          p.n_failed_run = run.n_failed_run;
          p.n_target = options.n_trials;
          p.best_value = run.best;
          p.total_cost = run.total_cost;
          p.elapsed_s = seconds_since(t0);
          options.on_trial_finished(p);
        }
        run.cv.notify_all();
      }
    }
  };

  // Heartbeats for this run's running trials, so that other workers can tell we are alive.
  std::atomic<bool> done{false};
  std::mutex hb_mu;
  std::condition_variable hb_cv;
  std::thread heartbeat([&] {
    std::unique_lock lock(hb_mu);
    while (!hb_cv.wait_for(lock, std::chrono::duration<double>(options.heartbeat_interval_s),
                           [&] { return done.load(); })) {
      std::vector<int64_t> ids;
      {
        std::lock_guard rl(run.mu);
        ids = run.running_ids;
      }
      for (int64_t id : ids) {
        try {
          study.storage().heartbeat(id);
        } catch (const std::exception&) {
          // Finished meanwhile.
        }
      }
    }
  });

  std::vector<std::thread> threads;
  for (int j = 1; j < options.jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  {
    std::lock_guard lock(hb_mu);
    done = true;
  }
  hb_cv.notify_all();
  heartbeat.join();
  if (run.error) std::rethrow_exception(run.error);

  result.stop_reason = run.reason;
  result.n_run = run.n_run;
  result.last_failure = run.last_failure;
  result.wall_seconds = seconds_since(t0);
  for (const auto& t : study.trials()) {
    result.total_cost += t.cost;
    if (t.state == TrialState::kComplete) ++result.n_complete;
    if (t.state == TrialState::kPruned) ++result.n_pruned;
    if (t.state == TrialState::kFailed) ++result.n_failed;
  }
  result.best = study.best_trial(target);
  return result;
}

}  // namespace metadial::study
