// `metadial transfer run CONFIG.toml [--json]`: one experiment of seed paper 001 (meta-weighted
// transfer) from a TOML config, for one method and one or more seeds.
//
//   [experiment]  kind = "noisy-images" | "dialog", method = "learned" (see transfer::to_string(Method)),
//                 seeds = [0, 1], auxiliary = true (weighting rows use a second head; dialog default)
//   [trainer]     iterations, batch_size, primary_step, meta_updates, simulated_steps, model_lr,
//                 weight_lr, simulated_lr, adam_eps, eval_every, pretrain_iterations
//   [noisy_images] data (folder), prefix ("t10k"), train, validation, test (split sizes), corruption
//                 ("shift" | "uniform"), wrong_fraction, split_seed
//   [dialog]      primary_train, primary_validation, primary_test, related_train, primary_dialogs,
//                 related_dialogs, test_dialogs, memory_size, embedding, hops
//
// Relative paths are taken relative to the working directory. An unknown section or key, a value
// of the wrong type or out of its domain throws ConfigError naming file, line and key; bad data
// files (IDX with a wrong magic number or truncated, malformed bAbI lines) throw DataError naming
// the file. examples/transfer_*.toml are examples.
#pragma once

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace metadial::cli {

struct TransferRunArgs {
  std::string config;
  bool json = false;
};

int run_transfer(const TransferRunArgs& args, std::ostream& out);

/// Flags of `transfer run`.
void declare_transfer_run(CLI::App& command, TransferRunArgs& args);

}  // namespace metadial::cli
