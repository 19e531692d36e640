#include "cli/e2e_commands.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace metadial::cli
