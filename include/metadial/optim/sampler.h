// Samplers propose the next configuration (and fidelity) from the study's history.
//
// A sampler keeps its settings (options) apart from run state, and rebuilds any state it needs
// from the history it is given: nothing is carried from one suggest() call to the next that the
// history does not determine. Randomness comes from SamplerContext::seed, derived by the study
// from (study seed, trial number), so the same history and seed give the same proposal, and a
// resumed study or another worker sees exactly what a single uninterrupted run would.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/objective/objective.h"
#include "metadial/space/search_space.h"
#include "metadial/study/trial.h"

namespace metadial::optim {

/// What a sampler knows besides the history.
struct SamplerContext {
  const space::SearchSpace* space = nullptr;
  study::Direction direction = study::Direction::kMinimize;
  std::vector<objective::Fidelity> fidelities{objective::Fidelity{"full", 1.0}};
  int64_t trial_number = 0;   ///< number of the trial being proposed
  uint64_t seed = 0;          ///< derived from (study seed, trial number)
  uint64_t study_seed = 0;    ///< the study's own seed (for designs shared by all trials)
  double budget_left = 0.0;   ///< cost budget left (infinity when none)

  /// Loss to minimize for a complete trial: value, or -value when maximizing.
  double loss(const study::FrozenTrial& t) const {
    return direction == study::Direction::kMinimize ? *t.value : -*t.value;
  }
  int target_fidelity() const { return static_cast<int>(fidelities.size()) - 1; }
};

/// A proposal: a configuration and the fidelity to evaluate it at.
struct Suggestion {
  space::Config config;
  int fidelity = -1;  ///< -1: the target (highest) fidelity
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  /// Proposes the next trial. `history` holds every trial of the study created before this
  /// one (running, complete, pruned and failed), ordered by number.
  virtual Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) = 0;
  virtual std::string name() const = 0;
  /// False for a sampler whose proposals never depend on the history (random, sobol, lhs): the
  /// study then shows it an empty one and skips reading the trials changed since the last ask,
  /// so that a trial's overhead does not grow with the study.
  virtual bool uses_history() const { return true; }
};

/// Sampler options as given in the config's [sampler] table (e.g. {"n_initial": 10}).
using SamplerOptions = nlohmann::json;
using SamplerFactory = std::function<std::unique_ptr<Sampler>(const SamplerOptions&)>;

/// Name -> factory. Built-ins are added by register_builtin_samplers(), never by static init.
class SamplerRegistry {
 public:
  void add(const std::string& name, SamplerFactory factory);
  bool contains(const std::string& name) const { return factories_.count(name) > 0; }
  /// Creates a sampler; throws InvalidArgument naming the known samplers if `name` is unknown,
  /// and on unknown or ill-typed options.
  std::unique_ptr<Sampler> create(const std::string& name, const SamplerOptions& options = {}) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, SamplerFactory> factories_;
};

/// Adds random, sobol, lhs, gp, tpe and bohb.
void register_builtin_samplers(SamplerRegistry& registry);

}  // namespace metadial::optim
