// The `lstm` / `lstm-mf` samplers and `metadial meta-train optimizer`: replay is resume-safe,
// proposals are reproducible and every seed gives its own run (deterministic models included),
// fidelities are chosen, the default model is the shipped one of the space's dimension, and bad
// models, spaces and flags fail with one line.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/learned/sampler.h"
#include "metadial/optim/sobol_sampler.h"
#include "nn/model_file_testing.h"

namespace metadial::optim::learned {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const LearnedOptimizer> model(int d, int m) {
  ModelOptions o;
  o.dim = d;
  o.fidelities = m;
  o.hidden = 16;
  o.fidelity_hidden = 8;
  o.costs = m == 1 ? std::vector<double>{1.0} : std::vector<double>{1.0, 10.0};
  o.cost_scale = 100.0;
  return std::make_shared<const LearnedOptimizer>(o, 5);
}

space::SearchSpace cube(int d) {
  space::SearchSpace s;
  for (int k = 0; k < d; ++k) s.add_float("x" + std::to_string(k), 0.0, 1.0);
  return s;
}

// The context the study builds for trial `trial` of a study with seed `study_seed`.
SamplerContext context(const space::SearchSpace& s, int fidelities, int64_t trial, uint64_t study_seed = 0) {
  SamplerContext ctx;
  ctx.space = &s;
  ctx.fidelities = fidelities == 1 ? std::vector<objective::Fidelity>{{"full", 1.0}}
                                   : std::vector<objective::Fidelity>{{"low", 1.0}, {"high", 10.0}};
  ctx.trial_number = trial;
  ctx.seed = derive_seed(study_seed, {static_cast<uint64_t>(trial)});
  ctx.study_seed = study_seed;
  return ctx;
}

// Runs a sampler for n trials on a quadratic; returns the history.
std::vector<study::FrozenTrial> run(Sampler& s, const space::SearchSpace& sp, int fidelities, int n,
                                    uint64_t study_seed = 0) {
  std::vector<study::FrozenTrial> h;
  for (int t = 0; t < n; ++t) {
    const Suggestion sug = s.suggest(context(sp, fidelities, t, study_seed), h);
    study::FrozenTrial tr;
    tr.number = t;
    tr.state = study::TrialState::kComplete;
    tr.params = sug.config;
    tr.fidelity = sug.fidelity < 0 ? fidelities - 1 : sug.fidelity;
    const auto x = sp.encode(sug.config);
    double v = 0.0;
    for (double xi : x) v += (xi - 0.3) * (xi - 0.3);
    tr.value = v + 0.1 * tr.fidelity;
    h.push_back(tr);
  }
  return h;
}

// A fresh sampler (a resumed study) given the same history proposes exactly what the sampler
// that produced it (its replay cache warm) proposes.
TEST(LstmSampler, ResumedSamplerProposesTheSameAsTheCachedOne) {
  const auto sp = cube(2);
  LstmSampler a(model(2, 2), true);
  const auto h = run(a, sp, 2, 8);
  const Suggestion warm = a.suggest(context(sp, 2, 8), h);
  LstmSampler b(model(2, 2), true);
  const Suggestion cold = b.suggest(context(sp, 2, 8), h);
  EXPECT_EQ(warm.config, cold.config);
  EXPECT_EQ(warm.fidelity, cold.fidelity);
  // A shorter history (another worker's view) is replayed from scratch, not from the cache.
  const std::vector<study::FrozenTrial> shorter(h.begin(), h.begin() + 3);
  const Suggestion s1 = a.suggest(context(sp, 2, 3), shorter);
  LstmSampler c(model(2, 2), true);
  EXPECT_EQ(s1.config, c.suggest(context(sp, 2, 3), shorter).config);
}

TEST(LstmSampler, SameSeedSameProposalOtherSeedOther) {
  const auto sp = cube(3);
  LstmSampler a(model(3, 1), false), b(model(3, 1), false);
  const auto h = run(a, sp, 1, 4);
  auto ctx = context(sp, 1, 4);
  EXPECT_EQ(a.suggest(ctx, h).config, b.suggest(ctx, h).config);
  auto other = ctx;
  other.seed += 1;
  EXPECT_NE(a.suggest(ctx, h).config, a.suggest(other, h).config);
  // Greedy: the policy's mean, whatever the trial's seed (once the first point is in).
  LstmSampler g(model(3, 1), false, true);
  EXPECT_EQ(g.suggest(ctx, h).config, g.suggest(other, h).config);
}

// n_initial: the first trials are the `sobol` sampler's points; from trial n on the model proposes,
// having replayed them (a sampler without the option proposes differently from the same history).
TEST(LstmSampler, NInitialTrialsComeFromSobolThenTheModelReplaysThem) {
  const auto sp = cube(3);
  LstmSampler a(model(3, 1), false);
  a.set_initial_trials(3);
  const auto h = run(a, sp, 1, 5, /*study_seed=*/4);
  SobolSampler sobol;
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(h[static_cast<size_t>(t)].params, sobol.suggest(context(sp, 1, t, 4), {}).config) << "trial " << t;
  }
  const std::vector<study::FrozenTrial> first3(h.begin(), h.begin() + 3);
  LstmSampler b(model(3, 1), false);  // no initial design: the same history, the model's proposal
  EXPECT_EQ(h[3].params, b.suggest(context(sp, 1, 3, 4), first3).config);
  EXPECT_THROW(LstmSampler::create({{"model", "x.pt"}, {"n_initial", -1}}, false), InvalidArgument);
}

