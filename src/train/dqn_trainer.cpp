#include "metadial/train/dqn_trainer.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "metadial/core/error.h"

namespace metadial::train {

void DqnTrainOptions::validate() const {
  MD_CHECK(dialogues >= 1, "training: dialogues = ", dialogues, " must be >= 1");
  MD_CHECK(window >= 1, "training: window = ", window, " must be >= 1");
  MD_CHECK(eval_every >= 0, "training: eval_every = ", eval_every, " must be >= 0 (0 = no periodic evaluation)");
  MD_CHECK(eval_every == 0 || eval_dialogues >= 1, "training: eval_dialogues = ", eval_dialogues, " must be >= 1");
}

uint64_t test_seed(uint64_t seed) { return derive_seed(seed, {kTestStream}); }

DqnTraining::DqnTraining(dialog::DialogueEnv& env, agents::dqn::DqnPolicy& policy, const DqnTrainOptions& options)
    : env_(&env), policy_(&policy), options_(options) {
  options_.validate();
  MD_CHECK(env.observation_size() == policy.observation_size() && env.num_actions() == policy.num_actions(),
           "training: the policy (", policy.observation_size(), " inputs, ", policy.num_actions(),
           " actions) does not fit environment ", env.options().name, " (", env.observation_size(), ", ",
           env.num_actions(), ")");
}

bool DqnTraining::train_until(int until, const std::function<void(const CurvePoint&)>& on_point,
                              const std::atomic<bool>* cancel) {
  if (result_.cancelled) return false;
  const auto t0 = std::chrono::steady_clock::now();
  dialog::DialogueEnv& env = *env_;
  agents::dqn::DqnPolicy& policy = *policy_;
  const agents::dqn::DqnOptions& dq = policy.options();
  const int n = options_.dialogues;
  const int stop = std::min(until, n);
  for (int k = result_.dialogues; k < stop; ++k) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      result_.cancelled = true;
      break;
    }
    const double eps = dq.epsilon_at(k, n);
    const agents::DialogueOutcome d = agents::dqn::run_training_dialogue(
        env, policy, eps, derive_seed(options_.seed, {kTrainStream, static_cast<uint64_t>(k)}));
    result_.turns += d.turns;
    ++result_.dialogues;
    w_success_ += d.success ? 1.0 : 0.0;
    w_reward_ += d.reward;
    w_turns_ += d.turns;
    ++w_n_;
    if ((k + 1) % dq.train_frequency == 0) {
      for (int it = 0; it < dq.train_iters && policy.can_learn(); ++it) {
        w_loss_ += policy.learn();
        ++w_losses_;
      }
    }
    if ((k + 1) % options_.window == 0 || k + 1 == n) {
      CurvePoint p;
      p.dialogues = k + 1;
      p.train_success = w_success_ / w_n_;
      p.train_reward = w_reward_ / w_n_;
      p.train_turns = w_turns_ / w_n_;
      p.epsilon = eps;
      p.loss = w_losses_ > 0 ? w_loss_ / w_losses_ : 0.0;
      if (options_.eval_every > 0 && ((k + 1) % options_.eval_every == 0 || k + 1 == n)) {
        p.eval = agents::evaluate(env, policy, options_.eval_dialogues, derive_seed(options_.eval_seed, {kEvalStream}));
      }
      result_.curve.push_back(p);
      if (on_point) on_point(p);
      w_success_ = w_reward_ = w_turns_ = w_loss_ = 0.0;
      w_n_ = w_losses_ = 0;
    }
  }
  result_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return !result_.cancelled;
}

TrainResult DqnTraining::finish() {
  result_.gradient_steps = policy_->gradient_steps();
  policy_->info().trained_dialogues += result_.dialogues;
  return result_;
}

TrainResult train_dqn(dialog::DialogueEnv& env, agents::dqn::DqnPolicy& policy, const DqnTrainOptions& options,
                      const std::function<void(const CurvePoint&)>& on_point, const std::atomic<bool>* cancel) {
  DqnTraining training(env, policy, options);
  training.train_until(options.dialogues, on_point, cancel);
  return training.finish();
}

void DqnExperiment::validate() const {
  MD_CHECK(domain != nullptr, "DQN experiment: no domain");
  env.validate();
  dqn.validate();
  train.validate();
  MD_CHECK(seeds >= 1, "DQN experiment: seeds = ", seeds, " must be >= 1");
  MD_CHECK(threads >= 1, "DQN experiment: threads = ", threads, " must be >= 1");
  MD_CHECK(test_dialogues >= 0, "DQN experiment: test_dialogues = ", test_dialogues, " must be >= 0");
}

