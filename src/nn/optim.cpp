#include "metadial/nn/optim.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace metadial::nn {

void set_learning_rate(torch::optim::Adam& adam, double lr) {
  for (auto& group : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

double learning_rate(const torch::optim::Adam& adam) {
  return static_cast<const torch::optim::AdamOptions&>(adam.param_groups().front().options()).lr();
}

double cosine_learning_rate(double lr, double lr_final, double t) {
  t = std::clamp(t, 0.0, 1.0);
  return lr_final + 0.5 * (lr - lr_final) * (1.0 + std::cos(std::numbers::pi * t));
}

}  // namespace metadial::nn
