// Asynchronous successive halving ("asha") and Hyperband ("hyperband") as pruners, after Optuna's
// SuccessiveHalvingPruner and HyperbandPruner, with the rung values read off the stored
// intermediate values instead of trial attributes (see pruner.h).
#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/pruner.h"
#include "optim/detail/options.h"

namespace metadial::optim {
namespace {

using study::FrozenTrial;

constexpr int64_t kMaxResource = int64_t{1} << 40;
/// Key of the hash that puts a trial into a Hyperband bracket: derive_seed(key, {number}).
constexpr uint64_t kHyperbandBracketStream = stream("hyper_br");

/// The step before the last one `t` reported, -1 if it reported once.
int64_t previous_step(const FrozenTrial& t) {
  return t.intermediate.size() > 1 ? std::prev(t.intermediate.end(), 2)->first : -1;
}

/// The first rung at a step past `step`.
int64_t first_rung_after(const SuccessiveHalvingOptions& o, int64_t step) {
  int64_t k = 0;
  while (o.rung_step(k) <= step && o.rung_step(k) < std::numeric_limits<int64_t>::max()) ++k;
  return o.rung_step(k);
}

/// The value trial `t` had at the rung at step `rung`: its value at the first step it reported at
/// or past the rung. A pruned trial was stopped at the first rung its last report reached, so it
/// has no value at later rungs (as Optuna records none).
std::optional<double> rung_value(const SuccessiveHalvingOptions& o, const FrozenTrial& t, int64_t rung) {
  const auto it = t.intermediate.lower_bound(rung);
  if (it == t.intermediate.end()) return std::nullopt;
  if (t.state == study::TrialState::kPruned && rung > first_rung_after(o, previous_step(t))) return std::nullopt;
  return it->second;
}

/// Whether `value` is among the best 1/eta of `competing` (which holds it); with fewer than eta
/// values, whether it is the best (Optuna's _is_trial_promotable_to_next_rung).
bool promotable(double value, std::vector<double> competing, int64_t eta, study::Direction direction) {
  int64_t index = static_cast<int64_t>(competing.size()) / eta - 1;
  if (index < 0) index = 0;
  std::sort(competing.begin(), competing.end());
  if (direction == study::Direction::kMaximize) {
    return value >= competing[competing.size() - 1 - static_cast<size_t>(index)];
  }
  return value <= competing[static_cast<size_t>(index)];
}

/// Successive halving's decision for the latest report of `trial`, among the trials for which
/// `competes` holds. Every rung that report reached (past the trial's previous report, whose
/// rungs it passed then) is checked in turn, as Optuna's loop does.
template <typename Competes>
bool successive_halving_prunes(const SuccessiveHalvingOptions& o, study::Direction direction, const FrozenTrial& trial,
                               std::span<const FrozenTrial> trials, Competes competes) {
  if (trial.intermediate.empty()) return false;
  const auto& [step, value] = *trial.intermediate.rbegin();
  const int64_t previous = previous_step(trial);
  for (int64_t k = 0;; ++k) {
    const int64_t rung = o.rung_step(k);
    if (step < rung || rung == std::numeric_limits<int64_t>::max()) return false;
    if (rung <= previous) continue;
    std::vector<double> competing;
    for (const auto& t : trials) {
      if (t.number == trial.number || !competes(t)) continue;
      if (const auto v = rung_value(o, t, rung)) competing.push_back(*v);
    }
    competing.push_back(value);
    if (static_cast<int64_t>(competing.size()) <= o.bootstrap_count) return true;
    if (!promotable(value, std::move(competing), o.reduction_factor, direction)) return true;
  }
}

/// The shares of Hyperband's n brackets: bracket b gets ceil(n eta^s / (s + 1)), s = n - 1 - b
/// (eta^s <= max_resource / min_resource <= 2^40, so nothing overflows).
std::vector<int64_t> bracket_shares(int64_t n, int64_t eta) {
  MD_ASSERT(n >= 1, "hyperband: no bracket");
  std::vector<int64_t> shares;
  for (int64_t b = 0; b < n; ++b) {
    const int64_t s = n - 1 - b;
    int64_t eta_s = 1;
    for (int64_t i = 0; i < s; ++i) eta_s *= eta;
    shares.push_back((n * eta_s + s) / (s + 1));
  }
  return shares;
}

/// The bracket of trial `number`: a hash of the number, modulo the sum of the shares, falls into
/// one bracket's share.
int64_t bracket_of(int64_t number, const std::vector<int64_t>& shares) {
  int64_t total = 0;
  for (int64_t x : shares) total += x;
  int64_t h = static_cast<int64_t>(derive_seed(kHyperbandBracketStream, {static_cast<uint64_t>(number)}) %
                                   static_cast<uint64_t>(total));
  for (size_t b = 0; b < shares.size(); ++b) {
    h -= shares[b];
    if (h < 0) return static_cast<int64_t>(b);
  }
  MD_ASSERT(false, "hyperband: bracket shares do not add up");
  return 0;
}

/// a * b, saturating at INT64_MAX (both >= 0).
int64_t saturating_mul(int64_t a, int64_t b) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) return std::numeric_limits<int64_t>::max();
  return a * b;
}

}  // namespace