// Issue 16: concurrent asks (a trial of another worker still running) propose different points, also
// for a greedy model; the running trial enters as the best loss so far (a constant liar), and its
// real value replaces the lie once it finishes.
TEST(LstmSampler, ARunningTrialIsReplayedWithTheBestLossSoFar) {
  const auto sp = cube(2);
  for (const bool multi : {false, true}) {
    SCOPED_TRACE(multi ? "lstm-mf" : "lstm");
    const int m = multi ? 2 : 1;
    LstmSampler g(model(2, m), multi, /*greedy=*/true);
    auto h = run(g, sp, m, 3);
    // Trial 3 asked, still running: trial 4's ask sees it.
    const Suggestion first = g.suggest(context(sp, m, 3), h);
    study::FrozenTrial running;
    running.number = 3;
    running.state = study::TrialState::kRunning;
    running.params = first.config;
    running.fidelity = multi ? first.fidelity : 0;
    auto with_running = h;
    with_running.push_back(running);
    const Suggestion second = g.suggest(context(sp, m, 4), with_running);
    EXPECT_NE(second.config, first.config);
    // The same as replaying it with the best value so far, from a fresh sampler (no cache).
    double best = *h[0].value;
    for (const auto& t : h) best = std::min(best, *t.value);
    auto lied = with_running;
    lied.back().state = study::TrialState::kComplete;
    lied.back().value = best;
    LstmSampler fresh(model(2, m), multi, true);
    EXPECT_EQ(fresh.suggest(context(sp, m, 4), lied).config, second.config);
    // Finished with another value: the cache is replayed with the real one.
    auto done = lied;
    done.back().value = best + 1.0;
    LstmSampler fresh2(model(2, m), multi, true);
    EXPECT_EQ(g.suggest(context(sp, m, 4), done).config, fresh2.suggest(context(sp, m, 4), done).config);
  }
}

std::vector<space::Config> proposals(const std::vector<study::FrozenTrial>& h) {
  std::vector<space::Config> p;
  for (const auto& t : h) p.push_back(t.params);
  return p;
}

// Issue 14, part 3: a deterministic model (the shipped lstm-det-d3, sd pinned at e^-5) ran the same
// trajectory for every seed. Now each study seed gives its own run, the same seed the same run.
TEST(LstmSampler, DeterministicModelGivesEachSeedItsOwnRun) {
  const auto det = std::make_shared<const LearnedOptimizer>(
      LearnedOptimizer::load(std::string(METADIAL_SOURCE_DIR) + "/models/lstm-det-d3.pt"));
  const auto sp = cube(3);
  for (const bool greedy : {false, true}) {
    LstmSampler a(det, false, greedy), b(det, false, greedy);
    const auto one = proposals(run(a, sp, 1, 10, 1));
    EXPECT_EQ(one, proposals(run(b, sp, 1, 10, 1))) << "greedy " << greedy;
    for (uint64_t seed = 2; seed <= 6; ++seed) {
      const auto other = proposals(run(a, sp, 1, 10, seed));
      for (size_t t = 0; t < other.size(); ++t) EXPECT_NE(other[t], one[t]) << "seed " << seed << ", trial " << t;
    }
  }
  // In one dimension too (where the cube has only two symmetries): ten seeds, ten first points.
  const auto det1 = std::make_shared<const LearnedOptimizer>(
      LearnedOptimizer::load(std::string(METADIAL_SOURCE_DIR) + "/models/lstm-det-d1.pt"));
  LstmSampler s1(det1, false);
  std::set<space::Config> firsts;
  for (uint64_t seed = 0; seed < 10; ++seed) firsts.insert(proposals(run(s1, cube(1), 1, 3, seed))[1]);
  EXPECT_EQ(firsts.size(), 10u);
}

