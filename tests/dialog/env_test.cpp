#include "metadial/dialog/env.h"

#include <gtest/gtest.h>

#include <string>

#include "dialog/toy_domain.h"
#include "metadial/core/error.h"
#include "metadial/dialog/render.h"

namespace metadial::dialog {
namespace {

// Plays `actions` in a loop until the dialogue ends; returns the transcript.
std::string play(DialogueEnv& env, uint64_t seed, const std::vector<int>& actions) {
  env.reset(seed);
  std::string out = render_goal(env.domain(), env.goal()) + "\n" + render_last_turn(env);
  for (size_t k = 0; !env.done(); ++k) {
    env.step(actions[k % actions.size()]);
    out += render_last_turn(env);
  }
  return out;
}

TEST(EnvPresets, MatchPyDialsBenchmark) {
  struct Want {
    const char* name;
    double error;
    bool masks;
    int patience;
  };
  for (const Want& w : {Want{"env1", 0.0, true, 4}, Want{"env2", 0.0, false, 4}, Want{"env3", 0.15, true, 4},
                        Want{"env4", 0.15, false, 4}, Want{"env5", 0.15, true, 2}, Want{"env6", 0.30, true, 4}}) {
    const EnvOptions o = env_preset(w.name);
    EXPECT_EQ(o.name, w.name);
    EXPECT_DOUBLE_EQ(o.error_rate, w.error);
    EXPECT_EQ(o.action_masks, w.masks);
    EXPECT_EQ(o.user.patience, w.patience);
    EXPECT_EQ(o.max_turns, 25);
    EXPECT_DOUBLE_EQ(o.success_reward, 20.0);
    EXPECT_EQ(o.nbest_size, 5);
  }
  try {
    env_preset("env7");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("env7"), std::string::npos);
  }
  EXPECT_EQ(env_preset_names().size(), 6u);
}

TEST(DialogueEnv, SameSeedSameDialogueOtherSeedOtherDialogue) {
  auto d = Domain::builtin("restaurant");
  DialogueEnv a(d, env_preset("env6")), b(d, env_preset("env6"));
  const std::vector<int> script = {0, 3, 6, 1, 9, 10, 13, 12};
  const std::string x = play(a, 42, script);
  EXPECT_EQ(x, play(b, 42, script));
  EXPECT_EQ(x, play(a, 42, script)) << "reset fully restarts the environment";
  EXPECT_NE(x, play(a, 43, script));
}

TEST(DialogueEnv, RewardIsTwentyTimesSuccessMinusTurns) {
  auto d = Domain::builtin("restaurant");
  DialogueEnv env(d, env_preset("env3"));
  const std::vector<int> script = {0, 3, 6, 9, 10, 4, 7, 1};
  for (uint64_t seed = 0; seed < 50; ++seed) {
    env.reset(seed);
    double total = 0.0;
    for (size_t k = 0; !env.done(); ++k) {
      const StepResult r = env.step(script[k % script.size()]);
      EXPECT_EQ(r.observation.size(), 67u);
      total += r.reward;
      if (!r.done) {
        EXPECT_DOUBLE_EQ(r.reward, -1.0);
      }
    }
    EXPECT_DOUBLE_EQ(total, 20.0 * (env.success() ? 1 : 0) - env.turn());
    EXPECT_DOUBLE_EQ(total, env.total_reward());
    EXPECT_LE(env.turn(), 25);
  }
}

TEST(DialogueEnv, EndsAfterTwentyFiveTurns) {
  // Asking the three slots in turn never repeats an act, so the user keeps answering.
  auto d = Domain::builtin("restaurant");
  DialogueEnv env(d, env_preset("env1"));
  const int area = d->actions().index("request_area"), food = d->actions().index("request_food"),
            price = d->actions().index("request_pricerange");
  play(env, 7, {area, food, price});
  EXPECT_EQ(env.turn(), 25);
  EXPECT_FALSE(env.success());
  EXPECT_DOUBLE_EQ(env.total_reward(), -25.0);
  EXPECT_THROW(env.step(area), InvalidArgument);
}

TEST(DialogueEnv, PatientUserHangsUpOnARepeatingSystem) {
  auto d = Domain::builtin("restaurant");
  for (const char* preset : {"env1", "env5"}) {
    DialogueEnv env(d, env_preset(preset));
    for (uint64_t seed = 0; seed < 20; ++seed) {
      play(env, seed, {d->actions().index("request_food")});
      EXPECT_TRUE(env.user().hung_up());
      EXPECT_EQ(env.turn(), env.user().patience() + 1) << preset;
      EXPECT_FALSE(env.success());
    }
  }
}

TEST(DialogueEnv, MasksAreExposedOnlyWhenOn) {
  auto d = Domain::builtin("restaurant");
  DialogueEnv on(d, env_preset("env1")), off(d, env_preset("env2"));
  on.reset(1);
  off.reset(1);
  int masked_on = 0, masked_off = 0;
  for (uint8_t m : on.action_mask()) masked_on += m ? 0 : 1;
  for (uint8_t m : off.action_mask()) masked_off += m ? 0 : 1;
  EXPECT_GT(masked_on, 0);
  EXPECT_EQ(masked_off, 0);
  EXPECT_EQ(std::vector<uint8_t>(on.executable_mask().begin(), on.executable_mask().end()),
            std::vector<uint8_t>(off.executable_mask().begin(), off.executable_mask().end()));
  EXPECT_THROW(on.step(-1), InvalidArgument);
  EXPECT_THROW(on.step(on.num_actions()), InvalidArgument);
}

TEST(DialogueEnv, RenderedTurnShowsUserActNBestBeliefAndReward) {
  auto d = Domain::builtin("restaurant");
  DialogueEnv env(d, env_preset("env3"));
  env.reset(5);
  env.step(d->actions().index("request_area"));
  const std::string s = render_last_turn(env);
  for (const char* want : {"turn  1", "request_area", "request(area)", "user:", "heard:", "inform(area=", "belief:",
                           "food", "requested", "database", "reward: -1"}) {
    EXPECT_NE(s.find(want), std::string::npos) << want << "\n" << s;
  }
}

TEST(DialogueEnv, RejectsBadOptions) {
  auto d = Domain::builtin("restaurant");
  EnvOptions o = env_preset("env1");
  o.error_rate = 1.0;
  EXPECT_THROW(DialogueEnv(d, o), InvalidArgument);
  o = env_preset("env1");
  o.max_turns = 0;
  EXPECT_THROW(DialogueEnv(d, o), InvalidArgument);
  EXPECT_THROW(DialogueEnv(nullptr, env_preset("env1")), InvalidArgument);
}

}  // namespace
}  // namespace metadial::dialog
