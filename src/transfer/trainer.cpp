#include "metadial/transfer/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>

#include "metadial/core/error.h"

namespace metadial::transfer {

BatchSampler::BatchSampler(int64_t n, uint64_t seed) : rng_(seed) {
  MD_CHECK(n >= 1, "BatchSampler: empty data set");
  order_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order_[static_cast<size_t>(i)] = i;
  shuffle();
}

void BatchSampler::shuffle() {
  metadial::shuffle(order_, rng_);  // portable: the same order on every standard library
  pos_ = 0;
}

torch::Tensor BatchSampler::next(int64_t size) {
  torch::Tensor out = torch::empty({size}, torch::kLong);
  auto* p = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < size; ++i) {
    if (pos_ == order_.size()) shuffle();
    p[i] = order_[pos_++];
  }
  return out;
}

namespace {

// CPU time of the calling thread (a run's own work, whatever else the machine runs).
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The weighted related loss: sum_i w_i l_i / B (equation 6), or / sum_i w_i when normalised.
torch::Tensor weighted_mean(const torch::Tensor& w, const torch::Tensor& l, bool normalize) {
  if (!normalize) return (w * l).mean();
  return (w * l).sum() / w.sum().clamp_min(1e-12);
}

std::vector<torch::Tensor> clone_all(const std::vector<torch::Tensor>& ps) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  out.reserve(ps.size());
  for (const auto& p : ps) out.push_back(p.detach().clone());
  return out;
}

}  // namespace

MetaWeightTrainer::MetaWeightTrainer(Model& model, WeightModule* weights, const Dataset& primary,
                                     const Dataset* related, TrainerOptions options)
    : model_(model),
      weights_(weights),
      primary_(primary),
      related_(related),
      options_(options),
      primary_batches_(primary.size(), derive_seed(options.seed(), {1})),
      related_batches_(related != nullptr && related->size() > 0 ? related->size() : 1, derive_seed(options.seed(), {2})),
      meta_primary_batches_(primary.size(), derive_seed(options.seed(), {3})),
      meta_related_batches_(related != nullptr && related->size() > 0 ? related->size() : 1,
                            derive_seed(options.seed(), {4})),
      weight_rng_(derive_seed(options.seed(), {5})) {
  options_.validate();
  const Weighting w = options_.weighting();
  const bool needs_related = w != Weighting::kNone || options_.pretrain_iterations() > 0;
  MD_CHECK(!needs_related || (related_ != nullptr && related_->size() > 0), "MetaWeightTrainer: weighting '",
           to_string(w), "'", options_.pretrain_iterations() > 0 ? " with pre-training" : "",
           " needs a non-empty related data set");
  MD_CHECK(w != Weighting::kLearned || weights_ != nullptr,
           "MetaWeightTrainer: weighting 'learned' needs a weight module P_eta (got none)");
  MD_CHECK(!model_.parameters().empty(), "MetaWeightTrainer: the model has no parameters");
  if (w == Weighting::kOracle) {
    const Batch one = related_->gather(torch::zeros({1}, torch::kLong));
    MD_CHECK(one.has("oracle_weight"),
             "MetaWeightTrainer: weighting 'oracle' needs the related data set to have a field 'oracle_weight'"
             " (1 for examples to learn from, 0 for the others)");
  }
  if (w == Weighting::kRandomFixed) {
    std::vector<double> v(static_cast<size_t>(related_->size()));
    for (double& x : v) x = uniform01(weight_rng_);
    fixed_weights_ = torch::tensor(v, torch::kDouble);
  }
  reset_model_optimizer();
  if (w == Weighting::kLearned) {
    MD_CHECK(!weights_->parameters().empty(), "MetaWeightTrainer: the weight module has no parameters");
    weight_opt_ = std::make_unique<torch::optim::Adam>(
        weights_->parameters(),
        torch::optim::AdamOptions(options_.weight_lr())
            .eps(options_.weight_adam_eps() > 0 ? options_.weight_adam_eps() : options_.adam_eps()));
  }
  stats_ = {kNaN, kNaN, kNaN, kNaN, kNaN, 0, 0};
}

