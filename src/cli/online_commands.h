// `metadial online ...`: one training whose hyperparameters the meta-RL controller (or a
// baseline) sets as it goes, from a TOML config.
//
//   online run CONFIG [--method M] [--seed S] [--out DIR] [--json]
//       final test accuracy, the schedule followed (DIR/schedule.csv + DIR/schedule.svg when
//       gnuplot is installed), training steps and wall time (for a dqn_dialog target the
//       "accuracy" is the greedy success rate and a step is a training dialogue)
//   online meta-train CONFIG --runs N --save controller.pt [--seed S] [--json]
//       meta-trains the controller over N runs; `[controller] load = "controller.pt"` then
//       reuses it frozen
//
// Config (every key optional except where noted):
//   [target]           type = "image" (default) | "dqn_dialog"
//     image:           data (folder of IDX files), name, train, validation, test, split_seed,
//                      hidden; [target.defaults] learning_rate, momentum, weight_decay, dropout,
//                      batch_size (the fixed-default tuple)
//     dqn_dialog:      env (env1..env6), domain (restaurant | movie), name, validation and test
//                      (greedy dialogues), eval_seed; [target.dqn] any DqnOptions key (h1, h2,
//                      gamma, batch_size, ...); [target.defaults] learning_rate, epsilon
//                      (online/dqn_target.h: one training step = one training dialogue)
//   [run]              method = "controller" | "fixed" | "cosine" | "pbt", steps, interval (K), seed
//   [hyperparameters]  NAME = [choices...] (required for controller and pbt)
//   [controller]       hidden, learning_rate, entropy_weight, baseline_decay, normalize_advantage, prior,
//                      seed, load (a saved controller, used frozen), greedy
//   [cosine]           lr_max, lr_min
//   [pbt]              population, quantile, resample_probability, seed
//
// Bad input (an unknown key, a hyperparameter the target does not accept, an empty choice list,
// K larger than the training length) throws ConfigError "FILE: ..." (one line; exit 2).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "metadial/online/baselines.h"
#include "metadial/online/controller.h"
#include "metadial/online/dqn_target.h"
#include "metadial/online/image_target.h"

namespace metadial::cli {

/// A parsed and checked `online` config.
struct OnlineConfig {
  std::string file;
  std::string target_type = "image";  ///< "image" or "dqn_dialog"
  online::ImageDataOptions data;
  online::ImageClassifierOptions target;
  std::string domain = "restaurant";  ///< dqn_dialog: built-in dialogue domain
  online::DqnDialogOptions dqn;       ///< dqn_dialog: the target's options

  /// The target's name (in reports).
  const std::string& target_name() const { return target_type == "dqn_dialog" ? dqn.name : target.name; }
  std::string method = "controller";
  online::RunOptions run;
  online::ChoiceSpace choices;
  online::ControllerOptions controller;
  std::string controller_load;  ///< a saved controller to use frozen
  bool greedy = false;
  double greedy_after = 1.0;  ///< fraction of training after which choices are greedy
  online::Reward reward = online::Reward::kChange;
  double cosine_lr_max = 0.1;
  double cosine_lr_min = 0.0;
  online::PbtOptions pbt;
};

/// Parses and checks a config (file or text); throws ConfigError "FILE: ..." on any problem.
OnlineConfig load_online_config(const std::string& path);
OnlineConfig parse_online_config(const std::string& text, const std::string& name);

struct OnlineRunArgs {
  std::string config;
  std::optional<std::string> method;
  std::optional<uint64_t> seed;
  std::string out;  ///< folder for schedule.csv / schedule.svg (default: online-<config stem>)
  bool json = false;
};

struct OnlineMetaTrainArgs {
  std::string config;
  int runs = 5;
  std::string save;
  std::optional<uint64_t> seed;
  bool json = false;
};

/// A fresh target of the config's type (loads the images or builds the dialogue domain).
std::unique_ptr<online::Target> make_online_target(const OnlineConfig& c);

int run_online_run(const OnlineRunArgs& args, std::ostream& out);
int run_online_meta_train(const OnlineMetaTrainArgs& args, std::ostream& out);

/// Writes schedule.csv and (when gnuplot is installed) schedule.svg of `r` into `dir`;
/// returns the paths written (the plot's empty when gnuplot is absent or fails).
std::pair<std::string, std::string> write_schedule_files(const online::RunResult& r, const std::string& dir);

/// Flags of `online run` and `online meta-train`.
void declare_online_run(CLI::App& command, OnlineRunArgs& args);
void declare_online_meta_train(CLI::App& command, OnlineMetaTrainArgs& args);

}  // namespace metadial::cli
