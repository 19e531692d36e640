// A throwaway PostgreSQL server for the storage tests: initdb into a temporary folder, pg_ctl start
// on a free TCP port of 127.0.0.1 (password login, scram-sha-256) with its unix socket in the same
// folder (trust, for the fixture's own psql). One per test process, started on first use, stopped
// (pg_ctl stop -m immediate) and removed when the process exits; a watchdog process does the same
// if the test process dies without exiting (a crash, a kill). The server refuses to run as root:
// as root the fixture runs initdb and pg_ctl as the `postgres` user (or `nobody`) via setpriv.
// The binaries are taken from METADIAL_PG_BIN or the newest /usr/lib/postgresql/*/bin (Debian's
// postgresql package, installed by scripts/setup-deps). If the server cannot be started, shared()
// throws std::runtime_error with one line saying why: the tests fail, they do not skip.
#pragma once

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace metadial::storage::testing {

class PostgresCluster {
 public:
  /// The process's server, started on first use. Throws std::runtime_error (one line) when it
  /// cannot be started; later calls throw the same without trying again.
  static PostgresCluster& shared() {
    static std::mutex mu;
    static std::unique_ptr<PostgresCluster> cluster;
    static std::string error;
    std::lock_guard lock(mu);
    if (!error.empty()) throw std::runtime_error(error);
    if (!cluster) {
      try {
        cluster.reset(new PostgresCluster());
      } catch (const std::exception& e) {
        error = e.what();
        throw;
      }
    }
    return *cluster;
  }

  ~PostgresCluster() {
    run(concat_cmd(as_user_, q(bin_ + "/pg_ctl"), " -D ", q(data_), " -m immediate -w stop > /dev/null 2>&1"), "stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  int port() const { return port_; }
  const std::string& password() const { return password_; }
  const std::string& socket_dir() const { return dir_; }
  /// The superuser's URL of a database, over TCP with the password.
  std::string url(const std::string& db) const {
    return "postgresql://metadial:" + password_ + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

  /// A new, empty database; returns its name.
  std::string new_database() {
    static std::atomic<int> counter{0};
    const std::string name = "md_" + std::to_string(counter++);
    query("postgres", "CREATE DATABASE " + name);
    return name;
  }
  /// URL of a new, empty database.
  std::string new_database_url() { return url(new_database()); }

  /// Runs SQL in a database as the superuser (over the unix socket); returns psql's unaligned,
  /// tuples-only output, trimmed. Throws std::runtime_error on failure.
  std::string query(const std::string& db, const std::string& sql) {
    std::lock_guard lock(psql_mu_);
    const std::string file = dir_ + "/query.sql";
    const std::string out = dir_ + "/query.out";
    { std::ofstream(file) << sql << "\n"; }
    const std::string cmd =
        concat_cmd(q(bin_ + "/psql"), " -X -q -A -t -v ON_ERROR_STOP=1 -h ", q(dir_), " -p ", std::to_string(port_),
                   " -U metadial -d ", q(db), " -f ", q(file), " > ", q(out), " 2>&1");
    const bool ok = std::system(cmd.c_str()) == 0;
    std::string text = read_file(out);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (!ok) throw std::runtime_error("psql failed on '" + sql + "': " + one_line(text));
    return text;
  }

  /// Kills the server as a crash would (pg_ctl stop -m immediate).
  void stop_immediate() {
    if (!run(concat_cmd(as_user_, q(bin_ + "/pg_ctl"), " -D ", q(data_), " -m immediate -w stop > ",
                        q(dir_ + "/pg_ctl.out"), " 2>&1"),
             "stop")) {
      throw std::runtime_error("pg_ctl stop failed: " + last_log_line(dir_ + "/pg_ctl.out"));
    }
  }
  /// Starts the stopped server again on the same port (crash recovery runs first).
  void start() {
    if (!start_on(port_)) throw std::runtime_error("pg_ctl start failed: " + last_log_line(dir_ + "/server.log"));
  }

 private:
  PostgresCluster() {
    bin_ = find_bin();
    std::string base = std::filesystem::temp_directory_path().string();
    if (base.size() > 40) base = "/tmp";  // a unix socket path has at most 107 bytes
    std::string tmpl = base + "/metadial_pg_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) fail("cannot create a temporary folder under " + base);
    dir_ = buf.data();
    data_ = dir_ + "/data";
    if (::geteuid() == 0) {
      // The server refuses root: run it as an unprivileged system user.
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) pw = ::getpwnam("nobody");
      if (pw == nullptr)
        fail("running as root and there is neither a 'postgres' nor a 'nobody' user to run the server as");
      if (::access("/usr/bin/setpriv", X_OK) != 0) fail("running as root and /usr/bin/setpriv (util-linux) is missing");
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) fail("cannot chown " + dir_);
      as_user_ = "/usr/bin/setpriv --reuid=" + std::to_string(pw->pw_uid) + " --regid=" + std::to_string(pw->pw_gid) +
                 " --clear-groups -- ";
      user_uid_ = static_cast<int>(pw->pw_uid);
      user_gid_ = static_cast<int>(pw->pw_gid);
    }
    ::chmod(dir_.c_str(), 0700);
    std::random_device rd;
    password_ = "pw-" + std::to_string(rd()) + "-" + std::to_string(rd());
    const std::string pwfile = dir_ + "/pwfile";
    { std::ofstream(pwfile) << password_ << "\n"; }
    if (user_uid_ >= 0 && ::chown(pwfile.c_str(), static_cast<uid_t>(user_uid_), static_cast<gid_t>(user_gid_)) != 0) {
      fail("cannot chown " + pwfile);
    }
    if (!run(concat_cmd(as_user_, q(bin_ + "/initdb"), " -D ", q(data_), " -U metadial --pwfile=", q(pwfile),
                        " --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync > ",
                        q(dir_ + "/initdb.out"), " 2>&1"),
             "initdb")) {
      fail("initdb failed: " + last_log_line(dir_ + "/initdb.out"));
    }
    {
      std::ofstream conf(data_ + "/postgresql.conf", std::ios::app);
      conf << "listen_addresses = '127.0.0.1'\n"
           << "unix_socket_directories = '" << dir_ << "'\n"
           << "max_connections = 80\nshared_buffers = 32MB\n";
      // A throwaway server for the tests: no fsync (a killed server still recovers from the OS
      // cache). METADIAL_PG_DURABLE=1 (the benchmarks): PostgreSQL's defaults, every commit fsynced.
      const char* durable = std::getenv("METADIAL_PG_DURABLE");
      if (durable == nullptr || std::string(durable) != "1") conf << "fsync = off\nfull_page_writes = off\n";
    }
    bool started = false;
    for (int i = 0; i < 5 && !started; ++i) started = start_on(free_port());
    if (!started) fail("pg_ctl start failed: " + last_log_line(dir_ + "/server.log"));
    start_watchdog();
  }

  [[noreturn]] void fail(const std::string& why) {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
    throw std::runtime_error("cannot start a PostgreSQL server for the tests: " + why);
  }

  bool start_on(int port) {
    port_ = port;
    return run(concat_cmd("cd ", q(dir_), " && ", as_user_, q(bin_ + "/pg_ctl"), " -D ", q(data_), " -l ",
                          q(dir_ + "/server.log"), " -o ", q("-p " + std::to_string(port)), " -w -t 60 start > ",
                          q(dir_ + "/pg_ctl.out"), " 2>&1"),
               "start");
  }

  /// Stops the server and removes the folder when this process is gone, however it ended.
  void start_watchdog() {
    const std::string stop = concat_cmd(as_user_, bin_ + "/pg_ctl -D " + data_ + " -m immediate stop");
    const std::string script =
        "while kill -0 " + std::to_string(::getpid()) + " 2>/dev/null; do sleep 1; done; " + stop + "; rm -rf " + dir_;
    const std::string cmd = "setsid sh -c " + q(script) + " </dev/null >/dev/null 2>&1 &";
    std::system(cmd.c_str());  // best effort
  }

  static std::string find_bin() {
    if (const char* env = std::getenv("METADIAL_PG_BIN"); env != nullptr && *env != '\0') {
      if (::access((std::string(env) + "/initdb").c_str(), X_OK) != 0) {
        throw std::runtime_error(std::string("cannot start a PostgreSQL server for the tests: METADIAL_PG_BIN=") + env +
                                 " holds no initdb");
      }
      return env;
    }
    std::vector<std::pair<int, std::string>> found;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const std::string bin = e.path().string() + "/bin";
      if (::access((bin + "/initdb").c_str(), X_OK) == 0 && ::access((bin + "/pg_ctl").c_str(), X_OK) == 0) {
        found.emplace_back(std::atoi(e.path().filename().c_str()), bin);
      }
    }
    if (found.empty()) {
      throw std::runtime_error(
          "cannot start a PostgreSQL server for the tests: no initdb and pg_ctl under /usr/lib/postgresql/*/bin "
          "(install the Debian package postgresql: scripts/setup-deps; or set METADIAL_PG_BIN)");
    }
    std::sort(found.begin(), found.end());
    return found.back().second;
  }

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    if (fd >= 0) ::close(fd);
    if (port == 0) {
      std::random_device rd;
      port = 20000 + static_cast<int>(rd() % 30000);
    }
    return port;
  }

  static bool run(const std::string& cmd, const char* /*what*/) {
    const int status = std::system(cmd.c_str());
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  template <typename... Parts>
  static std::string concat_cmd(const Parts&... parts) {
    std::string out;
    (out += ... += std::string(parts));
    return out;
  }

  /// Single-quoted for sh.
  static std::string q(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  static std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    std::replace(s.begin(), s.end(), '\t', ' ');
    return s;
  }

  static std::string last_log_line(const std::string& path) {
    std::string text = read_file(path);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    const size_t nl = text.rfind('\n');
    text = nl == std::string::npos ? text : text.substr(nl + 1);
    return text.empty() ? "(no output in " + path + ")" : text;
  }

  std::string bin_;
  std::string dir_;
  std::string data_;
  std::string as_user_;  ///< "setpriv ... -- " when running as root, else empty
  int user_uid_ = -1;
  int user_gid_ = -1;
  int port_ = 0;
  std::string password_;
  std::mutex psql_mu_;
};

}  // namespace metadial::storage::testing
