// SqliteStorage: the embedded default. One SQLite file holds any number of studies; several
// threads and several processes (workers on one machine) may use one file at once.
//
//   auto storage = std::make_unique<metadial::storage::SqliteStorage>("runs/tune.db");
//
// How the contract of storage.h is met:
//  - Durability: WAL journal, synchronous=FULL, one transaction per writing call. SQLite
//    fsyncs the WAL on every commit in this mode, so a change survives a crash of the process
//    and of the machine once the call returns (NORMAL would only survive a process crash;
//    SqliteOptions::durable = false chooses it where speed matters more).
//  - Ids: a study's or trial's id is its rowid. delete_study records the highest ids it has seen
//    in the `meta` table (study_id_floor, trial_id_floor) and inserts pick ids above them, so
//    the ids of a deleted study are not handed out again even if it held the highest ones.
//  - Housekeeping: delete_study and rename_study each run in one BEGIN IMMEDIATE transaction;
//    delete removes intermediate values, trials and the study row explicitly (not relying on
//    ON DELETE CASCADE, which needs PRAGMA foreign_keys on every connection).
//  - Numbering: create_trial runs BEGIN IMMEDIATE (the file's single write lock), reads
//    max(number) + 1 of the study and inserts, so numbers are gap-free across processes;
//    UNIQUE(study_id, number) makes a duplicate impossible even if that were wrong.
//  - Threads: one connection per object, opened with SQLITE_OPEN_NOMUTEX and guarded by the
//    object's own mutex (the mutex is needed anyway to keep a transaction's statements
//    together, so SQLite's FULLMUTEX would only lock twice).
//  - Processes: a writer waits for the lock up to busy_timeout_ms; past that the call throws
//    StorageError saying the database is busy. Each process opens its own SqliteStorage (a
//    connection must not be used on both sides of a fork()). The file must be on a local file
//    system: SQLite's locks are unreliable over NFS and WAL needs shared memory.
//  - Safety of other files: opening never changes a file that is not a metadial database (not
//    SQLite at all, another application's SQLite database, a newer metadial schema): it throws
//    StorageError naming the path and saying the file was left unchanged. A new path or an
//    empty file gets the schema.
//
//  - Damage: a file up to 64 MiB is checked with PRAGMA quick_check when opened; SQLITE_CORRUPT on
//    any later read is the same one StorageError, which says how to recover (sqlite3 .recover).
//
// File identity: PRAGMA application_id = kSqliteApplicationId, PRAGMA user_version = schema
// version (kSqliteSchemaVersion), also kept in the `meta` table with the application name.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/storage/storage.h"

namespace metadial::storage {

/// PRAGMA application_id of every metadial database: the ASCII bytes "MDAL".
inline constexpr int32_t kSqliteApplicationId = 0x4D44414C;
/// Schema version this build writes and the newest it reads (PRAGMA user_version).
/// Version 2 added the change sequence (trials.seq, meta change_seq) and two indexes; version 3 the
/// queue of configurations (queued_trials). An older file is upgraded when opened for writing
/// (read-only, it is read as it is: a file before version 3 has an empty queue).
inline constexpr int kSqliteSchemaVersion = 4;

/// Settings of a SqliteStorage connection.
struct SqliteOptions {
  /// How long a write waits for another process's lock before it throws StorageError.
  int busy_timeout_ms = 30000;
  /// true (default): synchronous=FULL, every commit is fsynced, it survives an OS crash or power
  /// loss. false: synchronous=NORMAL, a commit survives a crash of the process but the last
  /// ones may be lost on power loss; commits are then much cheaper (see bench/storage).
  bool durable = true;
  /// true (default): a path that does not exist becomes a new database. false: it is a
  /// StorageError naming the path (for commands that only read or change existing studies).
  bool create = true;
  /// true: open the file read-only (it must exist; see OpenMode::kReadOnly). Nothing is written:
  /// no schema upgrade, no journal-mode switch; writing calls throw StorageError.
  bool read_only = false;
};

/// Trials in one SQLite file; see the top of this header for the guarantees.
class SqliteStorage final : public Storage {
 public:
  /// Opens PATH, creating the file and the schema if needed. Throws StorageError naming the path
  /// when it cannot be opened, is not a metadial database, or has a newer schema.
  explicit SqliteStorage(const std::string& path, SqliteOptions options = {});
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;
  /// A moved-from SqliteStorage may only be destroyed or assigned to.
  SqliteStorage(SqliteStorage&&) noexcept;
  SqliteStorage& operator=(SqliteStorage&&) noexcept;

  /// The path given at construction.
  const std::string& path() const;

  StudyRecord create_or_load_study(const std::string& name, study::Direction direction,
                                   const nlohmann::json& space, const nlohmann::json& attrs) override;
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

  /// PRAGMA integrity_check: the problems found (empty: the file is whole). Reads the whole file;
  /// for files too big for the quick check every open does (see `metadial storage check`).
  std::vector<std::string> integrity_check();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace metadial::storage
