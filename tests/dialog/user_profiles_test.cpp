#include "metadial/dialog/user_profiles.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dialog/toy_domain.h"
#include "metadial/core/error.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/summary_actions.h"
#include "metadial/dialog/user_simulator.h"

namespace metadial::dialog {
namespace {

using ::testing::HasSubstr;

// Toy ids (toy_domain.h): slots 1 colour, 2 size; informable indices colour 0, size 1.
constexpr int kColour = 1, kSize = 2;

SystemAct act(SystemActType type, int slot = -1) {
  SystemAct a;
  a.type = type;
  a.slot = static_cast<int8_t>(slot);
  return a;
}

Goal goal(int colour, int size) {
  Goal g;
  g.constraints[0] = static_cast<int16_t>(colour);
  g.constraints[1] = static_cast<int16_t>(size);
  return g;
}

UserOptions only(UserProfile p) {
  p.name = p.name.empty() ? "p" : p.name;
  p.share = 1.0;
  UserOptions o;
  o.profiles = {p};
  return o;
}

std::string error_of(const std::string& toml) {
  try {
    (void)parse_user_profiles(toml, "users.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(UserProfiles, TheExampleFileIsTheBuiltInMix) {
  const UserOptions file = load_user_profiles(std::string(METADIAL_SOURCE_DIR) + "/examples/user_profiles.toml");
  const UserOptions builtin = UserOptions::simm();
  ASSERT_EQ(file.profiles.size(), builtin.profiles.size());
  double sum = 0.0;
  for (size_t k = 0; k < file.profiles.size(); ++k) {
    const UserProfile& a = file.profiles[k];
    const UserProfile& b = builtin.profiles[k];
    EXPECT_EQ(a.name, b.name);
    EXPECT_DOUBLE_EQ(a.share, b.share) << a.name;
    EXPECT_EQ(a.volunteer, b.volunteer) << a.name;
    EXPECT_EQ(a.answer_only_asked, b.answer_only_asked) << a.name;
    EXPECT_DOUBLE_EQ(a.change_prob, b.change_prob) << a.name;
    if (!a.answer_only_asked) {
      EXPECT_DOUBLE_EQ(a.extra_prob, b.extra_prob) << a.name;
    }
    EXPECT_EQ(a.patience, b.patience) << a.name;
    EXPECT_EQ(a.patience_max, b.patience_max) << a.name;
    sum += a.share;
  }
  EXPECT_NEAR(sum, 1.0, 1e-9);
  EXPECT_NO_THROW(builtin.validate());
  EXPECT_EQ(UserOptions::from_name("simm").profiles.size(), builtin.profiles.size());
}

TEST(UserProfiles, ParsesEveryField) {
  const UserOptions o = parse_user_profiles(
      "[mix]\na = 0.25\nb = 0.75\n[profile.a]\nvolunteer = \"all\"\nextra_prob = 0.4\npatience = 2\npatience_max = 3\n"
      "[profile.b]\nvolunteer = 0\nanswer_only_asked = true\nchange_prob = 1\n",
      "users.toml");
  ASSERT_EQ(o.profiles.size(), 2U);
  EXPECT_EQ(o.profiles[0].name, "a");
  EXPECT_EQ(o.profiles[0].volunteer, UserProfile::kAll);
  EXPECT_DOUBLE_EQ(o.profiles[0].extra_prob, 0.4);
  EXPECT_EQ(o.profiles[0].patience, 2);
  EXPECT_EQ(o.profiles[0].patience_max, 3);
  EXPECT_DOUBLE_EQ(o.profiles[1].share, 0.75);
  EXPECT_EQ(o.profiles[1].volunteer, 0);
  EXPECT_TRUE(o.profiles[1].answer_only_asked);
  EXPECT_DOUBLE_EQ(o.profiles[1].change_prob, 1.0);
}

TEST(UserProfiles, BadInputIsOneLineNamingFileLineAndKey) {
  // Shares that do not sum to 1: the line of the last share, every share named.
  std::string e = error_of("[mix]\na = 0.5\nb = 0.4\n[profile.a]\n[profile.b]\n");
  EXPECT_THAT(e, HasSubstr("users.toml:3:"));
  EXPECT_THAT(e, HasSubstr("[mix] shares sum to 0.9"));
  EXPECT_THAT(e, HasSubstr("a 0.5 + b 0.4"));
  EXPECT_EQ(e.find('\n'), std::string::npos);
  // An unknown profile field.
  e = error_of("[mix]\na = 1.0\n[profile.a]\nvolunter = 2\n");
  EXPECT_THAT(e, HasSubstr("users.toml:4:"));
  EXPECT_THAT(e, HasSubstr("unknown key 'volunter' in [profile.a]"));
  EXPECT_THAT(e, HasSubstr("volunteer"));
  // A probability outside [0, 1], in a profile and in the mix.
  e = error_of("[mix]\na = 1.0\n[profile.a]\nvolunteer = 1\nchange_prob = 1.5\n");
  EXPECT_THAT(e, HasSubstr("users.toml:5:"));
  EXPECT_THAT(e, HasSubstr("[profile.a] change_prob must be a probability in [0, 1] (got 1.5)"));
  e = error_of("[mix]\na = -0.5\nb = 1.5\n[profile.a]\n[profile.b]\n");
  EXPECT_THAT(e, HasSubstr("users.toml:2: [mix] a must be a probability"));
  // A wrong type, a bad volunteer, a profile without a table, an unknown top-level table.
  EXPECT_THAT(error_of("[mix]\na = 1.0\n[profile.a]\nanswer_only_asked = 1\n"),
              HasSubstr("users.toml:4: [profile.a] answer_only_asked must be a boolean"));
  EXPECT_THAT(error_of("[mix]\na = 1.0\n[profile.a]\nvolunteer = \"some\"\n"),
              HasSubstr("users.toml:4: [profile.a] volunteer must be \"all\" or a number"));
  EXPECT_THAT(error_of("[mix]\na = 1.0\n"), HasSubstr("users.toml:2: [mix] a names no profile"));
  EXPECT_THAT(error_of("[mixes]\na = 1.0\n"), HasSubstr("users.toml:1: unknown key 'mixes'"));
  EXPECT_THAT(error_of("[mix]\na = 1.0\n[profile.a]\npatience = 5\npatience_max = 3\n"),
              HasSubstr("users.toml:5: [profile.a] patience_max needs patience <= patience_max"));
  // In the API: InvalidArgument.
  UserOptions o = only(UserProfile{});
  o.profiles[0].share = 0.5;
  EXPECT_THROW(o.validate(), InvalidArgument);
}

TEST(UserProfiles, TheMixIsDrawnByShare) {
  auto d = testing::toy_domain();
  UserOptions o;
  UserProfile a, b;
  a.name = "a";
  a.share = 0.3;
  b.name = "b";
  b.share = 0.7;
  o.profiles = {a, b};
  AgendaUser user(*d, o);
  Rng rng(5);
  int count_a = 0;
  for (int k = 0; k < 4000; ++k) {
    user.start(goal(0, 1), rng);
    count_a += user.profile() == 0 ? 1 : 0;
  }
  EXPECT_NEAR(count_a / 4000.0, 0.3, 0.03);
  // Without profiles: no profile.
  AgendaUser plain(*d, UserOptions::standard());
  plain.start(goal(0, 1), rng);
  EXPECT_EQ(plain.profile(), -1);
}

TEST(UserProfiles, VolunteerAndAnswerOnlyWhatIsAsked) {
  auto d = testing::toy_domain();
  Rng rng(3);
  {  // Volunteers nothing: the opening is the intent only; answers say the asked slot only.
    UserProfile p;
    p.volunteer = 0;
    p.answer_only_asked = true;
    AgendaUser user(*d, only(p));
    for (int k = 0; k < 20; ++k) {
      user.start(goal(0, 1), rng);
      const UserTurn open = user.respond(act(SystemActType::kHello), rng);
      ASSERT_EQ(open.size, 1);
      EXPECT_EQ(open.items[0].type, UserActType::kHello);
      const UserTurn t = user.respond(act(SystemActType::kRequest, kSize), rng);
      ASSERT_EQ(t.size, 1);
      EXPECT_EQ(t.items[0].slot, kSize);
      EXPECT_EQ(t.items[0].value, 1);
      // With the initiative (reqmore), one constraint at a time: the colour.
      const UserTurn r = user.respond(act(SystemActType::kReqmore), rng);
      ASSERT_EQ(r.size, 1);
      EXPECT_EQ(r.items[0].slot, kColour);
    }
  }
  {  // Volunteers all: the whole goal in the opening turn.
    UserProfile p;
    p.volunteer = UserProfile::kAll;
    AgendaUser user(*d, only(p));
    user.start(goal(2, 0), rng);
    const UserTurn open = user.respond(act(SystemActType::kHello), rng);
    EXPECT_EQ(open.size, 2);
  }
  {  // Volunteers one; adds every pending constraint to an answer (extra_prob 1).
    UserProfile p;
    p.volunteer = 1;
    p.extra_prob = 1.0;
    AgendaUser user(*d, only(p));
    user.start(goal(2, 0), rng);
    const UserTurn open = user.respond(act(SystemActType::kHello), rng);
    ASSERT_EQ(open.size, 1);
    // Asked again about the slot it stated: that answer, then the pending one.
    const UserTurn t = user.respond(act(SystemActType::kRequest, open.items[0].slot), rng);
    ASSERT_EQ(t.size, 2);
    EXPECT_EQ(t.items[0].slot, open.items[0].slot);
    EXPECT_NE(t.items[1].slot, open.items[0].slot);
  }
}

TEST(UserProfiles, AChangeOfMindKeepsAMatchingEntityAndIsSaid) {
  auto d = testing::toy_domain();
  UserProfile p;
  p.volunteer = UserProfile::kAll;
  p.change_prob = 1.0;
  AgendaUser user(*d, only(p));
  Rng rng(11);
  for (int k = 0; k < 50; ++k) {
    const Goal g = goal(0, 0);  // red small: entity 0
    user.start(g, rng);
    (void)user.respond(act(SystemActType::kHello), rng);  // turn 1: states both
    // Asked about the colour at turns 2, 3, 4: the change comes at one of them, on the size (the
    // slot stated before and not said in that turn), to the only other size red comes in.
    bool said = false;
    for (int t = 2; t <= 4; ++t) {
      const UserTurn u = user.respond(act(SystemActType::kRequest, kColour), rng);
      ASSERT_FALSE(u.has(UserActType::kBye));
      for (int i = 0; i < u.size; ++i) {
        const auto& it = u.items[static_cast<size_t>(i)];
        if (it.type == UserActType::kInform && it.slot == kSize && it.value == 1) said = true;
      }
    }
    ASSERT_EQ(user.changes(), 1);
    EXPECT_TRUE(said);
    EXPECT_EQ(user.goal().constraints[0], 0);  // red
    EXPECT_EQ(user.goal().constraints[1], 1);  // large: entity 1 matches
  }
  // change_prob 0: never.
  UserProfile q;
  q.volunteer = UserProfile::kAll;
  AgendaUser steady(*d, only(q));
  steady.start(goal(0, 0), rng);
  (void)steady.respond(act(SystemActType::kHello), rng);
  for (int t = 2; t <= 4; ++t) (void)steady.respond(act(SystemActType::kRequest, kColour), rng);
  EXPECT_EQ(steady.changes(), 0);
  EXPECT_EQ(steady.goal(), goal(0, 0));
}

TEST(UserProfiles, TheDefaultCorpusIsNearSimM) {
  // sim-M train: 5.14 turns per dialogue, 1.04 slot mentions per user turn; the standard user
  // with the same goals gives 3.9 turns (bench/results/user_profiles_simm.md).
  auto domain = Domain::builtin("movie");
  CorpusOptions co;
  co.num_train = 400;
  co.num_dev = 0;
  co.num_test = 0;
  co.seed = 1;
  auto run = [&](const UserOptions& user) {
    co.user = user;
    CorpusGenerator gen(domain, co, [](const DialogueEnv& env, bool) {
      // A small expert: ask each unknown slot in order, then offer.
      const auto& b = env.belief();
      const auto& o = env.domain().ontology();
      for (int i : o.system_requestable()) {
        if (b.top[static_cast<size_t>(i)].prob < 0.5F) return env.domain().actions().index(SummaryKind::kRequest, i);
      }
      return env.domain().actions().index(SummaryKind::kInform);
    });
    double turns = 0.0, slots = 0.0;
    for (const auto& dlg : gen.generate_split(0, co.num_train)) {
      turns += static_cast<double>(dlg.turns.size());
      for (const auto& t : dlg.turns) slots += static_cast<double>(t.user_utterance.slots.size());
    }
    return std::pair<double, double>{turns / co.num_train, slots / turns};
  };
  const auto [mix_turns, mix_slots] = run(CorpusOptions{}.user);
  const auto [std_turns, std_slots] = run(UserOptions::standard());
  EXPECT_GT(mix_turns, std_turns + 0.5);
  EXPECT_LT(mix_slots, std_slots);
  EXPECT_GT(mix_turns, 4.5);
  EXPECT_LT(mix_turns, 6.5);
  EXPECT_GT(mix_slots, 0.8);
}

}  // namespace
}  // namespace metadial::dialog
