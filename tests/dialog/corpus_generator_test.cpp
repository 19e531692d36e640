#include "metadial/dialog/corpus_generator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/nlg.h"

namespace metadial::dialog {
namespace {

ExpertFn rule_expert() {
  auto policy = std::make_shared<agents::RulePolicy>();
  return [policy](const DialogueEnv& env, bool begin) {
    if (begin) policy->begin_dialogue();
    return policy->act(agents::PolicyInput::from(env));
  };
}

CorpusOptions small(int n) {
  CorpusOptions o;
  o.num_train = n;
  o.num_dev = 3;
  o.num_test = 3;
  o.seed = 7;
  return o;
}

TEST(UserNlg, ExtendedSetStrictlyContainsTheTrainingSet) {
  auto domain = Domain::builtin("movie");
  UserNlg train(*domain, TemplateSet::kTraining), ext(*domain, TemplateSet::kExtended);
  const int movie = domain->ontology().slot_id("movie");
  for (UserActType t : {UserActType::kInform, UserActType::kRequest, UserActType::kAffirm, UserActType::kNegate,
                        UserActType::kBye, UserActType::kReqalts}) {
    EXPECT_GT(ext.num_templates(t, movie), train.num_templates(t, movie)) << to_string(t);
  }
  // movie inform: 4 generic + 3 movie-specific training forms; +7 +3 extended.
  EXPECT_EQ(train.num_templates(UserActType::kInform, movie), 7);
  EXPECT_EQ(ext.num_templates(UserActType::kInform, movie), 17);
  EXPECT_EQ(train.num_templates(UserActType::kInform, movie, /*dontcare=*/true), 2);
}

TEST(UserNlg, SpansPointAtTheInformedValues) {
  auto domain = Domain::builtin("movie");
  const Ontology& o = domain->ontology();
  UserNlg nlg(*domain, TemplateSet::kExtended);
  UserTurn turn;
  const int movie = o.slot_id("movie"), time = o.slot_id("time");
  turn.push({UserActType::kInform, static_cast<int8_t>(movie), static_cast<int16_t>(o.value_id(movie, "the long night"))});
  turn.push({UserActType::kInform, static_cast<int8_t>(time), static_cast<int16_t>(o.value_id(time, "19:00"))});
  Rng rng(3);
  for (int rep = 0; rep < 50; ++rep) {
    const CorpusUtterance u = nlg.realize(turn, rep % 2 == 0, rng);
    ASSERT_EQ(u.slots.size(), 2U) << u.text;
    const auto span_text = [&](const CorpusSpan& s) {
      std::string t;
      for (int k = s.start; k < s.exclusive_end; ++k) t += (t.empty() ? "" : " ") + u.tokens[static_cast<size_t>(k)];
      return t;
    };
    EXPECT_EQ(u.slots[0].slot, "movie");
    EXPECT_EQ(span_text(u.slots[0]), "the long night") << u.text;
    EXPECT_EQ(u.slots[1].slot, "time");
    EXPECT_EQ(span_text(u.slots[1]), "19:00") << u.text;
    EXPECT_EQ(tokenize(u.text), u.tokens);
  }
  EXPECT_TRUE(nlg.realize(UserTurn{}, false, rng).tokens.empty());
}

TEST(SystemNlg, RealizesEveryActKindWithItsValues) {
  auto domain = Domain::builtin("movie");
  const Ontology& o = domain->ontology();
  SystemNlg nlg(*domain);
  Rng rng(1);
  SystemAct req;
  req.type = SystemActType::kRequest;
  req.slot = static_cast<int8_t>(o.slot_id("num_tickets"));
  EXPECT_NE(nlg.realize(req, rng).text.find("tickets"), std::string::npos);
  SystemAct conf;
  conf.type = SystemActType::kConfirm;
  conf.slot = static_cast<int8_t>(o.slot_id("date"));
  conf.value = static_cast<int16_t>(o.value_id(conf.slot, "friday"));
  const CorpusUtterance u = nlg.realize(conf, rng);
  ASSERT_EQ(u.slots.size(), 1U);
  EXPECT_EQ(u.tokens[static_cast<size_t>(u.slots[0].start)], "friday");
  const auto acts = corpus_acts(*domain, conf);
  ASSERT_EQ(acts.size(), 1U);
  EXPECT_EQ(acts[0], (CorpusAct{"CONFIRM", "date", "friday"}));
}

TEST(CorpusGenerator, RuleExpertDialoguesAreAnnotatedConsistently) {
  auto domain = Domain::builtin("movie");
  CorpusGenerator gen(domain, small(40), rule_expert());
  CorpusStats stats;
  const auto train = gen.generate_split(0, 40, &stats);
  ASSERT_EQ(train.size(), 40U);
  EXPECT_EQ(stats.dialogues, 40);
  // The rule expert on the noise-free channel completes nearly every dialogue.
  EXPECT_GE(stats.successes, 36);
  for (const auto& d : train) {
    ASSERT_FALSE(d.turns.empty());
    EXPECT_FALSE(d.turns[0].system_utterance.has_value());
    EXPECT_EQ(d.turns[0].user_intents, std::vector<std::string>{"BUY_MOVIE_TICKETS"});
    EXPECT_LE(d.turns.size(), 16U);  // opening + at most 15 system turns
    // The state only grows or changes value; it never loses a slot, and every informed value
    // is in the state of that turn.
    std::set<std::string> slots;
    for (size_t k = 0; k < d.turns.size(); ++k) {
      const CorpusTurn& t = d.turns[k];
      if (k > 0) {
        EXPECT_FALSE(t.system_acts.empty());
      }
      std::set<std::string> now;
      for (const auto& p : t.dialogue_state) now.insert(p.slot);
      for (const auto& s : slots) EXPECT_TRUE(now.contains(s)) << d.dialogue_id << " turn " << k;
      slots = now;
      for (const auto& a : t.user_acts) {
        if (a.type == "INFORM") {
          EXPECT_EQ(t.state_value(a.slot), a.value) << d.dialogue_id;
        }
      }
      for (const auto& s : t.user_utterance.slots) EXPECT_LE(s.exclusive_end, static_cast<int>(t.user_utterance.tokens.size()));
    }
    // num_tickets is a required slot: a finished dialogue's state holds it.
    EXPECT_NE(d.turns.back().state_value("num_tickets"), "") << d.dialogue_id;
  }
}

TEST(CorpusGenerator, SameSeedSameCorpusAndSplitsDiffer) {
  auto domain = Domain::builtin("movie");
  CorpusGenerator a(domain, small(5), rule_expert()), b(domain, small(5), rule_expert());
  const CorpusSplits sa = a.generate_all(), sb = b.generate_all();
  EXPECT_EQ(sa.train, sb.train);
  EXPECT_EQ(sa.train.size(), 5U);
  EXPECT_EQ(sa.dev.size(), 3U);
  EXPECT_NE(sa.dev[0].turns[0].user_utterance, sa.test[0].turns[0].user_utterance);
}

TEST(CorpusGenerator, WrittenSplitsAreReadBackByTheSimMLoader) {
  auto domain = Domain::builtin("restaurant");
  CorpusGenerator gen(domain, small(4), rule_expert());
  const CorpusSplits s = gen.generate_all();
  const std::string dir = (std::filesystem::temp_directory_path() / "metadial_corpus_test").string();
  save_splits(dir, s);
  EXPECT_EQ(load_corpus(dir + "/train.json"), s.train);
  EXPECT_EQ(load_corpus(dir + "/test.json"), s.test);
  std::filesystem::remove_all(dir);
}

TEST(CorpusGenerator, RejectsBadOptions) {
  auto domain = Domain::builtin("movie");
  CorpusOptions o;
  o.max_turns = 0;
  EXPECT_THROW(CorpusGenerator(domain, o, rule_expert()), InvalidArgument);
  EXPECT_THROW(CorpusGenerator(domain, CorpusOptions{}, ExpertFn{}), InvalidArgument);
  EXPECT_THROW(template_set_from_name("fancy"), InvalidArgument);
}

}  // namespace
}  // namespace metadial::dialog
