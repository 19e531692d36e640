// optimize(): the study loop as a small runner. J worker threads each repeat
//   may_start() -> run_one() -> record()
// under one mutex for the run's counters; the sampler is asked one trial at a time, in
// trial-number order. A Heartbeat (RAII) keeps this run's running trials alive for other
// workers while the loop runs; the progress callback is guarded, so that an exception it
// throws stops the run and reaches optimize()'s caller instead of escaping a thread.
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "metadial/core/error.h"
#include "metadial/study/study.h"

namespace metadial::study {

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

// Sends a heartbeat for every id that ids() returns, every `interval_s`, on its own thread,
// from construction until destruction (which stops and joins it).
class Heartbeat {
 public:
  Heartbeat(storage::Storage& storage, double interval_s, std::function<std::vector<int64_t>()> ids)
      : storage_(storage), interval_(interval_s), ids_(std::move(ids)), thread_([this] { loop(); }) {}
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;
  ~Heartbeat() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval_, [&] { return done_; })) {
      for (int64_t id : ids_()) {
        try {
          storage_.heartbeat(id);
        } catch (const std::exception&) {
          // Finished meanwhile.
        }
      }
    }
  }

  storage::Storage& storage_;
  std::chrono::duration<double> interval_;
  std::function<std::vector<int64_t>()> ids_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the members it reads are built
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
  Runner(Study& study, objective::Objective& objective, optim::Sampler& sampler, const OptimizeOptions& options)
      : study_(study),
        objective_(objective),
        sampler_(sampler),
        options_(options),
        t0_(Clock::now()),
        fidelities_(objective.fidelities()) {
    MD_CHECK(!fidelities_.empty(), "objective '", objective.name(), "' has no fidelity");
    target_ = static_cast<int>(fidelities_.size()) - 1;
  }

  OptimizeResult run() {
    OptimizeResult result;
    result.n_recovered = study_.fail_abandoned_trials(options_.heartbeat_timeout_s);
    count_stored_trials();
    {
      Heartbeat heartbeat(study_.storage(), options_.heartbeat_interval_s, [this] {
        std::lock_guard lock(mu_);
        return running_ids_;
      });
      std::vector<std::jthread> threads;
      for (int j = 1; j < options_.jobs; ++j) threads.emplace_back([this] { work(); });
      work();
    }  // threads joined, heartbeat stopped
    if (error_) std::rethrow_exception(error_);

    result.stop_reason = reason_;
    result.n_run = n_run_;
    result.last_failure = last_failure_;
    result.wall_seconds = seconds_since(t0_);
    for (const auto& t : study_.trials()) {
      result.total_cost += t.cost;
      if (t.state == TrialState::kComplete) ++result.n_complete;
      if (t.state == TrialState::kPruned) ++result.n_pruned;
      if (t.state == TrialState::kFailed) ++result.n_failed;
    }
    result.best = study_.best_trial(target_);
    return result;
  }

 private:
  // Budgets count the whole study: start from what is stored.
  void count_stored_trials() {
    for (const auto& t : study_.trials()) {
      total_cost_ += t.cost;
      if (t.state == TrialState::kComplete || t.state == TrialState::kPruned) ++n_counted_;
      if (t.is_complete() && t.fidelity == target_ && (!best_ || better(study_.direction(), *t.value, *best_))) {
        best_ = t.value;
      }
    }
  }

  // One worker thread: start trials while the budgets allow.
  void work() {
    while (reserve_slot()) {
      std::optional<Trial> trial;
      try {
        std::lock_guard slock(sampler_mu_);
        trial.emplace(study_.ask(sampler_, options_.seed, fidelities_, options_.max_cost - cost_so_far()));
      } catch (...) {
        abort_run(std::current_exception());
        return;
      }
      {
        std::lock_guard lock(mu_);
        running_ids_.push_back(trial->id());
      }
      const Outcome outcome = run_one(*trial);
      try {
        tell(*trial, outcome);
      } catch (...) {
        abort_run(std::current_exception());
        return;
      }
      record(*trial, outcome);
    }
  }

  // Waits until a trial may start (true, slot taken) or the run is over (false).
  bool reserve_slot() {
    std::unique_lock lock(mu_);
    while (!may_start()) {
      if (stop_) {
        cv_.notify_all();
        return false;
      }
      cv_.wait(lock);
    }
    ++n_running_;
    ++n_run_;
    return true;
  }

  // Under mu_: true if another trial may start now; false and stop_ set if the run is over;
  // false with stop_ unset if the trial budget is full but running trials may still fail (and
  // need replacing), in which case the caller waits.
  bool may_start() {
    if (stop_) return false;
    if (options_.n_trials > 0 && n_counted_ + n_running_ >= options_.n_trials) {
      if (n_running_ == 0) finish(n_run_ == 0 ? StopReason::kNothingToDo : StopReason::kTrials);
      return false;
    }
    if (total_cost_ >= options_.max_cost) {
      finish(StopReason::kCost);
      return false;
    }
    if (seconds_since(t0_) >= options_.max_wall_s) {
      finish(StopReason::kWallTime);
      return false;
    }
    return true;
  }

  void finish(StopReason reason) {
    stop_ = true;
    reason_ = reason;
  }

  double cost_so_far() {
    std::lock_guard lock(mu_);
    return total_cost_;
  }

  // Evaluates the objective; never throws (every failure becomes the outcome).
  Outcome run_one(Trial& trial) {
    const double nominal_cost = fidelities_[static_cast<size_t>(trial.fidelity())].cost;
    const auto deadline = std::isfinite(options_.trial_timeout_s)
                              ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(options_.trial_timeout_s))
                              : Clock::time_point::max();
    TrialReporter reporter(trial, deadline, options_.trial_timeout_s);
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
    } catch (const TrialPruned&) {
      o.state = TrialState::kPruned;
    } catch (const std::exception& e) {
      o.state = TrialState::kFailed;
      o.reason = e.what();
    } catch (...) {
      o.state = TrialState::kFailed;
      o.reason = "objective threw a non-standard exception";
    }
    if (!std::isfinite(o.cost) || o.cost < 0) o.cost = nominal_cost;
    return o;
  }

  void tell(Trial& trial, const Outcome& o) {
    switch (o.state) {
      case TrialState::kComplete: study_.tell(trial, o.value, o.cost); break;
      case TrialState::kPruned: study_.tell_pruned(trial, o.cost); break;
      default: study_.tell_failed(trial, o.reason, o.cost); break;
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

    std::lock_guard lock(mu_);
    --n_running_;
    std::erase(running_ids_, trial.id());
    total_cost_ += o.cost;
    if (o.state == TrialState::kFailed) {
      ++n_failed_run_;
      last_failure_ = detail::concat("trial ", done.number, ": ", o.reason);
      if (++consecutive_failures_ >= options_.max_consecutive_failures) finish(StopReason::kFailures);
    } else {
      ++n_counted_;
      consecutive_failures_ = 0;
      if (o.state == TrialState::kComplete && done.fidelity == target_ &&
          (!best_ || better(study_.direction(), o.value, *best_))) {
        best_ = o.value;
      }
    }
    if (options_.on_trial_finished) {
      Progress p;
      p.trial = &done;
      p.n_counted = n_counted_;
      p.n_failed_run = n_failed_run_;
      p.n_target = options_.n_trials;
      p.best_value = best_;
      p.total_cost = total_cost_;
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

  // Ends the run with an unexpected error (storage, sampler), rethrown by run().
  void abort_run(std::exception_ptr e) {
    std::lock_guard lock(mu_);
    --n_running_;
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
  int target_ = 0;

  std::mutex sampler_mu_;  // suggestions are made one at a time, in trial-number order
  std::mutex mu_;          // guards everything below
  std::condition_variable cv_;
  int64_t n_counted_ = 0;  // complete + pruned in the study
  int64_t n_running_ = 0;  // started by this run, not finished
  int64_t n_run_ = 0;
  int64_t n_failed_run_ = 0;
  int consecutive_failures_ = 0;
  double total_cost_ = 0.0;
  bool stop_ = false;
  StopReason reason_ = StopReason::kTrials;
  std::optional<double> best_;
  std::string last_failure_;
  std::exception_ptr error_;
  std::vector<int64_t> running_ids_;
};

}  // namespace

OptimizeResult optimize(Study& study, objective::Objective& objective, optim::Sampler& sampler,
                        const OptimizeOptions& options) {
  options.validate();
  return Runner(study, objective, sampler, options).run();
}

}  // namespace metadial::study
