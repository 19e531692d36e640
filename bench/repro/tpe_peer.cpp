// Our side of the TPE peer comparison (bench/optim/tpe_peer.py runs it beside Optuna 3.1's
// TPESampler): TPE and random search on Branin (30 trials) and Hartmann-6 (50 trials) through the
// study engine (in-memory storage), seeds 0..N-1; one CSV row per finished study, written at once:
//   side,sampler,function,trials,seed,regret,sampler_s_per_trial
// regret = best value - known minimum; sampler_s_per_trial = wall seconds spent in suggest() per
// trial (one thread).
//
//   build/release/bench/repro_tpe_peer --seeds 20 --out /tmp/tpe_peer_metadial.csv
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "metadial/objective/registry.h"
#include "metadial/optim/sampler.h"
#include "metadial/storage/in_memory.h"
#include "metadial/study/study.h"
#include "repro_common.h"

using namespace metadial;

int main(int argc, char** argv) {
  CLI::App app{"TPE and random search on Branin and Hartmann-6 (our side of bench/optim/tpe_peer.py)"};
  int seeds = 20;
  std::string out_path = "tpe_peer_metadial.csv";
  std::vector<std::string> sampler_names = {"tpe", "random"};
  app.add_option("--seeds", seeds, "seeds 0..N-1 per (function, sampler)")->capture_default_str();
  app.add_option("--samplers", sampler_names, "samplers")->capture_default_str();
  app.add_option("--out", out_path, "CSV file (rows appended as studies finish)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  objective::ObjectiveRegistry objectives;
  objective::register_builtin_objectives(objectives);
  optim::SamplerRegistry samplers;
  optim::register_builtin_samplers(samplers);
  std::ofstream out(out_path);
  out << "side,sampler,function,trials,seed,regret,sampler_s_per_trial\n" << std::flush;
  for (const auto& [function, trials] : std::vector<std::pair<std::string, int>>{{"branin", 30}, {"hartmann6", 50}}) {
    for (const auto& name : sampler_names) {
      for (int seed = 0; seed < seeds; ++seed) {
        auto f = objectives.create(function);
        const std::unique_ptr<optim::Sampler> inner = samplers.create(name);
        repro::TimedSampler sampler(*inner);
        storage::InMemoryStorage storage;
        auto st = study::Study::create_or_load(storage, "peer", *f->default_space(), study::Direction::kMinimize);
        study::OptimizeOptions o;
        o.n_trials = trials;
        o.seed = static_cast<uint64_t>(seed);
        o.max_consecutive_failures = 1;
        const auto r = study::optimize(st, *f, sampler, o);
        if (r.n_failed > 0) throw std::runtime_error("a trial failed: " + r.last_failure);
        double best = INFINITY;
        for (const auto& t : st.trials()) best = std::min(best, *t.value);
        out << fmt::format("metadial,{},{},{},{},{:.17g},{:.6g}\n", name, function, trials, seed,
                           std::max(0.0, best - *f->known_optimum()), sampler.total_seconds() / trials)
            << std::flush;
      }
    }
  }
  return 0;
}