namespace {

// One run of an experiment, set up to train: its environment, policy and staged training.
struct Run {
  SeedOutcome out;
  std::unique_ptr<dialog::DialogueEnv> env;
  std::unique_ptr<dialog::DialogueEnv> validation_env;  // lockstep only
  std::shared_ptr<agents::dqn::DqnPolicy> policy;
  std::optional<DqnTraining> training;
};

// Run i of the experiment: seed derive_seed(train.seed, {i}), the policy seeded from its stream.
Run start_run(const DqnExperiment& ex, int i) {
  Run r;
  r.out.index = i;
  r.out.seed = derive_seed(ex.train.seed, {static_cast<uint64_t>(i)});
  r.env = std::make_unique<dialog::DialogueEnv>(ex.domain, ex.env);
  r.policy = std::make_shared<agents::dqn::DqnPolicy>(*r.env, ex.dqn, derive_seed(r.out.seed, {kPolicyStream}));
  DqnTrainOptions topt = ex.train;
  topt.seed = r.out.seed;
  topt.eval_seed = ex.train.seed;
  r.training.emplace(*r.env, *r.policy, topt);
  return r;
}

// Ends a run that trained to the end (or was cancelled): its result, its test, its policy if kept.
void finish_run(const DqnExperiment& ex, Run& r) {
  r.out.train = r.training->finish();
  if (!r.out.train.cancelled && ex.test_dialogues > 0) {
    r.out.test = agents::evaluate(*r.env, *r.policy, ex.test_dialogues, test_seed(ex.train.seed));
  }
  if (ex.keep_policies) r.out.policy = r.policy;
}

// Runs task(i) for every i in [0, n) on up to `threads` threads (the calling one among them) and
// returns when all are done. The first exception a task throws sets `cancel` (the tasks not
// started are skipped; running ones may watch it) and is rethrown after every thread joined.
void parallel_for(int n, int threads, std::atomic<bool>& cancel, const std::function<void(int)>& task) {
  std::atomic<int> next{0};
  std::mutex mu;
  std::exception_ptr error;
  auto worker = [&] {
    for (;;) {
      const int i = next.fetch_add(1);
      if (i >= n || cancel.load()) return;
      try {
        task(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        cancel = true;
      }
    }
  };
  {
    std::vector<std::jthread> pool;  // joined when it goes out of scope, also on an exception
    try {
      for (int t = 1; t < std::min(threads, n); ++t) pool.emplace_back(worker);
    } catch (...) {
      cancel = true;
      throw;
    }
    worker();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace

std::vector<SeedOutcome> run_dqn_experiment(const DqnExperiment& ex,
                                            const std::function<void(const SeedOutcome&)>& on_done) {
  ex.validate();
  const auto n = static_cast<size_t>(ex.seeds);
  std::vector<SeedOutcome> outcomes(n);
  std::vector<char> done(n, 0);
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> cancel{false};
  std::atomic<int> next{0};
  std::exception_ptr worker_error;

  auto worker = [&] {
    for (;;) {
      const int i = next.fetch_add(1);
      if (i >= ex.seeds || cancel.load()) return;
      try {
        Run r = start_run(ex, i);
        r.training->train_until(ex.train.dialogues, {}, &cancel);
        finish_run(ex, r);
        std::lock_guard<std::mutex> lock(mu);
        outcomes[static_cast<size_t>(i)] = std::move(r.out);
        done[static_cast<size_t>(i)] = 1;
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!worker_error) worker_error = std::current_exception();
        cancel = true;
      }
      cv.notify_all();
    }
  };

  std::vector<std::thread> pool;
  const int nthreads = std::min(ex.threads, ex.seeds);
  for (int t = 0; t < nthreads; ++t) pool.emplace_back(worker);
  auto stop = [&] {
    cancel = true;
    for (auto& th : pool) th.join();
    pool.clear();
  };
  try {
    for (size_t i = 0; i < n; ++i) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return done[i] || worker_error; });
      if (worker_error) break;
      lock.unlock();
      if (on_done) on_done(outcomes[i]);
    }
  } catch (...) {
    stop();
    throw;
  }
  stop();
  if (worker_error) std::rethrow_exception(worker_error);
  return outcomes;
}

void LockstepOptions::validate() const {
  MD_CHECK(every >= 1, "lockstep training: every = ", every, " must be >= 1");
  MD_CHECK(validation_dialogues >= 1, "lockstep training: validation_dialogues = ", validation_dialogues,
           " must be >= 1");
}

std::vector<SeedOutcome> run_dqn_experiment_lockstep(const DqnExperiment& ex, const LockstepOptions& options,
                                                     const std::function<void(const LockstepPoint&)>& on_point) {
  ex.validate();
  options.validate();
  const int64_t n = ex.train.dialogues;
  const int64_t every = options.every;
  const uint64_t validation_seed = derive_seed(ex.train.seed, {kEvalStream});
  std::vector<Run> runs(static_cast<size_t>(ex.seeds));
  std::atomic<bool> cancel{false};
  for (int64_t done = 0; done < n;) {
    const int64_t until = std::min(n, (done / every + 1) * every);
    const bool point = until % every == 0;
    LockstepPoint p;
    p.dialogues = static_cast<int>(until);
    if (point) p.validation.resize(runs.size());
    parallel_for(ex.seeds, ex.threads, cancel, [&](int i) {
      Run& r = runs[static_cast<size_t>(i)];
      if (!r.training) r = start_run(ex, i);
      if (!r.training->train_until(static_cast<int>(until), {}, &cancel)) return;  // another run failed
      if (point) {
        if (!r.validation_env) r.validation_env = std::make_unique<dialog::DialogueEnv>(ex.domain, ex.env);
        p.validation[static_cast<size_t>(i)] =
            agents::evaluate(*r.validation_env, *r.policy, options.validation_dialogues, validation_seed);
      }
      if (until == n) finish_run(ex, r);
    });
    done = until;
    if (point && on_point) on_point(p);
  }
  std::vector<SeedOutcome> outcomes;
  outcomes.reserve(runs.size());
  for (Run& r : runs) outcomes.push_back(std::move(r.out));
  return outcomes;
}

MeanCi mean_ci95(const std::vector<double>& x) {
  MeanCi r;
  if (x.empty()) return r;
  const double n = static_cast<double>(x.size());
  for (double v : x) r.mean += v;
  r.mean /= n;
  if (x.size() < 2) return r;
  double ss = 0.0;
  for (double v : x) ss += (v - r.mean) * (v - r.mean);
  r.ci95 = 1.96 * std::sqrt(ss / (n - 1.0) / n);
  return r;
}

}  // namespace metadial::train
