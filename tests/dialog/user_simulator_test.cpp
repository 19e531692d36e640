#include "metadial/dialog/user_simulator.h"

#include <gtest/gtest.h>

#include "dialog/toy_domain.h"
#include "metadial/core/error.h"
#include "metadial/dialog/domain.h"

namespace metadial::dialog {
namespace {

// Toy ids: slots 0 name, 1 colour, 2 size, 3 phone; informable indices colour 0, size 1;
// requestable indices name 0, phone 1, colour 2, size 3. Entities: 0 red small, 1 red large,
// 2 green small, 3 blue small.
constexpr int kColour = 1, kSize = 2, kPhone = 3;
constexpr int kRed = 0, kGreen = 1, kBlue = 2, kLarge = 1;

Goal make_goal(int colour, int size, uint32_t requests) {
  Goal g;
  g.constraints[0] = static_cast<int16_t>(colour);
  g.constraints[1] = static_cast<int16_t>(size);
  g.requests = requests;
  return g;
}

SystemAct act(SystemActType type, int slot = -1, int value = kNoValue) {
  SystemAct a;
  a.type = type;
  a.slot = static_cast<int8_t>(slot);
  a.value = static_cast<int16_t>(value);
  return a;
}

SystemAct offer(int entity, int colour = kNoValue, int size = kNoValue) {
  SystemAct a = act(SystemActType::kOffer);
  a.entity = entity;
  a.stated[0] = static_cast<int16_t>(colour);
  a.stated[1] = static_cast<int16_t>(size);
  return a;
}

UserActItem inform(int slot, int value) { return {UserActType::kInform, static_cast<int8_t>(slot), static_cast<int16_t>(value)}; }
UserActItem simple(UserActType t) { return {t, -1, static_cast<int16_t>(kNoValue)}; }

TEST(AgendaUser, AnswersRequestsConfirmsAndOffersAsItsGoalSays) {
  auto d = testing::toy_domain();
  AgendaUser user(*d, UserOptions::standard());
  Rng rng(1);
  user.start(make_goal(kRed, kLarge, 1U << 1 /* phone */), rng);

  const UserTurn open = user.respond(act(SystemActType::kHello), rng);
  ASSERT_GE(open.size, 1);
  for (int k = 0; k < open.size; ++k) {
    const auto& it = open.items[static_cast<size_t>(k)];
    EXPECT_EQ(it.type, UserActType::kInform);
    EXPECT_EQ(it.value, it.slot == kColour ? kRed : kLarge);
  }

  UserTurn t = user.respond(act(SystemActType::kRequest, kSize), rng);
  EXPECT_EQ(t.items[0], inform(kSize, kLarge));

  t = user.respond(act(SystemActType::kConfirm, kColour, kGreen), rng);
  ASSERT_GE(t.size, 2);
  EXPECT_EQ(t.items[0], simple(UserActType::kNegate));
  EXPECT_EQ(t.items[1], inform(kColour, kRed));

  t = user.respond(act(SystemActType::kConfirm, kColour, kRed), rng);
  EXPECT_EQ(t.items[0], simple(UserActType::kAffirm));
  EXPECT_EQ(user.failures(), 0);

  // Entity 0 is red but small: rejected, with the right size; counts as a failure.
  t = user.respond(offer(0, kRed), rng);
  ASSERT_EQ(t.size, 2);
  EXPECT_EQ(t.items[0], simple(UserActType::kNegate));
  EXPECT_EQ(t.items[1], inform(kSize, kLarge));
  EXPECT_EQ(user.failures(), 1);
  EXPECT_EQ(user.accepted_entity(), -1);

  // Entity 1 is red and large: accepted; the user goes on to its request.
  t = user.respond(offer(1, kRed, kLarge), rng);
  EXPECT_EQ(user.accepted_entity(), 1);
  ASSERT_EQ(t.size, 1);
  EXPECT_EQ(t.items[0], (UserActItem{UserActType::kRequest, kPhone, static_cast<int16_t>(kNoValue)}));
  EXPECT_FALSE(user.success());

  SystemAct answer = act(SystemActType::kInformRequested);
  answer.entity = 1;
  answer.informed = 1U << 1;
  t = user.respond(answer, rng);
  ASSERT_EQ(t.size, 1);
  EXPECT_EQ(t.items[0], simple(UserActType::kBye));
  EXPECT_TRUE(user.finished());
  EXPECT_FALSE(user.hung_up());
  EXPECT_TRUE(user.success());
}

TEST(AgendaUser, UnconstrainedSlotsAreDontcare) {
  auto d = testing::toy_domain();
  AgendaUser user(*d, UserOptions::standard());
  Rng rng(2);
  user.start(make_goal(kBlue, kDontcare, 1U << 1), rng);
  const UserTurn open = user.respond(act(SystemActType::kHello), rng);
  ASSERT_EQ(open.size, 1);  // only the colour is constrained
  EXPECT_EQ(open.items[0], inform(kColour, kBlue));
  UserTurn t = user.respond(act(SystemActType::kRequest, kSize), rng);
  EXPECT_EQ(t.items[0], inform(kSize, kDontcare));
  t = user.respond(act(SystemActType::kConfirm, kSize, kLarge), rng);
  EXPECT_EQ(t.items[0], simple(UserActType::kAffirm));  // any size will do
}

TEST(AgendaUser, TruthfulNoneMakesTheUserRelaxAConstraint) {
  auto d = testing::toy_domain();
  AgendaUser user(*d, UserOptions::standard());
  Rng rng(3);
  user.start(make_goal(kGreen, kLarge, 1U << 1), rng);  // no green large entity
  user.respond(act(SystemActType::kHello), rng);
  SystemAct none = act(SystemActType::kInformNone);
  none.stated[0] = kGreen;
  none.stated[1] = kLarge;
  const UserTurn t = user.respond(none, rng);
  ASSERT_EQ(t.size, 1);
  EXPECT_EQ(t.items[0].type, UserActType::kInform);
  EXPECT_EQ(t.items[0].value, kDontcare);
  EXPECT_EQ(user.relaxations(), 1);
  EXPECT_EQ(user.failures(), 0);
  const int relaxed = t.items[0].slot == kColour ? 0 : 1;
  EXPECT_EQ(user.goal().constraints[static_cast<size_t>(relaxed)], kDontcare);
  EXPECT_EQ(user.goal().num_constraints(), 1);
}

TEST(AgendaUser, WrongNoneIsCorrected) {
  auto d = testing::toy_domain();
  AgendaUser user(*d, UserOptions::standard());
  Rng rng(4);
  user.start(make_goal(kGreen, kLarge, 0), rng);
  user.respond(act(SystemActType::kHello), rng);
  SystemAct none = act(SystemActType::kInformNone);
  none.stated[0] = kBlue;  // misheard colour
  const UserTurn t = user.respond(none, rng);
  ASSERT_EQ(t.size, 2);
  EXPECT_EQ(t.items[0], simple(UserActType::kNegate));
  EXPECT_EQ(t.items[1], inform(kColour, kGreen));
  EXPECT_EQ(user.failures(), 1);
  EXPECT_EQ(user.relaxations(), 0);
}

TEST(AgendaUser, HangsUpWhenTheSystemRepeatsItselfPatienceTimes) {
  auto d = testing::toy_domain();
  UserOptions opts = UserOptions::standard();
  opts.patience = opts.patience_max = 3;
  AgendaUser user(*d, opts);
  Rng rng(5);
  user.start(make_goal(kRed, kLarge, 1U << 1), rng);
  user.respond(act(SystemActType::kHello), rng);
  int turns = 0;
  UserTurn t;
  while (!user.finished() && turns < 20) {
    t = user.respond(act(SystemActType::kRequest, kColour), rng);
    ++turns;
  }
  EXPECT_EQ(turns, 4);  // the first request is fair; three repeats exhaust a patience of 3
  EXPECT_TRUE(user.hung_up());
  EXPECT_EQ(t.items[0], simple(UserActType::kBye));
  EXPECT_FALSE(user.success());
}

TEST(AgendaUser, UnfriendlyUserVolunteersLess) {
  auto d = Domain::builtin("restaurant");  // slots: 1 area, 2 food, 3 pricerange
  AgendaUser standard(*d, UserOptions::standard());
  AgendaUser unfriendly(*d, UserOptions::unfriendly());
  Rng rng(6);
  Goal g;
  g.constraints[0] = 0;  // three constraints
  g.constraints[1] = 3;
  g.constraints[2] = 1;
  g.requests = 1U << 2;
  double open_standard = 0, open_unfriendly = 0, answer_standard = 0, answer_unfriendly = 0;
  const int n = 2000;
  for (int k = 0; k < n; ++k) {
    // Opening turn: the first constraint, then each further one with probability 0.7
    // (standard, expected 1 + 0.7 + 0.49 = 2.19 items) or none (unfriendly).
    standard.start(g, rng);
    unfriendly.start(g, rng);
    const UserTurn a = standard.respond(act(SystemActType::kHello), rng);
    const UserTurn b = unfriendly.respond(act(SystemActType::kHello), rng);
    EXPECT_EQ(b.size, 1);
    open_standard += a.size;
    open_unfriendly += b.size;
    // Asked first for the area: the answer, then each further pending constraint with
    // probability 0.3 (standard, expected 1 + 0.3 + 0.09 = 1.39 items) or none (unfriendly).
    standard.start(g, rng);
    unfriendly.start(g, rng);
    answer_standard += standard.respond(act(SystemActType::kRequest, 1), rng).size;
    answer_unfriendly += unfriendly.respond(act(SystemActType::kRequest, 1), rng).size;
  }
  EXPECT_DOUBLE_EQ(open_unfriendly / n, 1.0);
  EXPECT_NEAR(open_standard / n, 2.19, 0.05);
  EXPECT_DOUBLE_EQ(answer_unfriendly / n, 1.0);
  EXPECT_NEAR(answer_standard / n, 1.39, 0.04);
}

TEST(AgendaUser, RejectsBadOptions) {
  UserOptions o;
  o.patience = 0;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = UserOptions::standard();
  o.volunteer_prob = 1.5;
  EXPECT_THROW(o.validate(), InvalidArgument);
  EXPECT_THROW(UserOptions::from_name("grumpy"), InvalidArgument);
  EXPECT_EQ(UserOptions::from_name("unfriendly").patience, 2);
}

}  // namespace
}  // namespace metadial::dialog
