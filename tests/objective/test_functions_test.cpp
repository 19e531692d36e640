// Tests of the built-in test functions. Reference numbers come from
// tests/objective/reference_values.py (run with /usr/bin/python3; numpy + scipy), which writes
// the formulas out independently of the C++ code; a few are computed by hand (noted).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/objective/registry.h"
#include "metadial/objective/test_functions.h"

namespace metadial::objective {
namespace {

using ::testing::HasSubstr;

std::vector<double> random_point(Rng& rng, size_t d) {
  std::vector<double> u(d);
  for (auto& x : u) x = uniform01(rng);
  return u;
}

space::Config config_of(const std::vector<double>& u) {
  space::Config c;
  for (size_t i = 0; i < u.size(); ++i) c["x" + std::to_string(i)] = u[i];
  return c;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

struct Expected {
  const char* name;
  size_t dim;
  double optimum;
  int fidelities;
};

const Expected kAll[] = {
    {"branin", 2, 0.397887357729738, 1},       {"currin", 2, -13.798722044728434, 1},
    {"gramacy_lee", 1, -0.869011134989500, 1}, {"hartmann3", 3, -3.86278214782076, 1},
    {"hartmann6", 6, -3.32236801141551, 1},    {"branin_mf", 2, 0.397887357729738, 2},
    {"currin_mf", 2, -13.798722044728434, 2},  {"hartmann3_mf", 3, -3.86278214782076, 2},
    {"hartmann6_mf", 6, -3.32236801141551, 2},
};

TEST(TestFunctions, NamesAreTheNineBuiltins) {
  std::vector<std::string> names;
  for (const auto& e : kAll) names.emplace_back(e.name);
  EXPECT_EQ(test_function_names(), names);
}

TEST(TestFunctions, KnownMinimizersReachTheKnownMinimum) {
  for (const auto& e : kAll) {
    SCOPED_TRACE(e.name);
    auto f = make_test_function(e.name);
    EXPECT_EQ(f->name(), e.name);
    EXPECT_EQ(f->dim(), e.dim);
    EXPECT_EQ(f->n_fidelities(), e.fidelities);
    ASSERT_TRUE(f->known_optimum().has_value());
    EXPECT_NEAR(*f->known_optimum(), e.optimum, 1e-12);
    ASSERT_FALSE(f->minimizers().empty());
    for (const auto& m : f->minimizers()) {
      EXPECT_NEAR(f->value(m), e.optimum, 1e-6);
      // Through the Objective interface, at the target fidelity.
      NullReporter reporter;
      EXPECT_NEAR(f->evaluate(config_of(m), f->target_fidelity(), reporter).value, e.optimum, 1e-6);
    }
  }
}

TEST(TestFunctions, BraninHasItsThreeTextbookMinimizers) {
  Branin f;
  ASSERT_EQ(f.minimizers().size(), 3u);
  // (-pi, 12.275), (pi, 2.275), (3 pi, 2.475) mapped to the unit cube by hand:
  // u1 = (x1 + 5) / 15, u2 = x2 / 15.
  EXPECT_NEAR(f.minimizers()[0][0], (5.0 - M_PI) / 15.0, 1e-15);
  EXPECT_NEAR(f.minimizers()[2][1], 2.475 / 15.0, 1e-15);
  // Exact minimum 5 / (4 pi).
  EXPECT_NEAR(*f.known_optimum(), 5.0 / (4.0 * M_PI), 1e-15);
}

TEST(TestFunctions, DenseRandomSearchNeverGoesBelowTheKnownMinimum) {
  for (const auto& e : kAll) {
    SCOPED_TRACE(e.name);
    auto f = make_test_function(e.name);
    Rng rng(derive_seed(7, {e.dim}));
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < 100000; ++i) best = std::min(best, f->value(random_point(rng, f->dim())));
    EXPECT_GE(best, *f->known_optimum() - 1e-12);
    // And the search is dense enough to come near it (not a vacuous check).
    EXPECT_LT(best - *f->known_optimum(), 0.25 * std::abs(*f->known_optimum()) + 0.1);
  }
}

TEST(TestFunctions, ValuesAtOtherPointsMatchReference) {
  // reference_values.py, "values at other points".
  Branin branin;
  EXPECT_NEAR(branin.value(std::vector<double>{0.0, 0.0}), 308.12909601160663, 1e-9);
  EXPECT_NEAR(branin.value(std::vector<double>{0.5, 0.5}), 24.129964413622268, 1e-9);
  EXPECT_NEAR(branin.value(std::vector<double>{1.0, 1.0}), 145.87219087939556, 1e-9);
  EXPECT_NEAR(branin.value(std::vector<double>{0.2, 0.7}), 6.644372188889907, 1e-9);

  Currin currin;
  // By hand: x1 = 0 gives 60 / 20 = 3, and the factor at x2 = 0 is 1, so -3.
  EXPECT_NEAR(currin.value(std::vector<double>{0.0, 0.0}), -3.0, 1e-12);
  EXPECT_NEAR(currin.value(std::vector<double>{0.5, 0.5}), -7.4051239132988096, 1e-9);
  EXPECT_NEAR(currin.value(std::vector<double>{1.0, 1.0}), -4.0053161049765258, 1e-9);
  EXPECT_NEAR(currin.value(std::vector<double>{0.2, 0.7}), -7.0286186876388745, 1e-9);

  GramacyLee gl;
  // By hand: u = 0 -> x = 0.5: sin(5 pi) / 1 + 0.5^4 = 0.0625; u = 1 -> x = 2.5: 0 + 1.5^4 = 5.0625;
  // u = 0.25 -> x = 1: sin(10 pi) / 2 + 0 = 0.
  EXPECT_NEAR(gl.value(std::vector<double>{0.0}), 0.0625, 1e-12);
  EXPECT_NEAR(gl.value(std::vector<double>{1.0}), 5.0625, 1e-12);
  EXPECT_NEAR(gl.value(std::vector<double>{0.25}), 0.0, 1e-12);

  Hartmann3 h3;
  EXPECT_NEAR(h3.value(std::vector<double>{0.5, 0.5, 0.5}), -0.62802209617506111, 1e-12);
  EXPECT_NEAR(h3.value(std::vector<double>{0.1, 0.2, 0.3}), -0.73291148765935366, 1e-12);
  Hartmann6 h6;
  EXPECT_NEAR(h6.value(std::vector<double>(6, 0.5)), -0.50531499170223326, 1e-12);
  EXPECT_NEAR(h6.value(std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}), -1.4069105761385297, 1e-12);
}

TEST(TestFunctions, LowFidelityValuesMatchReference) {
  // reference_values.py, "multi-fidelity low fidelities at a point".
  const std::vector<double> p2 = {0.2, 0.7};
  EXPECT_NEAR(BraninMF().value(p2, 0), 7.1068578194786287, 1e-9);
  EXPECT_NEAR(BraninMF(MultiFidelityOptions::with_fidelities(3)).value(p2, 1), 6.861215004184265, 1e-9);
  EXPECT_NEAR(CurrinMF().value(p2, 0), -6.878809348488641, 1e-9);
  const std::vector<double> p3 = {0.1, 0.2, 0.3};
  EXPECT_NEAR(HartmannMF(3).value(p3, 0), -0.74002973301779618, 1e-12);
  EXPECT_NEAR(HartmannMF(3, MultiFidelityOptions::with_fidelities(3)).value(p3, 0), -0.7471479783762387, 1e-12);
  EXPECT_NEAR(HartmannMF(6).value(std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, 0), -1.4029073124053051, 1e-12);
}

TEST(TestFunctions, TargetFidelityEqualsThePlainFunctionExactly) {
  const std::pair<const char*, const char*> pairs[] = {
      {"branin_mf", "branin"}, {"currin_mf", "currin"}, {"hartmann3_mf", "hartmann3"}, {"hartmann6_mf", "hartmann6"}};
  for (const auto& [mf_name, plain_name] : pairs) {
    auto plain = make_test_function(plain_name);
    std::vector<nlohmann::json> variants = {nullptr, {{"costs", {1, 5}}}};
    if (std::string(mf_name) != "currin_mf") variants.push_back({{"fidelities", 3}});
    if (std::string(mf_name) != "currin_mf") variants.push_back({{"costs", {1, 2, 4, 8}}});
    for (const auto& options : variants) {
      SCOPED_TRACE(std::string(mf_name) + " " + options.dump());
      auto mf = make_test_function(mf_name, options);
      Rng rng(11);
      for (int i = 0; i < 1000; ++i) {
        const auto u = random_point(rng, plain->dim());
        EXPECT_EQ(mf->value(u, mf->target_fidelity()), plain->value(u));
      }
      for (const auto& m : plain->minimizers()) EXPECT_EQ(mf->value(m), plain->value(m));
    }
  }
}

TEST(TestFunctions, LowFidelityIsCorrelatedButNotEqual) {
  // Measured over 5000 uniform points (reference_values.py gives the same to 3 digits with
  // numpy's generator): Pearson r between the cheapest and the target fidelity, and the largest
  // absolute difference. The literature's variants are close approximations: r > 0.997.
  struct Case {
    const char* name;
    nlohmann::json options;
    double min_r;     // measured r minus a margin
    double min_diff;  // measured max |low - high| is several times this
  };
  const Case cases[] = {
      {"branin_mf", nullptr, 0.995, 5.0},                  // r = 0.9988, max diff 24.4
      {"currin_mf", nullptr, 0.993, 0.3},                  // r = 0.9973, max diff 0.97
      {"hartmann3_mf", nullptr, 0.998, 0.03},              // r = 0.9996, max diff 0.097
      {"hartmann3_mf", {{"fidelities", 3}}, 0.996, 0.06},  // r = 0.9986, max diff 0.19
      {"hartmann6_mf", nullptr, 0.9999, 0.003},            // r = 0.999994, max diff 0.0088
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.name) + " " + c.options.dump());
    auto f = make_test_function(c.name, c.options);
    Rng rng(3);
    std::vector<double> lo, hi;
    double max_diff = 0.0;
    for (int i = 0; i < 5000; ++i) {
      const auto u = random_point(rng, f->dim());
      lo.push_back(f->value(u, 0));
      hi.push_back(f->value(u, f->target_fidelity()));
      max_diff = std::max(max_diff, std::abs(lo.back() - hi.back()));
    }
    const double r = pearson(lo, hi);
    EXPECT_GT(r, c.min_r);
    EXPECT_LT(r, 1.0 - 1e-7);
    EXPECT_GT(max_diff, c.min_diff);
  }
}

