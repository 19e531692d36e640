// The two-level LSTM optimizer: both networks learn, the C++ rollout equals the LibTorch
// networks, models round-trip, bad files and names fail with one line, and a short
// meta-training lowers held-out regret.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/learned/model.h"
#include "metadial/meta/optimizer_trainer.h"
#include "nn/model_file_testing.h"
#include "meta/detail/trainer_common.h"
#include "optim/learned/detail/network.h"
#include "support/torch_state.h"

namespace metadial::optim::learned {
namespace {

using meta::GradientNorms;
using meta::TrainingProgress;
using meta::cosine_learning_rate;
using meta::Loss;
using meta::ReinforceTrainer;
using meta::TrainerOptions;
using meta::loss_from_string;
using meta::train;

TrainerOptions small_options(int dim, int fidelities) {
  TrainerOptions o;
  o.model.dim = dim;
  o.model.fidelities = fidelities;
  o.model.hidden = 16;
  o.model.fidelity_hidden = 8;
  o.horizon = 6;
  o.batch = 8;
  o.iterations = 1;
  o.n_validation = 4;
  o.budget = fidelities > 1 ? 20.0 : 0.0;
  return o;
}

// The paper's notebooks detach the LSTM state before the output layer (so the recurrent weights
// get no gradient) and leave the fidelity network's log-probability out of the loss. Here every
// part of both levels, the recurrent weights included, gets a nonzero gradient.
TEST(LearnedOptimizer, ReinforceGradientsReachBothLstmsAndHeads) {
  for (Loss loss : {Loss::kMin, Loss::kSum, Loss::kOi, Loss::kEi}) {
    TrainerOptions o = small_options(2, 2);
    o.loss = loss;
    ReinforceTrainer trainer(o);
    trainer.step();
    const GradientNorms& g = trainer.last_gradient_norms();
    EXPECT_GT(g.level1_lstm, 0.0) << to_string(loss);
    EXPECT_GT(g.level1_head, 0.0) << to_string(loss);
    EXPECT_GT(g.level2_lstm, 0.0) << to_string(loss);
    EXPECT_GT(g.level2_head, 0.0) << to_string(loss);
    auto& net = trainer.model().impl().net;
    // The recurrent weights of both levels: nonzero only if the state is not detached.
    ASSERT_TRUE(net->cell1->weight_hh.grad().defined());
    EXPECT_GT(net->cell1->weight_hh.grad().abs().sum().item<double>(), 0.0) << to_string(loss);
    ASSERT_TRUE(net->cell2->weight_hh.grad().defined());
    EXPECT_GT(net->cell2->weight_hh.grad().abs().sum().item<double>(), 0.0) << to_string(loss);
    ASSERT_TRUE(net->cell2->weight_ih.grad().defined());
    EXPECT_GT(net->cell2->weight_ih.grad().abs().sum().item<double>(), 0.0) << to_string(loss);
  }
}

// Initial weights come from the seed alone: building a model neither reads nor moves torch's
// global generator.
TEST(LearnedOptimizer, InitialWeightsComeFromTheSeedAndLeaveTorchsGeneratorAlone) {
  TrainerOptions o = small_options(2, 2);
  o.finalize();  // fills the model's costs
  const ModelOptions mo = o.model;
  auto weights = [&](uint64_t seed) {
    const LearnedOptimizer m(mo, seed);
    std::vector<torch::Tensor> w;
    for (const auto& p : m.impl().net->parameters()) w.push_back(p.detach().clone());
    return w;
  };
  auto same = [](const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!torch::equal(a[i], b[i])) return false;
    }
    return true;
  };
  torch::manual_seed(1);
  const auto a = weights(5);
  torch::manual_seed(2);
  const torch::Tensor state = metadial::testing::global_generator_state();
  const auto b = weights(5);
  EXPECT_TRUE(torch::equal(state, metadial::testing::global_generator_state()));
  EXPECT_TRUE(same(a, b));
  EXPECT_FALSE(same(a, weights(6)));
}

