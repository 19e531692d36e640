// `metadial meta-train pfn`: prior-data fitting of the PFN surrogate (optim/learned/pfn.h) that the
// `pfn` sampler uses.
#pragma once

#include <ostream>
#include <string>

#include "metadial/meta/pfn_trainer.h"

namespace CLI {
class App;
}

namespace metadial::cli {

/// Flags of `metadial meta-train pfn`: bound straight to the trainer's options.
struct MetaTrainPfnArgs {
  meta::PfnTrainerOptions options;  ///< --minutes, --iterations, --init, --seed, sizes, prior
  std::string out;                  ///< --out models/pfn.pt (card: models/pfn.json)
  int threads = 1;                  ///< --threads: LibTorch intra-op threads of this process
};

/// Declares the flags of `meta-train pfn` on `command`.
void declare_meta_train_pfn(CLI::App& command, MetaTrainPfnArgs& args);

/// Runs it: trains with progress (stderr) and a validation line per checkpoint (out), writes the
/// model to --out at every checkpoint and at the end, and its JSON card beside it. Returns 0.
int run_meta_train_pfn(const MetaTrainPfnArgs& args, std::ostream& out);

}  // namespace metadial::cli
