// `metadial storage check [--storage URL]`: reads the whole SQLite file with PRAGMA
// integrity_check (every open already runs the cheaper quick_check on files up to 64 MiB; this
// command is for bigger files and for peace of mind). Prints "ok" with the studies and trials it
// holds, or the problems found and how to recover the readable part (`sqlite3 PATH .recover`).
// Exit 0 when whole, 2 when damaged or not a metadial file. Opens the file read-only.
//
// `metadial storage copy --from URL --to URL [--study NAME]`: copies studies (every study, or the
// one named) from one storage to another of any kind (sqlite -> postgresql to grow from one
// machine to a cluster, postgresql -> sqlite to take a study home), through the Storage interface
// only. Each study arrives with its name, direction, space and attrs, and every trial with its
// number, state, params, fidelity, value, cost, fail reason, worker and intermediate values. Not
// kept: the timestamps (a trial's started_at / finished_at / heartbeat_at and the study's
// created_at are the time of the copy, so trial durations read 0 s), since the interface has no
// call that writes them. A trial still running at copy time is copied as failed with the reason
// "running at copy time" (its worker may still finish it in the source, never in the copy); copy
// a study once its workers have stopped. A study whose name already exists at the destination is
// refused before anything is written (one line naming them, exit 2): copying twice never makes a
// duplicate. A copy that fails half way removes the study it was writing.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "cli/command.h"
#include "cli/commands.h"

namespace CLI {
class App;
}

namespace metadial::cli {

struct StorageCheckArgs {
  std::string storage = kDefaultStorage;
};

void declare_storage_check(CLI::App& app, StorageCheckArgs& args);
int run_storage_check(const StorageCheckArgs& args, std::ostream& out);

struct StorageCopyArgs {
  std::string from;
  std::string to;
  std::string study;  ///< empty: every study of `from`
};

void declare_storage_copy(CLI::App& app, StorageCopyArgs& args);
int run_storage_copy(const StorageCopyArgs& args, std::ostream& out);

/// `metadial storage check | copy`: a CommandGroup (room for more storage housekeeping).
std::unique_ptr<Command> make_storage_command();

}  // namespace metadial::cli
