#include "metadial/agents/memn2n/babi.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "metadial/core/error.h"

namespace mm = metadial::agents::memn2n;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("metadial_memn2n_" + name);
  std::ofstream(path) << text;
  return path.string();
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const metadial::DataError& e) {
    return e.what();
  }
  return "<no DataError>";
}

const char* kTwoDialogs =
    "1 hi\thello what can i help you with today\n"
    "2 a table in paris\tok\n"
    "3 resto_1 R_cuisine thai\n"
    "4 <SILENCE>\tapi_call thai paris\n"
    "1 female young\n"
    "2 good morning\they girl\n";

}  // namespace

TEST(BabiReader, ParsesDialoguesTurnsAndContextLines) {
  const auto path = write_file("two.txt", kTwoDialogs);
  const auto dialogs = mm::read_dialogs(path);
  ASSERT_EQ(dialogs.size(), 2u);
  ASSERT_EQ(dialogs[0].lines.size(), 4u);
  EXPECT_FALSE(dialogs[0].lines[2].has_bot);
  EXPECT_EQ(dialogs[0].lines[2].user, "resto_1 R_cuisine thai");
  EXPECT_EQ(dialogs[0].lines[3].bot, "api_call thai paris");
  EXPECT_EQ(dialogs[1].lines[0].user, "female young");
  EXPECT_EQ(mm::read_dialogs(path, 1).size(), 1u);

  const auto ex = mm::make_examples(dialogs);
  ASSERT_EQ(ex.size(), 4u);  // one per bot response
  EXPECT_TRUE(ex[0].history.empty());
  EXPECT_EQ(ex[0].query, (std::vector<std::string>{"hi"}));
  // Third response: history = hi / hello..., a table in paris / ok, KB line.
  ASSERT_EQ(ex[2].history.size(), 5u);
  EXPECT_EQ(ex[2].history[4].speaker, mm::Speaker::kContext);
  EXPECT_EQ(ex[2].history[1].speaker, mm::Speaker::kBot);
  EXPECT_EQ(ex[2].history[2].words, (std::vector<std::string>{"a", "table", "in", "paris"}));
  EXPECT_EQ(ex[2].query, (std::vector<std::string>{"<SILENCE>"}));
  EXPECT_EQ(ex[2].answer, "api_call thai paris");
  EXPECT_EQ(ex[2].line, 4);
  // The second dialogue starts afresh, with its profile line as context.
  ASSERT_EQ(ex[3].history.size(), 1u);
  EXPECT_EQ(ex[3].history[0].words, (std::vector<std::string>{"female", "young"}));
}

TEST(BabiReader, RejectsMalformedLinesNamingFileAndLine) {
  const auto no_id = write_file("bad1.txt", "1 hi\thello\nhello there\tok\n");
  EXPECT_NE(error_of([&] { mm::read_dialogs(no_id); }).find("bad1.txt:2: malformed line"), std::string::npos);
  const auto jump = write_file("bad2.txt", "1 hi\thello\n2 x\ty\n4 z\tw\n");
  EXPECT_NE(error_of([&] { mm::read_dialogs(jump); }).find("bad2.txt:3: line ID 4 follows ID 2"), std::string::npos);
  const auto empty_bot = write_file("bad3.txt", "1 hi\t \n");
  EXPECT_NE(error_of([&] { mm::read_dialogs(empty_bot); }).find("bad3.txt:1: empty bot response"), std::string::npos);
  const auto two_tabs = write_file("bad4.txt", "1 hi\thello\tagain\n");
  EXPECT_NE(error_of([&] { mm::read_dialogs(two_tabs); }).find("bad4.txt:1: more than one tab"), std::string::npos);
  const auto zero = write_file("bad5.txt", "0 hi\thello\n");
  EXPECT_NE(error_of([&] { mm::read_dialogs(zero); }).find("bad5.txt:1"), std::string::npos);
  EXPECT_NE(error_of([] { mm::read_dialogs("/nonexistent/dialog.txt"); }).find("cannot open"), std::string::npos);
}

