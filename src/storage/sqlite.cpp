#include "metadial/storage/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <system_error>
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

namespace {

// Version 4 (version 1 had no trials.seq, no change_seq and no indexes on trials; version 2 no
// queued_trials; version 3 no retry_of; `open` migrates them). A later version adds a migration from each older one in
// `open` and bumps kSqliteSchemaVersion; an older build refuses the newer file instead of guessing.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE studies (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  direction  TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  space      TEXT NOT NULL,
  attrs      TEXT NOT NULL,
  created_at REAL NOT NULL
);
CREATE TABLE trials (
  id           INTEGER PRIMARY KEY,
  study_id     INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  number       INTEGER NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('running', 'complete', 'pruned', 'failed')),
  params       TEXT,                      -- JSON object; NULL until set_trial_params
  fidelity     INTEGER NOT NULL DEFAULT 0,
  value        REAL,                      -- NULL unless complete (or pruned with a value)
  cost         REAL NOT NULL DEFAULT 0,
  fail_reason  TEXT NOT NULL DEFAULT '',
  worker       TEXT NOT NULL DEFAULT '',
  started_at   REAL NOT NULL,
  finished_at  REAL NOT NULL DEFAULT 0,
  heartbeat_at REAL NOT NULL,
  seq          INTEGER NOT NULL DEFAULT 0,  -- change number of the trial's last change (meta change_seq)
  retry_of     INTEGER NOT NULL DEFAULT -1, -- number of the trial it re-runs (retry_failed), -1 if none
  UNIQUE (study_id, number)
);
CREATE INDEX trials_by_state ON trials (study_id, state);
CREATE INDEX trials_by_change ON trials (study_id, seq);
CREATE TABLE intermediate_values (
  trial_id INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  step     INTEGER NOT NULL,
  value    REAL NOT NULL,
  PRIMARY KEY (trial_id, step)
) WITHOUT ROWID;
CREATE TABLE queued_trials (
  id        INTEGER PRIMARY KEY,          -- the queue's order
  study_id  INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  params    TEXT NOT NULL,                -- JSON object
  fidelity  INTEGER NOT NULL,
  queued_at REAL NOT NULL,
  retry_of  INTEGER NOT NULL DEFAULT -1   -- the trial it re-runs, passed on to the trial that takes it
);
CREATE INDEX queued_by_study ON queued_trials (study_id, id);
)sql";

constexpr const char* kTrialColumns =
    "t.id, t.number, t.state, t.params, t.fidelity, t.value, t.cost, t.fail_reason, t.worker, "
    "t.started_at, t.finished_at, t.heartbeat_at, t.retry_of";

/// Why SQLite could not open a path, in the user's terms.
std::string open_hint(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (fs::is_directory(p, ec)) return " (it is a directory; give a file path)";
  if (fs::exists(p, ec)) return " (check the file's permissions)";
  if (!fs::is_directory(dir, ec)) return concat(" (directory '", dir.string(), "' does not exist)");
  return concat(" (check that directory '", dir.string(), "' is writable)");
}

// Version 1 -> 2: the change sequence and the indexes. Every existing trial gets change 1, so
// that trials_changed_since(0) returns it.
constexpr const char* kMigrateV1Sql = R"sql(
ALTER TABLE trials ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE trials SET seq = 1;
CREATE INDEX trials_by_state ON trials (study_id, state);
CREATE INDEX trials_by_change ON trials (study_id, seq);
INSERT INTO meta (key, value) VALUES ('change_seq', '1')
  ON CONFLICT (key) DO UPDATE SET value = excluded.value;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
PRAGMA user_version = 2;
)sql";

// Version 2 -> 3: the queue of configurations (enqueue_trial), empty.
constexpr const char* kMigrateV2Sql = R"sql(
CREATE TABLE queued_trials (
  id        INTEGER PRIMARY KEY,
  study_id  INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  params    TEXT NOT NULL,
  fidelity  INTEGER NOT NULL,
  queued_at REAL NOT NULL
);
CREATE INDEX queued_by_study ON queued_trials (study_id, id);
UPDATE meta SET value = '3' WHERE key = 'schema_version';
PRAGMA user_version = 3;
)sql";

// Version 3 -> 4: which trial a trial re-runs (retry_failed); every existing one re-runs none.
constexpr const char* kMigrateV3Sql = R"sql(
ALTER TABLE trials ADD COLUMN retry_of INTEGER NOT NULL DEFAULT -1;
ALTER TABLE queued_trials ADD COLUMN retry_of INTEGER NOT NULL DEFAULT -1;
UPDATE meta SET value = '4' WHERE key = 'schema_version';
PRAGMA user_version = 4;
)sql";

// A file before schema 4 opened read-only: its tables are never changed, so views in the
// connection's own temp schema (searched before main) add the column, -1 for every row.
constexpr const char* kReadOnlyRetryViewsSql = R"sql(
CREATE TEMP VIEW trials AS SELECT *, -1 AS retry_of FROM main.trials;
)sql";
constexpr const char* kReadOnlyQueueViewSql = R"sql(
CREATE TEMP VIEW queued_trials AS SELECT *, -1 AS retry_of FROM main.queued_trials;
)sql";

/// Files up to this size are checked with PRAGMA quick_check when opened (a few milliseconds
/// per megabyte); bigger ones with `metadial storage check`.
constexpr int64_t kQuickCheckMaxBytes = 64LL << 20;

