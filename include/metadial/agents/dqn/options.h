// Hyperparameters of the DQN dialogue policy (PyDial's DQNPolicy, benchmark settings of
// Casanueva et al. 2017), every one settable by name so that a study can tune any of them:
//
//   name                     default  meaning
//   h1, h2                   300, 100 hidden layer sizes of the Q-network (ReLU MLP)
//   epsilon                  0.3      exploration rate at the start of training (epsilon-greedy)
//   epsilon_end              0.0      exploration rate at the end of the decay
//   epsilon_decay_dialogues  0        dialogues of the linear decay (0 = the whole training run)
//   gamma                    0.99     discount factor
//   lr                       0.001    Adam learning rate
//   batch_size               64       minibatch size
//   replay_capacity          6000     transitions kept in the replay buffer
//   tau                      0.02     soft target update: target <- (1 - tau) target + tau online
//   train_frequency          2        an update every this many dialogues
//   train_iters              1        minibatch gradient steps per update
//   learn_start              640      transitions stored before the first update (PyDial: 10 batches)
//   reward_scale             0.05     rewards are multiplied by this before learning (PyDial: 1/20)
//   double_q                 0        1 = double DQN target (online argmax, target value)
//   huber                    0        1 = Huber loss instead of squared error
//
// Hyperparameters only: the run state (weights, replay buffer, optimizer) lives in DqnPolicy.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "metadial/space/search_space.h"

namespace metadial::config {
class Table;
}  // namespace metadial::config

namespace metadial::agents::dqn {

/// DQN hyperparameters. Defaults are PyDial's benchmark settings.
struct DqnOptions {
  int h1 = 300;
  int h2 = 100;
  double epsilon = 0.3;
  double epsilon_end = 0.0;
  int epsilon_decay_dialogues = 0;
  double gamma = 0.99;
  double lr = 1e-3;
  int batch_size = 64;
  int replay_capacity = 6000;
  double tau = 0.02;
  int train_frequency = 2;
  int train_iters = 1;
  int learn_start = 640;
  double reward_scale = 0.05;
  bool double_q = false;
  bool huber = false;

  /// Sets a hyperparameter by name. InvalidArgument for an unknown name (listing the known
  /// ones), a non-integer value for an integer one, or a value out of its range.
  DqnOptions& set(std::string_view name, double value);
  /// Same, from text ("300", "0.25", "1e-3"); InvalidArgument if it is not a number.
  DqnOptions& set(std::string_view name, std::string_view text);
  DqnOptions& set(std::string_view name, const char* text) { return set(name, std::string_view(text)); }
  /// Same, from a search-space value (int, float, or a numeric string).
  DqnOptions& set(std::string_view name, const space::Value& value);
  /// Value of a hyperparameter by name (bools as 0 / 1); InvalidArgument if unknown.
  double get(std::string_view name) const;
  /// Whether `name` is a hyperparameter.
  static bool has(std::string_view name);
  /// Whether hyperparameter `name` takes integer values (sizes, counts, 0/1 flags);
  /// InvalidArgument if unknown.
  static bool is_integer(std::string_view name);
  /// Every hyperparameter name, in the order of the table above.
  static const std::vector<std::string>& names();
  /// "h1, h2, epsilon, ...": for messages.
  static std::string names_joined();

  /// InvalidArgument naming the first field out of range.
  void validate() const;
  /// Exploration rate before training dialogue `k` (0-based) of a run of `total` dialogues:
  /// linear from epsilon to epsilon_end over epsilon_decay_dialogues (or `total` when 0).
  double epsilon_at(int k, int total) const;

  /// {"h1": 300, ...}, every field.
  nlohmann::json to_json() const;
  /// Defaults overridden by the keys of table `t` (e.g. [objective.dqn]), read by the config reader:
  /// integer hyperparameters take integers, the others numbers, double_q and huber a boolean (or
  /// 0 / 1). A ConfigError naming the table and key for an unknown key ("unknown key 'k' in
  /// [objective.dqn] (expected one of: ...)"), a wrong type ("[objective.dqn] h1 must be an
  /// integer, got a float") or a value out of its range. No cross-field check (validate() does that).
  static DqnOptions from_table(const config::Table& t);
  /// The same for an in-memory object (a model file's header), read as table [dqn] of source
  /// "DQN hyperparameters"; every error is an InvalidArgument.
  static DqnOptions from_json(const nlohmann::json& j);
  bool operator==(const DqnOptions&) const = default;
};

}  // namespace metadial::agents::dqn
