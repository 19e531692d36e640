#include "metadial/train/dqn_trainer.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "metadial/core/error.h"

namespace metadial::train {

void DqnTrainOptions::validate() const {
  MD_CHECK(dialogues >= 1, "training: dialogues = ", dialogues, " must be >= 1");
  MD_CHECK(window >= 1, "training: window = ", window, " must be >= 1");
  MD_CHECK(eval_every >= 0, "training: eval_every = ", eval_every, " must be >= 0 (0 = no periodic evaluation)");
  MD_CHECK(eval_every == 0 || eval_dialogues >= 1, "training: eval_dialogues = ", eval_dialogues, " must be >= 1");
}

uint64_t test_seed(uint64_t seed) { return derive_seed(seed, {kTestStream}); }

TrainResult train_dqn(dialog::DialogueEnv& env, agents::dqn::DqnPolicy& policy, const DqnTrainOptions& options,
                      const std::function<void(const CurvePoint&)>& on_point, const std::atomic<bool>* cancel) {
  options.validate();
  MD_CHECK(env.observation_size() == policy.observation_size() && env.num_actions() == policy.num_actions(),
           "training: the policy (", policy.observation_size(), " inputs, ", policy.num_actions(),
           " actions) does not fit environment ", env.options().name, " (", env.observation_size(), ", ",
           env.num_actions(), ")");
  const agents::dqn::DqnOptions& dq = policy.options();
  const auto t0 = std::chrono::steady_clock::now();
  TrainResult result;
  double w_success = 0.0, w_reward = 0.0, w_turns = 0.0, w_loss = 0.0;
  int w_n = 0, w_losses = 0;
  const int n = options.dialogues;
  for (int k = 0; k < n; ++k) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      result.cancelled = true;
      break;
    }
    const double eps = dq.epsilon_at(k, n);
    const agents::DialogueOutcome d = agents::dqn::run_training_dialogue(
        env, policy, eps, derive_seed(options.seed, {kTrainStream, static_cast<uint64_t>(k)}));
    result.turns += d.turns;
    ++result.dialogues;
    w_success += d.success ? 1.0 : 0.0;
    w_reward += d.reward;
    w_turns += d.turns;
    ++w_n;
    if ((k + 1) % dq.train_frequency == 0) {
      for (int it = 0; it < dq.train_iters && policy.can_learn(); ++it) {
        w_loss += policy.learn();
        ++w_losses;
      }
    }
    if ((k + 1) % options.window == 0 || k + 1 == n) {
      CurvePoint p;
      p.dialogues = k + 1;
      p.train_success = w_success / w_n;
      p.train_reward = w_reward / w_n;
      p.train_turns = w_turns / w_n;
      p.epsilon = eps;
      p.loss = w_losses > 0 ? w_loss / w_losses : 0.0;
      if (options.eval_every > 0 && ((k + 1) % options.eval_every == 0 || k + 1 == n)) {
        p.eval = agents::evaluate(env, policy, options.eval_dialogues, derive_seed(options.eval_seed, {kEvalStream}));
      }
      result.curve.push_back(p);
      if (on_point) on_point(p);
      w_success = w_reward = w_turns = w_loss = 0.0;
      w_n = w_losses = 0;
    }
  }
  result.gradient_steps = policy.gradient_steps();
  policy.info().trained_dialogues += result.dialogues;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
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
        SeedOutcome out;
        out.index = i;
        out.seed = derive_seed(ex.train.seed, {static_cast<uint64_t>(i)});
        dialog::DialogueEnv env(ex.domain, ex.env);
        auto policy = std::make_shared<agents::dqn::DqnPolicy>(env, ex.dqn, derive_seed(out.seed, {kPolicyStream}));
        DqnTrainOptions topt = ex.train;
        topt.seed = out.seed;
        topt.eval_seed = ex.train.seed;
        out.train = train_dqn(env, *policy, topt, {}, &cancel);
        if (!out.train.cancelled && ex.test_dialogues > 0) {
          out.test = agents::evaluate(env, *policy, ex.test_dialogues, test_seed(ex.train.seed));
        }
        if (ex.keep_policies) out.policy = std::move(policy);
        std::lock_guard<std::mutex> lock(mu);
        outcomes[static_cast<size_t>(i)] = std::move(out);
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