/// One connection and its prepared statements. Not thread-safe: SqliteStorage::Impl locks.
class Db {
 public:
  Db(std::string path, SqliteOptions options) : path_(std::move(path)), options_(options) {}
  ~Db() { close(); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void open();
  void close() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }
  /// False only for a schema-1 file opened read-only (it has no change numbers).
  bool has_changes() const { return has_changes_; }
  /// False only for a file before schema 3 opened read-only (it has no queue table).
  bool has_queue() const { return has_queue_; }
  /// What the current call is doing, for error messages ("create_trial").
  void set_doing(const char* doing) { doing_ = doing; }

  [[noreturn]] void fail(int rc) const {
    const bool opening = std::string_view(doing_) == "open";
    if (opening && (rc & 0xff) == SQLITE_NOTADB) {
      throw StorageError(concat("cannot open SQLite storage '", path_, "': the file is not a SQLite database (",
                                sqlite3_errmsg(db_), "); it was left unchanged"));
    }
    std::string msg = opening ? concat("cannot open SQLite storage '", path_, "': ", sqlite3_errmsg(db_))
                          : concat("SQLite storage '", path_, "': ", doing_, " failed: ", sqlite3_errmsg(db_));
    const int primary = rc & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
      throw StorageError(corrupt_message(sqlite3_errmsg(db_)));
    }
    if (primary == SQLITE_READONLY && options_.read_only) {
      throw StorageError(concat("SQLite storage '", path_, "': ", doing_,
                                " needs to write, but the storage was opened read-only"));
    }
    if (rc == SQLITE_BUSY_SNAPSHOT) {
      msg += " (another connection wrote to the database during this read; retry)";
    } else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      msg += concat(" (another connection held the database lock for longer than the busy timeout of ",
                    options_.busy_timeout_ms, " ms; retry, or use fewer concurrent writers)");
    }
    throw StorageError(msg);
  }

  sqlite3_stmt* prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc);
    cache_.emplace(sql, stmt);
    return stmt;
  }

  void exec(const char* sql);
  /// PRAGMA journal_mode = WAL, retried while another connection holds the file (see open).
  void switch_to_wal();

  /// The one line for a damaged file: what SQLite found and how to get the trials back.
  std::string corrupt_message(std::string what) const {
    std::replace(what.begin(), what.end(), '\n', ' ');  // integrity reports span lines
    return concat("SQLite storage '", path_, "' is damaged (", what,
                  "); it was left unchanged; recover what is readable with `sqlite3 '", path_,
                  "' .recover | sqlite3 recovered.db` and use sqlite:recovered.db");
  }

 private:
  std::string path_;
  SqliteOptions options_;
  bool has_changes_ = true;
  bool has_queue_ = true;
  sqlite3* db_ = nullptr;
  const char* doing_ = "open";
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

/// A cached prepared statement for the duration of one use; reset on scope exit.
class Stmt {
 public:
  Stmt(Db& db, const char* sql) : db_(db), stmt_(db.prepare(sql)) {}
  ~Stmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind_int(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Stmt& bind_double(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Stmt& bind_text(int i, const std::string& v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bind_opt_double(int i, const std::optional<double>& v) {
    return v ? bind_double(i, *v) : check(sqlite3_bind_null(stmt_, i));
  }

  /// Next row: true if there is one, false when done. Throws StorageError on failure.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail(rc);
  }
  /// Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }

  bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  int64_t get_int(int c) const { return sqlite3_column_int64(stmt_, c); }
  double get_double(int c) const { return sqlite3_column_double(stmt_, c); }
  std::string get_text(int c) const {
    const auto* p = sqlite3_column_text(stmt_, c);
    const int n = sqlite3_column_bytes(stmt_, c);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
  }

 private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK) db_.fail(rc);
    return *this;
  }

  Db& db_;
  sqlite3_stmt* stmt_;
};

void Db::exec(const char* sql) { Stmt(*this, sql).run(); }

