// Tests of Hyp-RL: the policy network, DQN meta-training on small synthetic benchmarks whose best
// configuration is known, saving / loading, the `hyprl` sampler and the warm-start baseline.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/hyprl/policy.h"
#include "metadial/optim/hyprl/sampler.h"
#include "metadial/optim/hyprl/trainer.h"
#include "metadial/optim/hyprl/warm_start.h"
#include "metadial/optim/random_sampler.h"
#include "nn/model_file_testing.h"
#include "support/torch_state.h"

namespace metadial::optim::hyprl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using objective::TabularBenchmark;
using objective::TabularDataset;
using objective::TabularGrid;
using objective::TabularLayout;

// A grid over a (10 levels) x b (6 levels): 60 rows, row = 6 a + b; one meta-feature.
std::shared_ptr<const TabularGrid> toy_grid(int n_meta = 1) {
  TabularLayout l;
  l.model = "toy";
  l.response = "accuracy";
  l.maximize = true;
  l.hyperparameters = {{"a", {}, false}, {"b", {}, false}};
  l.n_meta_features = n_meta;
  std::vector<std::vector<double>> rows;
  for (int a = 0; a < 10; ++a) {
    for (int b = 0; b < 6; ++b) rows.push_back({a / 9.0, b / 5.0});
  }
  return std::make_shared<TabularGrid>(l, rows);
}

size_t row_of(int a, int b) { return static_cast<size_t>(6 * a + b); }

// Data sets whose best configuration depends on the meta-feature m: (a=2, b=1) when m = 0,
// (a=7, b=4) when m = 1. The response falls off with the distance to the best, plus a small
// data-set-specific ripple, so no two data sets are alike but the best row never moves.
TabularBenchmark meta_benchmark(int n) {
  TabularBenchmark b;
  b.path = "synthetic";
  b.grid = toy_grid();
  for (int i = 0; i < n; ++i) {
    TabularDataset d;
    d.name = "d" + std::to_string(i);
    const int m = i % 2;
    d.meta_features = {static_cast<double>(m)};
    const int ba = m ? 7 : 2, bb = m ? 4 : 1;
    for (int a = 0; a < 10; ++a) {
      for (int c = 0; c < 6; ++c) {
        const double dist = std::abs(a - ba) + std::abs(c - bb);
        const double ripple = 0.01 * ((a * 7 + c * 3 + i) % 5);
        d.responses.push_back(dist == 0 ? 0.95 : 0.85 - 0.04 * dist + ripple);
      }
    }
    b.datasets.push_back(std::move(d));
  }
  return b;
}

// Data sets of two hidden kinds and no meta-feature: kind A answers ~0.5 everywhere but row
// (a=1, b=1), kind B ~0.3 everywhere but row (a=8, b=3). One observation tells the kinds apart,
// so a policy that reads its history picks the right best row second.
TabularBenchmark history_benchmark(int n) {
  TabularBenchmark b;
  b.path = "synthetic-history";
  b.grid = toy_grid(0);
  for (int i = 0; i < n; ++i) {
    TabularDataset d;
    d.name = "h" + std::to_string(i);
    const bool kind_a = i % 2 == 0;
    for (size_t r = 0; r < 60; ++r) {
      const double base = kind_a ? 0.5 : 0.3;
      d.responses.push_back(base + 0.01 * static_cast<double>((r * 13 + static_cast<size_t>(i)) % 4));
    }
    d.responses[kind_a ? row_of(1, 1) : row_of(8, 3)] = 0.95;
    b.datasets.push_back(std::move(d));
  }
  return b;
}

TrainerOptions small_options(uint64_t seed) {
  TrainerOptions o;
  o.horizon = 5;
  o.episodes = 1600;
  o.gamma = 0.5;
  o.learning_rate = 3e-3;
  o.batch_episodes = 16;
  o.parallel_episodes = 16;
  o.replay_capacity = 1000;
  o.warmup_episodes = 64;
  o.updates_per_episode = 1.0;
  o.target_update_every = 50;
  o.eval_every = 0;
  o.seed = seed;
  o.policy.lstm_hidden = 32;
  o.policy.head_hidden = 64;
  return o;
}

