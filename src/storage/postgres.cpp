#include "metadial/storage/postgres.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/text.h"
#include "storage/detail/checks.h"

namespace metadial::storage {

using ::metadial::detail::concat;
using study::FrozenTrial;
using study::TrialState;

// --- URLs ---

bool is_postgres_url(const std::string& url) { return url.starts_with("postgresql:") || url.starts_with("postgres:"); }

namespace {

/// The libpq connection string of a storage URL: a URI as it is, the keyword form without its prefix.
std::string conninfo_of(const std::string& url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return url;
  if (url.starts_with("postgresql:")) return url.substr(std::string_view("postgresql:").size());
  if (url.starts_with("postgres:")) return url.substr(std::string_view("postgres:").size());
  return url;
}

/// Masks the value of every `password=` in a libpq keyword/value string.
std::string mask_keywords(const std::string& s) {
  std::string out;
  size_t i = 0;
  const size_t n = s.size();
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (i < n) {
    const size_t key_start = i;
    while (i < n && space(s[i])) ++i;
    const size_t name_start = i;
    while (i < n && s[i] != '=' && !space(s[i])) ++i;
    const std::string name = s.substr(name_start, i - name_start);
    while (i < n && space(s[i])) ++i;
    if (i >= n || s[i] != '=') {  // not keyword=value: leave the rest as it is
      out += s.substr(key_start);
      return out;
    }
    ++i;
    while (i < n && space(s[i])) ++i;
    const size_t value_start = i;
    if (i < n && s[i] == '\'') {
      ++i;
      while (i < n && s[i] != '\'') i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
      if (i < n) ++i;
    } else {
      while (i < n && !space(s[i])) i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
    }
    out += s.substr(key_start, value_start - key_start);
    out += name == "password" ? std::string("***") : s.substr(value_start, i - value_start);
  }
  return out;
}

/// Masks the password of a URI: user:PASSWORD@ and ?password=... / &password=...
std::string mask_uri(const std::string& s) {
  std::string out = s;
  const size_t start = out.find("://") + 3;
  size_t end = out.find_first_of("/?", start);
  if (end == std::string::npos) end = out.size();
  const size_t at = end > start ? out.rfind('@', end - 1) : std::string::npos;
  if (at != std::string::npos && at >= start) {
    const size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  size_t q = out.find('?');
  while (q != std::string::npos) {
    const size_t key = q + 1;
    const size_t next = out.find('&', key);
    const size_t stop = next == std::string::npos ? out.size() : next;
    const size_t eq = out.find('=', key);
    if (eq != std::string::npos && eq < stop && out.compare(key, eq - key, "password") == 0) {
      out.replace(eq + 1, stop - eq - 1, "***");
    }
    q = out.find('&', key);
  }
  return out;
}

}  // namespace

std::string mask_password(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme != std::string::npos) return mask_uri(url);
  if (is_postgres_url(url)) {
    const size_t colon = url.find(':');
    return url.substr(0, colon + 1) + mask_keywords(url.substr(colon + 1));
  }
  return url.find("password") != std::string::npos ? mask_keywords(url) : url;
}

namespace {

// --- One connection ---

/// The connection was lost, or the server is going away: the call may run again on a new one.
struct ConnectionLost : std::exception {
  ConnectionLost(std::string m, bool sent) : message(std::move(m)), commit_sent(sent) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string message;
  /// COMMIT (or a statement that commits by itself) was sent: it may have taken effect.
  bool commit_sent;
};

/// A serialization failure or a deadlock: the server rolled the transaction back; run it again.
struct TransientConflict : std::exception {
  explicit TransientConflict(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string message;
};

/// A libpq message on one line: "connection to server ... failed: X\n\tIs the server running ..."
std::string one_line(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

/// A statement parameter in text form (NULL when empty).
struct Param {
  std::optional<std::string> text;
  Param(std::nullopt_t) {}                       // NOLINT(google-explicit-constructor)
  Param(const std::string& s) : text(s) {}       // NOLINT(google-explicit-constructor)
  Param(const char* s) : text(s) {}              // NOLINT(google-explicit-constructor)
  Param(int64_t v) : text(std::to_string(v)) {}  // NOLINT(google-explicit-constructor)
  Param(int v) : text(std::to_string(v)) {}      // NOLINT(google-explicit-constructor)
  Param(double v) {                              // NOLINT(google-explicit-constructor)
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
    text.emplace(buf, res.ptr);
  }
  Param(const std::optional<double>& v) {  // NOLINT(google-explicit-constructor)
    if (v) text = Param(*v).text;
  }
};

/// A PGresult, cleared on destruction.
class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() {
    if (r_ != nullptr) PQclear(r_);
  }
  Result(Result&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Result& operator=(Result&&) = delete;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  PGresult* raw() const { return r_; }
  int rows() const { return PQntuples(r_); }
  bool is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string get_text(int row, int col) const {
    return {PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col))};
  }
  int64_t get_int(int row, int col) const {
    const char* p = PQgetvalue(r_, row, col);
    int64_t v = 0;
    std::from_chars(p, p + PQgetlength(r_, row, col), v);
    return v;
  }
  /// float8 text (shortest exact with extra_float_digits > 0) back to the same double.
  double get_double(int row, int col) const { return std::strtod(PQgetvalue(r_, row, col), nullptr); }
  /// Rows changed by an INSERT / UPDATE / DELETE.
  int64_t affected() const { return std::atoll(PQcmdTuples(r_)); }

