// `metadial dialog corpus` and `metadial dialog dst`: the language layer and the state tracker of
// the end-to-end agent (issue 5; Liu et al. 2018).
//
//   dialog corpus --domain movie --out DIR [--train 10000 --dev 1000 --test 1000] [--templates
//                 training|extended] [--seed S]: self-play of the agenda-based user against the
//                 rule expert, written as DIR/{train,dev,test}.json in the sim-M schema
//   dialog dst --train FILE --dev FILE --test FILE [--epochs N --seed S --word-dim ...] [--json]:
//                 trains the state tracker and reports per-slot and joint goal accuracy on test
//   dialog e2e train --stage sl --train FILE [--dev FILE] --domain movie [--eval-dialogues N]
//                 [--templates extended] [--curve FILE.csv] [--json]: supervised training of the
//                 end-to-end agent (equation 4), then interactive evaluation with the simulated user
//                 (success rate, turns, state accuracy). There are no model files yet, so each run
//                 starts with SL: --stage il adds --il-dialogues taught dialogues (Algorithm 1,
//                 lines 2-7); --stage rl adds those (if any) and --rl-dialogues REINFORCE dialogues
//                 (lines 8-12; --policy-only for policy-only updates).
//
// Bad input (malformed corpus, unknown slot values, bad sizes) throws DataError /
// InvalidArgument with one line; main() prints it and exits 2.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "metadial/agents/e2e/e2e_agent.h"
#include "metadial/agents/e2e/state_tracker.h"

namespace metadial::cli {

struct DialogCorpusArgs {
  std::string domain = "movie";
  std::string out;
  int train = 10000, dev = 1000, test = 1000;
  std::string templates = "training";
  uint64_t seed = 0;
  int kb_entities = 100;
  uint64_t kb_seed = 0;
  bool json = false;
};

struct DialogDstArgs {
  std::string train, dev, test;
  agents::e2e::TrackerOptions options;
  bool train_ontology_only = false;  ///< candidate values from the train file only
  bool json = false;
};

/// `dialog e2e train --stage sl`: supervised training of the end-to-end agent on a corpus of the
/// domain, then interactive evaluation against the simulated user (no model file yet).
struct DialogE2eTrainArgs {
  std::string stage = "sl";
  std::string train, dev;
  std::string domain = "movie";
  int kb_entities = 100;
  uint64_t kb_seed = 0;
  agents::e2e::AgentOptions options;
  int eval_dialogues = 200;
  std::string templates = "extended";
  std::string curve;  ///< CSV learning curve (optional)
  int il_dialogues = 0;    ///< stage il / rl: taught dialogues after SL
  int rl_dialogues = 1000; ///< stage rl: REINFORCE dialogues
  bool policy_only = false;
  int eval_every = 100;    ///< il / rl: curve point every N dialogues
  bool json = false;
};

int run_dialog_e2e_train(const DialogE2eTrainArgs& args, std::ostream& out);
int run_dialog_corpus(const DialogCorpusArgs& args, std::ostream& out);
int run_dialog_dst(const DialogDstArgs& args, std::ostream& out);

/// Adds `corpus` and `dst` under the `dialog` command. The returned function runs the chosen one
/// and returns -1 when neither was chosen.
std::function<int(std::ostream&)> add_e2e_commands(CLI::App* dialog);

}  // namespace metadial::cli
