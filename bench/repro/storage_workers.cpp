// Many workers on one study (issue 16, "Measured"): throughput of 1, 2, 4, 8, 16 worker processes
// on SQLite and on PostgreSQL side by side in one run, the errors they met, and GP-BO's suggestion
// time with 16 workers at 500 trials.
//
//   ./build/release/bench/repro_storage_workers [--storages sqlite,postgres] [--workers 1,2,4,8,16]
//       [--trials 2000] [--gp-workers 16] [--gp-prefill 480] [--gp-trials 500] [--dir DIR] [--out PREFIX]
//
// Each run is a fresh study of Branin (a microsecond objective) with the random sampler: W forked
// processes run `optimize` on it with the study-wide budget of `--trials` complete trials, so the
// time is the engine's and the storage's. Throughput = trials / wall time from the first fork to
// the last exit. An error is a worker that stopped on an exception (e.g. SQLite's "database is
// locked", which Optuna's users meet most): its message is counted and shown.
//
// Durability is the same on both sides: SQLite with its defaults (WAL, synchronous=FULL: every
// commit fsynced), PostgreSQL with its own (fsync=on, synchronous_commit=on) on a throwaway server
// this program starts (the storage tests' fixture with METADIAL_PG_DURABLE=1; or --pg-url for one of
// yours). A commit cannot be faster than the disk's fsync: pg_test_fsync's numbers are printed first.
// --pg-nondurable starts the server with fsync=off instead (the storage tests' setting), to show
// what the fsyncs cost; its numbers are not durable ones.
//
// GP: the study is filled with `--gp-prefill` random trials by one process, then `--gp-workers`
// processes run the gp sampler to `--gp-trials`; each times its suggestions (the fit on every
// stored trial, the running ones as a constant liar, and the acquisition).
//
// Writes PREFIX.md (the tables) and PREFIX.csv (one row per run); default PREFIX is
// bench/results/storage_workers.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "metadial/objective/test_functions.h"
#include "metadial/optim/gp_sampler.h"
#include "metadial/optim/random_sampler.h"
#include "metadial/storage/storage.h"
#include "metadial/study/study.h"
#include "repro_common.h"
#include "storage/postgres_fixture.h"

namespace {

namespace md = metadial;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// What one worker process did (written to a file, read by the parent).
struct WorkerReport {
  int exit_code = 0;
  std::string error;
  std::vector<double> suggest_s;
};

/// Runs `optimize` in a child process; returns its pid. The child writes its error (if any) and
/// its suggestion times to `report`.
pid_t spawn_worker(const std::string& url, const std::string& study, const std::string& sampler, int64_t n_trials,
                   uint64_t seed, const std::string& report) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  int code = 0;
  std::ofstream out(report);
  try {
    auto storage = md::storage::open_storage(url);
    md::objective::Branin objective;
    auto s = md::study::Study::create_or_load(*storage, study, *objective.default_space(),
                                              md::study::Direction::kMinimize);
    std::unique_ptr<md::optim::Sampler> inner;
    if (sampler == "gp") {
      inner = std::make_unique<md::optim::GpSampler>();
    } else {
      inner = std::make_unique<md::optim::RandomSampler>();
    }
    md::repro::TimedSampler timed(*inner);
    md::study::OptimizeOptions o;
    o.n_trials = n_trials;
    o.seed = seed;
    o.max_consecutive_failures = 1000;
    md::study::optimize(s, objective, timed, o);
    for (double t : timed.seconds) out << "suggest " << t << "\n";
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    out << "error " << msg << "\n";
    code = 1;
  }
  out.close();
  std::fflush(nullptr);
  ::_exit(code);
}

WorkerReport read_report(const std::string& path, int status) {
  WorkerReport r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("suggest ", 0) == 0) r.suggest_s.push_back(std::stod(line.substr(8)));
    if (line.rfind("error ", 0) == 0) r.error = line.substr(6);
  }
  return r;
}

struct RunResult {
  std::string storage;
  int workers = 0;
  int64_t trials = 0;
  int64_t complete = 0;
  double wall_s = 0.0;
  int errors = 0;
  std::string first_error;
  std::vector<double> suggest_s;
};

/// W workers on a fresh study until `n_trials` complete trials.
RunResult run_workers(const std::string& kind, const std::string& url, const std::string& study,
                      const std::string& sampler, int workers, int64_t n_trials, const std::string& dir) {
  RunResult r;
  r.storage = kind;
  r.workers = workers;
  r.trials = n_trials;
  std::vector<std::pair<pid_t, std::string>> children;
  const auto t0 = Clock::now();
  for (int w = 0; w < workers; ++w) {
    const std::string report = dir + "/worker_" + std::to_string(::getpid()) + "_" + std::to_string(w) + ".txt";
    children.emplace_back(spawn_worker(url, study, sampler, n_trials, static_cast<uint64_t>(w + 1), report), report);
  }
  for (const auto& [pid, report] : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    WorkerReport w = read_report(report, status);
    std::filesystem::remove(report);
    if (w.exit_code != 0) {
      ++r.errors;
      if (r.first_error.empty()) r.first_error = w.error.empty() ? "exit " + std::to_string(w.exit_code) : w.error;
    }
    r.suggest_s.insert(r.suggest_s.end(), w.suggest_s.begin(), w.suggest_s.end());
  }
  r.wall_s = seconds_since(t0);
  auto st = md::storage::open_storage(url, md::storage::OpenMode::kReadOnly);
  const auto rec = st->find_study(study);
  r.complete = rec ? st->count_trials(rec->id).complete : 0;
  return r;
}

