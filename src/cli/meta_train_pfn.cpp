// `metadial meta-train pfn`: prior-data fitting of the PFN surrogate.
#include "cli/meta_train_pfn.h"

#include <CLI/CLI.hpp>

#include <filesystem>

#include <fmt/format.h>

#include "cli/command.h"
#include "metadial/core/error.h"
#include "metadial/core/file.h"
#include "metadial/core/progress.h"
#include "metadial/nn/threads.h"

namespace metadial::cli {

void declare_meta_train_pfn(CLI::App& c, MetaTrainPfnArgs& a) {
  meta::PfnTrainerOptions& o = a.options;
  c.add_option("--out", a.out, "model file to write, e.g. models/pfn.pt (card: models/pfn.json)")->required();
  c.add_option("--minutes", o.minutes, "stop after this many minutes (0: none)")->capture_default_str();
  c.add_option("--iterations", o.iterations, "stop after this many iterations (0: none)")->capture_default_str();
  c.add_option("--init", o.init, "continue from this model file (same sizes); the card counts its iterations too");
  c.add_option("--seed", o.seed, "random seed")->capture_default_str();
  c.add_option("--threads", a.threads, "LibTorch threads")->capture_default_str();
  c.add_option("--checkpoint-minutes", o.checkpoint_minutes, "minutes between checkpoints written to --out")
      ->capture_default_str();
  c.add_option("--batch", o.batch, "tasks per iteration")->capture_default_str();
  c.add_option("--lr", o.learning_rate, "Adam learning rate (warm-up, then cosine decay to a tenth)")
      ->capture_default_str();
  c.add_option("--warmup", o.warmup, "iterations of learning-rate warm-up")->capture_default_str();
  c.add_option("--queries", o.queries, "query points per task")->capture_default_str();
  c.add_option("--min-history", o.min_history, "fewest history points of a task")->capture_default_str();
  c.add_option("--max-history", o.max_history, "most history points of a task")->capture_default_str();
  c.add_option("--min-dims", o.min_dim, "smallest task dimension")->capture_default_str();
  c.add_option("--max-dims", o.max_dim, "largest task dimension")->capture_default_str();
  c.add_option("--width", o.model.width, "token width")->capture_default_str();
  c.add_option("--layers", o.model.layers, "transformer blocks")->capture_default_str();
  c.add_option("--heads", o.model.heads, "attention heads")->capture_default_str();
  c.add_option("--ffn", o.model.ffn, "feed-forward width")->capture_default_str();
  c.add_option("--validation", o.n_validation, "held-out tasks for the validation NLL")->capture_default_str();
  c.add_option("--lengthscale-min", o.prior.min_lengthscale, "prior: smallest GP lengthscale (times sqrt(d))")
      ->capture_default_str();
  c.add_option("--lengthscale-max", o.prior.max_lengthscale, "prior: largest GP lengthscale (times sqrt(d))")
      ->capture_default_str();
  c.add_option("--anisotropy", o.prior.anisotropy, "prior: per-dimension lengthscale factors a^U[-1,1]")
      ->capture_default_str();
  c.add_option("--bumps", o.prior.bump_fraction, "prior: fraction of functions that are sums of Gaussian bumps")
      ->capture_default_str();
  c.add_option("--max-bumps", o.prior.max_bumps, "prior: bumps per function, 1..N")->capture_default_str();
  c.add_option("--bump-background", o.prior.bump_background, "prior: weight of the GP background under the bumps")
      ->capture_default_str();
}

int run_meta_train_pfn(const MetaTrainPfnArgs& a, std::ostream& out) {
  MD_CHECK(!a.out.empty(), "--out PATH is required (e.g. models/pfn.pt)");
  MD_CHECK(a.threads >= 1, "--threads must be >= 1, got ", a.threads);
  meta::PfnTrainerOptions o = a.options;
  o.checkpoint = a.out;
  o.card_extra = {{"model", a.out}, {"command", command_line().empty() ? "(run from C++)" : command_line()}};
  o.validate();
  nn::set_torch_threads(a.threads);
  namespace fs = std::filesystem;
  const fs::path parent = fs::path(a.out).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  const std::string card_path = fs::path(a.out).replace_extension(".json").string();

  out << fmt::format("meta-train pfn: width {} layers {} heads {} ffn {}, d {}..{}, history {}..{}, {} queries, batch {}, "
                     "lr {}, {}{}seed {}\n",
                     o.model.width, o.model.layers, o.model.heads, o.model.ffn, o.min_dim, o.max_dim, o.min_history,
                     o.max_history, o.queries, o.batch, o.learning_rate,
                     o.iterations > 0 ? fmt::format("{} iterations, ", o.iterations) : "",
                     o.minutes > 0 ? fmt::format("{} minutes, ", o.minutes) : "", o.seed);
  out.flush();
  ProgressDisplay progress("meta-train pfn", o.iterations > 0 ? o.iterations : 0);
  auto on_progress = [&](const meta::PfnProgress& p) {
    if (!p.checkpoint) {
      progress.update(p.iteration, fmt::format("nll {:.3f}", p.loss));
      return;
    }
    out << fmt::format("iteration {}: training nll {:.4f}, validation nll {:.4f}  ({:.1f} s), checkpoint {}\n",
                       p.iteration, p.loss, p.validation_nll, p.elapsed_s, a.out);
    out.flush();
  };
  optim::learned::PfnModel model = meta::train_pfn(o, on_progress);
  progress.finish();
  write_file_atomically(card_path, model.card().dump(2) + "\n");
  out << fmt::format("wrote {} ({} bytes) and {}: {} iterations in all, validation nll {:.4f}\n", a.out,
                     fs::file_size(a.out), card_path, model.card()["iterations_run"].get<int64_t>(),
                     model.card()["validation_nll"].get<double>());
  return 0;
}

}  // namespace metadial::cli
