// What the dashboard costs and how soon it shows a finished trial.
//
//   ./build/release/bench/bench_dashboard
//
// BM_FinishToApi/POLL_MS  the latency from a trial's finish_trial (a writer on its own connection
//     to the SQLite file, as another worker process is) to the first answer of the dashboard's
//     /api/changes, over HTTP, that names it. POLL_MS = 0: the client asks again at once (the
//     server's own delay); 1000: the client polls every second as the page does, at a phase
//     independent of the writer (uniform), so the mean adds about half a poll. The design
//     target is about 2 s from finish to the page (the page then fetches and draws the data: see
//     BM_FirstChart20k for what a fetch costs on a large study).
// BM_FirstChart20k  a cold dashboard (a new read-only connection and API) on a SQLite study of
//     20,000 complete trials: /api/study and /api/points (what the first charts need), with the
//     bytes sent as counters; BM_Points20kWarm the same answer once the cache is up to date (what a
//     poll with a change costs); BM_Trials20kPage one page of the table sorted by value;
//     BM_Importance20k the parameter importance (a forest on 2,000 of the trials).
// Files go to METADIAL_BENCH_DIR (default: the temp directory); with METADIAL_BENCH_KEEP set, the
// 20,000-trial study stays there (its path is printed) to open with `metadial dashboard`.
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "metadial/core/random.h"
#include "metadial/dashboard/api.h"
#include "metadial/dashboard/server.h"
#include "metadial/storage/sqlite.h"
#include "metadial/storage/storage.h"

namespace {

using metadial::dashboard::Api;
using metadial::dashboard::Server;
using metadial::dashboard::ServerOptions;
using metadial::study::Direction;
using metadial::study::TrialState;
using Clock = std::chrono::steady_clock;

std::string bench_path(const std::string& stem) {
  const char* dir = std::getenv("METADIAL_BENCH_DIR");
  return (std::filesystem::path(dir != nullptr ? dir : std::filesystem::temp_directory_path().string()) /
          ("metadial_bench_dashboard_" + stem + "_" + std::to_string(::getpid()) + ".db"))
      .string();
}

void remove_db(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
}

metadial::space::SearchSpace bench_space() {
  metadial::space::SearchSpace s;
  s.add_float("lr", 1e-5, 1e-1, true).add_int("layers", 1, 8).add_float("dropout", 0.0, 0.5).add_categorical(
      "opt", {"adam", "sgd", "rmsprop"});
  return s;
}

void BM_FinishToApi(benchmark::State& state) {
  const auto poll = std::chrono::milliseconds(state.range(0));
  const std::string path = bench_path("latency");
  remove_db(path);
  {
    metadial::storage::SqliteStorage writer(path);
    const auto study = writer.create_or_load_study("latency", Direction::kMinimize, bench_space().to_json(), {});
    auto reader = metadial::storage::open_storage("sqlite:" + path, metadial::storage::OpenMode::kReadOnly);
    ServerOptions options;
    options.port = 0;
    Server server(*reader, "sqlite:" + path, options);
    const int port = server.bind();
    std::thread serving([&] { server.serve(); });
    httplib::Client client("127.0.0.1", port);
    const httplib::Headers none;
    auto cursor_now = [&]() -> int64_t {
      auto r = client.Get("/api/changes", httplib::Params{{"study", "latency"}, {"cursor", "0"}}, none);
      return r && r->status == 200 ? nlohmann::json::parse(r->body)["cursor"].get<int64_t>() : 0;
    };
    int64_t cursor = cursor_now();
    metadial::Rng rng(1);
    const auto space = bench_space();
    for (auto _ : state) {
      auto t = writer.create_trial(study.id, "bench");
      writer.set_trial_params(t.id, space.decode(std::vector<double>{0.1, 0.2, 0.3, 0.4}), 0);
      writer.finish_trial(t.id, TrialState::kComplete, 0.5, 1.0, "");
      const auto finished = Clock::now();
      // The next poll of a client polling every `poll`, at an independent phase.
      auto next = finished + std::chrono::duration_cast<Clock::duration>(poll * metadial::uniform01(rng));
      bool seen = false;
      while (!seen) {
        std::this_thread::sleep_until(next);
        auto r = client.Get("/api/changes", httplib::Params{{"study", "latency"}, {"cursor", std::to_string(cursor)}},
                            none);
        if (!r || r->status != 200) {
          state.SkipWithError("the dashboard did not answer");
          break;
        }
        const auto j = nlohmann::json::parse(r->body);
        for (const auto& n : j["changed"]) seen = seen || n.get<int64_t>() == t.number;
        if (seen) cursor = j["cursor"].get<int64_t>();
        next += poll;
      }
      state.SetIterationTime(std::chrono::duration<double>(Clock::now() - finished).count());
    }
    server.stop();
    serving.join();
  }
  remove_db(path);
}
BENCHMARK(BM_FinishToApi)->Arg(0)->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FinishToApi)->Arg(1000)->Iterations(20)->UseManualTime()->Unit(benchmark::kMillisecond);