 private:
  PGresult* r_;
};

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

/// How a Durability::kFlushed transaction (see Tx) begins: its COMMIT does not wait for the disk.
constexpr const char* kBeginFlushed = "BEGIN; SET LOCAL synchronous_commit = off";

/// The durable one-row write that flushes a Durability::kFlushed transaction (see Tx): the heartbeat
/// of the trial `where` selects (an SQL condition on trials) set to itself, committed by itself once
/// the WAL up to it is on disk.
std::string flush_statement_where(const std::string& where) {
  return concat("UPDATE trials SET heartbeat_at = heartbeat_at WHERE ", where);
}
std::string flush_statement(int64_t trial_id) { return flush_statement_where(concat("id = ", trial_id)); }

class Db {
 public:
  Db(const std::string& url, PostgresOptions options)
      : conninfo_(conninfo_of(url)), masked_(mask_password(url)), options_(options) {
    // The password as libpq reads it, to scrub it from any message (percent-decoded too).
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo_.c_str(), &err);
    if (opts == nullptr) {
      std::string why = err != nullptr ? one_line(err) : "cannot parse it";
      PQfreemem(err);
      throw InvalidArgument(concat("PostgreSQL storage URL '", masked_, "' is malformed: ", scrub(why),
                                   " (expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME or "
                                   "postgresql:KEY=VALUE ...)"));
    }
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (std::string_view(o->keyword) == "password" && o->val != nullptr) password_ = o->val;
    }
    PQconninfoFree(opts);
    masked_ = scrub(masked_);
  }
  ~Db() { disconnect(); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  const std::string& masked() const { return masked_; }
  std::string where() const { return concat("PostgreSQL storage '", masked_, "'"); }
  void set_doing(const char* doing) { doing_ = doing; }
  bool connected() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

  /// `msg` without the password (for passwords of 4 characters or more; shorter ones would
  /// garble the message and libpq does not print them anyway).
  std::string scrub(std::string msg) const {
    if (password_.size() < 4) return msg;
    for (size_t p = msg.find(password_); p != std::string::npos; p = msg.find(password_, p + 3)) {
      msg.replace(p, password_.size(), "***");
    }
    return msg;
  }

  /// Connects (again); the reason on failure.
  std::optional<std::string> try_connect() {
    disconnect();
    const std::string timeout = std::to_string(options_.connect_timeout_s);
    // Defaults before the URL (which overrides them), the encoding after it (which overrides the URL).
    std::vector<const char*> keys{"connect_timeout", "application_name"};
    std::vector<const char*> values{timeout.c_str(), "metadial"};
    if (!conninfo_.empty()) {
      keys.push_back("dbname");
      values.push_back(conninfo_.c_str());
    }
    keys.push_back("client_encoding");
    values.push_back("UTF8");
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
    if (conn_ == nullptr) return "libpq could not allocate a connection";
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string why = scrub(one_line(PQerrorMessage(conn_)));
      disconnect();
      return why;
    }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
    // Shortest exact float text both ways; a read-only session refuses writes on the server too.
    const char* setup = options_.read_only ? "SET extra_float_digits = 3; SET default_transaction_read_only = on"
                                           : "SET extra_float_digits = 3";
    PGresult* r = PQexec(conn_, setup);
    const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
      std::string why = scrub(one_line(PQerrorMessage(conn_)));
      disconnect();
      return why;
    }
    return std::nullopt;
  }

  void disconnect() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }

  /// Runs one statement. Throws ConnectionLost, TransientConflict or StorageError.
  Result exec(const char* sql, std::initializer_list<Param> params = {}, bool commits = false) {
    if (conn_ == nullptr) throw ConnectionLost("not connected", false);
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p.text ? p.text->c_str() : nullptr);
    Result r(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = r.raw() != nullptr ? PQresultStatus(r.raw()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    fail(r.raw(), commits);
  }

  /// Several statements without parameters (the schema).
  void exec_script(const char* sql) {
    if (conn_ == nullptr) throw ConnectionLost("not connected", false);
    Result r(PQexec(conn_, sql));
    if (r.raw() == nullptr || PQresultStatus(r.raw()) != PGRES_COMMAND_OK) fail(r.raw(), false);
  }

  /// `sql` with its parameters written in as escaped literals ($n -> 'text', NULL for an empty
  /// Param; the statement's casts apply), for statements sent several to a message (exec_message).
  std::string inline_params(const char* sql, std::initializer_list<Param> params) {
    if (conn_ == nullptr) throw ConnectionLost("not connected", false);
    // One pass over the statement ($n inside an inserted literal is text, never replaced again).
    const std::vector<Param> ps(params);
    std::string body;
    for (const char* c = sql; *c != '\0'; ++c) {
      if (*c != '$' || !std::isdigit(static_cast<unsigned char>(c[1]))) {
        body += *c;
        continue;
      }
      size_t n = 0;
      while (std::isdigit(static_cast<unsigned char>(c[1]))) n = n * 10 + static_cast<size_t>(*++c - '0');
      MD_ASSERT(n >= 1 && n <= ps.size());
      const Param& p = ps[n - 1];
      if (!p.text) {
        body += "NULL";
        continue;
      }
      char* e = PQescapeLiteral(conn_, p.text->data(), p.text->size());
      if (e == nullptr) throw StorageError(concat(where(), ": ", doing_, ": ", one_line(PQerrorMessage(conn_))));
      body += e;
      PQfreemem(e);
    }
    return body;
  }

  /// Several statements (parameters inlined) sent as one message, in one round trip; each
  /// statement's result, in order. An error ends the transaction it left open (nothing of it
  /// committed) and throws as exec() does; with `commits` (the message holds a COMMIT) a lost
  /// connection counts as a lost COMMIT reply.
  std::vector<Result> exec_message(const std::string& msg, bool commits) {
    if (conn_ == nullptr) throw ConnectionLost("not connected", false);
    if (PQsendQuery(conn_, msg.c_str()) == 0) fail(nullptr, /*commits=*/false);
    std::vector<Result> results;
    std::optional<size_t> error;
    while (PGresult* r = PQgetResult(conn_)) {
      const ExecStatusType st = PQresultStatus(r);
      results.emplace_back(r);
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !error) error = results.size() - 1;
    }
    if (PQstatus(conn_) != CONNECTION_OK) fail(error ? results[*error].raw() : nullptr, commits);
    if (error) {
      rollback_quietly();
      fail(results[*error].raw(), /*commits=*/false);
    }
    return results;
  }

  /// One statement in a Durability::kFlushed transaction, in one round trip: `BEGIN; SET LOCAL
  /// synchronous_commit = off; <sql>; COMMIT; <flush write to trial_id>` as one message (see
  /// inline_params). Returns `sql`'s result.
  Result exec_flushed(const char* sql, std::initializer_list<Param> params, int64_t trial_id) {
    std::vector<Result> results =
        exec_message(concat(kBeginFlushed, "; ", inline_params(sql, params), "; COMMIT; ",
                            flush_statement(trial_id)),
                     /*commits=*/true);
    MD_ASSERT(results.size() == 5);
    lose_commit_reply_if_asked();
    return std::move(results[2]);
  }

  /// One statement committed without waiting for the disk, in one round trip: `BEGIN; SET LOCAL
  /// synchronous_commit = off; <sql>; COMMIT` (see inline_params). Visible to every reader at
  /// once, durable once a later flushed write of this connection returns (the WAL is flushed in
  /// order). Returns `sql`'s result.
  Result exec_async(const char* sql, std::initializer_list<Param> params) {
    std::vector<Result> results = exec_message(
        concat(kBeginFlushed, "; ", inline_params(sql, params), "; COMMIT"), /*commits=*/true);
    MD_ASSERT(results.size() == 4);
    lose_commit_reply_if_asked();
    return std::move(results[2]);
  }

  /// COMMIT, and `then` (statements without parameters) sent with it in one message: they run after
  /// the COMMIT, each committed by itself, in the same round trip.
  void commit(const std::string& then = {}) {
    if (then.empty()) {
      exec("COMMIT", {}, /*commits=*/true);
    } else {
      if (conn_ == nullptr) throw ConnectionLost("not connected", true);
      const std::string sql = concat("COMMIT; ", then);
      Result r(PQexec(conn_, sql.c_str()));
      const ExecStatusType status = r.raw() != nullptr ? PQresultStatus(r.raw()) : PGRES_FATAL_ERROR;
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(r.raw(), /*commits=*/true);
    }
    lose_commit_reply_if_asked();
  }

  /// PostgresOptions::test_lose_first_commit_reply: after a COMMIT that took effect, act as if its
  /// reply was lost (disconnect, ConnectionLost with commit_sent).
  void lose_commit_reply_if_asked() {
    if (!lose_next_commit_reply_) return;
    lose_next_commit_reply_ = false;
    disconnect();
    throw ConnectionLost("the reply to COMMIT was lost (test_lose_first_commit_reply)", true);
  }

  /// For PostgresOptions::test_lose_first_commit_reply: the next COMMIT's reply is "lost".
  void lose_next_commit_reply(bool lose) { lose_next_commit_reply_ = lose; }

  /// Ends a transaction in progress, ignoring errors (from destructors).
  void rollback_quietly() noexcept {
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
    PQclear(PQexec(conn_, "ROLLBACK"));
  }

 private:
  [[noreturn]] void fail(const PGresult* r, bool commits) const {
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string code = state != nullptr ? state : "";
    const char* primary = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string msg = scrub(one_line(primary != nullptr ? primary : PQerrorMessage(conn_)));
    if (PQstatus(conn_) != CONNECTION_OK || code.starts_with("08") || code == "57P01" || code == "57P02" ||
        code == "57P03") {
      throw ConnectionLost(msg, commits);
    }
    if (code == "40001" || code == "40P01") throw TransientConflict(msg);
    if (code == "25006") {
      throw StorageError(concat(where(), ": ", doing_, " needs to write, but the storage was opened read-only"));
    }
    if (const char* hint = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : nullptr) {
      msg += concat(" (", scrub(one_line(hint)), ")");
    }
    throw StorageError(concat(where(), ": ", doing_, " failed: ", msg));
  }

  std::string conninfo_;
  std::string masked_;
  std::string password_;
  PostgresOptions options_;
  PGconn* conn_ = nullptr;
  const char* doing_ = "open";
  bool lose_next_commit_reply_ = false;
};

/// How a transaction's COMMIT waits for the disk.
///   kDurable  the server's setting (synchronous_commit on by default): COMMIT returns once its WAL
///             is flushed.
///   kFlushed  for transactions that lock the study row (numbering, counts, the change number):
///             COMMIT returns once its WAL is written, not flushed (synchronous_commit = off for
///             this transaction only), so the row lock is not held through an fsync and other
///             workers' transactions go on. Tx::commit_and_flush(trial) sends with the COMMIT, in
///             the same round trip, a durable one-row write to the transaction's own trial, which
///             the server commits only once the WAL up to it (and so the first commit) is on disk.
///             Fsyncs of many workers then group together instead of queueing behind the lock
///             (`bench/repro/storage_workers.cpp`: 61 -> 135 trials/s at 16 workers). The call
///             returns only after both, so what it reported done is as durable as with kDurable;
///             a crash between the two loses the first commit, and the call's retry (after
///             reconnecting) finds by its token that it did not take effect and runs it again.
enum class Durability { kDurable, kFlushed };

