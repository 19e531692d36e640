#include "metadial/dialog/belief_tracker.h"

#include <gtest/gtest.h>

#include <vector>

#include "dialog/toy_domain.h"
#include "metadial/dialog/summary_actions.h"

namespace metadial::dialog {
namespace {

// Toy ids: slots 1 colour (red, green, blue), 2 size (small, large), 3 phone; requestable
// indices name 0, phone 1, colour 2, size 3. Entities: 0 red small, 1 red large, 2 green small,
// 3 blue small. A colour belief is [red, green, blue, dontcare, none].
constexpr int kColour = 1, kSize = 2, kPhone = 3;

UserActItem inform(int slot, int value) { return {UserActType::kInform, static_cast<int8_t>(slot), static_cast<int16_t>(value)}; }
UserActItem simple(UserActType t, int slot = -1) { return {t, static_cast<int8_t>(slot), static_cast<int16_t>(kNoValue)}; }

NBestList nbest(std::vector<std::pair<std::vector<UserActItem>, float>> hyps) {
  NBestList nb;
  for (const auto& [items, conf] : hyps) {
    Hypothesis& h = nb.hyps[static_cast<size_t>(nb.size++)];
    for (const auto& it : items) h.turn.push(it);
    h.confidence = conf;
  }
  return nb;
}

SystemAct act(SystemActType type, int slot = -1, int value = kNoValue) {
  SystemAct a;
  a.type = type;
  a.slot = static_cast<int8_t>(slot);
  a.value = static_cast<int16_t>(value);
  return a;
}

class TrackerTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Domain> domain_ = testing::toy_domain();
  BeliefTracker tracker_{*domain_, {}};
  BeliefState b_;
  void SetUp() override { tracker_.reset(b_); }
  void expect_slot(int i, std::vector<float> want) {
    const auto got = b_.slot(i);
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-6) << "slot " << i << " index " << k;
  }
};

TEST_F(TrackerTest, StartsWithEverythingUnmentioned) {
  expect_slot(0, {0, 0, 0, 0, 1});
  expect_slot(1, {0, 0, 0, 1});
  EXPECT_EQ(b_.top[0].value, kNoValue);
  EXPECT_EQ(b_.num_accepted, 0);
  EXPECT_EQ(b_.match_count, 4);
  EXPECT_EQ(b_.discriminating, 0b11U);
  EXPECT_FLOAT_EQ(b_.method[kMethodNone], 1.0F);
}

TEST_F(TrackerTest, FocusUpdateMatchesHandComputedBeliefs) {
  // Turn 1: inform(colour=red) 0.7, inform(colour=green) 0.2.
  tracker_.update(b_, nbest({{{inform(kColour, 0)}, 0.7F}, {{inform(kColour, 1)}, 0.2F}}), act(SystemActType::kHello));
  expect_slot(0, {0.7F, 0.2F, 0, 0, 0.1F});
  expect_slot(1, {0, 0, 0, 1});
  EXPECT_NEAR(b_.method[kMethodNone], 0.1F, 1e-6);
  EXPECT_NEAR(b_.method[kMethodByConstraints], 0.9F, 1e-6);
  EXPECT_EQ(b_.top[0].value, 0);
  EXPECT_EQ(b_.second[0].value, 1);
  EXPECT_EQ(b_.accepted[0], 0);  // 0.7 > 0.5
  EXPECT_EQ(b_.match_count, 2);  // the red ones
  EXPECT_EQ(b_.discriminating, 0b10U) << "the reds differ in size";

  // Turn 2: confirm(colour=red) answered affirm 0.6 / negate 0.3. The negate first moves 0.3 of
  // b(red) = 0.7 to none (red 0.49, none 0.31); then the affirm is an inform of red with 0.6:
  // b = 0.4 b + 0.6 [red] -> red 0.796, green 0.08, none 0.124.
  tracker_.update(b_, nbest({{{simple(UserActType::kAffirm)}, 0.6F}, {{simple(UserActType::kNegate)}, 0.3F}}),
                  act(SystemActType::kConfirm, kColour, 0));
  expect_slot(0, {0.796F, 0.08F, 0, 0, 0.124F});
  EXPECT_NEAR(b_.discourse[kDiscAffirm], 0.6F, 1e-6);
  EXPECT_NEAR(b_.discourse[kDiscNegate], 0.3F, 1e-6);

  // Turn 3: inform(size=large) 0.5, request(phone) 0.4.
  tracker_.update(b_, nbest({{{inform(kSize, 1)}, 0.5F}, {{simple(UserActType::kRequest, kPhone)}, 0.4F}}),
                  act(SystemActType::kRequest, kSize));
  expect_slot(1, {0, 0.5F, 0, 0.5F});
  EXPECT_EQ(b_.accepted[1], kNoValue) << "0.5 is not above the 0.5 threshold";
  EXPECT_NEAR(b_.requested[1], 0.4F, 1e-6);
  EXPECT_FLOAT_EQ(b_.discourse[kDiscAffirm], 0.0F) << "discourse acts are this turn's";

  // Turn 4: request(phone) 0.5: requested = 1 - (1 - 0.4)(1 - 0.5) = 0.7.
  tracker_.update(b_, nbest({{{simple(UserActType::kRequest, kPhone)}, 0.5F}}), act(SystemActType::kRequest, kSize));
  EXPECT_NEAR(b_.requested[1], 0.7F, 1e-6);
  expect_slot(1, {0, 0.5F, 0, 0.5F});
}

