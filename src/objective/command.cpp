#include "metadial/objective/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "metadial/core/config.h"
#include "metadial/core/error.h"
#include "metadial/core/interrupt.h"
#include "metadial/core/text.h"

extern char** environ;  // NOLINT: POSIX

namespace metadial::objective {
namespace {

using Clock = std::chrono::steady_clock;

const std::set<std::string>& reserved_names() {
  static const std::set<std::string> names = {"fidelity", "fidelity_name", "trial_number", "trial_id"};
  return names;
}

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

/// Shortest text that parses back to the same double.
std::string format_double(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  MD_ASSERT(res.ec == std::errc());
  return std::string(buf, res.ptr);
}

std::string format_value(const space::Value& v) {
  if (const auto* d = std::get_if<double>(&v)) return format_double(*d);
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  return std::get<std::string>(v);
}

std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

/// Parses the whole of `s` as a double (a leading '+' allowed); nullopt if it is not one.
std::optional<double> parse_double(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0.0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_int(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

/// If `line` (leading blanks skipped) starts with `key`, the trimmed rest.
std::optional<std::string_view> after_key(std::string_view line, std::string_view key) {
  line = trim(line);
  if (line.substr(0, key.size()) != key) return std::nullopt;
  return trim(line.substr(key.size()));
}

/// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// A spawned child, leader of its own process group. The destructor kills the group and reaps
/// the child if that has not happened yet, so no exception path leaks a process.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {
    group_.emplace(pid);
#ifdef SYS_pidfd_open
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#endif
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (!reaped_) {
      kill_group(SIGKILL);
      reap();
    }
    if (pidfd_ >= 0) ::close(pidfd_);
  }

  /// A descriptor that polls readable when the child exits, or -1 (then poll in short steps).
  int pidfd() const { return pidfd_; }

  /// Whether the child has exited (it stays a zombie, so the group id cannot be reused).
  bool exited() {
    if (exited_) return true;
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno != EINTR) return exited_ = true;  // ECHILD: nothing to wait for
    }
    exited_ = info.si_pid == pid_;
    return exited_;
  }

  void kill_group(int sig) const {
    if (!reaped_) ::kill(-pid_, sig);
  }

  /// Waits until the child exits, at most `seconds`. Returns whether it did.
  bool wait_exit(double seconds) {
    const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (!exited()) {
      const auto now = Clock::now();
      if (now >= end) return false;
      if (pidfd_ >= 0) {
        pollfd p{pidfd_, POLLIN, 0};
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count() + 1;
        ::poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1000)));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    return true;
  }

  /// SIGTERM to the group, SIGKILL `grace_s` later (or as soon as the leader is gone, for
  /// stragglers).
  void terminate(double grace_s = 2.0) {
    kill_group(SIGTERM);
    wait_exit(grace_s);
    kill_group(SIGKILL);
  }

  /// Reaps the child and returns its wait status.
  int reap() {
    group_.reset();  // before the group id can be reused
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = exited_ = true;
    return status;
  }

 private:
  pid_t pid_;
  std::optional<interrupt::ChildGroup> group_;  // stopped on Ctrl-C, SIGTERM, SIGHUP
  int pidfd_ = -1;
  bool exited_ = false;
  bool reaped_ = false;
};

