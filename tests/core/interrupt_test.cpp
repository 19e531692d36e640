// Tests of core/interrupt: the flag, and the stopping of registered process groups. Whatever
// installs the handlers or raises a signal runs in a death-test child, so that this test process
// keeps the default actions.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "metadial/core/interrupt.h"

extern char** environ;  // NOLINT: POSIX

namespace metadial::interrupt {
namespace {

/// Starts `sh -c script` as the leader of a new process group; -1 on failure.
pid_t spawn_group(const std::string& script) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
  std::string sh = "sh", dash_c = "-c", body = script;
  char* argv[] = {sh.data(), dash_c.data(), body.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "sh", nullptr, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

/// The signal that ended `pid` (0 if it exited, -1 on a wait error).
int wait_signal(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/// True if a live process (not a zombie) is in process group `pgid`.
bool group_alive(pid_t pgid) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!stat || !std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (rest >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z') return true;
  }
  return false;
}

class Interrupt : public ::testing::Test {
 protected:
  // Death tests fork ("fast" style): this process has no watcher thread, only the children do.
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "fast");
    reset_for_test();
  }
  void TearDown() override { reset_for_test(); }
};

TEST_F(Interrupt, FlagHoldsTheFirstSignalAndGivesItsExitCode) {
  EXPECT_EQ(requested(), 0);
  EXPECT_EQ(exit_code(), 0);
  request_for_test(SIGTERM);
  EXPECT_EQ(requested(), SIGTERM);
  EXPECT_EQ(exit_code(), 143);
  request_for_test(SIGINT);  // a later one does not replace the first
  EXPECT_EQ(requested(), SIGTERM);
  reset_for_test();
  EXPECT_EQ(requested(), 0);
  request_for_test(SIGHUP);
  EXPECT_EQ(exit_code(), 129);
  EXPECT_STREQ(signal_name(SIGINT), "SIGINT");
  EXPECT_STREQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_STREQ(signal_name(SIGHUP), "SIGHUP");
}

TEST_F(Interrupt, GroupRegisteredAfterTheRequestIsStoppedAtOnce) {
  const pid_t pid = spawn_group("sleep 100");
  ASSERT_GT(pid, 0);
  request_for_test(SIGINT);
  {
    ChildGroup group(pid);
    EXPECT_EQ(wait_signal(pid), SIGTERM);
  }
}

TEST_F(Interrupt, GroupRegisteredWithoutARequestIsLeftAlone) {
  const pid_t pid = spawn_group("sleep 0.2; exit 7");
  ASSERT_GT(pid, 0);
  ChildGroup group(pid);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

// With install(): the first SIGINT sends SIGTERM to the registered groups and leaves the program
// running; it reports SIGINT. Every process of the group (the background sleep too) is stopped.
TEST_F(Interrupt, FirstSignalStopsRegisteredGroupsAndTheProgramGoesOn) {
  EXPECT_EXIT(
      {
        install();
        install();  // idempotent
        const pid_t pid = spawn_group("sleep 100 & sleep 100; wait");
        if (pid <= 0) std::_Exit(10);
        ChildGroup group(pid);
        ::raise(SIGINT);
        if (requested() != SIGINT || exit_code() != 130) std::_Exit(11);
        if (wait_signal(pid) != SIGTERM) std::_Exit(12);
        // The background sleep got the group's SIGTERM too: the group is empty.
        for (int i = 0; i < 250 && group_alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::_Exit(group_alive(pid) ? 13 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(Interrupt, GroupIgnoringSigtermGetsSigkillAfterTheGracePeriod) {
  EXPECT_EXIT(
      {
        install();
        const pid_t pid = spawn_group("trap '' TERM; sleep 100");
        if (pid <= 0) std::_Exit(10);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let sh set its trap
        ChildGroup group(pid);
        ::raise(SIGTERM);
        std::_Exit(wait_signal(pid) == SIGKILL && requested() == SIGTERM ? 0 : 11);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(Interrupt, SecondSignalKillsTheGroupsAndExitsAtOnce) {
  const std::string pid_file =
      (std::filesystem::temp_directory_path() / ("metadial-interrupt-" + std::to_string(::getpid()))).string();
  EXPECT_EXIT(
      {
        install();
        const pid_t pid = spawn_group("trap '' TERM; sleep 100");
        if (pid <= 0) std::_Exit(10);
        std::ofstream(pid_file) << pid;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        ChildGroup group(pid);
        ::raise(SIGINT);
        ::raise(SIGINT);
        std::_Exit(11);  // not reached: the second signal exits with 130
      },
      ::testing::ExitedWithCode(130), "");
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  std::filesystem::remove(pid_file);
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 250 && group_alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(group_alive(pid)) << "the trial's program (group " << pid << ") survived the second signal";
}

}  // namespace
}  // namespace metadial::interrupt