/// BEGIN ... COMMIT; rolls back on scope exit if not committed.
class Tx {
 public:
  explicit Tx(Db& db, Durability durability = Durability::kDurable) : db_(db) {
    if (durability == Durability::kFlushed) {
      db_.exec_script(kBeginFlushed);  // one round trip
    } else {
      db_.exec("BEGIN");
    }
  }
  /// A Durability::kFlushed transaction whose first statements (parameters inlined, see
  /// Db::inline_params) go with its BEGIN in one message; their results in order, after BEGIN's
  /// and SET's (results[2] is the first statement's).
  Tx(Db& db, const std::string& first, std::vector<Result>& results) : db_(db) {
    results = db_.exec_message(concat(kBeginFlushed, "; ", first), /*commits=*/false);
  }
  ~Tx() {
    if (open_) db_.rollback_quietly();
  }
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;
  void commit() {
    open_ = false;
    db_.commit();
  }
  /// COMMIT of a Durability::kFlushed transaction and the durable write that flushes it (above).
  void commit_and_flush(int64_t trial_id) {
    open_ = false;
    db_.commit(flush_statement(trial_id));
  }
  /// The last statement (parameters inlined), COMMIT and the durable write `flush` that flushes
  /// the transaction (flush_statement), in one message; the last statement's result.
  Result commit_with(const std::string& last, const std::string& flush) {
    open_ = false;
    std::vector<Result> results = db_.exec_message(concat(last, "; COMMIT; ", flush), /*commits=*/true);
    MD_ASSERT(results.size() == 3);
    db_.lose_commit_reply_if_asked();
    return std::move(results[0]);
  }
  void rollback() {
    open_ = false;
    db_.exec("ROLLBACK");
  }

 private:
  Db& db_;
  bool open_ = true;
};

/// Durability::kFlushed's write on its own, for a retry that finds its first attempt committed
/// (that commit may not be on disk yet). A lost connection counts as a lost COMMIT reply.
void flush_after_commit(Db& db, int64_t trial_id) {
  db.exec(flush_statement(trial_id).c_str(), {}, /*commits=*/true);
}

// --- Schema ---

// Version 3 (version 1 had no queued_trials, version 2 no retry_of; `open_schema` migrates them). A later version adds a
// migration from each older one in `open_schema` and bumps kPostgresSchemaVersion; an older build
// refuses the newer schema instead of guessing.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE studies (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  direction   TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  space       TEXT NOT NULL,
  attrs       TEXT NOT NULL,
  created_at  DOUBLE PRECISION NOT NULL,
  next_number BIGINT NOT NULL DEFAULT 0,   -- the number the next trial gets
  change_seq  BIGINT NOT NULL DEFAULT 0,   -- the study's last change number (trials.seq)
  n_running   BIGINT NOT NULL DEFAULT 0,   -- trials per state and their total cost, kept by every write
  n_complete  BIGINT NOT NULL DEFAULT 0,
  n_pruned    BIGINT NOT NULL DEFAULT 0,
  n_failed    BIGINT NOT NULL DEFAULT 0,
  total_cost  DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE TABLE trials (
  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  study_id      BIGINT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  number        BIGINT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('running', 'complete', 'pruned', 'failed')),
  params        TEXT,                       -- JSON object (text keeps every double's bits); NULL until set
  fidelity      INTEGER NOT NULL DEFAULT 0,
  value         DOUBLE PRECISION,
  cost          DOUBLE PRECISION NOT NULL DEFAULT 0,
  fail_reason   TEXT NOT NULL DEFAULT '',
  worker        TEXT NOT NULL DEFAULT '',
  started_at    DOUBLE PRECISION NOT NULL,
  finished_at   DOUBLE PRECISION NOT NULL DEFAULT 0,
  heartbeat_at  DOUBLE PRECISION NOT NULL,
  seq           BIGINT NOT NULL,            -- change number of the trial's last change
  reserve_token TEXT UNIQUE,                -- the reservation that created it (exactly-once retries)
  finish_token  TEXT UNIQUE,                -- the finish_trial call that finished it
  retry_of      BIGINT NOT NULL DEFAULT -1, -- number of the trial it re-runs (retry_failed), -1 if none
  UNIQUE (study_id, number)
);
CREATE INDEX trials_by_state ON trials (study_id, state);
CREATE INDEX trials_by_change ON trials (study_id, seq);
CREATE TABLE intermediate_values (
  trial_id BIGINT NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  step     BIGINT NOT NULL,
  value    DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (trial_id, step)
);
CREATE TABLE queued_trials (
  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,   -- the queue's order
  study_id      BIGINT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  params        TEXT NOT NULL,               -- JSON object
  fidelity      INTEGER NOT NULL,
  queued_at     DOUBLE PRECISION NOT NULL,
  trial_id      BIGINT,                      -- the trial that took it; NULL while queued
  enqueue_token TEXT UNIQUE,                 -- the enqueue_trial call that queued it
  retry_of      BIGINT NOT NULL DEFAULT -1   -- passed on to the trial that takes it
);
CREATE INDEX queued_by_study ON queued_trials (study_id, id);
)sql";

// Version 1 -> 2: the queue of configurations, empty.
constexpr const char* kMigrateV1Sql = R"sql(
CREATE TABLE queued_trials (
  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  study_id      BIGINT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  params        TEXT NOT NULL,
  fidelity      INTEGER NOT NULL,
  queued_at     DOUBLE PRECISION NOT NULL,
  trial_id      BIGINT,
  enqueue_token TEXT UNIQUE
);
CREATE INDEX queued_by_study ON queued_trials (study_id, id);
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

// Version 2 -> 3: which trial a trial re-runs (retry_failed); every existing one re-runs none.
constexpr const char* kMigrateV2Sql = R"sql(
ALTER TABLE trials ADD COLUMN retry_of BIGINT NOT NULL DEFAULT -1;
ALTER TABLE queued_trials ADD COLUMN retry_of BIGINT NOT NULL DEFAULT -1;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)sql";

/// `sql` for a schema of `version`: before version 3 (only ever read, never written: a worker
/// that writes upgrades it first) the retry_of columns are not there and read as -1.
std::string for_schema(int64_t version, std::string sql) {
  if (version >= 3) return sql;
  for (const char* column : {"t.retry_of", "q.retry_of"}) {
    for (size_t at = sql.find(column); at != std::string::npos; at = sql.find(column, at)) {
      sql.replace(at, std::strlen(column), "-1::bigint");
    }
  }
  return sql;
}

/// pg_advisory_xact_lock key of the schema check: the ASCII bytes "MDAL", as SQLite's application_id.
constexpr const char* kSchemaLockSql = "SELECT pg_advisory_xact_lock(1296319820)";

constexpr const char* kStudyColumns = "id, name, direction, space, attrs, created_at";

#define MD_TRIAL_COLUMNS                                                                                    \
  "t.id, t.number, t.state, t.params, t.fidelity, t.value, t.cost, t.fail_reason, t.worker, t.started_at, " \
  "t.finished_at, t.heartbeat_at, t.retry_of"
/// The intermediate values of trial t as "step value step value ...", ordered by step.
#define MD_INTERMEDIATE_COLUMN                                                                              \
  "(SELECT string_agg(iv.step || ' ' || iv.value, ' ' ORDER BY iv.step) FROM intermediate_values iv WHERE " \
  "iv.trial_id = t.id)"

nlohmann::json parse_json(const Db& db, const std::string& text, const char* what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw StorageError(concat(db.where(), ": stored ", what, " is not valid JSON: ", e.what()));
  }
}

/// JSON text of a value to store; InvalidArgument if it cannot be written (invalid UTF-8).
std::string dump_json(const nlohmann::json& j, const char* what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(concat(what, " cannot be stored as JSON: ", e.what()));
  }
}

StudyRecord read_study(const Db& db, const Result& r, int row) {
  StudyRecord s;
  s.id = r.get_int(row, 0);
  s.name = r.get_text(row, 1);
  s.direction = study::direction_from_string(r.get_text(row, 2));
  s.space = parse_json(db, r.get_text(row, 3), "study space");
  s.attrs = parse_json(db, r.get_text(row, 4), "study attrs");
  s.created_at = r.get_double(row, 5);
  return s;
}

