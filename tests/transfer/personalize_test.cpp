// Personalized bAbI task 3 generation (transfer/personalize.h): the offering order on hand-checked
// dialogues, speech style per profile, counts, the candidate list, determinism, bad input (library
// and `metadial data personalize`), and the published data when ../shared/data is there.
#include "metadial/transfer/personalize.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "metadial/core/error.h"
#include "support/binary_test.h"

namespace fs = std::filesystem;
using namespace metadial;
using namespace metadial::transfer;
namespace mm = metadial::agents::memn2n;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("metadial_personalize_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// A KB of two bAbI restaurants, resto_a (rating 6, indian) and resto_b (rating 7, indian):
//   resto_a_1 veg biryani, resto_a_2 non-veg curry, resto_b_1 veg curry, resto_b_2 non-veg biryani.
// Hand-computed scores (rating + 8 diet + 2.5 favourite):
//   veg, biryani:     a_1 16.5, b_1 15, b_2 9.5, a_2 6      -> a_1 b_1 b_2 a_2
//   veg, curry:       b_1 17.5, a_1 14, b_2 7,   a_2 8.5    -> b_1 a_1 a_2 b_2
//   non-veg, biryani: b_2 17.5, a_2 14, a_1 8.5, b_1 7      -> b_2 a_2 a_1 b_1
//   non-veg, curry:   a_2 16.5, b_2 15, b_1 9.5, a_1 6      -> a_2 b_2 b_1 a_1
std::string kb_text() {
  std::ostringstream s;
  const std::vector<std::tuple<std::string, int, std::string, std::string>> rs = {
      {"resto_a_1", 6, "veg", "biryani"},
      {"resto_a_2", 6, "non-veg", "curry"},
      {"resto_b_1", 7, "veg", "curry"},
      {"resto_b_2", 7, "non-veg", "biryani"}};
  for (const auto& [n, rating, type, spec] : rs) {
    for (const char* a : {"R_phone", "R_address", "R_social_media", "R_parking", "R_public_transport"})
      s << "1 " << n << " " << a << "\t" << n << "_" << std::string(a).substr(2) << "\n";
    s << "1 " << n << " R_cuisine\tindian\n1 " << n << " R_location\trome\n1 " << n << " R_price\tcheap\n";
    s << "1 " << n << " R_number\tfour\n1 " << n << " R_rating\t" << rating << "\n";
    s << "1 " << n << " R_type\t" << type << "\n1 " << n << " R_speciality\t" << spec << "\n";
  }
  return s.str();
}

// One bAbI task 3 dialogue over resto_a and resto_b.
std::string babi_dialogue() {
  std::ostringstream s;
  int id = 1;
  for (const auto& [n, r] : std::vector<std::pair<std::string, int>>{{"resto_a", 6}, {"resto_b", 7}}) {
    s << id++ << " " << n << " R_phone " << n << "_phone\n";
    s << id++ << " " << n << " R_rating " << r << "\n";
  }
  s << id++ << " good morning\thello what can i help you with today\n";
  s << id++ << " may i have a table with indian food in rome for four in a cheap price range\ti'm on it\n";
  s << id++ << " <SILENCE>\tok let me look into some options for you\n";
  s << id++ << " <SILENCE>\twhat do you think of this option: resto_b\n";
  s << id++ << " i love that\tgreat let me do the reservation\n";
  return s.str();
}

std::string babi_file(int dialogues) {
  std::string s;
  for (int i = 0; i < dialogues; ++i) s += babi_dialogue() + "\n";
  return s;
}

// A bAbI folder with `n` dialogues per split and the KB; returns (babi dir, kb file).
std::pair<std::string, std::string> write_inputs(const fs::path& dir, int n) {
  fs::create_directories(dir / "babi");
  for (const char* s : {"trn", "dev", "tst", "tst-OOV"})
    write(dir / "babi" / (std::string("dialog-babi-task3-options-") + s + ".txt"), babi_file(n));
  write(dir / "kb.txt", kb_text());
  return {(dir / "babi").string(), (dir / "kb.txt").string()};
}

// The restaurants a generated dialogue offers, in order, and whether the last one was accepted.
struct Offers {
  std::vector<std::string> restaurants;
  bool accepted_last = false;
};
Offers offers_of(const mm::Dialog& d) {
  Offers o;
  for (size_t i = 0; i < d.lines.size(); ++i) {
    const auto& l = d.lines[i];
    if (!l.has_bot) continue;
    const auto colon = l.bot.find(": resto_");
    if (colon != std::string::npos) o.restaurants.push_back(l.bot.substr(colon + 2));
  }
  o.accepted_last = !d.lines.empty() && d.lines.back().has_bot &&
                    (d.lines.back().user == "that looks great" || d.lines.back().user == "i love that" ||
                     d.lines.back().user == "let's do it" || d.lines.back().user == "it's perfect");
  return o;
}

std::vector<std::string> split_words(const std::string& s) { return mm::tokenize(s); }

std::string slurp(const fs::path& p) { return metadial::testing::slurp(p); }

}  // namespace

