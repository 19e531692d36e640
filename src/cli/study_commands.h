// `metadial study ...`: housekeeping of the studies in a storage, through the Storage interface
// (Storage::delete_study, Storage::rename_study; see metadial/storage/storage.h).
//
//   study delete NAME [--storage URL] --yes [--force]
//                without --yes nothing is deleted: it says what would go (the study and its N
//                trials) and exits 2. A study with trials still running (a worker may be using it)
//                is refused unless --force is given too, for workers that are known to be gone.
//   study rename OLD NEW [--storage URL]
//                keeps the study's trials, numbers and attrs; refuses a NEW that is taken. Allowed
//                while workers run: they keep writing to the study under its new name, but a
//                worker started later with the old name starts a new, empty study.
//
// Both print one line ("deleted study 'x' (42 trials) from sqlite:runs.db") and never create a
// storage: a sqlite:PATH that does not exist is an error. User errors (no such study, name taken,
// no --yes) are thrown as InvalidArgument / StorageError: one line, exit 2.
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

struct StudyDeleteArgs {
  std::string name;
  std::string storage = kDefaultStorage;
  bool yes = false;    ///< required: deleting cannot be undone
  bool force = false;  ///< delete even if trials are still running
};

struct StudyRenameArgs {
  std::string from;
  std::string to;
  std::string storage = kDefaultStorage;
};

/// The positionals and flags of `study delete` / `study rename`, bound to `args`.
void declare_study_delete(CLI::App& app, StudyDeleteArgs& args);
void declare_study_rename(CLI::App& app, StudyRenameArgs& args);
/// `metadial study delete NAME ...`; returns 0, prints one line.
int run_study_delete(const StudyDeleteArgs& args, std::ostream& out);
/// `metadial study rename OLD NEW ...`; returns 0, prints one line.
int run_study_rename(const StudyRenameArgs& args, std::ostream& out);

/// `metadial study delete|rename`: a CommandGroup of the two.
std::unique_ptr<Command> make_study_command();

}  // namespace metadial::cli