std::vector<size_t> range(size_t lo, size_t hi) {
  std::vector<size_t> v(hi - lo);
  std::iota(v.begin(), v.end(), lo);
  return v;
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("metadial_hyprl_" + std::to_string(::getpid()) + "_" + name)).string();
}

TEST(HyprlPolicy, QValuesMaskTriedRowsAndChooseSkipsThem) {
  const Policy p(*toy_grid(), 1, PolicyOptions{}, 3);
  const std::vector<double> meta = {0.0};
  const std::vector<Observation> h = {{4, 0.7}, {10, 0.2}};
  const auto q = p.q_values(h, meta);
  ASSERT_EQ(q.size(), 60u);
  EXPECT_EQ(q[4], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(q[10], -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isfinite(q[0]));
  std::vector<size_t> also(60);
  std::iota(also.begin(), also.end(), 0);
  also.erase(also.begin() + 33);
  EXPECT_EQ(p.choose(h, meta, also), std::optional<size_t>(33));
  also.push_back(33);
  EXPECT_EQ(p.choose(h, meta, also), std::nullopt);
  EXPECT_THROW(p.q_values(h, std::vector<double>{}), InvalidArgument);
  // Same seed, same network; another seed, another one. Building one leaves torch's global
  // generator as it was (and what it holds does not matter).
  torch::manual_seed(11);
  const torch::Tensor state = metadial::testing::global_generator_state();
  const Policy same(*toy_grid(), 1, PolicyOptions{}, 3), other(*toy_grid(), 1, PolicyOptions{}, 4);
  EXPECT_TRUE(torch::equal(state, metadial::testing::global_generator_state()));
  EXPECT_EQ(same.q_values(h, meta), q);
  EXPECT_NE(other.q_values(h, meta), q);
}

TEST(HyprlTrain, PicksTheBestConfigurationFirstFromTheMetaFeature) {
  const TabularBenchmark b = meta_benchmark(20);
  const auto train_sets = range(0, 16);
  const auto held_out = range(16, 20);
  const Policy p = train(b, train_sets, held_out, small_options(1));
  for (size_t i : held_out) {
    const TabularDataset& d = b.datasets[i];
    const size_t best = d.meta_features[0] > 0.5 ? row_of(7, 4) : row_of(2, 1);
    EXPECT_EQ(run_policy(p, d, 1).front(), best) << d.name;
  }
  const EvalSummary s = evaluate(p, b, held_out, 5);
  EXPECT_EQ(s.regret_at_1, 0.0);
  EXPECT_EQ(p.card().at("train_datasets").size(), 16u);
  EXPECT_TRUE(p.card().contains("heldout_regret"));
}

TEST(HyprlTrain, ReadsTheHistoryToPickTheSecondConfiguration) {
  const TabularBenchmark b = history_benchmark(20);
  TrainerOptions o = small_options(2);
  o.episodes = 2400;
  o.policy.use_meta_features = false;
  const Policy p = train(b, range(0, 16), {}, o);
  EXPECT_EQ(p.n_meta_features(), 0);
  for (size_t i = 16; i < 20; ++i) {
    const TabularDataset& d = b.datasets[i];
    const size_t best = i % 2 == 0 ? row_of(1, 1) : row_of(8, 3);
    // From every other first row, the second pick should be the data set's best row. (Over
    // seeds 1-10, a few first rows right next to the best were still missed by the less trained
    // policies; 90% leaves room for that, a policy blind to the history gets at most ~50%.)
    int right = 0;
    for (size_t first = 0; first < 60; ++first) {
      if (first == best) continue;
      const auto rows = run_policy(p, d, 2, first);
      ASSERT_EQ(rows.size(), 2u);
      right += rows[1] == best;
    }
    EXPECT_GE(right, 53) << d.name;
    EXPECT_EQ(run_policy(p, d, 2, 0)[1], best) << d.name;
  }
}

TEST(HyprlTrain, SameSeedSamePolicy) {
  const TabularBenchmark b = meta_benchmark(6);
  TrainerOptions o = small_options(5);
  o.episodes = 200;
  const Policy p1 = train(b, range(0, 6), {}, o);
  const Policy p2 = train(b, range(0, 6), {}, o);
  o.seed = 6;
  const Policy p3 = train(b, range(0, 6), {}, o);
  const std::vector<Observation> h = {{3, 0.5}};
  const std::vector<double> m = {1.0};
  EXPECT_EQ(p1.q_values(h, m), p2.q_values(h, m));
  EXPECT_NE(p1.q_values(h, m), p3.q_values(h, m));
}

TEST(HyprlTrain, RejectsBadSplitsAndOptions) {
  const TabularBenchmark b = meta_benchmark(4);
  TrainerOptions o = small_options(0);
  EXPECT_THROW(train(b, {}, range(0, 4), o), InvalidArgument);
  try {
    train(b, range(0, 3), range(2, 4), o);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("'d2' is both trained and evaluated on"));
  }
  o.horizon = 61;
  EXPECT_THROW(train(b, range(0, 2), {}, o), InvalidArgument);
  o = small_options(0);
  o.gamma = 1.5;
  EXPECT_THROW(train(b, range(0, 2), {}, o), InvalidArgument);
  EXPECT_THROW(reward_from_string("regret"), InvalidArgument);
  EXPECT_EQ(reward_from_string("improvement"), Reward::kImprovement);
}

