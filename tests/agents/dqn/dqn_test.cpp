#include "metadial/agents/dqn/dqn_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "dialog/toy_domain.h"
#include "metadial/core/error.h"

namespace metadial::agents::dqn {
namespace {

using ::testing::HasSubstr;

// A model file path in the temp directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& stem) {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             (stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".pt"))
                .string();
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "<no DataError>";
}

// Options for the small known-answer problems: every transition is in the buffer and every
// minibatch is the whole buffer, so learning is plain fitted Q-iteration.
DqnOptions small_options(int transitions) {
  DqnOptions o;
  o.h1 = 32;
  o.h2 = 32;
  o.batch_size = transitions;
  o.replay_capacity = transitions;
  o.learn_start = 0;
  o.reward_scale = 1.0;
  o.lr = 3e-3;
  o.tau = 0.1;
  o.gamma = 0.9;
  return o;
}

// ---- Options ----

TEST(DqnOptions, DefaultsArePyDialBenchmarkSettings) {
  const DqnOptions o;
  EXPECT_EQ(o.h1, 300);
  EXPECT_EQ(o.h2, 100);
  EXPECT_DOUBLE_EQ(o.epsilon, 0.3);
  EXPECT_DOUBLE_EQ(o.gamma, 0.99);
  EXPECT_DOUBLE_EQ(o.lr, 1e-3);
  EXPECT_EQ(o.batch_size, 64);
  EXPECT_EQ(o.replay_capacity, 6000);
  EXPECT_DOUBLE_EQ(o.tau, 0.02);
  EXPECT_EQ(o.train_frequency, 2);
  EXPECT_NO_THROW(o.validate());
}

TEST(DqnOptions, SetRejectsAnUnknownNameListingTheKnownOnes) {
  DqnOptions o;
  try {
    o.set("hidden1", 10.0);
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown DQN hyperparameter 'hidden1'"));
    EXPECT_THAT(e.what(), HasSubstr("h1, h2, epsilon,"));
  }
  EXPECT_THROW(o.get("nope"), InvalidArgument);
  EXPECT_FALSE(DqnOptions::has("nope"));
  EXPECT_TRUE(DqnOptions::has("tau"));
  EXPECT_EQ(DqnOptions::names().size(), 16U);
}

TEST(DqnOptions, SetParsesNumbersChecksTypesAndRangesAndLeavesTheValueOnError) {
  DqnOptions o;
  o.set("h1", "128").set("lr", std::string_view("1e-4")).set("double_q", "true");
  EXPECT_EQ(o.h1, 128);
  EXPECT_DOUBLE_EQ(o.lr, 1e-4);
  EXPECT_TRUE(o.double_q);
  o.set("h2", space::Value(int64_t{64})).set("epsilon", space::Value(0.5));
  EXPECT_EQ(o.h2, 64);
  EXPECT_DOUBLE_EQ(o.get("epsilon"), 0.5);
  EXPECT_THROW(o.set("h1", 12.5), InvalidArgument);
  EXPECT_THROW(o.set("lr", "fast"), InvalidArgument);
  EXPECT_THROW(o.set("lr", " "), InvalidArgument);
  EXPECT_THROW(o.set("h1", "12abc"), InvalidArgument);
  EXPECT_THROW(o.set("epsilon", 1.5), InvalidArgument);
  EXPECT_THROW(o.set("huber", 2.0), InvalidArgument);
  EXPECT_EQ(o.h1, 128);
  EXPECT_DOUBLE_EQ(o.epsilon, 0.5);
  EXPECT_TRUE(DqnOptions::is_integer("h1"));
  EXPECT_FALSE(DqnOptions::is_integer("epsilon"));
  // Cross-field: replay must hold a batch; checked by validate(), not by each set().
  o.set("batch_size", 10000.0);
  EXPECT_THROW(o.validate(), InvalidArgument);
  o.set("replay_capacity", 20000.0);
  EXPECT_NO_THROW(o.validate());
}

TEST(DqnOptions, EpsilonDecaysLinearlyOverTheRunOrTheGivenDialogues) {
  DqnOptions o;  // 0.3 -> 0.0
  EXPECT_DOUBLE_EQ(o.epsilon_at(0, 4000), 0.3);
  EXPECT_DOUBLE_EQ(o.epsilon_at(1000, 4000), 0.225);
  EXPECT_DOUBLE_EQ(o.epsilon_at(2000, 4000), 0.15);
  EXPECT_DOUBLE_EQ(o.epsilon_at(4000, 4000), 0.0);
  o.epsilon = 1.0;
  o.epsilon_end = 0.1;
  o.epsilon_decay_dialogues = 100;
  EXPECT_DOUBLE_EQ(o.epsilon_at(50, 4000), 0.55);
  EXPECT_DOUBLE_EQ(o.epsilon_at(3000, 4000), 0.1);
}

TEST(DqnOptions, JsonRoundTripAndUnknownKeysRejected) {
  DqnOptions o;
  o.h1 = 123;
  o.epsilon = 0.7;
  o.huber = true;
  EXPECT_EQ(DqnOptions::from_json(o.to_json()), o);
  EXPECT_THROW(DqnOptions::from_json(nlohmann::json{{"h3", 1}}), InvalidArgument);
  EXPECT_THROW(DqnOptions::from_json(nlohmann::json{{"h1", "many"}}), InvalidArgument);
}

TEST(DqnOptions, FromJsonWordsErrorsLikeEveryConfigTable) {
  auto err = [](const nlohmann::json& j) {
    try {
      DqnOptions::from_json(j);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  EXPECT_THAT(err({{"h3", 1}}), HasSubstr("DQN hyperparameters: unknown key 'h3' in [dqn] (expected one of: batch_size, "
                                          "double_q, epsilon, epsilon_decay_dialogues, epsilon_end, gamma, h1, h2, "
                                          "huber, learn_start, lr, replay_capacity, reward_scale, tau, train_frequency, "
                                          "train_iters)"));
  EXPECT_EQ(err({{"h1", 12.5}}), "DQN hyperparameters: [dqn] h1 must be an integer, got a float");
  EXPECT_EQ(err({{"h1", "128"}}), "DQN hyperparameters: [dqn] h1 must be an integer, got a string");
  EXPECT_EQ(err({{"lr", true}}), "DQN hyperparameters: [dqn] lr must be a number, got a boolean");
  EXPECT_EQ(err({{"huber", 0.5}}), "DQN hyperparameters: [dqn] huber must be a boolean, got a float");
  EXPECT_THAT(err({{"huber", 2}}), HasSubstr("DQN hyperparameter 'huber' is a flag: 0 or 1 (got 2)"));
  EXPECT_THAT(err({{"epsilon", 1.5}}), HasSubstr("DQN hyperparameter 'epsilon' = 1.5 must be in [0, 1]"));
  EXPECT_THAT(err(nlohmann::json::array()), HasSubstr("DQN hyperparameters: [dqn] must be a table"));
  // Integers where numbers are expected, and flags as booleans or 0 / 1.
  const DqnOptions o = DqnOptions::from_json({{"lr", 1}, {"double_q", true}, {"huber", 1}, {"h2", 64}});
  EXPECT_DOUBLE_EQ(o.lr, 1.0);
  EXPECT_TRUE(o.double_q);
  EXPECT_TRUE(o.huber);
  EXPECT_EQ(o.h2, 64);
  EXPECT_EQ(o.h1, 300);
}

// ---- Replay buffer ----

TEST(ReplayBuffer, OverwritesTheOldestTransitionWhenFull) {
  ReplayBuffer buf(3, 2, 2);
  const std::array<uint8_t, 2> mask = {1, 0};
  for (int k = 0; k < 5; ++k) {
    const std::array<float, 2> s = {static_cast<float>(k), 0.0F}, s2 = {static_cast<float>(k + 1), 0.0F};
    buf.add(s, k % 2, static_cast<float>(10 * k), s2, mask, k == 4);
  }
  EXPECT_EQ(buf.size(), 3);
  EXPECT_EQ(buf.total_added(), 5);
  // Slots hold transitions 3, 4, 2 (ring order).
  EXPECT_FLOAT_EQ(buf.observation(0)[0], 3.0F);
  EXPECT_FLOAT_EQ(buf.observation(1)[0], 4.0F);
  EXPECT_FLOAT_EQ(buf.observation(2)[0], 2.0F);
  EXPECT_FLOAT_EQ(buf.reward(1), 40.0F);
  EXPECT_TRUE(buf.done(1));
  EXPECT_FALSE(buf.done(0));
  EXPECT_EQ(buf.next_mask(0)[1], 0);  // stored as given
  EXPECT_EQ(buf.next_mask(1)[1], 1);  // terminal: all allowed
  Rng rng(1);
  std::array<int, 1000> idx{};
  buf.sample_indices(rng, idx);
  std::array<int, 3> count{};
  for (int i : idx) ++count.at(static_cast<size_t>(i));
  for (int c : count) EXPECT_NEAR(c, 333, 60);
}

// ---- Acting ----

TEST(DqnPolicy, MaskedArgmaxSkipsMaskedActionsAndBreaksTiesLow) {
  const std::array<float, 4> q = {1.0F, 5.0F, 3.0F, 3.0F};
  EXPECT_EQ(masked_argmax(q, std::array<uint8_t, 4>{1, 1, 1, 1}), 1);
  EXPECT_EQ(masked_argmax(q, std::array<uint8_t, 4>{1, 0, 1, 1}), 2);
  EXPECT_EQ(masked_argmax(q, std::array<uint8_t, 4>{1, 0, 0, 0}), 0);
  EXPECT_EQ(masked_argmax(q, std::array<uint8_t, 4>{0, 0, 0, 0}), -1);
}

TEST(DqnPolicy, NeverChoosesAMaskedActionGreedyOrExploring) {
  DqnPolicy p(6, 8, small_options(4), 3);
  const std::array<uint8_t, 8> mask = {0, 0, 1, 0, 0, 1, 0, 0};
  Rng rng(5);
  std::array<int, 8> count{};
  for (int k = 0; k < 2000; ++k) {
    std::array<float, 6> obs{};
    for (float& x : obs) x = static_cast<float>(uniform01(rng));
    const PolicyInput in{obs, mask, nullptr, nullptr};
    ++count.at(static_cast<size_t>(p.act(in)));
    ++count.at(static_cast<size_t>(p.act_explore(in, 1.0)));
    ++count.at(static_cast<size_t>(p.act_explore(in, 0.5)));
  }
  for (size_t a = 0; a < 8; ++a) {
    if (!mask[a]) {
      EXPECT_EQ(count[a], 0) << "action " << a;
    }
  }
  EXPECT_GT(count[2], 1000);  // exploration reaches both allowed actions
  EXPECT_GT(count[5], 1000);
  const std::array<uint8_t, 8> none{};
  const std::array<float, 6> obs{};
  EXPECT_THROW(p.act(PolicyInput{obs, none, nullptr, nullptr}), InvalidArgument);
}

TEST(DqnPolicy, SameSeedSameInitialNetworkOtherSeedOther) {
  const DqnOptions o = small_options(4);
  EXPECT_EQ(DqnPolicy(5, 3, o, 7).parameters(), DqnPolicy(5, 3, o, 7).parameters());
  EXPECT_NE(DqnPolicy(5, 3, o, 7).parameters(), DqnPolicy(5, 3, o, 8).parameters());
  // PyTorch's default Linear init: |w| <= 1/sqrt(fan_in) (first layer: fan_in 5).
  const auto w = DqnPolicy(5, 3, o, 7).parameters();
  for (size_t i = 0; i < 32 * 5; ++i) EXPECT_LE(std::abs(w[i]), 1.0 / std::sqrt(5.0) + 1e-6);
}

// ---- Learning: small problems with known Q-values ----

// A chain s0 -> s1 -> s2 -> s3: action 1 moves right (reward 0; from s3 it ends with reward 1),
// action 0 ends the episode with reward 0. With gamma 0.9: Q(s_i, 1) = 0.9^(3 - i), Q(s_i, 0) = 0,
// so the best action is 1 everywhere and the values are known exactly.
TEST(DqnPolicy, LearnsTheQValuesOfAChainWithAKnownBestAction) {
  DqnPolicy p(4, 2, small_options(8), 11);
  const std::array<uint8_t, 2> all = {1, 1};
  auto state = [](int i) {
    std::array<float, 4> s{};
    s[static_cast<size_t>(i)] = 1.0F;
    return s;
  };
  for (int i = 0; i < 4; ++i) {
    p.remember(state(i), 0, 0.0, state(i), all, true);
    p.remember(state(i), 1, i == 3 ? 1.0 : 0.0, state(std::min(i + 1, 3)), all, i == 3);
  }
  ASSERT_TRUE(p.can_learn());
  for (int step = 0; step < 2500; ++step) p.learn();
  for (int i = 0; i < 4; ++i) {
    std::array<float, 2> q{};
    p.q_values(state(i), q);
    EXPECT_NEAR(q[1], std::pow(0.9, 3 - i), 0.05) << "state " << i;
    EXPECT_NEAR(q[0], 0.0, 0.05) << "state " << i;
    EXPECT_EQ(p.act(PolicyInput{state(i), all, nullptr, nullptr}), 1);
  }
  EXPECT_EQ(p.gradient_steps(), 2500);
}

// s0 --a0 (reward 0)--> s1, where a0 pays 1 but is masked and a1 pays 0; s0 --a1--> end with 0.5.
// With the mask in the target, Q(s0, a0) = 0.9 * max(allowed) = 0 and the best action in s0 is
// a1; a target that ignored the mask would give Q(s0, a0) = 0.9 and choose a0.
TEST(DqnPolicy, BootstrapTargetMaximizesOverAllowedActionsOnly) {
  for (const bool double_q : {false, true}) {
    DqnOptions o = small_options(4);
    o.double_q = double_q;
    DqnPolicy p(2, 2, o, 13);
    const std::array<float, 2> s0 = {1.0F, 0.0F}, s1 = {0.0F, 1.0F};
    const std::array<uint8_t, 2> all = {1, 1}, only_a1 = {0, 1};
    p.remember(s1, 0, 1.0, s1, all, true);
    p.remember(s1, 1, 0.0, s1, all, true);
    p.remember(s0, 0, 0.0, s1, only_a1, false);
    p.remember(s0, 1, 0.5, s0, all, true);
    for (int step = 0; step < 2000; ++step) p.learn();
    std::array<float, 2> q0{}, q1{};
    p.q_values(s0, q0);
    p.q_values(s1, q1);
    EXPECT_NEAR(q1[0], 1.0, 0.05) << "double_q " << double_q;
    EXPECT_NEAR(q1[1], 0.0, 0.05);
    EXPECT_NEAR(q0[0], 0.0, 0.05);
    EXPECT_NEAR(q0[1], 0.5, 0.05);
    EXPECT_EQ(p.act(PolicyInput{s0, all, nullptr, nullptr}), 1);
  }
}

TEST(DqnPolicy, RewardsAreScaledBeforeLearning) {
  DqnOptions o = small_options(1);
  o.reward_scale = 0.05;  // PyDial: rewards / 20
  DqnPolicy p(1, 1, o, 1);
  const std::array<float, 1> s = {1.0F};
  const std::array<uint8_t, 1> m = {1};
  p.remember(s, 0, 20.0, s, m, true);
  EXPECT_FLOAT_EQ(p.replay().reward(0), 1.0F);
  for (int k = 0; k < 1500; ++k) p.learn();
  std::array<float, 1> q{};
  p.q_values(s, q);
  EXPECT_NEAR(q[0], 1.0, 0.02);
}

TEST(DqnPolicy, LearnNeedsAFullBatchAndCanLearnWaitsForLearnStart) {
  DqnOptions o = small_options(4);
  o.learn_start = 6;
  o.replay_capacity = 10;
  DqnPolicy p(1, 2, o, 1);
  const std::array<float, 1> s = {1.0F};
  const std::array<uint8_t, 2> m = {1, 1};
  EXPECT_THROW(p.learn(), InvalidArgument);
  for (int k = 0; k < 5; ++k) p.remember(s, 0, 0.0, s, m, true);
  EXPECT_FALSE(p.can_learn());  // 5 < learn_start
  p.remember(s, 0, 0.0, s, m, true);
  EXPECT_TRUE(p.can_learn());
}

// ---- Model files ----

DqnPolicy trained_toy_policy(uint64_t seed) {
  dialog::DialogueEnv env(dialog::testing::toy_domain(), dialog::env_preset("env1"));
  DqnOptions o;
  o.h1 = 24;
  o.h2 = 12;
  o.batch_size = 8;
  o.learn_start = 8;
  DqnPolicy p(env, o, seed);
  std::vector<float> prev;
  for (int k = 0; k < 10; ++k) {
    env.reset(derive_seed(seed, {static_cast<uint64_t>(k)}));
    while (!env.done()) {
      const auto in = PolicyInput::from(env);
      const int a = p.act_explore(in, 0.5);
      prev.assign(in.observation.begin(), in.observation.end());
      const auto st = env.step(a);
      p.remember(prev, a, st.reward, st.observation, env.action_mask(), st.done);
    }
    if (p.can_learn()) p.learn();
  }
  p.info().trained_dialogues = 10;
  return p;
}

TEST(DqnPolicy, SaveLoadRoundTripGivesIdenticalQValuesAndActions) {
  DqnPolicy p = trained_toy_policy(21);
  ASSERT_GT(p.gradient_steps(), 0);
  TempFile f("dqn_roundtrip");
  p.save(f.str());
  DqnPolicy q = DqnPolicy::load(f.str());
  EXPECT_EQ(q.parameters(), p.parameters());
  EXPECT_EQ(q.options(), p.options());
  EXPECT_EQ(q.info().env, "env1");
  EXPECT_EQ(q.info().domain, "toy");
  EXPECT_EQ(q.info().action_names, p.info().action_names);
  EXPECT_EQ(q.info().trained_dialogues, 10);
  EXPECT_EQ(q.info().seed, 21U);
  dialog::DialogueEnv env(dialog::testing::toy_domain(), dialog::env_preset("env3"));
  EXPECT_NO_THROW(q.check_compatible(env, "m"));
  for (int k = 0; k < 30; ++k) {
    env.reset(static_cast<uint64_t>(k));
    while (!env.done()) {
      const auto in = PolicyInput::from(env);
      std::vector<float> qp(static_cast<size_t>(p.num_actions())), qq(qp.size());
      p.q_values(in.observation, qp);
      q.q_values(in.observation, qq);
      ASSERT_EQ(qp, qq);
      const int a = p.act(in);
      ASSERT_EQ(q.act(in), a);
      env.step(a);
    }
  }
}

TEST(DqnPolicy, LoadRejectsTruncatedFilesWithOneLine) {
  DqnPolicy p = trained_toy_policy(3);
  TempFile f("dqn_full"), cut("dqn_cut");
  p.save(f.str());
  const std::string bytes = read_all(f.str());
  ASSERT_GT(bytes.size(), 1000U);
  for (size_t n : {size_t{0}, size_t{8}, size_t{16}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    write_all(cut.str(), bytes.substr(0, n));
    const std::string msg = error_of([&] { DqnPolicy::load(cut.str()); });
    EXPECT_THAT(msg, HasSubstr(cut.str())) << "cut at " << n;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    if (n >= 100) {
      EXPECT_THAT(msg, HasSubstr("truncated")) << msg;
    }
  }
  EXPECT_THAT(error_of([&] { DqnPolicy::load(cut.str() + ".missing"); }), HasSubstr("cannot open"));
}

// Rewrites a model file's header with `edit` applied, keeping the parameters.
void edit_header(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  const std::string bytes = read_all(path);
  const size_t l1 = bytes.find('\n'), l2 = bytes.find('\n', l1 + 1);
  const size_t len = std::stoul(bytes.substr(l1 + 1, l2 - l1 - 1));
  nlohmann::json h = nlohmann::json::parse(bytes.substr(l2 + 1, len));
  edit(h);
  const std::string hs = h.dump();
  write_all(path, bytes.substr(0, l1 + 1) + std::to_string(hs.size()) + "\n" + hs + bytes.substr(l2 + 1 + len));
}

TEST(DqnPolicy, LoadRejectsForeignFilesAndOtherArchitectures) {
  TempFile f("dqn_foreign");
  write_all(f.str(), "PK\x03\x04 this is a zip, maybe a TorchScript archive");
  EXPECT_THAT(error_of([&] { DqnPolicy::load(f.str()); }), HasSubstr("is not a metadial DQN model"));
  write_all(f.str(), "METADIAL-DQN 7\n2\n{}\n");
  EXPECT_THAT(error_of([&] { DqnPolicy::load(f.str()); }), HasSubstr("not supported"));

  DqnPolicy p = trained_toy_policy(4);  // h1 24, h2 12
  p.save(f.str());
  // The header claims a wider first layer than the weights have.
  edit_header(f.str(), [](nlohmann::json& h) { h["options"]["h1"] = 48; });
  EXPECT_THAT(error_of([&] { DqnPolicy::load(f.str()); }), HasSubstr("layer 1 has shape [24"));
  p.save(f.str());
  edit_header(f.str(), [](nlohmann::json& h) { h["architecture"] = "lstm"; });
  EXPECT_THAT(error_of([&] { DqnPolicy::load(f.str()); }), HasSubstr("architecture 'lstm'"));
  p.save(f.str());
  edit_header(f.str(), [](nlohmann::json& h) { h.erase("num_actions"); });
  EXPECT_THAT(error_of([&] { DqnPolicy::load(f.str()); }), HasSubstr("corrupt model header"));
  // Parameters replaced by garbage of the right length.
  p.save(f.str());
  std::string bytes = read_all(f.str());
  for (size_t i = bytes.size() - 200; i < bytes.size(); ++i) bytes[i] = 'x';
  for (size_t i = bytes.size() / 2 + 300; i < bytes.size() / 2 + 400; ++i) bytes[i] = 'x';
  write_all(f.str(), bytes);
  EXPECT_THAT(error_of([&] { DqnPolicy::load(f.str()); }), HasSubstr("corrupt model parameters"));
}

TEST(DqnPolicy, CheckCompatibleRejectsAModelOfAnotherDomain) {
  DqnPolicy p = trained_toy_policy(5);
  dialog::DialogueEnv restaurant(dialog::Domain::builtin("restaurant"), dialog::env_preset("env1"));
  const std::string msg = error_of([&] { p.check_compatible(restaurant, "model 'm.pt'"); });
  EXPECT_THAT(msg, HasSubstr("model 'm.pt'"));
  EXPECT_THAT(msg, HasSubstr("trained on domain 'toy'"));
}

}  // namespace
}  // namespace metadial::agents::dqn
