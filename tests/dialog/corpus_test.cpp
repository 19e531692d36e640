#include "metadial/dialog/corpus.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "metadial/core/error.h"

namespace metadial::dialog {
namespace {

const std::string kSimM = std::string(METADIAL_SOURCE_DIR) + "/../shared/data/simulated-dialogue/sim-M";

std::string error_of(const std::string& text) {
  try {
    parse_corpus(text, "bad.json");
  } catch (const DataError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Corpus, LoadsSimMSplitsWithTheirPublishedSizes) {
  // Sizes counted with python3 json (dialogues / turns): 384/1973, 120/627, 264/1364.
  const auto train = load_corpus(kSimM + "/train.json");
  const auto dev = load_corpus(kSimM + "/dev.json");
  const auto test = load_corpus(kSimM + "/test.json");
  auto turns = [](const std::vector<CorpusDialogue>& c) {
    size_t n = 0;
    for (const auto& d : c) n += d.turns.size();
    return n;
  };
  EXPECT_EQ(train.size(), 384U);
  EXPECT_EQ(turns(train), 1973U);
  EXPECT_EQ(dev.size(), 120U);
  EXPECT_EQ(turns(dev), 627U);
  EXPECT_EQ(test.size(), 264U);
  EXPECT_EQ(turns(test), 1364U);

  const CorpusDialogue& d = train.front();
  EXPECT_EQ(d.dialogue_id, "movies_00000004");
  EXPECT_FALSE(d.turns[0].system_utterance.has_value());
  ASSERT_EQ(d.turns[0].user_intents.size(), 1U);
  EXPECT_EQ(d.turns[0].user_intents[0], "BUY_MOVIE_TICKETS");
  EXPECT_EQ(d.turns[0].state_value("time"), "6:00 pm");
  const CorpusTurn& t3 = d.turns[3];
  ASSERT_EQ(t3.system_acts.size(), 1U);
  EXPECT_EQ(t3.system_acts[0], (CorpusAct{"CONFIRM", "time", "6:00 pm"}));
  EXPECT_EQ(t3.system_utterance->text, "please confirm that the time is 6:00 pm");
  EXPECT_EQ(t3.state_value("movie"), "a man called ove");
  EXPECT_EQ(t3.state_value("theatre_name"), "camera 7");
  EXPECT_EQ(t3.state_value("nothing"), "");
}

TEST(Corpus, SimMRoundTripsThroughTheWriter) {
  const auto dev = load_corpus(kSimM + "/dev.json");
  EXPECT_EQ(parse_corpus(to_corpus_json(dev), "roundtrip"), dev);
}

TEST(Corpus, OntologyCollectsSortedSlotsAndFirstSeenValues) {
  const auto dev = load_corpus(kSimM + "/dev.json");
  const auto onto = CorpusOntology::from({&dev});
  const std::vector<std::string> slots = {"date", "movie", "num_tickets", "theatre_name", "time"};
  EXPECT_EQ(onto.slots, slots);
  EXPECT_EQ(onto.slot_index("movie"), 1);
  EXPECT_EQ(onto.slot_index("food"), -1);
  for (const auto& vs : onto.values) EXPECT_FALSE(vs.empty());
}

TEST(Corpus, MalformedInputNamesFileDialogueTurnAndField) {
  EXPECT_NE(error_of("[{").find("bad.json"), std::string::npos);
  EXPECT_NE(error_of("{}").find("expected a JSON list"), std::string::npos);
  EXPECT_NE(error_of(R"([{"turns": []}])").find("field 'dialogue_id' is missing"), std::string::npos);
  const std::string no_text = R"([{"dialogue_id": "d7", "turns": [{"user_utterance": {"tokens": []}, "dialogue_state": []}]}])";
  const std::string e1 = error_of(no_text);
  EXPECT_NE(e1.find("corpus 'bad.json': dialogue 'd7', turn 0: field 'user_utterance.text' is missing"), std::string::npos) << e1;
  const std::string bad_act = R"([{"dialogue_id": "d8", "turns": [{"user_utterance": {"text": "", "tokens": []},
      "user_acts": [{"type": "SHOUT"}], "dialogue_state": []}]}])";
  EXPECT_NE(error_of(bad_act).find("field 'user_acts[0].type' has unknown act type 'SHOUT'"), std::string::npos);
  const std::string bad_span = R"([{"dialogue_id": "d9", "turns": [{"user_utterance": {"text": "a b", "tokens": ["a", "b"],
      "slots": [{"slot": "x", "start": 1, "exclusive_end": 3}]}, "dialogue_state": []}]}])";
  EXPECT_NE(error_of(bad_span).find("dialogue 'd9', turn 0: field 'user_utterance.slots[0].start' span [1, 3)"),
            std::string::npos);
  const std::string bad_state = R"([{"dialogue_id": "d1", "turns": [{"user_utterance": {"text": "", "tokens": []},
      "dialogue_state": [{"slot": "time", "value": 5}]}]}])";
  EXPECT_NE(error_of(bad_state).find("field 'dialogue_state[0].value' must be a string"), std::string::npos);
  const std::string dup = R"([{"dialogue_id": "a", "turns": [{"user_utterance": {"text": "", "tokens": []}, "dialogue_state": []}]},
      {"dialogue_id": "a", "turns": [{"user_utterance": {"text": "", "tokens": []}, "dialogue_state": []}]}])";
  EXPECT_NE(error_of(dup).find("'dialogue_id' is not unique"), std::string::npos);
  // Non-UTF-8 bytes are a JSON error naming the file.
  EXPECT_NE(error_of("[\"\xff\"]").find("bad.json"), std::string::npos);
  EXPECT_THROW(load_corpus("/nonexistent/corpus.json"), DataError);
}

// Issue 21, item 7: `dialog dst --test` on a file holding `[]` reported 0 % over 0 turns.
TEST(Corpus, AFileWithNoDialogueIsRefusedNamingIt) {
  const auto path = std::filesystem::temp_directory_path() / "metadial_corpus_empty.json";
  save_corpus(path.string(), {});  // the generator writes this for a split of 0 dialogues
  try {
    load_corpus(path.string());
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("corpus '" + path.string() + "': no dialogues"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(parse_corpus("[]", "text").empty());  // the text itself is well formed
  std::filesystem::remove(path);
}

TEST(Corpus, TokenizerSplitsPunctuationButKeepsTimesAndContractions) {
  const std::vector<std::string> want = {"hi", ",", "i", "don't", "want", "7.30", "pm", "or", "6:00", "tickets", ".", "ok", "?"};
  EXPECT_EQ(tokenize("Hi, I don't want 7.30 pm  or 6:00 tickets. OK?"), want);
  EXPECT_TRUE(tokenize("   ").empty());
}

}  // namespace
}  // namespace metadial::dialog