TEST(TestFunctions, FidelitiesAreCheapestFirstWithDefaultCosts) {
  auto f = make_test_function("branin_mf");
  ASSERT_EQ(f->fidelities().size(), 2u);
  EXPECT_EQ(f->fidelities()[0].name, "low");
  EXPECT_EQ(f->fidelities()[0].cost, 1.0);
  EXPECT_EQ(f->fidelities()[1].name, "high");
  EXPECT_EQ(f->fidelities()[1].cost, 10.0);

  auto f3 = make_test_function("hartmann3_mf", {{"fidelities", 3}});
  ASSERT_EQ(f3->fidelities().size(), 3u);
  EXPECT_EQ(f3->fidelities()[1].name, "medium");
  EXPECT_EQ(f3->fidelities()[2].cost, 100.0);

  auto fc = make_test_function("currin_mf", {{"costs", {2, 7.5}}});
  EXPECT_EQ(fc->fidelities()[0].cost, 2.0);
  EXPECT_EQ(fc->fidelities()[1].cost, 7.5);

  auto plain = make_test_function("hartmann6");
  ASSERT_EQ(plain->fidelities().size(), 1u);
  EXPECT_EQ(plain->fidelities()[0].cost, 1.0);
}

TEST(TestFunctions, EvaluationCostsTheFidelitysCost) {
  auto f = make_test_function("hartmann3_mf", {{"costs", {1, 3, 9}}});
  NullReporter reporter;
  const auto config = config_of({0.1, 0.2, 0.3});
  EXPECT_EQ(f->evaluate(config, 0, reporter).cost, 1.0);
  EXPECT_EQ(f->evaluate(config, 1, reporter).cost, 3.0);
  EXPECT_EQ(f->evaluate(config, 2, reporter).cost, 9.0);
  EXPECT_EQ(f->evaluate(config, 2, reporter).value, Hartmann3().value(std::vector<double>{0.1, 0.2, 0.3}));
}

