// `metadial meta-train hyprl`: DQN meta-training of a Hyp-RL policy on a tabular benchmark.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "cli/meta_train.h"
#include "cli/command.h"
#include "metadial/core/error.h"
#include "metadial/core/file.h"
#include "metadial/core/progress.h"
#include "metadial/nn/threads.h"
#include "metadial/objective/tabular.h"
#include "metadial/optim/hyprl/trainer.h"

namespace metadial::cli {
namespace {

namespace fs = std::filesystem;
using optim::hyprl::EvalSummary;

std::string regret_text(const EvalSummary& e) {
  return fmt::format("@1 {:.4f}  @10 {:.4f}  @20 {:.4f}  @{} {:.4f}", e.regret_at_1, e.regret_at_10, e.regret_at_20,
                     e.horizon, e.regret_at_horizon);
}

// models/x.pt, fold 2 -> models/x-fold2.pt
std::string fold_path(const std::string& out, int fold) {
  const fs::path p(out);
  return (p.parent_path() / (p.stem().string() + "-fold" + std::to_string(fold) + p.extension().string())).string();
}

std::string card_path(const std::string& model) { return fs::path(model).replace_extension(".json").string(); }

struct Split {
  std::vector<size_t> train, eval;
  std::string model;
  std::string label;
};

}  // namespace

void declare_meta_train_hyprl(CLI::App& command, MetaTrainHyprlArgs& a) {
  CLI::App* c = &command;
  c->add_option("--metadata", a.metadata, "benchmark folder: one meta-data file per data set")->required();
  c->add_option("--layout", a.layout, "layout descriptor (default: layout.toml in the folder, else the SVM layout)");
  c->add_option("--holdout", a.holdout, "data sets held out of training and evaluated on (comma-separated)")
      ->delimiter(',');
  c->add_option("--folds", a.folds, "K-fold cross-validation over the data sets (one model per fold)");
  c->add_option("--fold", a.fold, "with --folds: train only this fold (0-based)");
  c->add_option("--horizon", a.horizon, "configurations per episode")->capture_default_str();
  c->add_option("--seed", a.seed, "random seed")->capture_default_str();
  c->add_option("--out", a.out, "model file to write, e.g. models/svm.pt (folds: models/svm-fold<i>.pt)")->required();
  c->add_option("--episodes", a.episodes, "episodes to play")->capture_default_str();
  c->add_option("--gamma", a.gamma, "discount")->capture_default_str();
  c->add_option("--lr", a.learning_rate, "Adam learning rate")->capture_default_str();
  c->add_option("--reward", a.reward, "response (the paper) | normalized | improvement")->capture_default_str();
  c->add_option("--eval-every", a.eval_every, "episodes between held-out evaluations")->capture_default_str();
  c->add_option("--hidden", a.lstm_hidden, "LSTM state size")->capture_default_str();
  c->add_flag("--no-meta-features", a.no_meta_features, "train a policy that reads no meta-features");
  c->add_option("--threads", a.threads, "LibTorch threads")->capture_default_str();
}

int run_meta_train_hyprl(const MetaTrainHyprlArgs& args, std::ostream& out) {
  MD_CHECK(!(args.folds && !args.holdout.empty()), "give either --holdout or --folds, not both");
  MD_CHECK(!args.fold || args.folds, "--fold needs --folds K");
  MD_CHECK(!args.out.empty(), "--out PATH is required (e.g. models/svm.pt)");
  std::optional<objective::TabularLayout> layout;
  if (args.layout) layout = objective::TabularLayout::from_file(*args.layout);
  const objective::TabularBenchmark b = objective::load_tabular_benchmark(args.metadata, layout);

  optim::hyprl::TrainerOptions o;
  o.horizon = args.horizon;
  o.episodes = args.episodes;
  o.gamma = args.gamma;
  o.learning_rate = args.learning_rate;
  o.reward = optim::hyprl::reward_from_string(args.reward);
  o.eval_every = args.eval_every;
  o.seed = args.seed;
  o.policy.lstm_hidden = args.lstm_hidden;
  o.policy.use_meta_features = !args.no_meta_features;
  o.validate();
  MD_CHECK(args.threads >= 1, "--threads must be >= 1, got ", args.threads);
  nn::set_torch_threads(args.threads);  // --threads: the command owns the process (the trainer never sets it)

  std::vector<Split> splits;
  const size_t n = b.datasets.size();
  if (args.folds) {
    const auto folds = optim::hyprl::make_folds(n, *args.folds, args.seed);
    MD_CHECK(!args.fold || (*args.fold >= 0 && *args.fold < *args.folds), "--fold must be in [0, ", *args.folds - 1,
             "], got ", args.fold.value_or(0));
    for (int k = 0; k < *args.folds; ++k) {
      if (args.fold && *args.fold != k) continue;
      Split s;
      s.eval = folds[static_cast<size_t>(k)];
      const std::set<size_t> held(s.eval.begin(), s.eval.end());
      for (size_t i = 0; i < n; ++i) {
        if (!held.count(i)) s.train.push_back(i);
      }
      s.model = fold_path(args.out, k);
      s.label = fmt::format("fold {}/{}", k, *args.folds);
      splits.push_back(std::move(s));
    }
  } else {
    Split s;
    std::set<size_t> held;
    for (const auto& name : args.holdout) held.insert(b.index_of(name));
    s.eval.assign(held.begin(), held.end());
    for (size_t i = 0; i < n; ++i) {
      if (!held.count(i)) s.train.push_back(i);
    }
    MD_CHECK(!s.train.empty(), "--holdout keeps every data set out of training; leave some to train on");
    s.model = args.out;
    s.label = "all";
    splits.push_back(std::move(s));
  }

  out << fmt::format("meta-train hyprl: {} from {} ({} data sets), horizon {}, {} episodes, reward {}, seed {}\n",
                     b.grid->describe(), b.path, n, o.horizon, o.episodes, to_string(o.reward), o.seed);
  for (const Split& s : splits) {
    out << fmt::format("[{}] training on {} data sets, held out: {}\n", s.label, s.train.size(),
                       s.eval.empty() ? std::string("none") : fmt::format("{}", s.eval.size()));
    out.flush();
    ProgressDisplay progress("meta-train hyprl " + s.label, o.episodes);
    auto on_progress = [&](const optim::hyprl::TrainingProgress& p) {
      std::string status = fmt::format("eps {:.2f}  loss {:.4g}  updates {}", p.epsilon, p.loss, p.updates);
      if (p.eval) status += "  held-out regret@10 " + fmt::format("{:.4f}", p.eval->regret_at_10);
      progress.update(p.episodes, status);
      if (p.eval) {
        out << fmt::format("[{}] episode {}: held-out normalized regret {}  ({:.1f} s)\n", s.label, p.episodes,
                           regret_text(*p.eval), p.elapsed_s);
        out.flush();
      }
    };
    optim::hyprl::Policy policy = optim::hyprl::train(b, s.train, s.eval, o, on_progress);
    progress.finish();
    const fs::path parent = fs::path(s.model).parent_path();
    if (!parent.empty()) fs::create_directories(parent);
    nlohmann::json card = policy.card();
    card["model"] = s.model;
    card["created_by"] = "metadial meta-train hyprl";
    card["split"] = s.label;
    card["command"] = command_line().empty() ? "(run from C++)" : command_line();
    policy.set_card(card);
    policy.save(s.model);
    write_file_atomically(card_path(s.model), card.dump(2) + "\n");
    out << fmt::format("[{}] wrote {} and {} ({:.1f} s of training)\n", s.label, s.model, card_path(s.model),
                       card.value("train_seconds", 0.0));
  }
  return 0;
}

}  // namespace metadial::cli
