// What the two meta-trainers share (meta/optimizer_trainer.cpp: REINFORCE for both levels;
// meta/gradient_trainer.cpp: the pathwise gradient, REINFORCE for the hybrid's fidelity level).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "metadial/core/random.h"
#include "metadial/meta/optimizer_trainer.h"
#include "metadial/optim/learned/model.h"

namespace metadial::meta {

using optim::learned::LearnedOptimizer;

/// The state every meta-trainer owns (Trainer::State).
struct Trainer::State {
  explicit State(TrainerOptions opts)
      : o((opts.finalize(), std::move(opts))), model(o.model, derive_seed(o.seed, {1})), rng(derive_seed(o.seed, {2})) {}
  TrainerOptions o;
  LearnedOptimizer model;
  Rng rng;
  std::unique_ptr<torch::optim::Adam> adam;
  GradientNorms norms;
  int iteration = 0;
  nlohmann::json init_card;  ///< the card of the model training started from (TrainerOptions::init)
};

/// Overwrites `model`'s weights with those of the model file `path` (TrainerOptions::init) and
/// returns that file's card. InvalidArgument, one line naming the file, if it cannot be read or its
/// dimension, fidelities or network sizes differ from `model`'s.
nlohmann::json load_initial_weights(LearnedOptimizer& model, const std::string& path);

/// One fidelity per row of `log_probs` [B, M] (the second level's log-softmax), drawn with `rng` by
/// the inverse CDF (the last level when rounding leaves the row's sum below the draw); [B, 1] int64.
torch::Tensor sample_fidelities(const torch::Tensor& log_probs, Rng& rng);

/// Standardized advantages [T x B] (time-major) of the reward-to-go G [B x T] (episode-major):
/// G minus the leave-one-out mean of G over the other episodes of its group of `group`
/// consecutive episodes (group >= 2), then divided by the sd over all T x B values, or with
/// `per_group` by the sd over its own group's T x group values (each sampled function then weighs
/// the same in the update, whatever the spread of its returns: GRPO's per-group scaling), that sd
/// floored at `floor` x the batch's (floor 1: a high-spread function is scaled down, a low-spread
/// one never amplified beyond the batch scaling).
inline std::vector<float> loo_advantages(const std::vector<double>& G, size_t B, size_t T, size_t group,
                                         bool per_group = false, double floor = 0.0) {
  std::vector<float> adv(T * B);
  const size_t n_groups = B / group;
  std::vector<double> s1(n_groups, 0.0), s2(n_groups, 0.0);
  double all1 = 0.0, all2 = 0.0;  // over the whole batch, summed in the same order as before per_group
  for (size_t t = 0; t < T; ++t) {
    for (size_t b = 0; b < B; ++b) {
      const size_t g0 = b / group * group;
      double tot = 0.0;
      for (size_t j = g0; j < g0 + group; ++j) tot += G[j * T + t];
      const double a = G[b * T + t] - (tot - G[b * T + t]) / static_cast<double>(group - 1);
      adv[t * B + b] = static_cast<float>(a);
      s1[b / group] += a;
      s2[b / group] += a * a;
      all1 += a;
      all2 += a * a;
    }
  }
  const auto sd_of = [](double m1, double m2, double n) { return std::sqrt(std::max(0.0, m2 / n - (m1 / n) * (m1 / n))); };
  const double batch_sd = sd_of(all1, all2, static_cast<double>(T * B));
  std::vector<double> sd(n_groups, batch_sd);
  if (per_group) {
    for (size_t g = 0; g < n_groups; ++g) sd[g] = std::max(sd_of(s1[g], s2[g], static_cast<double>(T * group)), floor * batch_sd);
  }
  for (size_t t = 0; t < T; ++t) {
    for (size_t b = 0; b < B; ++b) adv[t * B + b] = static_cast<float>(adv[t * B + b] / (sd[b / group] + 1e-8));
  }
  return adv;
}

/// PPO's clipped objective per action, to maximize (TrainerOptions::ppo_epochs):
/// min(r A, clamp(r, 1 - eps, 1 + eps) A), r = exp(log_prob - old_log_prob), old_log_prob taken
/// as a constant. Elementwise, same shapes in and out.
inline torch::Tensor clipped_objective(const torch::Tensor& log_prob, const torch::Tensor& old_log_prob,
                                       const torch::Tensor& advantage, double eps) {
  const torch::Tensor r = (log_prob - old_log_prob.detach()).exp();
  return torch::minimum(r * advantage, r.clamp(1.0 - eps, 1.0 + eps) * advantage);
}

}  // namespace metadial::meta
