// The `metadial` program: one subcommand per user task, all listed in make_commands() below.
//
// Exit codes: 0 success; 1 a run that failed at run time (e.g. a study stopped on repeated
// trial failures); 2 a user error (bad flag, bad config, unusable storage, bad data or model
// file), with one line on stderr naming what is wrong and where; 130 / 143 / 129 `tune` stopped by
// SIGINT / SIGTERM / SIGHUP.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "cli/commands.h"
#include "cli/dashboard_command.h"
#include "cli/storage_commands.h"
#include "cli/study_commands.h"
#if METADIAL_WITH_TORCH
#include "cli/data_commands.h"
#include "cli/dialog_commands.h"
#include "cli/e2e_commands.h"
#include "cli/memn2n_commands.h"
#include "cli/meta_train.h"
#include "cli/meta_train_optimizer.h"
#include "cli/meta_train_pfn.h"
#include "cli/online_commands.h"
#include "cli/transfer_commands.h"
#include "metadial/nn/threads.h"
#endif
#include "cli/version.h"
#include "metadial/core/interrupt.h"
#include "metadial/storage/storage.h"

namespace {

using namespace metadial::cli;

// Every command of the program, in the order `metadial --help` lists them.
Commands make_commands() {
  Commands c;
  c.push_back(command<TuneArgs>("tune", "run a hyperparameter study from a TOML config", declare_tune, run_tune));
  c.push_back(command<EnqueueArgs>("enqueue", "queue a configuration to run first in a study (e.g. the default one)",
                                   declare_enqueue, run_enqueue));
  c.push_back(command<ReadArgs>("trials", "list the trials of a stored study", declare_trials, run_trials));
  c.push_back(command<ReadArgs>("best", "show the best trial of a stored study", declare_best, run_best));
  c.push_back(command<ReadArgs>("studies", "list the studies in a storage", declare_studies, run_studies));
  c.push_back(make_study_command());
  c.push_back(make_storage_command());
  c.push_back(command<DashboardArgs>("dashboard", "serve a live web dashboard of the studies in a storage", declare_dashboard, run_dashboard));
  c.push_back(command<ReportArgs>("report", "write a study's charts and trials table as one self-contained HTML file", declare_report, run_report));
#if METADIAL_WITH_TORCH
  c.push_back(group(
      "meta-train", "meta-train a learned optimizer across many tasks",
      command<MetaTrainHyprlArgs>("hyprl", "meta-train a Hyp-RL policy (DQN over grid configurations)",
                                  declare_meta_train_hyprl, run_meta_train_hyprl),
      command<MetaTrainOptimizerArgs>("optimizer",
                                      "meta-train the two-level LSTM black-box optimizer on GP-prior functions",
                                      declare_meta_train_optimizer, run_meta_train_optimizer),
      command<MetaTrainPfnArgs>("pfn", "meta-train the PFN surrogate (a transformer) of the `pfn` sampler on GP-prior functions",
                                declare_meta_train_pfn, run_meta_train_pfn)));
  c.push_back(group(
      "dialog", "train, evaluate, show and compare dialogue policies on the simulated user",
      command<DialogTrainArgs>("train", "train a DQN policy, printing its learning curve", declare_dialog_train,
                               run_dialog_train),
      command<DialogEvalArgs>("eval", "evaluate a policy: success rate, reward and turns with 95 % CIs",
                              declare_dialog_eval, run_dialog_eval),
      command<DialogShowArgs>("show", "print dialogues turn by turn (user act, N-best, belief, system act, reward)",
                              declare_dialog_show, run_dialog_show),
      command<DialogCompareArgs>("compare",
                                 "default DQN vs the best configuration of a dqn-dialogue study, on fresh seeds",
                                 declare_dialog_compare, run_dialog_compare),
      command<DialogCorpusArgs>(
          "corpus", "generate an annotated corpus (rule expert vs agenda user, template NLG) in the sim-M schema",
          declare_dialog_corpus, run_dialog_corpus),
      command<DialogDstArgs>("dst",
                             "train the neural state tracker on sim-M-schema data; per-slot and joint goal accuracy",
                             declare_dialog_dst, run_dialog_dst),
      group("e2e", "the end-to-end neural dialogue agent (Liu et al. 2018)",
            command<DialogE2eTrainArgs>(
                "train", "train the agent (sl: equation 4 on a corpus), then talk to the simulated user",
                declare_dialog_e2e_train, run_dialog_e2e_train),
            command<DialogE2eEvalArgs>(
                "eval", "a saved agent against the simulated user: success rate, turns, state accuracy",
                declare_dialog_e2e_eval, run_dialog_e2e_eval)),
      command<DialogChatArgs>(
          "chat", "talk to a saved e2e agent in the terminal (you are the user); --teach corrects it",
          declare_dialog_chat, run_dialog_chat_terminal)));
  c.push_back(group(
      "memn2n", "end-to-end memory network for response retrieval (bAbI dialog format)",
      command<Memn2nTrainArgs>("train", "train on bAbI-format dialogues, select on dev, report test accuracy",
                               declare_memn2n_train, run_memn2n_train),
      command<Memn2nEvalArgs>("eval", "per-response accuracy of a trained model on a dialogue file",
                              declare_memn2n_eval, run_memn2n_eval)));
  c.push_back(group("transfer", "meta-weighted transfer from related-task data (seed paper 001)",
                    command<TransferRunArgs>("run", "run one experiment from a TOML config", declare_transfer_run,
                                             run_transfer)));
  c.push_back(group("data", "generate data sets", command<DataPersonalizeArgs>("personalize", "personalized bAbI task 3 from bAbI task 3 and the personalized KB", declare_data_personalize, run_data_personalize)));
  c.push_back(group(
      "online", "train a network while the meta-RL controller sets its hyperparameters",
      command<OnlineRunArgs>("run", "one training under the controller or a baseline, from a TOML config",
                             declare_online_run, run_online_run),
      command<OnlineMetaTrainArgs>("meta-train", "meta-train the controller over several runs and save it",
                                   declare_online_meta_train, run_online_meta_train)));
#endif
  return c;
}

}  // namespace

