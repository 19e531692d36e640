#include "metadial/online/dqn_target.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "metadial/agents/dqn/dqn_policy.h"
#include "metadial/agents/evaluate.h"
#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/dialog/env.h"

namespace metadial::online {
namespace {

// Greedy DQN acting (the same action as DqnPolicy::act) that accumulates statistics of the
// allowed Q-values at every turn: mean and variance, entropy and largest probability of softmax(Q).
class QRecorder final : public agents::Policy {
 public:
  explicit QRecorder(agents::dqn::DqnPolicy& policy) : policy_(policy), q_(static_cast<size_t>(policy.num_actions())) {}
  std::string name() const override { return "dqn"; }

  int act(const agents::PolicyInput& in) override {
    policy_.q_values(in.observation, q_);
    const int chosen = agents::dqn::masked_argmax(q_, in.action_mask);
    MD_CHECK(chosen >= 0, "DQN target: the action mask allows no action");
    const double top = q_[static_cast<size_t>(chosen)];
    double z = 0.0, weighted = 0.0;
    for (size_t a = 0; a < q_.size(); ++a) {
      if (!in.action_mask.empty() && !in.action_mask[a]) continue;
      const double q = q_[a];
      sum_ += q;
      sum_sq_ += q * q;
      ++values_;
      const double e = std::exp(q - top);
      z += e;
      weighted += e * (q - top);
    }
    // p_a = exp(q_a - top) / z: H = log z - sum_a p_a (q_a - top), max p = 1 / z.
    entropy_ += std::log(z) - weighted / z;
    max_prob_ += 1.0 / z;
    ++turns_;
    return chosen;
  }

  // The statistics so far (recent_loss left at 0).
  TargetStats stats() const {
    TargetStats s;
    if (values_ == 0) return s;
    const auto n = static_cast<double>(values_);
    s.output_mean = sum_ / n;
    s.output_std =
        values_ > 1 ? std::sqrt(std::max(0.0, (sum_sq_ - n * s.output_mean * s.output_mean) / (n - 1))) : 0.0;
    s.entropy = entropy_ / static_cast<double>(turns_);
    s.max_prob = max_prob_ / static_cast<double>(turns_);
    return s;
  }

 private:
  agents::dqn::DqnPolicy& policy_;
  std::vector<float> q_;
  double sum_ = 0.0, sum_sq_ = 0.0, entropy_ = 0.0, max_prob_ = 0.0;
  int64_t values_ = 0, turns_ = 0;
};

}  // namespace

void check_dqn_tuple(const Tuple& t) {
  for (const auto& [name, v] : t) {
    if (name == "learning_rate") MD_CHECK(v >= 0 && v < 10, "learning_rate ", v, " must be in [0, 10)");
    if (name == "epsilon") MD_CHECK(v >= 0 && v <= 1, "epsilon ", v, " must be in [0, 1]");
  }
}

void DqnDialogOptions::validate() const {
  dialog::env_preset(env);  // InvalidArgument listing the presets
  dqn.validate();
  MD_CHECK(validation_dialogues >= 1, "DQN target: validation_dialogues = ", validation_dialogues, " must be >= 1");
  MD_CHECK(test_dialogues >= 1, "DQN target: test_dialogues = ", test_dialogues, " must be >= 1");
  for (const char* n : {"learning_rate", "epsilon"}) {
    MD_CHECK(defaults.count(n) == 1, "DQN target: no default for '", n, "'");
  }
  MD_CHECK(defaults.size() == 2, "DQN target: defaults name a hyperparameter other than learning_rate and epsilon (",
           to_string(defaults), ")");
  check_dqn_tuple(defaults);
}

struct DqnDialogTarget::Impl {
  std::shared_ptr<const dialog::Domain> domain;
  DqnDialogOptions options;
  dialog::DialogueEnv env;
  std::unique_ptr<agents::dqn::DqnPolicy> policy;
  uint64_t seed = 0;
  int64_t steps = 0;
  TargetStats stats;

