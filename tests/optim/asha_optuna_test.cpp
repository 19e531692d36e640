// Our successive halving ("asha") against Optuna 3.1's SuccessiveHalvingPruner: the same sequence
// of crossing, noisy learning curves (asha_reference.py, which ran them through Optuna and wrote
// asha_reference.h), fed one trial after the other with the same rungs, reduction factor,
// min_early_stopping_rate, bootstrap_count and direction, must be stopped at the same step, curve
// by curve.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "metadial/optim/pruner.h"
#include "optim/asha_reference.h"

namespace metadial::optim {
namespace {

using study::FrozenTrial;
using study::TrialState;

// The step each curve is stopped at (-1: completed), the pruner asked after every report but the
// last, as the study runner does.
std::vector<int> stopped_at(const testing::AshaReference& c) {
  const SuccessiveHalvingPruner pruner(SuccessiveHalvingOptions{.min_resource = c.min_resource,
                                                                .reduction_factor = c.reduction_factor,
                                                                .min_early_stopping_rate = c.min_early_stopping_rate,
                                                                .bootstrap_count = c.bootstrap_count});
  PrunerContext ctx;
  ctx.direction = c.maximize ? study::Direction::kMaximize : study::Direction::kMinimize;
  std::vector<FrozenTrial> trials;
  std::vector<int> out;
  for (const auto& curve : testing::asha_curves()) {
    FrozenTrial t;
    t.number = t.id = static_cast<int64_t>(trials.size());
    t.state = TrialState::kRunning;
    int stopped = -1;
    const auto last = static_cast<int64_t>(curve.size()) - 1;
    for (int64_t step = 0; step <= last; ++step) {
      t.intermediate[step] = curve[static_cast<size_t>(step)];
      if (step < last && pruner.should_prune(ctx, t, trials)) {
        stopped = static_cast<int>(step);
        break;
      }
    }
    t.state = stopped >= 0 ? TrialState::kPruned : TrialState::kComplete;
    if (stopped < 0) t.value = curve.back();
    out.push_back(stopped);
    trials.push_back(std::move(t));
  }
  return out;
}

class AshaAgainstOptuna : public ::testing::TestWithParam<testing::AshaReference> {};

TEST_P(AshaAgainstOptuna, StopsEveryCurveAtTheSameStepAsOptunasSuccessiveHalvingPruner) {
  const auto& ref = GetParam();
  const std::vector<int> ours = stopped_at(ref);
  ASSERT_EQ(ours.size(), ref.stopped_at.size());
  int pruned = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i], ref.stopped_at[i]) << ref.name << ": curve " << i;
    pruned += ours[i] >= 0;
  }
  EXPECT_GT(pruned, 0);
}

INSTANTIATE_TEST_SUITE_P(Optuna31, AshaAgainstOptuna, ::testing::ValuesIn(testing::asha_reference()),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace metadial::optim
