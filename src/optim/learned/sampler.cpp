// The `lstm` and `lstm-mf` samplers.
#include "metadial/optim/learned/sampler.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "optim/detail/options.h"

namespace metadial::optim::learned {

LstmSampler::LstmSampler(std::shared_ptr<const LearnedOptimizer> model, bool multi_fidelity, bool greedy,
                         std::string source)
    : model_(std::move(model)), multi_fidelity_(multi_fidelity), greedy_(greedy), source_(std::move(source)) {
  MD_CHECK(model_ != nullptr, "sampler 'lstm': no model");
  MD_CHECK(!multi_fidelity_ || model_->n_fidelities() > 1, "sampler 'lstm-mf': model ", source_,
           " was trained for a single fidelity; train one with `metadial meta-train optimizer --fidelities 2 ...` or "
           "use sampler 'lstm'");
}

std::unique_ptr<Sampler> LstmSampler::create(const SamplerOptions& options, bool multi_fidelity) {
  const char* name = multi_fidelity ? "lstm-mf" : "lstm";
  const optim::detail::OptionReader reader(name, options, {"model", "greedy"});
  const std::string path =
      reader.require_string("model", "the path of a model written by `metadial meta-train optimizer`");
  const bool greedy = reader.boolean("greedy", false);
  auto model = std::make_shared<const LearnedOptimizer>(LearnedOptimizer::load(path));
  return std::make_unique<LstmSampler>(std::move(model), multi_fidelity, greedy, "'" + path + "'");
}

Suggestion LstmSampler::suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) {
  MD_CHECK(ctx.space != nullptr, "sampler '", name(), "': the context has no search space");
  const int d = model_->dim();
  MD_CHECK(static_cast<int>(ctx.space->size()) == d, "sampler '", name(), "': model ", source_, " was trained for ", d,
           "-dimensional spaces, but the study's search space has ", ctx.space->size(),
           " parameters; train one with `metadial meta-train optimizer --dims ", ctx.space->size(), "`");
  const int n_fid = static_cast<int>(ctx.fidelities.size());
  const int target = ctx.target_fidelity();
  if (multi_fidelity_) {
    MD_CHECK(n_fid == model_->n_fidelities(), "sampler 'lstm-mf': model ", source_, " was trained with ",
             model_->n_fidelities(), " fidelities, but the objective has ", n_fid,
             "; train one with `metadial meta-train optimizer --fidelities ", n_fid, "`");
  }
  std::vector<Fed> feed;
  std::vector<const study::FrozenTrial*> trials;
  for (const auto& t : history) {
    if (!t.is_complete() || t.params.empty()) continue;
    const double y = ctx.loss(t);
    if (!std::isfinite(y)) continue;  // failed-as-infinite values would swamp the normalization
    if (!multi_fidelity_ && t.fidelity != target) continue;
    const int m = multi_fidelity_ ? std::clamp(t.fidelity, 0, model_->n_fidelities() - 1) : model_->n_fidelities() - 1;
    feed.push_back({t.number, m, y});
    trials.push_back(&t);
  }

  std::lock_guard lock(mu_);
  const bool extends = rollout_ && fed_.size() <= feed.size() && std::equal(fed_.begin(), fed_.end(), feed.begin());
  if (!extends) {
    rollout_ = std::make_unique<Rollout>(*model_);
    fed_.clear();
  }
  for (size_t i = fed_.size(); i < feed.size(); ++i) {
    rollout_->observe(ctx.space->encode(trials[i]->params), feed[i].fidelity, feed[i].y);
    fed_.push_back(feed[i]);
  }
  // Propose from the cache itself: propose() and fidelity_probs() only compute what the next
  // observe() would compute anyway (the level-1 step is kept, the level-2 step is committed only
  // when the observed point is this one), so the cache stays exact and each suggestion costs one
  // LSTM step instead of two (one here, one again when the trial is replayed).
  Rollout& r = *rollout_;
  std::vector<double> mu(static_cast<size_t>(d)), sd(static_cast<size_t>(d)), x(static_cast<size_t>(d));
  r.propose(mu, sd);
  Rng rng(ctx.seed);
  for (size_t k = 0; k < x.size(); ++k) x[k] = squash(greedy_ ? mu[k] : mu[k] + sd[k] * standard_normal(rng));
  Suggestion s;
  s.config = ctx.space->decode(x);
  s.fidelity = -1;
  if (multi_fidelity_) {
    const auto p = r.fidelity_probs(x);
    int m = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
    if (!greedy_) {
      const double u = uniform01(rng);
      double acc = 0.0;
      m = static_cast<int>(p.size()) - 1;
      for (size_t k = 0; k < p.size(); ++k) {
        acc += p[k];
        if (u < acc) {
          m = static_cast<int>(k);
          break;
        }
      }
    }
    s.fidelity = m;
  }
  return s;
}

void register_learned_samplers(SamplerRegistry& registry) {
  registry.add("lstm", [](const SamplerOptions& o) { return LstmSampler::create(o, false); });
  registry.add("lstm-mf", [](const SamplerOptions& o) { return LstmSampler::create(o, true); });
}

}  // namespace metadial::optim::learned
