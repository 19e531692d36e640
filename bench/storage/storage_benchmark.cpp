// What storing a trial costs. A trial is at least two commits (create_trial, finish_trial);
// with the default durable SqliteStorage each commit fsyncs the WAL, so the numbers depend on
// the disk: run on the file system the studies will live on (METADIAL_BENCH_DIR, default the
// temp directory).
//
//   ./build/release/bench/bench_storage
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "metadial/storage/in_memory.h"
#include "metadial/storage/sqlite.h"

namespace {

using metadial::storage::InMemoryStorage;
using metadial::storage::SqliteOptions;
using metadial::storage::SqliteStorage;
using metadial::study::Direction;
using metadial::study::TrialState;

/// A fresh database path, removed (with its side files) on destruction.
class BenchFile {
 public:
  BenchFile() {
    const char* dir = std::getenv("METADIAL_BENCH_DIR");
    static int counter = 0;
    path_ = (std::filesystem::path(dir != nullptr ? dir : std::filesystem::temp_directory_path().string()) /
             ("metadial_bench_storage_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".db"))
                .string();
    remove();
  }
  ~BenchFile() { remove(); }
  BenchFile(const BenchFile&) = delete;
  BenchFile& operator=(const BenchFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  void remove() const {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path_ + suffix, ec);
  }
  std::string path_;
};

const metadial::space::Config kParams{{"lr", 0.0012345678901234}, {"layers", int64_t{3}},
                                      {"units", int64_t{128}}, {"activation", std::string("relu")}};

void create_and_finish(metadial::storage::Storage& st, int64_t study) {
  const auto t = st.create_trial(study, "bench");
  st.finish_trial(t.id, TrialState::kComplete, 0.5, 1.0, "");
}

/// create_trial + finish_trial: two commits, two fsyncs.
void BM_SqliteCreateAndFinishTrial(benchmark::State& state) {
  BenchFile file;
  SqliteStorage st(file.path());
  const int64_t study = st.create_or_load_study("bench", Direction::kMinimize, nlohmann::json::array(), {}).id;
  for (auto _ : state) create_and_finish(st, study);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SqliteCreateAndFinishTrial)->UseRealTime();

/// The same with SqliteOptions::durable = false (synchronous=NORMAL: no fsync per commit).
void BM_SqliteCreateAndFinishTrialNotDurable(benchmark::State& state) {
  BenchFile file;
  SqliteStorage st(file.path(), SqliteOptions{.durable = false});
  const int64_t study = st.create_or_load_study("bench", Direction::kMinimize, nlohmann::json::array(), {}).id;
  for (auto _ : state) create_and_finish(st, study);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SqliteCreateAndFinishTrialNotDurable)->UseRealTime();

/// The whole life of a trial as the study engine drives it: create, set params, report 10
/// intermediate values, finish (13 commits).
void BM_SqliteTrialWithTenReports(benchmark::State& state) {
  BenchFile file;
  SqliteStorage st(file.path());
  const int64_t study = st.create_or_load_study("bench", Direction::kMinimize, nlohmann::json::array(), {}).id;
  for (auto _ : state) {
    const auto t = st.create_trial(study, "bench");
    st.set_trial_params(t.id, kParams, 0);
    for (int step = 0; step < 10; ++step) st.report_intermediate(t.id, step, 1.0 / (step + 1));
    st.finish_trial(t.id, TrialState::kComplete, 0.5, 1.0, "");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SqliteTrialWithTenReports)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_InMemoryCreateAndFinishTrial(benchmark::State& state) {
  InMemoryStorage st;
  const int64_t study = st.create_or_load_study("bench", Direction::kMinimize, nlohmann::json::array(), {}).id;
  for (auto _ : state) create_and_finish(st, study);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InMemoryCreateAndFinishTrial);

/// trials() of a study of N finished trials, each with 4 params and 10 intermediate values:
/// what a sampler pays to read the history before each proposal.
void BM_SqliteListTrials(benchmark::State& state) {
  BenchFile file;
  const auto n = state.range(0);
  int64_t study = -1;
  {
    SqliteStorage writer(file.path(), SqliteOptions{.durable = false});  // fast setup
    study = writer.create_or_load_study("bench", Direction::kMinimize, nlohmann::json::array(), {}).id;
    for (int64_t i = 0; i < n; ++i) {
      const auto t = writer.create_trial(study, "bench");
      writer.set_trial_params(t.id, kParams, 0);
      for (int step = 0; step < 10; ++step) writer.report_intermediate(t.id, step, 1.0 / (step + 1));
      writer.finish_trial(t.id, TrialState::kComplete, static_cast<double>(i), 1.0, "");
    }
  }
  SqliteStorage st(file.path());
  for (auto _ : state) {
    auto trials = st.trials(study);
    benchmark::DoNotOptimize(trials.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_SqliteListTrials)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