  Impl(std::shared_ptr<const dialog::Domain> d, DqnDialogOptions o)
      : domain(std::move(d)), options(std::move(o)), env(domain, dialog::env_preset(options.env)) {}

  void init(uint64_t s) {
    seed = s;
    steps = 0;
    stats = {};
    policy = std::make_unique<agents::dqn::DqnPolicy>(env, options.dqn, derive_seed(s, {kDqnPolicyStream}));
  }
};

DqnDialogTarget::DqnDialogTarget(std::shared_ptr<const dialog::Domain> domain, DqnDialogOptions options) {
  MD_CHECK(domain != nullptr, "DQN target: no domain");
  options.validate();
  impl_ = std::make_unique<Impl>(std::move(domain), std::move(options));
  impl_->init(0);
}
DqnDialogTarget::DqnDialogTarget(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DqnDialogTarget::~DqnDialogTarget() = default;

std::string DqnDialogTarget::name() const { return impl_->options.name; }
Tuple DqnDialogTarget::defaults() const { return impl_->options.defaults; }
void DqnDialogTarget::reset(uint64_t seed) { impl_->init(seed); }
int64_t DqnDialogTarget::steps_done() const { return impl_->steps; }
TargetStats DqnDialogTarget::stats() const { return impl_->stats; }
std::vector<float> DqnDialogTarget::parameters() const { return impl_->policy->parameters(); }
int64_t DqnDialogTarget::gradient_steps() const { return impl_->policy->gradient_steps(); }

void DqnDialogTarget::train(const Tuple& hp, int64_t steps) {
  MD_CHECK(steps >= 0, "DQN target: negative step count ", steps);
  const Tuple t = resolve(hp, impl_->options.defaults, name());
  check_dqn_tuple(t);
  Impl& m = *impl_;
  agents::dqn::DqnPolicy& policy = *m.policy;
  policy.set_learning_rate(t.at("learning_rate"));
  const double epsilon = t.at("epsilon");
  const agents::dqn::DqnOptions& dq = m.options.dqn;
  double loss_sum = 0.0;
  int64_t losses = 0;
  for (int64_t s = 0; s < steps; ++s) {
    agents::dqn::run_training_dialogue(m.env, policy, epsilon,
                                       derive_seed(m.seed, {kDqnTrainStream, static_cast<uint64_t>(m.steps)}));
    ++m.steps;
    if (m.steps % dq.train_frequency == 0) {
      for (int it = 0; it < dq.train_iters && policy.can_learn(); ++it) {
        loss_sum += policy.learn();
        ++losses;
      }
    }
  }
  if (losses > 0) m.stats.recent_loss = loss_sum / static_cast<double>(losses);
  policy.info().trained_dialogues += steps;
}

double DqnDialogTarget::validation_score() {
  Impl& m = *impl_;
  QRecorder recorder(*m.policy);
  const agents::EvalSummary e = agents::evaluate(m.env, recorder, m.options.validation_dialogues,
                                                 derive_seed(m.options.eval_seed, {kDqnValidationStream}));
  const double loss = m.stats.recent_loss;
  m.stats = recorder.stats();
  m.stats.recent_loss = loss;
  return e.success_rate;
}

double DqnDialogTarget::test_score() {
  Impl& m = *impl_;
  return agents::evaluate(m.env, *m.policy, m.options.test_dialogues,
                          derive_seed(m.options.eval_seed, {kDqnTestStream}))
      .success_rate;
}

std::unique_ptr<Target> DqnDialogTarget::clone() const {
  const Impl& src = *impl_;
  auto m = std::make_unique<Impl>(src.domain, src.options);
  m->policy = std::make_unique<agents::dqn::DqnPolicy>(src.policy->clone());
  m->seed = src.seed;
  m->steps = src.steps;
  m->stats = src.stats;
  return std::unique_ptr<Target>(new DqnDialogTarget(std::move(m)));
}

}  // namespace metadial::online
