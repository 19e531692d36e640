#include "cli/transfer_commands.h"

#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metadial/core/config.h"
#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/transfer/dialog.h"
#include "metadial/transfer/noisy_images.h"

namespace metadial::cli {
namespace {

using namespace transfer;

struct RunOut {
  uint64_t seed = 0;
  double test = 0, validation = 0, seconds = 0;
  int64_t best_iteration = 0;
  nlohmann::json extra;
};

}  // namespace

int run_transfer(const TransferRunArgs& a, std::ostream& out) {
  const config::Table root = config::load_toml(a.config);
  root.expect_keys({"experiment", "trainer", "noisy_images", "dialog"});
  const config::Table ex = root.table_or_empty("experiment");
  ex.expect_keys({"kind", "method", "seeds", "auxiliary"});
  const std::string kind = ex.require_string("kind", "\"noisy-images\" or \"dialog\"");
  if (kind != "noisy-images" && kind != "dialog")
    ex.invalid("kind", fmt::format("'{}' is unknown (expected \"noisy-images\" or \"dialog\")", kind));
  const std::string method_name = ex.string("method").value_or("learned");
  const Method method = ex.checked("method", [&] { return parse_method(method_name); });
  const bool auxiliary = ex.boolean("auxiliary").value_or(kind == "dialog");
  std::vector<uint64_t> seeds{0};
  if (const auto s = ex.integers("seeds")) {
    if (s->empty()) ex.invalid("seeds", "must be a non-empty array of integers");
    seeds.clear();
    for (int64_t v : *s) {
      if (v < 0) ex.invalid("seeds", "must be non-negative integers");
      seeds.push_back(static_cast<uint64_t>(v));
    }
  }

  // Trainer settings start from the experiment's defaults.
  TrainerOptions t = kind == "dialog" ? DialogTransferOptions().trainer() : NoisyImagesOptions().trainer();
  const config::Table tr = root.table_or_empty("trainer");
  tr.expect_keys({"iterations", "batch_size", "primary_step", "meta_updates", "simulated_steps", "model_lr",
                  "weight_lr", "simulated_lr", "adam_eps", "weight_adam_eps", "normalize_weights", "eval_every",
                  "pretrain_iterations"});
  if (auto i = tr.integer("iterations")) t.iterations(*i);
  if (auto i = tr.integer("batch_size")) t.batch_size(*i);
  if (auto b = tr.boolean("primary_step")) t.primary_step(*b);
  if (auto i = tr.integer("meta_updates")) t.meta_updates(*i);
  if (auto i = tr.integer("simulated_steps")) t.simulated_steps(*i);
  if (auto d = tr.number("model_lr")) t.model_lr(*d);
  if (auto d = tr.number("weight_lr")) t.weight_lr(*d);
  if (auto d = tr.number("simulated_lr")) t.simulated_lr(*d);
  if (auto d = tr.number("adam_eps")) t.adam_eps(*d);
  if (auto d = tr.number("weight_adam_eps")) t.weight_adam_eps(*d);
  if (auto b = tr.boolean("normalize_weights")) t.normalize_weights(*b);
  if (auto i = tr.integer("eval_every")) t.eval_every(*i);
  if (auto i = tr.integer("pretrain_iterations")) t.pretrain_iterations(*i);
  t = with_method(t, method, auxiliary);
  try {
    t.validate();
  } catch (const InvalidArgument& e) {
    throw ConfigError(detail::concat(a.config, ": [trainer] ", e.what()));
  }

  std::vector<RunOut> runs;
  if (kind == "noisy-images") {
    if (root.contains("dialog")) root.fail_at("dialog", "[dialog] does not apply to kind \"noisy-images\"");
    const config::Table ni = root.table_or_empty("noisy_images");
    ni.expect_keys({"data", "prefix", "train", "validation", "test", "corruption", "wrong_fraction", "split_seed",
                    "weight_input"});
    const std::string dir = ni.require_string("data", "the IDX folder");
    const std::string prefix = ni.string("prefix").value_or("t10k");
    const int64_t n_train = ni.integer("train").value_or(6000);
    const int64_t n_val = ni.integer("validation").value_or(2000);
    const int64_t n_test = ni.integer("test").value_or(2000);
    const std::string corruption = ni.string("corruption").value_or("shift");
    const double wrong = ni.number("wrong_fraction").value_or(0.75);
    const auto split_seed = static_cast<uint64_t>(ni.integer("split_seed").value_or(0));
    NoisyImagesOptions o;
    ni.checked("corruption", [&] { o.corruption(parse_corruption(corruption)).wrong_fraction(wrong); });
    if (const auto w = ni.string("weight_input")) {
      ni.checked("weight_input", [&] { o.weight_input(parse_weight_image_input(*w)); });
    }
    const IdxImages all = load_mnist_format(dir, prefix);
    MD_CHECK_AS(ConfigError, n_train >= 1 && n_val >= 1 && n_test >= 1 && n_train + n_val + n_test <= all.count,
                a.config, ": [noisy_images] train + validation + test = ", n_train + n_val + n_test,
                " must be positive sizes summing to at most the ", all.count, " images of ", dir);
    const ImageSplit split = split_images(all, n_train, n_val, n_test, split_seed);
    for (uint64_t s : seeds) {
      NoisyImagesOptions oo = o;
      const int64_t every = t.eval_every();
      oo.trainer(TrainerOptions(t).seed(derive_seed(s, {77}))).seed(s).record_every(every).histogram_at({0});
      const NoisyImagesResult r = run_noisy_images(split, oo);
      RunOut ro{s, r.test_accuracy, r.best_validation_accuracy, r.total_seconds, r.best_iteration, {}};
      if (!r.weights.empty()) {
        ro.extra["final_mean_weight_correct"] = r.weights.back().mean_correct;
        ro.extra["final_mean_weight_incorrect"] = r.weights.back().mean_incorrect;
      }
      runs.push_back(ro);
    }
  } else {
    if (root.contains("noisy_images")) root.fail_at("noisy_images", "[noisy_images] does not apply to kind \"dialog\"");
    const config::Table dg = root.table_or_empty("dialog");
    dg.expect_keys({"primary_train", "primary_validation", "primary_test", "related_train", "primary_dialogs",
                    "related_dialogs", "test_dialogs", "memory_size", "embedding", "hops"});
    DialogTransferOptions o;
    if (auto s = dg.string("primary_train")) o.primary_train(*s);
    if (auto s = dg.string("primary_validation")) o.primary_validation(*s);
    if (auto s = dg.string("primary_test")) o.primary_test(*s);
    if (auto s = dg.string("related_train")) o.related_train(*s);
    if (auto i = dg.integer("primary_dialogs")) o.primary_dialogs(*i);
    if (auto i = dg.integer("related_dialogs")) o.related_dialogs(*i);
    if (auto i = dg.integer("test_dialogs")) o.test_dialogs(*i);
    if (auto i = dg.integer("memory_size")) o.memory_size(*i);
    if (auto i = dg.integer("embedding")) o.embedding(*i);
    if (auto i = dg.integer("hops")) o.hops(*i);
    o.trainer(t);
    try {
      o.validate();
    } catch (const InvalidArgument& e) {
      throw ConfigError(detail::concat(a.config, ": [dialog] ", e.what()));
    }
    const DialogTransferData data(o);
    for (uint64_t sd : seeds) {
      DialogTransferOptions oo = o;
      oo.trainer(TrainerOptions(t).seed(derive_seed(sd, {77}))).seed(sd);
      const DialogTransferResult r = run_dialog_transfer(data, oo);
      RunOut ro{sd, r.test_accuracy, r.best_validation, r.total_seconds, r.best_iteration, {}};
      ro.extra["test_examples"] = r.test_examples;
      ro.extra["related_examples"] = r.related_examples;
      if (t.weighting() == Weighting::kLearned) {
        ro.extra["mean_weight"] = r.mean_weight;
        ro.extra["weight_histogram"] = r.weight_histogram;
      }
      runs.push_back(ro);
    }
  }

  double mean = 0;
  for (const auto& r : runs) mean += r.test;
  mean /= static_cast<double>(runs.size());
  double sd = 0;
  for (const auto& r : runs) sd += (r.test - mean) * (r.test - mean);
  sd = runs.size() > 1 ? std::sqrt(sd / static_cast<double>(runs.size() - 1)) : 0;
  if (a.json) {
    nlohmann::json j{{"kind", kind}, {"method", to_string(method)}, {"test_mean", mean}, {"test_sd", sd}};
    for (const auto& r : runs) {
      nlohmann::json rj{{"seed", r.seed},
                        {"test_accuracy", r.test},
                        {"best_validation", r.validation},
                        {"best_iteration", r.best_iteration},
                        {"seconds", r.seconds}};
      for (const auto& [k, v] : r.extra.items()) rj[k] = v;
      j["runs"].push_back(rj);
    }
    out << j.dump() << "\n";
  } else {
    for (const auto& r : runs)
      out << fmt::format("seed {}: test {:.2f} % (validation {:.2f} % at iteration {}), {:.0f} s\n", r.seed,
                         100 * r.test, 100 * r.validation, r.best_iteration, r.seconds);
    out << fmt::format("{} / {}: test {:.2f} ± {:.2f} % over {} seed(s)\n", kind, to_string(method), 100 * mean,
                       100 * sd, runs.size());
  }
  return 0;
}

void declare_transfer_run(CLI::App& r, TransferRunArgs& a) {
  r.add_option("config", a.config, "config file (TOML)")->required();
  r.add_flag("--json", a.json, "one JSON line");
}

}  // namespace metadial::cli