/// A trial from MD_TRIAL_COLUMNS starting at column c (and MD_INTERMEDIATE_COLUMN after them).
FrozenTrial read_trial(const Db& db, const Result& r, int row, int c, bool intermediate) {
  FrozenTrial t;
  t.id = r.get_int(row, c);
  t.number = r.get_int(row, c + 1);
  t.state = study::trial_state_from_string(r.get_text(row, c + 2));
  if (!r.is_null(row, c + 3))
    t.params = space::config_from_json(parse_json(db, r.get_text(row, c + 3), "trial params"));
  t.fidelity = static_cast<int>(r.get_int(row, c + 4));
  if (!r.is_null(row, c + 5)) t.value = r.get_double(row, c + 5);
  t.cost = r.get_double(row, c + 6);
  t.fail_reason = r.get_text(row, c + 7);
  t.worker = r.get_text(row, c + 8);
  t.started_at = r.get_double(row, c + 9);
  t.finished_at = r.get_double(row, c + 10);
  t.heartbeat_at = r.get_double(row, c + 11);
  t.retry_of = r.get_int(row, c + 12);
  if (intermediate && !r.is_null(row, c + 13)) {
    const std::string text = r.get_text(row, c + 13);
    const char* p = text.c_str();
    while (*p != '\0') {
      char* end = nullptr;
      const long long step = std::strtoll(p, &end, 10);
      const double value = std::strtod(end, &end);
      if (end == p) break;
      t.intermediate[step] = value;
      p = end;
      while (*p == ' ') ++p;
    }
  }
  return t;
}

TrialCounts read_counts(const Result& r, int row, int c) {
  TrialCounts counts;
  counts.running = r.get_int(row, c);
  counts.complete = r.get_int(row, c + 1);
  counts.pruned = r.get_int(row, c + 2);
  counts.failed = r.get_int(row, c + 3);
  counts.cost = r.get_double(row, c + 4);
  return counts;
}

/// Text PostgreSQL can hold as it is: no NUL byte, valid UTF-8. A study name that is not cannot be
/// stored, so no study has it.
bool storable(const std::string& s) { return s.find('\0') == std::string::npos && text::valid_utf8(s) == s; }

std::optional<StudyRecord> find_study_locked(Db& db, const std::string& name) {
  if (!storable(name)) return std::nullopt;
  static const std::string sql = concat("SELECT ", kStudyColumns, " FROM studies WHERE name = $1::text");
  Result r = db.exec(sql.c_str(), {name});
  if (r.rows() == 0) return std::nullopt;
  return read_study(db, r, 0);
}

std::vector<std::string> study_names(Db& db) {
  Result r = db.exec("SELECT name FROM studies ORDER BY id");
  std::vector<std::string> names;
  for (int i = 0; i < r.rows(); ++i) names.push_back(r.get_text(i, 0));
  return names;
}

/// The study of that name, its row locked until the transaction ends; StorageError naming the
/// stored studies if there is none.
StudyRecord load_study_locked(Db& db, const std::string& name) {
  if (storable(name)) {
    static const std::string sql = concat("SELECT ", kStudyColumns, " FROM studies WHERE name = $1::text FOR UPDATE");
    Result r = db.exec(sql.c_str(), {name});
    if (r.rows() == 1) return read_study(db, r, 0);
  }
  throw StorageError(detail::no_study_message(name, db.where(), study_names(db)));
}

/// What the writing calls report when their statement changed no row.
struct TrialHead {
  TrialState state = TrialState::kRunning;
  std::optional<std::string> params;
  int fidelity = 0;
  std::string finish_token;
  std::string description;  ///< "trial 3 of study 'x'"
};

TrialHead load_head(Db& db, int64_t trial_id) {
  Result r = db.exec(
      "SELECT t.number, t.state, t.params, t.fidelity, COALESCE(t.finish_token, ''), s.name "
      "FROM trials t JOIN studies s ON s.id = t.study_id WHERE t.id = $1::bigint",
      {trial_id});
  MD_CHECK_AS(StorageError, r.rows() == 1, "no trial with id ", trial_id, " in ", db.where());
  TrialHead h;
  h.state = study::trial_state_from_string(r.get_text(0, 1));
  if (!r.is_null(0, 2)) h.params = r.get_text(0, 2);
  h.fidelity = static_cast<int>(r.get_int(0, 3));
  h.finish_token = r.get_text(0, 4);
  h.description = detail::describe_trial(r.get_int(0, 0), r.get_text(0, 5));
  return h;
}

/// Checks the schema in the current schema of the database, creating it if it is empty and
/// `create`, upgrading an older one unless read-only; returns its version as it is now. Throws
/// StorageError (one line, nothing changed) for anything that is not metadial's.
int64_t open_schema(Db& db, const PostgresOptions& options) {
  const std::string where = concat("cannot open ", db.where(), ": ");
  {
    Result enc = db.exec("SHOW server_encoding");
    const std::string e = enc.get_text(0, 0);
    MD_CHECK_AS(StorageError, e == "UTF8" || e == "SQL_ASCII", where, "the database's encoding is ", e,
                "; metadial stores UTF-8 text (create the database with ENCODING 'UTF8')");
  }
  Tx tx(db);
  // Workers that start together on an empty database create the schema once: the second one
  // waits here and then finds the tables.
  if (!options.read_only) db.exec(kSchemaLockSql);
  Result current = db.exec("SELECT current_schema()");
  MD_CHECK_AS(StorageError, !current.is_null(0, 0), where,
              "no schema to keep the tables in (search_path names no existing schema)");
  const std::string schema = current.get_text(0, 0);
  Result tables = db.exec(
      "SELECT c.relname, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname");
  int64_t meta_oid = -1;
  std::string names;
  for (int i = 0; i < tables.rows(); ++i) {
    if (tables.get_text(i, 0) == "meta") meta_oid = tables.get_int(i, 1);
    if (i < 5) names += (i ? ", " : "") + tables.get_text(i, 0);
  }
  if (tables.rows() > 5) names += ", ...";
  const std::string foreign =
      concat(where, "schema '", schema, "' holds another program's tables (", names,
             "), not metadial's; it was left unchanged (use an empty database, or another schema: "
             "?options=-csearch_path%3DNAME)");
  if (meta_oid >= 0) {
    Result cols = db.exec(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = $1::oid AND attname IN ('key', 'value') "
        "AND NOT attisdropped",
        {meta_oid});
    if (cols.get_int(0, 0) != 2) throw StorageError(foreign);
    Result meta = db.exec("SELECT key, value FROM meta WHERE key IN ('application', 'schema_version')");
    std::string application;
    std::string version_text;
    for (int i = 0; i < meta.rows(); ++i) {
      (meta.get_text(i, 0) == "application" ? application : version_text) = meta.get_text(i, 1);
    }
    if (application != "metadial") throw StorageError(foreign);
    int64_t version = 0;
    std::from_chars(version_text.data(), version_text.data() + version_text.size(), version);
    MD_CHECK_AS(StorageError, version <= kPostgresSchemaVersion, where, "it was written by a newer metadial (schema ",
                version, ", this build reads up to ", kPostgresSchemaVersion,
                "); upgrade metadial; it was left unchanged");
    MD_CHECK_AS(StorageError, version >= 1, where, "its meta table names metadial but no schema version (",
                version_text, "); damaged? it was left unchanged");
    if (version == 1 && !options.read_only) {  // under the schema lock: one worker upgrades it
      db.set_doing("upgrading schema 1 to 2");
      db.exec_script(kMigrateV1Sql);
      version = 2;
    }
    if (version == 2 && !options.read_only) {
      db.set_doing("upgrading schema 2 to 3");
      db.exec_script(kMigrateV2Sql);
      version = 3;
    }
    tx.commit();
    db.set_doing("open");
    return version;
  }
  if (tables.rows() > 0) throw StorageError(foreign);
  MD_CHECK_AS(StorageError, options.create && !options.read_only, where, "it holds no metadial studies (schema '",
              schema, "' has no metadial tables); it was left unchanged");
  db.set_doing("creating the schema");
  db.exec_script(kSchemaSql);
  db.exec(
      "INSERT INTO meta (key, value) VALUES ('application', 'metadial'), ('schema_version', $1::text), "
      "('created_by', $2::text)",
      {std::to_string(kPostgresSchemaVersion), concat("metadial ", METADIAL_VERSION)});
  tx.commit();
  db.set_doing("open");
  return kPostgresSchemaVersion;
}

/// A prefix unique to this object among every process on every host: host:pid:random.
std::string token_prefix() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device rd;
  const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r));
  return concat(host, ":", ::getpid(), ":", buf, ":");
}

}  // namespace