TEST(LearnedOptimizer, SingleFidelityModelHasNoSecondLevel) {
  ReinforceTrainer trainer(small_options(1, 1));
  trainer.step();
  EXPECT_GT(trainer.last_gradient_norms().level1_lstm, 0.0);
  EXPECT_EQ(trainer.last_gradient_norms().level2_lstm, 0.0);
  EXPECT_FALSE(trainer.model().impl().net->cell2);
}

// CellWeights::step (compiled for SSE2 and for AVX, one picked at load time) gives exactly the bits
// of the plain scalar order it documents: 8 partial sums per dot product, added pairwise, the input
// part then the hidden part, then the gates through expf. Every table of the learned samplers
// depends on these bits, so a faster step must keep them.
TEST(LearnedOptimizer, CellStepKeepsItsFloatOrderBitForBit) {
  detail::CellWeights w;
  w.in = 11;  // a tail after the 8-wide blocks
  w.hidden = 20;
  Rng rng(7);
  const auto fill = [&](std::vector<float>& v, size_t n) {
    v.resize(n);
    for (float& x : v) x = static_cast<float>(2.0 * uniform01(rng) - 1.0);
  };
  const size_t H = 20, I = 11;
  fill(w.w_ih, 4 * H * I);
  fill(w.w_hh, 4 * H * H);
  fill(w.bias, 4 * H);
  std::vector<float> x, h, c;
  fill(x, I);
  fill(h, H);
  fill(c, H);
  const auto dot = [](const float* a, const float* b, size_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
      for (size_t j = 0; j < 8; ++j) acc[j] = acc[j] + a[k + j] * b[k + j];
    }
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; k < n; ++k) s = s + a[k] * b[k];
    return s;
  };
  const auto sig = [](float v) { return 1.0f / (1.0f + std::exp(-v)); };
  const auto tnh = [](float v) { return 1.0f - 2.0f / (std::exp(2.0f * v) + 1.0f); };
  std::vector<float> g(4 * H), h_ref(H), c_ref(H);
  for (size_t r = 0; r < 4 * H; ++r) {
    g[r] = w.bias[r] + dot(w.w_ih.data() + r * I, x.data(), I) + dot(w.w_hh.data() + r * H, h.data(), H);
  }
  for (size_t k = 0; k < H; ++k) {
    c_ref[k] = sig(g[H + k]) * c[k] + sig(g[k]) * tnh(g[2 * H + k]);
    h_ref[k] = sig(g[3 * H + k]) * tnh(c_ref[k]);
  }
  w.step(x, h, c);
  for (size_t k = 0; k < H; ++k) {
    EXPECT_EQ(std::bit_cast<uint32_t>(h[k]), std::bit_cast<uint32_t>(h_ref[k])) << "h[" << k << "]";
    EXPECT_EQ(std::bit_cast<uint32_t>(c[k]), std::bit_cast<uint32_t>(c_ref[k])) << "c[" << k << "]";
  }
}