/// BEGIN IMMEDIATE (write) or BEGIN (read) ... COMMIT; rolls back if not committed.
class Transaction {
 public:
  Transaction(Db& db, bool write) : db_(db) { db_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  ~Transaction() {
    if (!committed_ && sqlite3_get_autocommit(db_.handle()) == 0) {
      sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.exec("COMMIT");
    committed_ = true;
  }

 private:
  Db& db_;
  bool committed_ = false;
};

/// What the file at the path is, read without writing to it.
struct Identity {
  int32_t application_id = 0;
  int64_t user_version = 0;
  std::vector<std::string> objects;  ///< "table users", "index ix" ... from sqlite_master, tables first
};

/// Reads the identity; throws StorageError if the file is not a SQLite database (Db::fail).
Identity read_identity(Db& db) {
  Identity id;
  {
    Stmt s(db, "PRAGMA application_id");
    if (s.step()) id.application_id = static_cast<int32_t>(s.get_int(0));
  }
  {
    Stmt s(db, "PRAGMA user_version");
    if (s.step()) id.user_version = s.get_int(0);
  }
  Stmt s(db, "SELECT type || ' ' || name FROM sqlite_master ORDER BY type <> 'table', name");
  while (s.step()) id.objects.push_back(s.get_text(0));
  return id;
}

enum class FileKind { kEmpty, kMetadial };

/// kEmpty or kMetadial (current or older schema); throws StorageError for anything else.
FileKind classify(const Db& db, const Identity& id) {
  const std::string where = concat("cannot open SQLite storage '", db.path(), "': ");
  if (id.application_id == kSqliteApplicationId) {
    MD_CHECK_AS(StorageError, id.user_version <= kSqliteSchemaVersion, where,
                "it was written by a newer metadial (schema ", id.user_version, ", this build reads up to ",
                kSqliteSchemaVersion, "); upgrade metadial");
    MD_CHECK_AS(StorageError, id.user_version >= 1, where,
                "it has the metadial application_id but no schema version (damaged?); it was left unchanged");
    return FileKind::kMetadial;
  }
  if (id.application_id == 0 && id.user_version == 0 && id.objects.empty()) return FileKind::kEmpty;
  std::string what;
  if (id.application_id != 0) {
    auto hex = [](int32_t v) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%08X", static_cast<uint32_t>(v));
      return std::string(buf);
    };
    what = concat("application_id ", hex(id.application_id), ", metadial's is ", hex(kSqliteApplicationId));
  } else {
    std::string names;
    for (size_t i = 0; i < id.objects.size() && i < 5; ++i) names += (i ? ", " : "") + id.objects[i];
    if (id.objects.size() > 5) names += ", ...";
    what = id.objects.empty() ? concat("user_version ", id.user_version, ", no metadial application_id")
                              : concat("it holds ", names, "; no metadial application_id");
  }
  throw StorageError(concat(where, "it is a SQLite database of another application (", what,
                            "), not a metadial database; it was left unchanged"));
}

void Db::open() {
  std::error_code ec;
  if (!options_.create || options_.read_only) {
    MD_CHECK_AS(StorageError, std::filesystem::exists(path_, ec), "no SQLite storage at '", path_,
                "': the file does not exist (check the path)");
  }
  const int flags = (options_.read_only ? SQLITE_OPEN_READONLY
                                        : SQLITE_OPEN_READWRITE | (options_.create ? SQLITE_OPEN_CREATE : 0)) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string err = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    close();
    throw StorageError(concat("cannot open SQLite storage '", path_, "': ", err, open_hint(path_)));
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
  // Connection settings only: nothing is written to the file before it is known to be ours.
  exec("PRAGMA foreign_keys = ON");
  exec(options_.durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");

  Identity identity;
  FileKind kind;
  {
    Transaction snapshot(*this, /*write=*/false);
    identity = read_identity(*this);
    kind = classify(*this, identity);
    snapshot.commit();
  }
  // A damaged file is refused before anything is read from it as if it were whole.
  const auto size = std::filesystem::file_size(path_, ec);
  if (kind == FileKind::kMetadial && !ec && static_cast<int64_t>(size) <= kQuickCheckMaxBytes) {
    set_doing("open (quick_check)");
    Stmt check(*this, "PRAGMA quick_check(1)");
    if (check.step() && check.get_text(0) != "ok") throw StorageError(corrupt_message(check.get_text(0)));
    set_doing("open");
  }
  if (options_.read_only) {
    MD_CHECK_AS(StorageError, kind == FileKind::kMetadial, "cannot open SQLite storage '", path_,
                "' to read: the file is empty (no study was ever stored in it)");
    has_changes_ = identity.user_version >= 2;
    has_queue_ = identity.user_version >= 3;
    if (identity.user_version < 4) {
      set_doing("open (views of an older schema)");
      exec(kReadOnlyRetryViewsSql);
      if (has_queue_) exec(kReadOnlyQueueViewSql);
    }
    set_doing("?");
    return;
  }
  if (kind == FileKind::kEmpty || identity.user_version < kSqliteSchemaVersion) {
    // Another process may be creating or migrating the schema right now: decide again under the
    // write lock.
    Transaction tx(*this, /*write=*/true);
    const Identity now = read_identity(*this);
    const FileKind kind_now = classify(*this, now);
    // (script, what it does): the schema of an empty file, or the migrations from its version on.
    std::vector<std::pair<const char*, const char*>> steps;
    if (kind_now == FileKind::kEmpty) {
      steps.emplace_back(kSchemaSql, "creating the schema");
    } else {
      if (now.user_version == 1) steps.emplace_back(kMigrateV1Sql, "upgrading schema 1 to 2");
      if (now.user_version <= 2) steps.emplace_back(kMigrateV2Sql, "upgrading schema 2 to 3");
      if (now.user_version <= 3) steps.emplace_back(kMigrateV3Sql, "upgrading schema 3 to 4");
    }
    for (const auto& [sql, what] : steps) {
      char* err = nullptr;
      if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string msg = err != nullptr ? err : "?";
        sqlite3_free(err);
        throw StorageError(concat("SQLite storage '", path_, "': ", what, " failed: ", msg));
      }
    }
    if (kind_now == FileKind::kEmpty) {
      exec(concat("PRAGMA application_id = ", kSqliteApplicationId).c_str());
      exec(concat("PRAGMA user_version = ", kSqliteSchemaVersion).c_str());
      Stmt meta(*this, "INSERT INTO meta (key, value) VALUES ('schema_version', ?), ('application', 'metadial'), "
                       "('created_by', ?), ('change_seq', '0')");
      meta.bind_text(1, std::to_string(kSqliteSchemaVersion)).bind_text(2, concat("metadial ", METADIAL_VERSION)).run();
    }
    tx.commit();
  }
  MD_CHECK_AS(StorageError, sqlite3_db_readonly(db_, "main") == 0, "cannot open SQLite storage '", path_,
              "': the file is read-only; metadial needs to write to it (commands that only read open it read-only)");
  // WAL: readers never block the writer and a commit is one append + fsync. On a file system
  // without shared memory SQLite keeps the rollback journal, which is as durable, only slower.
  set_doing("open (switching to WAL)");
  switch_to_wal();
  set_doing("?");
}

void Db::switch_to_wal() {
  // Changing the journal mode does not wait in SQLite's busy handler: while another process
  // converts a new file, or holds it in WAL mode before this connection has seen that, the
  // pragma fails with SQLITE_BUSY at once. Retry for as long as the busy timeout allows; the
  // next try finds the file in WAL mode already and succeeds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.busy_timeout_ms);
  sqlite3_stmt* stmt = prepare("PRAGMA journal_mode = WAL");
  for (;;) {
    int rc = sqlite3_step(stmt);
    while (rc == SQLITE_ROW) rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE) return;
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) fail(rc);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

/// The next number of the change sequence; inside a write transaction.
int64_t next_change(Db& db) {
  Stmt s(db, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'change_seq' "
             "RETURNING CAST(value AS INTEGER)");
  MD_ASSERT(s.step());
  return s.get_int(0);
}

/// Finishes running trial `trial_id` (checked by the caller, inside its write transaction).
void finish_locked(Db& db, int64_t trial_id, TrialState state, std::optional<double> value, double cost,
                   const std::string& fail_reason, double finished_at) {
  const int64_t seq = next_change(db);
  Stmt s(db, "UPDATE trials SET state = ?, value = ?, cost = ?, fail_reason = ?, finished_at = ?, seq = ? "
             "WHERE id = ? AND state = 'running'");
  s.bind_text(1, study::to_string(state)).bind_opt_double(2, value).bind_double(3, cost);
  s.bind_text(4, text::valid_utf8(fail_reason)).bind_double(5, finished_at).bind_int(6, seq);
  s.bind_int(7, trial_id).run();
  MD_ASSERT(sqlite3_changes(db.handle()) == 1);
}

/// What the writing calls check before changing a trial.
struct TrialHead {
  int64_t number = -1;
  TrialState state = TrialState::kRunning;
  bool params_set = false;
  std::string description;  ///< "trial 3 of study 'x'"
};

TrialHead load_head(Db& db, int64_t trial_id) {
  Stmt s(db,
         "SELECT t.number, t.state, t.params IS NOT NULL, s.name FROM trials t JOIN studies s ON s.id = t.study_id "
         "WHERE t.id = ?");
  s.bind_int(1, trial_id);
  MD_CHECK_AS(StorageError, s.step(), "no trial with id ", trial_id, " in SQLite storage '", db.path(), "'");
  TrialHead h;
  h.number = s.get_int(0);
  h.state = study::trial_state_from_string(s.get_text(1));
  h.params_set = s.get_int(2) != 0;
  h.description = detail::describe_trial(h.number, s.get_text(3));
  return h;
}

void check_study_exists(Db& db, int64_t study_id) {
  Stmt s(db, "SELECT 1 FROM studies WHERE id = ?");
  s.bind_int(1, study_id);
  MD_CHECK_AS(StorageError, s.step(), "no study with id ", study_id, " in SQLite storage '", db.path(), "'");
}

/// JSON text of a value to store; InvalidArgument if it cannot be written (invalid UTF-8).
std::string dump_json(const nlohmann::json& j, const char* what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(concat(what, " cannot be stored as JSON: ", e.what()));
  }
}

