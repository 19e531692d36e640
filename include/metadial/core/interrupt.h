// Interrupts: what the program does on Ctrl-C (SIGINT), SIGTERM and SIGHUP.
//
// A program that owns its process (the `metadial` CLI) calls install() once. The first such
// signal then only sets a flag, read by requested(): the study runner stops starting trials,
// running trials fail with "interrupted by SIGINT", and the command exits with exit_code()
// (128 + the signal: 130, 143, 129). Programs that trials start run in their own process groups,
// which a terminal's Ctrl-C does not reach: whoever starts one registers its group with a
// ChildGroup while it runs, and on the first signal a watcher thread sends SIGTERM to every
// registered group, then SIGKILL kGraceSeconds later. A second signal kills every registered
// group at once (SIGKILL) and exits the process with 128 + that signal, without cleanup.
//
// Without install() (a library user who handles signals in their own way) nothing is changed:
// requested() stays 0 unless request_for_test() is called.
#pragma once

#include <sys/types.h>

namespace metadial::interrupt {

/// Seconds between the SIGTERM and the SIGKILL that the registered process groups get.
inline constexpr double kGraceSeconds = 3.0;

/// Installs the handlers of SIGINT, SIGTERM and SIGHUP and starts the watcher thread.
/// Idempotent and thread-safe. Throws metadial::Error if the pipe or the thread cannot be created.
void install();

/// 0 if no interrupt arrived (or install() was never called), else the number of the first signal.
int requested();

/// 128 + requested(): the exit status of a program stopped by that signal; 0 if none arrived.
int exit_code();

/// "SIGINT", "SIGTERM", "SIGHUP", "SIGKILL", "SIGQUIT" for those numbers, "signal" for any other.
const char* signal_name(int sig);

/// Registers a process group while it is alive: on an interrupt, the group gets SIGTERM, then
/// SIGKILL after kGraceSeconds. Register it right after the group's leader is started and let
/// the ChildGroup go before the leader is reaped (while the leader is a zombie its group id cannot
/// be reused, so no other process is ever signalled). A group registered after an interrupt
/// arrived gets its signal at once. Up to 4096 groups at a time; more are not stopped.
class ChildGroup {
 public:
  explicit ChildGroup(pid_t pgid);
  ~ChildGroup();
  ChildGroup(const ChildGroup&) = delete;
  ChildGroup& operator=(const ChildGroup&) = delete;
  ChildGroup(ChildGroup&&) = delete;
  ChildGroup& operator=(ChildGroup&&) = delete;

 private:
  int slot_ = -1;
};

/// Sets the flag as if `sig` had arrived (the first time only); with install(), the watcher
/// stops the registered groups as for a real signal. For tests.
void request_for_test(int sig);

/// Clears the flag, so that the next test starts without an interrupt. For tests.
void reset_for_test();

}  // namespace metadial::interrupt
