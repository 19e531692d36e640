#include "metadial/agents/e2e/e2e_agent.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "agents/e2e/features.h"
#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"
#include "support/torch_state.h"

namespace metadial::agents::e2e {
namespace {

dialog::CorpusSplits corpus(const std::shared_ptr<const dialog::Domain>& domain, int train, int test,
                           const dialog::UserOptions& user = dialog::UserOptions::simm()) {
  auto policy = std::make_shared<RulePolicy>();
  dialog::CorpusOptions o;
  o.user = user;
  o.num_train = train;
  o.num_dev = test;
  o.num_test = test;
  o.seed = 5;
  dialog::CorpusGenerator gen(domain, o, [policy](const dialog::DialogueEnv& env, bool begin) {
    if (begin) policy->begin_dialogue();
    return policy->act(PolicyInput::from(env));
  });
  return gen.generate_all();
}

AgentOptions tiny() {
  AgentOptions o;
  o.tracker.word_dim = 24;
  o.tracker.utter_hidden = 24;
  o.tracker.dialog_hidden = 32;
  o.tracker.act_dim = 8;
  o.tracker.slot_hidden = 24;
  o.tracker.dropout = 0.1;
  o.tracker.learning_rate = 1e-2;
  o.tracker.batch_dialogues = 4;
  o.tracker.epochs = 10;
  o.tracker.seed = 2;
  o.policy_hidden = 32;
  return o;
}

TEST(Equation4, MatchesAHandComputedValue) {
  // One slot, two turns: logits (0, 0) with label 0 -> -log 1/2; (ln 3, 0) with label 0 ->
  // -log 3/4. Actions: (0, 0, 0) with label 2 -> -log 1/3; the second turn's label is -1 (left
  // out). lambda_slot 2, lambda_action 0.5: 2 (ln 2 + ln 4/3) + 0.5 ln 3 = 2.5109640.
  const torch::Tensor slot = torch::tensor({0.0F, 0.0F, std::log(3.0F), 0.0F}).view({2, 2});
  const torch::Tensor labels = torch::tensor({int64_t{0}, int64_t{0}});
  const torch::Tensor act = torch::zeros({2, 3});
  const torch::Tensor act_labels = torch::tensor({int64_t{2}, int64_t{-1}});
  const double l = equation4_loss({slot}, {labels}, act, act_labels, {2.0}, 0.5).item<double>();
  EXPECT_NEAR(l, 2.0 * (std::log(2.0) + std::log(4.0 / 3.0)) + 0.5 * std::log(3.0), 1e-5);
  EXPECT_NEAR(l, 2.5109640, 1e-5);
  EXPECT_THROW(equation4_loss({slot}, {labels}, act, act_labels, {}, 0.5), InvalidArgument);
}

// Initial weights (tracker and policy) come from options.tracker.seed alone: construction neither
// reseeds nor draws from torch's global generator, and what the global generator holds does not matter.
TEST(E2eAgent, InitialWeightsComeFromTheSeedAndLeaveTorchsGeneratorAlone) {
  auto domain = dialog::Domain::builtin("movie");
  const auto c = corpus(domain, 10, 2);
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  AgentOptions o = tiny();
  torch::manual_seed(1);
  E2eAgent a(domain, onto, c.train, o);
  torch::manual_seed(2);
  const torch::Tensor state = metadial::testing::global_generator_state();
  E2eAgent b(domain, onto, c.train, o);
  EXPECT_TRUE(torch::equal(state, metadial::testing::global_generator_state()));
  EXPECT_EQ(a.parameter_norm(true), b.parameter_norm(true));
  EXPECT_EQ(a.parameter_norm(false), b.parameter_norm(false));
  EXPECT_EQ(a.supervised_loss(c.train), b.supervised_loss(c.train));
  o.tracker.seed = 3;
  E2eAgent other(domain, onto, c.train, o);
  EXPECT_NE(a.parameter_norm(true), other.parameter_norm(true));
  EXPECT_NE(a.parameter_norm(false), other.parameter_norm(false));
}

TEST(E2eAgent, KbSummaryAndActionMappingFollowTheTrackedState) {
  auto domain = dialog::Domain::builtin("movie");
  const auto c = corpus(domain, 30, 2);
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  E2eAgent agent(domain, onto, c.train, tiny());
  // Nothing tracked: no constraint, every entity matches (100 > 5), log(1+n)/log(1+N) = 1.
  const std::vector<std::string> none(onto.slots.size());
  EXPECT_EQ(agent.kb_summary(none), (std::vector<float>{0, 0, 0, 0, 1, 1}));
  // The movie of entity 0: at least one match.
  const dialog::Ontology& o = domain->ontology();
  const int movie = o.slot_id("movie");
  const std::string title(o.value_name(movie, domain->kb().value(0, o.informable_index(movie))));
  std::vector<std::string> state = none;
  const int ms = onto.slot_index("movie");
  ASSERT_GE(ms, 0);
  state[static_cast<size_t>(ms)] = title;
  const auto f = agent.kb_summary(state);
  EXPECT_EQ(f[0], 1.0F);
  EXPECT_EQ(f[1], 0.0F);
  // CONFIRM:movie confirms the tracked title; OFFER offers an entity showing it.
  const auto& names = agent.action_names();
  for (size_t a = 0; a < names.size(); ++a) {
    const dialog::SystemAct act = agent.to_system_act(static_cast<int>(a), state, none);
    if (names[a] == "CONFIRM:movie") {
      EXPECT_EQ(act.type, dialog::SystemActType::kConfirm);
      EXPECT_EQ(act.value, o.value_id(movie, title));
    }
    if (names[a] == "OFFER:name") {
      ASSERT_EQ(act.type, dialog::SystemActType::kOffer);
      EXPECT_EQ(domain->kb().value(act.entity, o.informable_index(movie)), o.value_id(movie, title));
    }
    if (names[a] == "GOOD_BYE:") {
      EXPECT_EQ(act.type, dialog::SystemActType::kBye);
    }
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "OFFER:name"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "GOOD_BYE:"), names.end());
}

TEST(E2eAgent, SupervisedTrainingLearnsActionsAndTalksToTheUser) {
  auto domain = dialog::Domain::builtin("movie");
  const auto c = corpus(domain, 80, 20);
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  E2eAgent agent(domain, onto, c.train, tiny());
  const double loss0 = agent.supervised_loss(c.train);
  const double acc0 = agent.action_accuracy(c.test);
  agent.train_supervised(c.train, c.dev);
  const double acc = agent.action_accuracy(c.test);
  EXPECT_LT(agent.supervised_loss(c.train), 0.5 * loss0);
  EXPECT_GT(acc, acc0);
  EXPECT_GT(acc, 0.5);  // the tiny model reaches 0.58 here (the rule expert also reads its own counters)
  InteractiveOptions io;
  io.dialogues = 20;
  io.templates = dialog::TemplateSet::kTraining;
  const InteractiveReport r = agent.evaluate(io);
  std::printf("action accuracy %.3f -> %.3f; interactive success %.2f turns %.2f joint %.3f\n", acc0, acc, r.success_rate,
              r.avg_turns, r.joint_accuracy);
  EXPECT_EQ(r.dialogues, 20);
  EXPECT_LE(r.avg_turns, 15.0);
  EXPECT_GT(r.success_rate, 0.2);
  const Episode ep = agent.run_dialogue(3, io);
  EXPECT_EQ(ep.tracked.size(), ep.dialogue.turns.size());
  EXPECT_EQ(static_cast<int>(ep.actions.size()), ep.turns);
}

TEST(E2eAgent, RejectsAnOntologyOfAnotherDomain) {
  auto movie = dialog::Domain::builtin("movie");
  auto restaurant = dialog::Domain::builtin("restaurant");
  const auto c = corpus(movie, 3, 1);
  const auto onto = dialog::CorpusOntology::from({&c.train});
  EXPECT_THROW(E2eAgent(restaurant, onto, c.train, tiny()), InvalidArgument);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("metadial_e2e_" + std::to_string(getpid()) + "_" + name)).string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The prefixes of a dialogue: turns [0, k] for each k.
std::vector<dialog::CorpusDialogue> prefixes(const dialog::CorpusDialogue& d) {
  std::vector<dialog::CorpusDialogue> out;
  for (size_t k = 0; k < d.turns.size(); ++k) {
    dialog::CorpusDialogue p = d;
    p.turns.resize(k + 1);
    out.push_back(p);
  }
  return out;
}

TEST(E2eAgent, SavedAgentLoadsWithIdenticalSlotDistributionsAndActions) {
  auto domain = dialog::Domain::builtin("movie");
  const auto c = corpus(domain, 30, 4);
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  AgentOptions o = tiny();
  o.tracker.epochs = 2;
  E2eAgent agent(domain, onto, c.train, o);
  agent.train_supervised(c.train, {});
  const std::string path = temp_path("saved.pt");
  agent.save(path);
  E2eAgent loaded = E2eAgent::load(path, "movie");
  EXPECT_EQ(loaded.domain().name(), "movie");
  EXPECT_EQ(loaded.action_names(), agent.action_names());
  EXPECT_EQ(loaded.ontology().slots, agent.ontology().slots);
  EXPECT_EQ(loaded.ontology().values, agent.ontology().values);
  EXPECT_EQ(loaded.num_parameters(), agent.num_parameters());
  EXPECT_EQ(loaded.options().policy_hidden, 32);
  EXPECT_EQ(loaded.options().tracker.word_dim, 24);
  int turns = 0;
  for (const auto& d : c.test) {
    for (const auto& p : prefixes(d)) {
      const TurnDecision a = agent.decide(p), b = loaded.decide(p);
      EXPECT_EQ(a.slot_probs, b.slot_probs);  // bit-identical
      EXPECT_EQ(a.action_probs, b.action_probs);
      EXPECT_EQ(a.action, b.action);
      EXPECT_EQ(a.state, b.state);
      ++turns;
    }
  }
  EXPECT_GT(turns, 8);
  // The same parameters give the same corpus scores and the same interactive dialogues.
  EXPECT_EQ(loaded.state_report(c.test).joint_accuracy, agent.state_report(c.test).joint_accuracy);
  InteractiveOptions io;
  io.dialogues = 5;
  const InteractiveReport ra = agent.evaluate(io), rb = loaded.evaluate(io);
  EXPECT_EQ(ra.success_rate, rb.success_rate);
  EXPECT_EQ(ra.avg_turns, rb.avg_turns);
  EXPECT_EQ(ra.slot_accuracy, rb.slot_accuracy);
  // Saving the loaded agent writes the same bytes.
  const std::string again = temp_path("again.pt");
  loaded.save(again);
  EXPECT_EQ(slurp(again), slurp(path));
  std::filesystem::remove(path);
  std::filesystem::remove(again);
}

TEST(E2eAgent, LoadNamesTheFileOfACorruptForeignOrOtherDomainModel) {
  auto domain = dialog::Domain::builtin("movie");
  const auto c = corpus(domain, 6, 1);
  const auto onto = dialog::CorpusOntology::from({&c.train});
  AgentOptions o = tiny();
  o.tracker.epochs = 1;
  E2eAgent agent(domain, onto, c.train, o);
  const std::string path = temp_path("good.pt");
  agent.save(path);
  const std::string bytes = slurp(path);
  auto expect_error = [](const std::string& file, const std::string& domain_name, const std::string& what) {
    try {
      (void)E2eAgent::load(file, domain_name);
      ADD_FAILURE() << "no error for " << file;
    } catch (const DataError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(what), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
  };
  expect_error(path, "restaurant", "model '" + path + "' is an e2e agent for domain 'movie', not 'restaurant'");
  const std::string cut = temp_path("cut.pt");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  expect_error(cut, "", "'" + cut + "': truncated e2e agent file");
  std::string flipped_bytes = bytes;
  flipped_bytes[flipped_bytes.size() - 50] ^= 0x20;
  const std::string flipped = temp_path("flipped.pt");
  std::ofstream(flipped, std::ios::binary) << flipped_bytes;
  expect_error(flipped, "", "'" + flipped + "': corrupt e2e agent parameters (checksum mismatch");
  const std::string foreign = temp_path("foreign.json");
  std::ofstream(foreign) << dialog::to_corpus_json(c.train);
  expect_error(foreign, "", "'" + foreign + "' is not a metadial e2e agent");
  std::string bad_header = bytes;
  bad_header.replace(bad_header.find("\"ontology\""), 10, "\"ontologx\"");
  const std::string header = temp_path("header.pt");
  std::ofstream(header, std::ios::binary) << bad_header;
  expect_error(header, "", "'" + header + "': corrupt e2e agent header");
  expect_error(temp_path("missing.pt"), "", "cannot open model file");
  for (const auto& f : {path, cut, flipped, foreign, header}) std::filesystem::remove(f);
}

TEST(E2eAgent, SaveRecordsTheKnowledgeBaseOptions) {
  const dialog::KbOptions kb{40, 7};
  auto domain = dialog::Domain::builtin("movie", kb);
  const auto c = corpus(domain, 6, 1);
  const auto onto = dialog::CorpusOntology::from({&c.train});
  AgentOptions o = tiny();
  o.tracker.epochs = 1;
  E2eAgent agent(domain, onto, c.train, o);
  const std::string path = temp_path("kb.pt");
  // Without the KB options the file could not rebuild this KB: refused, nothing written.
  EXPECT_THROW(agent.save(path), InvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(path));
  agent.set_kb_options(kb);
  agent.save(path);
  const E2eAgent loaded = E2eAgent::load(path);
  EXPECT_EQ(loaded.domain().kb().size(), 40);
  EXPECT_EQ(loaded.kb_options().seed, 7U);
  EXPECT_EQ(loaded.domain().kb().name(3), domain->kb().name(3));
  std::filesystem::remove(path);
}

TEST(E2eAgent, TrainingOnTaughtDialoguesLearnsTheirLabels) {
  // A taught dialogue whose first state holds a corrected value and whose first action is
  // REQUEST:date: after supervised passes on it, the agent reproduces both.
  // (On the standard user's corpus: on the default profile mix's corpus, 60 passes of the tiny
  // model do not learn the taught num_tickets value; likely because that corpus has openings that
  // state nothing and have an empty state, which this taught opening contradicts.)
  auto domain = dialog::Domain::builtin("movie");
  const auto c = corpus(domain, 30, 2, dialog::UserOptions::standard());
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  AgentOptions o = tiny();
  o.tracker.epochs = 2;
  E2eAgent agent(domain, onto, c.train, o);
  agent.train_supervised(c.train, {});
  const int tickets = onto.slot_index("num_tickets");
  ASSERT_GE(tickets, 0);
  dialog::CorpusDialogue taught;
  taught.dialogue_id = "movie_chat_1";
  dialog::CorpusTurn t0;
  t0.user_utterance.text = "hello i want to see a film";
  t0.user_utterance.tokens = dialog::tokenize(t0.user_utterance.text);
  const std::string value = onto.values[static_cast<size_t>(tickets)].back();
  t0.dialogue_state.push_back({"num_tickets", value});
  dialog::CorpusTurn t1;
  t1.system_acts.push_back({"REQUEST", "date", ""});
  const auto& dates = onto.values[static_cast<size_t>(onto.slot_index("date"))];
  const std::string date = dates[0] == "dontcare" ? dates[1] : dates[0];
  t1.user_utterance.text = "on " + date;
  t1.user_utterance.tokens = dialog::tokenize(t1.user_utterance.text);
  t1.dialogue_state = t0.dialogue_state;
  t1.dialogue_state.push_back({"date", date});
  taught.turns = {t0, t1};
  dialog::CorpusDialogue first = taught;
  first.turns.resize(1);
  const auto& names = agent.action_names();
  const int request_date = static_cast<int>(std::find(names.begin(), names.end(), "REQUEST:date") - names.begin());
  ASSERT_LT(request_date, static_cast<int>(names.size()));
  const TurnDecision before = agent.decide(first);
  const double loss0 = agent.supervised_loss({taught});
  const double loss = agent.train_on_dialogues({taught}, c.train, 60);
  EXPECT_GT(loss, 0.0);
  const TurnDecision after = agent.decide(first);
  std::printf("loss %.3f -> %.3f; P(REQUEST:date) %.3f -> %.3f; argmax %s\n", loss0, agent.supervised_loss({taught}),
              before.action_probs[static_cast<size_t>(request_date)], after.action_probs[static_cast<size_t>(request_date)],
              names[static_cast<size_t>(after.action)].c_str());
  EXPECT_LT(agent.supervised_loss({taught}), 0.25 * loss0);
  EXPECT_GT(after.action_probs[static_cast<size_t>(request_date)], before.action_probs[static_cast<size_t>(request_date)]);
  EXPECT_EQ(after.action, request_date);
  EXPECT_EQ(after.state[static_cast<size_t>(tickets)], value);
  EXPECT_EQ(agent.train_on_dialogues({}, c.train, 1), 0.0);
}

}  // namespace
}  // namespace metadial::agents::e2e