/// Starts `program` (searched on PATH) with `argv` and `envp`: stdin from /dev/null, stdout and
/// stderr to `out_fd` / `err_fd`, in a process group of its own, every signal at its default
/// action and none blocked, in `working_dir` if not empty. Unlike posix_spawn, the child also asks
/// the kernel for SIGKILL when the thread that started it dies (PR_SET_PDEATHSIG), so a `kill -9`
/// of metadial does not leave the trial's program running on. Returns the pid, or the errno of
/// the step that failed (negated), which the child reports through a close-on-exec pipe: when the
/// pipe closes without a word, exec succeeded and the group exists.
pid_t start_program(const std::string& program, char* const* argv, char* const* envp, int out_fd, int err_fd,
                    const std::string& working_dir) {
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) return -errno;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(status[0]);
    ::close(status[1]);
    return -e;
  }
  if (pid == 0) {
    // The child of a threaded process: only async-signal-safe calls until exec.
    const auto fail = [&](int e) {
      (void)!::write(status[1], &e, sizeof e);
      ::_exit(127);
    };
    ::close(status[0]);
    if (::setpgid(0, 0) != 0) fail(errno);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
    if (::getppid() != parent) ::_exit(127);  // metadial died before the request took hold
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    }
    const int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 ||
        ::dup2(err_fd, STDERR_FILENO) < 0) {
      fail(errno);
    }
    if (!working_dir.empty() && ::chdir(working_dir.c_str()) != 0) fail(errno);
    sigset_t none;
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    ::execvpe(program.c_str(), argv, envp);
    fail(errno);
  }
  ::close(status[1]);
  int e = 0;
  ssize_t n = 0;
  while ((n = ::read(status[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  ::close(status[0]);
  if (n == static_cast<ssize_t>(sizeof e)) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return -e;
  }
  return pid;
}

/// Writes all of `data` at the descriptor's offset; false on an error.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// Creates a trial log without following or truncating what is already at `path`: an old log
/// (a plain file with no other link) is removed and the log created anew with O_EXCL; a symbolic
/// link, a hard-linked file or anything else there is refused and left as it is.
int create_log(const std::string& path, const std::string& trial) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) return fd;
    if (errno != EEXIST) throw Error(detail::concat(trial, "cannot create the log '", path, "': ", errno_text(errno)));
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;  // gone in between: try again
    if (S_ISLNK(st.st_mode)) {
      throw Error(
          detail::concat(trial, "the log '", path,
                         "' is a symbolic link; refusing to write through it (remove it, or use another log_dir)"));
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink > 1) {
      throw Error(detail::concat(trial, "the log '", path, "' exists and is ",
                                 S_ISREG(st.st_mode) ? "a file with other hard links" : "not a plain file",
                                 "; refusing to overwrite it (remove it, or use another log_dir)"));
    }
    // A log of an earlier run: unlinked, never truncated, so that nothing it shares is touched.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      throw Error(detail::concat(trial, "cannot replace the old log '", path, "': ", errno_text(errno)));
    }
  }
  throw Error(detail::concat(trial, "the log '", path, "' keeps reappearing; refusing to write it"));
}

/// A trial log that keeps at most `max_bytes` of output (0: no limit). Past the limit the file is
/// rewritten with the last max_bytes / 2 bytes (from a line start where one is near; read back
/// from the file, hence O_RDWR) after a line that says how much was dropped: each byte is copied
/// about once more, amortized. A write error (disk full) ends the logging, not the trial.
class LogFile {
 public:
  LogFile() = default;
  LogFile(int fd, int64_t max_bytes) : fd_(fd), max_(static_cast<uint64_t>(max_bytes)) {}
  bool is_open() const { return fd_.get() >= 0; }

  void append(std::string_view chunk) {
    if (!is_open() || failed_ || chunk.empty()) return;
    if (max_ == 0 || body_ + chunk.size() <= max_) {
      failed_ = !write_all(fd_.get(), chunk);
      body_ += chunk.size();
      return;
    }
    const uint64_t keep = std::max<uint64_t>(1, max_ / 2);
    std::string tail;
    if (chunk.size() >= keep) {
      tail.assign(chunk.substr(chunk.size() - keep));
    } else {
      const uint64_t from_file = keep - chunk.size();  // <= body_, since body_ + chunk > max_ >= keep
      tail.resize(from_file);
      uint64_t got = 0;
      while (got < from_file) {
        const ssize_t n = ::pread(fd_.get(), tail.data() + got, from_file - got,
                                  static_cast<off_t>(header_ + body_ - from_file + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          failed_ = true;
          return;
        }
        got += static_cast<uint64_t>(n);
      }
      tail.append(chunk);
    }
    dropped_ += body_ + chunk.size() - tail.size();
    // Start at a line if one starts near the cut.
    const size_t nl = std::string_view(tail).substr(0, 4096).find('\n');
    if (nl != std::string::npos && nl + 1 < tail.size()) {
      tail.erase(0, nl + 1);
      dropped_ += nl + 1;
    }
    const std::string header = detail::concat("[metadial: log_max_bytes = ", max_, ": the first ", dropped_,
                                              " bytes of this log were dropped; what follows is its tail]\n");
    failed_ = ::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0 || !write_all(fd_.get(), header) ||
              !write_all(fd_.get(), tail);
    header_ = header.size();
    body_ = tail.size();
  }

 private:
  Fd fd_;
  uint64_t max_ = 0;
  uint64_t header_ = 0;   // bytes of the "dropped" line at the start of the file
  uint64_t body_ = 0;     // bytes of output after it
  uint64_t dropped_ = 0;  // bytes of output no longer in the file
  bool failed_ = false;
};

/// One output stream of the child: its pipe, its log file, its unfinished last line.
struct Stream {
  Fd fd;
  bool open = true;
  std::string partial;
  LogFile log;
};

constexpr size_t kMaxLine = 1 << 20;  // longer stdout lines are cut (they cannot be result lines)
constexpr size_t kStderrTail = 8192;  // bytes of stderr kept for the error message

std::string last_line(const std::string& text) {
  std::string_view s = text;
  while (!s.empty()) {
    const size_t nl = s.find_last_of('\n');
    std::string_view line = nl == std::string_view::npos ? s : s.substr(nl + 1);
    if (!trim(line).empty()) return std::string(trim(line));
    if (nl == std::string_view::npos) break;
    s = s.substr(0, nl);
  }
  return "";
}

/// State of one evaluation: reads the child's output and interprets stdout's lines.
class Session {
 public:
  Session(std::string prefix, Reporter& reporter) : prefix_(std::move(prefix)), reporter_(reporter) {}

