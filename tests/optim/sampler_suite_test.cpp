// One typed suite run against every built-in sampler (random, sobol, lhs, gp, tpe, bohb), plus the registry.
// The LibTorch samplers live in other test executables: the same checks of lstm and lstm-mf are in
// tests/optim/learned/learned_sampler_suite_test.cpp; hyprl (a greedy choice among the rows of its
// model's tabular grid, the same for every seed) is checked in tests/optim/hyprl/hyprl_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <variant>

#include "metadial/core/error.h"
#include "metadial/optim/gp_sampler.h"
#include "metadial/optim/sampler.h"
#include "optim/sampler_testing.h"

namespace metadial::optim {
namespace {

using study::TrialState;
using testing::context;
using testing::trial;

space::SearchSpace mixed_space() {
  space::SearchSpace s;
  s.add_float("x", -2.0, 3.0);
  s.add_float("lr", 1e-4, 1e-1, /*log=*/true);
  s.add_int("layers", 1, 9, /*step=*/2);
  s.add_categorical("act", {"relu", "tanh", "gelu"});
  return s;
}

double smooth_loss(const std::vector<double>& u) {
  double v = 0;
  for (size_t i = 0; i < u.size(); ++i) v += (u[i] - 0.3) * (u[i] - 0.3) * static_cast<double>(i + 1);
  return v;
}

// Every value is of the parameter's type, inside its bounds, on its grid.
void expect_valid(const space::SearchSpace& space, const space::Config& config) {
  ASSERT_EQ(config.size(), space.size());
  for (const auto& p : space.params()) {
    ASSERT_TRUE(config.count(p.name)) << p.name;
    const space::Value& v = config.at(p.name);
    if (const auto* f = std::get_if<space::FloatParam>(&p.dist)) {
      ASSERT_TRUE(std::holds_alternative<double>(v)) << p.name;
      EXPECT_GE(std::get<double>(v), f->low);
      EXPECT_LE(std::get<double>(v), f->high);
    } else if (const auto* n = std::get_if<space::IntParam>(&p.dist)) {
      ASSERT_TRUE(std::holds_alternative<int64_t>(v)) << p.name;
      const int64_t k = std::get<int64_t>(v);
      EXPECT_GE(k, n->low);
      EXPECT_LE(k, n->high);
      EXPECT_EQ((k - n->low) % n->step, 0);
    } else {
      ASSERT_TRUE(std::holds_alternative<std::string>(v)) << p.name;
    }
  }
  EXPECT_NO_THROW(space.encode(config));
}

template <const char* Name>
struct Named {
  static constexpr const char* kName = Name;
};
constexpr char kRandom[] = "random";
constexpr char kSobol[] = "sobol";
constexpr char kLhs[] = "lhs";
constexpr char kGp[] = "gp";
constexpr char kTpe[] = "tpe";
constexpr char kBohb[] = "bohb";

template <typename T>
class SamplerSuite : public ::testing::Test {
 protected:
  std::unique_ptr<Sampler> make() const {
    SamplerRegistry registry;
    register_builtin_samplers(registry);
    SamplerOptions options = SamplerOptions::object();
    // Fewer candidates keep the suite fast; the algorithm is the same.
    if (std::string(T::kName) == "gp") options = {{"n_candidates", 300}, {"n_initial", 5}};
    return registry.create(T::kName, options);
  }
  // 12 complete trials of the sampler itself (past any initial design).
  std::vector<study::FrozenTrial> history(const space::SearchSpace& space, uint64_t seed) const {
    auto sampler = make();
    return testing::run_loop(*sampler, space, 12, seed, smooth_loss);
  }
  const space::SearchSpace space_ = mixed_space();
};

using AllSamplers = ::testing::Types<Named<kRandom>, Named<kSobol>, Named<kLhs>, Named<kGp>, Named<kTpe>, Named<kBohb>>;
TYPED_TEST_SUITE(SamplerSuite, AllSamplers);

TYPED_TEST(SamplerSuite, NameMatchesRegistryKey) { EXPECT_EQ(this->make()->name(), TypeParam::kName); }

TYPED_TEST(SamplerSuite, ProposalsDecodeToValidConfigsInMixedSpace) {
  auto sampler = this->make();
  std::vector<study::FrozenTrial> hist;
  for (int i = 0; i < 15; ++i) {
    const Suggestion s = sampler->suggest(context(this->space_, 7, i), hist);
    expect_valid(this->space_, s.config);
    EXPECT_EQ(s.fidelity, -1);
    hist.push_back(trial(i, TrialState::kComplete, s.config, smooth_loss(this->space_.encode(s.config))));
  }
}

TYPED_TEST(SamplerSuite, SameSeedAndHistoryGiveSameSuggestion) {
  const auto hist = this->history(this->space_, 3);
  for (int64_t n : {0, 3, 12}) {
    const std::span<const study::FrozenTrial> h(hist.data(), static_cast<size_t>(n));
    const Suggestion a = this->make()->suggest(context(this->space_, 3, n), h);
    const Suggestion b = this->make()->suggest(context(this->space_, 3, n), h);
    EXPECT_EQ(a.config, b.config) << "trial " << n;
  }
}

TYPED_TEST(SamplerSuite, OtherSeedGivesOtherSuggestion) {
  const auto hist = this->history(this->space_, 3);
  for (int64_t n : {0, 3, 12}) {
    const std::span<const study::FrozenTrial> h(hist.data(), static_cast<size_t>(n));
    const Suggestion a = this->make()->suggest(context(this->space_, 3, n), h);
    const Suggestion b = this->make()->suggest(context(this->space_, 4, n), h);
    EXPECT_NE(a.config, b.config) << "trial " << n;
  }
}

TYPED_TEST(SamplerSuite, WorksWithEmptyHistory) {
  auto sampler = this->make();
  for (int64_t n : {0, 5, 40}) expect_valid(this->space_, sampler->suggest(context(this->space_, 1, n), {}).config);
}

TYPED_TEST(SamplerSuite, WorksWithFailedPrunedAndRunningTrials) {
  auto hist = this->history(this->space_, 5);
  // Turn some into failed, pruned and running trials, and add a running trial with no params yet.
  hist[2].state = TrialState::kFailed;
  hist[2].value.reset();
  hist[2].fail_reason = "boom";
  hist[4].state = TrialState::kPruned;
  hist[4].value.reset();
  hist[7].state = TrialState::kRunning;
  hist[7].value.reset();
  hist.push_back(trial(12, TrialState::kRunning, {}));
  const Suggestion s = this->make()->suggest(context(this->space_, 5, 13), hist);
  expect_valid(this->space_, s.config);
  // Only failures so far: still a valid proposal.
  std::vector<study::FrozenTrial> failed;
  for (int i = 0; i < 12; ++i) {
    failed.push_back(trial(i, TrialState::kFailed, this->space_.decode(std::vector<double>{0.1 * i, 0.5, 0.5, 0.5})));
  }
  expect_valid(this->space_, this->make()->suggest(context(this->space_, 5, 12), failed).config);
}

TYPED_TEST(SamplerSuite, WorksInOneDimension) {
  space::SearchSpace s;
  s.add_float("x", -1.0, 1.0);
  auto sampler = this->make();
  const auto hist =
      testing::run_loop(*sampler, s, 14, 9, [](const std::vector<double>& u) { return std::abs(u[0] - 0.7); });
  for (const auto& t : hist) expect_valid(s, t.params);
}

TYPED_TEST(SamplerSuite, IgnoresLowerFidelityTrialsAndProposesTarget) {
  auto hist = this->history(this->space_, 6);
  for (auto& t : hist) t.fidelity = 0;  // all at the cheap fidelity
  SamplerContext ctx = context(this->space_, 6, 12);
  ctx.fidelities = {{"low", 0.1}, {"full", 1.0}};
  const Suggestion s = this->make()->suggest(ctx, hist);
  expect_valid(this->space_, s.config);
  EXPECT_EQ(s.fidelity, -1);
}

// Issue 21, item 6: bounds at the limits of double and int64_t. A float in [-1e308, 1e308] used to
// decode to high (random) or NaN (gp): high - low overflowed; the int range's size overflowed.
TYPED_TEST(SamplerSuite, ProposalsAtTheLimitsOfTheNumbersAreFiniteAndSpreadOut) {
  space::SearchSpace s;
  s.add_float("x", -1e308, 1e308);
  s.add_int("n", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  auto sampler = this->make();
  const auto hist = testing::run_loop(*sampler, s, 14, 2, smooth_loss);
  std::set<double> xs;
  std::set<int64_t> ns;
  for (const auto& t : hist) {
    const double x = std::get<double>(t.params.at("x"));
    ASSERT_TRUE(std::isfinite(x)) << t.number;
    EXPECT_GE(x, -1e308);
    EXPECT_LE(x, 1e308);
    xs.insert(x);
    ns.insert(std::get<int64_t>(t.params.at("n")));
    for (double u : s.encode(t.params)) EXPECT_TRUE(u >= 0.0 && u <= 1.0) << u;
  }
  EXPECT_GE(xs.size(), 10u);
  EXPECT_GE(ns.size(), 5u);  // gp converges on the int once past its initial design
  EXPECT_LT(*xs.begin(), 0.0);
  EXPECT_GT(*xs.rbegin(), 0.0);
  EXPECT_LT(*ns.begin(), 0);
  EXPECT_GT(*ns.rbegin(), 0);
}

TYPED_TEST(SamplerSuite, RejectsContextWithoutSpace) {
  SamplerContext ctx;
  EXPECT_THROW(this->make()->suggest(ctx, {}), InvalidArgument);
}

TYPED_TEST(SamplerSuite, RejectsUnknownOption) {
  SamplerRegistry registry;
  register_builtin_samplers(registry);
  try {
    registry.create(TypeParam::kName, {{"n_inital", 3}});
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'n_inital' in [sampler]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::string("sampler '") + TypeParam::kName + "'"), std::string::npos);
  }
}

TEST(SamplerRegistry, BuiltinsAreRegistered) {
  SamplerRegistry registry;
  register_builtin_samplers(registry);
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"bohb", "gp", "lhs", "random", "sobol", "tpe"}));
}