TEST(TestFunctions, DefaultSpaceIsTheUnitCubeNamedX0ToXd) {
  auto f = make_test_function("hartmann6");
  auto space = f->default_space();
  ASSERT_TRUE(space.has_value());
  ASSERT_EQ(space->size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(space->param(i).name, "x" + std::to_string(i));
    const auto* fp = std::get_if<space::FloatParam>(&space->param(i).dist);
    ASSERT_NE(fp, nullptr);
    EXPECT_EQ(fp->low, 0.0);
    EXPECT_EQ(fp->high, 1.0);
    EXPECT_FALSE(fp->log);
  }
  // A decoded point evaluates.
  NullReporter reporter;
  const std::vector<double> u = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  EXPECT_NEAR(f->evaluate(space->decode(u), 0, reporter).value, -1.4069105761385297, 1e-12);
}

TEST(TestFunctions, IntegerCoordinatesAreAccepted) {
  Branin f;
  NullReporter reporter;
  space::Config c = {{"x0", int64_t{0}}, {"x1", int64_t{1}}};
  EXPECT_EQ(f.evaluate(c, 0, reporter).value, f.value(std::vector<double>{0.0, 1.0}));
}

TEST(TestFunctions, RejectsBadConfigurationsAndFidelities) {
  Branin f;
  NullReporter reporter;
  try {
    f.evaluate({{"x0", 0.5}}, 0, reporter);
    FAIL() << "missing x1 accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("no parameter 'x1'"));
  }
  try {
    f.evaluate({{"x0", 0.5}, {"x1", 1.5}}, 0, reporter);
    FAIL() << "x1 = 1.5 accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("x1 = 1.5 is outside [0,1]"));
  }
  EXPECT_THROW(f.evaluate({{"x0", -0.01}, {"x1", 0.5}}, 0, reporter), InvalidArgument);
  EXPECT_THROW(f.evaluate({{"x0", std::nan("")}, {"x1", 0.5}}, 0, reporter), InvalidArgument);
  EXPECT_THROW(f.evaluate({{"x0", std::string("a")}, {"x1", 0.5}}, 0, reporter), InvalidArgument);
  EXPECT_THROW(f.value(std::vector<double>{0.5}), InvalidArgument);
  try {
    f.evaluate({{"x0", 0.5}, {"x1", 0.5}}, 1, reporter);
    FAIL() << "fidelity 1 accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("fidelity 1 is out of range (0..0)"));
  }
  auto mf = make_test_function("currin_mf");
  EXPECT_THROW(mf->value(std::vector<double>{0.5, 0.5}, -1), InvalidArgument);
  EXPECT_THROW(mf->value(std::vector<double>{0.5, 0.5}, 2), InvalidArgument);
}

