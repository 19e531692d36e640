#include "metadial/transfer/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/random.h"

namespace metadial::transfer {
namespace {

// Every test here runs on one intra-op thread, as the experiments do (set for the binary by
// tests/support/torch_test_environment.cpp).

torch::Tensor randn(std::vector<int64_t> shape, Rng& rng, torch::Dtype dtype = torch::kDouble) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = standard_normal(rng);
  return torch::tensor(v, torch::kDouble).reshape(shape).to(dtype);
}

torch::Tensor randint(int64_t n, int64_t hi, Rng& rng) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int64_t>(uniform01(rng) * static_cast<double>(hi));
  return torch::tensor(v, torch::kLong);
}

// P_eta as in the brief's test: a perceptron over a 2-feature field "z" (weight = sigmoid(v.z + b)).
class TwoInputPerceptron final : public WeightModule {
 public:
  TwoInputPerceptron() {
    v_ = register_parameter("v", torch::tensor({0.3, -0.7}, torch::kDouble));
    b_ = register_parameter("b", torch::tensor({0.1}, torch::kDouble));
  }
  torch::Tensor logits(const Batch& batch) override { return torch::mv(batch.at("z"), v_) + b_; }

 private:
  torch::Tensor v_, b_;
};

Batch make_batch(int64_t n, int64_t features, int64_t classes, Rng& rng) {
  Batch b;
  b.index = torch::arange(n, torch::kLong);
  b.fields["x"] = randn({n, features}, rng);
  b.fields["y"] = randint(n, classes, rng);
  b.fields["z"] = randn({n, 2}, rng);
  b.fields["flag"] = randint(n, 2, rng);
  return b;
}

// Central finite differences of trainer.meta_objective over every entry of eta.
std::vector<double> finite_difference(MetaWeightTrainer& trainer, WeightModule& p, const std::vector<Batch>& rel,
                                      const Batch& prim, double h) {
  std::vector<double> out;
  auto set = [](const torch::Tensor& flat, int64_t j, double value) {
    torch::NoGradGuard no_grad;
    flat[j].fill_(value);
  };
  for (auto& param : p.parameters()) {
    const auto flat = param.view({-1});
    for (int64_t j = 0; j < flat.numel(); ++j) {
      const double orig = flat[j].item<double>();
      set(flat, j, orig + h);
      const double up = trainer.meta_objective(rel, prim).item<double>();
      set(flat, j, orig - h);
      const double down = trainer.meta_objective(rel, prim).item<double>();
      set(flat, j, orig);
      out.push_back((up - down) / (2 * h));
    }
  }
  return out;
}

std::vector<double> autograd_meta_gradient(MetaWeightTrainer& trainer, WeightModule& p, const std::vector<Batch>& rel,
                                           const Batch& prim) {
  const torch::Tensor lp = trainer.meta_objective(rel, prim);
  const auto g = torch::autograd::grad({lp}, p.parameters());
  std::vector<double> out;
  for (const auto& t : g) {
    const auto flat = t.reshape({-1});
    for (int64_t j = 0; j < flat.numel(); ++j) out.push_back(flat[j].item<double>());
  }
  return out;
}

double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num / den);
}

struct FdCase {
  int64_t hidden;
  int64_t heads;
  int64_t steps;
};

class MetaGradient : public ::testing::TestWithParam<FdCase> {};