// Rollout (plain C++) reproduces the LibTorch cells step by step.
TEST(LearnedOptimizer, RolloutMatchesTorchNetworks) {
  ModelOptions mo;
  mo.dim = 3;
  mo.fidelities = 2;
  mo.hidden = 12;
  mo.fidelity_hidden = 5;
  mo.costs = {1.0, 10.0};
  mo.cost_scale = 50.0;
  LearnedOptimizer model(mo, 42);
  auto& net = model.impl().net;
  torch::NoGradGuard ng;
  Rollout r(model);
  torch::Tensor h1 = torch::zeros({1, 12}), c1 = torch::zeros({1, 12}), h2 = torch::zeros({1, 5}), c2 = torch::zeros({1, 5});
  std::vector<float> in = {0, 0, 0, 0, 0, 0, 1};
  OnlineNormalizer norm;
  double spent = 0;
  const std::vector<std::vector<double>> xs = {{0.1, 0.5, 0.9}, {0.3, 0.2, 0.7}, {0.8, 0.8, 0.1}};
  const std::vector<int> ms = {0, 1, 0};
  const std::vector<double> ys = {1.5, -0.3, 0.2};
  for (size_t t = 0; t < xs.size(); ++t) {
    std::tie(h1, c1) = net->cell1(torch::from_blob(in.data(), {1, 7}).clone(), std::make_tuple(h1, c1));
    const torch::Tensor out = net->head1(h1);
    std::vector<double> mu(3), sd(3);
    r.propose(mu, sd);
    for (int k = 0; k < 3; ++k) {
      EXPECT_NEAR(mu[static_cast<size_t>(k)], out[0][k].item<double>(), 1e-5);
      EXPECT_NEAR(sd[static_cast<size_t>(k)], std::exp(out[0][3 + k].clamp(-5.0, 1.0).item<double>()), 1e-5);
    }
    std::vector<float> w = {static_cast<float>(xs[t][0]), static_cast<float>(xs[t][1]), static_cast<float>(xs[t][2]),
                            static_cast<float>(spent / 50.0)};
    std::tie(h2, c2) = net->cell2(torch::from_blob(w.data(), {1, 4}).clone(), std::make_tuple(h2, c2));
    const torch::Tensor p = torch::softmax(net->head2(h2), 1);
    const auto probs = r.fidelity_probs(xs[t]);
    EXPECT_NEAR(probs[0], p[0][0].item<double>(), 1e-5);
    EXPECT_NEAR(probs[1], p[0][1].item<double>(), 1e-5);
    r.observe(xs[t], ms[t], ys[t]);
    spent += mo.costs[static_cast<size_t>(ms[t])];
    const auto [yn, gap] = norm.add(ys[t]);
    in = {static_cast<float>(xs[t][0]), static_cast<float>(xs[t][1]), static_cast<float>(xs[t][2]), static_cast<float>(yn),
          static_cast<float>(gap), static_cast<float>(ms[t]), 0.0f};
  }
  EXPECT_EQ(r.steps(), 3);
}