  Stream out, err;
  std::optional<std::string> objective, cost;
  std::string stderr_tail;

  /// Reads what is available on `s` (non-blocking); at EOF, marks it closed.
  void read_some(Stream& s, bool is_stdout) {
    char buf[65536];
    // A bounded number of reads, so that a program flooding its output cannot starve the
    // deadline check of the caller.
    for (int reads = 0; s.open && reads < 16; ++reads) {
      const ssize_t n = ::read(s.fd.get(), buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        s.open = false;  // treat other errors as EOF
        break;
      }
      if (n == 0) {
        s.open = false;
        break;
      }
      const std::string_view chunk(buf, static_cast<size_t>(n));
      s.log.append(chunk);
      if (is_stdout) {
        feed_stdout(chunk);
      } else {
        stderr_tail.append(chunk);
        if (stderr_tail.size() > 2 * kStderrTail) stderr_tail.erase(0, stderr_tail.size() - kStderrTail);
      }
    }
    if (!s.open && is_stdout && !s.partial.empty()) {
      std::string line = std::move(s.partial);
      s.partial.clear();
      handle_line(line);
    }
  }

  /// Polls the open pipes (and the child's pidfd) for at most `timeout_ms` (-1: no limit), then
  /// reads what came.
  void pump(int pidfd, int timeout_ms) {
    pollfd fds[3];
    nfds_t n = 0;
    if (out.open) fds[n++] = pollfd{out.fd.get(), POLLIN, 0};
    if (err.open) fds[n++] = pollfd{err.fd.get(), POLLIN, 0};
    if (pidfd >= 0) fds[n++] = pollfd{pidfd, POLLIN, 0};
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::max(0, std::min(timeout_ms, 20))));
      return;
    }
    if (::poll(fds, n, timeout_ms) < 0) return;  // EINTR: the caller loops
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (out.open && fds[i].fd == out.fd.get()) read_some(out, true);
      if (err.open && fds[i].fd == err.fd.get()) read_some(err, false);
    }
  }

 private:
  void feed_stdout(std::string_view chunk) {
    while (!chunk.empty()) {
      const size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        if (out.partial.size() < kMaxLine) out.partial.append(chunk.substr(0, kMaxLine - out.partial.size()));
        return;
      }
      if (out.partial.size() < kMaxLine)
        out.partial.append(chunk.substr(0, std::min(nl, kMaxLine - out.partial.size())));
      std::string line = std::move(out.partial);
      out.partial.clear();
      handle_line(line);
      chunk.remove_prefix(nl + 1);
    }
  }

  void handle_line(const std::string& line) {
    if (auto v = after_key(line, "objective:")) {
      objective = std::string(*v);
    } else if (auto c = after_key(line, "cost:")) {
      cost = std::string(*c);
    } else if (auto im = after_key(line, "intermediate:")) {
      const std::string_view rest = *im;
      const size_t sp = rest.find_first_of(" \t");
      std::optional<int64_t> step;
      std::optional<double> value;
      if (sp != std::string_view::npos) {
        step = parse_int(rest.substr(0, sp));
        value = parse_double(trim(rest.substr(sp)));
      }
      MD_CHECK_AS(Error, step && value, prefix_, " printed a malformed line '", text::valid_utf8(trim(line)),
                  "' (expected 'intermediate: <integer step> <number>')");
      reporter_.report(*step, *value);
    }
  }

  std::string prefix_;
  Reporter& reporter_;
};

}  // namespace

