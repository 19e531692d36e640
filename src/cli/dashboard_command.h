// `metadial dashboard --storage URL [--host 127.0.0.1] [--port 8080] [--study NAME] [--seed N]`:
// a live web dashboard of the studies in a storage (metadial/dashboard/server.h): open the URL it
// prints in a browser. The storage is opened read-only (OpenMode::kReadOnly), so the workers
// writing to it are never blocked; the page polls for changes about every second. It binds to
// 127.0.0.1 unless --host says otherwise (then it warns: there is no authentication). It runs
// until stopped (Ctrl-C, SIGTERM).
//
// User errors, one line and exit 2: a storage that does not exist or cannot be opened ("memory" is
// refused: a new process's memory storage is empty), an unknown --study, a port in use.
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

}  // namespace metadial::cli
