// The built-in objective `dqn-dialogue`: the workload of the first paper (seed 000). A trial's
// configuration sets DQN hyperparameters (any of DqnOptions' names; the paper tunes epsilon in
// [0.1, 1], h1 in [100, 500], h2 in [30, 200]); the objective trains `seeds` independent DQN
// policies (in parallel on `threads` threads) for `dialogues` dialogues against the simulated
// user of environment `env`, evaluates each greedily on `test_dialogues` test dialogues, and
// returns the mean test success rate (metric = "success") or reward ("reward"); larger is
// better.
//
// Learning curve: at the target fidelity the seeds train in lockstep, and every `report_every`
// training dialogues each is evaluated greedily on `validation_dialogues` validation dialogues
// (the same for every trial, other than the test dialogues; they cost nothing); the mean over
// seeds of the validation success (or reward) is reported as an intermediate value at step =
// training dialogues done, so a pruner can stop a hopeless trial there. A pruned trial costs the
// training dialogues it ran over the target's (its fidelity's cost times that share). Epsilon
// decays over the whole target run: a report at 1000 of 4000 dialogues is the start of a
// 4000-dialogue run, not the 1000-dialogue fidelity, whose exploration schedule is compressed
// into 1000 dialogues; so runs at a lower fidelity report nothing (their curve is not comparable).
// The reports change nothing in the training: the value is the same with report_every = 0.
//
// Fidelities: fractions of `dialogues` (e.g. [0.25, 1.0]); the cost of a fidelity is its
// fraction (training time is proportional to the dialogues trained); the last is the target.
//
// [objective] options:
//   function = "dqn-dialogue"
//   env = "env1"             PyDial benchmark preset env1..env6
//   domain = "restaurant"    built-in domain (restaurant | movie), or
//   ontology = "PATH"        an ontology file (JSON or TOML)
//   kb_entities = 100, kb_seed = 0
//   dialogues = 4000, seeds = 10, threads = 2, test_dialogues = 500
//   metric = "success"       success | reward
//   report_every = 500       training dialogues between intermediate values (0 = none)
//   validation_dialogues = 50  greedy validation dialogues per seed at each report
//   fidelities = [1.0]
//   seed = 0                 base seed: every configuration meets the same users (common random numbers)
//   [objective.dqn]          fixed DQN hyperparameters for every trial (e.g. gamma = 0.95)
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/agents/dqn/options.h"
#include "metadial/dialog/domain.h"
#include "metadial/objective/objective.h"
#include "metadial/objective/registry.h"
#include "metadial/space/search_space.h"
#include "metadial/train/dqn_trainer.h"

namespace metadial::train {

/// Options of the dqn-dialogue objective (see the header comment).
struct DialogueObjectiveOptions {
  std::string env = "env1";
  std::string domain = "restaurant";
  std::string ontology;        ///< ontology file; empty = the built-in `domain`
  int kb_entities = 100;
  uint64_t kb_seed = 0;
  int dialogues = 4000;
  int seeds = 10;
  int threads = 2;
  int test_dialogues = 500;
  std::string metric = "success";
  int report_every = 500;         ///< training dialogues between reports at the target fidelity (0 = none)
  int validation_dialogues = 50;  ///< greedy dialogues per seed at each report
  std::vector<double> fidelities = {1.0};
  uint64_t seed = 0;
  agents::dqn::DqnOptions dqn;  ///< fixed hyperparameters, overridden by a trial's configuration

  /// From the config's [objective] table (minus `function`), read by the config reader (DQN
  /// hyperparameters from [objective.dqn]). InvalidArgument naming the key at fault, worded as for
  /// every table: "dqn-dialogue: unknown key 'k' in [objective] (expected one of: ...)",
  /// "dqn-dialogue: [objective] seeds must be an integer, got a float", or a value out of range.
  static DialogueObjectiveOptions from_json(const nlohmann::json& j);
  void validate() const;
  /// Training dialogues at fidelity `f` (round(fraction * dialogues), at least 1).
  int dialogues_at(int fidelity) const;
};

/// The domain a dialogue objective or command runs on: the ontology file if given (DataError
/// if malformed), else the built-in domain (InvalidArgument if unknown).
std::shared_ptr<const dialog::Domain> make_domain(const std::string& domain, const std::string& ontology,
                                                  int kb_entities = 100, uint64_t kb_seed = 0);

/// DQN training + greedy test as a study objective.
class DqnDialogueObjective final : public objective::Objective {
 public:
  explicit DqnDialogueObjective(DialogueObjectiveOptions options);

  objective::Evaluation evaluate(const space::Config& config, int fidelity, objective::Reporter& reporter) override;
  std::vector<objective::Fidelity> fidelities() const override;
  bool minimize() const override { return false; }
  std::string name() const override { return "dqn-dialogue"; }
  /// True when report_every is set and not past the target's training dialogues.
  bool reports_intermediate() const override;
  /// The target's training dialogues.
  std::optional<int64_t> max_step() const override;

  /// The experiment one trial runs: fixed options overridden by `config` (InvalidArgument on a
  /// name that is not a DQN hyperparameter or a value out of range).
  DqnExperiment experiment(const space::Config& config, int fidelity) const;
  /// The objective's value for finished runs (mean test success or reward).
  double value_of(const std::vector<SeedOutcome>& outcomes) const;
  /// The intermediate value at a lockstep point (mean validation success or reward).
  double value_of(const LockstepPoint& point) const;
  const DialogueObjectiveOptions& options() const { return options_; }
  const std::shared_ptr<const dialog::Domain>& domain() const { return domain_; }

  /// InvalidArgument if a parameter of `space` is not a DQN hyperparameter (listing the known
  /// ones), an integer hyperparameter is not an int parameter, or a bound is out of range.
  static void check_space(const space::SearchSpace& space);

 private:
  DialogueObjectiveOptions options_;
  std::shared_ptr<const dialog::Domain> domain_;
};

/// Adds `dqn-dialogue`. When `space` is given (the config's [space]), the factory checks its
/// parameter names with DqnDialogueObjective::check_space.
void register_dialogue_objectives(objective::ObjectiveRegistry& registry,
                                  const std::optional<space::SearchSpace>& space = std::nullopt);

}  // namespace metadial::train
