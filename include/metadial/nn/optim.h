// Learning-rate control shared by the trainers (meta-training of the learned optimizers and the
// PFN, the DQN policy): Adam's rate read and set for every parameter group, and the cosine decay
// (SGDR's schedule without restarts, Loshchilov & Hutter 2017) they schedule it with.
//
// Includes torch: it takes an optimizer.
#pragma once

#include <torch/torch.h>

namespace metadial::nn {

/// Sets Adam's learning rate of every parameter group.
void set_learning_rate(torch::optim::Adam& adam, double lr);
/// Adam's learning rate (of its first parameter group).
double learning_rate(const torch::optim::Adam& adam);

/// The rate at fraction t of training (clamped to [0, 1]) under cosine decay from lr to lr_final:
/// lr_final + (lr - lr_final) (1 + cos(pi t)) / 2.
double cosine_learning_rate(double lr, double lr_final, double t);

}  // namespace metadial::nn
