#include "metadial/core/interrupt.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "metadial/core/error.h"

namespace metadial::interrupt {
namespace {

using Clock = std::chrono::steady_clock;

// The registered process groups, in fixed slots (0: empty) so that the signal handler can read
// them without a lock. Registration, removal and the watcher's signals hold g_mutex, so the
// watcher never signals a group whose leader has been reaped; only the handler's last-resort
// SIGKILL (a second signal, right before _exit) reads the slots without it.
constexpr int kSlots = 4096;
std::atomic<pid_t> g_slots[kSlots];
std::mutex g_mutex;

std::atomic<int> g_requested{0};  // the first signal, 0 if none
std::atomic<int> g_phase{0};      // 0: nothing sent yet, 1: SIGTERM sent, 2: SIGKILL sent
std::atomic<int> g_pipe_write{-1};
std::once_flag g_install_once;

static_assert(std::atomic<pid_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

/// Signals every registered group. Call with g_mutex held.
void signal_groups(int sig) {
  for (auto& slot : g_slots) {
    const pid_t pgid = slot.load();
    if (pgid > 0) ::kill(-pgid, sig);
  }
}

bool any_group() {
  for (auto& slot : g_slots) {
    if (slot.load() > 0) return true;
  }
  return false;
}

/// SIGTERM to every group, SIGKILL to those still registered kGraceSeconds later.
void stop_groups() {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_phase.store(1);
    signal_groups(SIGTERM);
  }
  const auto end =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kGraceSeconds));
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!any_group()) break;
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  g_phase.store(2);
  signal_groups(SIGKILL);
}

void watch(int fd) {
  for (;;) {
    unsigned char byte = 0;
    const ssize_t n = ::read(fd, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    stop_groups();
  }
}

void wake_watcher() {
  const int fd = g_pipe_write.load();
  if (fd < 0) return;
  const unsigned char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);  // non-blocking; a full pipe is awake anyway
}

// Async-signal-safe: atomics, write, kill and _exit only.
extern "C" void on_signal(int sig) {
  const int saved_errno = errno;
  int expected = 0;
  if (g_requested.compare_exchange_strong(expected, sig)) {
    wake_watcher();
  } else {
    for (auto& slot : g_slots) {
      const pid_t pgid = slot.load();
      if (pgid > 0) ::kill(-pgid, SIGKILL);
    }
    ::_exit(128 + sig);
  }
  errno = saved_errno;
}

void do_install() {
  int fds[2];
  MD_CHECK_AS(Error, ::pipe2(fds, O_CLOEXEC) == 0, "interrupt handling: pipe failed: ", std::strerror(errno));
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  try {
    std::thread(watch, fds[0]).detach();
  } catch (const std::system_error& e) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(std::string("interrupt handling: cannot start the watcher thread: ") + e.what());
  }
  g_pipe_write.store(fds[1]);
  // A signal that arrived through request_for_test() before install() still stops the groups.
  if (g_requested.load() != 0) wake_watcher();

  struct sigaction sa {};
  sa.sa_handler = on_signal;  // NOLINT: a union member of sigaction
  sigfillset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    // A signal ignored when the program started stays ignored (nohup, a shell's background job).
    if (old.sa_handler == SIG_IGN) continue;  // NOLINT: a union member of sigaction
    ::sigaction(sig, &sa, nullptr);
  }
}

}  // namespace

void install() { std::call_once(g_install_once, do_install); }

int requested() { return g_requested.load(); }

int exit_code() {
  const int sig = requested();
  return sig == 0 ? 0 : 128 + sig;
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    case SIGKILL:
      return "SIGKILL";
    case SIGQUIT:
      return "SIGQUIT";
    default:
      return "signal";
  }
}

ChildGroup::ChildGroup(pid_t pgid) {
  MD_ASSERT(pgid > 0, "ChildGroup: process group id ", pgid);
  std::lock_guard<std::mutex> lock(g_mutex);
  for (int i = 0; i < kSlots; ++i) {
    if (g_slots[i].load() == 0) {
      g_slots[i].store(pgid);
      slot_ = i;
      break;
    }
  }
  // An interrupt that came before the registration: the watcher may have passed this group by.
  if (g_requested.load() != 0) ::kill(-pgid, g_phase.load() == 2 ? SIGKILL : SIGTERM);
}

ChildGroup::~ChildGroup() {
  if (slot_ < 0) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  g_slots[slot_].store(0);
}

void request_for_test(int sig) {
  int expected = 0;
  if (g_requested.compare_exchange_strong(expected, sig)) wake_watcher();
}

void reset_for_test() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_requested.store(0);
  g_phase.store(0);
}

}  // namespace metadial::interrupt
