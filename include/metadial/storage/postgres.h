// PostgresStorage: studies on a PostgreSQL server, shared by workers on any number of machines.
//
//   auto storage = metadial::storage::open_storage("postgresql://tuner@db.lab:5432/metadial");
//
// URLs (open_storage and PostgresStorage take the same):
//   postgresql://[user[:password]@][host][:port][/dbname][?key=value&...]   libpq's connection URI
//   postgres://...                                                        the same
//   postgresql:KEY=VALUE KEY=VALUE ...     libpq's keyword form, e.g. `postgresql:service=tuning`
//                                          or `postgresql:host=db.lab dbname=metadial sslmode=require`;
//                                          `postgresql:` alone takes everything from PGHOST,
//                                          PGDATABASE, PGUSER ... and the service file
// Credentials the libpq way: PGPASSWORD, ~/.pgpass (PGPASSFILE), pg_service.conf (PGSERVICE),
// sslmode / sslrootcert in the URL. Prefer these to a password in the URL, which a command line
// shows to `ps`. A password in the URL is never printed: every message shows the URL masked
// (`postgresql://user:***@host/db`, `password=***`).
//
// Client library: libpq (Debian libpq-dev), the C library of the server project itself, not
// libpqxx: Debian 12 ships libpqxx 6.4 (two major versions old), a second package to keep in step;
// and what this storage needs from the client is exactly what libpq exposes directly (SQLSTATE
// and PQstatus to tell a lost connection from a refused statement, control over reconnecting),
// while every statement here is a fixed text with a few text parameters.
//
// How the contract of storage.h is met:
//  - Durability: one transaction per writing call; a call returns once the server has flushed it
//    to its write-ahead log. The writes that lock the study row (below) commit with
//    synchronous_commit = off, so the lock is released without waiting for the disk, and send in
//    the same round trip a durable one-row write to their trial that returns only once the WAL up
//    to it (theirs included) is flushed; other writes commit with synchronous_commit = on. The one
//    exception is set_trial_params: committed (visible to every reader) without a flush, so that a
//    trial waits for two fsyncs, not three; the storage keeps the params until the trial's
//    finish_trial, which writes them again where a server crash lost them and flushes them. A
//    client crash loses nothing; a server crash and the worker's death together leave a running
//    trial without params (failed later without a retry, as a worker that died before setting them).
//  - Numbering and budgets: every write that changes a trial first locks its study's row
//    (UPDATE studies ... RETURNING); reserve_trial reads the study's next number and its counts
//    under that lock and inserts, so numbers are gap-free and a budget is never exceeded by any
//    number of workers on any number of hosts. UNIQUE (study_id, number) backs it up. The counts
//    (running, complete, pruned, failed, cost) are kept in the study row by the same writes, so
//    reserve_trial and count_trials cost the same at 10 trials and at 100,000.
//  - Changes: the change sequence is per study (studies.change_seq), bumped under the same row
//    lock, which is held until COMMIT; so a study's changes commit in sequence order and a reader
//    that sees change n sees every change before it. trials_changed_since reads the cursor and the
//    trials with seq > cursor in one statement (one snapshot). A server-wide SEQUENCE would not do:
//    its values are handed out when asked for and committed in any order, so a reader could see
//    11 before 10 commits and skip 10 for good. The price: writes to one study are serialized
//    through their commits (the WAL insert, not its flush); different studies do not wait.
//    A heartbeat takes no lock and is not a change.
//  - Ids: identity columns (sequences), which never hand out a value twice, also after
//    delete_study or a server crash.
//  - Lost connections: a call that loses its connection (server restart, network) reconnects with
//    backoff (50 ms doubling to 2 s, up to PostgresOptions::reconnect_timeout_s) and runs again.
//    A write whose COMMIT may have happened before the connection dropped takes effect once:
//    each reservation and each finish carries a token (this object's random id + a counter) that
//    the database stores in a UNIQUE column, so a retried reserve_trial returns the trial its
//    first attempt created and a retried finish_trial that finds its own token succeeds;
//    set_trial_params retried finds its own params and succeeds; report_intermediate and
//    heartbeat are idempotent. delete_study and rename_study are run again only when the
//    connection was lost before COMMIT was sent; lost during COMMIT, they throw StorageError
//    saying the outcome is unknown. The first connection is not retried: a wrong URL fails fast.
//  - Threads: one connection per object, guarded by the object's mutex (a transaction's
//    statements must go together). Processes: each opens its own PostgresStorage (a connection
//    must not be used on both sides of a fork()).
//  - Read-only (OpenMode::kReadOnly): the session runs with default_transaction_read_only = on
//    and every writing call throws StorageError before it reaches the server.
//  - Schema: tables meta, studies, trials, intermediate_values in the connection's current schema
//    (the first of search_path; `?options=-csearch_path%3Dtuning` in the URL picks another).
//    meta holds application = metadial and schema_version. An empty schema gets the tables (with
//    OpenMode::kCreate; the workers that start together create them once, under an advisory
//    lock). A schema that holds other tables and no metadial meta (another program's database), or
//    a newer schema version, is refused with one line and left unchanged.
//  - Text: the database must store UTF-8 (server_encoding UTF8 or SQL_ASCII); the session's
//    client_encoding is UTF8. A study name that is not valid UTF-8 is InvalidArgument.
//  - Clocks: started_at, heartbeat_at and finished_at are the writing host's clock, as in SQLite;
//    keep the hosts' clocks synchronized (NTP) for heartbeats to compare across hosts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/storage/storage.h"