TEST(HyprlPolicy, SaveAndLoadGiveTheSameQValues) {
  const Policy p(*toy_grid(), 1, PolicyOptions{16, 24, true}, 9);
  Policy q = Policy(*toy_grid(), 1, PolicyOptions{16, 24, true}, 9);
  q.set_card({{"note", "test"}});
  const std::string path = temp_path("model.pt");
  q.save(path);
  const Policy back = Policy::load(path);
  const std::vector<Observation> h = {{1, 0.4}, {2, 0.6}};
  const std::vector<double> m = {0.5};
  EXPECT_EQ(back.q_values(h, m), p.q_values(h, m));
  EXPECT_EQ(back.card().at("note"), "test");
  EXPECT_EQ(back.grid().fingerprint(), p.grid().fingerprint());
  EXPECT_EQ(back.options().lstm_hidden, 16);
  fs::remove(path);

  try {
    Policy::load(path);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("no Hyp-RL model at"));
  }
  std::ofstream(path) << "not a model";
  try {
    Policy::load(path);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is not a metadial Hyp-RL model"));
  }
  fs::remove(path);
  EXPECT_THROW(q.save("/no/such/folder/model.pt"), StorageError);
}

// 64 random bytes written into the weights, a grid altered in the header, or a header whose
// sizes do not fit the weights: one DataError naming the file (the old LibTorch archives loaded
// altered weights and changed the proposals).
TEST(HyprlPolicy, LoadRejectsRandomBytesInTheWeightsAndAlteredHeaders) {
  const std::string path = temp_path("corrupt.pt");
  const Policy p(*toy_grid(), 1, PolicyOptions{16, 24, true}, 9);
  auto error_of = [&] {
    try {
      Policy::load(path);
    } catch (const DataError& e) {
      EXPECT_THAT(e.what(), HasSubstr("'" + path + "'"));
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      return std::string(e.what());
    }
    ADD_FAILURE() << "no DataError";
    return std::string();
  };
  p.save(path);
  metadial::testing::scramble_parameters(path);
  EXPECT_THAT(error_of(), HasSubstr("corrupt model parameters (checksum mismatch"));
  p.save(path);
  metadial::testing::edit_model_header(path, [](nlohmann::json& h) { h["fingerprint"] = "0123456789abcdef"; });
  EXPECT_THAT(error_of(), HasSubstr("its grid does not match the grid's fingerprint"));
  p.save(path);
  metadial::testing::edit_model_header(path, [](nlohmann::json& h) { h["options"]["head_hidden"] = 4096; });
  EXPECT_THAT(error_of(), HasSubstr("the network its header describes has"));
  p.save(path);
  metadial::testing::edit_model_header(path, [](nlohmann::json& h) { h["n_meta_features"] = 2; });
  EXPECT_THAT(error_of(), HasSubstr("the network its header describes has"));
  fs::remove(path);
}

