#include "metadial/dialog/summary_actions.h"

#include <gtest/gtest.h>

#include <vector>

#include "dialog/toy_domain.h"
#include "metadial/core/error.h"
#include "metadial/dialog/belief_tracker.h"

namespace metadial::dialog {
namespace {

constexpr int kColour = 1, kSize = 2;

NBestList heard(std::vector<UserActItem> items, float conf = 1.0F) {
  NBestList nb;
  for (const auto& it : items) nb.hyps[0].turn.push(it);
  nb.hyps[0].confidence = conf;
  nb.size = 1;
  return nb;
}
UserActItem inform(int slot, int value) { return {UserActType::kInform, static_cast<int8_t>(slot), static_cast<int16_t>(value)}; }

class SummaryTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Domain> d_ = testing::toy_domain();
  const SummaryActionSet& acts_ = d_->actions();
  BeliefTracker tracker_{*d_, {}};
  BeliefState b_;
  void SetUp() override { tracker_.reset(b_); }
  std::vector<uint8_t> mask() {
    std::vector<uint8_t> m(static_cast<size_t>(acts_.size()));
    acts_.mask(b_, m);
    return m;
  }
  int a(const char* name) { return acts_.index(name); }
};

TEST_F(SummaryTest, NamesFollowPyDialsOrder) {
  ASSERT_EQ(acts_.size(), 11);
  const char* names[] = {"request_colour", "confirm_colour", "select_colour", "request_size", "confirm_size",
                         "select_size", "inform", "inform_byname", "inform_alternatives", "bye", "reqmore"};
  for (int k = 0; k < 11; ++k) EXPECT_EQ(acts_.name(k), names[k]);
  EXPECT_THROW(acts_.index("repeat"), InvalidArgument);
  EXPECT_EQ(Domain::builtin("restaurant")->actions().size(), 14);
  EXPECT_EQ(Domain::builtin("movie")->actions().size(), 20);
}

TEST_F(SummaryTest, MasksAtTheStartAllowOnlyRequests) {
  EXPECT_EQ(mask(), (std::vector<uint8_t>{1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(SummaryTest, MappingAndMasksFollowTheBelief) {
  NBestList nb;
  nb.size = 2;
  nb.hyps[0].turn.push(inform(kColour, 0));
  nb.hyps[0].confidence = 0.7F;
  nb.hyps[1].turn.push(inform(kColour, 1));
  nb.hyps[1].confidence = 0.2F;
  tracker_.update(b_, nb, SystemAct{});
  // colour: red 0.7, green 0.2. Size still splits the reds: inform stays masked.
  EXPECT_EQ(mask(), (std::vector<uint8_t>{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}));
  SystemAct c = acts_.to_master(a("confirm_colour"), b_);
  EXPECT_EQ(c.type, SystemActType::kConfirm);
  EXPECT_EQ(c.slot, kColour);
  EXPECT_EQ(c.value, 0);
  SystemAct s = acts_.to_master(a("select_colour"), b_);
  EXPECT_EQ(s.type, SystemActType::kSelect);
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.value2, 1);
  // Masked mappings fall back: confirm / select of an empty slot ask for it.
  EXPECT_EQ(acts_.to_master(a("confirm_size"), b_).type, SystemActType::kRequest);
  EXPECT_EQ(acts_.to_master(a("select_size"), b_).type, SystemActType::kRequest);
  // Unmasked anyway, inform offers the lowest-id red entity, stating colour only.
  SystemAct o = acts_.to_master(a("inform"), b_);
  EXPECT_EQ(o.type, SystemActType::kOffer);
  EXPECT_EQ(o.entity, 0);
  EXPECT_EQ(o.stated[0], 0);
  EXPECT_EQ(o.stated[1], kNoValue);

  tracker_.update(b_, heard({inform(kSize, 1)}), SystemAct{});
  EXPECT_EQ(mask()[static_cast<size_t>(a("inform"))], 1);
  o = acts_.to_master(a("inform"), b_);
  EXPECT_EQ(o.entity, 1);  // red large
  EXPECT_EQ(o.stated[1], 1);
  tracker_.note_system_act(b_, o, a("inform"));
  const auto m = mask();
  EXPECT_EQ(m[static_cast<size_t>(a("inform_byname"))], 1);
  EXPECT_EQ(m[static_cast<size_t>(a("reqmore"))], 1);
  EXPECT_EQ(m[static_cast<size_t>(a("inform_alternatives"))], 0) << "the user did not ask for alternatives";
  EXPECT_EQ(m[static_cast<size_t>(a("bye"))], 0) << "the user is not finished";
}

TEST_F(SummaryTest, NoMatchGivesInformNoneAndAlternativesSkipOfferedEntities) {
  tracker_.update(b_, heard({inform(kColour, 1), inform(kSize, 1)}), SystemAct{});  // green large: none
  EXPECT_EQ(b_.match_count, 0);
  EXPECT_EQ(mask()[static_cast<size_t>(a("inform"))], 1);
  SystemAct none = acts_.to_master(a("inform"), b_);
  EXPECT_EQ(none.type, SystemActType::kInformNone);
  EXPECT_EQ(none.stated[0], 1);
  EXPECT_EQ(none.stated[1], 1);

  tracker_.reset(b_);
  tracker_.update(b_, heard({inform(kSize, 0)}), SystemAct{});  // small: entities 0, 2, 3
  SystemAct first = acts_.to_master(a("inform"), b_);
  EXPECT_EQ(first.entity, 0);
  tracker_.note_system_act(b_, first, a("inform"));
  EXPECT_EQ(acts_.to_master(a("inform"), b_).entity, 0) << "inform re-offers the entity if it still matches";
  SystemAct alt = acts_.to_master(a("inform_alternatives"), b_);
  EXPECT_EQ(alt.entity, 2);
  tracker_.note_system_act(b_, alt, a("inform_alternatives"));
  EXPECT_EQ(acts_.to_master(a("inform_alternatives"), b_).entity, 3);
}

TEST_F(SummaryTest, InformByNameAnswersRequestedSlots) {
  tracker_.update(b_, heard({inform(kColour, 2), {UserActType::kRequest, 3, static_cast<int16_t>(kNoValue)}}), SystemAct{});
  // Nothing offered yet: inform_byname offers (blue: entity 3) with the requested phone.
  SystemAct x = acts_.to_master(a("inform_byname"), b_);
  EXPECT_EQ(x.type, SystemActType::kOffer);
  EXPECT_EQ(x.entity, 3);
  EXPECT_EQ(x.informed, 1U << 1);
  tracker_.note_system_act(b_, x, a("inform_byname"));
  tracker_.update(b_, heard({{UserActType::kRequest, kColour, static_cast<int16_t>(kNoValue)}}), SystemAct{});
  SystemAct y = acts_.to_master(a("inform_byname"), b_);
  EXPECT_EQ(y.type, SystemActType::kInformRequested);
  EXPECT_EQ(y.entity, 3);
  EXPECT_EQ(y.informed, 1U << 2);  // colour
}

}  // namespace
}  // namespace metadial::dialog