// --- The storage ---

struct PostgresStorage::Impl {
  Impl(const std::string& url, PostgresOptions o) : db(url, o), options(o), tokens(token_prefix()) {}

  std::mutex mu;
  Db db;
  PostgresOptions options;
  std::string tokens;  ///< prefix of this object's idempotency tokens
  int64_t next_token = 0;
  std::atomic<int64_t> reconnects{0};
  /// Params set by set_trial_params and not yet on disk (committed without a flush): finish_trial
  /// writes them again if a server crash lost them, and its flush makes them durable.
  std::unordered_map<int64_t, std::pair<std::string, int>> unflushed_params;
  int64_t schema_version = kPostgresSchemaVersion;  ///< below 3 only for an old schema opened read-only

  /// Whether a call may run again after its connection was lost once COMMIT had been sent.
  enum class Retry { kAlways, kUnlessCommitSent };

  std::string token() { return concat(tokens, next_token++); }

  void check_writable(const char* doing) const {
    MD_CHECK_AS(StorageError, !options.read_only, db.where(), ": ", doing,
                " needs to write, but the storage was opened read-only");
  }

  /// Runs fn(attempt) under the mutex; after a lost connection reconnects with backoff and runs it
  /// again (attempt > 0), up to reconnect_timeout_s; after a serialization failure runs it again.
  template <typename Fn>
  auto run(const char* doing, Retry retry, Fn&& fn) {
    std::lock_guard lock(mu);
    db.set_doing(doing);
    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> deadline;
    std::string last_error;
    int conflicts = 0;
    for (int attempt = 0;; ++attempt) {
      try {
        if (!db.connected()) reconnect(doing, deadline, last_error);
        db.lose_next_commit_reply(options.test_lose_first_commit_reply && attempt == 0);
        return fn(attempt);
      } catch (const ConnectionLost& e) {
        db.disconnect();
        if (e.commit_sent && retry == Retry::kUnlessCommitSent) {
          throw StorageError(concat(db.where(), ": ", doing, ": the connection was lost while committing (", e.message,
                                    "), so whether it took effect is unknown; check and run it again"));
        }
        last_error = e.message;
        // A connection that is lost again and again after each reconnect gives up at the deadline too.
        MD_CHECK_AS(StorageError, !deadline || Clock::now() < *deadline, db.where(), ": ", doing,
                    ": the connection was lost again and again for ", options.reconnect_timeout_s, " s (", last_error,
                    ")");
      } catch (const TransientConflict& e) {
        db.rollback_quietly();
        MD_CHECK_AS(StorageError, ++conflicts <= 20, db.where(), ": ", doing, " failed: ", e.message,
                    " (still after 20 tries)");
        std::this_thread::sleep_for(std::chrono::milliseconds(1 + conflicts * 5));
      }
    }
  }

  void reconnect(const char* doing, std::optional<std::chrono::steady_clock::time_point>& deadline,
                 std::string& last_error) {
    if (!deadline) deadline = deadline_after(options.reconnect_timeout_s);
    if (auto err = connect_with_backoff(db, *deadline, [](const std::string&) { return true; })) {
      last_error = *err;
      throw StorageError(concat(db.where(), ": ", doing,
                                ": lost the connection to the server and could not reconnect within ",
                                options.reconnect_timeout_s, " s (", last_error, ")"));
    }
    reconnects.fetch_add(1);
  }

  static std::chrono::steady_clock::time_point deadline_after(double seconds) {
    using Clock = std::chrono::steady_clock;
    return Clock::now() +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::max(0.0, seconds)));
  }

  /// Connects, retrying with exponential backoff (50 ms doubling to 2 s) while `retry(error)` holds
  /// and the deadline allows; nullopt once connected, else the last error.
  template <typename Retry>
  static std::optional<std::string> connect_with_backoff(Db& db, std::chrono::steady_clock::time_point deadline,
                                                         Retry&& retry) {
    auto delay = std::chrono::milliseconds(50);
    for (;;) {
      std::optional<std::string> err = db.try_connect();
      if (!err) return std::nullopt;
      if (!retry(*err) || std::chrono::steady_clock::now() + delay > deadline) return err;
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(2000));
    }
  }
};

PostgresStorage::PostgresStorage(const std::string& url, PostgresOptions options) {
  MD_CHECK(is_postgres_url(url), "'", mask_password(url), "' is not a PostgreSQL storage URL (expected ",
           "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME or postgresql:KEY=VALUE ...)");
  MD_CHECK(options.reconnect_timeout_s >= 0, "PostgreSQL reconnect_timeout_s is ", options.reconnect_timeout_s,
           "; it must be >= 0");
  MD_CHECK(options.connect_timeout_s >= 0, "PostgreSQL connect_timeout_s is ", options.connect_timeout_s,
           "; it must be >= 0");
  impl_ = std::make_unique<Impl>(url, options);
  Db& db = impl_->db;
  // A server in the middle of a restart (it answers, then closes, or says it is starting or
  // shutting down) is waited for up to reconnect_timeout_s, as a lost connection is; any other
  // failure (no server, bad password, no database) is reported at once.
  const auto restarting = [](const std::string& e) {
    return e.find("the database system is") != std::string::npos ||
           e.find("server closed the connection unexpectedly") != std::string::npos;
  };
  if (auto err = Impl::connect_with_backoff(db, Impl::deadline_after(options.reconnect_timeout_s), restarting)) {
    throw StorageError(concat("cannot connect to ", db.where(), ": ", *err));
  }
  try {
    impl_->schema_version = open_schema(db, options);
  } catch (const ConnectionLost& e) {
    throw StorageError(concat("cannot open ", db.where(), ": lost the connection (", e.message, ")"));
  } catch (const TransientConflict& e) {
    throw StorageError(concat("cannot open ", db.where(), ": ", e.message));
  }
  db.set_doing("?");
}

PostgresStorage::~PostgresStorage() = default;
PostgresStorage::PostgresStorage(PostgresStorage&&) noexcept = default;
PostgresStorage& PostgresStorage::operator=(PostgresStorage&&) noexcept = default;

const std::string& PostgresStorage::masked_url() const { return impl_->db.masked(); }
int64_t PostgresStorage::reconnects() const { return impl_->reconnects.load(); }

StudyRecord PostgresStorage::create_or_load_study(const std::string& name, study::Direction direction,
                                                  const nlohmann::json& space, const nlohmann::json& attrs) {
  detail::check_study_name(name);
  if (!storable(name)) {
    detail::check_new_study_name(name);  // a NUL byte
    throw InvalidArgument(
        concat("study name '", text::escape_controls(text::valid_utf8(name)), "' is not valid UTF-8; use UTF-8 text"));
  }
  const std::string space_json = dump_json(space, "study space");
  const std::string attrs_json = dump_json(attrs, "study attrs");
  return impl_->run("create_or_load_study", Impl::Retry::kAlways, [&](int) {
    Db& db = impl_->db;
    if (auto found = find_study_locked(db, name)) return *found;  // the usual case on resume
    impl_->check_writable("create_or_load_study");
    detail::check_new_study_name(name);
    StudyRecord r;
    r.name = name;
    r.direction = direction;
    r.space = space;
    r.attrs = attrs;
    r.created_at = study::now_unix_seconds();
    // A worker that creates the same study at the same moment wins or waits; the loser loads it.
    Result ins = db.exec(
        "INSERT INTO studies (name, direction, space, attrs, created_at) VALUES ($1::text, $2::text, $3::text, "
        "$4::text, $5::float8) ON CONFLICT (name) DO NOTHING RETURNING id",
        {name, study::to_string(direction), space_json, attrs_json, r.created_at}, /*commits=*/true);
    if (ins.rows() == 0) {
      auto found = find_study_locked(db, name);
      MD_CHECK_AS(StorageError, found.has_value(), db.where(), ": study '", name,
                  "' was created and deleted meanwhile");
      return *found;
    }
    r.id = ins.get_int(0, 0);
    return r;
  });
}

std::optional<StudyRecord> PostgresStorage::find_study(const std::string& name) {
  return impl_->run("find_study", Impl::Retry::kAlways, [&](int) { return find_study_locked(impl_->db, name); });
}