study::FrozenTrial complete(int64_t number, space::Config params, double value) {
  study::FrozenTrial t;
  t.id = t.number = number;
  t.state = study::TrialState::kComplete;
  t.params = std::move(params);
  t.value = value;
  return t;
}

SamplerContext context(const space::SearchSpace& s, int64_t number, study::Direction d = study::Direction::kMaximize) {
  SamplerContext ctx;
  ctx.space = &s;
  ctx.direction = d;
  ctx.trial_number = number;
  ctx.seed = derive_seed(11, {static_cast<uint64_t>(number)});
  return ctx;
}

TEST(HyprlSampler, ProposesEveryRowOnceThenFallsBackToRandom) {
  const TabularBenchmark b = meta_benchmark(2);
  auto policy = std::make_shared<const Policy>(*b.grid, 1, PolicyOptions{16, 16, true}, 1);
  HyprlSampler s(policy, {1.0});
  const space::SearchSpace& space = b.grid->space();
  std::vector<study::FrozenTrial> history;
  std::set<size_t> rows;
  for (int64_t n = 0; n < 60; ++n) {
    const Suggestion sug = s.suggest(context(space, n), history);
    const size_t row = b.grid->row_of(sug.config);
    EXPECT_TRUE(rows.insert(row).second) << "row " << row << " proposed twice";
    history.push_back(complete(n, sug.config, b.datasets[1].responses[row]));
  }
  EXPECT_EQ(rows.size(), 60u);
  const Suggestion extra = s.suggest(context(space, 60), history);  // grid exhausted: a random row
  EXPECT_LT(b.grid->row_of(extra.config), 60u);
  // A running (or failed) trial's row is not proposed either.
  std::vector<study::FrozenTrial> one = {complete(0, b.grid->config(5), 0.5)};
  const Suggestion first = s.suggest(context(space, 1), one);
  one.push_back(one.back());
  one.back().number = 1;
  one.back().state = study::TrialState::kRunning;
  one.back().value.reset();
  one.back().params = first.config;
  EXPECT_NE(b.grid->row_of(s.suggest(context(space, 2), one).config), b.grid->row_of(first.config));
}

TEST(HyprlSampler, RefusesAnotherGridMissingMetaFeaturesAndTheWrongDirection) {
  const TabularBenchmark b = meta_benchmark(2);
  const std::string path = temp_path("sampler.pt");
  Policy(*b.grid, 1, PolicyOptions{8, 8, true}, 1).save(path);
  SamplerRegistry registry;
  register_hyprl_sampler(registry);
  auto s = registry.create("hyprl", {{"model", path}, {"meta_features", {0.0}}});
  EXPECT_EQ(s->name(), "hyprl");

  space::SearchSpace other;
  other.add_categorical("a", {"0", "1"}).add_categorical("b", {"0", "1"});
  try {
    s->suggest(context(other, 0), {});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("was trained for the toy grid: 60 configurations of a, b"));
    EXPECT_THAT(e.what(), HasSubstr("the study's search space is another one (a (2 values), b (2 values))"));
  }
  try {
    s->suggest(context(b.grid->space(), 0, study::Direction::kMinimize), {});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("was trained to maximize accuracy, but the study is set to minimize"));
  }
  try {
    registry.create("hyprl", {{"model", path}});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("the model reads 1 meta-features"));
  }
  EXPECT_THROW(registry.create("hyprl", {{"meta_features", {0.0}}}), InvalidArgument);
  EXPECT_THROW(registry.create("hyprl", {{"model", path}, {"meta_features", {0.0}}, {"frist", "random"}}),
               InvalidArgument);
  EXPECT_THROW(registry.create("hyprl", {{"model", path}, {"meta_features", {0.0}}, {"first", "best"}}),
               InvalidArgument);
  // first = "random": the first trial comes from the trial's seed, later ones from the policy.
  auto r = registry.create("hyprl", {{"model", path}, {"meta_features", {0.0}}, {"first", "random"}});
  std::set<size_t> firsts;
  for (int64_t seed = 0; seed < 10; ++seed) {
    SamplerContext ctx = context(b.grid->space(), 0);
    ctx.seed = static_cast<uint64_t>(seed);
    firsts.insert(b.grid->row_of(r->suggest(ctx, {}).config));
  }
  EXPECT_GT(firsts.size(), 3u);
  fs::remove(path);
}

