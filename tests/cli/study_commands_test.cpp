// `metadial study delete|rename`, run in-process: the command is declared on a CLI::App, an argv
// is parsed and run() writes into a string.
#include "cli/study_commands.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "metadial/core/error.h"
#include "metadial/storage/sqlite.h"
#include "storage/temp_db.h"

namespace metadial::cli {
namespace {

using storage::SqliteStorage;
using study::Direction;
using study::TrialState;

class StudyCommandTest : public ::testing::Test {
 protected:
  storage::testing::TempDb db_;
  std::string url_ = "sqlite:" + db_.str();

  /// Creates study `name` with `complete` finished trials and `running` running ones.
  void make_study(const std::string& name, int complete, int running = 0) {
    SqliteStorage st(db_.str());
    const int64_t id =
        st.create_or_load_study(name, Direction::kMinimize, nlohmann::json::array(), {{"sampler", "random"}}).id;
    for (int i = 0; i < complete; ++i) {
      const auto t = st.create_trial(id, "w");
      st.report_intermediate(t.id, 0, 1.0);
      st.finish_trial(t.id, TrialState::kComplete, 1.0 * i, 0.0, "");
    }
    for (int i = 0; i < running; ++i) st.create_trial(id, "w");
  }

  /// Parses "study ..." as the program would and runs the command; returns what it printed.
  /// Throws what run() throws; a parse error fails the test.
  std::string run(const std::string& command_line) {
    const auto command = make_study_command();
    CLI::App app{"metadial"};
    command->add_to(app);
    app.parse(command_line, /*program_name_included=*/false);
    std::ostringstream out;
    EXPECT_EQ(command->run(out), 0);
    return out.str();
  }

  /// The message of the metadial::Error subclass E that running `command_line` throws.
  template <typename E>
  std::string error_of(const std::string& command_line) {
    try {
      run(command_line);
    } catch (const E& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
      return msg;
    }
    ADD_FAILURE() << "expected an error from: " << command_line;
    return "";
  }