int main(int argc, char** argv) {
#if METADIAL_WITH_TORCH
  metadial::nn::set_torch_threads(1);  // once per process; commands with --threads change it
#endif
  CLI::App app{"metadial: learning to learn task-oriented dialogue agents"};
  app.set_version_flag("--version", std::string("metadial ") + version());
  Commands commands = make_commands();
  // `tune` stops cleanly on Ctrl-C, SIGTERM and SIGHUP (its trials' programs stopped, the trials
  // failed as interrupted, exit 128 + the signal). The other commands do not look at the flag:
  // they keep the default action of these signals, so that they still stop at once.
  if (argc > 1 && std::string_view(argv[1]) == "tune") metadial::interrupt::install();
  // A password in a storage URL (postgresql://user:PASSWORD@host/db) is visible to every user of
  // the machine through ps: parse a copy, and overwrite the password in the process's own
  // argument memory with '*' (prefer PGPASSWORD or ~/.pgpass: this only narrows the window).
  std::vector<std::string> copies(argv, argv + argc);
  std::vector<char*> args;
  for (auto& c : copies) args.push_back(c.data());
  for (int i = 1; i < argc; ++i) {
    const std::string_view original = argv[i];
    const std::string masked = metadial::storage::mask_password(argv[i]);
    if (masked == original) continue;
    size_t prefix = 0;
    while (prefix < masked.size() && prefix < original.size() && masked[prefix] == original[prefix]) ++prefix;
    size_t suffix = 0;
    while (suffix < masked.size() - prefix && suffix < original.size() - prefix &&
           masked[masked.size() - 1 - suffix] == original[original.size() - 1 - suffix]) {
      ++suffix;
    }
    std::fill(argv[i] + prefix, argv[i] + original.size() - suffix, '*');
  }
  return run_program(app, commands, argc, args.data(), std::cout, std::cerr);
}
