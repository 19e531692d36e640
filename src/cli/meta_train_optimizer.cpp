// `metadial meta-train optimizer`: REINFORCE or gradient-based meta-training of the two-level LSTM optimizer.
#include "cli/meta_train_optimizer.h"

#include <CLI/CLI.hpp>

#include <filesystem>

#include <fmt/format.h>

#include "cli/command.h"
#include "metadial/core/error.h"
#include "metadial/core/file.h"
#include "metadial/core/progress.h"
#include "metadial/meta/optimizer_trainer.h"
#include "metadial/nn/threads.h"

namespace metadial::cli {

void declare_meta_train_optimizer(CLI::App& c, MetaTrainOptimizerArgs& a) {
  meta::TrainerOptions& o = a.options;
  c.add_option("--dims", o.model.dim, "dimension d of the unit cube")->capture_default_str();
  c.add_option("--horizon", o.horizon, "steps per episode T")->capture_default_str();
  c.add_option_function<std::string>(
       "--loss", [&o](const std::string& v) { o.loss = meta::loss_from_string(v); },
       "optimizee loss: min | sum | oi | ei")
      ->default_str("oi");
  c.add_option_function<std::string>(
       "--method", [&o](const std::string& v) { o.method = meta::method_from_string(v); },
       "meta-gradient: reinforce (both levels) | gradient (Chen et al.: backprop through the unrolled "
       "episode, losses min|sum|oi; with --fidelities > 1 the fidelity level by REINFORCE)")
      ->default_str("reinforce");
  c.add_flag("--detach-inputs", o.detach_inputs,
             "--method gradient: no gradient through the network's inputs (x, y of the previous step)");
  c.add_flag("--deterministic", a.deterministic,
             "--method gradient: deterministic proposals x_t = sigmoid(mu_t) as Chen et al. (default: reparameterized "
             "samples)");
  c.add_option_function<std::string>(
       "--proposal", [&o](const std::string& v) { o.model.proposal = optim::learned::proposal_from_string(v); },
       "where proposals are centred: absolute (the paper's) | incumbent (the best point so far, in logit space)")
      ->default_str("absolute");
  c.add_option("--lengthscale-min", o.prior.min_lengthscale, "prior: smallest GP lengthscale (times sqrt(d))")
      ->capture_default_str();
  c.add_option("--lengthscale-max", o.prior.max_lengthscale, "prior: largest GP lengthscale (times sqrt(d))")
      ->capture_default_str();
  c.add_option("--anisotropy", o.prior.anisotropy, "prior: per-dimension lengthscale factors a^U[-1,1] (1: isotropic)")
      ->capture_default_str();
  c.add_option("--bumps", o.prior.bump_fraction, "prior: fraction of functions that are sums of Gaussian bumps")
      ->capture_default_str();
  c.add_option("--max-bumps", o.prior.max_bumps, "prior: bumps per function, 1..N")->capture_default_str();
  c.add_option("--bump-width-min", o.prior.min_bump_width, "prior: smallest bump width per dimension")
      ->capture_default_str();
  c.add_option("--bump-width-max", o.prior.max_bump_width, "prior: largest bump width per dimension")
      ->capture_default_str();
  c.add_option("--bump-background", o.prior.bump_background,
               "prior: weight of the GP background under the bumps (0: bumps alone)")
      ->capture_default_str();
  c.add_option("--fidelities", o.model.fidelities, "number of fidelities M (costs 1, 10, 100, ...)")->capture_default_str();
  c.add_option("--budget", o.budget, "cost budget Lambda of eq. 7 (0: the plain cost loss, eq. 6)")->capture_default_str();
  c.add_option("--lambda", o.lambda, "eq. 8: lambda L_o + (1 - lambda) L_c")->capture_default_str();
  c.add_option("--low-correlation", o.fidelity.low_correlation, "correlation of the cheapest fidelity with the target")
      ->capture_default_str();
  c.add_option("--seed", o.seed, "random seed")->capture_default_str();
  c.add_option("--out", a.out, "model file to write, e.g. models/lstm-d2.pt (card: models/lstm-d2.json)")->required();
  c.add_option("--iterations", o.iterations, "updates (batches of episodes)")->capture_default_str();
  c.add_option("--batch", o.batch, "episodes per update")->capture_default_str();
  c.add_option("--rollouts", o.rollouts_per_function,
               "REINFORCE: episodes per sampled function (divides --batch); > 1: the baseline averages the "
               "other episodes on the same function")
      ->capture_default_str();
  c.add_option("--ppo-epochs", o.ppo_epochs,
               "REINFORCE: updates per batch; > 1: PPO's clipped objective, the later ones replaying the batch")
      ->capture_default_str();
  c.add_option("--ppo-clip", o.ppo_clip, "--ppo-epochs > 1: the ratio's clip range eps (1 +- eps)")->capture_default_str();
  c.add_flag("--advantage-per-function", o.advantage_per_function,
             "REINFORCE with --rollouts > 1: scale each function's advantages by their own sd (each function weighs "
             "the same), not by the sd over the batch");
  c.add_option("--advantage-sd-floor", o.advantage_sd_floor,
               "--advantage-per-function: floor each function's sd at this fraction of the batch's (1: never amplify "
               "a low-spread function's noise)")
      ->capture_default_str();
  c.add_option("--lr", o.learning_rate, "Adam learning rate")->capture_default_str();
  c.add_option("--lr-final", o.learning_rate_final,
               "decay the learning rate from --lr to this along a half cosine over --iterations (default: constant)");
  c.add_option("--entropy", o.entropy, "entropy bonus weight")->capture_default_str();
  c.add_option("--hidden", o.model.hidden, "first-level LSTM size")->capture_default_str();
  c.add_option("--eval-every", o.eval_every, "updates between held-out validations")->capture_default_str();
  c.add_option("--validation", o.n_validation, "held-out functions")->capture_default_str();
  c.add_option("--time-limit", o.time_limit_s, "stop after this many seconds (0: none)")->capture_default_str();
  c.add_option("--init", o.init,
               "continue from this model file (same --dims, --fidelities, --hidden); the card keeps its path");
  c.add_option("--threads", a.threads, "LibTorch threads")->capture_default_str();
}

int run_meta_train_optimizer(const MetaTrainOptimizerArgs& a, std::ostream& out) {
  MD_CHECK(!a.out.empty(), "--out PATH is required (e.g. models/lstm-d2.pt)");
  meta::TrainerOptions o = a.options;
  MD_CHECK(a.threads >= 1, "--threads must be >= 1, got ", a.threads);
  MD_CHECK(!a.deterministic || o.method == meta::Method::kGradient,
           "--deterministic needs --method gradient (REINFORCE needs a stochastic policy)");
  o.reparameterize = !a.deterministic;
  // The best model so far is written to --out at every validation: a training stopped at any
  // point (a session's end, kill) leaves a usable model there, and --init continues from it.
  o.checkpoint = a.out;
  o.finalize();
  nn::set_torch_threads(a.threads);  // --threads: the command owns the process (the trainer never sets it)

  out << fmt::format("meta-train optimizer ({}, {} proposals): d={} M={} horizon {} loss {} batch {} iterations {}{} seed {}\n",
                     to_string(o.method), optim::learned::to_string(o.model.proposal), o.model.dim,
                     o.model.fidelities, o.horizon, to_string(o.loss), o.batch, o.iterations,
                     o.model.fidelities > 1 ? fmt::format(" budget {} lambda {}", o.budget, o.lambda) : "", o.seed);
  out.flush();
  const std::filesystem::path parent = std::filesystem::path(a.out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
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
  nlohmann::json card = model.card();
  card["model"] = a.out;
  card["created_by"] = "metadial meta-train optimizer";
  card["command"] = command_line().empty() ? "(run from C++)" : command_line();
  model.set_card(card);
  model.save(a.out);
  const std::string card_path = fs::path(a.out).replace_extension(".json").string();
  write_file_atomically(card_path, card.dump(2) + "\n");
  const auto& v = card["validation"];
  out << fmt::format("wrote {} ({} bytes) and {}: held-out regret {:.4f} ({} {:.4f}) after {:.1f} s\n", a.out,
                     fs::file_size(a.out), card_path, v["regret"].get<double>(),
                     o.init.empty() ? "untrained" : "at the start", v["initial_regret"].get<double>(),
                     card["train_seconds"].get<double>());
  return 0;
}

}  // namespace metadial::cli
