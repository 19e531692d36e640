#include "metadial/train/dialogue_objective.h"

#include <cmath>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "metadial/core/config.h"
#include "metadial/core/error.h"

namespace metadial::train {
namespace {

const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = {
      "env",        "domain", "ontology", "kb_entities",    "kb_seed",
      "dialogues",  "seeds",  "threads",  "test_dialogues", "metric",
      "fidelities", "seed",   "dqn",      "report_every",   "validation_dialogues"};
  return keys;
}

constexpr int64_t kMaxCount = 100000000;

// A count in [lo, kMaxCount]; `fallback` when absent.
int read_count(const config::Table& t, const char* key, int lo, int fallback) {
  const std::optional<int64_t> x = t.integer(key);
  if (!x) return fallback;
  if (*x < lo) t.invalid(key, detail::concat("must be >= ", lo, ", got ", *x));
  if (*x > kMaxCount) t.invalid(key, detail::concat("must be <= ", kMaxCount, ", got ", *x));
  return static_cast<int>(*x);
}

// A seed: a non-negative integer; `fallback` when absent.
uint64_t read_seed(const config::Table& t, const char* key, uint64_t fallback) {
  const std::optional<int64_t> x = t.integer(key);
  if (!x) return fallback;
  if (*x < 0) t.invalid(key, detail::concat("must be >= 0, got ", *x));
  return static_cast<uint64_t>(*x);
}

}  // namespace

DialogueObjectiveOptions DialogueObjectiveOptions::from_json(const nlohmann::json& j) {
  // Options come through the API (the config's [objective] table minus `function`): unknown keys,
  // wrong types and values out of range are InvalidArgument, worded by the config reader.
  DialogueObjectiveOptions o = config::rethrow_as<InvalidArgument>([&] {
    const config::Table t = config::Table::from_json(j, "dqn-dialogue", "[objective]");
    t.expect_keys(known_keys());
    DialogueObjectiveOptions r;
    r.env = t.string("env").value_or(r.env);
    r.domain = t.string("domain").value_or(r.domain);
    r.ontology = t.string("ontology").value_or(r.ontology);
    r.kb_entities = read_count(t, "kb_entities", 1, r.kb_entities);
    r.kb_seed = read_seed(t, "kb_seed", r.kb_seed);
    r.dialogues = read_count(t, "dialogues", 1, r.dialogues);
    r.seeds = read_count(t, "seeds", 1, r.seeds);
    r.threads = read_count(t, "threads", 1, r.threads);
    r.test_dialogues = read_count(t, "test_dialogues", 1, r.test_dialogues);
    r.metric = t.string("metric").value_or(r.metric);
    r.report_every = read_count(t, "report_every", 0, r.report_every);
    r.validation_dialogues = read_count(t, "validation_dialogues", 1, r.validation_dialogues);
    r.seed = read_seed(t, "seed", r.seed);
    if (auto f = t.numbers("fidelities")) {
      if (f->empty()) {
        t.invalid("fidelities", "must be a non-empty array of fractions of the training dialogues, e.g. [0.25, 1.0]");
      }
      r.fidelities = std::move(*f);
    }
    if (const auto dqn = t.table("dqn")) r.dqn = agents::dqn::DqnOptions::from_table(*dqn);  // [objective.dqn]
    return r;
  });
  o.validate();
  return o;
}

void DialogueObjectiveOptions::validate() const {
  dialog::env_preset(env);  // InvalidArgument listing the presets
  MD_CHECK(metric == "success" || metric == "reward", "dqn-dialogue option 'metric' = '", metric,
           "' must be 'success' or 'reward'");
  MD_CHECK(dialogues >= 1 && seeds >= 1 && threads >= 1 && test_dialogues >= 1 && kb_entities >= 1,
           "dqn-dialogue: dialogues, seeds, threads, test_dialogues and kb_entities must be >= 1");
  MD_CHECK(report_every >= 0, "dqn-dialogue option 'report_every' = ", report_every,
           " must be >= 0 (0 = no intermediate values)");
  MD_CHECK(validation_dialogues >= 1, "dqn-dialogue option 'validation_dialogues' = ", validation_dialogues,
           " must be >= 1");
  MD_CHECK(!fidelities.empty(), "dqn-dialogue option 'fidelities' is empty");
  for (size_t i = 0; i < fidelities.size(); ++i) {
    const double f = fidelities[i];
    MD_CHECK(std::isfinite(f) && f > 0.0 && f <= 1.0, "dqn-dialogue option 'fidelities': ", f,
             " must be a fraction of the training dialogues in (0, 1]");
    MD_CHECK(i == 0 || f > fidelities[i - 1], "dqn-dialogue option 'fidelities' must increase (", fidelities[i - 1],
             " then ", f, ")");
  }
  dqn.validate();
}

int DialogueObjectiveOptions::dialogues_at(int fidelity) const {
  MD_CHECK(fidelity >= 0 && fidelity < static_cast<int>(fidelities.size()), "dqn-dialogue: fidelity ", fidelity,
           " out of [0, ", fidelities.size(), ")");
  const double d = std::round(fidelities[static_cast<size_t>(fidelity)] * dialogues);
  return std::max(1, static_cast<int>(d));
}