std::vector<StudyRecord> PostgresStorage::list_studies() {
  return impl_->run("list_studies", Impl::Retry::kAlways, [&](int) {
    Db& db = impl_->db;
    static const std::string sql = concat("SELECT ", kStudyColumns, " FROM studies ORDER BY id");
    Result r = db.exec(sql.c_str());
    std::vector<StudyRecord> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_study(db, r, i));
    return out;
  });
}

int64_t PostgresStorage::delete_study(const std::string& name, IfRunning if_running) {
  detail::check_study_name(name);
  impl_->check_writable("delete_study");
  return impl_->run("delete_study", Impl::Retry::kUnlessCommitSent, [&](int) {
    Db& db = impl_->db;
    Tx tx(db);
    // The study row first, as every trial write does: no deadlock with a worker finishing a trial.
    const StudyRecord record = load_study_locked(db, name);
    if (if_running == IfRunning::kRefuse) {
      Result r = db.exec("SELECT number FROM trials WHERE study_id = $1::bigint AND state = 'running' ORDER BY number",
                         {record.id});
      std::vector<int64_t> running;
      for (int i = 0; i < r.rows(); ++i) running.push_back(r.get_int(i, 0));
      MD_CHECK_AS(StorageError, running.empty(), detail::running_trials_message(name, running));
    }
    db.exec("DELETE FROM intermediate_values WHERE trial_id IN (SELECT id FROM trials WHERE study_id = $1::bigint)",
            {record.id});
    db.exec("DELETE FROM queued_trials WHERE study_id = $1::bigint", {record.id});
    const int64_t n = db.exec("DELETE FROM trials WHERE study_id = $1::bigint", {record.id}).affected();
    db.exec("DELETE FROM studies WHERE id = $1::bigint", {record.id});
    tx.commit();
    return n;
  });
}

StudyRecord PostgresStorage::rename_study(const std::string& from, const std::string& to) {
  detail::check_rename(from, to);
  MD_CHECK(storable(to), "cannot rename study '", text::escape_controls(text::valid_utf8(from)),
           "': the new name is not valid UTF-8");
  impl_->check_writable("rename_study");
  return impl_->run("rename_study", Impl::Retry::kUnlessCommitSent, [&](int) {
    Db& db = impl_->db;
    Tx tx(db);
    StudyRecord record = load_study_locked(db, from);
    MD_CHECK_AS(StorageError, !find_study_locked(db, to).has_value(),
                detail::rename_target_exists_message(from, to, db.where()));
    db.exec("UPDATE studies SET name = $1::text WHERE id = $2::bigint", {to, record.id});
    tx.commit();
    record.name = to;
    return record;
  });
}

Reservation PostgresStorage::reserve_trial(int64_t study_id, const std::string& worker, const TrialBudget& budget) {
  impl_->check_writable("reserve_trial");
  const std::string worker_text = text::valid_utf8(worker);
  return impl_->run("reserve_trial", Impl::Retry::kAlways, [&, token = std::string()](int attempt) mutable {
    Db& db = impl_->db;
    if (token.empty()) token = impl_->token();  // one token for every attempt of this call
    // Two round trips, one of them under the study row's lock. The first message begins the
    // transaction, locks the study row until COMMIT (the counts, the next number and the change
    // number are this study's, and no other worker can reserve in between) and reads the oldest
    // queued configuration, in a statement of its own so that its snapshot is taken once the lock
    // is held (a queued configuration another worker took meanwhile is seen as taken). The second
    // inserts the trial, commits and flushes.
    std::vector<Result> first;
    Tx tx(db,
          concat(db.inline_params("UPDATE studies SET change_seq = change_seq + 1 WHERE id = $1::bigint "
                                  "RETURNING change_seq, next_number, n_running, n_complete, n_pruned, n_failed, "
                                  "total_cost",
                                  {study_id}),
                 "; ",
                 db.inline_params("SELECT id, params, fidelity, retry_of FROM queued_trials WHERE study_id = "
                                  "$1::bigint AND trial_id IS NULL ORDER BY id LIMIT 1",
                                  {study_id})),
          first);
    MD_ASSERT(first.size() == 4);
    const Result& s = first[2];
    MD_CHECK_AS(StorageError, s.rows() == 1, "no study with id ", study_id, " in ", db.where());
    Reservation r;
    r.counts = read_counts(s, 0, 2);
    if (attempt > 0) {
      // The first attempt may have committed before its connection dropped: it is this trial.
      static const std::string sql =
          concat("SELECT ", MD_TRIAL_COLUMNS, " FROM trials t WHERE t.reserve_token = $1::text");
      Result prior = db.exec(sql.c_str(), {token});
      if (prior.rows() == 1) {
        r.trial = read_trial(db, prior, 0, 0, /*intermediate=*/false);
        if (r.trial->state == TrialState::kRunning) --r.counts.running;
        tx.rollback();
        flush_after_commit(db, r.trial->id);  // the first attempt's commit may not be on disk yet
        return r;
      }
    }
    if (!detail::budget_allows(budget, r.counts)) {
      tx.rollback();
      return r;
    }
    FrozenTrial t;
    t.number = s.get_int(0, 1);
    t.state = TrialState::kRunning;
    t.worker = worker_text;
    t.started_at = study::now_unix_seconds();
    t.heartbeat_at = t.started_at;
    // The oldest queued configuration, if any, becomes this trial's params.
    const Result& q = first[3];
    std::optional<int64_t> queued_id;
    std::optional<std::string> queued_params;
    if (q.rows() == 1) {
      queued_id = q.get_int(0, 0);
      queued_params = q.get_text(0, 1);
      t.params = space::config_from_json(parse_json(db, *queued_params, "queued params"));
      t.fidelity = static_cast<int>(q.get_int(0, 2));
      t.retry_of = q.get_int(0, 3);
    }
    const std::string insert = db.inline_params(
        "WITH ins AS (INSERT INTO trials (study_id, number, state, worker, started_at, heartbeat_at, seq, "
        "reserve_token, params, fidelity, retry_of) "
        "VALUES ($1::bigint, $2::bigint, 'running', $3::text, $4::float8, $4::float8, $5::bigint, $6::text, $7::text, "
        "$8::integer, $9::bigint) RETURNING id), "
        "taken AS (UPDATE queued_trials SET trial_id = ins.id FROM ins WHERE queued_trials.id = $10::bigint) "
        "UPDATE studies SET next_number = next_number + 1, n_running = n_running + 1 FROM ins "
        "WHERE studies.id = $1::bigint RETURNING ins.id",
        {study_id, t.number, t.worker, t.started_at, s.get_int(0, 0), token,
         queued_params ? Param(*queued_params) : Param(std::nullopt), t.fidelity, t.retry_of,
         queued_id ? Param(*queued_id) : Param(std::nullopt)});
    // The trial's id is not known before the insert: the flush write finds it by its token.
    const std::string flush = flush_statement_where(db.inline_params("reserve_token = $1::text", {token}));
    Result ins = tx.commit_with(insert, flush);
    MD_ASSERT(ins.rows() == 1);
    t.id = ins.get_int(0, 0);
    r.trial = std::move(t);
    return r;
  });
}

std::optional<QueuedTrial> PostgresStorage::enqueue_trial(int64_t study_id, const space::Config& params, int fidelity,
                                                          bool skip_if_present, int64_t retry_of) {
  detail::check_params(params, fidelity);
  detail::check_retry_of(retry_of);
  impl_->check_writable("enqueue_trial");
  const std::string json = dump_json(space::to_json(params), "queued params");
  return impl_->run("enqueue_trial", Impl::Retry::kAlways,
                    [&, token = std::string()](int attempt) mutable -> std::optional<QueuedTrial> {
    Db& db = impl_->db;
    if (token.empty()) token = impl_->token();  // one token for every attempt of this call
    Tx tx(db);
    // The study row locked until COMMIT, as by reserve_trial: no trial takes from the queue, and no
    // other worker queues, between the check and the insert.
    Result st = db.exec("SELECT id FROM studies WHERE id = $1::bigint FOR UPDATE", {study_id});
    MD_CHECK_AS(StorageError, st.rows() == 1, "no study with id ", study_id, " in ", db.where());
    QueuedTrial q;
    q.params = params;
    q.fidelity = fidelity;
    q.retry_of = retry_of;
    if (attempt > 0) {
      // The first attempt may have committed before its connection dropped: it is this one.
      Result prior = db.exec("SELECT id, queued_at FROM queued_trials WHERE enqueue_token = $1::text", {token});
      if (prior.rows() == 1) {
        q.id = prior.get_int(0, 0);
        q.queued_at = prior.get_double(0, 1);
        tx.rollback();
        return q;
      }
    }
    if (skip_if_present) {
      Result r = db.exec(
          "SELECT params, fidelity FROM trials WHERE study_id = $1::bigint AND state <> 'failed' "
          "AND params IS NOT NULL UNION ALL "
          "SELECT params, fidelity FROM queued_trials WHERE study_id = $1::bigint AND trial_id IS NULL",
          {study_id});
      for (int i = 0; i < r.rows(); ++i) {
        if (r.get_int(i, 1) != fidelity) continue;
        const std::string text = r.get_text(i, 0);
        if (text == json || space::config_from_json(parse_json(db, text, "trial params")) == params) {
          tx.rollback();
          return std::nullopt;
        }
      }
    }
    q.queued_at = study::now_unix_seconds();
    Result ins = db.exec(
        "INSERT INTO queued_trials (study_id, params, fidelity, queued_at, enqueue_token, retry_of) "
        "VALUES ($1::bigint, $2::text, $3::integer, $4::float8, $5::text, $6::bigint) RETURNING id",
        {study_id, json, fidelity, q.queued_at, token, retry_of});
    MD_ASSERT(ins.rows() == 1);
    q.id = ins.get_int(0, 0);
    tx.commit();
    return q;
  });
}