// ---- CommandObjective -----------------------------------------------------------------------

CommandObjective::CommandObjective(CommandOptions options, std::optional<space::SearchSpace> space)
    : options_(std::move(options)) {
  MD_CHECK(!options_.argv.empty() && !options_.argv[0].empty(),
           "command objective: 'command' is empty (expected e.g. [\"./train.sh\", \"--lr\", \"{lr}\"])");
  MD_CHECK(!options_.timeout_s || (std::isfinite(*options_.timeout_s) && *options_.timeout_s > 0.0),
           "command objective: timeout_s = ", options_.timeout_s.value_or(0.0),
           " must be a positive number of seconds");
  MD_CHECK(!options_.fidelities.empty(), "command objective: 'fidelities' must list at least one fidelity");
  for (size_t i = 0; i < options_.fidelities.size(); ++i) {
    const auto& f = options_.fidelities[i];
    MD_CHECK(!f.name.empty(), "command objective: fidelity ", i, " has an empty name");
    MD_CHECK(std::isfinite(f.cost) && f.cost > 0.0, "command objective: fidelity '", f.name, "' has cost ", f.cost,
             " (expected a positive number)");
  }
  for (const auto& [k, v] : options_.env) {
    MD_CHECK(!k.empty() && k.find('=') == std::string::npos && k.find('\0') == std::string::npos,
             "command objective: environment variable name '", k, "' must be non-empty and have no '='");
  }
  MD_CHECK(options_.log_max_bytes >= 0, "command objective: log_max_bytes = ", options_.log_max_bytes,
           " must be >= 0 (0: no limit)");
  // Folders are checked here, so that a bad one stops the study before its first trial rather
  // than failing every trial.
  namespace fs = std::filesystem;
  if (!options_.working_dir.empty()) {
    const std::string& dir = options_.working_dir;
    std::error_code ec;
    MD_CHECK(fs::is_directory(dir, ec), "command objective: working_dir '", dir,
             "' is not a folder (does it exist?); set working_dir to an existing folder");
    MD_CHECK(::access(dir.c_str(), X_OK) == 0, "command objective: working_dir '", dir,
             "' cannot be entered: ", errno_text(errno));
  }
  if (!options_.log_dir.empty()) {
    const std::string& dir = options_.log_dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    MD_CHECK(!ec, "command objective: log_dir '", dir, "' cannot be created: ", ec.message(),
             "; set log_dir to a folder you can write to");
    MD_CHECK(fs::is_directory(dir, ec), "command objective: log_dir '", dir, "' is not a folder");
    MD_CHECK(::access(dir.c_str(), W_OK | X_OK) == 0, "command objective: log_dir '", dir,
             "' is not writable: ", errno_text(errno), "; set log_dir to a folder you can write to");
  }

  for (size_t a = 0; a < options_.argv.size(); ++a) {
    const std::string& arg = options_.argv[a];
    std::vector<Piece> pieces;
    std::string literal;
    for (size_t i = 0; i < arg.size();) {
      if (arg[i] == '{' && i + 1 < arg.size() && arg[i + 1] == '{') {
        literal += '{';
        i += 2;
      } else if (arg[i] == '}' && i + 1 < arg.size() && arg[i + 1] == '}') {
        literal += '}';
        i += 2;
      } else if (arg[i] == '{') {
        const size_t close = arg.find('}', i + 1);
        MD_CHECK(close != std::string::npos, "command argument ", a, " '", arg, "': unclosed '{' at position ", i,
                 " (write '{{' for a literal brace)");
        std::string name = arg.substr(i + 1, close - i - 1);
        MD_CHECK(!name.empty() && name.find('{') == std::string::npos, "command argument ", a, " '", arg,
                 "': bad placeholder '", arg.substr(i, close - i + 1), "' (expected {parameter} or one of {",
                 join(reserved_names()), "}; '{{' for a literal brace)");
        if (space) {
          bool known = reserved_names().count(name) > 0;
          for (const auto& p : space->params()) known = known || p.name == name;
          if (!known) {
            std::string params;
            for (const auto& p : space->params()) params += (params.empty() ? "" : ", ") + p.name;
            throw InvalidArgument(detail::concat(
                "command argument ", a, " '", arg, "': placeholder '{", name,
                "}' is not a parameter of the search space (parameters: ", params.empty() ? "none" : params,
                "; reserved: ", join(reserved_names()), ")"));
          }
        }
        if (!literal.empty()) pieces.push_back(Piece{false, std::move(literal)});
        literal.clear();
        pieces.push_back(Piece{true, std::move(name)});
        i = close + 1;
      } else {
        literal += arg[i++];
      }
    }
    if (!literal.empty() || pieces.empty()) pieces.push_back(Piece{false, std::move(literal)});
    template_.push_back(std::move(pieces));
  }
}