TEST(PersonalizeTest, OfferingOrderFollowsTheRuleOnHandCheckedProfiles) {
  const fs::path dir = temp_dir("order");
  write(dir / "kb.txt", kb_text());
  const PersonalizedKb kb = PersonalizedKb::read((dir / "kb.txt").string());
  const std::vector<std::string> rs{"resto_a_1", "resto_a_2", "resto_b_1", "resto_b_2"};
  using V = std::vector<std::string>;
  EXPECT_EQ(offering_order(rs, kb, {"", "", "veg", "biryani"}), (V{"resto_a_1", "resto_b_1", "resto_b_2", "resto_a_2"}));
  EXPECT_EQ(offering_order(rs, kb, {"", "", "veg", "curry"}), (V{"resto_b_1", "resto_a_1", "resto_a_2", "resto_b_2"}));
  EXPECT_EQ(offering_order(rs, kb, {"", "", "non-veg", "biryani"}),
            (V{"resto_b_2", "resto_a_2", "resto_a_1", "resto_b_1"}));
  EXPECT_EQ(offering_order(rs, kb, {"", "", "non-veg", "curry"}), (V{"resto_a_2", "resto_b_2", "resto_b_1", "resto_a_1"}));
  EXPECT_DOUBLE_EQ(offering_score(kb, "resto_a_1", {"", "", "veg", "biryani"}), 16.5);
  // Equal scores keep the given order (the published sort is stable): a favourite nobody serves
  // and a diet nobody has leave the ratings, 6 6 7 7.
  EXPECT_EQ(offering_order({"resto_b_2", "resto_a_2", "resto_b_1", "resto_a_1"}, kb, {"", "", "vegan", "sushi"}),
            (V{"resto_b_2", "resto_b_1", "resto_a_2", "resto_a_1"}));
}

TEST(PersonalizeTest, GeneratedDialoguesOfferInTheProfilesOrderAndStopAtAnAcceptance) {
  const fs::path dir = temp_dir("dialogues");
  write(dir / "kb.txt", kb_text());
  write(dir / "babi.txt", babi_file(50));
  const PersonalizedKb kb = PersonalizedKb::read((dir / "kb.txt").string());
  const auto babi = mm::read_dialogs((dir / "babi.txt").string());
  Rng rng(3);
  const auto full = personalize_task3(babi, kb, /*small=*/false, rng);
  ASSERT_EQ(full.size(), 50u * 12u);  // 2 diets x 6 profiles per bAbI dialogue
  const std::vector<std::string> rs{"resto_a_1", "resto_a_2", "resto_b_1", "resto_b_2"};
  std::map<std::string, int> profiles;
  int64_t rejections = 0, offers_not_last = 0;
  for (const auto& d : full) {
    ASSERT_FALSE(d.lines.empty());
    const auto head = split_words(d.lines[0].user);
    ASSERT_EQ(head.size(), 4u) << d.lines[0].user;
    ++profiles[head[0] + " " + head[1] + " " + head[2]];
    EXPECT_TRUE(head[3] == "biryani" || head[3] == "curry");
    // 4 restaurants x 12 KB lines after the profile, each restaurant's lines together.
    for (size_t i = 1; i <= 48; ++i) ASSERT_FALSE(d.lines[i].has_bot);
    const auto expected = offering_order(rs, kb, {head[0], head[1], head[2], head[3]});
    const Offers o = offers_of(d);
    ASSERT_FALSE(o.restaurants.empty());
    ASSERT_LE(o.restaurants.size(), expected.size());
    for (size_t i = 0; i < o.restaurants.size(); ++i) EXPECT_EQ(o.restaurants[i], expected[i]);
    EXPECT_TRUE(o.accepted_last);
    rejections += static_cast<int64_t>(o.restaurants.size()) - 1;
    offers_not_last += static_cast<int64_t>(std::min(o.restaurants.size(), expected.size() - 1));
  }
  // Every (gender, age, diet) combination once per bAbI dialogue.
  ASSERT_EQ(profiles.size(), 12u);
  for (const auto& [p, n] : profiles) EXPECT_EQ(n, 50) << p;
  // Offers that were not the last were accepted with probability 0.25: 1 - rejections / offers.
  const double accepted = 1.0 - static_cast<double>(rejections) / static_cast<double>(offers_not_last);
  EXPECT_NEAR(accepted, 0.25, 0.05) << offers_not_last << " offers";
}

