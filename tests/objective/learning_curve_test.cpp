// The synthetic learning curve, and the learning curves of the multi-fidelity test functions:
// what they report, and what a trial stopped on the way costs.
#include "metadial/objective/learning_curve.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <utility>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/objective/registry.h"
#include "metadial/objective/test_functions.h"

namespace metadial::objective {
namespace {

using ::testing::HasSubstr;

// Records what is reported; stops the trial at `prune_at`.
class Recorder final : public Reporter {
 public:
  void report(int64_t step, double value) override {
    reports.emplace_back(step, value);
    if (prune_at && step == *prune_at) throw TrialPruned("pruned");
  }
  double seconds_left() const override { return 1e9; }
  int64_t trial_number() const override { return 0; }
  int64_t trial_id() const override { return 0; }
  std::vector<std::pair<int64_t, double>> reports;
  std::optional<int64_t> prune_at;
};

space::Config at(double x0, double x1) { return {{"x0", x0}, {"x1", x1}}; }

TEST(LearningCurve, ReportsQPlusOneOverOnePlusTAtEveryStep) {
  LearningCurve f(LearningCurveOptions{.steps = 4, .dim = 2});
  Recorder r;
  const Evaluation e = f.evaluate(at(0.5, 0.3), 0, r);  // q = 0.04
  ASSERT_EQ(r.reports.size(), 4u);
  for (int64_t t = 0; t < 4; ++t) {
    EXPECT_EQ(r.reports[static_cast<size_t>(t)].first, t);
    EXPECT_NEAR(r.reports[static_cast<size_t>(t)].second, 0.04 + 1.0 / (1.0 + static_cast<double>(t)), 1e-15);
  }
  EXPECT_DOUBLE_EQ(e.value, r.reports.back().second);
  EXPECT_DOUBLE_EQ(e.cost, 1.0);
  EXPECT_DOUBLE_EQ(*f.known_optimum(), 0.25);
  EXPECT_DOUBLE_EQ(f.value(std::vector<double>{0.3, 0.3}), 0.25);
  EXPECT_DOUBLE_EQ(f.value_at(std::vector<double>{0.3, 0.3}, 1), 0.5);
  EXPECT_TRUE(f.reports_intermediate());
  EXPECT_EQ(f.max_step(), 3);
}

TEST(LearningCurve, AStoppedTrialCostsTheShareOfStepsItRan) {
  LearningCurve f(LearningCurveOptions{.steps = 8, .dim = 1});
  Recorder r;
  r.prune_at = 2;
  try {
    f.evaluate({{"x0", 0.9}}, 0, r);
    FAIL();
  } catch (const TrialPruned& e) {
    EXPECT_EQ(e.cost(), 3.0 / 8.0);
  }
}

TEST(LearningCurve, IsRegisteredAndChecksItsOptions) {
  ObjectiveRegistry registry;
  register_builtin_objectives(registry);
  auto f = registry.create("learning_curve", {{"steps", 10}, {"dim", 3}});
  EXPECT_EQ(f->name(), "learning_curve");
  EXPECT_EQ(f->default_space()->size(), 3u);
  EXPECT_EQ(f->max_step(), 9);
  try {
    registry.create("learning_curve", {{"steps", 1}});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("learning_curve: [objective] steps must be in 2..1000000"));
  }
  EXPECT_THROW(registry.create("learning_curve", {{"dims", 2}}), InvalidArgument);
  EXPECT_THROW(LearningCurve(LearningCurveOptions{.steps = 5, .dim = 0}), InvalidArgument);
}

TEST(MultiFidelityCurves, ReportTheCheaperLevelsAsStepsOneToF) {
  auto f = make_test_function("branin_mf", {{"fidelities", 3}});
  EXPECT_TRUE(f->reports_intermediate());
  EXPECT_EQ(f->max_step(), 3);
  const std::vector<double> u = {0.2, 0.7};
  Recorder r;
  const Evaluation result = f->evaluate(at(0.2, 0.7), 2, r);
  ASSERT_EQ(r.reports.size(), 2u);
  EXPECT_EQ(r.reports[0], std::make_pair(int64_t{1}, f->value(u, 0)));
  EXPECT_EQ(r.reports[1], std::make_pair(int64_t{2}, f->value(u, 1)));
  EXPECT_EQ(result.value, f->value(u, 2));
  EXPECT_EQ(result.cost, 100.0);
  Recorder cheapest;
  f->evaluate(at(0.2, 0.7), 0, cheapest);
  EXPECT_TRUE(cheapest.reports.empty());

  Recorder stopping;
  stopping.prune_at = 2;
  try {
    f->evaluate(at(0.2, 0.7), 2, stopping);
    FAIL();
  } catch (const TrialPruned& e) {
    EXPECT_EQ(e.cost(), 10.0);  // level 1's cost
  }

  auto single = make_test_function("branin");
  Recorder none;
  single->evaluate(at(0.2, 0.7), 0, none);
  EXPECT_TRUE(none.reports.empty());
  EXPECT_FALSE(single->reports_intermediate());
  EXPECT_FALSE(single->max_step().has_value());
}

}  // namespace
}  // namespace metadial::objective