std::shared_ptr<const dialog::Domain> make_domain(const std::string& domain, const std::string& ontology,
                                                  int kb_entities, uint64_t kb_seed) {
  const dialog::KbOptions kb{kb_entities, kb_seed};
  if (!ontology.empty()) return dialog::Domain::load(ontology, kb);
  return dialog::Domain::builtin(domain, kb);
}

DqnDialogueObjective::DqnDialogueObjective(DialogueObjectiveOptions options) : options_(std::move(options)) {
  options_.validate();
  domain_ = make_domain(options_.domain, options_.ontology, options_.kb_entities, options_.kb_seed);
}

std::vector<objective::Fidelity> DqnDialogueObjective::fidelities() const {
  std::vector<objective::Fidelity> out;
  for (size_t i = 0; i < options_.fidelities.size(); ++i) {
    out.push_back({fmt::format("{} dialogues", options_.dialogues_at(static_cast<int>(i))), options_.fidelities[i]});
  }
  return out;
}

DqnExperiment DqnDialogueObjective::experiment(const space::Config& config, int fidelity) const {
  DqnExperiment ex;
  ex.domain = domain_;
  ex.env = dialog::env_preset(options_.env);
  ex.dqn = options_.dqn;
  for (const auto& [name, value] : config) ex.dqn.set(name, value);
  ex.dqn.validate();
  ex.train.dialogues = options_.dialogues_at(fidelity);
  ex.train.window = std::max(1, ex.train.dialogues);
  ex.train.seed = options_.seed;
  ex.seeds = options_.seeds;
  ex.threads = options_.threads;
  ex.test_dialogues = options_.test_dialogues;
  return ex;
}

double DqnDialogueObjective::value_of(const std::vector<SeedOutcome>& outcomes) const {
  std::vector<double> v;
  for (const auto& o : outcomes) v.push_back(options_.metric == "reward" ? o.test.avg_reward : o.test.success_rate);
  return mean_ci95(v).mean;
}

double DqnDialogueObjective::value_of(const LockstepPoint& point) const {
  std::vector<double> v;
  for (const auto& e : point.validation) v.push_back(options_.metric == "reward" ? e.avg_reward : e.success_rate);
  return mean_ci95(v).mean;
}

bool DqnDialogueObjective::reports_intermediate() const {
  return options_.report_every > 0 && options_.report_every <= *max_step();
}

std::optional<int64_t> DqnDialogueObjective::max_step() const {
  return options_.dialogues_at(static_cast<int>(options_.fidelities.size()) - 1);
}

objective::Evaluation DqnDialogueObjective::evaluate(const space::Config& config, int fidelity,
                                                     objective::Reporter& reporter) {
  const DqnExperiment ex = experiment(config, fidelity);
  const double cost = options_.fidelities[static_cast<size_t>(fidelity)];
  const bool target = fidelity + 1 == static_cast<int>(options_.fidelities.size());
  if (!target || options_.report_every == 0) return {value_of(run_dqn_experiment(ex)), cost};
  const LockstepOptions lockstep{.every = options_.report_every, .validation_dialogues = options_.validation_dialogues};
  const auto outcomes = run_dqn_experiment_lockstep(ex, lockstep, [&](const LockstepPoint& p) {
    try {
      reporter.report(p.dialogues, value_of(p));
    } catch (const TrialPruned& e) {
      // What the trial has cost: the training dialogues it ran (validation costs nothing).
      throw TrialPruned(e.what(), cost * static_cast<double>(p.dialogues) / static_cast<double>(ex.train.dialogues));
    }
  });
  return {value_of(outcomes), cost};
}

void DqnDialogueObjective::check_space(const space::SearchSpace& space) {
  using agents::dqn::DqnOptions;
  for (const auto& p : space.params()) {
    MD_CHECK(DqnOptions::has(p.name), "[space] parameter '", p.name, "' is not a DQN hyperparameter (known: ",
             DqnOptions::names_joined(), ")");
    const auto* f = std::get_if<space::FloatParam>(&p.dist);
    MD_CHECK(!f || !DqnOptions::is_integer(p.name), "[space] parameter '", p.name,
             "' is an integer DQN hyperparameter: give it type = \"int\"");
    DqnOptions probe;
    try {
      if (f) {
        probe.set(p.name, f->low);
        probe.set(p.name, f->high);
      } else if (const auto* i = std::get_if<space::IntParam>(&p.dist)) {
        probe.set(p.name, static_cast<double>(i->low));
        probe.set(p.name, static_cast<double>(i->high));
      } else {
        for (const auto& c : std::get<space::CategoricalParam>(p.dist).choices) probe.set(p.name, std::string_view(c));
      }
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(detail::concat("[space] parameter '", p.name, "': ", e.what()));
    }
  }
}

void register_dialogue_objectives(objective::ObjectiveRegistry& registry,
                                  const std::optional<space::SearchSpace>& space) {
  registry.add("dqn-dialogue", [space](const objective::ObjectiveOptions& options) {
    auto opts = DialogueObjectiveOptions::from_json(options);
    if (space) DqnDialogueObjective::check_space(*space);
    return std::unique_ptr<objective::Objective>(std::make_unique<DqnDialogueObjective>(std::move(opts)));
  });
}

}  // namespace metadial::train