/// A SQLite study of 20,000 complete trials, built once per run of the program (not durable: only
/// the build is faster; reading is the same).
const std::string& study_20k() {
  static const std::string path = [] {
    const std::string p = bench_path("20k");
    remove_db(p);
    metadial::storage::SqliteOptions o;
    o.durable = false;
    metadial::storage::SqliteStorage st(p, o);
    const auto space = bench_space();
    const auto study = st.create_or_load_study("big", Direction::kMinimize, space.to_json(),
                                               {{"sampler", "random"}, {"objective", "synthetic"}});
    metadial::Rng rng(7);
    for (int i = 0; i < 20000; ++i) {
      const std::vector<double> u = {metadial::uniform01(rng), metadial::uniform01(rng), metadial::uniform01(rng),
                                     metadial::uniform01(rng)};
      auto t = st.create_trial(study.id, "bench");
      st.set_trial_params(t.id, space.decode(u), 0);
      const double v = (u[0] - 0.3) * (u[0] - 0.3) + 0.1 * u[2] + 0.01 * metadial::uniform01(rng);
      st.finish_trial(t.id, TrialState::kComplete, v, 1.0, "");
    }
    if (std::getenv("METADIAL_BENCH_KEEP") == nullptr) {
      std::atexit([] { remove_db(bench_path("20k")); });
    } else {
      std::fprintf(stderr, "bench_dashboard: keeping the 20,000-trial study (study 'big') in %s\n", p.c_str());
    }
    return p;
  }();
  return path;
}

void BM_FirstChart20k(benchmark::State& state) {
  const std::string url = "sqlite:" + study_20k();
  size_t study_bytes = 0, points_bytes = 0;
  for (auto _ : state) {
    auto reader = metadial::storage::open_storage(url, metadial::storage::OpenMode::kReadOnly);
    Api api(*reader, url);
    const auto s = api.handle("/api/study", {{"study", "big"}});
    const auto p = api.handle("/api/points", {{"study", "big"}});
    if (s.status != 200 || p.status != 200) state.SkipWithError("the API failed");
    study_bytes = s.body.size();
    points_bytes = p.body.size();
  }
  state.counters["study_bytes"] = static_cast<double>(study_bytes);
  state.counters["points_bytes"] = static_cast<double>(points_bytes);
}
BENCHMARK(BM_FirstChart20k)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_Points20kWarm(benchmark::State& state) {
  const std::string url = "sqlite:" + study_20k();
  auto reader = metadial::storage::open_storage(url, metadial::storage::OpenMode::kReadOnly);
  Api api(*reader, url);
  api.handle("/api/points", {{"study", "big"}});
  for (auto _ : state) benchmark::DoNotOptimize(api.handle("/api/points", {{"study", "big"}}));
}
BENCHMARK(BM_Points20kWarm)->Unit(benchmark::kMillisecond);

void BM_Trials20kPage(benchmark::State& state) {
  const std::string url = "sqlite:" + study_20k();
  auto reader = metadial::storage::open_storage(url, metadial::storage::OpenMode::kReadOnly);
  Api api(*reader, url);
  size_t bytes = 0;
  for (auto _ : state) {
    const auto r = api.handle("/api/trials", {{"study", "big"}, {"sort", "value"}, {"offset", "10000"}});
    bytes = r.body.size();
  }
  state.counters["page_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Trials20kPage)->Unit(benchmark::kMillisecond);

void BM_Importance20k(benchmark::State& state) {
  const std::string url = "sqlite:" + study_20k();
  for (auto _ : state) {
    auto reader = metadial::storage::open_storage(url, metadial::storage::OpenMode::kReadOnly);
    Api api(*reader, url);
    benchmark::DoNotOptimize(api.handle("/api/importance", {{"study", "big"}}));
  }
}
BENCHMARK(BM_Importance20k)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
