#include "cli/online_commands.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metadial/core/config.h"
#include "metadial/core/error.h"
#include "metadial/dialog/ontology.h"

namespace metadial::cli {
namespace {

// [target] of type "image".
void parse_image_target(const config::Table& root, OnlineConfig& c) {
  const config::Table tr = root.table_or_empty("target");
  tr.expect_keys({"type", "data", "name", "train", "validation", "test", "split_seed", "hidden", "defaults"});
  c.data.dir = tr.string("data").value_or(c.data.dir);
  c.target.name = tr.string("name").value_or(std::filesystem::path(c.data.dir).filename().string());
  c.data.train = tr.integer("train").value_or(c.data.train);
  c.data.validation = tr.integer("validation").value_or(c.data.validation);
  c.data.test = tr.integer("test").value_or(c.data.test);
  c.data.split_seed = static_cast<uint64_t>(tr.integer("split_seed").value_or(0));
  c.target.hidden = tr.integer("hidden").value_or(c.target.hidden);
  if (root.contains("target")) {
    const config::Table dr = tr.table_or_empty("defaults");
    dr.expect_keys({"learning_rate", "momentum", "weight_decay", "dropout", "batch_size"});
    for (const auto& k : dr.keys()) c.target.defaults[k] = *dr.number(k);
    tr.checked("defaults", [&] { c.target.validate(); });
  }
}

// [target] of type "dqn_dialog".
void parse_dqn_target(const config::Table& root, OnlineConfig& c) {
  const config::Table tr = root.table_or_empty("target");
  tr.expect_keys({"type", "name", "env", "domain", "validation", "test", "eval_seed", "dqn", "defaults"});
  c.dqn.name = tr.string("name").value_or(c.dqn.name);
  c.dqn.env = tr.string("env").value_or(c.dqn.env);
  c.domain = tr.string("domain").value_or(c.domain);
  c.dqn.validation_dialogues = static_cast<int>(tr.integer("validation").value_or(c.dqn.validation_dialogues));
  c.dqn.test_dialogues = static_cast<int>(tr.integer("test").value_or(c.dqn.test_dialogues));
  c.dqn.eval_seed = static_cast<uint64_t>(tr.integer("eval_seed").value_or(0));
  tr.checked("domain", [&] { dialog::Ontology::builtin(c.domain); });
  if (const auto q = tr.table("dqn")) {
    for (const auto& key : q->keys()) {
      if (key == "lr" || key.rfind("epsilon", 0) == 0) {
        q->fail_at(key, fmt::format("[target.dqn] {}: the learning rate and exploration are the online "
                                    "hyperparameters; set them in [target.defaults] (learning_rate, epsilon) "
                                    "and [hyperparameters]", key));
      }
      // DQN settings are numbers; a boolean one (double_dqn, ...) reads as 1 or 0.
      const auto b = q->json().at(key).is_boolean() ? q->boolean(key) : std::nullopt;
      const double x = b ? (*b ? 1.0 : 0.0) : *q->number(key);
      try {
        c.dqn.dqn.set(key, x);
      } catch (const InvalidArgument& e) {
        q->fail_at(key, fmt::format("[target.dqn] {}", e.what()));
      }
    }
  }
  if (const auto d = tr.table("defaults")) {
    d->expect_keys({"learning_rate", "epsilon"});
    for (const auto& k : d->keys()) c.dqn.defaults[k] = *d->number(k);
  }
  tr.checked("env", [&] { c.dqn.validate(); });
}

std::string default_out(const std::string& config) {
  return "online-" + std::filesystem::path(config).stem().string();
}

}  // namespace

namespace {

OnlineConfig online_config_from(const config::Table& root) {
  OnlineConfig c;
  c.file = root.file();
  root.expect_keys({"target", "run", "hyperparameters", "controller", "cosine", "pbt"});

  const config::Table target = root.table_or_empty("target");
  if (const auto type = target.string("type")) {
    if (*type != "image" && *type != "dqn_dialog") target.invalid("type", "must be \"image\" or \"dqn_dialog\"");
    c.target_type = *type;
  }
  if (c.target_type == "dqn_dialog") parse_dqn_target(root, c);
  else parse_image_target(root, c);

  const config::Table rr = root.table_or_empty("run");
  rr.expect_keys({"method", "steps", "interval", "seed"});
  c.method = rr.string("method").value_or(c.method);
  if (c.method != "controller" && c.method != "fixed" && c.method != "cosine" && c.method != "pbt") {
    rr.invalid("method", fmt::format("'{}' is unknown (expected controller, fixed, cosine or pbt)", c.method));
  }
  c.run.total_steps = rr.integer("steps").value_or(c.run.total_steps);
  c.run.interval = rr.integer("interval").value_or(c.run.interval);
  c.run.seed = static_cast<uint64_t>(rr.integer("seed").value_or(0));
  rr.checked("interval", [&] { c.run.validate(); });

  const bool dqn = c.target_type == "dqn_dialog";
  const std::vector<std::string> accepted = [&] {
    std::vector<std::string> a;
    for (const auto& [k, v] : dqn ? c.dqn.defaults : c.target.defaults) a.push_back(k);
    return a;
  }();
  const config::Table h = root.table_or_empty("hyperparameters");
  for (const auto& key : h.keys()) {
    const std::vector<double> values = *h.numbers(key);
    try {
      c.choices.add(key, values);
      c.choices.check_accepted(accepted, c.target_name());
      online::Tuple probe;
      for (double x : values) {
        probe[key] = x;
        if (dqn) online::check_dqn_tuple(probe);
        else online::check_image_tuple(probe);
      }
    } catch (const InvalidArgument& e) {
      h.fail_at(key, fmt::format("[hyperparameters] {}", e.what()));
    }
  }
  if ((c.method == "controller" || c.method == "pbt") && c.choices.empty()) {
    h.fail("[hyperparameters] is empty: the " + c.method + " method needs at least one NAME = [choices]");
  }

  const config::Table cr = root.table_or_empty("controller");
  cr.expect_keys({"hidden", "learning_rate", "entropy_weight", "baseline_decay", "normalize_advantage", "prior", "seed",
                  "load", "greedy", "greedy_after", "reward"});
  c.controller.hidden = static_cast<int>(cr.integer("hidden").value_or(c.controller.hidden));
  c.controller.learning_rate = cr.number("learning_rate").value_or(c.controller.learning_rate);
  c.controller.entropy_weight = cr.number("entropy_weight").value_or(c.controller.entropy_weight);
  c.controller.baseline_decay = cr.number("baseline_decay").value_or(c.controller.baseline_decay);
  c.controller.normalize_advantage = cr.boolean("normalize_advantage").value_or(c.controller.normalize_advantage);
  c.controller.seed = static_cast<uint64_t>(cr.integer("seed").value_or(0));
  c.controller.prior = cr.number("prior").value_or(c.controller.prior);
  c.controller_load = cr.string("load").value_or("");
  c.greedy = cr.boolean("greedy").value_or(!c.controller_load.empty());
  c.greedy_after = cr.number("greedy_after").value_or(c.greedy_after);
  if (!(c.greedy_after >= 0 && c.greedy_after <= 1)) cr.invalid("greedy_after", "must be in [0, 1]");
  if (auto rw = cr.string("reward")) cr.checked("reward", [&] { c.reward = online::reward_from_string(*rw); });
  cr.checked("hidden", [&] { c.controller.validate(); });

  const config::Table co = root.table_or_empty("cosine");
  co.expect_keys({"lr_max", "lr_min"});
  c.cosine_lr_max = co.number("lr_max").value_or(c.cosine_lr_max);
  c.cosine_lr_min = co.number("lr_min").value_or(c.cosine_lr_min);
  if (!(c.cosine_lr_min >= 0 && c.cosine_lr_max > c.cosine_lr_min)) {
    co.fail_at("lr_max", "[cosine] needs 0 <= lr_min < lr_max");
  }

  const config::Table pr = root.table_or_empty("pbt");
  pr.expect_keys({"population", "quantile", "resample_probability", "seed"});
  c.pbt.population = static_cast<int>(pr.integer("population").value_or(c.pbt.population));
  c.pbt.quantile = pr.number("quantile").value_or(c.pbt.quantile);
  c.pbt.resample_probability = pr.number("resample_probability").value_or(c.pbt.resample_probability);
  c.pbt.seed = static_cast<uint64_t>(pr.integer("seed").value_or(0));
  pr.checked("population", [&] { c.pbt.validate(); });
  return c;
}

}  // namespace

OnlineConfig parse_online_config(const std::string& text, const std::string& name) {
  return online_config_from(config::parse_toml(text, name));
}

std::unique_ptr<online::Target> make_online_target(const OnlineConfig& c) {
  if (c.target_type == "dqn_dialog") {
    return std::make_unique<online::DqnDialogTarget>(dialog::Domain::builtin(c.domain), c.dqn);
  }
  return std::make_unique<online::ImageClassifierTarget>(online::ImageData::load(c.data), c.target);
}

OnlineConfig load_online_config(const std::string& path) { return online_config_from(config::load_toml(path)); }

std::pair<std::string, std::string> write_schedule_files(const online::RunResult& r, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::string csv = dir + "/schedule.csv";
  {
    std::ofstream f(csv);
    MD_CHECK(f.good(), "cannot write '", csv, "'");
    online::write_schedule_csv(r, f);
  }
  if (r.schedule.empty()) return {csv, ""};
  std::vector<std::string> names;
  for (const auto& [k, v] : r.schedule.front().tuple) names.push_back(k);
  const std::string gp = dir + "/schedule.gp";
  const std::string svg = dir + "/schedule.svg";
  {
    std::ofstream g(gp);
    g << "set terminal svg size 800," << 180 * (names.size() + 1) << " dynamic background rgb 'white'\n"
      << "set output '" << svg << "'\nset datafile separator ','\nset key off\n"
      << "set multiplot layout " << names.size() + 1 << ",1 title '" << r.method << " schedule'\n";
    for (size_t i = 0; i < names.size(); ++i) {
      double lo = 1e300, hi = -1e300;
      for (const auto& e : r.schedule) {
        lo = std::min(lo, e.tuple.at(names[i]));
        hi = std::max(hi, e.tuple.at(names[i]));
      }
      g << (lo > 0 && hi / lo > 20 ? "set logscale y\n" : "unset logscale y\n") << "set ylabel '" << names[i]
        << "'\nplot '" << csv << "' using 1:" << i + 2 << " with steps lw 2\n";
    }
    g << "unset logscale y\nset ylabel 'validation'\nset xlabel 'training step'\nplot '" << csv
      << "' using 1:" << names.size() + 2 << " with lines lw 2\nunset multiplot\n";
  }
  const std::string cmd = "command -v gnuplot >/dev/null 2>&1 && gnuplot '" + gp + "' 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return {csv, ""};
  return {csv, svg};
}

int run_online_run(const OnlineRunArgs& a, std::ostream& out) {
  OnlineConfig c = load_online_config(a.config);
  if (a.method) {
    c.method = *a.method;
    if (c.method != "controller" && c.method != "fixed" && c.method != "cosine" && c.method != "pbt") {
      throw InvalidArgument("--method '" + c.method + "' is unknown (expected controller, fixed, cosine or pbt)");
    }
    if ((c.method == "controller" || c.method == "pbt") && c.choices.empty()) {
      throw ConfigError(c.file + ": [hyperparameters] is empty: the " + c.method + " method needs NAME = [choices]");
    }
  }
  if (a.seed) c.run.seed = *a.seed;
  auto target = make_online_target(c);
  online::RunResult r;
  if (c.method == "controller") {
    if (!c.controller_load.empty()) {
      online::Controller ctl = online::Controller::load(c.controller_load);
      r = online::run_controller(
          *target, ctl, c.run, {.reward = c.reward, .learn = false, .greedy = c.greedy, .greedy_after = c.greedy_after});
    } else {
      online::Controller ctl(c.choices, c.controller);
      r = online::run_controller(
          *target, ctl, c.run, {.reward = c.reward, .learn = true, .greedy = c.greedy, .greedy_after = c.greedy_after});
    }
  } else if (c.method == "fixed") {
    r = online::run_fixed(*target, {}, c.run);
  } else if (c.method == "cosine") {
    r = online::run_cosine(*target, {}, c.cosine_lr_max, c.cosine_lr_min, c.run);
  } else {
    r = online::run_pbt(*target, c.choices, c.pbt, c.run);
  }
  const auto [csv, svg] = write_schedule_files(r, a.out.empty() ? default_out(a.config) : a.out);
  if (a.json) {
    nlohmann::json sched = nlohmann::json::array();
    for (const auto& e : r.schedule) {
      sched.push_back({{"step", e.step}, {"tuple", e.tuple}, {"validation", e.validation}});
    }
    out << nlohmann::json{{"method", r.method},
                          {"target", c.target_name()},
                          {"test_accuracy", r.test},
                          {"validation_accuracy", r.validation},
                          {"training_steps", r.steps},
                          {"wall_s", r.wall_s},
                          {"schedule_csv", csv},
                          {"schedule_plot", svg},
                          {"schedule", sched}}
               .dump()
        << "\n";
  } else {
    const bool dqn = c.target_type == "dqn_dialog";
    out << fmt::format("{} on {}: test {} {:.4f} (validation {:.4f}), {} training {}, {:.1f} s\n", r.method,
                       c.target_name(), dqn ? "success rate" : "accuracy", r.test, r.validation, r.steps,
                       dqn ? "dialogues" : "steps", r.wall_s)
        << "schedule: " << csv << (svg.empty() ? "" : " and " + svg) << "\n";
  }
  return 0;
}

int run_online_meta_train(const OnlineMetaTrainArgs& a, std::ostream& out) {
  MD_CHECK(a.runs >= 1, "--runs must be >= 1 (got ", a.runs, ")");
  MD_CHECK(!a.save.empty(), "--save PATH is required (where the controller is written)");
  OnlineConfig c = load_online_config(a.config);
  if (c.choices.empty()) throw ConfigError(c.file + ": [hyperparameters] is empty: nothing for the controller to set");
  if (a.seed) c.run.seed = *a.seed;
  auto target = make_online_target(c);
  online::Controller ctl = c.controller_load.empty() ? online::Controller(c.choices, c.controller)
                                                     : online::Controller::load(c.controller_load);
  const auto runs = online::meta_train(ctl, *target, a.runs, c.run, {.reward = c.reward});
  ctl.save(a.save);
  nlohmann::json j = nlohmann::json::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    j.push_back({{"run", i}, {"validation_accuracy", runs[i].validation}, {"test_accuracy", runs[i].test}});
    if (!a.json) {
      out << fmt::format("run {}: validation {:.4f}, test {:.4f}, {:.1f} s\n", i, runs[i].validation, runs[i].test,
                         runs[i].wall_s);
    }
  }
  if (a.json) {
    out << nlohmann::json{{"runs", j}, {"training_steps", c.run.total_steps * a.runs}, {"saved", a.save}}.dump() << "\n";
  } else {
    out << "controller saved to " << a.save << "\n";
  }
  return 0;
}

void declare_online_run(CLI::App& r, OnlineRunArgs& a) {
  r.add_option("config", a.config, "config file (TOML)")->required()->check(CLI::ExistingFile);
  r.add_option("--method", a.method, "controller | fixed | cosine | pbt (overrides [run] method)");
  r.add_option("--seed", a.seed, "the target's seed (overrides [run] seed)");
  r.add_option("--out", a.out, "folder for schedule.csv / schedule.svg (default online-<config name>)");
  r.add_flag("--json", a.json, "print one JSON summary");
}

void declare_online_meta_train(CLI::App& m, OnlineMetaTrainArgs& a) {
  m.add_option("config", a.config, "config file (TOML)")->required()->check(CLI::ExistingFile);
  m.add_option("--runs", a.runs, "training runs")->capture_default_str();
  m.add_option("--save", a.save, "where to write the controller")->required();
  m.add_option("--seed", a.seed, "base seed of the runs (overrides [run] seed)");
  m.add_flag("--json", a.json, "print one JSON summary");
}

}  // namespace metadial::cli