nlohmann::json parse_json(const Db& db, const std::string& text, const char* what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw StorageError(concat("SQLite storage '", db.path(), "': stored ", what, " is not valid JSON: ", e.what()));
  }
}

StudyRecord read_study(const Db& db, const Stmt& s) {
  StudyRecord r;
  r.id = s.get_int(0);
  r.name = s.get_text(1);
  r.direction = study::direction_from_string(s.get_text(2));
  r.space = parse_json(db, s.get_text(3), "study space");
  r.attrs = parse_json(db, s.get_text(4), "study attrs");
  r.created_at = s.get_double(5);
  return r;
}

/// A trial row selected with kTrialColumns (no intermediate values).
FrozenTrial read_trial(const Db& db, const Stmt& s) {
  FrozenTrial t;
  t.id = s.get_int(0);
  t.number = s.get_int(1);
  t.state = study::trial_state_from_string(s.get_text(2));
  if (!s.is_null(3)) t.params = space::config_from_json(parse_json(db, s.get_text(3), "trial params"));
  t.fidelity = static_cast<int>(s.get_int(4));
  if (!s.is_null(5)) t.value = s.get_double(5);
  t.cost = s.get_double(6);
  t.fail_reason = s.get_text(7);
  t.worker = s.get_text(8);
  t.started_at = s.get_double(9);
  t.finished_at = s.get_double(10);
  t.heartbeat_at = s.get_double(11);
  t.retry_of = s.get_int(12);
  return t;
}

std::optional<StudyRecord> find_study_locked(Db& db, const std::string& name) {
  Stmt s(db, "SELECT id, name, direction, space, attrs, created_at FROM studies WHERE name = ?");
  s.bind_text(1, name);
  if (!s.step()) return std::nullopt;
  return read_study(db, s);
}

std::string describe_storage(const Db& db) { return concat("SQLite storage '", db.path(), "'"); }

/// The study of that name; StorageError naming the stored studies if there is none.
StudyRecord load_study_locked(Db& db, const std::string& name) {
  if (auto found = find_study_locked(db, name)) return *found;
  std::vector<std::string> stored;
  Stmt s(db, "SELECT name FROM studies ORDER BY id");
  while (s.step()) stored.push_back(s.get_text(0));
  throw StorageError(detail::no_study_message(name, describe_storage(db), stored));
}

// The next id of a table: above every id it holds and above the floor delete_study left in
// `meta`, so that the ids of a deleted study and its trials are never handed out again.
#define MD_NEXT_ID_SQL(table, floor_key)                                                        \
  "(SELECT MAX(COALESCE((SELECT MAX(id) FROM " table "), 0), "                                   \
  "COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '" floor_key "'), 0)) + 1)"

}  // namespace