  std::vector<std::string> study_names() {
    SqliteStorage st(db_.str());
    std::vector<std::string> names;
    for (const auto& s : st.list_studies()) names.push_back(s.name);
    return names;
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(StudyCommandTest, DeleteWithYesDeletesTheStudyAndPrintsOneLine) {
  make_study("x", 42);
  make_study("keep", 2);
  EXPECT_EQ(run("study delete x --yes --storage " + url_), "deleted study 'x' (42 trials) from " + url_ + "\n");
  EXPECT_EQ(study_names(), (std::vector<std::string>{"keep"}));
  SqliteStorage st(db_.str());
  EXPECT_EQ(st.trials(st.find_study("keep")->id).size(), 2u);
}

TEST_F(StudyCommandTest, DeleteWithoutYesRefusesAndDeletesNothing) {
  make_study("x", 3);
  const std::string msg = error_of<InvalidArgument>("study delete x --storage " + url_);
  EXPECT_TRUE(contains(msg, "not deleting study 'x' (3 trials)")) << msg;
  EXPECT_TRUE(contains(msg, "add --yes")) << msg;
  EXPECT_EQ(study_names(), (std::vector<std::string>{"x"}));
  SqliteStorage st(db_.str());
  EXPECT_EQ(st.trials(st.find_study("x")->id).size(), 3u);
}

TEST_F(StudyCommandTest, AUserErrorExitsWith2AndOneLine) {
  make_study("x", 1);
  const auto command = make_study_command();
  CLI::App app{"metadial"};
  command->add_to(app);
  app.parse("study delete x --storage " + url_, false);
  std::ostringstream out, err;
  EXPECT_EQ(run_guarded(*command, out, err), 2);
  EXPECT_EQ(out.str(), "");
  const std::string line = err.str();
  EXPECT_EQ(line.rfind("metadial: not deleting study 'x' (1 trial)", 0), 0u) << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
}

TEST_F(StudyCommandTest, DeleteRefusesRunningTrialsUnlessForced) {
  make_study("busy", 2, 1);
  std::string msg = error_of<StorageError>("study delete busy --yes --storage " + url_);
  EXPECT_TRUE(contains(msg, "refusing to delete study 'busy': 1 trial is still running")) << msg;
  EXPECT_TRUE(contains(msg, "--force")) << msg;
  // Without --yes the refusal mentions both.
  msg = error_of<InvalidArgument>("study delete busy --storage " + url_);
  EXPECT_TRUE(contains(msg, "add --yes")) << msg;
  EXPECT_TRUE(contains(msg, "--force")) << msg;
  EXPECT_EQ(study_names(), (std::vector<std::string>{"busy"}));

  EXPECT_EQ(run("study delete busy --yes --force --storage " + url_),
            "deleted study 'busy' (3 trials) from " + url_ + "\n");
  EXPECT_TRUE(study_names().empty());
}

TEST_F(StudyCommandTest, DeleteOfAMissingStudyNamesTheStoredStudies) {
  make_study("alpha", 1);
  make_study("beta", 1);
  const std::string msg = error_of<StorageError>("study delete gamma --yes --storage " + url_);
  EXPECT_TRUE(contains(msg, "no study 'gamma'")) << msg;
  EXPECT_TRUE(contains(msg, "alpha, beta")) << msg;
  EXPECT_EQ(study_names(), (std::vector<std::string>{"alpha", "beta"}));
}

TEST_F(StudyCommandTest, NeverCreatesAStorageThatIsNotThere) {
  const std::string missing = db_.str();  // TempDb has not created the file
  std::string msg = error_of<StorageError>("study delete x --yes --storage sqlite:" + missing);
  EXPECT_TRUE(contains(msg, "does not exist")) << msg;
  msg = error_of<StorageError>("study rename x y --storage sqlite:" + missing);
  EXPECT_TRUE(contains(msg, "does not exist")) << msg;
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_FALSE(db_.has_side_files());
}

TEST_F(StudyCommandTest, DefaultsToTheDefaultStorage) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("metadial_study_cmd_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  const std::string default_path = std::string(kDefaultStorage).substr(std::string("sqlite:").size());
  std::string msg = error_of<StorageError>("study delete x --yes");
  EXPECT_TRUE(contains(msg, "'" + default_path + "'")) << msg;
  {
    SqliteStorage st(default_path);
    st.create_or_load_study("x", Direction::kMinimize, nlohmann::json::array(), {});
  }
  std::string printed;
  EXPECT_NO_THROW(printed = run("study rename x y"));
  EXPECT_EQ(printed, std::string("renamed study 'x' to 'y' (0 trials) in ") + kDefaultStorage + "\n");
  EXPECT_NO_THROW(printed = run("study delete y --yes"));
  EXPECT_EQ(printed, std::string("deleted study 'y' (0 trials) from ") + kDefaultStorage + "\n");
  std::filesystem::current_path(cwd);
  std::filesystem::remove_all(dir);
}

TEST_F(StudyCommandTest, RenameKeepsTrialsAndPrintsOneLine) {
  make_study("old", 4);
  int64_t id = 0;
  {
    SqliteStorage st(db_.str());
    id = st.find_study("old")->id;
  }
  EXPECT_EQ(run("study rename old new --storage " + url_), "renamed study 'old' to 'new' (4 trials) in " + url_ + "\n");
  SqliteStorage st(db_.str());
  EXPECT_FALSE(st.find_study("old").has_value());
  const auto found = st.find_study("new");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, id);
  EXPECT_EQ(found->attrs["sampler"], "random");
  const auto trials = st.trials(id);
  ASSERT_EQ(trials.size(), 4u);
  for (size_t i = 0; i < trials.size(); ++i) EXPECT_EQ(trials[i].number, static_cast<int64_t>(i));
}

TEST_F(StudyCommandTest, RenameOntoATakenNameIsRefusedAndChangesNothing) {
  make_study("a", 1);
  make_study("b", 2);
  std::string msg = error_of<StorageError>("study rename a b --storage " + url_);
  EXPECT_TRUE(contains(msg, "cannot rename study 'a' to 'b'")) << msg;
  EXPECT_TRUE(contains(msg, "already exists")) << msg;
  msg = error_of<StorageError>("study rename zzz c --storage " + url_);
  EXPECT_TRUE(contains(msg, "no study 'zzz'")) << msg;
  msg = error_of<InvalidArgument>("study rename a a --storage " + url_);
  EXPECT_TRUE(contains(msg, "to itself")) << msg;
  EXPECT_EQ(study_names(), (std::vector<std::string>{"a", "b"}));
  SqliteStorage st(db_.str());
  EXPECT_EQ(st.trials(st.find_study("a")->id).size(), 1u);
  EXPECT_EQ(st.trials(st.find_study("b")->id).size(), 2u);
}

TEST_F(StudyCommandTest, TheCommandLineNeedsASubcommandAndItsNames) {
  for (const char* line : {"study", "study delete", "study rename a", "study frobnicate x"}) {
    const auto command = make_study_command();
    CLI::App app{"metadial"};
    command->add_to(app);
    EXPECT_THROW(app.parse(line, false), CLI::ParseError) << line;
  }
}

// Issue 21, item 8: a study name holding control characters, from a file written before the
// storage refused them, is printed escaped by `study delete` / `study rename` and their errors.
TEST_F(StudyCommandTest, ControlCharactersInAStoredNameArePrintedEscaped) {
  make_study("plain", 1);
  make_study("other", 0);
  const std::string evil = "evil\x1b[2J\nname\x07";
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db_.str().c_str(), &h), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(h, "UPDATE studies SET name = ?1 WHERE name = 'plain'", -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_text(st, 1, evil.data(), static_cast<int>(evil.size()), nullptr);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
  }
  const std::string shown = "evil\\x1b[2J\\nname\\x07";
  // CLI11 takes a vector of arguments last to first.
  auto run_args = [&](std::vector<std::string> args) {
    const auto command = make_study_command();
    CLI::App app{"metadial"};
    command->add_to(app);
    std::reverse(args.begin(), args.end());
    app.parse(args);
    std::ostringstream out;
    EXPECT_EQ(command->run(out), 0);
    return out.str();
  };
  const std::string msg = error_of<StorageError>("study delete gamma --yes --storage " + url_);
  EXPECT_TRUE(contains(msg, shown)) << msg;
  EXPECT_FALSE(contains(msg, "\x1b")) << msg;
  try {
    run_args({"study", "delete", evil, "--storage", url_});
    ADD_FAILURE() << "expected a refusal without --yes";
  } catch (const InvalidArgument& e) {
    EXPECT_TRUE(contains(e.what(), "not deleting study '" + shown + "'")) << e.what();
  }
  EXPECT_EQ(run_args({"study", "rename", evil, "fine", "--storage", url_}),
            "renamed study '" + shown + "' to 'fine' (1 trial) in " + url_ + "\n");
  EXPECT_EQ(run_args({"study", "rename", "fine", "again", "--storage", url_}),
            "renamed study 'fine' to 'again' (1 trial) in " + url_ + "\n");
}

}  // namespace
}  // namespace metadial::cli
