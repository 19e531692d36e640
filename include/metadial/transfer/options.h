// Settings of the meta-weighted transfer trainer (seed paper 001, section 3.2), free of torch so
// that configuration code (CLI, TOML readers, reproduction drivers) can build them cheaply.
//
// One iteration of the trainer: (1) an update of the model M_theta on a primary batch, (2) an
// update on a related batch whose per-example losses are weighted, (3) `meta_updates` updates of
// the weight module P_eta by meta-gradients through `simulated_steps` simulated weighted SGD steps
// of theta. The weighting of step (2) selects the method: learned weights are the proposed
// method, the others the paper's baselines. Method presets (with_method) combine these switches
// into the rows of the paper's tables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

/// Declares `Type name_` with a chained setter `Self& name(Type)` and a getter `Type name() const`
/// (the pattern of torch::optim::AdamOptions).
#define METADIAL_TRANSFER_ARG(Self, Type, name, init) \
 public:                                              \
  Self& name(Type value) {                            \
    name##_ = std::move(value);                       \
    return *this;                                     \
  }                                                   \
  const Type& name() const { return name##_; }        \
                                                      \
 private:                                             \
  Type name##_ = init

namespace metadial::transfer {

/// How step (2) weights each related example's loss.
enum class Weighting {
  kNone,            ///< no related step at all (primary data only)
  kOnes,            ///< "1 for all": every related example counts fully
  kRandomFixed,     ///< uniform(0, 1) per example, drawn once at the start
  kRandomChanging,  ///< uniform(0, 1) drawn anew every time an example is sampled
  kOracle,          ///< the related data set's field "oracle_weight" (where the truth is known)
  kLearned,         ///< sigmoid(P_eta(c, a)) with eta meta-learned: the proposed method
};

/// The rows of the paper's tables as trainer settings (with_method).
enum class Method {
  kPrimaryOnly,       ///< primary data only
  kPretrainFinetune,  ///< related data (weights 1) for pretrain_iterations, then primary only
  kJoint,             ///< primary and related data (weights 1) through the same head
  kMultiTask,         ///< primary head plus an auxiliary related head, related weights 1
  kOnes,              ///< related weights 1 (keeps the primary-step and head settings)
  kRandomFixed,       ///< related weights random, fixed per example
  kRandomChanging,    ///< related weights random, redrawn at every use
  kOracle,            ///< related weights from the data set's oracle_weight field
  kLearned,           ///< related weights sigmoid(P_eta), meta-learned (proposed)
};

/// "none", "ones", "random-fixed", "random-changing", "oracle", "learned".
std::string to_string(Weighting w);
/// "primary-only", "pretrain-finetune", "joint", "multi-task", "ones", "random-fixed",
/// "random-changing", "oracle", "learned".
std::string to_string(Method m);
/// Inverse of to_string; throws InvalidArgument listing the valid names.
Weighting parse_weighting(std::string_view name);
Method parse_method(std::string_view name);

/// Settings of MetaWeightTrainer. Defaults follow the paper's image experiment (appendix A):
/// batch 256, Adam with learning rate 1e-3 and epsilon 1e-8, one eta update per iteration
/// through one simulated step, 15,000 iterations.
class TrainerOptions {
  /// Iterations in all (pre-training included).
  METADIAL_TRANSFER_ARG(TrainerOptions, int64_t, iterations, 15000);
  /// Examples per batch, for the primary and the related batches alike.
  METADIAL_TRANSFER_ARG(TrainerOptions, int64_t, batch_size, 256);
  /// Step (1): update theta on a primary batch each iteration. The image experiment turns it off
  /// (primary data then only enters through the meta-gradient).
  METADIAL_TRANSFER_ARG(TrainerOptions, bool, primary_step, true);
  /// Step (2)'s weighting; kLearned also runs step (3).
  METADIAL_TRANSFER_ARG(TrainerOptions, Weighting, weighting, Weighting::kLearned);
  /// Related losses go through the model's related head (Task::kRelated) instead of the primary
  /// one: multi-task learning and the proposed "weighted auxiliary related" setting.
  METADIAL_TRANSFER_ARG(TrainerOptions, bool, separate_related_head, false);
  /// The first this-many iterations train on related data only, with weights 1; afterwards the
  /// optimizer restarts (pre-train then fine-tune).
  METADIAL_TRANSFER_ARG(TrainerOptions, int64_t, pretrain_iterations, 0);
  /// Step (3): eta updates per iteration (paper: 1 for images, 10 for dialogue).
  METADIAL_TRANSFER_ARG(TrainerOptions, int64_t, meta_updates, 1);
  /// k: simulated weighted SGD steps of theta per eta update (paper: 1 for images, 5 for dialogue).
  METADIAL_TRANSFER_ARG(TrainerOptions, int64_t, simulated_steps, 1);
  /// Adam learning rate of theta (steps 1 and 2).
  METADIAL_TRANSFER_ARG(TrainerOptions, double, model_lr, 1e-3);
  /// Adam learning rate of eta (step 3).
  METADIAL_TRANSFER_ARG(TrainerOptions, double, weight_lr, 1e-3);
  /// beta of equation 7: the SGD step size of the simulated updates. With one simulated step it
  /// only scales the meta-gradient, which Adam on eta undoes.
  METADIAL_TRANSFER_ARG(TrainerOptions, double, simulated_lr, 1e-3);
  /// How the weighted related losses of step (2) and of the simulated steps are averaged: false,
  /// sum_i w_i l_i / B (equation 6: the weights' common scale acts as a learning rate of the
  /// simulated SGD step, and the meta-gradient can shrink every weight together, while Adam makes
  /// the real step (2) blind to that scale); true, sum_i w_i l_i / sum_i w_i (only the weights'
  /// ratios matter, as in Ren et al. 2018's normalised example weights; the reported weights are
  /// still the module's outputs).
  METADIAL_TRANSFER_ARG(TrainerOptions, bool, normalize_weights, false);
  /// Adam's epsilon for theta and eta.
  METADIAL_TRANSFER_ARG(TrainerOptions, double, adam_eps, 1e-8);
  /// Adam's epsilon for eta alone when > 0 (0: adam_eps). Meta-gradients are small (norm 1e-7 to
  /// 1e-5 in the image experiment); an epsilon of their order makes eta's steps shrink with them
  /// instead of moving every coordinate by about the learning rate whatever its gradient.
  METADIAL_TRANSFER_ARG(TrainerOptions, double, weight_adam_eps, 0.0);
  /// Validation every this-many iterations (train(): model selection).
  METADIAL_TRANSFER_ARG(TrainerOptions, int64_t, eval_every, 100);
  /// Seeds batch order and random weights (modules are initialised by their own seeds).
  METADIAL_TRANSFER_ARG(TrainerOptions, uint64_t, seed, 0);

 public:
  /// Throws InvalidArgument naming the first setting out of its domain.
  void validate() const;
};

/// `base` with the switches of method `m` set; the other settings (iterations, learning rates,
/// primary_step for the weighting rows) are kept. kPretrainFinetune keeps base.pretrain_iterations
/// if positive, else uses half of the iterations. kMultiTask (and the weighting rows, when
/// `auxiliary` is true) send related losses to the model's second head.
TrainerOptions with_method(TrainerOptions base, Method m, bool auxiliary = false);

}  // namespace metadial::transfer
