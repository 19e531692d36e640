#include "cli/transfer_commands.h"

#include <cmath>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/transfer/dialog.h"
#include "metadial/transfer/noisy_images.h"

namespace metadial::cli {
namespace {

using namespace transfer;

// Reads one table of the config, checking that every key is known and every value has its type.
class Section {
 public:
  Section(std::string file, const toml::table* t, std::string name, std::set<std::string> known)
      : file_(std::move(file)), t_(t), name_(std::move(name)) {
    if (t_ == nullptr) return;
    for (const auto& [k, v] : *t_) {
      const std::string key(k.str());
      if (!known.count(key)) {
        std::string list;
        for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
        fail(v, fmt::format("unknown key '{}' in {} (known: {})", key, name_, list));
      }
    }
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& msg) const {
    throw ConfigError(detail::concat(file_, ":", n.source().begin.line, ": ", msg));
  }
  template <typename T>
  bool get(const char* key, T& out) const {
    if (t_ == nullptr) return false;
    const toml::node* n = t_->get(key);
    if (n == nullptr) return false;
    if constexpr (std::is_same_v<T, bool>) {
      if (!n->is_boolean()) fail(*n, fmt::format("{}.{} must be true or false", name_, key));
      out = n->as_boolean()->get();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!n->is_string()) fail(*n, fmt::format("{}.{} must be a string", name_, key));
      out = n->as_string()->get();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!n->is_number()) fail(*n, fmt::format("{}.{} must be a number", name_, key));
      out = n->value<double>().value();
    } else {
      if (!n->is_integer()) fail(*n, fmt::format("{}.{} must be an integer", name_, key));
      out = static_cast<T>(n->as_integer()->get());
    }
    return true;
  }
  const toml::node* node(const char* key) const { return t_ ? t_->get(key) : nullptr; }

 private:
  std::string file_;
  const toml::table* t_;
  std::string name_;
};

struct RunOut {
  uint64_t seed = 0;
  double test = 0, validation = 0, seconds = 0;
  int64_t best_iteration = 0;
  nlohmann::json extra;
};

}  // namespace

