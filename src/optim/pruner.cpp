// The pruner registry, "none", and the percentile / median pruners (Optuna's PercentilePruner and
// MedianPruner, decision for decision).
#include "metadial/optim/pruner.h"

#include <algorithm>
#include <cmath>

#include "metadial/core/error.h"
#include "optim/detail/options.h"

namespace metadial::optim {

// ---- Registry -------------------------------------------------------------------------------

void PrunerRegistry::add(const std::string& name, PrunerFactory factory) {
  MD_CHECK(!name.empty(), "pruner name must not be empty");
  factories_[name] = std::move(factory);
}

std::vector<std::string> PrunerRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : factories_) out.push_back(name);
  return out;
}

std::unique_ptr<Pruner> PrunerRegistry::create(const std::string& name, const PrunerOptions& options) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw InvalidArgument(metadial::detail::concat("unknown pruner '", name, "' (known: ", known, ")"));
  }
  return it->second(options.is_null() ? PrunerOptions::object() : options);
}

void register_builtin_pruners(PrunerRegistry& registry) {
  registry.add("none", &NopPruner::create);
  registry.add("median", &PercentilePruner::create_median);
  registry.add("percentile", &PercentilePruner::create_percentile);
  registry.add("asha", &SuccessiveHalvingPruner::create);
  registry.add("hyperband", &HyperbandPruner::create);
}

std::unique_ptr<Pruner> NopPruner::create(const nlohmann::json& options) {
  detail::OptionReader reader("pruner", "none", options, {});
  return std::make_unique<NopPruner>();
}

// ---- Percentile / median ----------------------------------------------------------------------

namespace {

// np.percentile(values, q) with linear interpolation (numpy's default), q in [0, 100].
double percentile_of(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double pos = q / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
}

// Whether `step` is the trial's first report at or past the latest check point
// n_warmup + k * interval (Optuna's _is_first_in_interval_step).
bool first_in_interval(int64_t step, const std::map<int64_t, double>& values, int64_t warmup, int64_t interval) {
  const int64_t check_point = (step - warmup) / interval * interval + warmup;
  int64_t previous = -1;
  for (const auto& [s, _] : values) {
    if (s != step) previous = std::max(previous, s);
  }
  return previous < check_point;
}

PercentilePrunerOptions read_percentile_options(const std::string& name, const nlohmann::json& json,
                                                bool with_percentile) {
  std::vector<std::string> known = {"n_startup_trials", "n_warmup_steps", "interval_steps", "n_min_trials"};
  if (with_percentile) known.insert(known.begin(), "percentile");
  detail::OptionReader reader("pruner", name, json, known);
  PercentilePrunerOptions o;
  if (with_percentile) {
    if (reader.find("percentile") == nullptr) {
      reader.invalid("percentile",
                     "must be given: the percentile (0..100) of the complete trials' values at a "
                     "step that a trial must reach to go on (50: the median)");
    }
    o.percentile = reader.number("percentile", o.percentile, 0.0, 100.0);
  }
  o.n_startup_trials = reader.integer("n_startup_trials", o.n_startup_trials, 0);
  o.n_warmup_steps = reader.integer("n_warmup_steps", o.n_warmup_steps, 0);
  o.interval_steps = reader.integer("interval_steps", o.interval_steps, 1);
  o.n_min_trials = reader.integer("n_min_trials", o.n_min_trials, 1);
  return o;
}

}  // namespace

void PercentilePrunerOptions::validate() const {
  MD_CHECK(percentile >= 0.0 && percentile <= 100.0, "percentile pruner: percentile ", percentile,
           " must be in [0, 100]");
  MD_CHECK(n_startup_trials >= 0, "percentile pruner: n_startup_trials ", n_startup_trials, " must be >= 0");
  MD_CHECK(n_warmup_steps >= 0, "percentile pruner: n_warmup_steps ", n_warmup_steps, " must be >= 0");
  MD_CHECK(interval_steps >= 1, "percentile pruner: interval_steps ", interval_steps, " must be >= 1");
  MD_CHECK(n_min_trials >= 1, "percentile pruner: n_min_trials ", n_min_trials, " must be >= 1");
}

PercentilePruner::PercentilePruner(std::string name, PercentilePrunerOptions options)
    : name_(std::move(name)), options_(options) {
  options_.validate();
}

std::unique_ptr<Pruner> PercentilePruner::create_percentile(const nlohmann::json& options) {
  return std::make_unique<PercentilePruner>("percentile", read_percentile_options("percentile", options, true));
}

std::unique_ptr<Pruner> PercentilePruner::create_median(const nlohmann::json& options) {
  return std::make_unique<PercentilePruner>("median", read_percentile_options("median", options, false));
}

bool PercentilePruner::should_prune(const PrunerContext& ctx, const study::FrozenTrial& trial,
                                    std::span<const study::FrozenTrial> trials) const {
  if (trial.intermediate.empty()) return false;
  const auto n_complete = std::count_if(trials.begin(), trials.end(), [&](const study::FrozenTrial& t) {
    return t.number != trial.number && t.state == study::TrialState::kComplete;
  });
  if (n_complete == 0 || n_complete < options_.n_startup_trials) return false;

  const int64_t step = trial.intermediate.rbegin()->first;
  if (step < options_.n_warmup_steps) return false;
  if (!first_in_interval(step, trial.intermediate, options_.n_warmup_steps, options_.interval_steps)) return false;

  const bool minimize = ctx.direction == study::Direction::kMinimize;
  double best = trial.intermediate.begin()->second;
  for (const auto& [_, v] : trial.intermediate) best = minimize ? std::min(best, v) : std::max(best, v);

  std::vector<double> at_step;
  for (const auto& t : trials) {
    if (t.number == trial.number || t.state != study::TrialState::kComplete) continue;
    if (auto it = t.intermediate.find(step); it != t.intermediate.end()) at_step.push_back(it->second);
  }
  if (at_step.empty() || static_cast<int64_t>(at_step.size()) < options_.n_min_trials) return false;
  const double p = percentile_of(std::move(at_step), minimize ? options_.percentile : 100.0 - options_.percentile);
  return minimize ? best > p : best < p;
}

}  // namespace metadial::optim
