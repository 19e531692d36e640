// Gradient-based meta-training (Chen et al. 2017) of the LSTM optimizer: the unrolled loss's
// autograd gradient against finite differences, that training helps, and the multi-fidelity
// hybrid (first level pathwise, fidelity level REINFORCE) trains both levels.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/meta/optimizer_trainer.h"
#include "metadial/optim/learned/model.h"
#include "optim/learned/detail/network.h"

namespace metadial::meta {
namespace {

std::vector<MultiFidelityFunction> functions(int d, int n, uint64_t seed) {
  TrainerOptions o;
  o.model.dim = d;
  o.finalize();
  Rng rng(seed);
  std::vector<MultiFidelityFunction> fs;
  for (int i = 0; i < n; ++i) fs.push_back(sample_multi_fidelity(o.prior, o.fidelity, rng));
  return fs;
}

// d/dw of the unrolled loss (through f, the online-normalized inputs and the recurrent state,
// nothing detached) equals the central difference, in double precision, for weights of the
// recurrent matrix, the input matrix and the head, and for each loss.
TEST(GradientTraining, UnrolledLossGradientMatchesFiniteDifferences) {
  ModelOptions mo;
  mo.dim = 2;
  mo.hidden = 5;
  LearnedOptimizer model(mo, 7);
  auto& net = model.impl().net;
  net->to(torch::kFloat64);
  const auto fs = functions(2, 3, 11);
  struct Probe {
    torch::Tensor param;
    int64_t row, col;
  };
  const std::vector<Probe> probes = {{net->cell1->weight_hh, 3, 1},
                                     {net->cell1->weight_ih, 6, 2},
                                     {net->head1->weight, 0, 4},
                                     {net->head1->weight, 3, 2}};
  for (Loss loss : {Loss::kSum, Loss::kOi, Loss::kMin}) {
    for (bool reparam : {true, false}) {
      for (const auto& p : probes) {
        for (auto& q : net->parameters()) q.mutable_grad() = torch::Tensor();
        unrolled_loss(model, fs, loss, 6, 5, reparam, true);
        const double analytic = p.param.grad()[p.row][p.col].item<double>();
        const double h = 1e-6;
        double fd = 0.0;
        {
          torch::NoGradGuard ng;
          const double w0 = p.param[p.row][p.col].item<double>();
          p.param[p.row][p.col] = w0 + h;
          const double up = unrolled_loss(model, fs, loss, 6, 5, reparam, false);
          p.param[p.row][p.col] = w0 - h;
          const double down = unrolled_loss(model, fs, loss, 6, 5, reparam, false);
          p.param[p.row][p.col] = w0;
          fd = (up - down) / (2 * h);
        }
        EXPECT_NEAR(analytic, fd, 1e-6 + 1e-4 * std::abs(fd))
            << "loss " << to_string(loss) << " reparameterize " << reparam << " row " << p.row << " col " << p.col;
      }
    }
  }
  // The recurrent weights do receive a gradient (the state is not detached).
  for (auto& q : net->parameters()) q.mutable_grad() = torch::Tensor();
  unrolled_loss(model, fs, Loss::kSum, 6, 5, true, true);
  EXPECT_GT(net->cell1->weight_hh.grad().abs().sum().item<double>(), 0.0);
}

// The same check for incumbent-centred proposals on functions of the bumps family: the gradient
// also flows through the incumbent's logit and through the Gaussian bumps.
TEST(GradientTraining, IncumbentProposalsOnBumpsGradientMatchesFiniteDifferences) {
  ModelOptions mo;
  mo.dim = 2;
  mo.hidden = 5;
  mo.proposal = optim::learned::Proposal::kIncumbent;
  LearnedOptimizer model(mo, 7);
  auto& net = model.impl().net;
  net->to(torch::kFloat64);
  TrainerOptions o;
  o.model.dim = 2;
  o.prior.bump_fraction = 1.0;
  o.prior.anisotropy = 3.0;
  o.finalize();
  Rng rng(12);
  std::vector<MultiFidelityFunction> fs;
  for (int i = 0; i < 3; ++i) fs.push_back(sample_multi_fidelity(o.prior, o.fidelity, rng));
  ASSERT_GT(fs[0].target().n_bumps(), 0u);
  for (Loss loss : {Loss::kOi, Loss::kMin}) {
    for (const auto& [param, row, col] : std::vector<std::tuple<torch::Tensor, int64_t, int64_t>>{
             {net->cell1->weight_ih, 6, 7}, {net->head1->weight, 1, 4}, {net->cell1->weight_hh, 2, 3}}) {
      for (auto& q : net->parameters()) q.mutable_grad() = torch::Tensor();
      unrolled_loss(model, fs, loss, 6, 5, true, true);
      const double analytic = param.grad()[row][col].item<double>();
      torch::NoGradGuard ng;
      const double w0 = param[row][col].item<double>(), h = 1e-6;
      param[row][col] = w0 + h;
      const double up = unrolled_loss(model, fs, loss, 6, 5, true, false);
      param[row][col] = w0 - h;
      const double down = unrolled_loss(model, fs, loss, 6, 5, true, false);
      param[row][col] = w0;
      const double fd = (up - down) / (2 * h);
      EXPECT_NEAR(analytic, fd, 1e-6 + 1e-4 * std::abs(fd)) << to_string(loss) << " row " << row << " col " << col;
    }
  }
}

// At T = 1 the loss is f(sigmoid(mu)) of the first proposal: checked by hand against the
// function's own value at the model's greedy first point.
TEST(GradientTraining, OneStepSumLossIsTheValueAtTheMeanProposal) {
  ModelOptions mo;
  mo.dim = 2;
  mo.hidden = 4;
  LearnedOptimizer model(mo, 3);
  const auto fs = functions(2, 2, 5);
  const double l = unrolled_loss(model, fs, Loss::kSum, 1, 0, false, false);
  double expect = 0.0;
  for (const auto& f : fs) expect += run_model(model, f, 1, 0, true).y[0];
  EXPECT_NEAR(l, expect / 2.0, 1e-5);
}

// The d = 1 training run of the "lowers held-out regret" tests: 150 updates of 32 episodes of 8
// steps, judged on 200 held-out functions.
TrainerOptions d1_options() {
  TrainerOptions o;
  o.method = Method::kGradient;
  o.model.dim = 1;
  o.model.hidden = 32;
  o.horizon = 8;
  o.batch = 32;
  o.iterations = 150;
  o.learning_rate = 3e-3;
  o.loss = Loss::kOi;
  o.n_validation = 200;
  o.eval_every = 0;
  o.keep_best = false;
  o.seed = 1;
  return o;
}

// Trains `o`, checks that the held-out regret fell below 0.8 x the untrained policy's, and
// returns the model's card.
nlohmann::json expect_training_lowers_regret(const TrainerOptions& o) {
  const LearnedOptimizer model = train(o);
  const auto& v = model.card()["validation"];
  EXPECT_EQ(model.card()["method"], "gradient");
  EXPECT_EQ(model.card()["fidelities"], o.model.fidelities);
  const double before = v["initial_regret"].get<double>(), after = v["regret"].get<double>();
  EXPECT_LT(after, 0.8 * before) << "before " << before << " after " << after;
  return model.card();
}

// Gradient meta-training on 1-d GP-prior functions lowers the held-out regret of the untrained
// policy (functions it never saw).
TEST(GradientTraining, LowersHeldOutRegretAtD1) { expect_training_lowers_regret(d1_options()); }

// Deterministic proposals (Chen et al.): the log-sd half of the head is pinned at its minimum
// (sd = e^-5 in u) and stays there through training, so sampling is the mean; the mean half learns,
// and the trained model lowers held-out regret like the reparameterized one.
TEST(GradientTraining, DeterministicModePinsTheSdAndStillLearns) {
  TrainerOptions o = d1_options();
  o.reparameterize = false;
  GradientTrainer trainer(o);
  auto& head = trainer.model().impl().net->head1;
  const torch::Tensor mean_before = head->weight.slice(0, 0, 1).clone();
  for (int i = 0; i < 5; ++i) trainer.step();
  EXPECT_EQ(head->weight.slice(0, 1).abs().max().item<double>(), 0.0);
  EXPECT_NEAR(head->bias[1].item<double>(), optim::learned::detail::kMinLogSd, 1e-6);
  EXPECT_GT((head->weight.slice(0, 0, 1) - mean_before).abs().max().item<double>(), 0.0);
  EXPECT_EQ(expect_training_lowers_regret(o)["reparameterize"], false);
}

TEST(GradientTraining, RefusesEiWithOneLine) {
  TrainerOptions e;
  e.method = Method::kGradient;
  e.loss = Loss::kEi;
  EXPECT_THROW(e.finalize(), InvalidArgument);
  EXPECT_THROW(method_from_string("adjoint"), InvalidArgument);
  EXPECT_EQ(method_from_string("gradient"), Method::kGradient);
}

TrainerOptions hybrid_options() {
  TrainerOptions o;
  o.method = Method::kGradient;
  o.reparameterize = false;
  o.model.dim = 1;
  o.model.fidelities = 2;
  o.model.hidden = 16;
  o.model.fidelity_hidden = 8;
  o.horizon = 6;
  o.batch = 16;
  o.budget = 30;
  o.lambda = 0.9;
  o.n_validation = 64;
  o.eval_every = 0;
  o.keep_best = false;
  o.seed = 3;
  return o;
}

// Multi-fidelity gradient training: one update changes every weight of both levels (the
// fidelity network through REINFORCE, the proposal network through the pathwise gradient), the
// proposal network's log-sd half stays pinned, and the reported cost is what the fidelity choices
// spent (between T * c_low and T * c_target).
TEST(GradientTraining, HybridTrainsBothLevels) {
  GradientTrainer trainer(hybrid_options());
  auto& net = trainer.model().impl().net;
  ASSERT_TRUE(net->cell2);
  std::vector<torch::Tensor> before;
  for (const auto& p : net->parameters()) before.push_back(p.detach().clone());
  const TrainingProgress p = trainer.step();
  const auto& n = trainer.last_gradient_norms();
  EXPECT_GT(n.level1_lstm, 0.0);
  EXPECT_GT(n.level1_head, 0.0);
  EXPECT_GT(n.level2_lstm, 0.0);
  EXPECT_GT(n.level2_head, 0.0);
  const auto params = net->parameters();
  for (const auto& q : {net->cell1->weight_hh, net->cell1->weight_ih, net->cell2->weight_hh, net->cell2->weight_ih,
                        net->head2->weight}) {
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].is_same(q)) {
        EXPECT_GT((params[i] - before[i]).abs().max().item<double>(), 0.0) << i;
      }
    }
  }
  EXPECT_EQ(net->head1->weight.slice(0, 1).abs().max().item<double>(), 0.0);
  EXPECT_GE(p.mean_cost, 6 * 1.0);
  EXPECT_LE(p.mean_cost, 6 * 10.0);
}

