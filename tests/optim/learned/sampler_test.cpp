// The `lstm` / `lstm-mf` samplers and `metadial meta-train optimizer`: replay is resume-safe,
// proposals are reproducible, fidelities are chosen, and bad models, spaces and flags fail with
// one line.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/learned/sampler.h"

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

SamplerContext context(const space::SearchSpace& s, int fidelities, int64_t trial) {
  SamplerContext ctx;
  ctx.space = &s;
  ctx.fidelities = fidelities == 1 ? std::vector<objective::Fidelity>{{"full", 1.0}}
                                   : std::vector<objective::Fidelity>{{"low", 1.0}, {"high", 10.0}};
  ctx.trial_number = trial;
  ctx.seed = derive_seed(0, {static_cast<uint64_t>(trial)});
  return ctx;
}

// Runs a sampler for n trials on a quadratic; returns the history.
std::vector<study::FrozenTrial> run(Sampler& s, const space::SearchSpace& sp, int fidelities, int n) {
  std::vector<study::FrozenTrial> h;
  for (int t = 0; t < n; ++t) {
    const Suggestion sug = s.suggest(context(sp, fidelities, t), h);
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
  auto ctx = context(sp, 1, 0);
  EXPECT_EQ(a.suggest(ctx, {}).config, b.suggest(ctx, {}).config);
  auto other = ctx;
  other.seed += 1;
  EXPECT_NE(a.suggest(ctx, {}).config, a.suggest(other, {}).config);
  // Greedy: the policy's mean, whatever the seed.
  LstmSampler g(model(3, 1), false, true);
  EXPECT_EQ(g.suggest(ctx, {}).config, g.suggest(other, {}).config);
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
  EXPECT_THROW(reg.create("lstm", nlohmann::json::object()), InvalidArgument);  // no model
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
            "sampler 'lstm': unknown key 'temperature' in [sampler] (expected one of: greedy, model)");
  EXPECT_EQ(error_of("lstm-mf", {{"model", "x.pt"}, {"greedy", 1}}),
            "sampler 'lstm-mf': [sampler] greedy must be a boolean, got an integer");
  EXPECT_EQ(error_of("lstm", nlohmann::json::object()),
            "sampler 'lstm': [sampler] needs model (the path of a model written by `metadial meta-train optimizer`)");
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
  Result metadial(const std::string& args) {
    const std::string cmd = "cd '" + dir_.string() + "' && " + METADIAL_BINARY + " " + args + " >out.txt 2>err.txt";
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
  EXPECT_NE(c.err.find("is not a learned-optimizer model"), std::string::npos) << c.err;
  EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
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

}  // namespace
}  // namespace metadial::optim::learned