TEST(PersonalizeTest, SpeechStyleFollowsTheProfile) {
  std::array<std::string, 6> v;
  ASSERT_TRUE(speech_style_variants("what do you think of this option: resto_x_1", v));
  EXPECT_EQ(v[0], "is this one cool: resto_x_1");
  EXPECT_EQ(v[5], "would you consider this option: resto_x_1");
  ASSERT_TRUE(speech_style_variants("hello what can i help you with today", v));
  EXPECT_EQ(v[1], "hey girl how is it going");
  EXPECT_FALSE(speech_style_variants("this is not a babi utterance", v));

  const fs::path dir = temp_dir("style");
  write(dir / "kb.txt", kb_text());
  write(dir / "babi.txt", babi_file(20));
  const PersonalizedKb kb = PersonalizedKb::read((dir / "kb.txt").string());
  Rng rng(5);
  const auto small = personalize_task3(mm::read_dialogs((dir / "babi.txt").string()), kb, /*small=*/true, rng);
  ASSERT_EQ(small.size(), 20u);
  for (const auto& d : small) {
    const auto head = split_words(d.lines[0].user);
    size_t p = 0;
    while (p < 6 && !(speech_profiles()[p].first == head[0] && speech_profiles()[p].second == head[1])) ++p;
    ASSERT_LT(p, 6u) << d.lines[0].user;
    for (const auto& l : d.lines) {
      if (!l.has_bot || l.bot.find(": resto_") != std::string::npos) continue;
      // The bot's sentence is the profile's variant of some table entry.
      bool found = false;
      for (const char* u : {"hello what can i help you with today", "i'm on it", "ok let me look into some options for you",
                            "great let me do the reservation", "sure let me find an other option for you"}) {
        ASSERT_TRUE(speech_style_variants(u, v));
        found = found || v[p] == l.bot;
      }
      EXPECT_TRUE(found) << l.bot << " for " << d.lines[0].user;
    }
  }
}

TEST(PersonalizeTest, FilesCountsCandidatesAndSameSeedSameFiles) {
  const fs::path dir = temp_dir("files");
  const auto [babi, kb] = write_inputs(dir, 30);
  PersonalizeOptions o;
  o.babi_dir = babi;
  o.kb_file = kb;
  o.out_dir = (dir / "out1").string();
  o.seed = 11;
  o.small = true;
  const auto files = generate_personalized(o);
  ASSERT_EQ(files.size(), 5u);
  std::set<std::string> candidates;
  {
    std::ifstream in(dir / "out1" / personalized_file_name("candidates"));
    std::string line;
    while (std::getline(in, line)) {
      ASSERT_EQ(line.substr(0, 2), "1 ");
      candidates.insert(line.substr(2));
    }
  }
  EXPECT_EQ(static_cast<int64_t>(candidates.size()), files.back().responses);
  for (size_t i = 0; i < 4; ++i) {
    const auto dialogs = mm::read_dialogs(files[i].path);
    EXPECT_EQ(dialogs.size(), 30u) << files[i].split;  // small: one per bAbI dialogue
    EXPECT_EQ(files[i].dialogs, 30);
    for (const auto& d : dialogs)
      for (const auto& l : d.lines)
        if (l.has_bot) {
          EXPECT_TRUE(candidates.contains(l.bot)) << l.bot;
        }
  }
  // Same seed, same bytes (into a folder holding the previous run's files: allowed).
  o.out_dir = (dir / "out2").string();
  generate_personalized(o);
  for (const char* s : {"trn", "dev", "tst", "tst-OOV", "candidates"})
    EXPECT_EQ(slurp(dir / "out1" / personalized_file_name(s)), slurp(dir / "out2" / personalized_file_name(s))) << s;
  generate_personalized(o);  // a re-run into its own output
  EXPECT_EQ(slurp(dir / "out1" / personalized_file_name("trn")), slurp(dir / "out2" / personalized_file_name("trn")));
  o.seed = 12;
  o.out_dir = (dir / "out3").string();
  generate_personalized(o);
  EXPECT_NE(slurp(dir / "out1" / personalized_file_name("trn")), slurp(dir / "out3" / personalized_file_name("trn")));
  // The full set: 12 per bAbI dialogue.
  o.small = false;
  o.out_dir = (dir / "out4").string();
  const auto full = generate_personalized(o);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(full[i].dialogs, 360);
}

