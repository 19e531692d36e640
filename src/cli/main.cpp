// The `metadial` program: one subcommand per user task.
//
// Exit codes: 0 success; 1 a run that failed at run time (e.g. a study stopped on repeated
// trial failures); 2 a user error (bad flag, bad config, unusable storage, bad data or model
// file), with one line on stderr naming what is wrong and where.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#if METADIAL_WITH_TORCH
#include "cli/dialog_commands.h"
#include "cli/memn2n_commands.h"
#include "cli/transfer_commands.h"
#include "cli/online_commands.h"
#include "cli/meta_train_optimizer.h"
#endif
#include "cli/meta_train.h"
#include "cli/version.h"
#include "metadial/core/error.h"

namespace {

int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const metadial::ConfigError& e) {
    std::cerr << "metadial: " << e.what() << "\n";
    return 2;
  } catch (const metadial::InvalidArgument& e) {
    std::cerr << "metadial: " << e.what() << "\n";
    return 2;
  } catch (const metadial::StorageError& e) {
    std::cerr << "metadial: " << e.what() << "\n";
    return 2;
  } catch (const metadial::DataError& e) {
    std::cerr << "metadial: " << e.what() << "\n";
    return 2;
  } catch (const metadial::Error& e) {
    std::cerr << "metadial: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "metadial: unexpected error: " << e.what() << "\n";
    return 1;
  }
}

void add_read_options(CLI::App* cmd, metadial::cli::ReadArgs& a) {
  cmd->add_option("--storage", a.storage, "memory | sqlite:PATH")->capture_default_str();
  cmd->add_option("--study", a.study, "study name (default: the only study in the storage)");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace metadial::cli;
  CLI::App app{"metadial: learning to learn task-oriented dialogue agents"};
  app.set_version_flag("--version", std::string("metadial ") + version());
  app.require_subcommand(1);

  TuneArgs tune;
  auto* t = app.add_subcommand("tune", "run a hyperparameter study from a TOML config");
  t->add_option("config", tune.config_path, "config file (TOML)")->required()->check(CLI::ExistingFile);
  t->add_option("--storage", tune.storage, "memory | sqlite:PATH (default sqlite:metadial.db)");
  t->add_option("--study", tune.study, "study name (default: [study] name, else the config's file name)");
  t->add_option("--sampler", tune.sampler, "random | sobol | lhs | gp (overrides [study] sampler)");
  t->add_option("--trials", tune.trials, "complete trials the study should reach");
  t->add_option("--jobs", tune.jobs, "trials evaluated in parallel");
  t->add_option("--seed", tune.seed, "random seed");
  t->add_option("--max-cost", tune.max_cost, "total cost budget of the study");
  t->add_option("--max-wall", tune.max_wall_s, "wall-time budget of this run, seconds");
  t->add_flag("--json", tune.json, "print one JSON summary as the last line of stdout");

  ReadArgs trials_args;
  auto* tr = app.add_subcommand("trials", "list the trials of a stored study");
  add_read_options(tr, trials_args);
  tr->add_flag("--csv", trials_args.csv, "CSV instead of a table");

  ReadArgs best_args;
  auto* b = app.add_subcommand("best", "show the best trial of a stored study");
  add_read_options(b, best_args);
  b->add_flag("--json", best_args.json, "one JSON object");

  ReadArgs studies_args;
  auto* s = app.add_subcommand("studies", "list the studies in a storage");
  s->add_option("--storage", studies_args.storage, "memory | sqlite:PATH")->capture_default_str();

#if METADIAL_WITH_TORCH
  // meta-train: a parent for one sub-subcommand per meta-trained method.
  auto* mt = app.add_subcommand("meta-train", "meta-train a learned optimizer across many tasks");
  mt->require_subcommand(1);
  MetaTrainHyprlArgs hyprl_args;
  auto* mt_hyprl = add_meta_train_hyprl_command(*mt, hyprl_args);
  MetaTrainOptimizerArgs optimizer_args;
  auto* mt_optimizer = add_meta_train_optimizer_command(*mt, optimizer_args);
#endif

#if METADIAL_WITH_TORCH
  DialogCommand dialog = add_dialog_command(app);
  Memn2nCommand memn2n = add_memn2n_command(app);
  TransferCommand transfer = add_transfer_command(app);
  OnlineCommand online = add_online_command(app);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "metadial: " << e.what() << " (see metadial --help)\n";
    return 2;
  }

  if (*t) return guarded([&] { return run_tune(tune, std::cout); });
  if (*tr) return guarded([&] { return run_trials(trials_args, std::cout); });
  if (*b) return guarded([&] { return run_best(best_args, std::cout); });
  if (*s) return guarded([&] { return run_studies(studies_args, std::cout); });
#if METADIAL_WITH_TORCH
  if (*mt_hyprl) return guarded([&] { return run_meta_train_hyprl(hyprl_args, std::cout); });
  if (*mt_optimizer) return guarded([&] { return run_meta_train_optimizer(optimizer_args, std::cout); });
  if (dialog.selected()) return guarded([&] { return dialog.run(std::cout); });
  if (memn2n.selected()) return guarded([&] { return memn2n.run(std::cout); });
  if (transfer.selected()) return guarded([&] { return transfer.run(std::cout); });
  if (online.selected()) return guarded([&] { return online.run(std::cout); });
#endif
  return 2;
}