TEST_F(TrackerTest, SystemActsUpdateTheFeatures) {
  tracker_.update(b_, nbest({{{simple(UserActType::kRequest, kPhone)}, 1.0F}}), act(SystemActType::kHello));
  EXPECT_FLOAT_EQ(b_.requested[1], 1.0F);
  SystemAct offer = act(SystemActType::kOffer);
  offer.entity = 2;
  offer.informed = 1U << 1;
  tracker_.note_system_act(b_, offer, 7);
  EXPECT_EQ(b_.offered_entity, 2);
  EXPECT_TRUE(b_.offer_happened);
  EXPECT_TRUE(b_.offered_since_none.test(2));
  EXPECT_FLOAT_EQ(b_.requested[1], 0.0F) << "informed requests are cleared";
  EXPECT_EQ(b_.last_action, 7);
  tracker_.note_system_act(b_, act(SystemActType::kInformNone), 6);
  EXPECT_TRUE(b_.last_inform_none);
  EXPECT_FALSE(b_.offered_since_none.test(2));
  tracker_.note_system_act(b_, act(SystemActType::kRequest, kSize), 3);
  EXPECT_FALSE(b_.last_inform_none);
}

TEST_F(TrackerTest, ObservationLayout) {
  // 5 + 4 slot beliefs, 4 requested, 4 method, 4 discourse, 3 flags, 2 x 5 inform info.
  ASSERT_EQ(tracker_.observation_size(), 34);
  tracker_.update(b_, nbest({{{inform(kColour, 0)}, 1.0F}}), act(SystemActType::kHello));
  std::vector<float> obs(34);
  tracker_.observation(b_, obs);
  EXPECT_FLOAT_EQ(obs[0], 1.0F);   // b(colour = red)
  EXPECT_FLOAT_EQ(obs[4], 0.0F);   // b(colour = none)
  EXPECT_FLOAT_EQ(obs[8], 1.0F);   // b(size = none)
  EXPECT_FLOAT_EQ(obs[9 + 4 + 1], 1.0F);  // method: by constraints
  // Inform info for k = 1 (colour red): 2 matches -> bin "2..4", and size still splits them.
  const size_t info = 9 + 4 + 4 + 4 + 3;
  EXPECT_EQ(std::vector<float>(obs.begin() + static_cast<long>(info), obs.begin() + static_cast<long>(info) + 5),
            (std::vector<float>{0, 0, 1, 0, 1}));
  // k = 2 adds no size constraint (nothing known): still 2, nothing left to split by.
  EXPECT_EQ(std::vector<float>(obs.begin() + static_cast<long>(info) + 5, obs.end()), (std::vector<float>{0, 0, 1, 0, 0}));
}

TEST(BeliefTracker, RestaurantAndMovieObservationSizes) {
  auto restaurant = Domain::builtin("restaurant");
  auto movie = Domain::builtin("movie");
  // restaurant: (5+2)+(20+2)+(3+2) + 7 requested + 4 + 4 + 3 + 3 x 5 = 67
  EXPECT_EQ(BeliefTracker(*restaurant, {}).observation_size(), 67);
  // movie: (12+2)+(6+2)+(7+2)+(8+2)+(6+2) + 9 + 4 + 4 + 3 + 4 x 5 = 89
  EXPECT_EQ(BeliefTracker(*movie, {}).observation_size(), 89);
}

}  // namespace
}  // namespace metadial::dialog
