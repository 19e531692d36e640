// optimize(): the study loop as a small runner. J worker threads each repeat
//   reserve (Study::ask_within: the storage checks the study-wide budget atomically with the
//   reservation) -> run_one() -> tell() -> record()
// under one mutex for the run's counters; the sampler is asked one trial at a time, in
// trial-number order. When the budget is full while trials still run (here or in another
// process), a worker waits and polls; every heartbeat interval some worker fails the trials
// whose worker died or went silent (and queues their retries, retry_failed), so that a dead
// worker's trials do not hold the budget. The study's heartbeat thread keeps this run's running
// trials alive for the other workers from ask to tell (study.h); the progress
// callback is guarded, so that an exception it throws stops the run and reaches optimize()'s
// caller instead of escaping a thread. An interrupt (interrupt::requested(), set by the CLI's
// signal handlers) stops the run: no trial starts, running ones fail at their next report. At
// every report before the objective's max_step the pruner (if any) may stop the trial: the
// reporter throws TrialPruned and the trial is stored as pruned, with the cost the objective
// attached to it (else its fidelity's).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "metadial/core/error.h"
#include "metadial/core/interrupt.h"
#include "metadial/study/study.h"

namespace metadial::study {

const char* to_string(StopReason r) {
  switch (r) {
    case StopReason::kTrials: return "trial budget reached";
    case StopReason::kCost: return "cost budget reached";
    case StopReason::kWallTime: return "wall-time budget reached";
    case StopReason::kFailures: return "too many failures in a row";
    case StopReason::kNothingToDo: return "the study already has the requested trials";
    case StopReason::kInterrupted: return "interrupted by a signal";
  }
  return "?";
}

void OptimizeOptions::validate() const {
  MD_CHECK(n_trials >= 0, "trials must be >= 0 (got ", n_trials, ")");
  MD_CHECK(jobs >= 1, "jobs must be >= 1 (got ", jobs, ")");
  MD_CHECK(max_cost > 0, "max_cost must be > 0 (got ", max_cost, ")");
  MD_CHECK(max_wall_s > 0, "max_wall_s must be > 0 (got ", max_wall_s, ")");
  MD_CHECK(trial_timeout_s > 0, "trial timeout must be > 0 seconds (got ", trial_timeout_s, ")");
  MD_CHECK(retry_failed >= 0, "retry_failed must be >= 0 (got ", retry_failed, ")");
  MD_CHECK(max_consecutive_failures >= 1, "max_consecutive_failures must be >= 1 (got ", max_consecutive_failures,
           ")");
  MD_CHECK(std::isfinite(heartbeat_interval_s) && heartbeat_interval_s > 0, "heartbeat interval must be > 0 seconds (got ",
           heartbeat_interval_s, ")");
  MD_CHECK(heartbeat_timeout_s > heartbeat_interval_s, "heartbeat timeout (", heartbeat_timeout_s,
           " s) must exceed the heartbeat interval (", heartbeat_interval_s, " s)");
  MD_CHECK(n_trials > 0 || std::isfinite(max_cost) || std::isfinite(max_wall_s),
           "optimize needs a budget: trials, max_cost or max_wall_s");
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// `seconds` from now; Clock::time_point::max() for an infinite or a too distant deadline (the
/// clock counts int64 nanoseconds: 1e10 s would overflow it).
Clock::time_point deadline_after(double seconds) {
  const auto now = Clock::now();
  const double room = std::chrono::duration<double>(Clock::time_point::max() - now).count();
  if (!std::isfinite(seconds) || seconds >= room / 2) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string interrupted_reason() {
  return detail::concat("interrupted by ", interrupt::signal_name(interrupt::requested()));
}

// What a TrialReporter asks before letting a trial go on: the study's pruner (nullptr: none),
// up to the objective's last step.
struct PruneCheck {
  Study* study = nullptr;
  const optim::Pruner* pruner = nullptr;
  optim::PrunerContext ctx;
};

// Reporter for one running trial: stores intermediate values, enforces the deadline, ends the
// trial on an interrupt, and asks the pruner.
class TrialReporter final : public objective::Reporter {
 public:
  TrialReporter(Trial& trial, Clock::time_point deadline, double timeout_s, const PruneCheck& prune)
      : trial_(trial), deadline_(deadline), timeout_s_(timeout_s), prune_(prune) {}
  void report(int64_t step, double value) override {
    trial_.report(step, value);
    if (interrupt::requested() != 0) throw Error(interrupted_reason());
    if (Clock::now() > deadline_) {
      throw Error(detail::concat("timed out after ", timeout_s_, " s (at step ", step, ")"));
    }
    if (prune_.pruner != nullptr && (!prune_.ctx.max_step || step < *prune_.ctx.max_step) &&
        prune_.study->should_prune(*prune_.pruner, prune_.ctx, trial_)) {
      throw TrialPruned(detail::concat("pruned by '", prune_.pruner->name(), "' at step ", step));
    }
  }
  double seconds_left() const override {
    if (deadline_ == Clock::time_point::max()) return std::numeric_limits<double>::infinity();
    return std::chrono::duration<double>(deadline_ - Clock::now()).count();
  }
  int64_t trial_number() const override { return trial_.number(); }
  int64_t trial_id() const override { return trial_.id(); }

 private:
  Trial& trial_;
  Clock::time_point deadline_;
  double timeout_s_;
  const PruneCheck& prune_;
};

// The outcome of evaluating one trial.
struct Outcome {
  TrialState state = TrialState::kComplete;
  double value = 0.0;
  double cost = 0.0;
  std::string reason;  // why it failed
};

class Runner {
 public:
  Runner(Study& study, objective::Objective& objective, optim::Sampler& sampler, const optim::Pruner& pruner,
         const OptimizeOptions& options)
      : study_(study),
        objective_(objective),
        sampler_(sampler),
        options_(options),
        t0_(Clock::now()),
        fidelities_(objective.fidelities()),
        prune_{&study, pruner.prunes() ? &pruner : nullptr, pruner_context(study.direction(), objective)} {
    MD_CHECK(!fidelities_.empty(), "objective '", objective.name(), "' has no fidelity");
    target_ = static_cast<int>(fidelities_.size()) - 1;
    budget_.max_trials = options.n_trials;
    budget_.max_cost = options.max_cost;
    // Waiting workers poll this often: a freed slot of another process is seen within it.
    poll_ = std::chrono::duration<double>(std::min(options.heartbeat_interval_s, 1.0));
  }

  OptimizeResult run() {
    study_.set_heartbeat_interval(options_.heartbeat_interval_s);
    recover_abandoned();
    if (auto best = study_.best_trial(target_)) best_ = best->value;
    {
      std::vector<std::jthread> threads;
      try {
        for (int j = 1; j < options_.jobs; ++j) threads.emplace_back([this] { work(); });
      } catch (const std::system_error& e) {
        // The threads already started see stop_ and end; the vector's destructor joins them.
        const Error error(detail::concat("cannot start ", options_.jobs, " worker threads (", threads.size() + 1,
                                         " started: ", e.what(), "); use fewer jobs"));
        abort_run(std::make_exception_ptr(error));
      }
      work();
    }  // threads joined
    if (error_) std::rethrow_exception(error_);

    OptimizeResult result;
    result.stop_reason = reason_;
    result.n_run = n_run_;
    result.n_recovered = n_recovered_;
    result.n_refused = n_refused_;
    result.last_failure = last_failure_;
    result.wall_seconds = seconds_since(t0_);
    const storage::TrialCounts c = study_.storage().count_trials(study_.id());
    result.total_cost = c.cost;
    result.n_complete = c.complete;
    result.n_pruned = c.pruned;
    result.n_failed = c.failed;
    result.best = study_.best_trial(target_);
    return result;
  }

 private:
  // One worker thread: start trials while the study's budgets allow.
  void work() {
    while (true) {
      if (!may_continue()) return;
      storage::TrialCounts counts;
      std::optional<Trial> trial;
      try {
        maybe_recover_abandoned();
        std::lock_guard slock(sampler_mu_);
        trial = study_.ask_within(budget_, sampler_, options_.seed, fidelities_, &counts);
      } catch (...) {
        abort_run(std::current_exception());
        return;
      }
      if (!trial) {
        if (!wait_for_room(counts)) return;
        continue;
      }
      {
        std::lock_guard lock(mu_);
        ++n_run_;
      }
      Outcome outcome = run_one(*trial);
      try {
        tell(*trial, outcome);
      } catch (...) {
        abort_run(std::current_exception());
        return;
      }
      record(*trial, outcome);
    }
  }

  // False (the run is over) on a stop, an interrupt or the wall-time budget.
  bool may_continue() {
    std::lock_guard lock(mu_);
    if (stop_) return false;
    if (interrupt::requested() != 0) {
      finish(StopReason::kInterrupted);
      return false;
    }
    if (seconds_since(t0_) >= options_.max_wall_s) {
      finish(StopReason::kWallTime);
      return false;
    }
    return true;
  }

  // The budget refused a reservation with the study at `c`. Finishes the run if the budget is
  // reached for good (false); otherwise trials still running here or elsewhere may fail and need
  // replacing: waits until one of ours finishes or a poll interval passes (true: try again).
  bool wait_for_room(const storage::TrialCounts& c) {
    std::unique_lock lock(mu_);
    if (stop_) return false;
    if (c.cost >= options_.max_cost) {
      finish(StopReason::kCost);
      return false;
    }
    if (options_.n_trials > 0 && c.counted() >= options_.n_trials) {
      finish(n_run_ == 0 ? StopReason::kNothingToDo : StopReason::kTrials);
      return false;
    }
    cv_.wait_for(lock, poll_);
    return !stop_;
  }

  // Fails the running trials of dead or silent workers (Study::fail_abandoned_trials).
  void recover_abandoned() {
    const int n = study_.fail_abandoned_trials(options_.heartbeat_timeout_s, options_.retry_failed);
    std::lock_guard lock(mu_);
    n_recovered_ += n;
    last_recovery_ = Clock::now();
  }

  // recover_abandoned(), at most once per heartbeat interval for the whole run.
  void maybe_recover_abandoned() {
    {
      std::lock_guard lock(mu_);
      if (seconds_since(last_recovery_) < options_.heartbeat_interval_s) return;
      last_recovery_ = Clock::now();
    }
    recover_abandoned();
  }

  // Under mu_: ends the run; the first reason stays.
  void finish(StopReason reason) {
    if (stop_) return;
    stop_ = true;
    reason_ = reason;
    cv_.notify_all();
  }

  // Evaluates the objective; never throws (every failure becomes the outcome).
  Outcome run_one(Trial& trial) {
    const double nominal_cost = fidelities_[static_cast<size_t>(trial.fidelity())].cost;
    const auto deadline = deadline_after(options_.trial_timeout_s);
    TrialReporter reporter(trial, deadline, options_.trial_timeout_s, prune_);
    Outcome o;
    o.cost = nominal_cost;
    const auto started = Clock::now();
    try {
      const objective::Evaluation ev = objective_.evaluate(trial.params(), trial.fidelity(), reporter);
      o.value = ev.value;
      o.cost = ev.cost;
      if (!std::isfinite(o.value)) {
        o.state = TrialState::kFailed;
        o.reason = detail::concat("objective returned ", o.value);
      } else if (Clock::now() > deadline) {
        o.state = TrialState::kFailed;
        o.reason = detail::concat("timed out after ", options_.trial_timeout_s, " s (took ", seconds_since(started),
                                  " s)");
      }
    } catch (const TrialPruned& e) {
      o.state = TrialState::kPruned;
      if (e.cost()) o.cost = *e.cost();
    } catch (const std::exception& e) {
      o.state = TrialState::kFailed;
      o.reason = e.what();
    } catch (...) {
      o.state = TrialState::kFailed;
      o.reason = "objective threw a non-standard exception";
    }
    if (!std::isfinite(o.cost) || o.cost < 0) o.cost = nominal_cost;
    if (o.state == TrialState::kFailed && interrupt::requested() != 0) {
      // Stopped by this process's interrupt, not failed by the objective: the run ends and a
      // resumed run evaluates the study on, so the trial charges nothing against max_cost (as a dead
      // worker's trial, failed by the heartbeat check, charges nothing).
      o.cost = 0.0;
    }
    return o;
  }

  // Stores the outcome. If another worker failed the trial meanwhile (it took this one for dead:
  // heartbeats late by more than the timeout), the result is refused: the stored record wins and
  // becomes the outcome, and on_warning says what was refused.
  void tell(Trial& trial, Outcome& o) {
    try {
      switch (o.state) {
        case TrialState::kComplete: study_.tell(trial, o.value, o.cost); break;
        case TrialState::kPruned: study_.tell_pruned(trial, o.cost); break;
        default: study_.tell_failed(trial, o.reason, o.cost); break;
      }
    } catch (const StorageError&) {
      const FrozenTrial stored = study_.storage().trial(trial.id());
      if (!stored.is_finished()) throw;
      std::lock_guard lock(mu_);
      ++n_refused_;
      if (options_.on_warning) {
        const std::string result = o.state == TrialState::kComplete ? detail::concat("value ", o.value)
                                                                     : std::string(to_string(o.state));
        try {
          options_.on_warning(detail::concat("trial ", trial.number(), ": result (", result,
                                             ") refused: another worker had already marked the trial ",
                                             to_string(stored.state), " (", stored.fail_reason,
                                             "); the stored record is kept"));
        } catch (...) {
          // A message only.
        }
      }
      o.state = stored.state;
      o.value = stored.value.value_or(0.0);
      o.cost = stored.cost;
      o.reason = stored.fail_reason;
    }
  }

  // Counts a stored outcome and reports progress.
  void record(const Trial& trial, const Outcome& o) {
    FrozenTrial done = trial.record();
    done.state = o.state;
    done.cost = o.cost;
    done.finished_at = now_unix_seconds();
    if (o.state == TrialState::kComplete) done.value = o.value;
    done.fail_reason = o.reason;
    std::optional<storage::TrialCounts> counts;
    if (options_.on_trial_finished) {
      try {
        counts = study_.storage().count_trials(study_.id());
      } catch (...) {
        // Progress only: the outcome is stored.
      }
    }

    std::lock_guard lock(mu_);
    if (o.state == TrialState::kFailed) {
      ++n_failed_run_;
      last_failure_ = detail::concat("trial ", done.number, ": ", o.reason);
      if (++consecutive_failures_ >= options_.max_consecutive_failures) finish(StopReason::kFailures);
    } else {
      consecutive_failures_ = 0;
      if (o.state == TrialState::kComplete && done.fidelity == target_ &&
          (!best_ || better(study_.direction(), o.value, *best_))) {
        best_ = o.value;
      }
    }
    if (options_.on_trial_finished && counts) {
      Progress p;
      p.trial = &done;
      p.n_counted = counts->counted();
      p.n_failed_run = n_failed_run_;
      p.n_target = options_.n_trials;
      p.best_value = best_;
      p.total_cost = counts->cost;
      p.elapsed_s = seconds_since(t0_);
      try {
        options_.on_trial_finished(p);
      } catch (...) {
        // The trial is stored; the callback's error ends the run and reaches the caller.
        if (!error_) error_ = std::current_exception();
        stop_ = true;
      }
    }
    cv_.notify_all();
  }

  // Ends the run with an unexpected error (storage, sampler, threads), rethrown by run().
  void abort_run(std::exception_ptr e) {
    std::lock_guard lock(mu_);
    if (!error_) error_ = std::move(e);
    stop_ = true;
    cv_.notify_all();
  }

  Study& study_;
  objective::Objective& objective_;
  optim::Sampler& sampler_;
  const OptimizeOptions& options_;
  const Clock::time_point t0_;
  const std::vector<objective::Fidelity> fidelities_;
  const PruneCheck prune_;
  int target_ = 0;
  storage::TrialBudget budget_;
  std::chrono::duration<double> poll_;

  std::mutex sampler_mu_;  // suggestions are made one at a time, in trial-number order
  std::mutex mu_;          // guards everything below
  std::condition_variable cv_;
  int64_t n_run_ = 0;
  int64_t n_failed_run_ = 0;
  int64_t n_recovered_ = 0;
  int64_t n_refused_ = 0;
  int consecutive_failures_ = 0;
  bool stop_ = false;
  StopReason reason_ = StopReason::kTrials;
  std::optional<double> best_;
  std::string last_failure_;
  std::exception_ptr error_;
  Clock::time_point last_recovery_;
};

}  // namespace

optim::PrunerContext pruner_context(Direction direction, const objective::Objective& objective) {
  optim::PrunerContext ctx;
  ctx.direction = direction;
  ctx.max_step = objective.max_step();
  return ctx;
}

OptimizeResult optimize(Study& study, objective::Objective& objective, optim::Sampler& sampler,
                        const optim::Pruner& pruner, const OptimizeOptions& options) {
  options.validate();
  pruner.validate(pruner_context(study.direction(), objective));
  return Runner(study, objective, sampler, pruner, options).run();
}

OptimizeResult optimize(Study& study, objective::Objective& objective, optim::Sampler& sampler,
                        const OptimizeOptions& options) {
  const optim::NopPruner none;
  return optimize(study, objective, sampler, none, options);
}

}  // namespace metadial::study