TEST_P(MetaGradient, MatchesCentralFiniteDifferencesInDouble) {
  const FdCase c = GetParam();
  Rng rng(7);
  Classifier model(3, 2, c.hidden, c.heads, /*seed=*/11);
  model.to(torch::kDouble);
  TwoInputPerceptron p;
  std::vector<Batch> rel;
  for (int64_t j = 0; j < c.steps; ++j) rel.push_back(make_batch(6, 3, 2, rng));
  const Batch prim = make_batch(8, 3, 2, rng);
  TensorDataset dummy({{"x", torch::zeros({4, 3}, torch::kDouble)}, {"y", torch::zeros({4}, torch::kLong)}});
  // A large simulated step so that the Hessian terms of k > 1 matter.
  MetaWeightTrainer trainer(model, &p, dummy, &dummy,
                            TrainerOptions().simulated_lr(0.8).simulated_steps(c.steps).separate_related_head(c.heads == 2));
  const auto g = autograd_meta_gradient(trainer, p, rel, prim);
  const auto fd = finite_difference(trainer, p, rel, prim, 1e-5);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_LT(relative_error(g, fd), 1e-4) << "autograd " << g[0] << " " << g[1] << " " << g[2] << " vs fd " << fd[0]
                                         << " " << fd[1] << " " << fd[2];
  // Not trivially zero: the weights really move the primary loss.
  EXPECT_GT(std::abs(fd[0]) + std::abs(fd[1]) + std::abs(fd[2]), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Models, MetaGradient,
                         ::testing::Values(FdCase{0, 1, 1},   // logistic regression, one simulated step
                                           FdCase{0, 1, 3},   // three steps: second-order terms
                                           FdCase{4, 2, 2}),  // shared tanh body, two heads
                         [](const auto& param_info) {
                           return "hidden" + std::to_string(param_info.param.hidden) + "_heads" +
                                  std::to_string(param_info.param.heads) + "_k" + std::to_string(param_info.param.steps);
                         });

// Equation 14 by hand for k = 1: dL_P(theta')/d eta = -beta/B sum_i dw_i/d eta <grad_theta L_i, grad L_P(theta')>.
TEST(MetaGradient, EqualsEquation14ForOneStep) {
  Rng rng(3);
  Classifier model(3, 2, 0, 1, 5);
  model.to(torch::kDouble);
  TwoInputPerceptron p;
  const Batch rel = make_batch(5, 3, 2, rng);
  const Batch prim = make_batch(7, 3, 2, rng);
  const double beta = 0.3;
  TensorDataset dummy({{"x", torch::zeros({2, 3}, torch::kDouble)}, {"y", torch::zeros({2}, torch::kLong)}});
  MetaWeightTrainer trainer(model, &p, dummy, &dummy, TrainerOptions().simulated_lr(beta));
  const auto g = autograd_meta_gradient(trainer, p, {rel}, prim);

  const auto theta = model.parameters();
  // theta' and grad L_P(theta') from first-order gradients only.
  torch::Tensor w = torch::sigmoid(p.logits(rel)).detach();
  std::vector<torch::Tensor> per_example;  // flattened grad_theta L_i
  for (int64_t i = 0; i < 5; ++i) {
    const auto li = model.losses(rel, Task::kPrimary, theta)[i];
    const auto gi = torch::autograd::grad({li}, theta);
    per_example.push_back(torch::cat({gi[0].reshape({-1}), gi[1].reshape({-1})}));
  }
  torch::Tensor step = torch::zeros_like(per_example[0]);
  for (int64_t i = 0; i < 5; ++i) step += w[i] * per_example[static_cast<size_t>(i)] / 5.0;
  std::vector<torch::Tensor> theta2;
  {
    const auto s0 = step.narrow(0, 0, theta[0].numel()).reshape(theta[0].sizes());
    const auto s1 = step.narrow(0, theta[0].numel(), theta[1].numel());
    theta2 = {(theta[0] - beta * s0).detach().requires_grad_(true), (theta[1] - beta * s1).detach().requires_grad_(true)};
  }
  const auto gp = torch::autograd::grad({model.losses(prim, Task::kPrimary, theta2).mean()}, theta2);
  const torch::Tensor v = torch::cat({gp[0].reshape({-1}), gp[1].reshape({-1})});
  std::vector<double> expected(3, 0.0);
  for (int64_t i = 0; i < 5; ++i) {
    const double dot = torch::dot(per_example[static_cast<size_t>(i)], v).item<double>();
    const double wi = w[i].item<double>();
    const double dw = wi * (1 - wi);  // d sigmoid / d logit; d logit / d(v, b) = (z, 1)
    const auto z = rel.at("z")[i];
    const double common = -beta / 5.0 * dw * dot;
    expected[0] += common * z[0].item<double>();
    expected[1] += common * z[1].item<double>();
    expected[2] += common;
  }
  EXPECT_LT(relative_error(g, expected), 1e-10);
}

// A two-class problem with a known answer: 75 % of the related labels are flipped and a flag says
// which. Learned weights must go up for flagged-correct examples and down for the others, and
// the model must then classify well while "1 for all" learns the flipped rule.
struct Synthetic {
  TensorDataset primary, related, test;
};

Synthetic make_synthetic(uint64_t seed) {
  Rng rng(seed);
  auto draw = [&](int64_t n) {
    torch::Tensor y = randint(n, 2, rng);
    torch::Tensor x = randn({n, 4}, rng, torch::kFloat) * 0.7;
    x.select(1, 0) += (y.to(torch::kFloat) * 2 - 1) * 1.5;
    x.select(1, 1) -= (y.to(torch::kFloat) * 2 - 1) * 1.0;
    return std::make_pair(x, y);
  };
  auto [xp, yp] = draw(64);
  auto [xr, yr] = draw(800);
  auto [xt, yt] = draw(400);
  std::vector<int64_t> flag(800, 1);
  for (size_t i = 0; i < 600; ++i) flag[i] = 0;  // positions are random already (labels are)
  torch::Tensor f = torch::tensor(flag, torch::kLong);
  torch::Tensor yr_noisy = torch::where(f.eq(1), yr, 1 - yr);
  return {TensorDataset({{"x", xp}, {"y", yp}}),
          TensorDataset({{"x", xr}, {"y", yr_noisy}, {"flag", f}, {"oracle_weight", f.to(torch::kFloat)}}),
          TensorDataset({{"x", xt}, {"y", yt}})};
}

struct SyntheticRun {
  double test_accuracy;
  double mean_correct;
  double mean_incorrect;
  double min_correct;
  double max_incorrect;
};

SyntheticRun run_synthetic(Weighting w, uint64_t seed = 1) {
  Synthetic s = make_synthetic(seed);
  Classifier model(4, 2, 0, 1, seed);
  PerceptronWeights p(4, 2, 2, seed + 100);
  MetaWeightTrainer trainer(model, &p, s.primary, &s.related,
                            TrainerOptions()
                                .iterations(400)
                                .batch_size(32)
                                .primary_step(false)
                                .weighting(w)
                                .model_lr(0.01)
                                .weight_lr(0.1)
                                .simulated_lr(0.1)
                                .seed(seed));
  for (int64_t i = 0; i < 400; ++i) trainer.step();
  const torch::Tensor weights = trainer.weights_for(s.related.all()).to(torch::kDouble);
  const torch::Tensor correct = s.related.field("flag").eq(1);
  const torch::Tensor wc = weights.masked_select(correct), wi = weights.masked_select(correct.logical_not());
  return {trainer.accuracy(s.test), wc.mean().item<double>(), wi.mean().item<double>(), wc.min().item<double>(),
          wi.max().item<double>()};
}

TEST(MetaWeightTrainer, LearnedWeightsSeparateCleanFromCorruptedRelatedExamples) {
  // Seeds 1-6 give mean weights 0.84-0.93 (correct) and 0.002 (incorrect), accuracy >= 0.9875.
  const SyntheticRun learned = run_synthetic(Weighting::kLearned);
  EXPECT_GT(learned.min_correct, 50 * learned.max_incorrect);  // every correct example above every wrong one
  EXPECT_GT(learned.mean_correct, 0.6);
  EXPECT_LT(learned.mean_incorrect, 0.05);
  EXPECT_GT(learned.test_accuracy, 0.95);
  const SyntheticRun ones = run_synthetic(Weighting::kOnes);
  EXPECT_LT(ones.test_accuracy, 0.2);  // 75 % flipped: it learns the flipped rule
  const SyntheticRun oracle = run_synthetic(Weighting::kOracle);
  EXPECT_GT(oracle.test_accuracy, 0.9);
  EXPECT_GT(learned.test_accuracy, oracle.test_accuracy - 0.05);
}

TEST(MetaWeightTrainer, SameSeedSameModelOtherSeedOtherModel) {
  auto params_after = [](uint64_t trainer_seed) {
    Synthetic s = make_synthetic(2);
    Classifier model(4, 2, 0, 1, 3);
    PerceptronWeights p(4, 2, 2, 4);
    MetaWeightTrainer t(model, &p, s.primary, &s.related,
                        TrainerOptions().batch_size(16).primary_step(true).seed(trainer_seed));
    for (int i = 0; i < 20; ++i) t.step();
    return torch::cat({model.parameters()[0].reshape({-1}), p.parameters()[0].reshape({-1})});
  };
  EXPECT_TRUE(torch::equal(params_after(5), params_after(5)));
  EXPECT_FALSE(torch::allclose(params_after(5), params_after(6)));
}

TEST(Baselines, RandomFixedWeightsStayFixedPerExample) {
  Synthetic s = make_synthetic(1);
  Classifier model(4, 2);
  MetaWeightTrainer t(model, nullptr, s.primary, &s.related, TrainerOptions().weighting(Weighting::kRandomFixed));
  const Batch b = s.related.gather(torch::tensor({3, 9, 3}, torch::kLong));
  const torch::Tensor w1 = t.weights_for(b), w2 = t.weights_for(b);
  EXPECT_TRUE(torch::equal(w1, w2));
  EXPECT_EQ(w1[0].item<double>(), w1[2].item<double>());  // the same example, the same weight
  EXPECT_NE(w1[0].item<double>(), w1[1].item<double>());
  const torch::Tensor all = t.weights_for(s.related.all());
  EXPECT_GT(all.min().item<double>(), 0.0);
  EXPECT_LT(all.max().item<double>(), 1.0);
  EXPECT_NEAR(all.mean().item<double>(), 0.5, 0.05);  // uniform(0, 1) over 800 examples
}

TEST(Baselines, RandomChangingWeightsAreRedrawnEachTime) {
  Synthetic s = make_synthetic(1);
  Classifier model(4, 2);
  MetaWeightTrainer t(model, nullptr, s.primary, &s.related, TrainerOptions().weighting(Weighting::kRandomChanging));
  const Batch b = s.related.gather(torch::tensor({3, 9}, torch::kLong));
  const torch::Tensor w1 = t.weights_for(b), w2 = t.weights_for(b);
  EXPECT_NE(w1[0].item<double>(), w2[0].item<double>());
  EXPECT_NE(w1[1].item<double>(), w2[1].item<double>());
}

TEST(Baselines, OnesAndOracleGiveTheirWeights) {
  Synthetic s = make_synthetic(1);
  Classifier model(4, 2);
  const Batch b = s.related.gather(torch::tensor({0, 700}, torch::kLong));  // flagged wrong, flagged right
  MetaWeightTrainer ones(model, nullptr, s.primary, &s.related, TrainerOptions().weighting(Weighting::kOnes));
  EXPECT_TRUE(torch::equal(ones.weights_for(b), torch::ones({2}, torch::kDouble)));
  MetaWeightTrainer oracle(model, nullptr, s.primary, &s.related, TrainerOptions().weighting(Weighting::kOracle));
  EXPECT_TRUE(torch::equal(oracle.weights_for(b), torch::tensor({0.0f, 1.0f})));
}

TEST(Baselines, OracleWithoutOracleFieldIsRejectedWithTheFieldName) {
  Synthetic s = make_synthetic(1);
  Classifier model(4, 2);
  try {
    MetaWeightTrainer t(model, nullptr, s.primary, &s.primary, TrainerOptions().weighting(Weighting::kOracle));
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'oracle_weight'"), std::string::npos) << e.what();
  }
}

TEST(Baselines, LearnedWithoutWeightModuleOrRelatedDataIsRejected) {
  Synthetic s = make_synthetic(1);
  Classifier model(4, 2);
  EXPECT_THROW(MetaWeightTrainer(model, nullptr, s.primary, &s.related, TrainerOptions()), InvalidArgument);
  PerceptronWeights p(4, 2, 2);
  EXPECT_THROW(MetaWeightTrainer(model, &p, s.primary, nullptr, TrainerOptions()), InvalidArgument);
  EXPECT_NO_THROW(MetaWeightTrainer(model, nullptr, s.primary, nullptr, with_method(TrainerOptions(), Method::kPrimaryOnly)));
}

TEST(Baselines, PrimaryOnlyNeverReadsRelatedData) {
  Synthetic s = make_synthetic(1);
  auto train = [&](const Dataset* related) {
    Classifier model(4, 2, 0, 1, 9);
    MetaWeightTrainer t(model, nullptr, s.primary, related,
                        with_method(TrainerOptions().batch_size(16).seed(4), Method::kPrimaryOnly));
    for (int i = 0; i < 30; ++i) t.step();
    return model.parameters()[0].clone();
  };
  EXPECT_TRUE(torch::equal(train(nullptr), train(&s.related)));
}

TEST(Baselines, PretrainingIsRelatedOnlyWithWeightsOneThenPrimaryOnly) {
  Synthetic s = make_synthetic(1);
  const TrainerOptions base = TrainerOptions().iterations(40).batch_size(16).seed(4);
  const TrainerOptions pre = with_method(TrainerOptions(base).pretrain_iterations(25), Method::kPretrainFinetune);
  EXPECT_EQ(pre.pretrain_iterations(), 25);
  EXPECT_EQ(pre.weighting(), Weighting::kNone);
  EXPECT_EQ(with_method(base, Method::kPretrainFinetune).pretrain_iterations(), 20);  // half by default

  Classifier a(4, 2, 0, 1, 9), b(4, 2, 0, 1, 9);
  MetaWeightTrainer ta(a, nullptr, s.primary, &s.related, pre);
  MetaWeightTrainer tb(b, nullptr, s.primary, &s.related, TrainerOptions(base).primary_step(false).weighting(Weighting::kOnes));
  for (int i = 0; i < 25; ++i) {
    ta.step();
    tb.step();
  }
  EXPECT_TRUE(torch::equal(a.parameters()[0], b.parameters()[0]));  // the same related-only updates
  // Fine-tuning: primary data only, from a fresh optimizer.
  Classifier c(4, 2, 0, 1, 9);
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < c.parameters().size(); ++i) c.parameters()[i].copy_(a.parameters()[i]);
  }
  MetaWeightTrainer tc(c, nullptr, s.primary, nullptr, with_method(base, Method::kPrimaryOnly));
  for (int i = 0; i < 15; ++i) {
    ta.step();
    tc.step();
  }
  EXPECT_TRUE(torch::allclose(a.parameters()[0], c.parameters()[0], 0, 1e-7));
}

