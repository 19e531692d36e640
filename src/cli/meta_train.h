// `metadial meta-train ...`: meta-training learned optimizers across many tasks. One function
// pair per method: declare_meta_train_<method>() declares its flags, run_meta_train_<method>()
// runs it (callable from tests); main names the sub-subcommand.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace metadial::cli {

/// Flags of `metadial meta-train hyprl`.
struct MetaTrainHyprlArgs {
  std::string metadata;                ///< --metadata: benchmark folder (one file per data set)
  std::optional<std::string> layout;   ///< --layout: descriptor (default: layout.toml there, else svm)
  std::vector<std::string> holdout;    ///< --holdout: data sets kept out of training, evaluated on
  std::optional<int> folds;            ///< --folds K: K-fold cross-validation over data sets
  std::optional<int> fold;             ///< --fold I: with --folds, train only fold I (0-based)
  int horizon = 50;                    ///< --horizon T
  uint64_t seed = 0;                   ///< --seed
  std::string out;                     ///< --out models/NAME.pt (fold i: NAME-fold<i>.pt)
  int episodes = 20000;                ///< --episodes
  double gamma = 0.9;                  ///< --gamma
  double learning_rate = 1e-3;         ///< --lr
  std::string reward = "response";     ///< --reward response | normalized | improvement
  int eval_every = 2000;               ///< --eval-every (episodes)
  int lstm_hidden = 64;                ///< --hidden
  bool no_meta_features = false;       ///< --no-meta-features
  int threads = 1;                     ///< --threads (LibTorch intra-op threads)
};

/// Declares the flags of `meta-train hyprl` on `command`.
void declare_meta_train_hyprl(CLI::App& command, MetaTrainHyprlArgs& args);

/// Runs `metadial meta-train hyprl`: trains, reports progress (stderr) and held-out regret
/// (out), writes the model and a JSON card beside it. Returns the exit code (0). Throws
/// InvalidArgument / DataError on bad flags or data.
int run_meta_train_hyprl(const MetaTrainHyprlArgs& args, std::ostream& out);

}  // namespace metadial::cli
