#include "cli/dashboard_command.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "metadial/core/error.h"
#include "metadial/core/text.h"
#include "metadial/dashboard/report.h"
#include "metadial/dashboard/server.h"
#include "metadial/storage/storage.h"

namespace metadial::cli {
namespace {

using ::metadial::detail::concat;

/// `s` with every byte but [A-Za-z0-9-._~] percent-encoded (a study name in the URL's fragment).
std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// StorageError naming the studies there are when `storage` holds no study `name`.
void require_study(storage::Storage& storage, const std::string& name, const std::string& label) {
  if (storage.find_study(name)) return;
  std::string names;
  for (const auto& s : storage.list_studies()) names += (names.empty() ? "" : ", ") + text::escape_controls(s.name);
  throw StorageError(concat("--study: no study '", text::escape_controls(name), "' in storage '",
                            text::escape_controls(label), "' (",
                            names.empty() ? std::string("it holds no studies") : "it holds " + names, ")"));
}

}  // namespace

void declare_dashboard(CLI::App& app, DashboardArgs& args) {
  app.add_option("--storage", args.storage, "sqlite:PATH | postgresql://USER@HOST[:PORT]/DB (opened read-only)")
      ->capture_default_str();
  app.add_option("--host", args.host, "address to listen on (anything but loopback is reachable from the network)")
      ->capture_default_str();
  app.add_option("--port", args.port, "TCP port (0: any free port; the URL printed says which)")->capture_default_str();
  app.add_option("--study", args.study, "open the page on this study (it must exist)");
  app.add_option("--seed", args.seed, "seed of the parameter importance (its random forest)")->capture_default_str();
}

int run_dashboard(const DashboardArgs& args, std::ostream& out) {
  const std::string label = storage::mask_password(args.storage);
  MD_CHECK(args.storage != "memory",
           "--storage memory: a dashboard has its own, empty memory storage; give the storage the workers write to "
           "(sqlite:PATH or postgresql://...)");
  auto storage = storage::open_storage(args.storage, storage::OpenMode::kReadOnly);
  std::string fragment;
  if (args.study) {
    require_study(*storage, *args.study, label);
    fragment = "#study=" + percent_encode(*args.study);
  }
  dashboard::ServerOptions options;
  options.host = args.host;
  options.port = args.port;
  options.api.forest.seed = args.seed;
  dashboard::Server server(*storage, label, options);
  const int port = server.bind();
  server.warm();
  if (!dashboard::is_loopback(args.host)) {
    std::cerr << "dashboard: warning: listening on " << text::escape_controls(args.host)
              << ": anyone who can reach this machine can read every study of the storage (there is no login)\n";
  }
  const bool v6 = args.host.find(':') != std::string::npos;
  out << "dashboard: http://" << (v6 ? "[" : "") << text::escape_controls(args.host) << (v6 ? "]" : "") << ":" << port
      << "/" << fragment << " serving " << text::escape_controls(label) << " (read-only); Ctrl-C stops it" << std::endl;
  server.serve();
  return 0;
}

void declare_report(CLI::App& app, ReportArgs& args) {
  app.add_option("--storage", args.storage, "sqlite:PATH | postgresql://USER@HOST[:PORT]/DB (opened read-only)")
      ->capture_default_str();
  app.add_option("--study", args.study, "the study to report")->required();
  app.add_option("--out", args.out, "the HTML file to write (one self-contained file; replaced if it exists)")
      ->required();
  app.add_option("--seed", args.seed, "seed of the parameter importance (its random forest)")->capture_default_str();
}

int run_report(const ReportArgs& args, std::ostream& out) {
  const std::string label = storage::mask_password(args.storage);
  MD_CHECK(args.storage != "memory",
           "--storage memory: a report reads a stored study; give the storage the study is in (sqlite:PATH or "
           "postgresql://...)");
  MD_CHECK(!args.out.empty(), "--out: give the HTML file to write, e.g. --out report.html");
  auto storage = storage::open_storage(args.storage, storage::OpenMode::kReadOnly);
  require_study(*storage, args.study, label);
  dashboard::ApiOptions options;
  options.forest.seed = args.seed;
  const std::string html = dashboard::render_report(*storage, label, args.study, options);
  const int64_t trials = storage->count_trials(storage->find_study(args.study)->id).total();
  // Written beside it and renamed onto it: a failed write leaves no half a report.
  const std::string partial = args.out + ".partial";
  std::FILE* f = std::fopen(partial.c_str(), "wb");
  MD_CHECK(f != nullptr, "--out ", text::escape_controls(args.out), ": cannot write it: ", std::strerror(errno));
  const bool written = std::fwrite(html.data(), 1, html.size(), f) == html.size();
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  const bool renamed = written && closed && std::rename(partial.c_str(), args.out.c_str()) == 0;
  if (!renamed) {
    const int e = written && closed ? errno : write_errno;
    std::remove(partial.c_str());
    throw InvalidArgument(concat("--out ", text::escape_controls(args.out), ": writing failed: ", std::strerror(e)));
  }
  out << "report: wrote " << text::escape_controls(args.out) << " (" << html.size() / 1024 << " KiB: study '"
      << text::escape_controls(args.study) << "', " << trials << " trials, from " << text::escape_controls(label)
      << "); open it in a browser, it needs no network\n";
  return 0;
}

}  // namespace metadial::cli
