#include "cli/dialog_commands.h"

#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/e2e_commands.h"
#include "cli/tune_config.h"
#include "metadial/agents/dqn/dqn_policy.h"
#include "metadial/agents/evaluate.h"
#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/dialog/env.h"
#include "metadial/storage/storage.h"
#include "metadial/study/study.h"
#include "metadial/train/dialogue_objective.h"
#include "metadial/train/dqn_trainer.h"

namespace metadial::cli {
namespace {

// The sampler a study was run with (recorded by `metadial tune`), for labels.
std::string study_sampler(const study::Study& s) {
  const auto& a = s.attrs();
  return a.contains("sampler") && a.at("sampler").is_string() ? a.at("sampler").get<std::string>() : s.name();
}

// Total cost charged by a study's trials.
double study_cost(const study::Study& s) {
  double c = 0.0;
  for (const auto& t : s.trials()) c += t.cost;
  return c;
}

using agents::dqn::DqnOptions;
using agents::dqn::DqnPolicy;

constexpr const char* kPolicies = "rule, random, dqn";

// The environment a command runs in, from the flags and (for a model) what the model records.
struct Where {
  std::shared_ptr<const dialog::Domain> domain;
  dialog::EnvOptions env;
};

Where resolve(const DialogEnvArgs& a, const agents::dqn::ModelInfo* model) {
  Where w;
  const std::string env = a.env ? *a.env : (model && !model->env.empty() ? model->env : "env1");
  w.env = dialog::env_preset(env);
  const std::string domain = a.domain ? *a.domain : (model && !model->domain.empty() ? model->domain : "restaurant");
  MD_CHECK(a.kb_entities >= 1, "--kb-entities must be >= 1 (got ", a.kb_entities, ")");
  w.domain = train::make_domain(domain, a.ontology, a.kb_entities, a.kb_seed);
  return w;
}

void check_policy_name(const std::string& policy) {
  MD_CHECK(policy == "rule" || policy == "random" || policy == "dqn", "unknown policy '", policy, "' (known: ",
           kPolicies, ")");
}

// A policy from --policy / --model; `model` is the loaded model when --model was given.
std::unique_ptr<agents::Policy> make_policy(const std::string& policy, std::unique_ptr<DqnPolicy>& model,
                                            uint64_t seed) {
  if (model) return std::move(model);
  if (policy.empty()) throw InvalidArgument(detail::concat("choose a policy: --policy ", kPolicies, " or --model PATH"));
  check_policy_name(policy);
  if (policy == "rule") return std::make_unique<agents::RulePolicy>();
  if (policy == "random") return std::make_unique<agents::RandomPolicy>(seed);
  throw InvalidArgument("--policy dqn needs --model PATH (a model written by `metadial dialog train --out`)");
}

// Loads --model (if any), checking it against the env it will run in.
std::unique_ptr<DqnPolicy> load_model(const std::string& path, const std::string& policy) {
  if (path.empty()) return nullptr;
  MD_CHECK(policy.empty() || policy == "dqn", "give either --model or --policy ", policy, ", not both");
  return std::make_unique<DqnPolicy>(DqnPolicy::load(path));
}

std::string pct(double x, double ci) { return fmt::format("{:.1f} % +- {:.1f}", 100 * x, 100 * ci); }

nlohmann::json summary_json(const agents::EvalSummary& s) {
  return {{"dialogues", s.dialogues},   {"success_rate", s.success_rate}, {"success_ci95", s.success_ci95},
          {"avg_reward", s.avg_reward}, {"reward_ci95", s.reward_ci95},   {"avg_turns", s.avg_turns},
          {"turns_ci95", s.turns_ci95}};
}

std::string describe(const Where& w) { return fmt::format("{} ({})", w.env.name, w.domain->name()); }

}  // namespace

int run_dialog_train(const DialogTrainArgs& a, std::ostream& out) {
  check_policy_name(a.policy);
  MD_CHECK(a.policy == "dqn", "policy '", a.policy, "' is handcrafted: nothing to train (dialog train supports: dqn)");
  MD_CHECK(a.dialogues >= 1, "--dialogues must be >= 1 (got ", a.dialogues, ")");
  MD_CHECK(a.test_dialogues >= 0, "--test-dialogues must be >= 0 (got ", a.test_dialogues, ")");
  DqnOptions options;
  for (const auto& kv : a.sets) {
    const auto eq = kv.find('=');
    MD_CHECK(eq != std::string::npos && eq > 0, "--set expects name=value (got '", kv, "')");
    options.set(kv.substr(0, eq), std::string_view(kv).substr(eq + 1));
  }
  const Where w = resolve(a.where, nullptr);
  dialog::DialogueEnv env(w.domain, w.env);
  train::DqnTrainOptions t;
  t.dialogues = a.dialogues;
  t.window = a.window;
  t.eval_every = a.eval_every;
  t.eval_dialogues = a.eval_dialogues;
  t.seed = a.seed;
  t.eval_seed = a.seed;
  t.validate();
  // Check the output path before training, not after.
  if (!a.out.empty()) {
    const auto parent = std::filesystem::path(a.out).parent_path();
    MD_CHECK(parent.empty() || std::filesystem::is_directory(parent), "--out '", a.out, "': directory '",
             parent.string(), "' does not exist");
  }
  DqnPolicy policy(env, options, derive_seed(a.seed, {train::kPolicyStream}));
  out << fmt::format("training DQN on {}: {} dialogues, seed {}, h1 {} h2 {} epsilon {} -> {}\n", describe(w),
                     a.dialogues, a.seed, options.h1, options.h2, options.epsilon, options.epsilon_end);
  out << fmt::format("{:>9}  {:>8}  {:>7}  {:>6}  {:>7}  {:>8}{}\n", "dialogues", "success", "reward", "turns",
                     "epsilon", "loss", a.eval_every > 0 ? "  eval success      eval reward" : "");
  out.flush();
  nlohmann::json curve = nlohmann::json::array();
  const auto result = train::train_dqn(env, policy, t, [&](const train::CurvePoint& p) {
    out << fmt::format("{:>9}  {:>7.1f}%  {:>7.2f}  {:>6.2f}  {:>7.3f}  {:>8.4f}", p.dialogues, 100 * p.train_success,
                       p.train_reward, p.train_turns, p.epsilon, p.loss);
    nlohmann::json j = {{"dialogues", p.dialogues}, {"train_success", p.train_success}, {"train_reward", p.train_reward},
                        {"train_turns", p.train_turns}, {"epsilon", p.epsilon}, {"loss", p.loss}};
    if (p.eval) {
      out << fmt::format("  {:<16}  {:.2f} +- {:.2f}", pct(p.eval->success_rate, p.eval->success_ci95),
                         p.eval->avg_reward, p.eval->reward_ci95);
      j["eval"] = summary_json(*p.eval);
    }
    out << "\n";
    out.flush();
    curve.push_back(std::move(j));
  });
  out << fmt::format("trained {} dialogues in {:.1f} s ({} turns, {} gradient steps)\n", result.dialogues,
                     result.seconds, result.turns, result.gradient_steps);
  std::optional<agents::EvalSummary> test;
  if (a.test_dialogues > 0) {
    test = agents::evaluate(env, policy, a.test_dialogues, train::test_seed(a.seed));
    out << fmt::format("test ({} dialogues, greedy): success {}, reward {:.2f} +- {:.2f}, turns {:.2f} +- {:.2f}\n",
                       test->dialogues, pct(test->success_rate, test->success_ci95), test->avg_reward,
                       test->reward_ci95, test->avg_turns, test->turns_ci95);
  }
  if (!a.out.empty()) {
    policy.save(a.out);
    out << "model written to " << a.out << "\n";
  }
  if (a.json) {
    nlohmann::json j = {{"env", w.env.name},        {"domain", w.domain->name()}, {"dialogues", result.dialogues},
                        {"seed", a.seed},           {"options", options.to_json()}, {"curve", curve},
                        {"seconds", result.seconds}, {"gradient_steps", result.gradient_steps}};
    if (test) j["test"] = summary_json(*test);
    if (!a.out.empty()) j["model"] = a.out;
    out << j.dump() << "\n";
  }
  out.flush();
  return 0;
}

int run_dialog_eval(const DialogEvalArgs& a, std::ostream& out) {
  MD_CHECK(a.dialogues >= 1, "--dialogues must be >= 1 (got ", a.dialogues, ")");
  auto model = load_model(a.model, a.policy);
  const Where w = resolve(a.where, model ? &model->info() : nullptr);
  dialog::DialogueEnv env(w.domain, w.env);
  if (model) model->check_compatible(env, "model '" + a.model + "'");
  const std::string label = model ? "dqn (" + a.model + ")" : a.policy;
  auto policy = make_policy(a.policy, model, a.seed);
  const agents::EvalSummary s = agents::evaluate(env, *policy, a.dialogues, a.seed);
  if (a.json) {
    nlohmann::json j = summary_json(s);
    j["policy"] = policy->name();
    if (!a.model.empty()) j["model"] = a.model;
    j["env"] = w.env.name;
    j["domain"] = w.domain->name();
    j["seed"] = a.seed;
    out << j.dump() << "\n";
    return 0;
  }
  out << fmt::format("policy {} on {}, {} dialogues, seed {} (95 % CI)\n", label, describe(w), a.dialogues, a.seed);
  out << fmt::format("success rate  {}\n", pct(s.success_rate, s.success_ci95));
  out << fmt::format("avg reward    {:.2f} +- {:.2f}\n", s.avg_reward, s.reward_ci95);
  out << fmt::format("avg turns     {:.2f} +- {:.2f}\n", s.avg_turns, s.turns_ci95);
  return 0;
}

int run_dialog_show(const DialogShowArgs& a, std::ostream& out) {
  MD_CHECK(a.n >= 1, "-n must be >= 1 (got ", a.n, ")");
  auto model = load_model(a.model, a.policy);
  const Where w = resolve(a.where, model ? &model->info() : nullptr);
  dialog::DialogueEnv env(w.domain, w.env);
  if (model) model->check_compatible(env, "model '" + a.model + "'");
  auto policy = make_policy(a.policy, model, a.seed);
  for (int k = 0; k < a.n; ++k) {
    std::string transcript;
    // The same dialogues as `dialog eval --seed S` (dialogue k uses derive_seed(S, {k})).
    const auto o = agents::run_dialogue(env, *policy, derive_seed(a.seed, {static_cast<uint64_t>(k)}), &transcript);
    out << fmt::format("=== dialogue {} of {}: policy {} on {} ===\n", k + 1, a.n, policy->name(), describe(w));
    out << transcript;
    out << fmt::format("outcome: {}, reward {:g}, {} turns\n\n", o.success ? "success" : "failure", o.reward, o.turns);
  }
  return 0;
}

int run_dialog_compare(const DialogCompareArgs& a, std::ostream& out) {
  const TuneConfig cfg = load_tune_config(a.config);
  if (cfg.function != "dqn-dialogue") {
    throw ConfigError(detail::concat(cfg.file, ":", cfg.objective_line,
                                     ": dialog compare needs [objective] function = \"dqn-dialogue\" (this config has ",
                                     cfg.function.empty() ? std::string("a command") : "'" + cfg.function + "'", ")"));
  }
  train::DialogueObjectiveOptions opts;
  try {
    opts = train::DialogueObjectiveOptions::from_json(cfg.objective_options);
  } catch (const InvalidArgument& e) {
    throw objective_error(cfg, e.what());
  }
  if (a.seeds) opts.seeds = *a.seeds;
  if (a.dialogues) opts.dialogues = *a.dialogues;
  if (a.test_dialogues) opts.test_dialogues = *a.test_dialogues;
  if (a.threads) opts.threads = *a.threads;
  opts.seed = a.seed;
  opts.validate();

  const std::string url = a.storage.value_or(cfg.storage.value_or(kDefaultStorage));
  std::string stem = std::filesystem::path(cfg.file).stem().string();
  const std::string name = a.study.value_or(cfg.study_name.value_or(stem.empty() ? "study" : stem));
  auto storage = storage::open_storage(url, storage::OpenMode::kReadOnly);
  const auto study = study::Study::load(*storage, name);
  const int target = static_cast<int>(opts.fidelities.size()) - 1;
  const auto best = study.best_trial(target);
  MD_CHECK(best.has_value(), "study '", name, "' has no complete trial at the target fidelity yet");

  const train::DqnDialogueObjective objective(opts);
  const auto run = [&](const space::Config& config, const char* label) {
    train::DqnExperiment ex = objective.experiment(config, target);
    const auto outcomes = train::run_dqn_experiment(ex);
    std::vector<double> s, r;
    for (const auto& o : outcomes) {
      s.push_back(o.test.success_rate);
      r.push_back(o.test.avg_reward);
    }
    out << fmt::format("  {} done\n", label);
    out.flush();
    return std::make_pair(train::mean_ci95(s), train::mean_ci95(r));
  };
  out << fmt::format(
      "default vs tuned DQN on {} ({}): {} fresh seeds (base seed {}) x {} training dialogues, {} test dialogues each\n",
      opts.env, objective.domain()->name(), opts.seeds, opts.seed, opts.dialogues_at(target), opts.test_dialogues);
  out.flush();
  // --versus: the best of a second study (e.g. the same budget spent by another sampler). Its
  // own target fidelity counts; it must search the same space.
  std::optional<study::Study> other;
  std::optional<study::FrozenTrial> other_best;
  if (a.versus) {
    other.emplace(study::Study::load(*storage, *a.versus));
    MD_CHECK(other->space() == study.space(), "--versus: study '", *a.versus, "' searches another space than '", name,
             "'");
    int other_target = -1;
    for (const auto& t : other->trials()) {
      if (t.is_complete()) other_target = std::max(other_target, t.fidelity);
    }
    if (other_target >= 0) other_best = other->best_trial(other_target);
    MD_CHECK(other_best.has_value(), "--versus: study '", *a.versus, "' has no complete trial at its target fidelity");
  }
  std::optional<std::pair<train::MeanCi, train::MeanCi>> def;
  if (!a.no_default) def = run({}, "default");
  const auto tuned = run(best->params, "tuned");
  std::optional<std::pair<train::MeanCi, train::MeanCi>> versus;
  if (other_best) versus = run(other_best->params, "versus");

  std::vector<std::string> names;
  for (const auto& [k, v] : best->params) names.push_back(k);
  std::string header = fmt::format("{:<15}", "");
  for (const auto& n : names) header += fmt::format("  {:>9}", n);
  header += fmt::format("  {:<18}  {}", "success", "reward");
  out << header << "\n";
  auto row = [&](const char* label, const DqnOptions& o, const std::pair<train::MeanCi, train::MeanCi>& m) {
    std::string line = fmt::format("{:<15}", label);
    for (const auto& n : names) line += fmt::format("  {:>9.4g}", o.get(n));
    line += fmt::format("  {:<18}  {:.2f} +- {:.2f}", pct(m.first.mean, m.first.ci95), m.second.mean, m.second.ci95);
    out << line << "\n";
  };
  DqnOptions tuned_options = opts.dqn;
  for (const auto& [k, v] : best->params) tuned_options.set(k, v);
  if (def) row("default", opts.dqn, *def);
  const std::string tuned_label = study_sampler(study);
  row(("tuned " + tuned_label).c_str(), tuned_options, tuned);
  DqnOptions versus_options = opts.dqn;
  std::string versus_label;
  if (versus) {
    for (const auto& [k, v] : other_best->params) versus_options.set(k, v);
    versus_label = study_sampler(*other);
    row(("tuned " + versus_label).c_str(), versus_options, *versus);
  }
  out << fmt::format("(tuned {} = trial {} of study '{}', which scored {:.4g} on the study's own seeds at a total cost of {:.3g})\n",
                     tuned_label, best->number, name, *best->value, study_cost(study));
  if (versus) {
    out << fmt::format("(tuned {} = trial {} of study '{}', which scored {:.4g} on its own seeds at a total cost of {:.3g})\n",
                       versus_label, other_best->number, *a.versus, *other_best->value, study_cost(*other));
  }
  if (a.json) {
    auto side = [&](const DqnOptions& o, const std::pair<train::MeanCi, train::MeanCi>& m) {
      nlohmann::json p = nlohmann::json::object();
      for (const auto& n : names) p[n] = o.get(n);
      return nlohmann::json{{"params", p},
                            {"success_rate", m.first.mean},
                            {"success_ci95", m.first.ci95},
                            {"avg_reward", m.second.mean},
                            {"reward_ci95", m.second.ci95}};
    };
    nlohmann::json j{{"env", opts.env},
                     {"seeds", opts.seeds},
                     {"dialogues", opts.dialogues_at(target)},
                     {"test_dialogues", opts.test_dialogues},
                     {"tuned", side(tuned_options, tuned)},
                     {"sampler", tuned_label},
                     {"study_cost", study_cost(study)},
                     {"best_trial", best->number},
                     {"study_value", *best->value}};
    if (def) j["default"] = side(opts.dqn, *def);
    if (versus) {
      j["versus"] = side(versus_options, *versus);
      j["versus"]["sampler"] = versus_label;
      j["versus"]["study_cost"] = study_cost(*other);
      j["versus"]["study_value"] = *other_best->value;
    }
    out << j.dump() << "\n";
  }
  return 0;
}

void declare_dialog_env(CLI::App& c, DialogEnvArgs& w) {
  c.add_option("--env", w.env, "environment preset env1..env6 (default env1, or the model's)");
  c.add_option("--domain", w.domain, "built-in domain: restaurant | movie | sf_restaurant (default restaurant, or the model's)");
  c.add_option("--ontology", w.ontology, "ontology file (JSON or TOML) instead of a built-in domain");
  c.add_option("--kb-entities", w.kb_entities, "entities in the generated knowledge base")->capture_default_str();
  c.add_option("--kb-seed", w.kb_seed, "seed of the generated knowledge base")->capture_default_str();
}

void declare_dialog_train(CLI::App& t, DialogTrainArgs& a) {
  declare_dialog_env(t, a.where);
  t.add_option("--policy", a.policy, "policy to train (dqn)")->capture_default_str();
  t.add_option("--dialogues", a.dialogues, "training dialogues")->capture_default_str();
  t.add_option("--set", a.sets, "DQN hyperparameter name=value (repeatable): " + DqnOptions::names_joined());
  t.add_option("--seed", a.seed, "random seed")->capture_default_str();
  t.add_option("--out", a.out, "model file to write");
  t.add_option("--window", a.window, "learning-curve point every N dialogues")->capture_default_str();
  t.add_option("--eval-every", a.eval_every, "greedy evaluation every N dialogues (0 = none)")->capture_default_str();
  t.add_option("--eval-dialogues", a.eval_dialogues, "dialogues per periodic evaluation")->capture_default_str();
  t.add_option("--test-dialogues", a.test_dialogues, "greedy test dialogues after training")->capture_default_str();
  t.add_flag("--json", a.json, "print a JSON summary (curve, test) as the last line");
}

void declare_dialog_eval(CLI::App& e, DialogEvalArgs& a) {
  declare_dialog_env(e, a.where);
  e.add_option("--model", a.model, "DQN model file");
  e.add_option("--policy", a.policy, "rule | random");
  e.add_option("--dialogues", a.dialogues, "test dialogues")->capture_default_str();
  e.add_option("--seed", a.seed, "dialogue seed")->capture_default_str();
  e.add_flag("--json", a.json, "one JSON object");
}

void declare_dialog_show(CLI::App& s, DialogShowArgs& a) {
  declare_dialog_env(s, a.where);
  s.add_option("--model", a.model, "DQN model file");
  s.add_option("--policy", a.policy, "rule | random");
  s.add_option("-n", a.n, "dialogues to show")->capture_default_str();
  s.add_option("--seed", a.seed, "dialogue seed (the same dialogues as `dialog eval --seed`)")->capture_default_str();
}

void declare_dialog_compare(CLI::App& c, DialogCompareArgs& a) {
  c.add_option("config", a.config, "the study's config file (TOML)")->required()->check(CLI::ExistingFile);
  c.add_option("--storage", a.storage, "memory | sqlite:PATH | postgresql://USER@HOST[:PORT]/DB (default: the config's, else sqlite:metadial.db)");
  c.add_option("--study", a.study, "study name (default: [study] name, else the config's file name)");
  c.add_option("--versus", a.versus, "a second study in the same storage (e.g. GP-BO at the same cost) whose best is retrained too");
  c.add_flag("--no-default", a.no_default, "do not retrain the default configuration (e.g. when it was retrained before)");
  c.add_option("--seeds", a.seeds, "independent trainings per configuration (default: the config's)");
  c.add_option("--dialogues", a.dialogues, "training dialogues (default: the config's)");
  c.add_option("--test-dialogues", a.test_dialogues, "test dialogues per training (default: the config's)");
  c.add_option("--threads", a.threads, "trainings at once (default: the config's)");
  c.add_option("--seed", a.seed, "base seed of the fresh trainings")->capture_default_str();
  c.add_flag("--json", a.json, "print a JSON summary as the last line");
}

}  // namespace metadial::cli
