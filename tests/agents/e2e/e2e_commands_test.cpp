#include "cli/e2e_commands.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "metadial/agents/e2e/e2e_agent.h"

#include "metadial/core/error.h"
#include "metadial/dialog/corpus.h"

namespace metadial::cli {
namespace {

std::string temp_dir(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(p);
  return p.string();
}

TEST(DialogCorpusCommand, WritesSplitsTheLoaderReads) {
  DialogCorpusArgs a;
  a.out = temp_dir("metadial_e2e_cli_corpus");
  a.train = 6;
  a.dev = 2;
  a.test = 3;
  a.json = true;
  std::ostringstream out;
  ASSERT_EQ(run_dialog_corpus(a, out), 0);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_GT(j["expert_success"].get<double>(), 0.5);
  EXPECT_EQ(dialog::load_corpus(a.out + "/train.json").size(), 6U);
  EXPECT_EQ(dialog::load_corpus(a.out + "/test.json").size(), 3U);

  DialogDstArgs d;
  d.train = a.out + "/train.json";
  d.dev = a.out + "/dev.json";
  d.test = a.out + "/test.json";
  d.options.word_dim = 8;
  d.options.utter_hidden = 8;
  d.options.dialog_hidden = 8;
  d.options.act_dim = 4;
  d.options.slot_hidden = 8;
  d.options.epochs = 2;
  d.json = true;
  std::ostringstream dout;
  ASSERT_EQ(run_dialog_dst(d, dout), 0);
  const auto r = nlohmann::json::parse(dout.str());
  EXPECT_EQ(r["curve"].size(), 2U);
  EXPECT_EQ(r["slot_accuracy"].size(), 5U);
  const double joint = r["joint_accuracy"].get<double>();
  EXPECT_GE(joint, 0.0);
  EXPECT_LE(joint, 1.0);
  std::filesystem::remove_all(a.out);
}

TEST(DialogDstCommand, MalformedCorpusIsOneDataErrorNamingTheFile) {
  const std::string dir = temp_dir("metadial_e2e_cli_bad");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/bad.json") << R"([{"dialogue_id": "x1", "turns": [{"user_utterance": {"text": "hi"}, "dialogue_state": []}]}])";
  DialogDstArgs d;
  d.train = dir + "/bad.json";
  d.test = dir + "/bad.json";
  std::ostringstream out;
  try {
    run_dialog_dst(d, out);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json': dialogue 'x1', turn 0: field 'user_utterance.tokens' is missing"),
              std::string::npos)
        << e.what();
  }
  DialogE2eTrainArgs t;
  t.stage = "il";  // without --il-dialogues
  t.train = dir + "/bad.json";
  EXPECT_THROW(run_dialog_e2e_train(t, out), InvalidArgument);
  t.stage = "xl";
  EXPECT_THROW(run_dialog_e2e_train(t, out), InvalidArgument);
  std::filesystem::remove_all(dir);
}

// A tiny saved agent on a small generated movie corpus (DIR/{train,dev,test}.json, DIR/agent.pt).
void tiny_agent(const std::string& dir) {
  DialogCorpusArgs c;
  c.out = dir;
  c.train = 30;
  c.dev = 4;
  c.test = 4;
  c.seed = 3;
  std::ostringstream cout_;
  ASSERT_EQ(run_dialog_corpus(c, cout_), 0);
  DialogE2eTrainArgs t;
  t.train = dir + "/train.json";
  t.dev = dir + "/dev.json";
  auto& o = t.options;
  o.tracker.word_dim = 16;
  o.tracker.utter_hidden = 16;
  o.tracker.dialog_hidden = 24;
  o.tracker.act_dim = 8;
  o.tracker.slot_hidden = 16;
  o.tracker.epochs = 2;
  o.policy_hidden = 16;
  t.eval_dialogues = 0;
  t.out = dir + "/agent.pt";
  t.json = true;
  std::ostringstream tout;
  ASSERT_EQ(run_dialog_e2e_train(t, tout), 0);
  EXPECT_EQ(nlohmann::json::parse(tout.str())["out"], t.out);
}

TEST(DialogChatCommand, TeachingCorrectsStateAndActionAndAppendsTheDialogue) {
  const std::string dir = temp_dir("metadial_e2e_cli_chat");
  tiny_agent(dir);
  const auto agent = agents::e2e::E2eAgent::load(dir + "/agent.pt");
  const auto& names = agent.action_names();
  const auto request_date = std::find(names.begin(), names.end(), "REQUEST:date") - names.begin();
  ASSERT_LT(request_date, static_cast<std::ptrdiff_t>(names.size()));
  const auto& onto = agent.ontology();
  const auto& tickets = onto.values[static_cast<size_t>(onto.slot_index("num_tickets"))];
  const std::string x = tickets.back() == "dontcare" ? tickets.front() : tickets.back();

  DialogChatArgs a;
  a.model = dir + "/agent.pt";
  a.teach = true;
  a.corpus_out = dir + "/taught.json";
  std::istringstream in("i want to see a movie\n"
                        "num_tickets=zzz\n"
                        "colour=red\n"
                        "num_tickets=" + x + "\n"
                        "a " + std::to_string(request_date) + "\n"
                        "a 99\n"
                        "\n"             // accept
                        "   \n"          // empty user input
                        "\xc3\x28 \n"    // not UTF-8
                        "ok\n"
                        "\n"             // accept
                        "bye\n"
                        "quit\n");
  std::ostringstream out;
  ASSERT_EQ(run_dialog_chat(a, in, out), 0);
  const std::string o = out.str();
  EXPECT_NE(o.find("--- dialogue 1 ---"), std::string::npos) << o;
  EXPECT_NE(o.find("agent: "), std::string::npos) << o;
  EXPECT_NE(o.find("'zzz' is not a value of slot 'num_tickets' (e.g. '"), std::string::npos) << o;
  EXPECT_NE(o.find("unknown slot 'colour' (slots: date, movie, num_tickets, theatre_name, time)"), std::string::npos) << o;
  EXPECT_NE(o.find("'99' is not an action number: pick 0 to " + std::to_string(names.size() - 1)), std::string::npos) << o;
  EXPECT_NE(o.find("action:  " + std::to_string(request_date) + " REQUEST:date\n"), std::string::npos) << o;
  EXPECT_NE(o.find("empty input: type what you want, or 'bye'\n"), std::string::npos) << o;
  const auto utf8 = o.find("input is not valid UTF-8 (byte 1): type what you want, or 'bye'\n");
  ASSERT_NE(utf8, std::string::npos) << o;
  // The chat went on: the next turn's state keeps the correction.
  const auto next = o.find("  tracked: ", utf8);
  ASSERT_NE(next, std::string::npos) << o;
  EXPECT_NE(o.substr(next, o.find('\n', next) - next).find("num_tickets=" + x + " (corrected)"), std::string::npos) << o;
  EXPECT_NE(o.find("dialogue 1 saved as 'movie_chat_1'"), std::string::npos) << o;

  auto taught = dialog::load_corpus(a.corpus_out);
  ASSERT_EQ(taught.size(), 1U);
  const dialog::CorpusDialogue d = taught[0];
  ASSERT_GE(d.turns.size(), 2U);
  EXPECT_EQ(d.turns[0].user_utterance.text, "i want to see a movie");
  EXPECT_EQ(d.turns[0].state_value("num_tickets"), x);
  EXPECT_EQ(d.turns[1].user_utterance.text, "ok");
  EXPECT_EQ(d.turns[1].state_value("num_tickets"), x);
  ASSERT_FALSE(d.turns[1].system_acts.empty());
  EXPECT_EQ(d.turns[1].system_acts[0], (dialog::CorpusAct{"REQUEST", "date", ""}));
  ASSERT_TRUE(d.turns[1].system_utterance.has_value());

  // A second chat (no teaching) appends; what was stored stays.
  DialogChatArgs b = a;
  b.teach = false;
  std::istringstream in2("hello\n");  // end of input ends the dialogue as a 'bye'
  std::ostringstream out2;
  ASSERT_EQ(run_dialog_chat(b, in2, out2), 0);
  taught = dialog::load_corpus(a.corpus_out);
  ASSERT_EQ(taught.size(), 2U);
  EXPECT_EQ(taught[0], d);
  EXPECT_EQ(taught[1].dialogue_id, "movie_chat_2");
  EXPECT_EQ(taught[1].turns.back().user_utterance.text, "bye");

  // 'quit' typed at the teach prompt accepts the turn, closes the dialogue and leaves (it used to be
  // an unknown teach command, and the prompt came back).
  std::istringstream in3("i want to see a movie\nquit\n");
  std::ostringstream out3;
  ASSERT_EQ(run_dialog_chat(a, in3, out3), 0);
  EXPECT_EQ(out3.str().find("unknown teach command"), std::string::npos) << out3.str();
  EXPECT_EQ(out3.str().find("--- dialogue 2 ---"), std::string::npos) << out3.str();
  taught = dialog::load_corpus(a.corpus_out);
  ASSERT_EQ(taught.size(), 3U);
  ASSERT_EQ(taught[2].turns.size(), 2U);
  EXPECT_EQ(taught[2].turns[0].user_utterance.text, "i want to see a movie");
  EXPECT_EQ(taught[2].turns[1].user_utterance.text, "bye");

  // The next imitation round reads it.
  DialogE2eTrainArgs t;
  t.stage = "il";
  t.model = a.model;
  t.train = dir + "/train.json";
  t.il_corpus = a.corpus_out;
  t.il_passes = 2;
  t.eval_dialogues = 3;
  t.out = dir + "/agent2.pt";
  t.json = true;
  std::ostringstream tout;
  ASSERT_EQ(run_dialog_e2e_train(t, tout), 0);
  const auto j = nlohmann::json::parse(tout.str());
  EXPECT_EQ(j["il_corpus"]["dialogues"], 3);
  EXPECT_TRUE(std::filesystem::exists(t.out));
  std::filesystem::remove_all(dir);
}

TEST(DialogE2eCommands, EvalReportsInteractiveAndCorpusScoresOfASavedAgent) {
  const std::string dir = temp_dir("metadial_e2e_cli_eval");
  tiny_agent(dir);
  DialogE2eEvalArgs e;
  e.model = dir + "/agent.pt";
  e.dialogues = 6;
  e.test = dir + "/test.json";
  e.json = true;
  std::ostringstream out;
  ASSERT_EQ(run_dialog_e2e_eval(e, out), 0);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["dialogues"], 6);
  EXPECT_EQ(j["domain"], "movie");
  EXPECT_EQ(j["slot_accuracy"].size(), 5U);
  for (const char* k : {"success_rate", "avg_turns_success", "joint_accuracy"}) {
    EXPECT_GE(j[k].get<double>(), 0.0) << k;
  }
  EXPECT_LE(j["success_rate"].get<double>(), 1.0);
  EXPECT_EQ(j["test"]["slot_accuracy"].size(), 5U);
  EXPECT_GT(j["test"]["turns"].get<int>(), 4);
  const double act = j["test"]["action_accuracy"].get<double>();
  EXPECT_GE(act, 0.0);
  EXPECT_LE(act, 1.0);
  // Same seed, same report.
  std::ostringstream again;
  ASSERT_EQ(run_dialog_e2e_eval(e, again), 0);
  auto j2 = nlohmann::json::parse(again.str());
  j2.erase("seconds");
  auto j1 = j;
  j1.erase("seconds");
  EXPECT_EQ(j1, j2);

  e.domain = "restaurant";
  EXPECT_THROW(run_dialog_e2e_eval(e, out), DataError);
  DialogE2eTrainArgs t;
  t.model = e.model;  // --stage sl with --model: nothing to train
  EXPECT_THROW(run_dialog_e2e_train(t, out), InvalidArgument);
  DialogChatArgs c;
  c.model = e.model;
  c.teach = true;  // without --corpus-out
  std::istringstream in;
  EXPECT_THROW(run_dialog_chat(c, in, out), InvalidArgument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace metadial::cli
