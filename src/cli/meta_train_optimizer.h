// `metadial meta-train optimizer`: meta-training the two-level LSTM optimizer
// (optim/learned/) on GP-prior functions.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace metadial::cli {

/// Flags of `metadial meta-train optimizer`.
struct MetaTrainOptimizerArgs {
  int dims = 1;                  ///< --dims D
  int horizon = 20;              ///< --horizon T
  std::string loss = "oi";       ///< --loss min|sum|oi|ei
  std::string method = "reinforce";  ///< --method reinforce|gradient
  bool detach_inputs = false;        ///< --detach-inputs (gradient method)
  int rollouts = 1;                  ///< --rollouts (REINFORCE: episodes per function)
  bool deterministic = false;        ///< --deterministic (gradient method: x_t = sigmoid(mu_t))
  int fidelities = 1;            ///< --fidelities M
  double budget = 0.0;           ///< --budget B (cost units; 0: eq. 6)
  double lambda = 0.9;           ///< --lambda L
  double low_correlation = 0.8;  ///< --low-correlation
  uint64_t seed = 0;             ///< --seed
  std::string out;               ///< --out models/NAME.pt
  int iterations = 2000;         ///< --iterations
  int batch = 32;                ///< --batch
  double learning_rate = 1e-3;   ///< --lr
  double entropy = 0.01;         ///< --entropy
  int hidden = 64;               ///< --hidden
  int eval_every = 200;          ///< --eval-every
  int validation = 64;           ///< --validation (held-out functions)
  double time_limit = 0.0;       ///< --time-limit seconds
  std::string init;              ///< --init model file to continue from
  int threads = 1;               ///< --threads
};

/// Declares `optimizer` under the `meta-train` parent; returns the new subcommand.
CLI::App* add_meta_train_optimizer_command(CLI::App& meta_train, MetaTrainOptimizerArgs& args);

/// Runs it: trains with progress (stderr) and held-out validation lines (out), writes the model
/// and a JSON card beside it (NAME.json). Returns 0. Throws InvalidArgument on bad flags.
int run_meta_train_optimizer(const MetaTrainOptimizerArgs& args, std::ostream& out);

}  // namespace metadial::cli