// ---- Successive halving -----------------------------------------------------------------------

void SuccessiveHalvingOptions::validate() const {
  MD_CHECK(min_resource >= 1, "asha: min_resource ", min_resource, " must be >= 1");
  MD_CHECK(reduction_factor >= 2, "asha: reduction_factor ", reduction_factor, " must be >= 2");
  MD_CHECK(min_early_stopping_rate >= 0, "asha: min_early_stopping_rate ", min_early_stopping_rate, " must be >= 0");
  MD_CHECK(bootstrap_count >= 0, "asha: bootstrap_count ", bootstrap_count, " must be >= 0");
}

int64_t SuccessiveHalvingOptions::rung_step(int64_t k) const {
  int64_t r = min_resource;
  for (int64_t i = 0; i < min_early_stopping_rate + k; ++i) {
    r = saturating_mul(r, reduction_factor);
    if (r == std::numeric_limits<int64_t>::max()) break;
  }
  return r;
}

SuccessiveHalvingPruner::SuccessiveHalvingPruner(SuccessiveHalvingOptions options) : options_(options) {
  options_.validate();
}

std::unique_ptr<Pruner> SuccessiveHalvingPruner::create(const nlohmann::json& json) {
  detail::OptionReader reader("pruner", "asha", json,
                              {"min_resource", "reduction_factor", "min_early_stopping_rate", "bootstrap_count"});
  SuccessiveHalvingOptions o;
  o.min_resource = reader.integer("min_resource", o.min_resource, 1);
  o.reduction_factor = reader.integer("reduction_factor", o.reduction_factor, 2);
  o.min_early_stopping_rate = reader.integer("min_early_stopping_rate", o.min_early_stopping_rate, 0, 62);
  o.bootstrap_count = reader.integer("bootstrap_count", o.bootstrap_count, 0);
  return std::make_unique<SuccessiveHalvingPruner>(o);
}

bool SuccessiveHalvingPruner::should_prune(const PrunerContext& ctx, const FrozenTrial& trial,
                                           std::span<const FrozenTrial> trials) const {
  return successive_halving_prunes(options_, ctx.direction, trial, trials, [](const FrozenTrial&) { return true; });
}

void SuccessiveHalvingPruner::validate(const PrunerContext& ctx) const {
  const int64_t first = options_.rung_step(0);
  MD_CHECK(!ctx.max_step ||
                   first<*ctx.max_step, "pruner 'asha': [pruner] min_resource: the first rung, at step ", first,
                         ", is not before the objective's last step (", ctx.max_step.value_or(0),
                         "), so nothing would be pruned; lower min_resource", options_.min_early_stopping_rate> 0
               ? " or min_early_stopping_rate"
               : "");
}

// ---- Hyperband --------------------------------------------------------------------------------

