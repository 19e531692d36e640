// Meta-training of the two-level LSTM optimizer (optim/learned/model.h) on functions drawn from
// GP priors (meta/gp_prior.h), by REINFORCE for both levels (the paper's Algorithm 1).
//
// An episode runs the policy for `horizon` steps on one sampled (multi-fidelity) function; a
// batch of episodes runs in parallel. At step t the policy proposes x_t (level 1) and m_t
// (level 2); y_t = f_{m_t}(x_t) is observed. Losses (the paper's equations 2-8), per step t:
//
//   incumbent I_t = min(I_{t-1}, f(x_t) if m_t is the target fidelity), I_0 = 1 (one sd above
//   the mean of the normalized function): only target-fidelity evaluations count as results.
//   min  (eq. 2)  l_T = I_T, l_t = 0 before (Chen et al.'s L_min: the best value at the end)
//   sum  (eq. 3)  l_t = f(x_t) at the target fidelity; I_{t-1} at a lower one
//   oi   (eq. 5)  l_t = min(f(x_t) - I_{t-1}, 0), i.e. I_t - I_{t-1}, per step (not telescoped)
//   ei   (eq. 4)  l_t = -EI(x_t | target observations before t), under a GP posterior with the
//                 sampled function's own lengthscale (Matern-5/2, unit amplitude); training only
//   cost (eq. 6)  c_t = c(m_t) / c_M; with a budget Lambda (eq. 7) the excess increment
//                 (max(Lambda, C_t) - max(Lambda, C_{t-1})) / c_M (sums to eq. 7 over the episode)
//   total (eq. 8) r_t = -(lambda l_t + (1 - lambda) c_t)   (single fidelity: lambda = 1)
//
// REINFORCE: reward-to-go G_t = sum_{s>=t} gamma^{s-t} r_s; baseline = mean of G_t over the other
// episodes of the batch (leave-one-out) at the same step, or, with rollouts_per_function K > 1,
// over the other K - 1 episodes on the same function (the batch is B / K functions, each run K
// times: the baseline then no longer mixes easy and hard functions, a large variance cut since
// the min-based rewards differ more between functions than between rollouts); advantages
// standardized over the batch;
// surrogate loss -mean(sum_t (log pi_x(u_t) + log pi_m(m_t)) A_t) / T - entropy * mean entropy.
// Both levels' log-probabilities are in the loss and the LSTM states are never detached, so both
// networks learn (the paper's notebooks detach the state and leave the fidelity network out).
// Adam, gradient norm clipped.
// With ppo_epochs K > 1 (PPO's clipped objective, Schulman et al. 2017, as a steadier estimator):
// each batch makes K updates; the first at the rollout's log-probabilities, the next ones
// replaying the stored inputs and draws through the updated network; each maximizes
// sum_t min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t), r_t = pi(a_t) / pi_old(a_t) the ratio to
// the rollout's policy (its gradient at r = 1 is REINFORCE's), so no update moves the policy far
// from the one that drew the batch.
//
// Gradient-based training (Method::kGradient, Chen et al. 2017): the sampled functions are RFF
// sums, differentiable everywhere, so the whole episode is one differentiable graph. The LSTM is
// unrolled for T steps with x_t = sigmoid(mu_t + sd_t eps_t) (reparameterized sample, eps_t fixed
// noise; or sigmoid(mu_t) with reparameterize = false, Chen et al.'s deterministic proposals: the
// log-sd outputs are then pinned at their minimum, sd = e^-5 in u, so sampling from the trained
// policy is its mean up to 0.7 % noise and validation and the samplers need no special case),
// y_t = f(x_t) evaluated in LibTorch ops
// (offset + sum_j w_j cos(omega_j . x_t + phase_j)), the network's inputs (x_{t-1}, the online
// normalized y~ and gap) built from those same differentiable values, and nothing detached
// (detach_inputs = true cuts the path through the inputs, keeping the one through the state):
//   sum  L = sum_t f(x_t)                     min  L = I_T = min(I_0, min_t f(x_t))
//   oi   L = sum_t min(f(x_t) - I_{t-1}, 0)   (I_0 = 1 as above)
// averaged over the batch and divided by T; backpropagated through the whole trajectory, Adam,
// gradient norm clipped. With M > 1 fidelities (a hybrid of ours, not in either paper) the fidelity
// choice is discrete, so the second level learns by REINFORCE exactly as above (per-step losses
// lambda l_t + (1 - lambda) c_t, reward-to-go, leave-one-out baseline, entropy bonus), reading x_t
// detached, while the first level keeps the pathwise gradient of lambda * sum_t l_t through the
// level f_{m_t} it queried (the lower levels are RFF sums too); each level's gradient is clipped
// on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metadial/meta/gp_prior.h"
#include "metadial/optim/learned/model.h"

