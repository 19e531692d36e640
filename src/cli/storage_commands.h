// `metadial storage check [--storage URL]`: reads the whole SQLite file with PRAGMA
// integrity_check (every open already runs the cheaper quick_check on files up to 64 MiB; this
// command is for bigger files and for peace of mind). Prints "ok" with the studies and trials it
// holds, or the problems found and how to recover the readable part (`sqlite3 PATH .recover`).
// Exit 0 when whole, 2 when damaged or not a metadial file. Opens the file read-only.
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

/// `metadial storage check`: a CommandGroup (room for more storage housekeeping).
std::unique_ptr<Command> make_storage_command();

}  // namespace metadial::cli
