#include "cli/study_commands.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/text.h"
#include "metadial/storage/storage.h"

namespace metadial::cli {
namespace {

using ::metadial::detail::concat;

std::string count_trials(int64_t n) { return concat(n, n == 1 ? " trial" : " trials"); }

/// The study of that name; StorageError naming the studies the storage holds if there is none.
storage::StudyRecord existing_study(storage::Storage& storage, const std::string& name, const std::string& url) {
  if (auto found = storage.find_study(name)) return *found;
  std::string names;
  for (const auto& s : storage.list_studies()) names += (names.empty() ? "" : ", ") + text::escape_controls(s.name);
  throw StorageError(concat("no study '", text::escape_controls(name), "' in storage '", text::escape_controls(storage::mask_password(url)), "' (",
                            names.empty() ? std::string("it holds no studies") : "it holds " + names, ")"));
}

}  // namespace

int run_study_delete(const StudyDeleteArgs& args, std::ostream& out) {
  MD_CHECK(!args.name.empty(), "study delete needs the name of a study (got an empty one)");
  auto storage = storage::open_storage(args.storage, storage::OpenMode::kExisting);
  // Look first, so that a refusal says what would have gone.
  const storage::StudyRecord found = existing_study(*storage, args.name, args.storage);
  int64_t n = 0;
  int64_t running = 0;
  for (const auto& t : storage->trials(found.id)) {
    ++n;
    if (t.state == study::TrialState::kRunning) ++running;
  }
  const std::string running_note =
      running > 0 && !args.force
          ? concat(count_trials(running), running == 1 ? " is" : " are",
                   " still running, so a worker may be using it: stop its workers, or add --force if they are gone")
          : "";
  MD_CHECK(args.yes, "not deleting study '", text::escape_controls(args.name), "' (", count_trials(n), ") from ",
           text::escape_controls(storage::mask_password(args.storage)), " without --yes: deleting cannot be undone; add --yes to delete it",
           running_note.empty() ? "" : " (" + running_note + ")");
  MD_CHECK_AS(StorageError, running_note.empty(), "refusing to delete study '", text::escape_controls(args.name),
              "': ", running_note);
  // The storage checks again, atomically: a worker may have started a trial since.
  const int64_t deleted =
      storage->delete_study(args.name, args.force ? storage::IfRunning::kDelete : storage::IfRunning::kRefuse);
  out << "deleted study '" << text::escape_controls(args.name) << "' (" << count_trials(deleted) << ") from "
      << text::escape_controls(storage::mask_password(args.storage)) << "\n";
  return 0;
}

int run_study_rename(const StudyRenameArgs& args, std::ostream& out) {
  auto storage = storage::open_storage(args.storage, storage::OpenMode::kExisting);
  const storage::StudyRecord renamed = storage->rename_study(args.from, args.to);
  const auto n = static_cast<int64_t>(storage->trials(renamed.id).size());
  out << "renamed study '" << text::escape_controls(args.from) << "' to '" << text::escape_controls(args.to) << "' (" << count_trials(n)
      << ") in " << text::escape_controls(storage::mask_password(args.storage)) << "\n";
  return 0;
}

void declare_study_delete(CLI::App& app, StudyDeleteArgs& args) {
  app.add_option("name", args.name, "the study to delete")->required();
  app.add_option("--storage", args.storage, "memory | sqlite:PATH | postgresql://USER@HOST[:PORT]/DB")->capture_default_str();
  app.add_flag("--yes", args.yes, "really delete (it cannot be undone); without it nothing is deleted");
  app.add_flag("--force", args.force,
               "delete even if trials are still running (only when their workers are gone: a worker still "
               "running gets an error on its next write)");
}

void declare_study_rename(CLI::App& app, StudyRenameArgs& args) {
  app.add_option("old", args.from, "the study's current name")->required();
  app.add_option("new", args.to, "its new name (must not be taken)")->required();
  app.add_option("--storage", args.storage, "memory | sqlite:PATH | postgresql://USER@HOST[:PORT]/DB")->capture_default_str();
}

std::unique_ptr<Command> make_study_command() {
  return group("study", "delete or rename a stored study",
               command<StudyDeleteArgs>("delete",
                                        "delete a study with all its trials (needs --yes; refuses a study with "
                                        "running trials unless --force)",
                                        declare_study_delete, run_study_delete),
               command<StudyRenameArgs>("rename",
                                        "rename a study, keeping its trials (running workers keep writing to it "
                                        "under the new name)",
                                        declare_study_rename, run_study_rename));
}

}  // namespace metadial::cli