namespace {

/// A study's counts as of change `cursor`, with the state and cost of each of its trials, so that
/// the next count reads only the trials changed since (trials_by_change) instead of the whole
/// study: a reservation's cost does not grow with the study. Every change of a trial's state or
/// cost bumps its seq (a heartbeat changes neither), in this process or another.
struct CountCache {
  int64_t cursor = -1;  ///< -1: not read yet
  TrialCounts counts;
  std::unordered_map<int64_t, std::pair<TrialState, double>> trials;  ///< id -> (state, cost)
};

}  // namespace

struct SqliteStorage::Impl {
  Impl(const std::string& path, SqliteOptions options) : db(path, options) {}
  std::mutex mu;
  Db db;
  std::unordered_map<int64_t, CountCache> counts;  ///< by study id
};

SqliteStorage::SqliteStorage(const std::string& path, SqliteOptions options) {
  MD_CHECK(!path.empty(), "SQLite storage path must not be empty");
  MD_CHECK(options.busy_timeout_ms >= 0, "SQLite busy_timeout_ms is ", options.busy_timeout_ms, "; it must be >= 0");
  impl_ = std::make_unique<Impl>(path, options);
  impl_->db.open();
}

SqliteStorage::~SqliteStorage() = default;
SqliteStorage::SqliteStorage(SqliteStorage&&) noexcept = default;
SqliteStorage& SqliteStorage::operator=(SqliteStorage&&) noexcept = default;

const std::string& SqliteStorage::path() const { return impl_->db.path(); }

StudyRecord SqliteStorage::create_or_load_study(const std::string& name, study::Direction direction,
                                                const nlohmann::json& space, const nlohmann::json& attrs) {
  detail::check_study_name(name);
  const std::string space_json = dump_json(space, "study space");
  const std::string attrs_json = dump_json(attrs, "study attrs");
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("create_or_load_study");
  if (auto found = find_study_locked(db, name)) return *found;  // the usual case on resume: no write lock
  Transaction tx(db, /*write=*/true);
  if (auto found = find_study_locked(db, name)) return *found;  // created by another process meanwhile
  detail::check_new_study_name(name);
  StudyRecord r;
  r.name = name;
  r.direction = direction;
  r.space = space;
  r.attrs = attrs;
  r.created_at = study::now_unix_seconds();
  Stmt s(db, "INSERT INTO studies (id, name, direction, space, attrs, created_at) VALUES ("
             MD_NEXT_ID_SQL("studies", "study_id_floor") ", ?, ?, ?, ?, ?)");
  s.bind_text(1, name).bind_text(2, study::to_string(direction)).bind_text(3, space_json);
  s.bind_text(4, attrs_json).bind_double(5, r.created_at).run();
  r.id = sqlite3_last_insert_rowid(db.handle());
  tx.commit();
  return r;
}

std::optional<StudyRecord> SqliteStorage::find_study(const std::string& name) {
  std::lock_guard lock(impl_->mu);
  impl_->db.set_doing("find_study");
  return find_study_locked(impl_->db, name);
}

std::vector<StudyRecord> SqliteStorage::list_studies() {
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("list_studies");
  Stmt s(db, "SELECT id, name, direction, space, attrs, created_at FROM studies ORDER BY id");
  std::vector<StudyRecord> out;
  while (s.step()) out.push_back(read_study(db, s));
  return out;
}

int64_t SqliteStorage::delete_study(const std::string& name, IfRunning if_running) {
  detail::check_study_name(name);
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("delete_study");
  Transaction tx(db, /*write=*/true);
  const StudyRecord record = load_study_locked(db, name);
  if (if_running == IfRunning::kRefuse) {
    std::vector<int64_t> running;
    Stmt s(db, "SELECT number FROM trials WHERE study_id = ? AND state = 'running' ORDER BY number");
    s.bind_int(1, record.id);
    while (s.step()) running.push_back(s.get_int(0));
    MD_CHECK_AS(StorageError, running.empty(), detail::running_trials_message(name, running));
  }
  int64_t n = 0;
  {
    Stmt s(db, "SELECT COUNT(*) FROM trials WHERE study_id = ?");
    s.bind_int(1, record.id);
    MD_ASSERT(s.step());
    n = s.get_int(0);
  }
  // Keep the highest ids as floors before the rows that hold them go (see MD_NEXT_ID_SQL).
  for (const char* sql : {"INSERT INTO meta (key, value) SELECT 'study_id_floor', MAX(id) FROM studies WHERE true "
                          "ON CONFLICT (key) DO UPDATE SET value = "
                          "MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                          "INSERT INTO meta (key, value) SELECT 'trial_id_floor', COALESCE(MAX(id), 0) FROM trials "
                          "WHERE true ON CONFLICT (key) DO UPDATE SET value = "
                          "MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))"}) {
    db.exec(sql);
  }
  for (const char* sql : {"DELETE FROM intermediate_values WHERE trial_id IN (SELECT id FROM trials WHERE study_id = ?)",
                          "DELETE FROM trials WHERE study_id = ?", "DELETE FROM queued_trials WHERE study_id = ?",
                          "DELETE FROM studies WHERE id = ?"}) {
    Stmt s(db, sql);
    s.bind_int(1, record.id).run();
  }
  tx.commit();
  impl_->counts.erase(record.id);
  return n;
}

StudyRecord SqliteStorage::rename_study(const std::string& from, const std::string& to) {
  detail::check_rename(from, to);
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("rename_study");
  Transaction tx(db, /*write=*/true);
  StudyRecord record = load_study_locked(db, from);
  MD_CHECK_AS(StorageError, !find_study_locked(db, to).has_value(),
              detail::rename_target_exists_message(from, to, describe_storage(db)));
  Stmt s(db, "UPDATE studies SET name = ? WHERE id = ?");
  s.bind_text(1, to).bind_int(2, record.id).run();
  MD_ASSERT(sqlite3_changes(db.handle()) == 1);
  tx.commit();
  record.name = to;
  return record;
}

