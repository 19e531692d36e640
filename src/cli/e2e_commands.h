// `metadial dialog corpus|dst|e2e|chat`: the language layer, the state tracker and the end-to-end
// agent (issue 5; Liu et al. 2018).
//
//   dialog corpus --domain movie --out DIR [--train 10000 --dev 1000 --test 1000] [--templates
//                 training|extended] [--seed S]: self-play of the agenda-based user against the
//                 rule expert, written as DIR/{train,dev,test}.json in the sim-M schema
//   dialog dst --train FILE --dev FILE --test FILE [--epochs N --seed S --word-dim ...] [--json]:
//                 trains the state tracker and reports per-slot and joint goal accuracy on test
//   dialog e2e train --stage sl --train FILE [--dev FILE] --domain movie [--eval-dialogues N]
//                 [--templates extended] [--curve FILE.csv] [--out agent.pt] [--json]: supervised
//                 training of the end-to-end agent (equation 4), then interactive evaluation with
//                 the simulated user (success rate, turns, state accuracy). The tracker's candidate
//                 values are the corpus' plus the domain's other values. --stage il adds
//                 --il-dialogues taught dialogues (Algorithm 1, lines 2-7); --stage rl adds those
//                 (if any) and --rl-dialogues REINFORCE dialogues (lines 8-12; --policy-only for
//                 policy-only updates). --model agent.pt starts from a saved agent instead of SL
//                 (stages il / rl); --il-corpus FILE adds dialogues taught in `dialog chat
//                 --teach` to the corpus D and takes --il-passes updates on them first.
//   dialog e2e eval --model agent.pt [--dialogues N --templates extended --seed S --test FILE
//                 --json]: interactive evaluation (success rate, turns of successful dialogues,
//                 per-slot and joint state accuracy); --test adds corpus state and action accuracy.
//   dialog chat --model agent.pt [--teach --corpus-out FILE.json] [--seed S]: a person is the
//                 user (run_dialog_chat reads lines from an istream, writes to an ostream; the
//                 CLI passes std::cin / std::cout). With --teach, after each system turn the
//                 person may correct the tracked slots (slot=value) and the action (a N); the
//                 corrected dialogue is appended to --corpus-out (temp file + rename).
//
// Bad input (malformed corpus, unknown slot values, bad sizes) throws DataError /
// InvalidArgument with one line; main() prints it and exits 2.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "metadial/agents/e2e/e2e_agent.h"
#include "metadial/agents/e2e/state_tracker.h"

namespace metadial::cli {

struct DialogCorpusArgs {
  std::string user_profiles;  ///< TOML profile mix of the simulated user ("" = the built-in simm mix)
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

/// `dialog e2e train`: supervised training of the end-to-end agent on a corpus of the domain (or
/// a saved agent), imitation / reinforcement stages, interactive evaluation, an optional model file.
struct DialogE2eTrainArgs {
  std::string user_profiles;  ///< TOML profile mix of the simulated user ("" = the built-in simm mix)
  std::string stage = "sl";
  std::string train, dev;
  std::string domain;      ///< "" = movie (or the model's domain with --model)
  std::string out;         ///< write the trained agent here (optional)
  std::string model;       ///< start from this saved agent instead of SL (stages il / rl)
  std::string il_corpus;   ///< dialogues taught in chat (sim-M JSON), joining the imitation corpus
  int il_passes = 1;       ///< supervised passes on the --il-corpus dialogues
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

/// `dialog e2e eval`: a saved agent against the simulated user (and optionally a test corpus).
struct DialogE2eEvalArgs {
  std::string user_profiles;  ///< TOML profile mix of the simulated user ("" = the built-in simm mix)
  std::string model;
  std::string domain;  ///< optional: the domain the agent must be for
  int dialogues = 200;
  std::string templates = "extended";
  uint64_t seed = 0;
  int max_turns = 15;
  std::string test;    ///< optional test corpus: state tracking and action accuracy
  bool json = false;
};

/// `dialog chat`: a person talks to a saved agent.
struct DialogChatArgs {
  std::string model;
  std::string domain;      ///< optional: the domain the agent must be for
  bool teach = false;      ///< correct the tracked slots and the action after each system turn
  std::string corpus_out;  ///< append each finished dialogue here (sim-M JSON)
  uint64_t seed = 0;       ///< system NLG template choice
  int max_turns = 30;      ///< system turns per dialogue before the agent closes it
};

int run_dialog_e2e_train(const DialogE2eTrainArgs& args, std::ostream& out);
int run_dialog_e2e_eval(const DialogE2eEvalArgs& args, std::ostream& out);
/// Reads the person's lines from `in` until `quit` or end of input; writes prompts, the agent's
/// utterances and (with --teach) the state / action menu to `out`. Bad lines (empty, not
/// UTF-8, an unknown slot or value in the menu) get one line on `out` and the chat goes on.
int run_dialog_chat(const DialogChatArgs& args, std::istream& in, std::ostream& out);
int run_dialog_corpus(const DialogCorpusArgs& args, std::ostream& out);
int run_dialog_dst(const DialogDstArgs& args, std::ostream& out);

/// `dialog chat` in a terminal: reads the person's lines from std::cin.
int run_dialog_chat_terminal(const DialogChatArgs& args, std::ostream& out);

/// Flags of `dialog corpus`, `dialog dst`, `dialog e2e train|eval` and `dialog chat`.
void declare_dialog_corpus(CLI::App& command, DialogCorpusArgs& args);
void declare_dialog_dst(CLI::App& command, DialogDstArgs& args);
void declare_dialog_e2e_train(CLI::App& command, DialogE2eTrainArgs& args);
void declare_dialog_e2e_eval(CLI::App& command, DialogE2eEvalArgs& args);
void declare_dialog_chat(CLI::App& command, DialogChatArgs& args);

}  // namespace metadial::cli