MetaWeightTrainer::~MetaWeightTrainer() = default;

void MetaWeightTrainer::reset_model_optimizer() {
  model_opt_ = std::make_unique<torch::optim::Adam>(
      model_.parameters(), torch::optim::AdamOptions(options_.model_lr()).eps(options_.adam_eps()));
}

Task MetaWeightTrainer::related_task() const {
  return options_.separate_related_head() ? Task::kRelated : Task::kPrimary;
}

torch::Tensor MetaWeightTrainer::weights_for(const Batch& related) {
  const int64_t n = related.size();
  switch (options_.weighting()) {
    case Weighting::kNone:
    case Weighting::kOnes:
      return torch::ones({n}, torch::kDouble);
    case Weighting::kRandomFixed:
      return fixed_weights_.index_select(0, related.index);
    case Weighting::kRandomChanging: {
      std::vector<double> v(static_cast<size_t>(n));
      for (double& x : v) x = uniform01(weight_rng_);
      return torch::tensor(v, torch::kDouble);
    }
    case Weighting::kOracle:
      return related.at("oracle_weight");
    case Weighting::kLearned: {
      torch::NoGradGuard no_grad;
      return torch::sigmoid(weights_->logits(related));
    }
  }
  MD_ASSERT(false, "unhandled weighting");
  return {};
}

void MetaWeightTrainer::primary_update() {
  const Batch b = primary_.gather(primary_batches_.next(options_.batch_size()));
  model_opt_->zero_grad();
  const torch::Tensor loss = model_.losses(b, Task::kPrimary, model_.parameters()).mean();
  loss.backward();
  model_opt_->step();
  stats_.primary_loss = loss.item<double>();
}

void MetaWeightTrainer::related_update(bool pretraining) {
  const Batch b = related_->gather(related_batches_.next(options_.batch_size()));
  model_opt_->zero_grad();
  const torch::Tensor l = model_.losses(b, pretraining ? Task::kPrimary : related_task(), model_.parameters());
  torch::Tensor loss;
  if (pretraining || options_.weighting() == Weighting::kOnes) {
    loss = l.mean();
    stats_.mean_weight = 1;
  } else {
    const torch::Tensor w = weights_for(b).to(l.dtype());
    loss = weighted_mean(w, l, options_.normalize_weights());
    stats_.mean_weight = w.mean().item<double>();
  }
  loss.backward();
  model_opt_->step();
  stats_.related_loss = loss.item<double>();
}

torch::Tensor MetaWeightTrainer::meta_objective(const std::vector<Batch>& related, const Batch& primary) {
  MD_CHECK(weights_ != nullptr, "meta_objective: the trainer has no weight module");
  MD_CHECK(!related.empty(), "meta_objective: needs at least one related batch (one per simulated step)");
  const double beta = options_.simulated_lr();
  torch::AutoGradMode grad_on(true);  // the simulated steps need gradients even under a NoGradGuard
  // theta_0: the current parameters as fresh leaves, so that the graph reaches eta only through
  // the weights (the real parameters are not touched).
  std::vector<torch::Tensor> theta;
  for (const auto& p : model_.parameters()) theta.push_back(p.detach().requires_grad_(true));
  for (const Batch& b : related) {
    const torch::Tensor l = model_.losses(b, related_task(), theta);
    const torch::Tensor w = torch::sigmoid(weights_->logits(b)).to(l.dtype());
    const torch::Tensor loss = weighted_mean(w, l, options_.normalize_weights());  // equation 6
    const auto g = torch::autograd::grad({loss}, theta, {}, /*retain_graph=*/true, /*create_graph=*/true,
                                         /*allow_unused=*/true);
    for (size_t i = 0; i < theta.size(); ++i) {
      if (g[i].defined()) theta[i] = theta[i] - beta * g[i];       // equation 7
    }
  }
  return model_.losses(primary, Task::kPrimary, theta).mean();     // equation 8
}