namespace metadial::storage {

/// Schema version this build writes and the newest it reads (meta.schema_version). Version 2 added
/// the queue of configurations (queued_trials), version 3 retry_of (which trial a trial re-runs); an
/// older schema is upgraded when a worker opens it for writing (read-only, it is read as it is, with
/// an empty queue before version 2 and retry_of -1 before version 3).
inline constexpr int kPostgresSchemaVersion = 3;

/// Settings of a PostgresStorage connection.
struct PostgresOptions {
  /// true (default): an empty schema gets metadial's tables. false: it is a StorageError (for
  /// commands that only read or change existing studies). The database itself is never created.
  bool create = true;
  /// true: the session is read-only (see OpenMode::kReadOnly); writing calls throw StorageError.
  bool read_only = false;
  /// How long a call keeps reconnecting after it lost its connection before it throws.
  double reconnect_timeout_s = 30.0;
  /// libpq's connect_timeout (seconds) when the URL sets none: how long one connection attempt
  /// may take (libpq's own default waits as long as the operating system's TCP timeout).
  int connect_timeout_s = 10;
  /// For tests only: the first COMMIT of every call acts as if the connection had dropped after
  /// the server committed but before its reply came (closes it, reconnects and runs the call
  /// again), to exercise the exactly-once path.
  bool test_lose_first_commit_reply = false;
};

/// Whether `url` names a PostgreSQL storage: it starts with postgresql:// postgres:// or postgresql:.
bool is_postgres_url(const std::string& url);

/// Trials on a PostgreSQL server; see the top of this header for the guarantees.
class PostgresStorage final : public Storage {
 public:
  /// Connects to URL (see the top of this header) and checks or creates the schema. Throws
  /// InvalidArgument for a malformed URL and StorageError (one line, the URL masked) when the server
  /// cannot be reached, refuses the login, or holds another program's tables or a newer schema.
  explicit PostgresStorage(const std::string& url, PostgresOptions options = {});
  ~PostgresStorage() override;
  PostgresStorage(const PostgresStorage&) = delete;
  PostgresStorage& operator=(const PostgresStorage&) = delete;
  /// A moved-from PostgresStorage may only be destroyed or assigned to.
  PostgresStorage(PostgresStorage&&) noexcept;
  PostgresStorage& operator=(PostgresStorage&&) noexcept;

  /// The URL given at construction, password masked.
  const std::string& masked_url() const;

  StudyRecord create_or_load_study(const std::string& name, study::Direction direction, const nlohmann::json& space,
                                   const nlohmann::json& attrs) override;
  std::optional<StudyRecord> find_study(const std::string& name) override;
  std::vector<StudyRecord> list_studies() override;
  int64_t delete_study(const std::string& name, IfRunning if_running) override;
  StudyRecord rename_study(const std::string& from, const std::string& to) override;

  Reservation reserve_trial(int64_t study_id, const std::string& worker, const TrialBudget& budget) override;
  std::optional<QueuedTrial> enqueue_trial(int64_t study_id, const space::Config& params, int fidelity,
                                           bool skip_if_present, int64_t retry_of) override;
  std::vector<QueuedTrial> queued_trials(int64_t study_id) override;
  void set_trial_params(int64_t trial_id, const space::Config& params, int fidelity) override;
  void report_intermediate(int64_t trial_id, int64_t step, double value) override;
  void heartbeat(int64_t trial_id) override;
  void finish_trial(int64_t trial_id, study::TrialState state, std::optional<double> value, double cost,
                    const std::string& fail_reason) override;
  void fail_and_retry(int64_t trial_id, const std::string& fail_reason, int64_t retry_of) override;
  void set_trial_times(int64_t trial_id, double started_at, double finished_at) override;

  std::vector<study::FrozenTrial> trials(int64_t study_id) override;
  std::vector<study::FrozenTrial> running_trials(int64_t study_id) override;
  TrialCounts count_trials(int64_t study_id) override;
  TrialChanges trials_changed_since(int64_t study_id, int64_t cursor) override;
  study::FrozenTrial trial(int64_t trial_id) override;

  /// How many times this object has reconnected after a lost connection (for tests and logs).
  int64_t reconnects() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace metadial::storage