std::vector<std::string> CommandObjective::expand(const space::Config& config, int fidelity, int64_t trial_number,
                                                  int64_t trial_id) const {
  std::vector<std::string> out;
  for (size_t a = 0; a < template_.size(); ++a) {
    std::string arg;
    for (const auto& piece : template_[a]) {
      if (!piece.placeholder) {
        arg += piece.text;
        continue;
      }
      if (auto it = config.find(piece.text); it != config.end()) {
        arg += format_value(it->second);
      } else if (piece.text == "fidelity") {
        arg += std::to_string(fidelity);
      } else if (piece.text == "fidelity_name") {
        MD_CHECK(fidelity >= 0 && static_cast<size_t>(fidelity) < options_.fidelities.size(), "command: fidelity ",
                 fidelity, " is out of range (0..", options_.fidelities.size() - 1, ")");
        arg += options_.fidelities[static_cast<size_t>(fidelity)].name;
      } else if (piece.text == "trial_number") {
        arg += std::to_string(trial_number);
      } else if (piece.text == "trial_id") {
        arg += std::to_string(trial_id);
      } else {
        std::string params;
        for (const auto& [k, _] : config) params += (params.empty() ? "" : ", ") + k;
        throw InvalidArgument(
            detail::concat("command argument ", a, " '", options_.argv[a], "': placeholder '{", piece.text,
                           "}' is not a parameter of the configuration (parameters: ", params.empty() ? "none" : params,
                           "; reserved: ", join(reserved_names()), ")"));
      }
    }
    out.push_back(std::move(arg));
  }
  return out;
}