TEST(Baselines, MultiTaskSendsRelatedLossesToTheSecondHead) {
  Synthetic s = make_synthetic(1);
  auto changed = [&](Method m) {
    Classifier model(4, 2, /*hidden=*/3, /*heads=*/2, 9);
    const auto before = model.parameters();
    std::vector<torch::Tensor> init;
    for (const auto& p : before) init.push_back(p.clone());
    // Related step only, so that every change comes from related data.
    MetaWeightTrainer t(model, nullptr, s.primary, &s.related,
                        TrainerOptions(with_method(TrainerOptions().batch_size(16), m)).primary_step(false));
    for (int i = 0; i < 5; ++i) t.step();
    std::vector<bool> out;
    for (size_t i = 0; i < init.size(); ++i) out.push_back(!torch::equal(init[i], model.parameters()[i]));
    return out;  // hidden.weight, hidden.bias, head0.weight, head0.bias, head1.weight, head1.bias
  };
  EXPECT_EQ(changed(Method::kMultiTask), (std::vector<bool>{true, true, false, false, true, true}));
  EXPECT_EQ(changed(Method::kJoint), (std::vector<bool>{true, true, true, true, false, false}));
}

TEST(TrainerOptions, MethodsSetTheirSwitches) {
  const TrainerOptions b = TrainerOptions().primary_step(false);
  EXPECT_EQ(with_method(b, Method::kJoint).weighting(), Weighting::kOnes);
  EXPECT_TRUE(with_method(b, Method::kJoint).primary_step());
  EXPECT_FALSE(with_method(b, Method::kJoint).separate_related_head());
  EXPECT_TRUE(with_method(b, Method::kMultiTask).separate_related_head());
  EXPECT_FALSE(with_method(b, Method::kLearned).primary_step());  // kept from base
  EXPECT_TRUE(with_method(b, Method::kLearned, /*auxiliary=*/true).separate_related_head());
  EXPECT_EQ(with_method(b, Method::kRandomChanging).weighting(), Weighting::kRandomChanging);
  for (const char* name : {"primary-only", "pretrain-finetune", "joint", "multi-task", "ones", "random-fixed",
                           "random-changing", "oracle", "learned"}) {
    EXPECT_EQ(to_string(parse_method(name)), name);
  }
  try {
    parse_weighting("uniform");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("valid: none, ones, random-fixed"), std::string::npos) << e.what();
  }
}