TEST(HyprlFolds, PartitionTheDataSets) {
  const auto folds = make_folds(50, 5, 0);
  ASSERT_EQ(folds.size(), 5u);
  std::multiset<size_t> all;
  for (const auto& f : folds) {
    EXPECT_EQ(f.size(), 10u);
    all.insert(f.begin(), f.end());
  }
  EXPECT_EQ(all.size(), 50u);
  EXPECT_EQ(std::set<size_t>(all.begin(), all.end()).size(), 50u);
  EXPECT_EQ(make_folds(50, 5, 0), folds);
  EXPECT_NE(make_folds(50, 5, 1), folds);
  EXPECT_THROW(make_folds(3, 4, 0), InvalidArgument);
  EXPECT_THROW(make_folds(3, 1, 0), InvalidArgument);
}

TEST(HyprlRegret, NormalizedRegretCurveByHand) {
  TabularDataset d;
  d.responses = {0.5, 0.9, 0.7, 0.1};
  // best 0.9, worst 0.1: after rows 2, 0, 1: (0.9-0.7)/0.8, same, 0.
  const auto c = normalized_regret_curve(d, true, std::vector<size_t>{2, 0, 1});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_DOUBLE_EQ(c[0], 0.25);
  EXPECT_DOUBLE_EQ(c[1], 0.25);
  EXPECT_DOUBLE_EQ(c[2], 0.0);
  // Minimizing: best 0.1, worst 0.9; row 0 (0.5) leaves (0.5 - 0.1) / 0.8.
  EXPECT_DOUBLE_EQ(normalized_regret_curve(d, false, std::vector<size_t>{0})[0], 0.5);
}

TEST(WarmStart, BestOnAverageByHandAndProposedFirst) {
  TabularBenchmark b;
  b.path = "tiny";
  TabularLayout l;
  l.hyperparameters = {{"a", {}, false}};
  b.grid = std::make_shared<TabularGrid>(l, std::vector<std::vector<double>>{{0}, {1}, {2}});
  // Normalized: d0 = (0, 1, 0.5), d1 = (1, 0.25, 0) -> means 0.5, 0.625, 0.25.
  b.datasets = {{"d0", "", {0.2, 0.6, 0.4}, {}}, {"d1", "", {0.9, 0.6, 0.5}, {}}};
  const std::vector<size_t> both = {0, 1};
  EXPECT_EQ(best_on_average(b, both, 2), (std::vector<size_t>{1, 0}));
  EXPECT_EQ(best_on_average(b, both, 9), (std::vector<size_t>{1, 0, 2}));

  WarmStartSampler s({b.grid->config(1), b.grid->config(0)}, std::make_unique<RandomSampler>());
  EXPECT_EQ(s.name(), "warm+random");
  const space::SearchSpace& sp = b.grid->space();
  std::vector<study::FrozenTrial> h;
  const Suggestion s0 = s.suggest(context(sp, 0), h);
  EXPECT_EQ(b.grid->row_of(s0.config), 1u);
  h.push_back(complete(0, s0.config, 0.1));
  EXPECT_EQ(b.grid->row_of(s.suggest(context(sp, 1), h).config), 0u);
}

TEST(HyprlSampler, OptionErrorsUseTheConfigReadersWordingBeforeLoadingTheModel) {
  SamplerRegistry registry;
  register_hyprl_sampler(registry);
  auto error_of = [&](const nlohmann::json& options) -> std::string {
    try {
      registry.create("hyprl", options);
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "(no InvalidArgument)";
  };
  EXPECT_EQ(error_of({{"model", "/nonexistent/x.pt"}, {"frist", "random"}}),
            "sampler 'hyprl': unknown key 'frist' in [sampler] (expected one of: first, meta_features, model)");
  EXPECT_EQ(error_of({{"model", 3}}), "sampler 'hyprl': [sampler] model must be a string, got an integer");
}

}  // namespace
}  // namespace metadial::optim::hyprl