Evaluation CommandObjective::evaluate(const space::Config& config, int fidelity, Reporter& reporter) {
  namespace fs = std::filesystem;
  MD_CHECK(fidelity >= 0 && static_cast<size_t>(fidelity) < options_.fidelities.size(), "command: fidelity ", fidelity,
           " is out of range (0..", options_.fidelities.size() - 1, ")");
  const int64_t number = reporter.trial_number();
  const int64_t id = reporter.trial_id();
  const std::vector<std::string> argv = expand(config, fidelity, number, id);
  const std::string& program = argv[0];
  const std::string trial = detail::concat("trial ", number, ": ");
  const std::string who = detail::concat(trial, "command '", program, "'");

  if (const int sig = interrupt::requested()) {
    throw Error(detail::concat(trial, "interrupted by ", interrupt::signal_name(sig), " before the command started (",
                               program, ")"));
  }

  // Logs.
  Session session(who, reporter);
  std::string err_log;
  if (!options_.log_dir.empty()) {
    // The folder was made and checked by the constructor; if it went since, create_log fails
    // with one line naming the path.
    const fs::path base = fs::path(options_.log_dir) / detail::concat("trial-", number);
    const std::string out_log = base.string() + ".out";
    err_log = base.string() + ".err";
    session.out.log = LogFile(create_log(out_log, trial), options_.log_max_bytes);
    session.err.log = LogFile(create_log(err_log, trial), options_.log_max_bytes);
  }
  const std::string log_suffix = err_log.empty() ? "" : "; log: " + err_log;
  // working_dir was checked by the constructor; a chdir failure now comes back from the child.

  // Environment: inherited, minus what we set, plus options_.env and the METADIAL_ variables.
  std::map<std::string, std::string> extra = options_.env;
  extra["METADIAL_TRIAL_ID"] = std::to_string(id);
  extra["METADIAL_TRIAL_NUMBER"] = std::to_string(number);
  extra["METADIAL_FIDELITY"] = std::to_string(fidelity);
  extra["METADIAL_FIDELITY_NAME"] = options_.fidelities[static_cast<size_t>(fidelity)].name;
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string_view::npos && extra.count(std::string(entry.substr(0, eq))) > 0) continue;
    env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : extra) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  std::vector<char*> argvp;
  for (auto& s : argv_copy) argvp.push_back(s.data());
  argvp.push_back(nullptr);

  // Pipes (close-on-exec, so concurrent spawns never inherit each other's ends).
  int out_pipe[2];
  int err_pipe[2];
  MD_CHECK_AS(Error, ::pipe2(out_pipe, O_CLOEXEC) == 0, who, ": pipe failed: ", errno_text(errno));
  session.out.fd.reset(out_pipe[0]);
  Fd out_w(out_pipe[1]);
  MD_CHECK_AS(Error, ::pipe2(err_pipe, O_CLOEXEC) == 0, who, ": pipe failed: ", errno_text(errno));
  session.err.fd.reset(err_pipe[0]);
  Fd err_w(err_pipe[1]);
  ::fcntl(session.out.fd.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(session.err.fd.get(), F_SETFL, O_NONBLOCK);

  const auto start = Clock::now();
  const pid_t started = start_program(program, argvp.data(), envp.data(), out_w.get(), err_w.get(), options_.working_dir);
  const int rc = started < 0 ? -started : 0;
  const pid_t pid = started;
  out_w.reset();
  err_w.reset();
  if (rc != 0) {
    const std::string where = options_.working_dir.empty() ? "" : " (working directory '" + options_.working_dir + "')";
    if (rc == ENOENT) throw Error(detail::concat(who, " not found", where));
    if (rc == EACCES) throw Error(detail::concat(who, " is not executable (permission denied)", where));
    if (rc == ENOEXEC) throw Error(detail::concat(who, " is not a program (a script needs a '#!' line)", where));
    throw Error(detail::concat(who, " could not be started: ", errno_text(rc), where));
  }
  Child child(pid);

  // Deadline: min(timeout_s, the trial's own deadline).
  double limit = std::min(options_.timeout_s.value_or(INFINITY), reporter.seconds_left());
  const bool limit_is_timeout = options_.timeout_s && limit >= *options_.timeout_s;
  std::optional<Clock::time_point> deadline;
  if (limit < 1e9) {
    limit = std::max(0.0, limit);
    deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit));
  }

  bool timed_out = false;
  bool interrupted = false;
  try {
    while (!child.exited()) {
      if (interrupt::requested() != 0) {
        interrupted = true;
        break;
      }
      // At most 100 ms, so that an interrupt is noticed without a signal to this thread.
      int timeout_ms = 100;
      if (deadline) {
        const auto now = Clock::now();
        if (now >= *deadline) {
          timed_out = true;
          break;
        }
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now).count() + 1;
        timeout_ms = static_cast<int>(std::min<int64_t>(ms, timeout_ms));
      }
      if (child.pidfd() < 0) timeout_ms = std::min(timeout_ms, 20);
      session.pump(child.pidfd(), timeout_ms);
    }
    if (interrupted) {
      child.terminate(interrupt::kGraceSeconds);
    } else if (timed_out) {
      child.terminate();
    } else {
      child.kill_group(SIGKILL);  // whatever the program left running in its group
    }
    // Drain what is left in the pipes; bounded, in case a straggler escaped the group.
    const auto drain_end = Clock::now() + std::chrono::seconds(2);
    while ((session.out.open || session.err.open) && Clock::now() < drain_end) session.pump(-1, 50);
  } catch (const TrialPruned& e) {
    // Pruned at an intermediate value: the program's group is stopped, and the trial costs what
    // it spent: the last `cost:` it printed, else the seconds it ran (cost = "time"), else the
    // fidelity's cost.
    child.terminate();
    child.reap();
    double spent = options_.cost == CommandCost::time ? std::chrono::duration<double>(Clock::now() - start).count()
                                                      : options_.fidelities[static_cast<size_t>(fidelity)].cost;
    if (session.cost) {
      if (const std::optional<double> c = parse_double(*session.cost); c && std::isfinite(*c) && *c >= 0.0) spent = *c;
    }
    throw TrialPruned(e.what(), spent);
  } catch (...) {
    child.terminate();
    child.reap();
    throw;
  }
  const int status = child.reap();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();

  // Stopped on an interrupt (by evaluate() or by the interrupt watcher), unless it had finished.
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (const int sig = interrupt::requested(); sig != 0 && (interrupted || code != 0)) {
    throw Error(detail::concat(trial, "interrupted by ", interrupt::signal_name(sig), " (command '", program,
                               "' stopped)", log_suffix));
  }

  if (timed_out) {
    if (limit_is_timeout) {
      throw Error(detail::concat(trial, "command timed out after ", limit, " s (", program, ")", log_suffix));
    }
    throw Error(
        detail::concat(trial, "command ran past the trial's deadline after ", limit, " s (", program, ")", log_suffix));
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    const char* descr = sigdescr_np(sig);
    throw Error(detail::concat(who, " was killed by signal ", sig, " (SIG", abbrev ? abbrev : "?", ": ",
                               descr ? descr : "unknown", ")", log_suffix));
  }
  if (code != 0) {
    const std::string last = text::valid_utf8(last_line(session.stderr_tail));
    const std::string hint = code == 127 ? " (command not found)" : "";
    throw Error(detail::concat(who, " exited with status ", code, hint, last.empty() ? "" : ": ", last, log_suffix));
  }
  if (!session.objective) {
    throw Error(
        detail::concat(who, " printed no 'objective: <number>' line on stdout",
                       err_log.empty() ? "" : "; log: " + fs::path(err_log).replace_extension(".out").string()));
  }
  const std::optional<double> value = parse_double(*session.objective);
  MD_CHECK_AS(Error, value.has_value(), who, " printed a non-numeric objective '", text::valid_utf8(*session.objective),
              "' (expected 'objective: <number>')");
  double cost = options_.cost == CommandCost::time ? wall : options_.fidelities[static_cast<size_t>(fidelity)].cost;
  if (session.cost) {
    const std::optional<double> c = parse_double(*session.cost);
    MD_CHECK_AS(Error, c && std::isfinite(*c) && *c >= 0.0, who, " printed a bad cost '",
                text::valid_utf8(*session.cost), "' (expected 'cost: <non-negative number>')");
    cost = *c;
  }
  return Evaluation{*value, cost};
}