// A sampler asked for studies of different seeds, interleaved (the cache is per study seed), gives
// each study what a fresh sampler gives it.
TEST(LstmSampler, InterleavedStudySeedsDoNotShareTheReplayCache) {
  const auto sp = cube(2);
  LstmSampler shared(model(2, 1), false);
  const auto h1 = run(shared, sp, 1, 5, 1);
  const auto h2 = run(shared, sp, 1, 5, 2);
  const Suggestion s1 = shared.suggest(context(sp, 1, 5, 1), h1);
  LstmSampler fresh(model(2, 1), false);
  EXPECT_EQ(s1.config, fresh.suggest(context(sp, 1, 5, 1), h1).config);
  EXPECT_EQ(shared.suggest(context(sp, 1, 5, 2), h2).config, fresh.suggest(context(sp, 1, 5, 2), h2).config);
}

TEST(LstmSampler, MultiFidelityChoosesFidelitiesSingleAsksForTarget) {
  const auto sp = cube(2);
  LstmSampler mf(model(2, 2), true);
  const auto h = run(mf, sp, 2, 40);
  int low = 0;
  for (const auto& t : h) {
    EXPECT_TRUE(t.fidelity == 0 || t.fidelity == 1);
    low += t.fidelity == 0;
  }
  EXPECT_GT(low, 0);   // an untrained fidelity head is near 50/50: both appear in 40 trials
  EXPECT_LT(low, 40);
  LstmSampler sf(model(2, 1), false);
  EXPECT_EQ(sf.suggest(context(sp, 2, 0), {}).fidelity, -1);
}