namespace metadial::meta {

using optim::learned::LearnedOptimizer;
using optim::learned::ModelOptions;

/// The optimizee loss L^o.
enum class Loss { kMin, kSum, kOi, kEi };
const char* to_string(Loss loss);
/// "min" | "sum" | "oi" | "ei"; throws InvalidArgument naming the known ones.
Loss loss_from_string(const std::string& name);

/// How the meta-gradient is estimated.
enum class Method { kReinforce, kGradient };
const char* to_string(Method method);
/// "reinforce" | "gradient"; throws InvalidArgument naming the known ones.
Method method_from_string(const std::string& name);

/// Hyperparameters of meta-training.
struct TrainerOptions {
  ModelOptions model;                  ///< dim, fidelities (costs come from `fidelity`), sizes
  GpPriorOptions prior;          ///< the function distribution (prior.dim is set to model.dim)
  FidelityOptions fidelity;      ///< lower fidelities (fidelity.fidelities = model.fidelities)
  Loss loss = Loss::kOi;
  Method method = Method::kReinforce;  ///< kGradient: losses min | sum | oi (M > 1: the hybrid)
  bool reparameterize = true;          ///< kGradient: x_t from a reparameterized sample (else the mean)
  bool detach_inputs = false;          ///< kGradient: cut the gradient through the network's inputs
  int horizon = 20;                    ///< T, steps per episode
  int batch = 32;                      ///< episodes per update
  int rollouts_per_function = 1;       ///< kReinforce: episodes per sampled function (divides batch)
  int ppo_epochs = 1;                  ///< kReinforce: updates per batch (> 1: PPO's clipped objective)
  double ppo_clip = 0.2;               ///< eps of the clipped ratio (ppo_epochs > 1)
  /// kReinforce, rollouts_per_function > 1: scale each function's advantages by their own sd
  /// (each function weighs the same), instead of by the sd over the whole batch.
  bool advantage_per_function = false;
  /// advantage_per_function: a function's sd is floored at this fraction of the batch's (0: none).
  double advantage_sd_floor = 0.0;
  int iterations = 2000;               ///< updates
  double learning_rate = 1e-3;         ///< Adam
  /// Set: the learning rate decays from learning_rate to this along a half cosine over the
  /// iterations (cosine_learning_rate); unset: constant.
  std::optional<double> learning_rate_final;
  double entropy = 0.01;               ///< entropy bonus weight
  double clip = 1.0;                   ///< max gradient norm
  double gamma = 1.0;                  ///< discount of the reward-to-go
  double lambda = 0.9;                 ///< eq. 8's mix (multi-fidelity only)
  double budget = 0.0;                 ///< Lambda of eq. 7 in cost units; 0: eq. 6
  int eval_every = 200;                ///< updates between validations (0: only at the end)
  int n_validation = 64;               ///< held-out functions
  uint64_t seed = 0;
  double time_limit_s = 0.0;           ///< stop after this many seconds (0: none)
  std::string init;                    ///< model file to start from (continue training); empty: random
  bool keep_best = true;               ///< return the weights of the best validation
  std::string checkpoint;              ///< after each validation, the best model so far is written here
                                       ///< (atomically, with its card); empty: none