void HyperbandOptions::validate() const {
  MD_CHECK(min_resource >= 1, "hyperband: min_resource ", min_resource, " must be >= 1");
  MD_CHECK(!max_resource || (*max_resource >= min_resource && *max_resource <= kMaxResource),
           "hyperband: max_resource ", max_resource.value_or(0), " must be in [min_resource (", min_resource, "), ",
           kMaxResource, "]");
  MD_CHECK(reduction_factor >= 2, "hyperband: reduction_factor ", reduction_factor, " must be >= 2");
  MD_CHECK(bootstrap_count >= 0, "hyperband: bootstrap_count ", bootstrap_count, " must be >= 0");
}

HyperbandPruner::HyperbandPruner(HyperbandOptions options) : options_(options) { options_.validate(); }

std::unique_ptr<Pruner> HyperbandPruner::create(const nlohmann::json& json) {
  detail::OptionReader reader("pruner", "hyperband", json,
                              {"min_resource", "max_resource", "reduction_factor", "bootstrap_count"});
  HyperbandOptions o;
  o.min_resource = reader.integer("min_resource", o.min_resource, 1);
  if (const nlohmann::json* r = reader.find("max_resource"); r != nullptr && !r->is_string()) {
    o.max_resource = reader.integer("max_resource", 0, 1, kMaxResource);
    if (*o.max_resource < o.min_resource) {
      reader.invalid("min_resource",
                     metadial::detail::concat("(", o.min_resource, ") is above max_resource (", *o.max_resource, ")"));
    }
  } else if (r != nullptr) {
    reader.choice("max_resource", "auto", {"auto"});
  }
  o.reduction_factor = reader.integer("reduction_factor", o.reduction_factor, 2);
  o.bootstrap_count = reader.integer("bootstrap_count", o.bootstrap_count, 0);
  return std::make_unique<HyperbandPruner>(o);
}

int64_t HyperbandPruner::n_brackets(int64_t max_resource) const {
  if (max_resource < options_.min_resource) return 0;
  int64_t n = 1;
  for (int64_t r = options_.min_resource; r <= max_resource / options_.reduction_factor;
       r *= options_.reduction_factor) {
    ++n;
  }
  return n;
}

int64_t HyperbandPruner::bracket(int64_t number, int64_t max_resource) const {
  return bracket_of(number, bracket_shares(n_brackets(max_resource), options_.reduction_factor));
}

std::optional<int64_t> HyperbandPruner::max_resource(const PrunerContext& ctx,
                                                     std::span<const FrozenTrial> trials) const {
  if (options_.max_resource) return options_.max_resource;
  if (ctx.max_step) return *ctx.max_step + 1;
  std::optional<int64_t> last;
  for (const auto& t : trials) {
    if (t.state != study::TrialState::kComplete || t.intermediate.empty()) continue;
    last = std::max(last.value_or(0), t.intermediate.rbegin()->first);
  }
  if (!last) return std::nullopt;
  return std::min(*last + 1, kMaxResource);
}

bool HyperbandPruner::should_prune(const PrunerContext& ctx, const FrozenTrial& trial,
                                   std::span<const FrozenTrial> trials) const {
  const std::optional<int64_t> r = max_resource(ctx, trials);
  if (!r || n_brackets(*r) < 1) return false;
  const std::vector<int64_t> shares = bracket_shares(n_brackets(*r), options_.reduction_factor);
  const int64_t b = bracket_of(trial.number, shares);
  SuccessiveHalvingOptions sh;
  sh.min_resource = options_.min_resource;
  sh.reduction_factor = options_.reduction_factor;
  sh.min_early_stopping_rate = b;
  sh.bootstrap_count = options_.bootstrap_count;
  return successive_halving_prunes(sh, ctx.direction, trial, trials,
                                   [&](const FrozenTrial& t) { return bracket_of(t.number, shares) == b; });
}

void HyperbandPruner::validate(const PrunerContext& ctx) const {
  if (options_.max_resource || !ctx.max_step) return;
  MD_CHECK(options_.min_resource < *ctx.max_step, "pruner 'hyperband': [pruner] min_resource (", options_.min_resource,
           ") is not below the objective's last step (", *ctx.max_step,
           "; max_resource defaults to it + 1), so nothing would be pruned; lower min_resource");
}

}  // namespace metadial::optim