// Proposal::kIncumbent: the input also holds the incumbent x*, and the proposal's mean is the
// head's output plus logit(x*). The incumbent is the best point at the highest fidelity seen: a
// target-fidelity result replaces a better low-fidelity one, a low-fidelity one never replaces it.
TEST(LearnedOptimizer, IncumbentProposalsAreCentredOnTheBestPointOfTheHighestFidelity) {
  ModelOptions mo;
  mo.dim = 2;
  mo.fidelities = 2;
  mo.hidden = 6;
  mo.fidelity_hidden = 4;
  mo.costs = {1.0, 10.0};
  mo.proposal = Proposal::kIncumbent;
  EXPECT_EQ(mo.input_size(), 8);
  LearnedOptimizer model(mo, 3);
  auto& net = model.impl().net;
  torch::NoGradGuard ng;
  Rollout r(model);
  torch::Tensor h = torch::zeros({1, 6}), c = torch::zeros({1, 6});
  // [x_{t-1} (2), y~, gap, m~, first, x* (2)]: the centre is the incumbent before any result.
  std::vector<float> in = {0, 0, 0, 0, 0, 1, 0.5f, 0.5f};
  OnlineNormalizer norm;
  const std::vector<std::vector<double>> xs = {{0.2, 0.9}, {0.7, 0.4}, {0.1, 0.1}, {0.6, 0.3}};
  const std::vector<int> ms = {0, 1, 0, 1};
  const std::vector<double> ys = {-2.0, 0.5, -5.0, 0.1};
  // The incumbent after each observation: x0 (the only one), x1 (higher fidelity, though worse),
  // x1 (x2 is better but low fidelity), x3 (same fidelity, better).
  const std::vector<size_t> best_after = {0, 1, 1, 3};
  std::vector<double> best = {0.5, 0.5};
  for (size_t t = 0; t < xs.size(); ++t) {
    std::tie(h, c) = net->cell1(torch::from_blob(in.data(), {1, 8}).clone(), std::make_tuple(h, c));
    const torch::Tensor out = net->head1(h);
    std::vector<double> mu(2), sd(2);
    r.propose(mu, sd);
    for (int k = 0; k < 2; ++k) {
      const double b = best[static_cast<size_t>(k)];
      EXPECT_NEAR(mu[static_cast<size_t>(k)], out[0][k].item<double>() + std::log(b / (1 - b)), 1e-5) << "t " << t;
    }
    r.fidelity_probs(xs[t]);
    r.observe(xs[t], ms[t], ys[t]);
    best = xs[best_after[t]];
    const auto [yn, gap] = norm.add(ys[t]);
    in = {static_cast<float>(xs[t][0]), static_cast<float>(xs[t][1]), static_cast<float>(yn), static_cast<float>(gap),
          static_cast<float>(ms[t]), 0.0f, static_cast<float>(best[0]), static_cast<float>(best[1])};
  }
  // The offset is clamped: an incumbent on a face is 8 logits out, not infinitely far.
  EXPECT_DOUBLE_EQ(clamped_logit(0.0), -kMaxLogit);
  EXPECT_DOUBLE_EQ(clamped_logit(1.0), kMaxLogit);
  EXPECT_NEAR(clamped_logit(0.25), std::log(1.0 / 3.0), 1e-15);
  // Round trip keeps the proposal kind; an unknown kind in a file header is refused by name.
  const auto dir = std::filesystem::temp_directory_path() / "metadial_incumbent_model";
  std::filesystem::create_directories(dir);
  model.save((dir / "m.pt").string());
  EXPECT_EQ(LearnedOptimizer::load((dir / "m.pt").string()).options().proposal, Proposal::kIncumbent);
  std::filesystem::remove_all(dir);
  EXPECT_THROW(proposal_from_string("relative"), InvalidArgument);
}

// The trainer writes the best model so far to TrainerOptions::checkpoint at every validation, so a
// training stopped at any point leaves a model that --init continues from.
TEST(LearnedOptimizer, CheckpointHoldsTheBestModelSoFarAfterEachValidation) {
  const auto dir = std::filesystem::temp_directory_path() / "metadial_checkpoint_test";
  std::filesystem::create_directories(dir);
  TrainerOptions o = small_options(2, 1);
  o.model.proposal = Proposal::kIncumbent;
  o.iterations = 6;
  o.eval_every = 2;
  o.checkpoint = (dir / "ck.pt").string();
  int checked = 0;
  double best = INFINITY;
  train(o, [&](const meta::TrainingProgress& p) {
    if (!p.validation) return;
    best = std::min(best, p.validation->mean_regret);
    if (p.iteration == 0) return;  // the initial validation comes before the first checkpoint
    const LearnedOptimizer ck = LearnedOptimizer::load(o.checkpoint);
    EXPECT_EQ(ck.card()["iterations_run"], p.iteration);
    EXPECT_DOUBLE_EQ(ck.card()["validation"]["regret"].get<double>(), best);
    EXPECT_EQ(ck.options().proposal, Proposal::kIncumbent);
    ++checked;
  });
  EXPECT_EQ(checked, 3);
  std::filesystem::remove_all(dir);
}