namespace {

// The first line of the message `f` throws as a DataError or InvalidArgument ("" if none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const metadial::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PersonalizeTest, BadInputIsOneLineNamingFileLineAndProblem) {
  const fs::path dir = temp_dir("bad");
  const auto [babi, kb] = write_inputs(dir, 3);
  PersonalizeOptions o;
  o.babi_dir = babi;
  o.kb_file = kb;
  o.out_dir = (dir / "out").string();
  auto msg = [&](const PersonalizeOptions& opt) { return error_of([&] { generate_personalized(opt); }); };

  PersonalizeOptions t = o;
  t.task = 1;
  EXPECT_NE(msg(t).find("only task 3"), std::string::npos) << msg(t);
  t = o;
  t.kb_file = (dir / "missing.txt").string();
  EXPECT_NE(msg(t).find("missing.txt: cannot open"), std::string::npos) << msg(t);

  write(dir / "kb-bad.txt", "1 resto_a_1 R_type\tveg\n1 resto_a_1\n");
  t.kb_file = (dir / "kb-bad.txt").string();
  EXPECT_NE(msg(t).find("kb-bad.txt:2: expected 'ID name attribute<TAB>value'"), std::string::npos) << msg(t);

  write(dir / "kb-rating.txt", "1 resto_a_1 R_type\tveg\n1 resto_a_1 R_speciality\tpho\n1 resto_a_1 R_rating\tfive\n");
  t.kb_file = (dir / "kb-rating.txt").string();
  EXPECT_NE(msg(t).find("kb-rating.txt:3: R_rating of resto_a_1 is 'five'"), std::string::npos) << msg(t);

  // The bAbI KB (no R_type, no R_speciality).
  write(dir / "kb-babi.txt", "1 resto_a R_cuisine\tindian\n1 resto_a R_rating\t6\n");
  t.kb_file = (dir / "kb-babi.txt").string();
  EXPECT_NE(msg(t).find("kb-babi.txt: the knowledge base has no R_type attribute"), std::string::npos) << msg(t);
  write(dir / "kb-nospec.txt", "1 resto_a_1 R_rating\t6\n1 resto_a_1 R_type\tveg\n");
  t.kb_file = (dir / "kb-nospec.txt").string();
  EXPECT_NE(msg(t).find("kb-nospec.txt: the knowledge base has no R_speciality attribute"), std::string::npos) << msg(t);
  write(dir / "kb-partial.txt", "1 resto_a_1 R_rating\t6\n1 resto_a_1 R_type\tveg\n1 resto_a_1 R_speciality\tpho\n"
                                "1 resto_b_1 R_rating\t6\n1 resto_b_1 R_speciality\tpho\n");
  t.kb_file = (dir / "kb-partial.txt").string();
  EXPECT_NE(msg(t).find("kb-partial.txt:4: restaurant resto_b_1 has no R_type attribute"), std::string::npos) << msg(t);

  // A dialogue restaurant missing from the KB (resto_b has no _1 / _2 here).
  t = o;
  write(dir / "kb-a.txt", kb_text().substr(0, kb_text().find("1 resto_b_1")));
  t.kb_file = (dir / "kb-a.txt").string();
  EXPECT_NE(msg(t).find("dialog-babi-task3-options-trn.txt:3: restaurant resto_b_1 (personalized variant of resto_b) "
                        "is not in the knowledge base"),
            std::string::npos)
      << msg(t);

  // Malformed and missing bAbI files.
  t = o;
  fs::create_directories(dir / "babi2");
  for (const char* s : {"trn", "dev", "tst", "tst-OOV"})
    fs::copy_file(dir / "babi" / (std::string("dialog-babi-task3-options-") + s + ".txt"),
                  dir / "babi2" / (std::string("dialog-babi-task3-options-") + s + ".txt"));
  write(dir / "babi2" / "dialog-babi-task3-options-dev.txt", babi_dialogue() + "7 jumped\tover\n");
  t.babi_dir = (dir / "babi2").string();
  EXPECT_NE(msg(t).find("dialog-babi-task3-options-dev.txt:10: line ID 7 follows ID 9"), std::string::npos) << msg(t);
  write(dir / "babi2" / "dialog-babi-task3-options-dev.txt", "1 resto_a R_rating 6\n2 hello\tgreat let me do the reservation\n");
  EXPECT_NE(msg(t).find("dialog-babi-task3-options-dev.txt:1: the dialogue never says 'ok let me look"), std::string::npos)
      << msg(t);
  write(dir / "babi2" / "dialog-babi-task3-options-dev.txt",
        "1 resto_a R_rating 6\n2 hello\tbonjour\n3 <SILENCE>\tok let me look into some options for you\n");
  EXPECT_NE(msg(t).find("dialog-babi-task3-options-dev.txt:2: the bot utterance 'bonjour' has no speech-style variants"),
            std::string::npos)
      << msg(t);
  fs::remove(dir / "babi2" / "dialog-babi-task3-options-dev.txt");
  EXPECT_NE(msg(t).find("dialog-babi-task3-options-dev.txt: cannot open"), std::string::npos) << msg(t);