TEST(TestFunctions, RejectsUnknownOptionsNamingTheKnownOnes) {
  try {
    make_test_function("branin_mf", {{"cost", {1, 10}}});
    FAIL() << "unknown key accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("branin_mf: unknown key 'cost' in [objective]"));
    EXPECT_THAT(e.what(), HasSubstr("(expected one of: costs, fidelities)"));
  }
  try {
    make_test_function("branin", {{"costs", {1, 10}}});
    FAIL() << "option accepted by a single-fidelity function";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown key 'costs' in [objective] (it takes no keys)"));
  }
  EXPECT_NO_THROW(make_test_function("branin", nlohmann::json::object()));
  EXPECT_THROW(make_test_function("currin_mf", {{"fidelities", 3}}), InvalidArgument);
  EXPECT_THROW(make_test_function("branin_mf", {{"costs", {10, 1}}}), InvalidArgument);
  EXPECT_THROW(make_test_function("branin_mf", {{"costs", {0, 1}}}), InvalidArgument);
  EXPECT_THROW(make_test_function("branin_mf", {{"costs", {1}}}), InvalidArgument);
  EXPECT_THROW(make_test_function("branin_mf", {{"costs", {1, 10}}, {"fidelities", 3}}), InvalidArgument);
  EXPECT_THROW(make_test_function("branin_mf", {{"costs", "cheap"}}), InvalidArgument);
  EXPECT_THROW(make_test_function("branin_mf", {{"fidelities", 1}}), InvalidArgument);
  EXPECT_THROW(make_test_function("branin_mf", 3), InvalidArgument);
  try {
    make_test_function("rosenbrock");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown test function 'rosenbrock'"));
    EXPECT_THAT(e.what(), HasSubstr("hartmann6_mf"));
  }
}

TEST(ObjectiveRegistry, RegisterBuiltinsAddsEveryTestFunction) {
  ObjectiveRegistry registry;
  register_builtin_objectives(registry);
  std::vector<std::string> expected = test_function_names();
  expected.push_back("learning_curve");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(registry.names(), expected);
  auto f = registry.create("hartmann3_mf", {{"costs", {1, 10, 100}}});
  EXPECT_EQ(f->name(), "hartmann3_mf");
  EXPECT_EQ(f->fidelities().size(), 3u);
  EXPECT_NEAR(*f->known_optimum(), -3.86278214782076, 1e-12);
  try {
    registry.create("branin", {{"noise", 0.1}});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("branin: unknown key 'noise'"));
  }
  EXPECT_THROW(registry.create("nope"), InvalidArgument);
}

TEST(ObjectiveRegistry, AFidelityCountIsCheckedBeforeItIsNarrowed) {
  // 4294967298 used to wrap to int 2 and run as two fidelities.
  ObjectiveRegistry registry;
  register_builtin_objectives(registry);
  for (const int64_t n : {int64_t{4294967298}, int64_t{4294967296}, int64_t{1}, int64_t{11}}) {
    try {
      registry.create("branin_mf", {{"fidelities", n}});
      ADD_FAILURE() << "fidelities = " << n << " was accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_THAT(e.what(), HasSubstr("fidelities = " + std::to_string(n) + " must be in 2..10"));
    }
  }
  EXPECT_EQ(registry.create("branin_mf", {{"fidelities", 3}})->fidelities().size(), 3u);
}

}  // namespace
}  // namespace metadial::objective