TEST(LearnedOptimizer, OnlineNormalizerHandValues) {
  OnlineNormalizer n;
  EXPECT_EQ(n.add(2.0), std::make_pair(0.0, 0.0));  // one value: no scale yet
  // {2, 4}: mean 3, sd 1 -> y~ = 1, gap = (4 - 2) / 1 = 2.
  const auto [y2, g2] = n.add(4.0);
  EXPECT_DOUBLE_EQ(y2, 1.0);
  EXPECT_DOUBLE_EQ(g2, 2.0);
  // {2, 4, 0}: mean 2, sd sqrt(8/3) -> y~ = -2 / sd, gap 0 (a new best).
  const auto [y3, g3] = n.add(0.0);
  EXPECT_NEAR(y3, -2.0 / std::sqrt(8.0 / 3.0), 1e-12);
  EXPECT_DOUBLE_EQ(g3, 0.0);
}

TEST(LearnedOptimizer, SaveLoadRoundTripAndBadFiles) {
  const auto dir = std::filesystem::temp_directory_path() / "metadial_learned_test";
  std::filesystem::create_directories(dir);
  ModelOptions mo;
  mo.dim = 2;
  LearnedOptimizer model(mo, 3);
  model.set_card({{"note", "x"}});
  const std::string path = (dir / "m.pt").string();
  model.save(path);
  const LearnedOptimizer back = LearnedOptimizer::load(path);
  EXPECT_EQ(back.dim(), 2);
  EXPECT_EQ(back.card()["note"], "x");
  Rollout a(model), b(back);
  std::vector<double> m1(2), s1(2), m2(2), s2(2);
  a.propose(m1, s1);
  b.propose(m2, s2);
  EXPECT_EQ(m1, m2);
  EXPECT_LT(std::filesystem::file_size(path), 1u << 20);

  const std::string junk = (dir / "junk.pt").string();
  std::ofstream(junk) << "not a model";
  try {
    LearnedOptimizer::load(junk);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a metadial learned-optimizer model"), std::string::npos) << e.what();
  }
  EXPECT_THROW(LearnedOptimizer::load((dir / "missing.pt").string()), InvalidArgument);
  EXPECT_THROW(model.save((dir / "no/such/folder/m.pt").string()), StorageError);
  EXPECT_THROW(loss_from_string("regret"), InvalidArgument);
  EXPECT_EQ(loss_from_string("oi"), Loss::kOi);
  std::filesystem::remove_all(dir);
}

// 64 random bytes written into the weights of a model file (single- and multi-fidelity): one
// DataError naming the file, where the old LibTorch archives loaded and proposed other points.
TEST(LearnedOptimizer, LoadRejectsRandomBytesInTheWeightsAndAlteredHeaders) {
  const auto dir = std::filesystem::temp_directory_path() / "metadial_learned_corrupt_test";
  std::filesystem::create_directories(dir);
  for (int fidelities : {1, 2}) {
    ModelOptions mo;
    mo.dim = 2;
    mo.fidelities = fidelities;
    mo.costs = fidelities == 1 ? std::vector<double>{1.0} : std::vector<double>{1.0, 10.0};
    const std::string path = (dir / "m.pt").string();
    LearnedOptimizer(mo, 5).save(path);
    metadial::testing::scramble_parameters(path, static_cast<uint64_t>(fidelities));
    try {
      LearnedOptimizer::load(path);
      FAIL() << "no DataError for " << fidelities << " fidelities";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + path + "': corrupt model parameters (checksum mismatch"),
                std::string::npos)
          << e.what();
    }
    // A header whose sizes are not the weights' (hidden 64 -> 65), or out of range.
    LearnedOptimizer(mo, 5).save(path);
    metadial::testing::edit_model_header(path, [](nlohmann::json& h) { h["options"]["hidden"] = 65; });
    try {
      LearnedOptimizer::load(path);
      FAIL();
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("parameter cell1.weight_ih has shape [256, 6]"), std::string::npos)
          << e.what();
    }
    metadial::testing::edit_model_header(path, [](nlohmann::json& h) { h["options"]["hidden"] = 1000000000; });
    try {
      LearnedOptimizer::load(path);
      FAIL();
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("corrupt learned-optimizer model header (learned optimizer: hidden must "
                                           "be in [1, 1024]"),
                std::string::npos)
          << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

