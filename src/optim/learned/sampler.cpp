// The `lstm` and `lstm-mf` samplers.
#include "metadial/optim/learned/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include <torch/torch.h>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/learned/pfn_sampler.h"
#include "metadial/optim/sobol_sampler.h"
#include "optim/detail/options.h"
#include "optim/learned/detail/seeding.h"

namespace metadial::optim::learned {

namespace {

// The default models (issue 14, part 5): which shipped model `lstm` / `lstm-mf` use when no
// `model` is given, and how to train one for a dimension that has none (the settings of
// bench/repro/learned_models.sh), chosen by the measured regret (bench/results/learned_transfer.md).
//   lstm     lstm-inc-d<d>.pt for every d: REINFORCE, incumbent-centred proposals, meta-trained on
//            the wide prior whose functions are all Gaussian-bump sums on a faint GP background
//            (issue 14's ablation, bench/results/learned_ablation.md and learned_prior.md: the
//            paper's GP prior puts 73-93 % of its minima at d >= 3 on a face of the cube, and models
//            trained on it search the faces). Since 2026-12-03 without the entropy bonus, which under
//            Adam drove the proposal spread to its cap and the proposals onto the faces at d = 6
//            (bench/results/learned_entropy.md), and with 8 rollouts per function at d = 1, 2, 3.
//            d = 3 since the third session of 2026-12-03: bumps 0.15-0.6 wide, 8000 updates with the
//            learning rate decayed along a cosine to 0 (bench/results/learned_schedule.md).
//            The paper's recipe, lstm-d<d>.pt, was the default
//            before; the deterministic lstm-det-d<d>.pt stalls (Branin at 50 trials 1.9x random,
//            Hartmann-3 2.7x, Hartmann-6 1.4x).
//   lstm-mf  lstm-mf-d<d>.pt (REINFORCE), but lstm-mfdet-d1.pt at d = 1 (GP-prior regret at cost 100
//            0.09 against 0.36; random 0.32). d = 2, 3, 6 since the fifth session of 2026-12-03: the
//            `lstm` recipe of the dimension (incumbent-centred, the wide prior; d = 3 its 8000 cosine-
//            decayed updates and wider bumps) with two fidelities and an entropy bonus of 0.01
//            (without it the fidelity choice collapsed), chosen on 256 fresh validation functions
//            (bench/results/learned_schedule_stable.md, its two-fidelity sections); each card has its command.
struct DefaultKind {
  const char* stem;   ///< file name: <stem>-d<d>.pt (<stem>-d<d>-f<M>.pt for M > 2 fidelities)
  const char* train;  ///< meta-train flags besides --dims, --fidelities, --budget and --out
};
constexpr DefaultKind kReinforce{
    "lstm-inc",
    "--loss oi --horizon 20 --lr 5e-3 --batch 64 --rollouts 8 --entropy 0 --validation 64 --seed 1 --iterations 4000 "
    "--proposal incumbent "
    "--lengthscale-min 0.05 --lengthscale-max 0.5 --anisotropy 3 --bumps 1 --bump-background 0.05"};
constexpr DefaultKind kReinforceMf{
    "lstm-mf",
    "--loss oi --horizon 20 --lr 5e-3 --batch 64 --rollouts 8 --entropy 0.01 --validation 64 --seed 1 --iterations 4000 "
    "--proposal incumbent --lengthscale-min 0.05 --lengthscale-max 0.5 --anisotropy 3 --bumps 1 --bump-background 0.05 "
    "--lambda 0.9 --low-correlation 0.8"};
constexpr DefaultKind kGradientMf{"lstm-mfdet",
                                  "--method gradient --deterministic --loss oi --horizon 20 --lambda 0.9 "
                                  "--batch 128 --lr 5e-4 --validation 256 --eval-every 200 --time-limit 900"};

const DefaultKind& default_kind(int dim, int fidelities) {
  if (fidelities == 1) return kReinforce;
  return dim == 1 ? kGradientMf : kReinforceMf;
}

std::string default_file_name(int dim, int fidelities) {
  const DefaultKind& k = default_kind(dim, fidelities);
  using metadial::detail::concat;
  return fidelities > 2 ? concat(k.stem, "-d", dim, "-f", fidelities, ".pt") : concat(k.stem, "-d", dim, ".pt");
}

}  // namespace

std::string default_models_dir() {
  if (const char* env = std::getenv("METADIAL_MODELS"); env && *env) return env;
  return "models";
}

std::string default_model_path(int dim, int fidelities, const std::string& dir) {
  MD_CHECK(dim >= 1 && fidelities >= 1, "default_model_path: dim ", dim, ", fidelities ", fidelities);
  const std::string path = (std::filesystem::path(dir) / default_file_name(dim, fidelities)).string();
  if (std::filesystem::is_regular_file(path)) return path;
  // The dimensions that have a default of this fidelity count in `dir`.
  std::vector<int> have;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    for (int d = 1; d <= 16; ++d) {
      if (e.path().filename() == default_file_name(d, fidelities)) have.push_back(d);
    }
  }
  std::sort(have.begin(), have.end());
  std::string dims;
  for (int d : have) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
  using metadial::detail::concat;
  const bool mf = fidelities > 1;
  const std::string what =
      mf ? concat(dim, "-dimensional spaces with ", fidelities, " fidelities") : concat(dim, "-dimensional spaces");
  const std::string where =
      have.empty() ? concat("'", dir, "' has none") : concat("'", dir, "' has them for d = ", dims);
  // With M fidelities the trainer's costs are 1, 10, ..., 10^(M-1): a budget of 10 target evaluations
  // (100 at M = 2, the shipped models').
  const std::string budget = mf ? concat(" --budget ", static_cast<int64_t>(std::pow(10.0, fidelities))) : std::string();
  const std::string flags = concat("--dims ", dim, mf ? concat(" --fidelities ", fidelities) : std::string(), " ",
                                   default_kind(dim, fidelities).train, budget, " --out ", path);
  throw InvalidArgument(concat("sampler '", mf ? "lstm-mf" : "lstm", "': no default model for ", what, " ('", path,
                               "' does not exist; ", where, "); train one with `metadial meta-train optimizer ", flags,
                               "`, or name a model with [sampler] model = \"...\""));
}