std::vector<QueuedTrial> PostgresStorage::queued_trials(int64_t study_id) {
  return impl_->run("queued_trials", Impl::Retry::kAlways, [&](int) {
    Db& db = impl_->db;
    std::vector<QueuedTrial> out;
    if (impl_->schema_version < 2) {  // an old schema opened read-only: no queue
      Result r = db.exec("SELECT 1 FROM studies WHERE id = $1::bigint", {study_id});
      MD_CHECK_AS(StorageError, r.rows() == 1, "no study with id ", study_id, " in ", db.where());
      return out;
    }
    Result r = db.exec(for_schema(impl_->schema_version,
                                  "SELECT s.id, q.id, q.params, q.fidelity, q.queued_at, q.retry_of FROM studies s "
                                  "LEFT JOIN queued_trials q ON q.study_id = s.id AND q.trial_id IS NULL "
                                  "WHERE s.id = $1::bigint ORDER BY q.id")
                           .c_str(),
                       {study_id});
    MD_CHECK_AS(StorageError, r.rows() > 0, "no study with id ", study_id, " in ", db.where());
    for (int i = 0; i < r.rows(); ++i) {
      if (r.is_null(i, 1)) continue;  // the study has none
      QueuedTrial q;
      q.id = r.get_int(i, 1);
      q.params = space::config_from_json(parse_json(db, r.get_text(i, 2), "queued params"));
      q.fidelity = static_cast<int>(r.get_int(i, 3));
      q.queued_at = r.get_double(i, 4);
      q.retry_of = r.get_int(i, 5);
      out.push_back(std::move(q));
    }
    return out;
  });
}

// Every trial write locks the study row first (the CTE `s`, which also takes the change number)
// and changes the trial only if it is still running; no row back means nothing may change, and
// the transaction is rolled back before the reason is looked up.

void PostgresStorage::set_trial_params(int64_t trial_id, const space::Config& params, int fidelity) {
  detail::check_params(params, fidelity);
  impl_->check_writable("set_trial_params");
  const std::string json = dump_json(space::to_json(params), "trial params");
  impl_->run("set_trial_params", Impl::Retry::kAlways, [&](int attempt) {
    Db& db = impl_->db;
    // Committed without waiting for the disk: the trial's finish writes them again if a server
    // crash lost them (Impl::unflushed_params) and flushes them. One fsync per trial less; a worker
    // and the server dying together leave a running trial without params, which is failed without
    // a retry as one whose worker died before setting them.
    Result r = db.exec_async(
        "WITH s AS (UPDATE studies SET change_seq = studies.change_seq + 1 FROM trials t "
        "  WHERE t.id = $1::bigint AND studies.id = t.study_id AND t.state = 'running' AND t.params IS NULL "
        "  RETURNING studies.change_seq) "
        "UPDATE trials SET params = $2::text, fidelity = $3::integer, seq = (SELECT change_seq FROM s) "
        "WHERE id = $1::bigint AND state = 'running' AND params IS NULL AND EXISTS (SELECT 1 FROM s) RETURNING 1",
        {trial_id, json, fidelity});
    if (r.rows() == 1) {
      impl_->unflushed_params[trial_id] = {json, fidelity};
      return;
    }
    const TrialHead h = load_head(db, trial_id);
    // A retry whose first attempt committed finds its own params.
    if (attempt > 0 && h.params == json && h.fidelity == fidelity) {
      impl_->unflushed_params[trial_id] = {json, fidelity};
      return;
    }
    MD_CHECK_AS(StorageError, h.state == TrialState::kRunning,
                detail::set_params_finished_message(h.description, h.state));
    throw StorageError(detail::params_already_set_message(h.description));
  });
}

void PostgresStorage::report_intermediate(int64_t trial_id, int64_t step, double value) {
  detail::check_intermediate(step, value);
  impl_->check_writable("report_intermediate");
  impl_->run("report_intermediate", Impl::Retry::kAlways, [&](int) {
    Db& db = impl_->db;
    Result r = db.exec_flushed(
        "WITH s AS (UPDATE studies SET change_seq = studies.change_seq + 1 FROM trials t "
        "  WHERE t.id = $1::bigint AND studies.id = t.study_id AND t.state = 'running' "
        "  RETURNING studies.change_seq), "
        "u AS (UPDATE trials SET heartbeat_at = $4::float8, seq = (SELECT change_seq FROM s) "
        "  WHERE id = $1::bigint AND state = 'running' AND EXISTS (SELECT 1 FROM s) RETURNING id) "
        "INSERT INTO intermediate_values (trial_id, step, value) SELECT id, $2::bigint, $3::float8 FROM u "
        "ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value RETURNING 1",
        {trial_id, step, value, study::now_unix_seconds()}, trial_id);
    if (r.rows() == 1) return;
    const TrialHead h = load_head(db, trial_id);
    throw StorageError(detail::report_finished_message(h.description, step, h.state));
  });
}

void PostgresStorage::heartbeat(int64_t trial_id) {
  impl_->check_writable("heartbeat");
  impl_->run("heartbeat", Impl::Retry::kAlways, [&](int) {
    Db& db = impl_->db;
    // Not a change (no study lock, no change number): one statement, committed by itself.
    Result r =
        db.exec("UPDATE trials SET heartbeat_at = $2::float8 WHERE id = $1::bigint AND state = 'running' RETURNING 1",
                {trial_id, study::now_unix_seconds()}, /*commits=*/true);
    if (r.rows() == 1) return;
    const TrialHead h = load_head(db, trial_id);
    throw StorageError(detail::heartbeat_finished_message(h.description, h.state));
  });
}

void PostgresStorage::finish_trial(int64_t trial_id, TrialState state, std::optional<double> value, double cost,
                                   const std::string& fail_reason) {
  detail::check_finish(state, value, cost);
  impl_->check_writable("finish_trial");
  const std::string reason = text::valid_utf8(fail_reason);
  const char* state_text = study::to_string(state);
  impl_->run("finish_trial", Impl::Retry::kAlways, [&, token = std::string()](int attempt) mutable {
    Db& db = impl_->db;
    if (token.empty()) token = impl_->token();
    // The params this process set, in case a server crash lost them (set_trial_params): written
    // again where the row has none, and made durable by this write's flush.
    const auto pending = impl_->unflushed_params.find(trial_id);
    const bool has_pending = pending != impl_->unflushed_params.end();
    Result r = db.exec_flushed(
        "WITH s AS (UPDATE studies SET change_seq = studies.change_seq + 1, n_running = n_running - 1, "
        "  n_complete = n_complete + ($2::text = 'complete')::int, n_pruned = n_pruned + ($2::text = 'pruned')::int, "
        "  n_failed = n_failed + ($2::text = 'failed')::int, total_cost = total_cost + $4::float8 "
        "  FROM trials t WHERE t.id = $1::bigint AND studies.id = t.study_id AND t.state = 'running' "
        "  RETURNING studies.change_seq) "
        "UPDATE trials SET state = $2::text, value = $3::float8, cost = $4::float8, fail_reason = $5::text, "
        "  finished_at = $6::float8, seq = (SELECT change_seq FROM s), finish_token = $7::text, "
        "  params = COALESCE(params, $8::text), "
        "  fidelity = CASE WHEN params IS NULL AND $9::integer IS NOT NULL THEN $9::integer ELSE fidelity END "
        "WHERE id = $1::bigint AND state = 'running' AND EXISTS (SELECT 1 FROM s) RETURNING 1",
        {trial_id, state_text, value, cost, reason, study::now_unix_seconds(), token,
         has_pending ? Param(pending->second.first) : Param(std::nullopt),
         has_pending ? Param(pending->second.second) : Param(std::nullopt)},
        trial_id);
    impl_->unflushed_params.erase(trial_id);  // finished here or elsewhere: nothing left to restore
    if (r.rows() == 1) return;
    // Nothing changed: the study's counts were changed by `s` only if the trial changed too.
    const TrialHead h = load_head(db, trial_id);
    if (attempt > 0 && h.finish_token == token) {  // the first attempt committed
      flush_after_commit(db, trial_id);             // (its commit may not be on disk yet)
      return;
    }
    throw StorageError(detail::already_finished_message(h.description, h.state));
  });
}

