// The REINFORCE loss of one controller decision (a choice per hyperparameter), with entropy
// bonus. Separate from controller.h because it takes torch tensors (tests check it by hand).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace metadial::online {

/// -advantage * sum_i log softmax(logits[i])[actions[i]] - entropy_weight * sum_i H(softmax(logits[i])),
/// for 1-D logits (one tensor per hyperparameter). Differentiable in the logits.
torch::Tensor reinforce_loss(const std::vector<torch::Tensor>& logits, const std::vector<int64_t>& actions,
                             double advantage, double entropy_weight);

}  // namespace metadial::online