  // An output folder holding other files; nothing is written.
  t = o;
  fs::create_directories(dir / "busy");
  write(dir / "busy" / "notes.md", "mine\n");
  t.out_dir = (dir / "busy").string();
  EXPECT_NE(msg(t).find("busy: the output folder exists and holds 1 other file(s) (first: notes.md)"), std::string::npos)
      << msg(t);
  EXPECT_FALSE(fs::exists(dir / "busy" / personalized_file_name("trn")));
  for (const auto& m : {msg(t)}) EXPECT_EQ(m.find('\n'), std::string::npos);
}

class PersonalizeCliTest : public metadial::testing::BinaryTest {};

TEST_F(PersonalizeCliTest, WritesTheFilesAndFailsWithOneLineAndExit2) {
  const auto [babi, kb] = write_inputs(dir_, 4);
  auto r = run("data personalize --task 3 --babi '" + babi + "' --kb '" + kb + "' --out out --seed 1 --small");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("trn"), std::string::npos);
  EXPECT_EQ(mm::read_dialogs((dir_ / "out" / personalized_file_name("tst-OOV")).string()).size(), 4u);
  write(dir_ / "kb-babi.txt", "1 resto_a R_cuisine\tindian\n");
  r = run("data personalize --task 3 --babi '" + babi + "' --kb kb-babi.txt --out out2 --seed 1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("kb-babi.txt: the knowledge base has no R_type attribute"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run("data personalize --task 5 --babi '" + babi + "' --kb '" + kb + "' --out out3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("only task 3"), std::string::npos) << r.err;
}

// The published inputs, when this checkout has them (../shared/data): the small set has 1000
// dialogues a split like the bAbI files; every bot sentence that names no restaurant is one the
// published personalized candidate file (tasks 1-5) holds, so the speech-style table is theirs.
TEST(PersonalizeSharedDataTest, SmallSetFromThePublishedFiles) {
  const fs::path data = fs::path(METADIAL_SOURCE_DIR) / ".." / "shared" / "data";
  const fs::path kb = data / "personalized-dialog" / "full" / "personalized-dialog-kb-all.txt";
  const fs::path published = data / "personalized-dialog" / "personalized-dialog-candidates.txt";
  if (!fs::exists(kb) || !fs::exists(data / "babi-dialog" / "dialog-babi-task3-options-trn.txt") ||
      !fs::exists(published))
    GTEST_SKIP() << "no ../shared/data in this checkout";
  const fs::path dir = temp_dir("shared");
  PersonalizeOptions o;
  o.babi_dir = (data / "babi-dialog").string();
  o.kb_file = kb.string();
  o.out_dir = (dir / "out").string();
  o.seed = 1;
  o.small = true;
  const auto files = generate_personalized(o);
  const auto cands = mm::CandidateSet::read(published.string());
  const PersonalizedKb pkb = PersonalizedKb::read(kb.string());
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(files[i].dialogs, 1000) << files[i].split;
    const auto dialogs = mm::read_dialogs(files[i].path);
    ASSERT_EQ(dialogs.size(), 1000u);
    for (const auto& d : dialogs) {
      const auto head = split_words(d.lines[0].user);
      ASSERT_EQ(head.size(), 4u);
      std::vector<std::string> rs;
      for (const auto& l : d.lines)
        if (!l.has_bot && l.user.find(" R_rating ") != std::string::npos) rs.push_back(split_words(l.user)[0]);
      const auto expected = offering_order(rs, pkb, {head[0], head[1], head[2], head[3]});
      const Offers offers = offers_of(d);
      for (size_t k = 0; k < offers.restaurants.size(); ++k) ASSERT_EQ(offers.restaurants[k], expected[k]);
      for (const auto& l : d.lines)
        if (l.has_bot && l.bot.find("resto_") == std::string::npos) {
          EXPECT_GE(cands.find(l.bot), 0) << l.bot;
        }
    }
  }
}
