#include "cli/storage_commands.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <string_view>

#include "metadial/core/error.h"
#include "metadial/storage/sqlite.h"
#include "metadial/storage/storage.h"

namespace metadial::cli {

using ::metadial::detail::concat;

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
    std::replace(shown.begin(), shown.end(), '\n', ' ');
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

std::unique_ptr<Command> make_storage_command() {
  return group("storage", "check a storage file",
               command<StorageCheckArgs>("check",
                                         "read a whole SQLite storage with PRAGMA integrity_check; exit 2 if damaged",
                                         declare_storage_check, run_storage_check));
}

}  // namespace metadial::cli