// Rollouts per function (the batch is B / K functions run K times each, the baseline within each
// group): an update runs and reaches the LSTM; a K that does not divide the batch, or K > 1 with
// the gradient method, fails with one line.
TEST(LearnedOptimizer, RolloutsPerFunctionGroupsTheBatchAndValidates) {
  TrainerOptions o = small_options(2, 1);
  o.rollouts_per_function = 4;
  ReinforceTrainer grouped(o);
  const auto p = grouped.step();
  EXPECT_TRUE(std::isfinite(p.surrogate));
  EXPECT_GT(grouped.last_gradient_norms().level1_lstm, 0.0);
  TrainerOptions bad = small_options(2, 1);
  bad.rollouts_per_function = 3;  // batch 8
  EXPECT_THROW(bad.finalize(), InvalidArgument);
  TrainerOptions grad = small_options(2, 1);
  grad.method = meta::Method::kGradient;
  grad.rollouts_per_function = 2;
  EXPECT_THROW(grad.finalize(), InvalidArgument);
}

TEST(LearnedOptimizer, SameSeedSameTraining) {
  ReinforceTrainer a(small_options(2, 2)), b(small_options(2, 2));
  const auto pa = a.step(), pb = b.step();
  EXPECT_EQ(pa.surrogate, pb.surrogate);
  EXPECT_EQ(pa.mean_cost, pb.mean_cost);
}

// Cosine decay (--lr-final), hand-computed: lr_final + (lr - lr_final) (1 + cos(pi t / T)) / 2.
TEST(LearnedOptimizer, CosineLearningRateDecaysFromTheInitialToTheFinalRate) {
  EXPECT_DOUBLE_EQ(cosine_learning_rate(1e-2, 1e-3, 0, 100), 1e-2);
  EXPECT_DOUBLE_EQ(cosine_learning_rate(1e-2, 1e-3, 50, 100), 5.5e-3);
  EXPECT_DOUBLE_EQ(cosine_learning_rate(1e-2, 1e-3, 100, 100), 1e-3);
  EXPECT_NEAR(cosine_learning_rate(1e-2, 0.0, 25, 100), 1e-2 * (1 + std::sqrt(0.5)) / 2, 1e-15);
  // train() applies it to each update; unset, the rate stays constant.
  TrainerOptions o = small_options(1, 1);
  o.iterations = 4;
  o.eval_every = 0;
  o.learning_rate = 1e-2;
  o.learning_rate_final = 0.0;
  std::vector<double> seen;
  const auto record = [&](const TrainingProgress& p) {
    if (p.iteration > 0) seen.push_back(p.learning_rate);
  };
  (void)train(o, record);
  ASSERT_EQ(seen.size(), 4u);
  for (int it = 0; it < 4; ++it) EXPECT_DOUBLE_EQ(seen[static_cast<size_t>(it)], cosine_learning_rate(1e-2, 0.0, it, 4));
  EXPECT_DOUBLE_EQ(seen[2], 5e-3);
  seen.clear();
  o.learning_rate_final.reset();
  (void)train(o, record);
  EXPECT_EQ(seen, std::vector<double>(4, 1e-2));
  o.learning_rate_final = 2e-2;  // above the initial rate
  EXPECT_THROW(o.finalize(), InvalidArgument);
}

