// `metadial dialog ...`: train, evaluate, show and compare dialogue policies on the simulated
// user (PyDial's benchmark environments env1..env6).
//
//   dialog train   --env envN --policy dqn --dialogues N [--set name=value ...] --seed S --out m.pt
//   dialog eval    (--model m.pt | --policy rule|random) --env envN --dialogues 500 [--json]
//   dialog show    --env envN (--policy rule|random | --model m.pt) -n 3
//   dialog compare CONFIG [--storage URL] [--study NAME]: the default DQN against the best
//                  configuration a `metadial tune CONFIG` study found, trained on fresh seeds
//   dialog corpus / dst / e2e: the end-to-end neural agent's corpus generator, state tracker and
//                  training (cli/e2e_commands.h)
//
// Bad input (unknown env, policy or hyperparameter, a model file that is not a DQN model, is
// truncated or does not fit the env, a malformed ontology) throws InvalidArgument / DataError
// with one line; main() prints it and exits 2.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace metadial::cli {

/// Where the dialogues happen.
struct DialogEnvArgs {
  std::optional<std::string> env;     ///< env1..env6 (default env1, or the model's)
  std::optional<std::string> domain;  ///< restaurant | movie (default restaurant, or the model's)
  std::string ontology;               ///< an ontology file instead of a built-in domain
  int kb_entities = 100;
  uint64_t kb_seed = 0;
};

struct DialogTrainArgs {
  DialogEnvArgs where;
  std::string policy = "dqn";
  int dialogues = 4000;
  std::vector<std::string> sets;  ///< "name=value" DQN hyperparameters
  uint64_t seed = 0;
  std::string out;                ///< model file to write (optional)
  int window = 100;
  int eval_every = 0;
  int eval_dialogues = 200;
  int test_dialogues = 500;
  bool json = false;
};

struct DialogEvalArgs {
  DialogEnvArgs where;
  std::string model;
  std::string policy;
  int dialogues = 500;
  uint64_t seed = 0;
  bool json = false;
};

struct DialogShowArgs {
  DialogEnvArgs where;
  std::string model;
  std::string policy;
  int n = 3;
  uint64_t seed = 0;
};

struct DialogCompareArgs {
  std::string config;
  std::optional<std::string> storage;
  std::optional<std::string> study;
  std::optional<std::string> versus;  ///< a second study (same storage, same space) whose best is also retrained
  bool no_default = false;            ///< skip retraining the default configuration
  std::optional<int> seeds;
  std::optional<int> dialogues;
  std::optional<int> test_dialogues;
  std::optional<int> threads;
  uint64_t seed = 1;  ///< base seed of the fresh runs (the study's trials use the config's seed)
  bool json = false;
};

int run_dialog_train(const DialogTrainArgs& args, std::ostream& out);
int run_dialog_eval(const DialogEvalArgs& args, std::ostream& out);
int run_dialog_show(const DialogShowArgs& args, std::ostream& out);
int run_dialog_compare(const DialogCompareArgs& args, std::ostream& out);

/// Flags of `dialog train | eval | show | compare` (declare_dialog_env: the --env/--domain/... group).
void declare_dialog_env(CLI::App& command, DialogEnvArgs& args);
void declare_dialog_train(CLI::App& command, DialogTrainArgs& args);
void declare_dialog_eval(CLI::App& command, DialogEvalArgs& args);
void declare_dialog_show(CLI::App& command, DialogShowArgs& args);
void declare_dialog_compare(CLI::App& command, DialogCompareArgs& args);

}  // namespace metadial::cli