LstmSampler::LstmSampler(std::shared_ptr<const LearnedOptimizer> model, bool multi_fidelity, bool greedy,
                         std::string source)
    : model_(std::move(model)), multi_fidelity_(multi_fidelity), greedy_(greedy), source_(std::move(source)) {
  MD_CHECK(model_ != nullptr, "sampler 'lstm': no model");
  check_fidelities();
}

LstmSampler::LstmSampler(DefaultModel, bool multi_fidelity, bool greedy, std::string models_dir)
    : multi_fidelity_(multi_fidelity), greedy_(greedy), models_dir_(std::move(models_dir)), use_default_(true) {}

void LstmSampler::check_fidelities() const {
  MD_CHECK(!multi_fidelity_ || model_->n_fidelities() > 1, "sampler 'lstm-mf': model ", source_,
           " was trained for a single fidelity; train one with `metadial meta-train optimizer --fidelities 2 ...` or "
           "use sampler 'lstm'");
}

std::unique_ptr<Sampler> LstmSampler::create(const SamplerOptions& options, bool multi_fidelity) {
  const char* name = multi_fidelity ? "lstm-mf" : "lstm";
  const optim::detail::OptionReader reader(name, options, {"model", "greedy", "n_initial"});
  const auto path = reader.string("model");
  const bool greedy = reader.boolean("greedy", false);
  const int n_initial = static_cast<int>(reader.integer("n_initial", 0, 0, 1'000'000));
  std::unique_ptr<LstmSampler> s;
  if (!path) {
    s = std::make_unique<LstmSampler>(kDefaultModel, multi_fidelity, greedy, default_models_dir());
  } else {
    auto model = std::make_shared<const LearnedOptimizer>(LearnedOptimizer::load(*path));
    s = std::make_unique<LstmSampler>(std::move(model), multi_fidelity, greedy, "'" + *path + "'");
  }
  s->set_initial_trials(n_initial);
  return s;
}

const LearnedOptimizer& LstmSampler::model() const {
  MD_CHECK(model_ != nullptr, "sampler '", name(), "': the default model is chosen at the first suggestion");
  return *model_;
}