  /// Fills the derived fields (prior.dim, costs, cost_scale) and validates; throws InvalidArgument.
  void finalize();
};

/// The learning rate of update `it` (0-based) of `iterations` under cosine decay from `lr` to
/// `lr_final`: nn::cosine_learning_rate (nn/optim.h) at t = it / iterations.
double cosine_learning_rate(double lr, double lr_final, int it, int iterations);

/// Regret of a model on held-out functions.
struct ValidationResult {
  int n = 0;
  double mean_regret = 0.0;    ///< mean over functions of I_T - min f (target fidelity)
  double sem_regret = 0.0;     ///< its standard error
  double mean_cost = 0.0;      ///< mean cost spent in the T steps
};

/// One training report (after each update).
struct TrainingProgress {
  int iteration = 0;
  double surrogate = 0.0;              ///< the REINFORCE loss minimized
  double mean_loss = 0.0;              ///< mean over the batch of sum_t (lambda l_t + (1 - lambda) c_t)
  double mean_cost = 0.0;              ///< mean cost of an episode
  double learning_rate = 0.0;          ///< Adam's learning rate in this update (train() fills it)
  /// ppo_epochs > 1: the fraction of the batch's actions whose ratio to the rollout's policy was
  /// outside [1 - eps, 1 + eps] in the last update's replay (0: the earlier updates kept every
  /// ratio inside the range).
  double clip_fraction = 0.0;
  std::optional<ValidationResult> validation;
  double elapsed_s = 0.0;
};

/// Gradient norms of the last update, before clipping.
struct GradientNorms {
  double level1_lstm = 0.0, level1_head = 0.0, level2_lstm = 0.0, level2_head = 0.0;
};

/// Functions for validation and benchmarks: n families drawn with `seed` (minimum refined).
std::vector<MultiFidelityFunction> held_out_functions(const TrainerOptions& options, int n, uint64_t seed);

/// One run of a model on a family: per step the point, fidelity, observed value, target value.
struct Trajectory {
  std::vector<std::vector<double>> x;
  std::vector<int> fidelity;
  std::vector<double> y, target;
};
/// Runs `model` for `steps` steps on `f` (sampling from the policy with `seed`; greedy: the mean
/// point and the most probable fidelity).
Trajectory run_model(const LearnedOptimizer& model, const MultiFidelityFunction& f, int steps, uint64_t seed,
                     bool greedy = false);
/// Mean regret at `steps` of `model` on `functions` (one seed per function, derived from `seed`).
ValidationResult validate(const LearnedOptimizer& model, const std::vector<MultiFidelityFunction>& functions,
                          int steps, uint64_t seed);

/// A meta-trainer of the learned optimizer: it owns the model being trained, its Adam optimizer
/// and its random stream; step() makes one update on a fresh batch of functions. The two
/// methods are ReinforceTrainer and GradientTrainer; make_trainer() picks by options.method.
class Trainer {
 public:
  virtual ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// One update on a fresh batch of functions.
  virtual TrainingProgress step() = 0;
  const GradientNorms& last_gradient_norms() const;
  const TrainerOptions& options() const;
  LearnedOptimizer& model();
  /// The card of the model file training started from (TrainerOptions::init); null without one.
  const nlohmann::json& init_card() const;
  /// Sets Adam's learning rate for the following updates.
  void set_learning_rate(double lr);
  /// Adam's current learning rate.
  double learning_rate() const;

 protected:
  /// Finalizes the options, builds the model from options.seed (and options.init) and Adam.
  explicit Trainer(TrainerOptions options);
  struct State;  // options, model, rng, Adam, norms, iteration: src/meta/detail/trainer_common.h
  std::unique_ptr<State> state_;
};

/// REINFORCE meta-trainer (Method::kReinforce; options.method is not read).
class ReinforceTrainer final : public Trainer {
 public:
  explicit ReinforceTrainer(TrainerOptions options);
  TrainingProgress step() override;
};

/// Gradient-based meta-trainer (Method::kGradient): the pathwise gradient through the unrolled
/// episode (surrogate = unrolled_loss below); with M > 1 fidelities the hybrid.
class GradientTrainer final : public Trainer {
 public:
  explicit GradientTrainer(TrainerOptions options);
  TrainingProgress step() override;
};

/// The trainer of options.method.
std::unique_ptr<Trainer> make_trainer(TrainerOptions options);

/// Chen et al.'s unrolled loss of `model` on the targets of `functions` over `horizon` steps
/// (see the header comment; mean over functions, divided by T), computed in the dtype of the
/// model's weights. The sample noise comes from `noise_seed`. With `backward`, the gradient is
/// accumulated into the weights' .grad. With `detach_inputs`, the network's inputs (x_{t-1}, y~, gap)
/// are cut from the graph (the gradient then flows through the LSTM state and the outputs only, as
/// Andrychowicz et al. 2016 drop second derivatives). Single-fidelity models; loss min, sum or oi.
double unrolled_loss(LearnedOptimizer& model, const std::vector<MultiFidelityFunction>& functions, Loss loss,
                     int horizon, uint64_t noise_seed, bool reparameterize, bool backward, bool detach_inputs = false);

/// Trains with options.method for options.iterations updates (or until time_limit_s), validating every eval_every
/// on options.n_validation held-out functions; calls on_progress after each update. The card of
/// the returned model holds the options, time and validation regret.
LearnedOptimizer train(TrainerOptions options, const std::function<void(const TrainingProgress&)>& on_progress = {});

}  // namespace metadial::meta