// Leave-one-out advantages, two functions of two episodes each, one step: returns 1, 3 and 10, 30.
// Minus the other episode of the function: -2, 2, -20, 20. Over the batch: sd sqrt((4 + 4 + 400 +
// 400) / 4) = sqrt(202); per function: sd 2 and 20, so each function's pair becomes -1, 1.
TEST(LearnedOptimizer, LeaveOneOutAdvantagesHandValues) {
  const std::vector<double> g = {1.0, 3.0, 10.0, 30.0};
  const auto batch = meta::loo_advantages(g, 4, 1, 2);
  const double s = std::sqrt(202.0);
  const std::vector<double> want_batch = {-2.0 / s, 2.0 / s, -20.0 / s, 20.0 / s};
  const auto per = meta::loo_advantages(g, 4, 1, 2, true);
  const std::vector<double> want_per = {-1.0, 1.0, -1.0, 1.0};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(batch[i], want_batch[i], 1e-6) << i;
    EXPECT_NEAR(per[i], want_per[i], 1e-6) << i;
  }
  // Two steps, time-major out: G [B x T] = episode-major; the same sd per function over its T x 2 values.
  const std::vector<double> g2 = {1.0, 2.0, 3.0, 6.0, 0.0, 0.0, 0.0, 0.0};  // episodes 0..3, steps 0, 1
  const auto per2 = meta::loo_advantages(g2, 4, 2, 2, true);
  // Function 0: step 0: -2, 2; step 1: -4, 4: sd sqrt((4 + 4 + 16 + 16) / 4) = sqrt(10). Function 1: all 0.
  EXPECT_NEAR(per2[0], -2.0 / std::sqrt(10.0), 1e-6);  // t 0, b 0
  EXPECT_NEAR(per2[1], 2.0 / std::sqrt(10.0), 1e-6);   // t 0, b 1
  EXPECT_NEAR(per2[4], -4.0 / std::sqrt(10.0), 1e-6);  // t 1, b 0
  EXPECT_NEAR(per2[6], 0.0, 1e-6);                     // t 1, b 2
  EXPECT_TRUE(std::isfinite(per2[7]));
  // Floored at the batch sd. Two steps: the batch's 8 values (function 1's zeros too) have sd
  // sqrt((4 + 4 + 16 + 16) / 8) = sqrt(5) < function 0's sqrt(10): unchanged; function 1's sd 0 becomes
  // sqrt(5), its zeros stay 0. One step: the batch sd sqrt(202) floors function 0's sd 2 (-2 / sqrt(202),
  // as the batch scaling), function 1's 20 > sqrt(202) stays (-1, 1).
  const auto fl2 = meta::loo_advantages(g2, 4, 2, 2, true, 1.0);
  EXPECT_NEAR(fl2[0], -2.0 / std::sqrt(10.0), 1e-6);
  EXPECT_NEAR(fl2[6], 0.0, 1e-6);
  const auto fl = meta::loo_advantages(g, 4, 1, 2, true, 1.0);
  EXPECT_NEAR(fl[0], -2.0 / s, 1e-6);
  EXPECT_NEAR(fl[1], 2.0 / s, 1e-6);
  EXPECT_NEAR(fl[2], -1.0, 1e-6);
  EXPECT_NEAR(fl[3], 1.0, 1e-6);
  // Needs REINFORCE with several rollouts per function.
  TrainerOptions bad = small_options(1, 1);
  bad.advantage_per_function = true;
  bad.rollouts_per_function = 1;
  EXPECT_THROW(bad.finalize(), InvalidArgument);
  bad = small_options(1, 1);
  bad.advantage_per_function = true;
  bad.rollouts_per_function = 2;
  bad.batch = 4;
  EXPECT_NO_THROW(bad.finalize());
  bad.advantage_sd_floor = 1.5;
  EXPECT_THROW(bad.finalize(), InvalidArgument);
  bad.advantage_sd_floor = 1.0;
  EXPECT_NO_THROW(bad.finalize());
  bad.advantage_per_function = false;
  EXPECT_THROW(bad.finalize(), InvalidArgument);
}

