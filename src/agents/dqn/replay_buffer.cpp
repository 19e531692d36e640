#include "metadial/agents/dqn/replay_buffer.h"

#include <algorithm>

#include "metadial/core/error.h"

namespace metadial::agents::dqn {

ReplayBuffer::ReplayBuffer(int capacity, int observation_size, int num_actions)
    : capacity_(capacity), obs_size_(observation_size), num_actions_(num_actions) {
  MD_CHECK(capacity >= 1, "replay buffer: capacity ", capacity, " must be >= 1");
  MD_CHECK(observation_size >= 1, "replay buffer: observation size ", observation_size, " must be >= 1");
  MD_CHECK(num_actions >= 1, "replay buffer: number of actions ", num_actions, " must be >= 1");
  const auto c = static_cast<size_t>(capacity);
  obs_.assign(c * static_cast<size_t>(obs_size_), 0.0F);
  next_obs_.assign(c * static_cast<size_t>(obs_size_), 0.0F);
  next_mask_.assign(c * static_cast<size_t>(num_actions_), 1);
  actions_.assign(c, 0);
  rewards_.assign(c, 0.0F);
  done_.assign(c, 0);
}

void ReplayBuffer::add(std::span<const float> observation, int action, float reward,
                       std::span<const float> next_observation, std::span<const uint8_t> next_mask, bool done) {
  MD_CHECK(observation.size() == static_cast<size_t>(obs_size_) && next_observation.size() == observation.size(),
           "replay buffer: observation size ", observation.size(), " / ", next_observation.size(), ", expected ",
           obs_size_);
  MD_CHECK(action >= 0 && action < num_actions_, "replay buffer: action ", action, " out of [0, ", num_actions_, ")");
  const int i = next_;
  std::copy(observation.begin(), observation.end(), obs_.begin() + static_cast<std::ptrdiff_t>(offset(i)));
  std::copy(next_observation.begin(), next_observation.end(), next_obs_.begin() + static_cast<std::ptrdiff_t>(offset(i)));
  auto* m = next_mask_.data() + static_cast<size_t>(i) * static_cast<size_t>(num_actions_);
  if (done || next_mask.empty()) {
    std::fill(m, m + num_actions_, uint8_t{1});
  } else {
    MD_CHECK(next_mask.size() == static_cast<size_t>(num_actions_), "replay buffer: mask size ", next_mask.size(),
             ", expected ", num_actions_);
    std::copy(next_mask.begin(), next_mask.end(), m);
  }
  actions_[static_cast<size_t>(i)] = action;
  rewards_[static_cast<size_t>(i)] = reward;
  done_[static_cast<size_t>(i)] = done ? 1 : 0;
  next_ = (next_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
  ++added_;
}

void ReplayBuffer::sample_indices(Rng& rng, std::span<int> out) const {
  MD_ASSERT(size_ >= 1, "sampling from an empty replay buffer");
  for (int& k : out) k = static_cast<int>(uniform01(rng) * size_);
}

}  // namespace metadial::agents::dqn
