// `metadial meta-train optimizer`: REINFORCE or gradient-based meta-training of the two-level LSTM optimizer.
#include "cli/meta_train_optimizer.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "metadial/core/error.h"
#include "metadial/core/progress.h"
#include "metadial/meta/optimizer_trainer.h"

namespace metadial::cli {

CLI::App* add_meta_train_optimizer_command(CLI::App& meta_train, MetaTrainOptimizerArgs& a) {
  auto* c = meta_train.add_subcommand("optimizer", "meta-train the two-level LSTM black-box optimizer on GP-prior functions");
  c->add_option("--dims", a.dims, "dimension d of the unit cube")->capture_default_str();
  c->add_option("--horizon", a.horizon, "steps per episode T")->capture_default_str();
  c->add_option("--loss", a.loss, "optimizee loss: min | sum | oi | ei")->capture_default_str();
  c->add_option("--method", a.method,
                "meta-gradient: reinforce (both levels) | gradient (Chen et al.: backprop through the unrolled "
                "episode, losses min|sum|oi; with --fidelities > 1 the fidelity level by REINFORCE)")
      ->capture_default_str();
  c->add_flag("--detach-inputs", a.detach_inputs,
              "--method gradient: no gradient through the network's inputs (x, y of the previous step)");
  c->add_flag("--deterministic", a.deterministic,
              "--method gradient: deterministic proposals x_t = sigmoid(mu_t) as Chen et al. (default: reparameterized "
              "samples)");
  c->add_option("--fidelities", a.fidelities, "number of fidelities M (costs 1, 10, 100, ...)")->capture_default_str();
  c->add_option("--budget", a.budget, "cost budget Lambda of eq. 7 (0: the plain cost loss, eq. 6)")->capture_default_str();
  c->add_option("--lambda", a.lambda, "eq. 8: lambda L_o + (1 - lambda) L_c")->capture_default_str();
  c->add_option("--low-correlation", a.low_correlation, "correlation of the cheapest fidelity with the target")
      ->capture_default_str();
  c->add_option("--seed", a.seed, "random seed")->capture_default_str();
  c->add_option("--out", a.out, "model file to write, e.g. models/lstm-d2.pt (card: models/lstm-d2.json)")->required();
  c->add_option("--iterations", a.iterations, "updates (batches of episodes)")->capture_default_str();
  c->add_option("--batch", a.batch, "episodes per update")->capture_default_str();
  c->add_option("--rollouts", a.rollouts,
                "REINFORCE: episodes per sampled function (divides --batch); > 1: the baseline averages the "
                "other episodes on the same function")
      ->capture_default_str();
  c->add_option("--lr", a.learning_rate, "Adam learning rate")->capture_default_str();
  c->add_option("--entropy", a.entropy, "entropy bonus weight")->capture_default_str();
  c->add_option("--hidden", a.hidden, "first-level LSTM size")->capture_default_str();
  c->add_option("--eval-every", a.eval_every, "updates between held-out validations")->capture_default_str();
  c->add_option("--validation", a.validation, "held-out functions")->capture_default_str();
  c->add_option("--time-limit", a.time_limit, "stop after this many seconds (0: none)")->capture_default_str();
  c->add_option("--init", a.init,
                "continue from this model file (same --dims, --fidelities, --hidden); the card keeps its path");
  c->add_option("--threads", a.threads, "LibTorch threads")->capture_default_str();
  return c;
}

int run_meta_train_optimizer(const MetaTrainOptimizerArgs& a, std::ostream& out) {
  MD_CHECK(!a.out.empty(), "--out PATH is required (e.g. models/lstm-d2.pt)");
  MD_CHECK(a.threads >= 1, "--threads must be >= 1, got ", a.threads);
  meta::TrainerOptions o;
  o.loss = meta::loss_from_string(a.loss);
  o.method = meta::method_from_string(a.method);
  o.detach_inputs = a.detach_inputs;
  MD_CHECK(!a.deterministic || o.method == meta::Method::kGradient,
           "--deterministic needs --method gradient (REINFORCE needs a stochastic policy)");
  o.reparameterize = !a.deterministic;
  o.model.dim = a.dims;
  o.model.fidelities = a.fidelities;
  o.model.hidden = a.hidden;
  o.horizon = a.horizon;
  o.batch = a.batch;
  o.rollouts_per_function = a.rollouts;
  o.iterations = a.iterations;
  o.learning_rate = a.learning_rate;
  o.entropy = a.entropy;
  o.lambda = a.lambda;
  o.budget = a.budget;
  o.fidelity.low_correlation = a.low_correlation;
  o.eval_every = a.eval_every;
  o.n_validation = a.validation;
  o.seed = a.seed;
  o.time_limit_s = a.time_limit;
  o.init = a.init;
  o.threads = a.threads;
  o.finalize();

  out << fmt::format("meta-train optimizer ({}): d={} M={} horizon {} loss {} batch {} iterations {}{} seed {}\n",
                     to_string(o.method), o.model.dim,
                     o.model.fidelities, o.horizon, to_string(o.loss), o.batch, o.iterations,
                     o.model.fidelities > 1 ? fmt::format(" budget {} lambda {}", o.budget, o.lambda) : "", o.seed);
  out.flush();
  ProgressDisplay progress("meta-train optimizer", o.iterations);
  auto on_progress = [&](const meta::TrainingProgress& p) {
    std::string status = fmt::format("loss {:.3f}  cost {:.1f}", p.mean_loss, p.mean_cost);
    if (p.iteration > 0) progress.update(p.iteration, status);
    if (p.validation) {
      out << fmt::format("iteration {}: held-out regret {:.4f} +- {:.4f} ({} functions, {} steps), cost {:.1f}  ({:.1f} s)\n",
                         p.iteration, p.validation->mean_regret, p.validation->sem_regret, p.validation->n, o.horizon,
                         p.validation->mean_cost, p.elapsed_s);
      out.flush();
    }
  };
  optim::learned::LearnedOptimizer model = meta::train(o, on_progress);
  progress.finish();

  namespace fs = std::filesystem;
  const fs::path parent = fs::path(a.out).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  nlohmann::json card = model.card();
  card["model"] = a.out;
  card["created_by"] = "metadial meta-train optimizer";
  std::string cmd =
      fmt::format("metadial meta-train optimizer --dims {} --horizon {} --loss {} --method {} --fidelities {}", a.dims,
                  a.horizon, a.loss, a.method, a.fidelities);
  if (a.fidelities > 1) cmd += fmt::format(" --budget {} --lambda {} --low-correlation {}", a.budget, a.lambda, a.low_correlation);
  cmd += fmt::format(" --seed {} --iterations {} --batch {} --lr {} --entropy {} --hidden {} --eval-every {} --validation {}",
                     a.seed, a.iterations, a.batch, a.learning_rate, a.entropy, a.hidden, a.eval_every, a.validation);
  if (a.detach_inputs) cmd += " --detach-inputs";
  if (a.deterministic) cmd += " --deterministic";
  if (a.rollouts > 1) cmd += fmt::format(" --rollouts {}", a.rollouts);
  if (a.time_limit > 0) cmd += fmt::format(" --time-limit {}", a.time_limit);
  if (!a.init.empty()) cmd += " --init " + a.init;
  cmd += " --out " + a.out;
  card["command"] = cmd;
  model.set_card(card);
  model.save(a.out);
  const std::string card_path = fs::path(a.out).replace_extension(".json").string();
  std::ofstream(card_path) << card.dump(2) << "\n";
  const auto& v = card["validation"];
  out << fmt::format("wrote {} ({} bytes) and {}: held-out regret {:.4f} ({} {:.4f}) after {:.1f} s\n", a.out,
                     fs::file_size(a.out), card_path, v["regret"].get<double>(),
                     a.init.empty() ? "untrained" : "at the start", v["initial_regret"].get<double>(),
                     card["train_seconds"].get<double>());
  return 0;
}

}  // namespace metadial::cli
