// `metadial meta-train optimizer`: meta-training the two-level LSTM optimizer
// (optim/learned/) on GP-prior functions.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "metadial/meta/optimizer_trainer.h"

namespace CLI {
class App;
}

namespace metadial::cli {

/// Flags of `metadial meta-train optimizer`: bound straight to the trainer's options.
struct MetaTrainOptimizerArgs {
  meta::TrainerOptions options;  ///< --dims, --horizon, --loss, --method, --batch, --lr, ...
  bool deterministic = false;    ///< --deterministic (gradient method: x_t = sigmoid(mu_t))
  std::string out;               ///< --out models/NAME.pt
  int threads = 1;               ///< --threads: LibTorch intra-op threads of this process
};

/// Declares the flags of `meta-train optimizer` on `command`.
void declare_meta_train_optimizer(CLI::App& command, MetaTrainOptimizerArgs& args);

/// Runs it: trains with progress (stderr) and held-out validation lines (out), writes the model
/// and a JSON card beside it (NAME.json). Returns 0. Throws InvalidArgument on bad flags.
int run_meta_train_optimizer(const MetaTrainOptimizerArgs& args, std::ostream& out);

}  // namespace metadial::cli