// ---- Options from JSON ----------------------------------------------------------------------

CommandOptions command_options_from_json(const nlohmann::json& j) {
  // Options come through the API: unknown keys, wrong types and bad values are InvalidArgument,
  // worded by the config reader.
  return config::rethrow_as<InvalidArgument>([&] {
    const config::Table t = config::Table::from_json(j, "command objective", "[objective]");
    t.expect_keys({"command", "timeout_s", "log_dir", "log_max_bytes", "working_dir", "fidelities", "env", "cost"});
    CommandOptions o;
    if (!t.contains("command")) t.missing("command", "e.g. command = [\"./train.sh\", \"--lr\", \"{lr}\"]");
    o.argv = *t.strings("command");
    if (o.argv.empty()) t.invalid("command", "must be a non-empty array of strings");
    if (const auto x = t.number("timeout_s")) o.timeout_s = *x;
    if (const auto s = t.string("log_dir")) o.log_dir = *s;
    if (const auto n = t.integer("log_max_bytes")) {
      if (*n < 0) t.invalid("log_max_bytes", "must be >= 0 (bytes of output kept per trial log; 0: no limit)");
      o.log_max_bytes = *n;
    }
    if (const auto s = t.string("working_dir")) o.working_dir = *s;
    if (t.contains("fidelities")) {
      const std::vector<config::Table> fidelities = t.tables("fidelities");
      if (fidelities.empty()) t.invalid("fidelities", "must be a non-empty array of {name = \"...\", cost = <number>}");
      o.fidelities.clear();
      for (const config::Table& f : fidelities) {
        f.expect_keys({"name", "cost"});
        o.fidelities.push_back(Fidelity{f.require_string("name"), f.require_number("cost")});
      }
    }
    if (const auto env = t.table("env")) {
      for (const auto& k : env->keys()) o.env[k] = *env->string(k);
    }
    if (const auto c = t.string("cost")) {
      if (*c != "fidelity" && *c != "time") t.invalid("cost", "must be \"fidelity\" or \"time\", got \"" + *c + "\"");
      o.cost = *c == "time" ? CommandCost::time : CommandCost::fidelity;
    }
    return o;
  });
}

void register_command_objective(ObjectiveRegistry& registry) {
  registry.add("command", [](const ObjectiveOptions& options) -> std::unique_ptr<Objective> {
    return std::make_unique<CommandObjective>(command_options_from_json(options));
  });
}

}  // namespace metadial::objective
