#include "cli/storage_commands.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <string_view>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/text.h"
#include "metadial/storage/sqlite.h"
#include "metadial/storage/storage.h"
#include "metadial/study/trial.h"

namespace metadial::cli {

using ::metadial::detail::concat;

namespace {

/// The fail reason of a trial that was running when it was copied.
constexpr const char* kRunningAtCopy = "running at copy time (copied as failed by `metadial storage copy`)";

std::string plural(int64_t n, const char* one, const char* many) { return concat(n, " ", n == 1 ? one : many); }

struct CopyCounts {
  int64_t trials = 0;
  int64_t running = 0;  ///< copied as failed
};

/// Writes `trials` (ordered by number, 0..n-1) into the new, empty study `dst_id`.
CopyCounts copy_trials(storage::Storage& dst, int64_t dst_id, const std::vector<study::FrozenTrial>& trials,
                       const std::string& name) {
  CopyCounts c;
  for (const auto& t : trials) {
    // A retry (retry_failed) goes through the destination's queue, which is empty while trials are
    // copied: the trial that takes it gets its params and records which trial it re-runs.
    const bool retry = t.retry_of >= 0 && !t.params.empty();
    if (retry) dst.enqueue_trial(dst_id, t.params, t.fidelity, false, t.retry_of);
    const study::FrozenTrial created = dst.create_trial(dst_id, t.worker);
    MD_CHECK_AS(StorageError, created.number == t.number, "storage copy: trial ", t.number, " of study '",
                text::escape_controls(name), "' became number ", created.number,
                " at the destination (another process is writing to the new study there)");
    if (!retry && (!t.params.empty() || t.fidelity != 0)) dst.set_trial_params(created.id, t.params, t.fidelity);
    for (const auto& [step, value] : t.intermediate) dst.report_intermediate(created.id, step, value);
    if (t.state == study::TrialState::kRunning) {
      dst.finish_trial(created.id, study::TrialState::kFailed, std::nullopt, t.cost, kRunningAtCopy);
      ++c.running;
    } else {
      dst.finish_trial(created.id, t.state, t.value, t.cost, t.fail_reason);
    }
    // The source's times (a trial running at copy time ends now, failed).
    if (t.state != study::TrialState::kRunning) {
      dst.set_trial_times(created.id, t.started_at, std::max(t.started_at, t.finished_at));
    }
    ++c.trials;
  }
  return c;
}

}  // namespace

void declare_storage_check(CLI::App& app, StorageCheckArgs& args) {
  app.add_option("--storage", args.storage, "sqlite:PATH")->capture_default_str();
}

int run_storage_check(const StorageCheckArgs& args, std::ostream& out) {
  constexpr std::string_view kPrefix = "sqlite:";
  MD_CHECK(args.storage.starts_with(kPrefix), "storage check: '", storage::mask_password(args.storage),
           "' is not a file storage; give --storage sqlite:PATH (a PostgreSQL server checks its own data)");
  const std::string path = args.storage.substr(kPrefix.size());
  // Opening already refuses a damaged file up to 64 MiB (quick_check) with the recovery hint.
  storage::SqliteOptions options;
  options.read_only = true;
  storage::SqliteStorage st(path, options);
  const auto problems = st.integrity_check();
  if (!problems.empty()) {
    std::string shown;
    for (size_t i = 0; i < problems.size() && i < 3; ++i) shown += (i ? "; " : "") + problems[i];
    throw StorageError(concat("SQLite storage '", path, "' is damaged (", problems.size(),
                              problems.size() == 1 ? " problem: " : " problems, first: ", shown,
                              "); it was left unchanged; recover what is readable with `sqlite3 '", path,
                              "' .recover | sqlite3 recovered.db` and use sqlite:recovered.db"));
  }
  int64_t trials = 0;
  const auto studies = st.list_studies();
  for (const auto& s : studies) trials += st.count_trials(s.id).total();
  out << args.storage << ": ok (" << studies.size() << (studies.size() == 1 ? " study, " : " studies, ") << trials
      << (trials == 1 ? " trial" : " trials") << ")\n";
  return 0;
}

void declare_storage_copy(CLI::App& app, StorageCopyArgs& args) {
  app.add_option("--from", args.from,
                 "the storage to copy from (read only): sqlite:PATH | postgresql://USER@HOST[:PORT]/DB")
      ->required();
  app.add_option("--to", args.to, "the storage to copy into (created if needed): sqlite:PATH | postgresql://...")
      ->required();
  app.add_option("--study", args.study, "copy only this study (default: every study of --from)");
}

int run_storage_copy(const StorageCopyArgs& args, std::ostream& out) {
  const std::string from_shown = text::escape_controls(storage::mask_password(args.from));
  const std::string to_shown = text::escape_controls(storage::mask_password(args.to));
  MD_CHECK(args.from != args.to, "storage copy: --from and --to are the same storage '", from_shown,
           "'; give another --to");
  auto src = storage::open_storage(args.from, storage::OpenMode::kReadOnly);

  std::vector<storage::StudyRecord> studies;
  if (!args.study.empty()) {
    auto found = src->find_study(args.study);
    if (!found) {
      std::string names;
      for (const auto& s : src->list_studies()) names += (names.empty() ? "" : ", ") + text::escape_controls(s.name);
      throw StorageError(concat("storage copy: no study '", text::escape_controls(args.study), "' in '", from_shown, "' (",
                                names.empty() ? std::string("it holds no studies") : "it holds " + names, ")"));
    }
    studies.push_back(std::move(*found));
  } else {
    studies = src->list_studies();
    MD_CHECK_AS(StorageError, !studies.empty(), "storage copy: '", from_shown, "' holds no study; nothing to copy");
  }

  auto dst = storage::open_storage(args.to, storage::OpenMode::kCreate);
  // Refuse before writing anything: a name that exists at the destination would either mix two
  // studies' trials or make a silent duplicate.
  std::string taken;
  for (const auto& s : studies) {
    if (dst->find_study(s.name)) taken += (taken.empty() ? "'" : ", '") + text::escape_controls(s.name) + "'";
  }
  MD_CHECK_AS(StorageError, taken.empty(), "storage copy: '", to_shown, "' already has study ", taken,
              "; nothing was copied (copy into another storage, or rename or delete it there first: `metadial study "
              "rename|delete ... --storage URL`)");

  int64_t total = 0;
  for (const auto& s : studies) {
    const auto trials = src->trials(s.id);  // one snapshot per study, ordered by number
    const storage::StudyRecord created = dst->create_or_load_study(s.name, s.direction, s.space, s.attrs);
    // Another process may have created the name since the check above: never write into its study.
    MD_CHECK_AS(StorageError, dst->count_trials(created.id).total() == 0, "storage copy: study '", text::escape_controls(s.name),
                "' appeared in '", to_shown, "' while copying (another process created it); it was left alone");
    CopyCounts c;
    try {
      c = copy_trials(*dst, created.id, trials, s.name);
      // The queue after the trials (a trial created meanwhile would take from it).
      for (const auto& q : src->queued_trials(s.id)) dst->enqueue_trial(created.id, q.params, q.fidelity, false, q.retry_of);
    } catch (...) {
      // Leave no half study behind: it would block the next attempt and look like a whole one.
      try {
        dst->delete_study(s.name, storage::IfRunning::kDelete);
      } catch (const std::exception&) {
      }
      throw;
    }
    total += c.trials;
    out << "copied study '" << text::escape_controls(s.name) << "' (" << plural(c.trials, "trial", "trials");
    if (c.running > 0) out << "; " << c.running << (c.running == 1 ? " was" : " were") << " running, copied as failed";
    out << ") from " << from_shown << " to " << to_shown << "\n";
  }
  if (studies.size() > 1) {
    out << "copied " << plural(static_cast<int64_t>(studies.size()), "study", "studies") << ", "
        << plural(total, "trial", "trials") << "\n";
  }
  return 0;
}

std::unique_ptr<Command> make_storage_command() {
  return group(
      "storage", "check a storage file, copy studies between storages",
      command<StorageCheckArgs>("check", "read a whole SQLite storage with PRAGMA integrity_check; exit 2 if damaged",
                                declare_storage_check, run_storage_check),
      command<StorageCopyArgs>(
          "copy",
          "copy studies with every trial, intermediate value and attribute to another storage (e.g. "
          "sqlite:local.db -> postgresql://...); a study already there is refused; start and finish times are "
          "kept; trials running at copy time are copied as failed",
          declare_storage_copy, run_storage_copy));
}

}  // namespace metadial::cli