namespace {

/// The study's counts, inside a transaction that has written nothing yet (what it reads is
/// committed, so the cache may keep it even if the transaction rolls back later).
TrialCounts counts_locked(Db& db, std::unordered_map<int64_t, CountCache>& caches, int64_t study_id) {
  if (!db.has_changes()) {
    // A schema-1 file opened read-only has no change numbers: count it all.
    TrialCounts c;
    Stmt s(db, "SELECT state, COUNT(*), COALESCE(SUM(cost), 0) FROM trials WHERE study_id = ? GROUP BY state");
    s.bind_int(1, study_id);
    while (s.step()) {
      detail::add_to_counts(c, study::trial_state_from_string(s.get_text(0)), s.get_double(2), s.get_int(1));
    }
    return c;
  }
  int64_t now = 0;
  {
    Stmt s(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq'");
    MD_ASSERT(s.step());
    now = s.get_int(0);
  }
  CountCache& cache = caches[study_id];
  if (cache.cursor == now) return cache.counts;
  const bool all = cache.cursor < 0;
  Stmt s(db, all ? "SELECT id, state, cost FROM trials WHERE study_id = ?"
                 : "SELECT id, state, cost FROM trials WHERE study_id = ? AND seq > ?");
  s.bind_int(1, study_id);
  if (!all) s.bind_int(2, cache.cursor);
  while (s.step()) {
    const int64_t id = s.get_int(0);
    const TrialState state = study::trial_state_from_string(s.get_text(1));
    const double cost = s.get_double(2);
    auto [it, added] = cache.trials.try_emplace(id, state, cost);
    if (!added) {
      detail::add_to_counts(cache.counts, it->second.first, -it->second.second, -1);
      it->second = {state, cost};
    }
    detail::add_to_counts(cache.counts, state, cost, +1);
  }
  cache.cursor = now;
  return cache.counts;
}

}  // namespace

Reservation SqliteStorage::reserve_trial(int64_t study_id, const std::string& worker, const TrialBudget& budget) {
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("reserve_trial");
  // BEGIN IMMEDIATE takes the file's write lock before the counts and max(number) are read: no
  // other process can start a trial or hand out the same number in between.
  Transaction tx(db, /*write=*/true);
  check_study_exists(db, study_id);
  Reservation r;
  r.counts = counts_locked(db, impl_->counts, study_id);
  if (!detail::budget_allows(budget, r.counts)) return r;  // nothing written; the transaction rolls back
  FrozenTrial t;
  // Numbers are 0..n-1 without gaps and trials only go with their study: the next one is the
  // count (UNIQUE (study_id, number) would refuse a duplicate even if that were wrong).
  t.number = r.counts.total();
  t.state = TrialState::kRunning;
  t.worker = text::valid_utf8(worker);
  t.started_at = study::now_unix_seconds();
  t.heartbeat_at = t.started_at;
  const int64_t seq = next_change(db);
  std::optional<std::string> queued_params;  // the oldest queued configuration, if any, leaves the queue
  {
    Stmt q(db, "DELETE FROM queued_trials WHERE id = (SELECT MIN(id) FROM queued_trials WHERE study_id = ?) "
               "RETURNING params, fidelity, retry_of");
    q.bind_int(1, study_id);
    if (q.step()) {
      queued_params = q.get_text(0);
      t.params = space::config_from_json(parse_json(db, *queued_params, "queued params"));
      t.fidelity = static_cast<int>(q.get_int(1));
      t.retry_of = q.get_int(2);
    }
  }
  Stmt s(db,
         "INSERT INTO trials (id, study_id, number, state, worker, started_at, heartbeat_at, seq, params, fidelity, "
         "retry_of) VALUES (" MD_NEXT_ID_SQL("trials", "trial_id_floor") ", ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)");
  s.bind_int(1, study_id).bind_int(2, t.number).bind_text(3, t.worker).bind_double(4, t.started_at);
  s.bind_double(5, t.heartbeat_at).bind_int(6, seq).bind_int(8, t.fidelity).bind_int(9, t.retry_of);
  if (queued_params) s.bind_text(7, *queued_params);  // else NULL: params not set yet
  s.run();
  t.id = sqlite3_last_insert_rowid(db.handle());
  tx.commit();
  r.trial = std::move(t);
  return r;
}

std::optional<QueuedTrial> SqliteStorage::enqueue_trial(int64_t study_id, const space::Config& params, int fidelity,
                                                        bool skip_if_present, int64_t retry_of) {
  detail::check_params(params, fidelity);
  detail::check_retry_of(retry_of);
  const std::string json = dump_json(space::to_json(params), "queued params");
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("enqueue_trial");
  // The write lock first: no other process queues or starts a trial between the check and the insert.
  Transaction tx(db, /*write=*/true);
  check_study_exists(db, study_id);
  if (skip_if_present) {
    Stmt s(db, "SELECT params, fidelity FROM trials WHERE study_id = ? AND state <> 'failed' AND params IS NOT NULL "
               "UNION ALL SELECT params, fidelity FROM queued_trials WHERE study_id = ?");
    s.bind_int(1, study_id).bind_int(2, study_id);
    while (s.step()) {
      if (s.get_int(1) != fidelity) continue;
      const std::string text = s.get_text(0);
      if (text == json || space::config_from_json(parse_json(db, text, "trial params")) == params) return std::nullopt;
    }
  }
  QueuedTrial q;
  q.params = params;
  q.fidelity = fidelity;
  q.queued_at = study::now_unix_seconds();
  q.retry_of = retry_of;
  Stmt s(db, "INSERT INTO queued_trials (study_id, params, fidelity, queued_at, retry_of) VALUES (?, ?, ?, ?, ?)");
  s.bind_int(1, study_id).bind_text(2, json).bind_int(3, fidelity).bind_double(4, q.queued_at).bind_int(5, retry_of);
  s.run();
  q.id = sqlite3_last_insert_rowid(db.handle());
  tx.commit();
  return q;
}

std::vector<QueuedTrial> SqliteStorage::queued_trials(int64_t study_id) {
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("queued_trials");
  Transaction tx(db, /*write=*/false);
  check_study_exists(db, study_id);
  std::vector<QueuedTrial> out;
  if (!db.has_queue()) return out;  // a file before schema 3, read-only
  Stmt s(db, "SELECT id, params, fidelity, queued_at, retry_of FROM queued_trials WHERE study_id = ? ORDER BY id");
  s.bind_int(1, study_id);
  while (s.step()) {
    QueuedTrial q;
    q.id = s.get_int(0);
    q.params = space::config_from_json(parse_json(db, s.get_text(1), "queued params"));
    q.fidelity = static_cast<int>(s.get_int(2));
    q.queued_at = s.get_double(3);
    q.retry_of = s.get_int(4);
    out.push_back(std::move(q));
  }
  tx.commit();
  return out;
}

void SqliteStorage::set_trial_params(int64_t trial_id, const space::Config& params, int fidelity) {
  detail::check_params(params, fidelity);
  const std::string json = dump_json(space::to_json(params), "trial params");
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("set_trial_params");
  Transaction tx(db, /*write=*/true);
  const TrialHead h = load_head(db, trial_id);
  MD_CHECK_AS(StorageError, h.state == TrialState::kRunning,
              detail::set_params_finished_message(h.description, h.state));
  MD_CHECK_AS(StorageError, !h.params_set, detail::params_already_set_message(h.description));
  const int64_t seq = next_change(db);
  Stmt s(db, "UPDATE trials SET params = ?, fidelity = ?, seq = ? WHERE id = ? AND state = 'running'");
  s.bind_text(1, json).bind_int(2, fidelity).bind_int(3, seq).bind_int(4, trial_id).run();
  MD_ASSERT(sqlite3_changes(db.handle()) == 1);
  tx.commit();
}

void SqliteStorage::report_intermediate(int64_t trial_id, int64_t step, double value) {
  detail::check_intermediate(step, value);
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("report_intermediate");
  Transaction tx(db, /*write=*/true);
  const TrialHead h = load_head(db, trial_id);
  MD_CHECK_AS(StorageError, h.state == TrialState::kRunning,
              detail::report_finished_message(h.description, step, h.state));
  {
    Stmt s(db, "INSERT INTO intermediate_values (trial_id, step, value) VALUES (?, ?, ?) "
               "ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value");
    s.bind_int(1, trial_id).bind_int(2, step).bind_double(3, value).run();
  }
  const int64_t seq = next_change(db);
  Stmt s(db, "UPDATE trials SET heartbeat_at = ?, seq = ? WHERE id = ?");
  s.bind_double(1, study::now_unix_seconds()).bind_int(2, seq).bind_int(3, trial_id).run();
  tx.commit();
}

void SqliteStorage::heartbeat(int64_t trial_id) {
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("heartbeat");
  Transaction tx(db, /*write=*/true);
  const TrialHead h = load_head(db, trial_id);
  MD_CHECK_AS(StorageError, h.state == TrialState::kRunning,
              detail::heartbeat_finished_message(h.description, h.state));
  Stmt s(db, "UPDATE trials SET heartbeat_at = ? WHERE id = ?");
  s.bind_double(1, study::now_unix_seconds()).bind_int(2, trial_id).run();
  tx.commit();
}

void SqliteStorage::finish_trial(int64_t trial_id, TrialState state, std::optional<double> value, double cost,
                                 const std::string& fail_reason) {
  detail::check_finish(state, value, cost);
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("finish_trial");
  Transaction tx(db, /*write=*/true);
  const TrialHead h = load_head(db, trial_id);
  MD_CHECK_AS(StorageError, h.state == TrialState::kRunning, detail::already_finished_message(h.description, h.state));
  finish_locked(db, trial_id, state, value, cost, fail_reason, study::now_unix_seconds());
  tx.commit();
}

void SqliteStorage::fail_and_retry(int64_t trial_id, const std::string& fail_reason, int64_t retry_of) {
  detail::check_retry_of(retry_of);
  MD_CHECK(retry_of >= 0, "fail_and_retry: retry_of is ", retry_of, "; it must be a trial number");
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("fail_and_retry");
  Transaction tx(db, /*write=*/true);
  const TrialHead h = load_head(db, trial_id);
  MD_CHECK_AS(StorageError, h.state == TrialState::kRunning, detail::already_finished_message(h.description, h.state));
  const double now = study::now_unix_seconds();
  {
    Stmt q(db, "INSERT INTO queued_trials (study_id, params, fidelity, queued_at, retry_of) "
               "SELECT study_id, params, fidelity, ?, ? FROM trials WHERE id = ? AND params IS NOT NULL");
    q.bind_double(1, now).bind_int(2, retry_of).bind_int(3, trial_id).run();
    MD_CHECK_AS(StorageError, sqlite3_changes(db.handle()) == 1, detail::retry_without_params_message(h.description));
  }
  finish_locked(db, trial_id, TrialState::kFailed, std::nullopt, 0.0, fail_reason, now);
  tx.commit();
}

void SqliteStorage::set_trial_times(int64_t trial_id, double started_at, double finished_at) {
  detail::check_times(started_at, finished_at);
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("set_trial_times");
  Transaction tx(db, /*write=*/true);
  const TrialHead h = load_head(db, trial_id);
  MD_CHECK_AS(StorageError, h.state != TrialState::kRunning, detail::times_of_running_message(h.description));
  Stmt s(db, "UPDATE trials SET started_at = ?, finished_at = ?, heartbeat_at = ? WHERE id = ?");
  s.bind_double(1, started_at).bind_double(2, finished_at).bind_double(3, finished_at).bind_int(4, trial_id).run();
  tx.commit();
}

namespace {

/// The study's trials with `t.seq > cursor` (cursor < 0: all), with their intermediate values.
std::vector<FrozenTrial> trials_locked(Db& db, int64_t study_id, int64_t cursor) {
  std::vector<FrozenTrial> out;
  std::unordered_map<int64_t, size_t> index;
  const bool all = cursor < 0;
  {
    static const std::string all_sql =
        concat("SELECT ", kTrialColumns, " FROM trials t WHERE t.study_id = ? ORDER BY t.number");
    static const std::string changed_sql =
        concat("SELECT ", kTrialColumns, " FROM trials t WHERE t.study_id = ? AND t.seq > ? ORDER BY t.number");
    Stmt s(db, all ? all_sql.c_str() : changed_sql.c_str());
    s.bind_int(1, study_id);
    if (!all) s.bind_int(2, cursor);
    while (s.step()) {
      out.push_back(read_trial(db, s));
      index.emplace(out.back().id, out.size() - 1);
    }
  }
  if (out.empty()) return out;
  const char* sql = all ? "SELECT iv.trial_id, iv.step, iv.value FROM intermediate_values iv "
                          "JOIN trials t ON t.id = iv.trial_id WHERE t.study_id = ?"
                        : "SELECT iv.trial_id, iv.step, iv.value FROM intermediate_values iv "
                          "JOIN trials t ON t.id = iv.trial_id WHERE t.study_id = ? AND t.seq > ?";
  Stmt s(db, sql);
  s.bind_int(1, study_id);
  if (!all) s.bind_int(2, cursor);
  while (s.step()) out[index.at(s.get_int(0))].intermediate.emplace(s.get_int(1), s.get_double(2));
  return out;
}

}  // namespace

std::vector<FrozenTrial> SqliteStorage::trials(int64_t study_id) {
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("trials");
  Transaction tx(db, /*write=*/false);  // one snapshot for both queries
  check_study_exists(db, study_id);
  auto out = trials_locked(db, study_id, -1);
  tx.commit();
  return out;
}

std::vector<FrozenTrial> SqliteStorage::running_trials(int64_t study_id) {
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("running_trials");
  Transaction tx(db, /*write=*/false);
  check_study_exists(db, study_id);
  static const std::string sql =
      concat("SELECT ", kTrialColumns, " FROM trials t WHERE t.study_id = ? AND t.state = 'running' ORDER BY t.number");
  std::vector<FrozenTrial> out;
  {
    Stmt s(db, sql.c_str());
    s.bind_int(1, study_id);
    while (s.step()) out.push_back(read_trial(db, s));
  }
  tx.commit();
  return out;
}

TrialCounts SqliteStorage::count_trials(int64_t study_id) {
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("count_trials");
  Transaction tx(db, /*write=*/false);
  check_study_exists(db, study_id);
  const TrialCounts c = counts_locked(db, impl_->counts, study_id);
  tx.commit();
  return c;
}

TrialChanges SqliteStorage::trials_changed_since(int64_t study_id, int64_t cursor) {
  MD_CHECK(cursor >= 0, "trials_changed_since: cursor ", cursor, " is negative (start from 0)");
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("trials_changed_since");
  Transaction tx(db, /*write=*/false);  // the cursor and the trials from one snapshot
  check_study_exists(db, study_id);
  TrialChanges c;
  if (!db.has_changes()) {
    // A schema-1 file opened read-only has no change numbers: everything is one change.
    if (cursor < 1) c.trials = trials_locked(db, study_id, -1);
    c.cursor = 1;
  } else {
    {
      Stmt s(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq'");
      MD_ASSERT(s.step());
      c.cursor = s.get_int(0);
    }
    c.trials = trials_locked(db, study_id, cursor);
  }
  tx.commit();
  return c;
}

std::vector<std::string> SqliteStorage::integrity_check() {
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("integrity_check");
  std::vector<std::string> problems;
  Stmt s(db, "PRAGMA integrity_check(100)");
  while (s.step()) {
    if (s.get_text(0) != "ok") problems.push_back(s.get_text(0));
  }
  return problems;
}

FrozenTrial SqliteStorage::trial(int64_t trial_id) {
  std::lock_guard lock(impl_->mu);
  Db& db = impl_->db;
  db.set_doing("trial");
  Transaction tx(db, /*write=*/false);
  FrozenTrial t;
  {
    static const std::string sql = concat("SELECT ", kTrialColumns, " FROM trials t WHERE t.id = ?");
    Stmt s(db, sql.c_str());
    s.bind_int(1, trial_id);
    MD_CHECK_AS(StorageError, s.step(), "no trial with id ", trial_id, " in SQLite storage '", db.path(), "'");
    t = read_trial(db, s);
  }
  Stmt s(db, "SELECT step, value FROM intermediate_values WHERE trial_id = ?");
  s.bind_int(1, trial_id);
  while (s.step()) t.intermediate.emplace(s.get_int(0), s.get_double(1));
  tx.commit();
  return t;
}

#undef MD_NEXT_ID_SQL

}  // namespace metadial::storage