TEST(TrainerOptions, ValidateNamesTheBadSetting) {
  try {
    TrainerOptions().simulated_steps(0).validate();
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'simulated_steps': 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(TrainerOptions().iterations(10).pretrain_iterations(11).validate(), InvalidArgument);
  EXPECT_THROW(TrainerOptions().primary_step(false).weighting(Weighting::kNone).validate(), InvalidArgument);
}

TEST(MetaWeightTrainer, TrainSelectsTheBestValidationCheckpoint) {
  Synthetic s = make_synthetic(1);
  Classifier model(4, 2, 0, 1, 2);
  // "1 for all" with 75 % flipped labels gets worse as it trains: selection keeps an early model.
  MetaWeightTrainer t(model, nullptr, s.primary, &s.related,
                      TrainerOptions().iterations(200).eval_every(10).batch_size(32).primary_step(false)
                          .weighting(Weighting::kOnes).model_lr(0.01));
  std::vector<EvalPoint> seen;
  const TrainResult r = t.train(s.test, [&](const EvalPoint& e) { seen.push_back(e); });
  ASSERT_EQ(r.curve.size(), 20u);
  EXPECT_EQ(seen.size(), 20u);
  double best = 0;
  for (const auto& e : r.curve) best = std::max(best, e.validation);
  EXPECT_EQ(r.best_validation, best);
  EXPECT_LT(r.best_iteration, 200);
  EXPECT_DOUBLE_EQ(t.accuracy(s.test), r.best_validation);  // the restored parameters
  EXPECT_GT(r.curve.front().validation, r.curve.back().validation);
}

TEST(BatchSampler, VisitsEveryExampleOncePerEpoch) {
  BatchSampler s(10, 3);
  const torch::Tensor a = s.next(10);
  EXPECT_TRUE(torch::equal(std::get<0>(a.sort()), torch::arange(10, torch::kLong)));
  const torch::Tensor b = torch::cat({s.next(4), s.next(6)});
  EXPECT_TRUE(torch::equal(std::get<0>(b.sort()), torch::arange(10, torch::kLong)));
  EXPECT_FALSE(torch::equal(a, b));  // a new permutation each epoch
}

TEST(Batch, MissingFieldNamesTheFieldsThereAre) {
  Batch b;
  b.index = torch::zeros({1}, torch::kLong);
  b.fields["x"] = torch::zeros({1, 2});
  try {
    b.at("flag");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "batch has no field 'flag' (fields: x)");
  }
  EXPECT_THROW(TensorDataset({{"x", torch::zeros({3, 2})}, {"y", torch::zeros({4})}}), InvalidArgument);
}

}  // namespace
}  // namespace metadial::transfer

