// `metadial dashboard --storage URL [--host 127.0.0.1] [--port 8080] [--study NAME] [--seed N]`:
// a live web dashboard of the studies in a storage (metadial/dashboard/server.h): open the URL it
// prints in a browser. The storage is opened read-only (OpenMode::kReadOnly), so the workers
// writing to it are never blocked; the page polls for changes about every second. It binds to
// 127.0.0.1 unless --host says otherwise (then it warns: there is no authentication). It runs
// until stopped (Ctrl-C, SIGTERM).
//
// User errors, one line and exit 2: a storage that does not exist or cannot be opened ("memory" is
// refused: a new process's memory storage is empty), an unknown --study, a port in use.
//
// `metadial report --storage URL --study NAME --out report.html [--seed N]`: the same charts and
// the trials table as one self-contained HTML file (metadial/dashboard/report.h) that works
// offline. User errors as above, and an --out that cannot be written.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "cli/commands.h"

namespace CLI {
class App;
}

namespace metadial::cli {

struct DashboardArgs {
  std::string storage = kDefaultStorage;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::optional<std::string> study;  ///< the study the printed URL opens; must exist
  uint64_t seed = 0;                 ///< of the parameter importance's random forest
};

void declare_dashboard(CLI::App& app, DashboardArgs& args);
/// Serves until the process is stopped; returns 0 only if the server stops by itself.
int run_dashboard(const DashboardArgs& args, std::ostream& out);

struct ReportArgs {
  std::string storage = kDefaultStorage;
  std::string study;
  std::string out;   ///< the HTML file to write (replaced if it exists)
  uint64_t seed = 0;  ///< of the parameter importance's random forest
};

void declare_report(CLI::App& app, ReportArgs& args);
/// Writes the report; prints one line saying where and what it holds.
int run_report(const ReportArgs& args, std::ostream& out);

}  // namespace metadial::cli
