// The `hyprl` sampler and the warm-start wrapper used as a transfer baseline.
#include "metadial/optim/hyprl/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/hyprl/warm_start.h"
#include "optim/detail/options.h"

namespace metadial::optim::hyprl {
namespace {

std::string describe_space(const space::SearchSpace& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    out += (i ? ", " : "") + s.param(i).name;
    if (s.is_discrete(i)) out += " (" + std::to_string(s.cardinality(i)) + " values)";
  }
  return out.empty() ? "no parameter" : out;
}

size_t random_row(uint64_t seed, size_t n) {
  Rng rng(seed);
  return std::min(n - 1, static_cast<size_t>(uniform01(rng) * static_cast<double>(n)));
}

}  // namespace

HyprlSamplerOptions HyprlSamplerOptions::from_json(const SamplerOptions& options,
                                                   const objective::TabularLayout& layout) {
  const optim::detail::OptionReader reader("hyprl", options, {"model", "meta_features", "first"});
  HyprlSamplerOptions o;
  o.model = reader.require_string("model", "the path of a model written by `metadial meta-train hyprl`");
  if (const nlohmann::json* m = reader.find("meta_features")) {
    if (m->is_string()) {
      const objective::TabularBenchmark b = objective::load_tabular_file(*reader.string("meta_features"), layout);
      o.meta_features = b.datasets.front().meta_features;
    } else if (m->is_array()) {
      o.meta_features = *reader.numbers("meta_features");
    } else {
      reader.invalid("meta_features", "must be an array of numbers or the path of a meta-data file, got " + m->dump());
    }
  }
  o.random_first = reader.choice("first", "policy", {"policy", "random"}) == "random";
  return o;
}

HyprlSampler::HyprlSampler(std::shared_ptr<const Policy> policy, std::vector<double> meta_features, bool random_first)
    : policy_(std::move(policy)), meta_features_(std::move(meta_features)), random_first_(random_first) {
  MD_CHECK(policy_ != nullptr, "sampler 'hyprl': no policy");
  const int want = policy_->n_meta_features();
  if (want == 0) {
    MD_CHECK(meta_features_.empty(), "sampler 'hyprl': the model was trained without meta-features; remove "
                                     "meta_features from [sampler]");
  } else {
    MD_CHECK(static_cast<int>(meta_features_.size()) == want, "sampler 'hyprl': the model reads ", want,
             " meta-features of the data set; give meta_features = [", want,
             " numbers] or the path of the data set's meta-data file in [sampler] (got ", meta_features_.size(), ")");
  }
}

std::unique_ptr<Sampler> HyprlSampler::create(const SamplerOptions& options) {
  // Every option is checked before the model is loaded, except a meta_features file: reading it
  // needs the layout of the model's grid (from_json below).
  const std::string model = optim::detail::OptionReader("hyprl", options, {"model", "meta_features", "first"})
                                .require_string("model", "the path of a model written by `metadial meta-train hyprl`");
  auto policy = std::make_shared<const Policy>(Policy::load(model));
  HyprlSamplerOptions o = HyprlSamplerOptions::from_json(options, policy->grid().layout());
  auto s = std::make_unique<HyprlSampler>(std::move(policy), std::move(o.meta_features), o.random_first);
  s->source_ = "'" + o.model + "'";
  return s;
}

Suggestion HyprlSampler::suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) {
  MD_CHECK(ctx.space != nullptr, "sampler 'hyprl': the context has no search space");
  const objective::TabularGrid& grid = policy_->grid();
  if (!(*ctx.space == grid.space())) {
    throw InvalidArgument(metadial::detail::concat(
        "sampler 'hyprl': model ", source_, " was trained for the ", grid.describe(), " (fingerprint ",
        grid.fingerprint(), "), but the study's search space is another one (", describe_space(*ctx.space),
        "); use the tabular objective of that grid, or train a model for this one with `metadial meta-train hyprl`"));
  }
  const study::Direction want = grid.layout().maximize ? study::Direction::kMaximize : study::Direction::kMinimize;
  MD_CHECK(ctx.direction == want, "sampler 'hyprl': model ", source_, " was trained to ", to_string(want), " ",
           grid.layout().response, ", but the study is set to ", to_string(ctx.direction));

  std::vector<Observation> observed;
  std::vector<size_t> tried;
  for (const auto& t : history) {
    if (t.params.empty()) continue;
    const size_t row = grid.row_of(t.params);
    tried.push_back(row);
    if (t.is_complete() && std::isfinite(*t.value)) observed.push_back({row, *t.value});
  }
  if (tried.empty() && random_first_) return Suggestion{grid.config(random_row(ctx.seed, grid.size())), -1};
  const std::optional<size_t> row = policy_->choose(observed, meta_features_, tried);
  return Suggestion{grid.config(row ? *row : random_row(ctx.seed, grid.size())), -1};
}

void register_hyprl_sampler(SamplerRegistry& registry) { registry.add("hyprl", &HyprlSampler::create); }

// ---- warm start -------------------------------------------------------------------------------

std::vector<size_t> best_on_average(const objective::TabularBenchmark& b, std::span<const size_t> datasets, size_t k) {
  MD_CHECK(b.grid != nullptr && !datasets.empty(), "best_on_average: no data set");
  const size_t n = b.grid->size();
  const double sign = b.grid->layout().maximize ? 1.0 : -1.0;
  std::vector<double> mean(n, 0.0);
  for (size_t i : datasets) {
    const auto& d = b.datasets.at(i);
    const double best = sign > 0 ? d.max_response() : -d.min_response();
    const double worst = sign > 0 ? d.min_response() : -d.max_response();
    for (size_t r = 0; r < n; ++r) {
      mean[r] += best > worst ? (sign * d.responses[r] - worst) / (best - worst) : 0.0;
    }
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) { return mean[a] > mean[c]; });
  order.resize(std::min(k, n));
  return order;
}

WarmStartSampler::WarmStartSampler(std::vector<space::Config> initial, std::unique_ptr<Sampler> inner)
    : initial_(std::move(initial)), inner_(std::move(inner)) {
  MD_CHECK(inner_ != nullptr, "WarmStartSampler: no inner sampler");
}

Suggestion WarmStartSampler::suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) {
  if (ctx.trial_number < static_cast<int64_t>(initial_.size())) {
    for (const auto& c : initial_) {
      const bool done = std::any_of(history.begin(), history.end(), [&](const auto& t) { return t.params == c; });
      if (!done) return Suggestion{c, -1};
    }
  }
  return inner_->suggest(ctx, history);
}

}  // namespace metadial::optim::hyprl