int run_transfer(const TransferRunArgs& a, std::ostream& out) {
  std::ifstream in(a.config);
  if (!in) throw ConfigError(detail::concat(a.config, ": cannot read the config file (does it exist?)"));
  std::stringstream text;
  text << in.rdbuf();
  toml::table root;
  try {
    root = toml::parse(text.str(), a.config);
  } catch (const toml::parse_error& e) {
    throw ConfigError(detail::concat(a.config, ":", e.source().begin.line, ": ", e.description()));
  }
  const std::set<std::string> sections{"experiment", "trainer", "noisy_images", "dialog"};
  for (const auto& [k, v] : root) {
    if (!sections.count(std::string(k.str())) || !v.is_table()) {
      throw ConfigError(detail::concat(a.config, ":", v.source().begin.line, ": unknown top-level entry '", k.str(),
                                       "' (expected the tables [experiment], [trainer], [noisy_images], [dialog])"));
    }
  }
  const Section ex(a.config, root["experiment"].as_table(), "[experiment]", {"kind", "method", "seeds", "auxiliary"});
  std::string kind;
  if (!ex.get("kind", kind)) throw ConfigError(detail::concat(a.config, ": [experiment] kind is required (\"noisy-images\" or \"dialog\")"));
  if (kind != "noisy-images" && kind != "dialog")
    ex.fail(*ex.node("kind"), fmt::format("[experiment] kind '{}' is unknown (expected \"noisy-images\" or \"dialog\")", kind));
  std::string method_name = "learned";
  ex.get("method", method_name);
  Method method{};
  try {
    method = parse_method(method_name);
  } catch (const InvalidArgument& e) {
    ex.fail(*ex.node("method"), e.what());
  }
  bool auxiliary = kind == "dialog";
  ex.get("auxiliary", auxiliary);
  std::vector<uint64_t> seeds{0};
  if (const toml::node* s = ex.node("seeds")) {
    const toml::array* arr = s->as_array();
    if (arr == nullptr || arr->empty()) ex.fail(*s, "[experiment] seeds must be a non-empty array of integers");
    seeds.clear();
    for (const auto& v : *arr) {
      if (!v.is_integer() || v.as_integer()->get() < 0) ex.fail(v, "[experiment] seeds must be non-negative integers");
      seeds.push_back(static_cast<uint64_t>(v.as_integer()->get()));
    }
  }

  // Trainer settings start from the experiment's defaults.
  TrainerOptions t = kind == "dialog" ? DialogTransferOptions().trainer() : NoisyImagesOptions().trainer();
  const Section tr(a.config, root["trainer"].as_table(), "[trainer]",
                   {"iterations", "batch_size", "primary_step", "meta_updates", "simulated_steps", "model_lr",
                    "weight_lr", "simulated_lr", "adam_eps", "eval_every", "pretrain_iterations"});
  {
    int64_t i = 0;
    double d = 0;
    bool b = false;
    if (tr.get("iterations", i)) t.iterations(i);
    if (tr.get("batch_size", i)) t.batch_size(i);
    if (tr.get("primary_step", b)) t.primary_step(b);
    if (tr.get("meta_updates", i)) t.meta_updates(i);
    if (tr.get("simulated_steps", i)) t.simulated_steps(i);
    if (tr.get("model_lr", d)) t.model_lr(d);
    if (tr.get("weight_lr", d)) t.weight_lr(d);
    if (tr.get("simulated_lr", d)) t.simulated_lr(d);
    if (tr.get("adam_eps", d)) t.adam_eps(d);
    if (tr.get("eval_every", i)) t.eval_every(i);
    if (tr.get("pretrain_iterations", i)) t.pretrain_iterations(i);
  }
  t = with_method(t, method, auxiliary);
  try {
    t.validate();
  } catch (const InvalidArgument& e) {
    throw ConfigError(detail::concat(a.config, ": [trainer] ", e.what()));
  }

  std::vector<RunOut> runs;
  if (kind == "noisy-images") {
    if (root.contains("dialog")) throw ConfigError(detail::concat(a.config, ": [dialog] does not apply to kind \"noisy-images\""));
    const Section ni(a.config, root["noisy_images"].as_table(), "[noisy_images]",
                     {"data", "prefix", "train", "validation", "test", "corruption", "wrong_fraction", "split_seed"});
    std::string dir, prefix = "t10k", corruption = "shift";
    int64_t n_train = 6000, n_val = 2000, n_test = 2000;
    double wrong = 0.75;
    uint64_t split_seed = 0;
    if (!ni.get("data", dir)) throw ConfigError(detail::concat(a.config, ": [noisy_images] data (the IDX folder) is required"));
    ni.get("prefix", prefix);
    ni.get("train", n_train);
    ni.get("validation", n_val);
    ni.get("test", n_test);
    ni.get("corruption", corruption);
    ni.get("wrong_fraction", wrong);
    ni.get("split_seed", split_seed);
    NoisyImagesOptions o;
    try {
      o.corruption(parse_corruption(corruption)).wrong_fraction(wrong);
    } catch (const InvalidArgument& e) {
      ni.fail(*ni.node("corruption"), e.what());
    }
    const IdxImages all = load_mnist_format(dir, prefix);
    MD_CHECK_AS(ConfigError, n_train >= 1 && n_val >= 1 && n_test >= 1 && n_train + n_val + n_test <= all.count,
                a.config, ": [noisy_images] train + validation + test = ", n_train + n_val + n_test,
                " must be positive sizes summing to at most the ", all.count, " images of ", dir);
    const ImageSplit split = split_images(all, n_train, n_val, n_test, split_seed);
    use_one_torch_thread();
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
    if (root.contains("noisy_images"))
      throw ConfigError(detail::concat(a.config, ": [noisy_images] does not apply to kind \"dialog\""));
    const Section dg(a.config, root["dialog"].as_table(), "[dialog]",
                     {"primary_train", "primary_validation", "primary_test", "related_train", "primary_dialogs",
                      "related_dialogs", "test_dialogs", "memory_size", "embedding", "hops"});
    DialogTransferOptions o;
    std::string s;
    int64_t i = 0;
    if (dg.get("primary_train", s)) o.primary_train(s);
    if (dg.get("primary_validation", s)) o.primary_validation(s);
    if (dg.get("primary_test", s)) o.primary_test(s);
    if (dg.get("related_train", s)) o.related_train(s);
    if (dg.get("primary_dialogs", i)) o.primary_dialogs(i);
    if (dg.get("related_dialogs", i)) o.related_dialogs(i);
    if (dg.get("test_dialogs", i)) o.test_dialogs(i);
    if (dg.get("memory_size", i)) o.memory_size(i);
    if (dg.get("embedding", i)) o.embedding(i);
    if (dg.get("hops", i)) o.hops(i);
    o.trainer(t);
    try {
      o.validate();
    } catch (const InvalidArgument& e) {
      throw ConfigError(detail::concat(a.config, ": [dialog] ", e.what()));
    }
    const DialogTransferData data(o);
    use_one_torch_thread();
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

TransferCommand add_transfer_command(CLI::App& app) {
  auto* tc = app.add_subcommand("transfer", "meta-weighted transfer from related-task data (seed paper 001)");
  tc->require_subcommand(1);
  auto args = std::make_shared<TransferRunArgs>();
  auto* r = tc->add_subcommand("run", "run one experiment from a TOML config");
  r->add_option("config", args->config, "config file (TOML)")->required();
  r->add_flag("--json", args->json, "one JSON line");
  TransferCommand c;
  c.app = tc;
  c.run = [args](std::ostream& out) { return run_transfer(*args, out); };
  return c;
}

}  // namespace metadial::cli
