// Experience replay for the DQN: a ring buffer of transitions (s, a, r, s', done, mask(s')) in
// flat float / byte arrays sized once, so that storing a transition and drawing a minibatch
// allocate nothing. When full, the oldest transition is overwritten (PyDial's vanilla replay).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "metadial/core/random.h"

namespace metadial::agents::dqn {

/// Fixed-capacity uniform replay buffer.
class ReplayBuffer {
 public:
  ReplayBuffer(int capacity, int observation_size, int num_actions);

  /// Stores one transition; `next_mask` (num_actions entries, 1 = allowed) is ignored when done.
  void add(std::span<const float> observation, int action, float reward, std::span<const float> next_observation,
           std::span<const uint8_t> next_mask, bool done);

  int size() const { return size_; }
  int capacity() const { return capacity_; }
  int observation_size() const { return obs_size_; }
  int num_actions() const { return num_actions_; }
  /// Transitions stored since construction (keeps counting once the buffer is full).
  int64_t total_added() const { return added_; }

  /// Draws `n` indices uniformly with replacement from [0, size()) (size() >= 1).
  void sample_indices(Rng& rng, std::span<int> out) const;

  // Read access to transition i (0 <= i < size()).
  std::span<const float> observation(int i) const { return {obs_.data() + offset(i), static_cast<size_t>(obs_size_)}; }
  std::span<const float> next_observation(int i) const { return {next_obs_.data() + offset(i), static_cast<size_t>(obs_size_)}; }
  std::span<const uint8_t> next_mask(int i) const {
    return {next_mask_.data() + static_cast<size_t>(i) * static_cast<size_t>(num_actions_), static_cast<size_t>(num_actions_)};
  }
  int action(int i) const { return actions_[static_cast<size_t>(i)]; }
  float reward(int i) const { return rewards_[static_cast<size_t>(i)]; }
  bool done(int i) const { return done_[static_cast<size_t>(i)] != 0; }

 private:
  size_t offset(int i) const { return static_cast<size_t>(i) * static_cast<size_t>(obs_size_); }

  int capacity_;
  int obs_size_;
  int num_actions_;
  int size_ = 0;
  int next_ = 0;
  int64_t added_ = 0;
  std::vector<float> obs_, next_obs_;
  std::vector<uint8_t> next_mask_;
  std::vector<int> actions_;
  std::vector<float> rewards_;
  std::vector<uint8_t> done_;
};

}  // namespace metadial::agents::dqn