std::string pg_test_fsync() {
  std::string bin;
  try {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      if (std::filesystem::exists(e.path() / "bin/pg_test_fsync")) bin = (e.path() / "bin/pg_test_fsync").string();
    }
  } catch (const std::exception&) {
  }
  if (bin.empty()) return "(pg_test_fsync not found)";
  const std::string file = std::filesystem::temp_directory_path().string() + "/metadial_fsync_test";
  const std::string cmd = bin + " -s 1 -f " + file + " 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p) != nullptr) {
      std::string line = buf;
      // The lines of the default wal_sync_method (fdatasync) and of open_sync with one write.
      if (line.find("fdatasync") != std::string::npos || line.find("fsync ") != std::string::npos) out += line;
    }
    ::pclose(p);
  }
  std::filesystem::remove(file);
  return out.empty() ? "(pg_test_fsync printed nothing)" : out;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> storages{"sqlite", "postgres"};
  std::vector<int> workers{1, 2, 4, 8, 16};
  int64_t trials = 2000;
  int gp_workers = 16;
  int64_t gp_prefill = 480;
  int64_t gp_trials = 500;
  std::string pg_url;
  bool pg_nondurable = false;
  const char* env_dir = std::getenv("METADIAL_BENCH_DIR");
  std::string dir = env_dir != nullptr ? env_dir : std::filesystem::temp_directory_path().string();
  std::string out = "bench/results/storage_workers";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool v = i + 1 < argc;
    if (arg == "--storages" && v) {
      storages = md::repro::split(argv[++i], ',');
    } else if (arg == "--workers" && v) {
      workers.clear();
      for (const auto& s : md::repro::split(argv[++i], ',')) workers.push_back(std::stoi(s));
    } else if (arg == "--trials" && v) {
      trials = std::stoll(argv[++i]);
    } else if (arg == "--gp-workers" && v) {
      gp_workers = std::stoi(argv[++i]);
    } else if (arg == "--gp-prefill" && v) {
      gp_prefill = std::stoll(argv[++i]);
    } else if (arg == "--gp-trials" && v) {
      gp_trials = std::stoll(argv[++i]);
    } else if (arg == "--pg-url" && v) {
      pg_url = argv[++i];
    } else if (arg == "--pg-nondurable") {
      pg_nondurable = true;
    } else if (arg == "--dir" && v) {
      dir = argv[++i];
    } else if (arg == "--out" && v) {
      out = argv[++i];
    } else {
      std::cerr << "usage: " << argv[0]
                << " [--storages sqlite,postgres] [--workers 1,2,4,8,16] [--trials N] [--gp-workers W] "
                   "[--gp-prefill N] [--gp-trials N] [--pg-url URL] [--pg-nondurable] [--dir DIR] [--out PREFIX]\n";
      return 2;
    }
  }

  const std::string fsync = pg_test_fsync();
  std::cout << "fsync latency of " << dir << " (pg_test_fsync -s 1):\n" << fsync;
  md::storage::testing::PostgresCluster* cluster = nullptr;
  if (pg_url.empty() && std::find(storages.begin(), storages.end(), "postgres") != storages.end()) {
    if (!pg_nondurable) ::setenv("METADIAL_PG_DURABLE", "1", 1);
    cluster = &md::storage::testing::PostgresCluster::shared();
  }
  int run_id = 0;
  // A fresh place for each run: a new SQLite file, a new PostgreSQL database.
  auto fresh = [&](const std::string& kind) -> std::pair<std::string, std::string> {
    ++run_id;
    if (kind == "sqlite") {
      const std::string path = dir + "/metadial_workers_" + std::to_string(::getpid()) + "_" + std::to_string(run_id) + ".db";
      for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
      return {"sqlite:" + path, path};
    }
    if (!pg_url.empty()) return {pg_url, ""};
    return {cluster->new_database_url(), ""};
  };
  auto cleanup = [](const std::string& path) {
    if (path.empty()) return;
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  };
  if (cluster != nullptr) ::setenv("PGPASSWORD", cluster->password().c_str(), 1);

  std::vector<RunResult> runs;
  std::printf("%-9s %8s %8s %9s %10s %8s\n", "storage", "workers", "trials", "wall_s", "trials/s", "errors");
  for (int w : workers) {
    for (const auto& kind : storages) {
      const auto [url, path] = fresh(kind);
      const std::string study = "throughput-" + std::to_string(run_id);
      RunResult r = run_workers(kind, url, study, "random", w, trials, dir);
      cleanup(path);
      std::printf("%-9s %8d %8lld %9.2f %10.1f %8d%s\n", kind.c_str(), w, static_cast<long long>(r.complete), r.wall_s,
                  static_cast<double>(r.complete) / r.wall_s, r.errors,
                  r.first_error.empty() ? "" : ("  " + r.first_error).c_str());
      std::fflush(stdout);
      runs.push_back(std::move(r));
    }
  }

  std::vector<RunResult> gp_runs;
  if (gp_workers > 0 && gp_trials > gp_prefill) {
    for (const auto& kind : storages) {
      const auto [url, path] = fresh(kind);
      const std::string study = "gp-" + std::to_string(run_id);
      run_workers(kind, url, study, "random", 1, gp_prefill, dir);
      RunResult r = run_workers(kind, url, study, "gp", gp_workers, gp_trials, dir);
      cleanup(path);
      std::printf("%-9s gp, %d workers, trials %lld..%lld: %zu suggestions, median %.3f s, p90 %.3f s, max %.3f s, "
                  "errors %d\n",
                  kind.c_str(), gp_workers, static_cast<long long>(gp_prefill), static_cast<long long>(gp_trials),
                  r.suggest_s.size(), percentile(r.suggest_s, 0.5), percentile(r.suggest_s, 0.9),
                  percentile(r.suggest_s, 1.0), r.errors);
      std::fflush(stdout);
      gp_runs.push_back(std::move(r));
    }
  }

  std::filesystem::create_directories(std::filesystem::path(out).parent_path().empty()
                                          ? std::filesystem::path(".")
                                          : std::filesystem::path(out).parent_path());
  std::ofstream csv(out + ".csv");
  csv << "storage,workers,trials,complete,wall_s,trials_per_s,errors\n";
  for (const auto& r : runs) {
    csv << r.storage << ',' << r.workers << ',' << r.trials << ',' << r.complete << ',' << r.wall_s << ','
        << static_cast<double>(r.complete) / r.wall_s << ',' << r.errors << '\n';
  }
  std::ofstream md(out + ".md");
  md << "# Many workers on one study: throughput and errors (issue 16)\n\n"
     << "Command: `build/release/bench/repro_storage_workers";
  for (int i = 1; i < argc; ++i) md << ' ' << argv[i];
  md << "` (defaults: `--workers 1,2,4,8,16 --trials 2000 --gp-workers 16 --gp-prefill 480 --gp-trials 500`).\n\n"
     << "Random sampler on Branin (a microsecond objective), W worker processes (`optimize`, one job each) "
        "on one fresh study with a study-wide budget of complete trials; throughput = trials / wall time from "
        "the first fork to the last exit. SQLite durable with its defaults (WAL, synchronous=FULL), "
        << (pg_nondurable ? "PostgreSQL with fsync=off (NOT durable: --pg-nondurable, to show what the fsyncs cost)"
                          : "PostgreSQL 15 defaults (fsync=on, synchronous_commit=on)")
     << " on a throwaway server over TCP on loopback. "
        "2-core machine: 16 workers means 8 processes per core.\n\n"
     << "Disk fsync latency (`pg_test_fsync -s 1`, same disk):\n\n```\n" << fsync << "```\n\n"
     << "| workers |";
  for (const auto& kind : storages) md << ' ' << kind << " trials/s | " << kind << " errors |";
  md << "\n|---|";
  for (size_t k = 0; k < storages.size(); ++k) md << "---|---|";
  md << "\n";
  for (int w : workers) {
    md << "| " << w << " |";
    for (const auto& kind : storages) {
      for (const auto& r : runs) {
        if (r.workers != w || r.storage != kind) continue;
        char buf[64];
        std::snprintf(buf, sizeof buf, " %.1f | %d |", static_cast<double>(r.complete) / r.wall_s, r.errors);
        md << buf;
      }
    }
    md << "\n";
  }
  std::string errors;
  for (const auto& r : runs) {
    if (!r.first_error.empty()) errors += "- " + r.storage + ", " + std::to_string(r.workers) + " workers: " + r.first_error + "\n";
  }
  md << "\n" << (errors.empty() ? std::string("No worker stopped on an error.\n") : "Errors:\n" + errors);
  if (!gp_runs.empty()) {
    md << "\nGP-BO suggestion time (the fit on every stored trial, running ones as a constant liar, and the "
          "acquisition), "
       << gp_workers << " workers taking the study from " << gp_prefill << " to " << gp_trials << " trials:\n\n"
       << "| storage | suggestions | median s | p90 s | max s | errors |\n|---|---|---|---|---|---|\n";
    for (const auto& r : gp_runs) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "| %s | %zu | %.3f | %.3f | %.3f | %d |\n", r.storage.c_str(), r.suggest_s.size(),
                    percentile(r.suggest_s, 0.5), percentile(r.suggest_s, 0.9), percentile(r.suggest_s, 1.0), r.errors);
      md << buf;
    }
  }
  std::cout << "wrote " << out << ".md and " << out << ".csv\n";
  return 0;
}
