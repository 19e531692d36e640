// Discounted returns (reward-to-go) of an episode: what REINFORCE weights each step's
// log-probability by (meta/ trains the learned optimizers with it, train/ the end-to-end agent).
// One implementation, summed from the last step back, so every caller gets the same bits.
#pragma once

#include <span>
#include <vector>

#include "metadial/core/error.h"

namespace metadial {

/// Reward-to-go G_t = r_t + gamma G_{t+1} (G_T = 0), i.e. sum_{s>=t} gamma^{s-t} r_s, of rewards
/// r_0..r_{T-1}, written to `out` (the same length; it may be `rewards` itself, for in place).
inline void reward_to_go(std::span<const double> rewards, double gamma, std::span<double> out) {
  MD_ASSERT(out.size() == rewards.size(), "reward_to_go: ", out.size(), " outputs for ", rewards.size(), " rewards");
  double acc = 0.0;
  for (size_t t = rewards.size(); t-- > 0;) {
    acc = rewards[t] + gamma * acc;
    out[t] = acc;
  }
}

/// The same, returned.
inline std::vector<double> reward_to_go(std::span<const double> rewards, double gamma) {
  std::vector<double> g(rewards.size());
  reward_to_go(rewards, gamma, g);
  return g;
}

}  // namespace metadial