Suggestion LstmSampler::suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) {
  MD_CHECK(ctx.space != nullptr, "sampler '", name(), "': the context has no search space");
  std::lock_guard lock(mu_);  // one suggestion at a time: the model choice and the replay cache are shared
  if (use_default_) {
    MD_CHECK(!multi_fidelity_ || ctx.fidelities.size() > 1,
             "sampler 'lstm-mf': the objective has a single fidelity; use ",
             "sampler 'lstm' (or give the objective fidelities)");
    // The default model of this space's dimension (and fidelity count), loaded once.
    const int want_d = static_cast<int>(ctx.space->size());
    const int want_m = multi_fidelity_ ? static_cast<int>(ctx.fidelities.size()) : 1;
    if (!model_ || model_->dim() != want_d || (multi_fidelity_ && model_->n_fidelities() != want_m)) {
      const std::string path = default_model_path(want_d, want_m, models_dir_);
      model_ = std::make_shared<const LearnedOptimizer>(LearnedOptimizer::load(path));
      source_ = "'" + path + "'";
      rollout_.reset();
      fed_.clear();
      check_fidelities();
    }
  }
  const int d = model_->dim();
  MD_CHECK(static_cast<int>(ctx.space->size()) == d, "sampler '", name(), "': model ", source_, " was trained for ", d,
           "-dimensional spaces, but the study's search space has ", ctx.space->size(),
           " parameters; train one with `metadial meta-train optimizer --dims ", ctx.space->size(), "`");
  const int n_fid = static_cast<int>(ctx.fidelities.size());
  const int target = ctx.target_fidelity();
  if (multi_fidelity_) {
    MD_CHECK(n_fid == model_->n_fidelities(), "sampler 'lstm-mf': model ", source_, " was trained with ",
             model_->n_fidelities(), " fidelities, but the objective has ", n_fid,
             n_fid == 1 ? std::string("; use sampler 'lstm'")
                        : metadial::detail::concat("; train one with `metadial meta-train optimizer --fidelities ",
                                                   n_fid, "`"));
  }
  // An initial design, if asked for: the model replays these trials like any other.
  if (ctx.trial_number < n_initial_) return SobolSampler().suggest(ctx, history);
  // Trials still running (other workers' or threads') are replayed as if they had returned the
  // best loss seen so far (a constant liar, as GP-BO's): the LSTM state then moves on from them, so
  // concurrent asks propose different points, also for a deterministic model. The lie is replaced by
  // the real value when the trial finishes (the cache no longer extends: one replay).
  const auto fed_fidelity = [&](const study::FrozenTrial& t) -> std::optional<int> {
    if (t.params.empty() || (!multi_fidelity_ && t.fidelity != target)) return std::nullopt;
    return multi_fidelity_ ? std::clamp(t.fidelity, 0, model_->n_fidelities() - 1) : model_->n_fidelities() - 1;
  };
  std::optional<double> liar;
  for (const auto& t : history) {
    if (!t.is_complete() || !fed_fidelity(t)) continue;
    const double y = ctx.loss(t);
    if (std::isfinite(y) && (!liar || y < *liar)) liar = y;
  }
  std::vector<Fed> feed;
  std::vector<const study::FrozenTrial*> trials;
  for (const auto& t : history) {
    const std::optional<int> m = fed_fidelity(t);
    if (!m) continue;
    double y = 0.0;
    if (t.is_complete()) {
      y = ctx.loss(t);
      if (!std::isfinite(y)) continue;  // failed-as-infinite values would swamp the normalization
    } else if (t.state == study::TrialState::kRunning && liar) {
      y = *liar;
    } else {
      continue;
    }
    feed.push_back({t.number, *m, y});
    trials.push_back(&t);
  }

  // Seeds matter (detail/seeding.h): where the proposals are deterministic, the model works in the
  // cube's view of the study seed, and the study's first point is uniform from the first trial's
  // seed. A stochastic model keeps the identity view and its own first point.
  const nlohmann::json& card = model_->card();
  const bool deterministic = greedy_ || (card.is_object() && card.value("method", "") == "gradient" &&
                                         !card.value("reparameterize", true));
  const detail::CubeView view = deterministic ? detail::CubeView(d, ctx.study_seed) : detail::CubeView::identity(d);

  const bool extends = rollout_ && study_seed_ == ctx.study_seed && fed_.size() <= feed.size() &&
                       std::equal(fed_.begin(), fed_.end(), feed.begin());
  if (!extends) {
    rollout_ = std::make_unique<Rollout>(*model_);
    fed_.clear();
    study_seed_ = ctx.study_seed;
  }
  std::vector<double> mx(static_cast<size_t>(d));
  for (size_t i = fed_.size(); i < feed.size(); ++i) {
    view.to_model(ctx.space->encode(trials[i]->params), mx);
    rollout_->observe(mx, feed[i].fidelity, feed[i].y);
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
  std::vector<double> xs(x.size());  // x in the study's coordinates
  if (fed_.empty() && deterministic) {
    xs = detail::first_point(d, ctx.seed);
    view.to_model(xs, x);
  } else {
    for (size_t k = 0; k < x.size(); ++k) x[k] = squash(greedy_ ? mu[k] : mu[k] + sd[k] * standard_normal(rng));
    view.from_model(x, xs);
  }
  Suggestion s;
  s.config = ctx.space->decode(xs);
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
  registry.add("pfn", [](const SamplerOptions& o) { return PfnSampler::create(o); });
}

}  // namespace metadial::optim::learned