void PostgresStorage::fail_and_retry(int64_t trial_id, const std::string& fail_reason, int64_t retry_of) {
  detail::check_retry_of(retry_of);
  MD_CHECK(retry_of >= 0, "fail_and_retry: retry_of is ", retry_of, "; it must be a trial number");
  impl_->check_writable("fail_and_retry");
  const std::string reason = text::valid_utf8(fail_reason);
  impl_->run("fail_and_retry", Impl::Retry::kAlways, [&, token = std::string()](int attempt) mutable {
    Db& db = impl_->db;
    if (token.empty()) token = impl_->token();
    Tx tx(db, Durability::kFlushed);
    const double now = study::now_unix_seconds();
    // As finish_trial (failed, cost 0), and the queue entry in the same transaction.
    Result r = db.exec(
        "WITH s AS (UPDATE studies SET change_seq = studies.change_seq + 1, n_running = n_running - 1, "
        "  n_failed = n_failed + 1 "
        "  FROM trials t WHERE t.id = $1::bigint AND studies.id = t.study_id AND t.state = 'running' "
        "  AND t.params IS NOT NULL RETURNING studies.change_seq) "
        "UPDATE trials SET state = 'failed', value = NULL, cost = 0, fail_reason = $2::text, "
        "  finished_at = $3::float8, seq = (SELECT change_seq FROM s), finish_token = $4::text "
        "WHERE id = $1::bigint AND state = 'running' AND EXISTS (SELECT 1 FROM s) "
        "RETURNING study_id, params, fidelity",
        {trial_id, reason, now, token});
    if (r.rows() == 1) {
      db.exec(
          "INSERT INTO queued_trials (study_id, params, fidelity, queued_at, enqueue_token, retry_of) "
          "VALUES ($1::bigint, $2::text, $3::integer, $4::float8, $5::text, $6::bigint)",
          {r.get_int(0, 0), r.get_text(0, 1), r.get_int(0, 2), now, token, retry_of});
      tx.commit_and_flush(trial_id);
      return;
    }
    tx.rollback();
    const TrialHead h = load_head(db, trial_id);
    if (attempt > 0 && h.finish_token == token) {  // the first attempt committed
      flush_after_commit(db, trial_id);
      return;
    }
    MD_CHECK_AS(StorageError, h.state != TrialState::kRunning, detail::retry_without_params_message(h.description));
    throw StorageError(detail::already_finished_message(h.description, h.state));
  });
}

void PostgresStorage::set_trial_times(int64_t trial_id, double started_at, double finished_at) {
  detail::check_times(started_at, finished_at);
  impl_->check_writable("set_trial_times");
  impl_->run("set_trial_times", Impl::Retry::kAlways, [&](int) {  // idempotent: sets the same values again
    Db& db = impl_->db;
    Result r = db.exec(
        "UPDATE trials SET started_at = $2::float8, finished_at = $3::float8, heartbeat_at = $3::float8 "
        "WHERE id = $1::bigint AND state <> 'running' RETURNING 1",
        {trial_id, started_at, finished_at}, /*commits=*/true);
    if (r.rows() == 1) return;
    const TrialHead h = load_head(db, trial_id);
    throw StorageError(detail::times_of_running_message(h.description));
  });
}

namespace {

/// The study's trials with seq > cursor (cursor -1: all) and the study's change number, in one
/// statement, i.e. one snapshot. StorageError if there is no such study.
TrialChanges changed_locked(Db& db, int64_t schema_version, int64_t study_id, int64_t cursor) {
  static const std::string sql =
      concat("SELECT s.change_seq, ", MD_TRIAL_COLUMNS, ", ", MD_INTERMEDIATE_COLUMN,
             " FROM studies s LEFT JOIN trials t ON t.study_id = s.id AND t.seq > $2::bigint "
             "WHERE s.id = $1::bigint ORDER BY t.number");
  Result r = db.exec(for_schema(schema_version, sql).c_str(), {study_id, cursor});
  MD_CHECK_AS(StorageError, r.rows() > 0, "no study with id ", study_id, " in ", db.where());
  TrialChanges c;
  c.cursor = r.get_int(0, 0);
  for (int i = 0; i < r.rows(); ++i) {
    if (r.is_null(i, 1)) continue;  // the study has no such trial
    c.trials.push_back(read_trial(db, r, i, 1, /*intermediate=*/true));
  }
  return c;
}

}  // namespace

std::vector<FrozenTrial> PostgresStorage::trials(int64_t study_id) {
  return impl_->run("trials", Impl::Retry::kAlways,
                    [&](int) { return std::move(changed_locked(impl_->db, impl_->schema_version, study_id, -1).trials); });
}

std::vector<FrozenTrial> PostgresStorage::running_trials(int64_t study_id) {
  return impl_->run("running_trials", Impl::Retry::kAlways, [&](int) {
    Db& db = impl_->db;
    static const std::string sql =
        concat("SELECT s.id, ", MD_TRIAL_COLUMNS,
               " FROM studies s LEFT JOIN trials t ON t.study_id = s.id AND t.state = 'running' "
               "WHERE s.id = $1::bigint ORDER BY t.number");
    Result r = db.exec(for_schema(impl_->schema_version, sql).c_str(), {study_id});
    MD_CHECK_AS(StorageError, r.rows() > 0, "no study with id ", study_id, " in ", db.where());
    std::vector<FrozenTrial> out;
    for (int i = 0; i < r.rows(); ++i) {
      if (!r.is_null(i, 1)) out.push_back(read_trial(db, r, i, 1, /*intermediate=*/false));
    }
    return out;
  });
}

TrialCounts PostgresStorage::count_trials(int64_t study_id) {
  return impl_->run("count_trials", Impl::Retry::kAlways, [&](int) {
    Db& db = impl_->db;
    Result r = db.exec(
        "SELECT n_running, n_complete, n_pruned, n_failed, total_cost FROM studies WHERE id = $1::bigint", {study_id});
    MD_CHECK_AS(StorageError, r.rows() == 1, "no study with id ", study_id, " in ", db.where());
    return read_counts(r, 0, 0);
  });
}

TrialChanges PostgresStorage::trials_changed_since(int64_t study_id, int64_t cursor) {
  MD_CHECK(cursor >= 0, "trials_changed_since: cursor ", cursor, " is negative (start from 0)");
  return impl_->run("trials_changed_since", Impl::Retry::kAlways,
                    [&](int) { return changed_locked(impl_->db, impl_->schema_version, study_id, cursor); });
}

FrozenTrial PostgresStorage::trial(int64_t trial_id) {
  return impl_->run("trial", Impl::Retry::kAlways, [&](int) {
    Db& db = impl_->db;
    static const std::string sql =
        concat("SELECT ", MD_TRIAL_COLUMNS, ", ", MD_INTERMEDIATE_COLUMN, " FROM trials t WHERE t.id = $1::bigint");
    Result r = db.exec(for_schema(impl_->schema_version, sql).c_str(), {trial_id});
    MD_CHECK_AS(StorageError, r.rows() == 1, "no trial with id ", trial_id, " in ", db.where());
    return read_trial(db, r, 0, 0, /*intermediate=*/true);
  });
}

#undef MD_TRIAL_COLUMNS
#undef MD_INTERMEDIATE_COLUMN

}  // namespace metadial::storage