TEST(SamplerRegistry, UnknownOptionMessageListsKnownOptions) {
  SamplerRegistry registry;
  register_builtin_samplers(registry);
  try {
    registry.create("gp", {{"n_inital", 3}});
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()),
              "sampler 'gp': unknown key 'n_inital' in [sampler] (expected one of: acquisition, constant_liar, init, "
              "n_candidates, n_initial, n_local, n_restarts)");
  }
}

TEST(SamplerRegistry, IllTypedOrOutOfRangeOptionsAreRejected) {
  SamplerRegistry registry;
  register_builtin_samplers(registry);
  EXPECT_THROW(registry.create("gp", {{"n_initial", "ten"}}), InvalidArgument);
  EXPECT_THROW(registry.create("gp", {{"n_initial", 2.5}}), InvalidArgument);
  EXPECT_THROW(registry.create("gp", {{"n_candidates", 0}}), InvalidArgument);
  EXPECT_THROW(registry.create("gp", {{"acquisition", "ucb"}}), InvalidArgument);
  EXPECT_THROW(registry.create("gp", {{"init", 3}}), InvalidArgument);
  EXPECT_THROW(registry.create("gp", {{"constant_liar", 1}}), InvalidArgument);
  EXPECT_THROW(registry.create("lhs", {{"n_initial", -1}}), InvalidArgument);
  EXPECT_THROW(registry.create("sobol", {{"scramble", "yes"}}), InvalidArgument);
  EXPECT_THROW(registry.create("random", SamplerOptions::array()), InvalidArgument);
  EXPECT_THROW(registry.create("dehb"), InvalidArgument);
  EXPECT_THROW(registry.create("tpe", {{"n_ei_candidates", 0}}), InvalidArgument);
  EXPECT_THROW(registry.create("tpe", {{"prior_weight", 0}}), InvalidArgument);
  const auto gp = registry.create("gp", {{"n_initial", 4}, {"init", "lhs"}, {"acquisition", "ei"}, {"n_local", 0}});
  const auto& o = dynamic_cast<const GpSampler&>(*gp).options();
  EXPECT_EQ(o.n_initial, 4);
  EXPECT_EQ(o.init, InitDesign::kLhs);
  EXPECT_EQ(o.acquisition, AcquisitionKind::kEi);
  EXPECT_EQ(o.n_local, 0);
}

}  // namespace
}  // namespace metadial::optim
