// MetaWeightTrainer: learns a model M_theta from a small primary data set and a large related one,
// weighting each related example by sigmoid(P_eta(c, a)) and learning eta by meta-gradients
// (seed paper 001, equations 1-14). The same trainer runs the baselines (weights 1, random fixed,
// random changing, oracle, primary only, pre-train then fine-tune, joint, multi-task): see
// TrainerOptions and with_method in options.h.
//
// Includes torch (through modules.h): its API takes torch modules and tensors. Typical use:
//
//   transfer::Classifier model(784, 10);
//   transfer::PerceptronWeights p(784, 10, 2);
//   transfer::MetaWeightTrainer trainer(model, &p, primary, &related, TrainerOptions().iterations(15000));
//   auto result = trainer.train(validation);   // restores the best parameters on validation
//   double acc = trainer.accuracy(test);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/transfer/modules.h"
#include "metadial/transfer/options.h"

namespace metadial::transfer {

/// Losses of the last iteration (NaN where a step did not run).
struct StepStats {
  double primary_loss = 0;  ///< step (1), mean over the batch
  double related_loss = 0;  ///< step (2), weighted mean over the batch
  double meta_loss = 0;     ///< step (3), L_P(theta') of the last eta update
  double mean_weight = 0;   ///< mean weight of step (2)'s related batch
  double meta_grad_norm = 0;      ///< L2 norm of the last meta-gradient of eta (all its tensors)
  double meta_grad_norm_sum = 0;  ///< sum of those norms over every eta update so far
  int64_t meta_updates_done = 0;  ///< eta updates so far
};

/// One validation of train().
struct EvalPoint {
  int64_t iteration = 0;    ///< iterations done when it was taken
  double validation = 0;    ///< accuracy in [0, 1]
};

/// What train() returns.
struct TrainResult {
  double best_validation = 0;   ///< best validation accuracy seen
  int64_t best_iteration = 0;   ///< iterations done when it was seen; the model holds those parameters
  std::vector<EvalPoint> curve; ///< every validation
  double step_seconds = 0;      ///< wall time inside step() (training proper, no validation)
  double step_cpu_seconds = 0;  ///< CPU time of the calling thread inside step()
};

/// Shuffled passes over 0..n-1 (a new permutation every epoch), drawn from metadial's Rng.
class BatchSampler {
 public:
  BatchSampler(int64_t n, uint64_t seed);
  /// The next `size` positions (wrapping into a new epoch as needed).
  torch::Tensor next(int64_t size);

 private:
  void shuffle();
  std::vector<int64_t> order_;
  size_t pos_ = 0;
  Rng rng_;
};

class MetaWeightTrainer {
 public:
  /// Borrows every argument; they must outlive the trainer. `weights` is required (and only used)
  /// with Weighting::kLearned; `related` is required unless the weighting is kNone and there is no
  /// pre-training. kOracle needs the related data set to have the float field "oracle_weight".
  /// Throws InvalidArgument for a missing piece or options out of their domain.
  MetaWeightTrainer(Model& model, WeightModule* weights, const Dataset& primary, const Dataset* related,
                    TrainerOptions options);
  ~MetaWeightTrainer();
  MetaWeightTrainer(const MetaWeightTrainer&) = delete;
  MetaWeightTrainer& operator=(const MetaWeightTrainer&) = delete;

  /// One iteration: steps (1), (2), (3) as the options say (pre-training: step (2), weights 1).
  void step();
  /// Iterations done so far.
  int64_t iteration() const { return iteration_; }
  const StepStats& last_stats() const { return stats_; }
  const TrainerOptions& options() const { return options_; }

  /// Runs the remaining iterations, validating every eval_every iterations and at the end, then
  /// restores the parameters with the best validation accuracy (model selection, as the paper).
  /// `on_eval` is called after each validation (e.g. to record the learned weights).
  TrainResult train(const Dataset& validation, const std::function<void(const EvalPoint&)>& on_eval = {});

  /// The meta-objective of equations 6-8 generalised to k = related.size() simulated steps:
  /// theta_0 = theta, theta_{j+1} = theta_j - beta * grad_theta mean_i w_i(eta) L(M_theta_j(c_i), a_i)
  /// over related[j], then mean_i L(M_theta_k(c_i), a_i) over `primary`. The returned scalar keeps
  /// the graph to eta (create_graph), so autograd::grad of it gives equations 9-14's meta-gradient.
  torch::Tensor meta_objective(const std::vector<Batch>& related, const Batch& primary);

  /// The weights step (2) gives to these related examples now (shape B, no graph). With
  /// kRandomChanging every call draws new ones.
  torch::Tensor weights_for(const Batch& related);

  /// Accuracy in [0, 1] of the model on `data` for `task`, evaluated in chunks of `chunk`.
  double accuracy(const Dataset& data, Task task = Task::kPrimary, int64_t chunk = 4096);

 private:
  void primary_update();
  void related_update(bool pretraining);
  void meta_update();
  void reset_model_optimizer();
  Task related_task() const;

  Model& model_;
  WeightModule* weights_;
  const Dataset& primary_;
  const Dataset* related_;
  TrainerOptions options_;
  std::unique_ptr<torch::optim::Adam> model_opt_;
  std::unique_ptr<torch::optim::Adam> weight_opt_;
  BatchSampler primary_batches_;
  BatchSampler related_batches_;
  BatchSampler meta_primary_batches_;
  BatchSampler meta_related_batches_;
  Rng weight_rng_;
  torch::Tensor fixed_weights_;  // kRandomFixed: one per related example
  int64_t iteration_ = 0;
  StepStats stats_;
  double step_seconds_ = 0;
  double step_cpu_seconds_ = 0;
};

}  // namespace metadial::transfer
