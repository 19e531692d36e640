// The end-to-end agent's commands as a user runs them: the real binary, with `dialog chat`
// driven through standard input by a fixed script. Built with LibTorch only.
#if METADIAL_WITH_TORCH
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/binary_test.h"

namespace fs = std::filesystem;

namespace {

using ::testing::HasSubstr;

using Result = metadial::testing::CliResult;
using metadial::testing::slurp;

using E2eChatCli = metadial::testing::BinaryTest;

TEST_F(E2eChatCli, TrainChatTeachEvalAndRetrainFromTheTaughtCorpus) {
  ASSERT_EQ(run("dialog corpus --out c --train 30 --dev 4 --test 4 --seed 3").code, 0);
  const char* tiny = " --epochs 2 --word-dim 16 --utter-hidden 16 --dialog-hidden 24 --slot-hidden 16 --policy-hidden 16";
  const Result t = run(std::string("dialog e2e train --train c/train.json --dev c/dev.json --eval-dialogues 0 --out agent.pt") + tiny);
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_THAT(t.out, HasSubstr("agent written to agent.pt"));

  // num_tickets=6 is a value of the movie domain; a 0 picks the first action of the list.
  write("script.txt",
        "i want to see a movie\n"
        "num_tickets=zzz\n"
        "num_tickets=6\n"
        "a 0\n"
        "\n"
        "\n"
        "\xff\xfe\n"
        "ok\n"
        "\n"
        "bye\n"
        "quit\n");
  const Result c = run("dialog chat --model agent.pt --teach --corpus-out taught.json", "script.txt");
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.err, "");
  EXPECT_THAT(c.out, HasSubstr("--- dialogue 1 ---"));
  EXPECT_THAT(c.out, HasSubstr("agent: "));
  EXPECT_THAT(c.out, HasSubstr("'zzz' is not a value of slot 'num_tickets' (e.g. '"));
  EXPECT_THAT(c.out, HasSubstr("empty input: type what you want, or 'bye'\n"));
  const auto utf8 = c.out.find("input is not valid UTF-8 (byte 1)");
  ASSERT_NE(utf8, std::string::npos) << c.out;
  const auto next = c.out.find("  tracked: ", utf8);  // the turn after the bad line
  ASSERT_NE(next, std::string::npos) << c.out;
  EXPECT_THAT(c.out.substr(next, c.out.find('\n', next) - next), HasSubstr("num_tickets=6 (corrected)"));
  EXPECT_THAT(c.out, HasSubstr("dialogue 1 saved as 'movie_chat_1'"));
  const auto taught = nlohmann::json::parse(slurp(dir_ / "taught.json"));
  ASSERT_EQ(taught.size(), 1U);
  const auto& turn0 = taught[0]["turns"][0];
  EXPECT_EQ(turn0["user_utterance"]["text"], "i want to see a movie");
  EXPECT_THAT(turn0["dialogue_state"].dump(), HasSubstr(R"({"slot":"num_tickets","value":"6"})"));

  const Result e = run("dialog e2e eval --model agent.pt --dialogues 5 --test c/test.json --json");
  ASSERT_EQ(e.code, 0) << e.err;
  const auto ej = nlohmann::json::parse(e.out);
  EXPECT_EQ(ej["dialogues"], 5);
  EXPECT_TRUE(ej["test"].contains("action_accuracy"));

  const Result il = run("dialog e2e train --stage il --model agent.pt --train c/train.json --il-corpus taught.json "
                        "--il-dialogues 5 --eval-every 5 --eval-dialogues 3 --out agent2.pt");
  ASSERT_EQ(il.code, 0) << il.err;
  EXPECT_THAT(il.out, HasSubstr("il: 1 taught dialogues from 'taught.json' join the corpus"));
  EXPECT_THAT(il.out, HasSubstr("agent written to agent2.pt"));

  // Bad input: one line, exit 2.
  const Result d = run("dialog chat --model agent.pt --domain restaurant", "script.txt");
  EXPECT_EQ(d.code, 2);
  EXPECT_THAT(d.err, HasSubstr("is an e2e agent for domain 'movie', not 'restaurant'"));
  EXPECT_EQ(std::count(d.err.begin(), d.err.end(), '\n'), 1) << d.err;
  const Result f = run("dialog e2e eval --model c/train.json");
  EXPECT_EQ(f.code, 2);
  EXPECT_THAT(f.err, HasSubstr("'c/train.json' is not a metadial e2e agent"));
}

}  // namespace

#endif  // METADIAL_WITH_TORCH
