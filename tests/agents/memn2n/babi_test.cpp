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