// Known answer for the fidelity level: when the target costs 1000x the low fidelity and the budget
// covers one target evaluation, every further one costs about as much as the largest possible
// improvement is worth, while the first one earns OI credit for free: training should settle at
// about one target evaluation per episode (the untrained network picks each level about half
// the time: about 2.7 of 6).
TEST(GradientTraining, HybridLearnsToSaveCostWhenTheTargetIsExpensive) {
  TrainerOptions o = hybrid_options();
  o.fidelity.costs = {1.0, 1000.0};
  o.budget = 1000;
  o.lambda = 0.5;
  o.iterations = 150;
  o.learning_rate = 1e-2;
  GradientTrainer trainer(o);
  // Target evaluations per episode from the mean cost (the other steps cost 1 each).
  auto n_target = [&](double cost) { return (cost - o.horizon) / 999.0; };
  const double first = n_target(trainer.step().mean_cost);
  double last = 0.0;
  const int tail = 30;
  for (int i = 1; i < o.iterations; ++i) {
    const double n = n_target(trainer.step().mean_cost);
    if (i >= o.iterations - tail) last += n / tail;
  }
  EXPECT_GT(first, 2.0);
  EXPECT_GT(last, 0.7) << "first " << first;
  EXPECT_LT(last, 1.5) << "first " << first;
}

// And the first level learns: held-out regret at the target fidelity falls below the untrained
// model's, as in the single-fidelity case.
TEST(GradientTraining, HybridLowersHeldOutRegretAtD1) {
  TrainerOptions o = d1_options();
  o.reparameterize = false;
  o.model.fidelities = 2;
  o.model.fidelity_hidden = 8;
  o.budget = 40;
  o.lambda = 0.9;
  o.seed = 3;
  expect_training_lowers_regret(o);
}

}  // namespace
}  // namespace metadial::meta