namespace metadial::transfer {
namespace {

// P_eta with one parameter, the common logit of every example: it can only scale all weights together.
class BiasOnly final : public WeightModule {
 public:
  BiasOnly() { b_ = register_parameter("b", torch::tensor({0.4}, torch::kDouble)); }
  torch::Tensor logits(const Batch& batch) override { return b_.expand({batch.size()}); }

 private:
  torch::Tensor b_;
};

// With sum_i w_i l_i / B (equation 6) the common scale of the weights is a learning rate of the
// simulated step, so the meta-gradient moves it; with sum_i w_i l_i / sum_i w_i it cannot matter.
TEST(MetaGradient, NormalizedWeightsGiveTheCommonScaleNoGradient) {
  for (const bool normalize : {false, true}) {
    Rng rng(21);
    Classifier model(3, 2, 0, 1, 5);
    model.to(torch::kDouble);
    BiasOnly p;
    const Batch rel = make_batch(9, 3, 2, rng);
    const Batch prim = make_batch(9, 3, 2, rng);
    TensorDataset dummy({{"x", torch::zeros({2, 3}, torch::kDouble)}, {"y", torch::zeros({2}, torch::kLong)}});
    MetaWeightTrainer trainer(model, &p, dummy, &dummy,
                              TrainerOptions().simulated_lr(0.5).simulated_steps(2).normalize_weights(normalize));
    const auto g = autograd_meta_gradient(trainer, p, {rel, rel}, prim);
    ASSERT_EQ(g.size(), 1u);
    if (normalize) {
      EXPECT_LT(std::abs(g[0]), 1e-12) << g[0];
    } else {
      EXPECT_GT(std::abs(g[0]), 1e-4) << g[0];
    }
  }
}

TEST(MetaGradient, NormalizedWeightsMatchFiniteDifferences) {
  Rng rng(8);
  Classifier model(3, 2, 0, 1, 11);
  model.to(torch::kDouble);
  TwoInputPerceptron p;
  std::vector<Batch> rel{make_batch(6, 3, 2, rng), make_batch(6, 3, 2, rng)};
  const Batch prim = make_batch(8, 3, 2, rng);
  TensorDataset dummy({{"x", torch::zeros({4, 3}, torch::kDouble)}, {"y", torch::zeros({4}, torch::kLong)}});
  MetaWeightTrainer trainer(model, &p, dummy, &dummy,
                            TrainerOptions().simulated_lr(0.8).simulated_steps(2).normalize_weights(true));
  const auto g = autograd_meta_gradient(trainer, p, rel, prim);
  const auto fd = finite_difference(trainer, p, rel, prim, 1e-5);
  EXPECT_LT(relative_error(g, fd), 1e-4);
  EXPECT_GT(std::abs(fd[0]) + std::abs(fd[1]), 1e-5);
}

TEST(MetaWeightTrainer, StatsCountTheMetaUpdatesAndTheirGradientNorms) {
  Rng rng(4);
  Classifier model(3, 2, 0, 1, 5);
  model.to(torch::kDouble);
  TwoInputPerceptron p;
  const Batch b = make_batch(40, 3, 2, rng);
  TensorDataset data({{"x", b.at("x")}, {"y", b.at("y")}, {"z", b.at("z")}});
  MetaWeightTrainer trainer(model, &p, data, &data, TrainerOptions().batch_size(8).meta_updates(3).iterations(4));
  trainer.step();
  trainer.step();
  EXPECT_EQ(trainer.last_stats().meta_updates_done, 6);
  EXPECT_GT(trainer.last_stats().meta_grad_norm, 0);
  EXPECT_GE(trainer.last_stats().meta_grad_norm_sum, trainer.last_stats().meta_grad_norm);
}

}  // namespace
}  // namespace metadial::transfer
