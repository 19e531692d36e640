// Tests that run the real `metadial` binary as a user would: each test gets a fresh folder, the
// binary runs in it (optionally with a file as standard input), and its exit code, standard output
// and standard error come back. METADIAL_BINARY is set by tests/CMakeLists.txt.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>

namespace metadial::testing {

/// What a run of the binary gave.
struct CliResult {
  int code = -1;  ///< exit status (-1: killed by a signal)
  std::string out, err;
};

/// The whole content of a file ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The last line of `s`, without its newline.
inline std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

/// Fixture: dir_ = a fresh folder named after the suite, the process and the test; removed after a
/// passing test (kept for inspection after a failure).
class BinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("metadial-" + std::string(info->test_suite_name()) + "-" + std::to_string(getpid()) + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  /// Runs `metadial ARGS` in dir_; `stdin_file` (relative to dir_, optional) is its standard input.
  CliResult run(const std::string& args, const std::string& stdin_file = "") {
    std::string cmd = "cd '" + dir_.string() + "' && " + METADIAL_BINARY + " " + args;
    if (!stdin_file.empty()) cmd += " <" + stdin_file;
    cmd += " >stdout.txt 2>stderr.txt";
    const int status = std::system(cmd.c_str());
    CliResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ / "stdout.txt");
    r.err = slurp(dir_ / "stderr.txt");
    return r;
  }

  /// Writes dir_/name (folders created), optionally executable; returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text, bool executable = false) {
    const std::filesystem::path p = dir_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    if (executable) {
      std::filesystem::permissions(p, std::filesystem::perms::owner_all, std::filesystem::perm_options::add);
    }
    return p;
  }

  /// A user error: exit 2 and exactly one line on stderr, containing every needle.
  static void expect_user_error(const CliResult& r, std::initializer_list<std::string> needles) {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << "missing '" << n << "' in: " << r.err;
  }

  std::filesystem::path dir_;
};

}  // namespace metadial::testing
