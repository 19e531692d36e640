// write_file_atomically and the data folder.
#include "metadial/core/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "metadial/core/data.h"
#include "metadial/core/error.h"

namespace metadial {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TempDir : public ::testing::Test {
 protected:
  fs::path dir_ = fs::temp_directory_path() / ("metadial-file-" + std::to_string(getpid()));
  void SetUp() override { fs::create_directories(dir_); }
  void TearDown() override { fs::remove_all(dir_); }
};

using WriteFileAtomically = TempDir;

TEST_F(WriteFileAtomically, ReplacesTheFileAndLeavesNoTemporary) {
  const fs::path p = dir_ / "card.json";
  write_file_atomically(p.string(), "first\n");
  EXPECT_EQ(slurp(p), "first\n");
  write_file_atomically(p.string(), std::string("second\0binary", 13));
  EXPECT_EQ(slurp(p), std::string("second\0binary", 13));
  EXPECT_FALSE(fs::exists(p.string() + ".tmp"));
}

TEST_F(WriteFileAtomically, AMissingFolderIsOneStorageErrorAndNothingIsWritten) {
  const fs::path p = dir_ / "no" / "such" / "model.pt";
  try {
    write_file_atomically(p.string(), "x");
    FAIL() << "expected a StorageError";
  } catch (const StorageError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_FALSE(fs::exists(p));
}

TEST(DataDir, FlagThenEnvironmentThenDefault) {
  const char* old = std::getenv("METADIAL_DATA");
  const std::string saved = old ? old : "";
  const char* home = std::getenv("HOME");
  const std::string saved_home = home ? home : "";
  setenv("METADIAL_DATA", "/data/from/env", 1);
  EXPECT_EQ(data_dir("/data/from/flag"), "/data/from/flag");
  EXPECT_EQ(data_dir(), "/data/from/env");
  EXPECT_EQ(data_set_dir("babi-dialog"), "/data/from/env/babi-dialog");
  unsetenv("METADIAL_DATA");
  setenv("XDG_DATA_HOME", "/xdg", 1);
  EXPECT_EQ(data_dir(), "/xdg/metadial");
  unsetenv("XDG_DATA_HOME");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(data_dir(), "/home/u/.local/share/metadial");
  if (home) setenv("HOME", saved_home.c_str(), 1);
  if (old) setenv("METADIAL_DATA", saved.c_str(), 1);
}

}  // namespace
}  // namespace metadial