// PPO's clipped objective, hand-computed: r = 1.5 or 0.5, eps = 0.2: min(r A, clamp(r) A) is
// 1.2 (A = 1, r = 1.5: clipped), -1.5 (A = -1, r = 1.5), 0.5 (A = 1, r = 0.5), -0.8 (A = -1,
// r = 0.5: clipped); the clipped entries pass no gradient, the others r A.
TEST(LearnedOptimizer, ClippedObjectiveHandValues) {
  const torch::Tensor old_lp = torch::zeros({4}, torch::kFloat64);
  const torch::Tensor lp = torch::tensor({std::log(1.5), std::log(1.5), std::log(0.5), std::log(0.5)}, torch::kFloat64)
                               .requires_grad_(true);
  const torch::Tensor a = torch::tensor({1.0, -1.0, 1.0, -1.0}, torch::kFloat64);
  const torch::Tensor j = meta::clipped_objective(lp, old_lp, a, 0.2);
  const std::vector<double> want = {1.2, -1.5, 0.5, -0.8}, want_grad = {0.0, -1.5, 0.5, 0.0};
  j.sum().backward();
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(j[i].item<double>(), want[static_cast<size_t>(i)], 1e-12) << i;
    EXPECT_NEAR(lp.grad()[i].item<double>(), want_grad[static_cast<size_t>(i)], 1e-12) << i;
  }
}

// ppo_epochs > 1 replays the batch through the updated network: with updates too small to move
// the policy (lr 1e-12) every replayed ratio is 1 (the replay rebuilds the rollout's inputs,
// incumbent shifts, draws and fidelities), single and two fidelities; with a large rate the
// clipping engages. The option is validated.
TEST(LearnedOptimizer, PpoReplayReproducesTheRolloutsPolicy) {
  for (int fidelities : {1, 2}) {
    TrainerOptions o = small_options(2, fidelities);
    o.model.proposal = Proposal::kIncumbent;
    o.ppo_epochs = 3;
    o.learning_rate = 1e-12;
    o.clip = 1e9;
    ReinforceTrainer still(o);
    const auto p = still.step();
    EXPECT_TRUE(std::isfinite(p.surrogate));
    EXPECT_EQ(p.clip_fraction, 0.0) << fidelities;
    o.learning_rate = 0.5;
    ReinforceTrainer moved(o);
    (void)moved.step();
    EXPECT_GT(moved.step().clip_fraction, 0.0) << fidelities;
  }
  TrainerOptions bad = small_options(1, 1);
  bad.ppo_epochs = 0;
  EXPECT_THROW(bad.finalize(), InvalidArgument);
  bad = small_options(1, 1);
  bad.ppo_epochs = 2;
  bad.ppo_clip = 1.5;
  EXPECT_THROW(bad.finalize(), InvalidArgument);
  bad = small_options(1, 1);
  bad.ppo_epochs = 2;
  bad.method = meta::Method::kGradient;
  EXPECT_THROW(bad.finalize(), InvalidArgument);
}

// A short meta-training on 1-d GP-prior functions lowers the held-out regret of the untrained
// policy (validated on functions it never saw).
TEST(LearnedOptimizer, ShortMetaTrainingLowersHeldOutRegret) {
  TrainerOptions o;
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
  for (int epochs : {1, 3}) {  // REINFORCE, and PPO's clipped objective with 3 updates per batch
    o.ppo_epochs = epochs;
    const LearnedOptimizer model = train(o);
    const auto& v = model.card()["validation"];
    const double before = v["initial_regret"].get<double>(), after = v["regret"].get<double>();
    EXPECT_LT(after, 0.8 * before) << "ppo epochs " << epochs << ": before " << before << " after " << after;
  }
  // 4 rollouts per function, advantages scaled per function.
  o.ppo_epochs = 1;
  o.rollouts_per_function = 4;
  o.advantage_per_function = true;
  const LearnedOptimizer model = train(o);
  const auto& v = model.card()["validation"];
  EXPECT_TRUE(model.card()["advantage_per_function"].get<bool>());
  const double before = v["initial_regret"].get<double>(), after = v["regret"].get<double>();
  EXPECT_LT(after, 0.8 * before) << "per-function advantages: before " << before << " after " << after;
}

}  // namespace
}  // namespace metadial::optim::learned