TEST(BabiReader, ReadsCandidatesAndNamesAResponseThatIsMissing) {
  const auto cpath = write_file("cands.txt", "1 hello what can i help you with today\n1 ok\n1 ok\n1 hey girl\n");
  const auto c = mm::CandidateSet::read(cpath);
  EXPECT_EQ(c.size(), 3);  // the duplicate "ok" is kept once
  EXPECT_EQ(c.find("hey girl"), 2);
  EXPECT_EQ(c.find("nope"), -1);
  const auto ex = mm::make_examples(mm::read_dialogs(write_file("two.txt", kTwoDialogs)));
  EXPECT_EQ(c.index_of(ex[1]), 1);
  const std::string msg = error_of([&] { c.index_of(ex[2]); });
  EXPECT_NE(msg.find("two.txt:4: response 'api_call thai paris' is not among the 3 candidates of"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("cands.txt"), std::string::npos);
  const auto bad = write_file("cands_bad.txt", "1 ok\nok then\n");
  EXPECT_NE(error_of([&] { mm::CandidateSet::read(bad); }).find("cands_bad.txt:2"), std::string::npos);
}

TEST(BabiReader, VocabularyReservesPaddingAndUnknown) {
  mm::Vocabulary v;
  EXPECT_EQ(v.id("<pad>"), 0);
  EXPECT_EQ(v.id("never-seen"), 1);
  const int64_t a = v.add("paris");
  EXPECT_EQ(a, 2);
  EXPECT_EQ(v.add("paris"), 2);
  EXPECT_EQ(v.word(2), "paris");
  EXPECT_EQ(mm::tokenize("  a  b c "), (std::vector<std::string>{"a", "b", "c"}));
}

// The real-dialogue files of task 6 (dialog-babi-task6-dstc2-*.txt) write a turn whose
// speech-recognition transcript was empty as `ID <TAB>bot`, and some bot sides start with a space.
TEST(BabiReader, ReadsAnEmptyUserSideAsSilenceAndCountsIt) {
  const auto path = write_file("task6.txt",
                               "1 <SILENCE>\tHello , welcome to the Cambridge restaurant system .\n"
                               "2 cheap restaurant in the north\tapi_call R_cuisine north cheap\n"
                               "3 \tSorry I am a bit confused ; please tell me again what you are looking for .\n"
                               "4 thank you good bye\t you are welcome\n"
                               "1  \tHello , welcome to the Cambridge restaurant system .\n");
  mm::DialogReadStats st;
  const auto dialogs = mm::read_dialogs(path, -1, &st);
  ASSERT_EQ(dialogs.size(), 2u);
  EXPECT_EQ(dialogs[0].lines[2].user, "<SILENCE>");
  EXPECT_EQ(dialogs[0].lines[2].bot, "Sorry I am a bit confused ; please tell me again what you are looking for .");
  EXPECT_EQ(dialogs[0].lines[3].bot, "you are welcome");  // as in the candidate file
  EXPECT_EQ(dialogs[1].lines[0].user, "<SILENCE>");
  EXPECT_EQ(st.dialogs, 2);
  EXPECT_EQ(st.responses, 5);
  EXPECT_EQ(st.silent_turns, 2);
  EXPECT_EQ(st.context_lines, 0);
  const auto ex = mm::make_examples(dialogs);
  ASSERT_EQ(ex.size(), 5u);
  EXPECT_EQ(ex[2].query, (std::vector<std::string>{"<SILENCE>"}));

  // A line that needs a tab and has none is still refused: ID with no text, and no bot side.
  const auto no_text = write_file("bad6.txt", "1 hi\thello\n2 \n");
  EXPECT_NE(error_of([&] { mm::read_dialogs(no_text); }).find("bad6.txt:2: malformed line '2'"), std::string::npos);
  const auto nothing = write_file("bad7.txt", "1 hi\thello\n2 \t \n");
  EXPECT_NE(error_of([&] { mm::read_dialogs(nothing); }).find("bad7.txt:2: empty bot response"), std::string::npos);
}

TEST(BabiReader, AFileWithoutAnyResponseIsRefusedNamingIt) {
  const auto path = write_file("noresp.txt", "1 resto_1 R_cuisine thai\n2 resto_1 R_location paris\n");
  const auto dialogs = mm::read_dialogs(path);  // context lines only: read, but nothing to score
  const std::string msg = error_of([&] { mm::make_examples(dialogs); });
  EXPECT_NE(msg.find("noresp.txt: no bot response in 1 dialogue (no line 'ID user<TAB>bot')"), std::string::npos)
      << msg;
  EXPECT_TRUE(mm::make_examples({}).empty());  // no dialogue asked for (max_dialogs 0): nothing to refuse
}

TEST(BabiReader, CountsSentencesLongerThanTheCapAndKeepsTheirFirstWordsInTheVocabulary) {
  std::string huge = "1 ";
  for (int i = 0; i < 200000; ++i) huge += "w" + std::to_string(i) + " ";
  const auto path = write_file("huge.txt", "1 hi\thello\n" + huge + "\tok\n2 bye\tok\n");
  mm::DialogReadStats st;
  const auto dialogs = mm::read_dialogs(path, -1, &st);
  EXPECT_EQ(st.long_sentences, 1);
  EXPECT_EQ(st.first_long_line, 2);
  EXPECT_EQ(st.longest_sentence, 200000);
  mm::Vocabulary v;
  v.add_all(mm::make_examples(dialogs), mm::CandidateSet({"hello", "ok"}), 2);
  EXPECT_EQ(v.id("w63"), v.id("w0") + 63);
  EXPECT_EQ(v.id("w64"), 1);  // past the cap: never encoded, so not in the vocabulary
  EXPECT_LT(v.size(), 100);
}