TEST(LstmSampler, RefusesMismatchedModelsWithOneLine) {
  const auto sp = cube(3);
  LstmSampler s(model(2, 1), false, false, "'m.pt'");
  try {
    s.suggest(context(sp, 1, 0), {});
    FAIL();
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("trained for 2-dimensional spaces"), std::string::npos) << m;
    EXPECT_NE(m.find("has 3 parameters"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
  EXPECT_THROW(LstmSampler(model(2, 1), true), InvalidArgument);  // lstm-mf needs an MF model
  LstmSampler mf(model(3, 2), true);
  SamplerContext three = context(sp, 2, 0);
  three.fidelities.push_back({"higher", 100.0});
  EXPECT_THROW(mf.suggest(three, {}), InvalidArgument);
  SamplerRegistry reg;
  register_learned_samplers(reg);
  EXPECT_THROW(reg.create("lstm", {{"model", "x.pt"}, {"temperature", 1}}), InvalidArgument);
  EXPECT_THROW(reg.create("lstm-mf", {{"model", "/nonexistent/x.pt"}}), InvalidArgument);
}

TEST(LstmSampler, OptionErrorsUseTheConfigReadersWording) {
  SamplerRegistry reg;
  register_learned_samplers(reg);
  auto error_of = [&](const std::string& name, const nlohmann::json& options) -> std::string {
    try {
      reg.create(name, options);
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "(no InvalidArgument)";
  };
  EXPECT_EQ(error_of("lstm", {{"model", "x.pt"}, {"temperature", 1}}),
            "sampler 'lstm': unknown key 'temperature' in [sampler] (expected one of: greedy, model, n_initial)");
  EXPECT_EQ(error_of("lstm-mf", {{"model", "x.pt"}, {"greedy", 1}}),
            "sampler 'lstm-mf': [sampler] greedy must be a boolean, got an integer");
  EXPECT_EQ(error_of("lstm", {{"model", 3}}), "sampler 'lstm': [sampler] model must be a string, got an integer");
}

// ---- default models (issue 14, part 5) ---------------------------------------------------------

const std::string kShippedModels = std::string(METADIAL_SOURCE_DIR) + "/models";

TEST(LstmSampler, WithoutModelUsesTheShippedDefaultOfTheSpacesDimension) {
  for (const int d : {1, 2, 3, 6}) {
    LstmSampler s(LstmSampler::kDefaultModel, false, false, kShippedModels);
    const auto sp = cube(d);
    s.suggest(context(sp, 1, 0), {});
    EXPECT_EQ(s.model().dim(), d);
    EXPECT_EQ(s.model().n_fidelities(), 1);
    EXPECT_EQ(default_model_path(d, 1, kShippedModels).rfind(kShippedModels, 0), 0u);
    LstmSampler mf(LstmSampler::kDefaultModel, true, false, kShippedModels);
    run(mf, sp, 2, 3);
    EXPECT_EQ(mf.model().dim(), d);
    EXPECT_EQ(mf.model().n_fidelities(), 2);
  }
  // Through the registry, as `sampler = "lstm"` without a model.
  SamplerRegistry reg;
  register_learned_samplers(reg);
  EXPECT_NO_THROW(reg.create("lstm", nlohmann::json::object()));
  EXPECT_NO_THROW(reg.create("lstm-mf", {{"greedy", true}}));
}

TEST(LstmSampler, DimensionWithoutDefaultIsOneLineNamingTheOnesThatExistAndTheTrainingCommand) {
  LstmSampler s(LstmSampler::kDefaultModel, false, false, kShippedModels);
  const auto sp = cube(4);
  try {
    s.suggest(context(sp, 1, 0), {});
    FAIL();
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("sampler 'lstm': no default model for 4-dimensional spaces"), std::string::npos) << m;
    EXPECT_NE(m.find("has them for d = 1, 2, 3, 6"), std::string::npos) << m;
    EXPECT_NE(m.find("`metadial meta-train optimizer --dims 4 "), std::string::npos) << m;
    EXPECT_NE(m.find("-d4.pt`"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  // Three fidelities: no shipped lstm-mf default (they have two).
  LstmSampler mf(LstmSampler::kDefaultModel, true, false, kShippedModels);
  const auto sp2 = cube(2);
  SamplerContext three = context(sp2, 2, 0);
  three.fidelities.push_back({"higher", 100.0});
  try {
    mf.suggest(three, {});
    FAIL();
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("no default model for 2-dimensional spaces with 3 fidelities"), std::string::npos) << m;
    EXPECT_NE(m.find("--dims 2 --fidelities 3 "), std::string::npos) << m;
    // Costs 1, 10, 100 in training: a budget of 10 target evaluations, as the shipped 2-fidelity models' 100.
    EXPECT_NE(m.find(" --budget 1000 "), std::string::npos) << m;
  }
  // No folder at all.
  LstmSampler none(LstmSampler::kDefaultModel, false, false, "/nonexistent/models");
  try {
    none.suggest(context(sp2, 1, 0), {});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'/nonexistent/models' has none"), std::string::npos) << e.what();
  }
}

// ---- the real binary ---------------------------------------------------------------------------

struct Result {
  int code = -1;
  std::string out, err;
};

class MetaTrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("metadial-learned-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  /// Runs the program in the test's folder; `env`: "NAME=value ..." for its environment.
  Result metadial(const std::string& args, const std::string& env = "") {
    const std::string cmd = "cd '" + dir_.string() + "' && " + env + (env.empty() ? "" : " ") + METADIAL_BINARY + " " +
                            args + " >out.txt 2>err.txt";
    const int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ / "out.txt");
    r.err = slurp(dir_ / "err.txt");
    return r;
  }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  fs::path dir_;
};

TEST_F(MetaTrainCli, TrainsAModelWithCardThenTunesWithIt) {
  const Result r = metadial(
      "meta-train optimizer --dims 2 --horizon 5 --loss sum --fidelities 2 --budget 20 --lambda 0.8 --seed 3 "
      "--iterations 4 --batch 4 --hidden 8 --eval-every 2 --validation 4 --out models/m.pt");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("iteration 2: held-out regret"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(dir_ / "models/m.pt"));
  EXPECT_LT(fs::file_size(dir_ / "models/m.pt"), 1u << 20);
  const auto card = nlohmann::json::parse(slurp(dir_ / "models/m.json"));
  EXPECT_EQ(card["seed"], 3);
  EXPECT_EQ(card["loss"], "sum");
  EXPECT_EQ(card["fidelities"], 2);
  EXPECT_TRUE(card.contains("train_seconds"));
  EXPECT_TRUE(card["validation"].contains("regret"));
  EXPECT_NE(card["command"].get<std::string>().find("--dims 2"), std::string::npos);

  write("t.toml",
        "[study]\nname = \"t\"\nsampler = \"lstm-mf\"\ntrials = 6\nseed = 0\n\n[objective]\nfunction = \"branin_mf\"\n\n"
        "[sampler]\nmodel = \"models/m.pt\"\n");
  const Result t = metadial("tune t.toml");
  EXPECT_EQ(t.code, 0) << t.err;

  // A 2-d model on a 3-d objective: one line, exit 2.
  write("h3.toml",
        "[study]\nname = \"h\"\nsampler = \"lstm\"\ntrials = 2\n\n[objective]\nfunction = \"hartmann3\"\n\n"
        "[sampler]\nmodel = \"models/m.pt\"\n");
  const Result h = metadial("tune h3.toml");
  EXPECT_EQ(h.code, 2);
  EXPECT_NE(h.err.find("trained for 2-dimensional spaces"), std::string::npos) << h.err;
}

TEST_F(MetaTrainCli, CorruptModelAndUnknownLossFailWithOneLine) {
  write("bad.pt", "garbage");
  write("t.toml",
        "[study]\nname = \"t\"\nsampler = \"lstm\"\ntrials = 2\n\n[objective]\nfunction = \"branin\"\n\n"
        "[sampler]\nmodel = \"bad.pt\"\n");
  const Result c = metadial("tune t.toml");
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.err.find("is not a metadial learned-optimizer model"), std::string::npos) << c.err;
  EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
  // 64 random bytes in the weights of a model file: exit 2, one line naming the file (the old
  // LibTorch archives were accepted and changed the proposals).
  model(2, 1)->save((dir_ / "m.pt").string());
  metadial::testing::scramble_parameters((dir_ / "m.pt").string());
  write("m.toml",
        "[study]\nname = \"t\"\nsampler = \"lstm\"\ntrials = 2\n\n[objective]\nfunction = \"branin\"\n\n"
        "[sampler]\nmodel = \"m.pt\"\n");
  const Result s = metadial("tune m.toml --storage memory");
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(s.err.find("metadial: 'm.pt': corrupt model parameters (checksum mismatch"), std::string::npos) << s.err;
  EXPECT_EQ(std::count(s.err.begin(), s.err.end(), '\n'), 1) << s.err;
  const Result l = metadial("meta-train optimizer --dims 2 --loss regret --out m.pt");
  EXPECT_EQ(l.code, 2);
  EXPECT_NE(l.err.find("unknown loss 'regret' (known: min, sum, oi, ei)"), std::string::npos) << l.err;
  EXPECT_EQ(std::count(l.err.begin(), l.err.end(), '\n'), 1) << l.err;
}

TEST_F(MetaTrainCli, GradientMethodWritesItsCardForOneAndTwoFidelities) {
  const Result r = metadial(
      "meta-train optimizer --dims 2 --horizon 5 --loss oi --method gradient --seed 3 --iterations 3 --batch 4 "
      "--hidden 8 --eval-every 0 --validation 4 --out g.pt");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto card = nlohmann::json::parse(slurp(dir_ / "g.json"));
  EXPECT_EQ(card["method"], "gradient");
  EXPECT_NE(card["command"].get<std::string>().find("--method gradient"), std::string::npos);
  const Result m = metadial(
      "meta-train optimizer --dims 2 --horizon 5 --method gradient --deterministic --fidelities 2 --budget 20 "
      "--seed 3 --iterations 3 --batch 4 --hidden 8 --eval-every 0 --validation 4 --out m.pt");
  ASSERT_EQ(m.code, 0) << m.err;
  const auto mcard = nlohmann::json::parse(slurp(dir_ / "m.json"));
  EXPECT_EQ(mcard["method"], "gradient");
  EXPECT_EQ(mcard["fidelities"], 2);
  const Result u = metadial("meta-train optimizer --dims 2 --method adjoint --out m.pt");
  EXPECT_EQ(u.code, 2);
  EXPECT_NE(u.err.find("unknown meta-training method 'adjoint' (known: reinforce, gradient)"), std::string::npos)
      << u.err;
}

// --init continues from a saved model: the run's untrained (iteration-0) regret is the saved
// model's trained regret on the same held-out functions, and the card records the file; a model
// of another dimension is refused with one line naming the file and the field.
TEST_F(MetaTrainCli, InitContinuesFromASavedModelAndRefusesAnotherShape) {
  const std::string common =
      "meta-train optimizer --dims 1 --horizon 6 --loss oi --method gradient --deterministic --seed 2 --batch 16 "
      "--hidden 8 --eval-every 0 --validation 32 --lr 0.003";
  const Result a = metadial(common + " --iterations 60 --out a.pt");
  ASSERT_EQ(a.code, 0) << a.err;
  const auto ca = nlohmann::json::parse(slurp(dir_ / "a.json"));
  const Result b = metadial(common + " --iterations 5 --init a.pt --out b.pt");
  ASSERT_EQ(b.code, 0) << b.err;
  const auto cb = nlohmann::json::parse(slurp(dir_ / "b.json"));
  EXPECT_EQ(cb["init"], "a.pt");
  EXPECT_EQ(cb["iterations_run"], 5);
  EXPECT_EQ(cb["total_iterations"], 65);  // the continued training counts the model's own 60
  EXPECT_NE(cb["command"].get<std::string>().find("--init a.pt"), std::string::npos);
  EXPECT_NEAR(cb["validation"]["initial_regret"].get<double>(), ca["validation"]["regret"].get<double>(), 1e-9);
  EXPECT_LT(cb["validation"]["initial_regret"].get<double>(), ca["validation"]["initial_regret"].get<double>());
  const Result c = metadial(
      "meta-train optimizer --dims 2 --method gradient --iterations 1 --batch 4 --hidden 8 --init a.pt --out c.pt");
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.err.find("--init 'a.pt': dims 1 differs from this training's 2"), std::string::npos) << c.err;
  EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
  EXPECT_FALSE(fs::exists(dir_ / "c.pt"));
}

// `sampler = "lstm"` without a model: the shipped default of the objective's dimension
// ($METADIAL_MODELS, else ./models); none there: one line, exit 2, naming the training command.
TEST_F(MetaTrainCli, TuneWithoutModelUsesTheDefaultOrSaysHowToTrainOne) {
  write("h3.toml", "[study]\nname = \"h\"\nsampler = \"lstm\"\ntrials = 3\n\n[objective]\nfunction = \"hartmann3\"\n");
  const Result ok = metadial("tune h3.toml --storage memory", "METADIAL_MODELS='" + kShippedModels + "'");
  EXPECT_EQ(ok.code, 0) << ok.err;
  const Result mf =
      metadial("tune h3.toml --storage memory --sampler lstm-mf", "METADIAL_MODELS='" + kShippedModels + "'");
  EXPECT_EQ(mf.code, 2) << mf.err;  // hartmann3 has one fidelity: the lstm-mf defaults have two
  EXPECT_NE(mf.err.find("sampler 'lstm-mf': the objective has a single fidelity; use sampler 'lstm'"),
            std::string::npos)
      << mf.err;
  const Result none = metadial("tune h3.toml --storage memory");  // no ./models here
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("no default model for 3-dimensional spaces ('models/"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("train one with `metadial meta-train optimizer --dims 3 "), std::string::npos) << none.err;
  EXPECT_EQ(std::count(none.err.begin(), none.err.end(), '\n'), 1) << none.err;
}

// Bad input: a model for another number of fidelities is refused in one line naming the file and
// both counts, exit 2 (another dimension: TrainsAModelWithCardThenTunesWithIt).
TEST_F(MetaTrainCli, ModelForAnotherFidelityCountIsOneLineNamingTheFile) {
  model(2, 2)->save((dir_ / "mf.pt").string());
  model(2, 1)->save((dir_ / "sf.pt").string());
  write("b.toml",
        "[study]\nname = \"b\"\nsampler = \"lstm-mf\"\ntrials = 2\n\n[objective]\nfunction = \"branin\"\n\n"
        "[sampler]\nmodel = \"mf.pt\"\n");
  const Result r = metadial("tune b.toml --storage memory");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("model 'mf.pt' was trained with 2 fidelities, but the objective has 1; use sampler 'lstm'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  write("s.toml",
        "[study]\nname = \"s\"\nsampler = \"lstm-mf\"\ntrials = 2\n\n[objective]\nfunction = \"branin_mf\"\n\n"
        "[sampler]\nmodel = \"sf.pt\"\n");
  const Result s = metadial("tune s.toml --storage memory");
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(s.err.find("model 'sf.pt' was trained for a single fidelity"), std::string::npos) << s.err;
  EXPECT_EQ(std::count(s.err.begin(), s.err.end(), '\n'), 1) << s.err;
}

}  // namespace
}  // namespace metadial::optim::learned