void MetaWeightTrainer::meta_update() {
  std::vector<Batch> related;
  for (int64_t j = 0; j < options_.simulated_steps(); ++j) {
    related.push_back(related_->gather(meta_related_batches_.next(options_.batch_size())));
  }
  const Batch primary = primary_.gather(meta_primary_batches_.next(options_.batch_size()));
  const torch::Tensor lp = meta_objective(related, primary);
  const std::vector<torch::Tensor> eta = weights_->parameters();
  const auto g = torch::autograd::grad({lp}, eta, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                       /*allow_unused=*/true);                // equations 9-14
  weight_opt_->zero_grad();
  double sq = 0;
  for (size_t i = 0; i < eta.size(); ++i) {
    // A copy: autograd may return a view (e.g. a transposed product), which zero_grad() cannot detach.
    if (g[i].defined()) {
      eta[i].mutable_grad() = g[i].clone();
      sq += g[i].to(torch::kDouble).pow(2).sum().item<double>();
    }
  }
  stats_.meta_grad_norm = std::sqrt(sq);
  stats_.meta_grad_norm_sum += stats_.meta_grad_norm;
  ++stats_.meta_updates_done;
  weight_opt_->step();
  stats_.meta_loss = lp.item<double>();
}

void MetaWeightTrainer::step() {
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = thread_cpu_seconds();
  const int64_t pretrain = options_.pretrain_iterations();
  if (iteration_ < pretrain) {
    related_update(/*pretraining=*/true);
  } else {
    if (pretrain > 0 && iteration_ == pretrain) reset_model_optimizer();  // fine-tuning starts afresh
    if (options_.primary_step()) primary_update();
    if (options_.weighting() != Weighting::kNone) related_update(/*pretraining=*/false);
    if (options_.weighting() == Weighting::kLearned) {
      for (int64_t m = 0; m < options_.meta_updates(); ++m) meta_update();
    }
  }
  ++iteration_;
  step_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  step_cpu_seconds_ += thread_cpu_seconds() - c0;
}

double MetaWeightTrainer::accuracy(const Dataset& data, Task task, int64_t chunk) {
  MD_CHECK(chunk >= 1, "accuracy: chunk ", chunk, " must be >= 1");
  torch::NoGradGuard no_grad;
  double right = 0;
  for (int64_t start = 0; start < data.size(); start += chunk) {
    const int64_t n = std::min(chunk, data.size() - start);
    const Batch b = data.gather(torch::arange(start, start + n, torch::kLong));
    right += model_.correct(b, task).sum().item<double>();
  }
  return data.size() > 0 ? right / static_cast<double>(data.size()) : 0.0;
}

TrainResult MetaWeightTrainer::train(const Dataset& validation, const std::function<void(const EvalPoint&)>& on_eval) {
  TrainResult r;
  std::vector<torch::Tensor> best;
  auto evaluate = [&] {
    const EvalPoint e{iteration_, accuracy(validation)};
    r.curve.push_back(e);
    if (best.empty() || e.validation > r.best_validation) {
      r.best_validation = e.validation;
      r.best_iteration = e.iteration;
      best = clone_all(model_.parameters());
    }
    if (on_eval) on_eval(e);
  };
  while (iteration_ < options_.iterations()) {
    step();
    if (iteration_ % options_.eval_every() == 0 || iteration_ == options_.iterations()) evaluate();
  }
  if (best.empty()) evaluate();  // nothing left to run: the current model is the selection
  {
    torch::NoGradGuard no_grad;
    const auto params = model_.parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
  }
  r.step_seconds = step_seconds_;
  r.step_cpu_seconds = step_cpu_seconds_;
  return r;
}

}  // namespace metadial::transfer
