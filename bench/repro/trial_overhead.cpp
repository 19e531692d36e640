// What the engine costs per trial as a study grows: optimize() with the random sampler on Branin
// (a microsecond objective, so the time is the engine's and the storage's), a fresh study per N,
// on each storage. The slope between 5,000 and 10,000 trials is read from inside the largest run
// (the objective notes the time of every trial), so start-up is excluded; a constant slope as N
// grows is linear growth. Results: bench/results/trial_overhead.md.
//
//   ./build/release/bench/repro_trial_overhead [--storages memory,sqlite,postgres] [--n 500,2000,5000,10000]
//       [--dir DIR] [--csv FILE] [--pg-url URL]
//
// SQLite runs with the defaults (durable: synchronous=FULL, WAL, every commit fsynced) in DIR
// (default: METADIAL_BENCH_DIR or the temp directory), so its numbers depend on that disk.
// PostgreSQL: a throwaway server with PostgreSQL's durable defaults (fsync, synchronous_commit on;
// the storage tests' fixture with METADIAL_PG_DURABLE=1), a fresh database per run; or --pg-url.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "metadial/objective/test_functions.h"
#include "metadial/optim/random_sampler.h"
#include "metadial/storage/in_memory.h"
#include "metadial/storage/sqlite.h"
#include "metadial/study/study.h"
#include "storage/postgres_fixture.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace md = metadial;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

/// Branin that notes when each evaluation happened (trial k's time, seconds since `t0`).
class TimedBranin final : public md::objective::Objective {
 public:
  explicit TimedBranin(size_t n) { times_.reserve(n); }
  md::objective::Evaluation evaluate(const md::space::Config& config, int fidelity,
                                     md::objective::Reporter& reporter) override {
    auto ev = branin_.evaluate(config, fidelity, reporter);
    times_.push_back(std::chrono::duration<double>(Clock::now() - t0_).count());
    return ev;
  }
  std::vector<md::objective::Fidelity> fidelities() const override { return branin_.fidelities(); }
  std::string name() const override { return "branin"; }
  md::space::SearchSpace space() const { return *branin_.default_space(); }
  void start() { t0_ = Clock::now(); }
  const std::vector<double>& times() const { return times_; }

 private:
  md::objective::Branin branin_;
  Clock::time_point t0_ = Clock::now();
  std::vector<double> times_;
};

struct Run {
  std::string storage;
  int64_t n = 0;
  double wall_s = 0.0;
  std::vector<double> times;  // time of trial k (from optimize's start)
};

/// Seconds per trial between trial `a` and trial `b` of one run.
double slope(const Run& r, int64_t a, int64_t b) {
  if (b > static_cast<int64_t>(r.times.size()) || a < 1 || b <= a) return -1.0;
  return (r.times[static_cast<size_t>(b - 1)] - r.times[static_cast<size_t>(a - 1)]) / static_cast<double>(b - a);
}

std::string g_pg_url;  // --pg-url; empty: a throwaway durable server

Run run_one(const std::string& kind, int64_t n, const std::string& dir) {
  std::unique_ptr<md::storage::Storage> storage;
  std::string path;
  if (kind == "postgres") {
    if (g_pg_url.empty()) {
      ::setenv("METADIAL_PG_DURABLE", "1", 1);
      storage = md::storage::open_storage(md::storage::testing::PostgresCluster::shared().new_database_url());
    } else {
      storage = md::storage::open_storage(g_pg_url);
      if (auto old = storage->find_study("overhead")) storage->delete_study("overhead", md::storage::IfRunning::kDelete);
    }
  } else if (kind == "memory") {
    storage = std::make_unique<md::storage::InMemoryStorage>();
  } else if (kind == "sqlite") {
    path = (std::filesystem::path(dir) / ("metadial_trial_overhead_" + std::to_string(::getpid()) + ".db")).string();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    storage = std::make_unique<md::storage::SqliteStorage>(path);  // defaults: durable (FULL)
  } else {
    throw std::runtime_error("unknown storage '" + kind + "' (memory, sqlite, postgres)");
  }
  TimedBranin objective(static_cast<size_t>(n));
  auto study = md::study::Study::create_or_load(*storage, "overhead", objective.space(),
                                                md::study::Direction::kMinimize);
  md::optim::RandomSampler sampler;
  md::study::OptimizeOptions options;
  options.n_trials = n;
  options.seed = 1;
  const auto t0 = Clock::now();
  objective.start();
  const auto result = md::study::optimize(study, objective, sampler, options);
  Run r;
  r.storage = kind;
  r.n = n;
  r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  r.times = objective.times();
  if (result.n_complete != n) throw std::runtime_error("run stopped early: " + std::string(to_string(result.stop_reason)));
  storage.reset();
  if (!path.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> storages{"memory", "sqlite"};
  std::vector<int64_t> ns{500, 2000, 5000, 10000};
  const char* env_dir = std::getenv("METADIAL_BENCH_DIR");
  std::string dir = env_dir != nullptr ? env_dir : std::filesystem::temp_directory_path().string();
  std::string csv;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--storages" && has_value) {
      storages = split(argv[++i]);
    } else if (arg == "--n" && has_value) {
      ns.clear();
      for (const auto& s : split(argv[++i])) ns.push_back(std::stoll(s));
    } else if (arg == "--dir" && has_value) {
      dir = argv[++i];
    } else if (arg == "--csv" && has_value) {
      csv = argv[++i];
    } else if (arg == "--pg-url" && has_value) {
      g_pg_url = argv[++i];
    } else {
      std::cerr << "usage: " << argv[0]
                << " [--storages memory,sqlite,postgres] [--n 500,2000,5000,10000] [--dir DIR] [--csv FILE] [--pg-url URL]\n";
      return 2;
    }
  }
  std::sort(ns.begin(), ns.end());
  std::ofstream csv_out;
  if (!csv.empty()) {
    csv_out.open(csv);
    csv_out << "storage,n,trial,seconds\n";
  }
  std::printf("%-8s %7s %10s %12s\n", "storage", "N", "wall_s", "us/trial");
  for (const auto& kind : storages) {
    Run largest;
    for (int64_t n : ns) {
      Run r = run_one(kind, n, dir);
      std::printf("%-8s %7lld %10.3f %12.1f\n", kind.c_str(), static_cast<long long>(n), r.wall_s,
                  1e6 * r.wall_s / static_cast<double>(n));
      std::fflush(stdout);
      if (csv_out && n == ns.back()) {
        for (size_t k = 99; k < r.times.size(); k += 100) csv_out << kind << ',' << n << ',' << k + 1 << ',' << r.times[k] << '\n';
      }
      largest = std::move(r);
    }
    // Per-trial slopes inside the largest run, by segment: flat = linear growth.
    const int64_t big = largest.n;
    std::printf("%-8s slope us/trial (inside the N=%lld run):", kind.c_str(), static_cast<long long>(big));
    const int64_t marks[] = {1, big / 20, big / 5, big / 2, big};
    for (size_t i = 0; i + 1 < std::size(marks); ++i) {
      if (marks[i + 1] <= marks[i]) continue;
      std::printf("  %lld->%lld: %.1f", static_cast<long long>(marks[i]), static_cast<long long>(marks[i + 1]),
                  1e6 * slope(largest, marks[i], marks[i + 1]));
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
