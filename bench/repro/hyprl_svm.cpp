// Hyp-RL (Jomaa et al. 2019) against random search, GP-BO and GP-BO warm-started from the
// configurations best on average, on the 50 SVM data sets of ../shared/data/hpo-metadata/svm,
// with K-fold cross-validation over data sets: the policy of fold k is meta-trained on the other
// folds' data sets and tested on fold k's, which it never saw. Every method runs through the real
// study engine (in-memory storage) on the tabular objective; trials 1..T.
//
//   build/release/bench/repro_hyprl_svm --out bench/results            (5 folds, 3 seeds, 50 trials)
//
// Methods (columns):
//   hyprl        the meta-trained policy, `hyprl` sampler, first trial chosen by the policy
//   hyprl-rf     the same policy with the paper's random first trial (first = "random")
//   random       uniform random search over the grid rows, without repetition
//   gp           the registry's "gp" sampler (Matern-5/2 GP, log-EI, 10 Sobol trials first) on
//                the grid as a space (kernel, C, gamma, degree as ordered categoricals)
//   gp-warm      GP-BO started from the 5 rows best on average over the fold's training data
//                sets (mean normalized accuracy), then gp with n_initial = 5
//   gp-grid      GP-BO over the grid rows themselves (GP on the rows' file columns, log-EI over the
//                untried rows; 5 random rows first): the usual tabular baseline, which never spends a
//                trial on a row twice (gp can, through the parameters a kernel ignores)
//   gp-grid-warm gp-grid started from the same 5 best-on-average rows as gp-warm
//   avg-order    no model at all: the training data sets' best-on-average order, row by row
// The LSTM optimizer of the list is not in metadial yet: no column for it.
//
// Metrics, per (test data set, seed, trial t): the rank of each method's best accuracy so far
// among the methods (1 = best, ties share the mean rank), and the normalized regret
// (best accuracy of the data set - best so far) / (best - worst accuracy of the data set).
// Averaged over data sets and seeds. Writes hyprl_svm.md, hyprl_svm.csv and hyprl_svm.svg.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "metadial/core/progress.h"
#include "metadial/core/random.h"
#include "metadial/nn/threads.h"
#include "metadial/objective/tabular.h"
#include "metadial/optim/acquisition.h"
#include "metadial/optim/gp.h"
#include "metadial/optim/gp_sampler.h"
#include "metadial/optim/hyprl/sampler.h"
#include "metadial/optim/hyprl/trainer.h"
#include "metadial/optim/hyprl/warm_start.h"
#include "metadial/optim/sampler.h"
#include "metadial/storage/in_memory.h"
#include "metadial/study/study.h"

namespace {

using namespace metadial;
using Clock = std::chrono::steady_clock;
using objective::TabularBenchmark;
using objective::TabularGrid;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Random search over the grid rows without repetition (what "random" means on a grid).
class GridRandomSampler final : public optim::Sampler {
 public:
  explicit GridRandomSampler(std::shared_ptr<const TabularGrid> grid) : grid_(std::move(grid)) {}
  optim::Suggestion suggest(const optim::SamplerContext& ctx, std::span<const study::FrozenTrial> history) override {
    std::set<size_t> tried;
    for (const auto& t : history) tried.insert(grid_->row_of(t.params));
    std::vector<size_t> left;
    for (size_t r = 0; r < grid_->size(); ++r) {
      if (!tried.count(r)) left.push_back(r);
    }
    Rng rng(ctx.seed);
    if (left.empty()) left.push_back(0);
    const auto i = std::min(left.size() - 1, static_cast<size_t>(uniform01(rng) * static_cast<double>(left.size())));
    return {grid_->config(left[i]), -1};
  }
  std::string name() const override { return "random"; }

 private:
  std::shared_ptr<const TabularGrid> grid_;
};

// A fixed order of rows, skipping rows already tried.
class OrderSampler final : public optim::Sampler {
 public:
  OrderSampler(std::shared_ptr<const TabularGrid> grid, std::vector<size_t> order)
      : grid_(std::move(grid)), order_(std::move(order)) {}
  optim::Suggestion suggest(const optim::SamplerContext&, std::span<const study::FrozenTrial> history) override {
    std::set<size_t> tried;
    for (const auto& t : history) tried.insert(grid_->row_of(t.params));
    for (size_t r : order_) {
      if (!tried.count(r)) return {grid_->config(r), -1};
    }
    return {grid_->config(0), -1};
  }
  std::string name() const override { return "avg-order"; }

 private:
  std::shared_ptr<const TabularGrid> grid_;
  std::vector<size_t> order_;
};

// GP-BO on the grid itself, the usual baseline on tabular benchmarks: a GP (Matern-5/2 ARD,
// gp.h) over the rows' file columns (one-hot kernel, C, gamma, log10 degree), each scaled to
// [0, 1] over the grid, and log-EI maximized over the untried rows, so no trial is spent on a row
// already evaluated. The first trials are `initial` (warm start) or, without them, n_random
// uniformly random untried rows.
class GridGpSampler final : public optim::Sampler {
 public:
  GridGpSampler(std::shared_ptr<const TabularGrid> grid, std::vector<size_t> initial, int n_random)
      : grid_(std::move(grid)), initial_(std::move(initial)), n_random_(n_random) {
    const size_t d = static_cast<size_t>(grid_->layout().n_hyperparameter_columns());
    std::vector<double> lo(d, INFINITY), hi(d, -INFINITY);
    for (const auto& r : grid_->rows()) {
      for (size_t j = 0; j < d; ++j) {
        lo[j] = std::min(lo[j], r[j]);
        hi[j] = std::max(hi[j], r[j]);
      }
    }
    for (const auto& r : grid_->rows()) {
      for (size_t j = 0; j < d; ++j) x_.push_back(hi[j] > lo[j] ? (r[j] - lo[j]) / (hi[j] - lo[j]) : 0.0);
    }
    dim_ = d;
  }
  optim::Suggestion suggest(const optim::SamplerContext& ctx, std::span<const study::FrozenTrial> history) override {
    std::set<size_t> tried;
    std::vector<double> xs, ys;
    for (const auto& t : history) {
      const size_t r = grid_->row_of(t.params);
      tried.insert(r);
      if (t.is_complete()) {
        xs.insert(xs.end(), x_.begin() + static_cast<std::ptrdiff_t>(r * dim_),
                  x_.begin() + static_cast<std::ptrdiff_t>((r + 1) * dim_));
        ys.push_back(ctx.loss(t));
      }
    }
    for (size_t r : initial_) {
      if (ctx.trial_number < static_cast<int64_t>(initial_.size()) && !tried.count(r)) return {grid_->config(r), -1};
    }
    std::vector<size_t> left;
    for (size_t r = 0; r < grid_->size(); ++r) {
      if (!tried.count(r)) left.push_back(r);
    }
    if (left.empty()) return {grid_->config(0), -1};
    Rng rng(ctx.seed);
    if (ctx.trial_number < static_cast<int64_t>(initial_.size()) + n_random_ || ys.size() < 2) {
      const auto i = std::min(left.size() - 1, static_cast<size_t>(uniform01(rng) * static_cast<double>(left.size())));
      return {grid_->config(left[i]), -1};
    }
    optim::GpOptions go;
    go.n_restarts = 3;
    optim::GaussianProcess gp(dim_, go);
    gp.fit(xs, ys, rng);
    const double best = *std::min_element(ys.begin(), ys.end());
    size_t pick = left.front();
    double best_a = -INFINITY;
    for (size_t r : left) {
      const double a = optim::acquisition_at(gp, optim::AcquisitionKind::kLogEi, best,
                                             std::span<const double>(x_).subspan(r * dim_, dim_));
      if (a > best_a) {
        best_a = a;
        pick = r;
      }
    }
    return {grid_->config(pick), -1};
  }
  std::string name() const override { return "gp-grid"; }

 private:
  std::shared_ptr<const TabularGrid> grid_;
  std::vector<size_t> initial_;
  int n_random_;
  size_t dim_ = 0;
  std::vector<double> x_;  // rows x dim, scaled
};

// Measures the time spent in suggest().
class Timed final : public optim::Sampler {
 public:
  explicit Timed(std::unique_ptr<optim::Sampler> inner) : inner_(std::move(inner)) {}
  optim::Suggestion suggest(const optim::SamplerContext& ctx, std::span<const study::FrozenTrial> history) override {
    const auto t0 = Clock::now();
    auto s = inner_->suggest(ctx, history);
    seconds += seconds_since(t0);
    ++calls;
    return s;
  }
  std::string name() const override { return inner_->name(); }
  double seconds = 0.0;
  int64_t calls = 0;

 private:
  std::unique_ptr<optim::Sampler> inner_;
};

struct RunResult {
  std::vector<double> values;  // accuracy of trials 1..T, in trial order
  std::vector<size_t> rows;
  double suggest_seconds = 0.0;
  int64_t suggest_calls = 0;
};

RunResult run_study(objective::TabularObjective& f, std::unique_ptr<optim::Sampler> sampler, int trials,
                    uint64_t seed) {
  Timed timed(std::move(sampler));
  storage::InMemoryStorage storage;
  auto st = study::Study::create_or_load(storage, "bench", f.grid().space(), study::Direction::kMaximize);
  study::OptimizeOptions o;
  o.n_trials = trials;
  o.seed = seed;
  o.max_consecutive_failures = 1;
  const auto r = study::optimize(st, f, timed, o);
  if (r.n_failed > 0) throw std::runtime_error("a trial failed: " + r.last_failure);
  RunResult out;
  for (const auto& t : st.trials()) {
    out.values.push_back(*t.value);
    out.rows.push_back(f.grid().row_of(t.params));
  }
  out.suggest_seconds = timed.seconds;
  out.suggest_calls = timed.calls;
  return out;
}

struct FoldTiming {
  double train_wall_s = 0.0;
  double train_cpu_s = 0.0;
  int64_t updates = 0;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process (--threads: parallel runs, one torch thread each)
  CLI::App app{"Hyp-RL vs random, GP-BO and warm-started GP-BO on the SVM meta-data (cross-validation over data sets)"};
  std::string metadata = "../shared/data/hpo-metadata/svm";
  std::string out_dir = "bench/results";
  std::string prefix = "hyprl_svm";
  std::string models_dir;
  int folds = 5, seeds = 3, trials = 50, threads = 2, max_folds = 0, n_warm = 5;
  uint64_t seed = 0;
  std::vector<std::string> methods = {"hyprl", "hyprl-rf", "random", "gp", "gp-warm", "gp-grid", "gp-grid-warm",
                                      "avg-order"};
  optim::hyprl::TrainerOptions topt;
  std::string reward = "response";
  app.add_option("--metadata", metadata, "benchmark folder")->capture_default_str();
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  app.add_option("--prefix", prefix, "output file prefix")->capture_default_str();
  app.add_option("--models", models_dir, "keep the fold policies here and reuse them when the options match");
  app.add_option("--folds", folds, "cross-validation folds over data sets")->capture_default_str();
  app.add_option("--max-folds", max_folds, "run only the first N folds (0 = all; for quick checks)");
  app.add_option("--seeds", seeds, "repetitions of each (method, data set)")->capture_default_str();
  app.add_option("--trials", trials, "trials per study")->capture_default_str();
  app.add_option("--threads", threads, "folds run in parallel")->capture_default_str();
  app.add_option("--seed", seed, "seed of the folds and of meta-training")->capture_default_str();
  app.add_option("--methods", methods, "methods to compare")->capture_default_str();
  app.add_option("--warm", n_warm, "warm-start configurations of gp-warm")->capture_default_str();
  app.add_option("--episodes", topt.episodes, "Hyp-RL meta-training episodes per fold")->capture_default_str();
  app.add_option("--horizon", topt.horizon, "Hyp-RL episode horizon")->capture_default_str();
  app.add_option("--gamma", topt.gamma, "Hyp-RL discount")->capture_default_str();
  app.add_option("--lr", topt.learning_rate, "Hyp-RL learning rate")->capture_default_str();
  app.add_option("--reward", reward, "Hyp-RL reward: response | normalized | improvement")->capture_default_str();
  app.add_option("--updates-per-episode", topt.updates_per_episode, "DQN updates per episode")->capture_default_str();
  app.add_option("--hidden", topt.policy.lstm_hidden, "LSTM size")->capture_default_str();
  bool no_meta = false;
  app.add_flag("--no-meta-features", no_meta, "Hyp-RL policy without meta-features");
  app.add_option("--batch", topt.batch_episodes, "episodes replayed per DQN update")->capture_default_str();
  app.add_option("--target-every", topt.target_update_every, "updates between target copies")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  topt.reward = optim::hyprl::reward_from_string(reward);
  topt.policy.use_meta_features = !no_meta;
  topt.eval_every = 0;

  const TabularBenchmark bench = objective::load_tabular_benchmark(metadata);
  const size_t n_sets = bench.datasets.size();
  const auto fold_sets = optim::hyprl::make_folds(n_sets, folds, seed);
  const int run_folds = max_folds > 0 ? std::min(max_folds, folds) : folds;
  std::filesystem::create_directories(out_dir);

  // results[method][dataset][seed] = run
  std::map<std::string, std::map<size_t, std::vector<RunResult>>> results;
  std::vector<FoldTiming> timing(static_cast<size_t>(run_folds));
  std::vector<size_t> test_sets;
  for (int k = 0; k < run_folds; ++k) {
    for (size_t i : fold_sets[static_cast<size_t>(k)]) test_sets.push_back(i);
  }
  std::mutex mu;
  ProgressDisplay progress("hyprl_svm", static_cast<int64_t>(test_sets.size() * methods.size()));
  int64_t done = 0;
  std::atomic<int> next_fold{0};
  std::string first_error;

  auto work = [&] {
    for (int k; (k = next_fold++) < run_folds;) {
      try {
        const auto& test = fold_sets[static_cast<size_t>(k)];
        std::vector<size_t> train;
        const std::set<size_t> held(test.begin(), test.end());
        for (size_t i = 0; i < n_sets; ++i) {
          if (!held.count(i)) train.push_back(i);
        }
        std::shared_ptr<const optim::hyprl::Policy> policy;
        const bool need_policy = std::count(methods.begin(), methods.end(), "hyprl") +
                                     std::count(methods.begin(), methods.end(), "hyprl-rf") > 0;
        if (need_policy) {
          optim::hyprl::TrainerOptions o = topt;
          o.seed = derive_seed(seed, {static_cast<uint64_t>(k)});
          // One file per (fold, options): fold<k>-<hash of the options>.pt.
          const std::string cached =
              models_dir.empty() ? ""
                                 : fmt::format("{}/fold{}-{:016x}.pt", models_dir, k,
                                               std::hash<std::string>{}(o.to_json().dump() + bench.grid->fingerprint()));
          if (!cached.empty() && std::filesystem::exists(cached)) {
            auto p = optim::hyprl::Policy::load(cached);
            if (p.card().value("options", nlohmann::json()) == o.to_json()) {
              timing[static_cast<size_t>(k)] = {p.card().value("train_seconds", 0.0),
                                                p.card().value("train_cpu_seconds", 0.0),
                                                p.card().value("updates", int64_t{0})};
              policy = std::make_shared<const optim::hyprl::Policy>(std::move(p));
            }
          }
          if (!policy) {
            const auto t0 = Clock::now();
            const double c0 = thread_cpu_seconds();
            auto p = optim::hyprl::train(bench, train, {}, o);
            timing[static_cast<size_t>(k)] = {seconds_since(t0), thread_cpu_seconds() - c0,
                                              p.card().value("updates", int64_t{0})};
            if (!cached.empty()) {
              nlohmann::json card = p.card();
              card["train_cpu_seconds"] = timing[static_cast<size_t>(k)].train_cpu_s;
              p.set_card(card);
              std::filesystem::create_directories(models_dir);
              p.save(cached);
            }
            policy = std::make_shared<const optim::hyprl::Policy>(std::move(p));
          }
        }
        const auto warm_rows = optim::hyprl::best_on_average(bench, train, static_cast<size_t>(n_warm));
        const auto order = optim::hyprl::best_on_average(bench, train, bench.grid->size());
        for (size_t d : test) {
          objective::TabularObjective f(bench.grid, bench.datasets[d]);
          for (const auto& m : methods) {
            std::vector<RunResult> runs;
            for (int s = 0; s < seeds; ++s) {
              const uint64_t study_seed = derive_seed(seed, {d, static_cast<uint64_t>(s)});
              std::unique_ptr<optim::Sampler> sampler;
              if (m == "hyprl" || m == "hyprl-rf") {
                if (m == "hyprl" && s > 0) {  // deterministic: the same run for every seed
                  runs.push_back(runs.front());
                  continue;
                }
                sampler = std::make_unique<optim::hyprl::HyprlSampler>(
                    policy, policy->n_meta_features() ? bench.datasets[d].meta_features : std::vector<double>{},
                    m == "hyprl-rf");
              } else if (m == "random") {
                sampler = std::make_unique<GridRandomSampler>(bench.grid);
              } else if (m == "gp") {
                sampler = std::make_unique<optim::GpSampler>();
              } else if (m == "gp-warm") {
                std::vector<space::Config> init;
                for (size_t r : warm_rows) init.push_back(bench.grid->config(r));
                optim::GpSamplerOptions go;
                go.n_initial = n_warm;
                sampler = std::make_unique<optim::hyprl::WarmStartSampler>(std::move(init),
                                                                           std::make_unique<optim::GpSampler>(go));
              } else if (m == "gp-grid") {
                sampler = std::make_unique<GridGpSampler>(bench.grid, std::vector<size_t>{}, n_warm);
              } else if (m == "gp-grid-warm") {
                sampler = std::make_unique<GridGpSampler>(bench.grid, warm_rows, 0);
              } else if (m == "avg-order") {
                sampler = std::make_unique<OrderSampler>(bench.grid, order);
              } else {
                throw std::runtime_error("unknown method " + m);
              }
              runs.push_back(run_study(f, std::move(sampler), trials, study_seed));
            }
            std::lock_guard lock(mu);
            results[m][d] = std::move(runs);
            progress.update(++done, fmt::format("fold {} {} {}", k, bench.datasets[d].name, m));
          }
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(mu);
        if (first_error.empty()) first_error = e.what();
      }
    }
  };
  const auto t_all = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  progress.finish();
  if (!first_error.empty()) {
    std::cerr << "repro_hyprl_svm: " << first_error << "\n";
    return 1;
  }
  const double total_s = seconds_since(t_all);

  // Ranks and regrets per trial.
  const size_t nm = methods.size();
  const auto T = static_cast<size_t>(trials);
  std::vector<std::vector<double>> rank(nm, std::vector<double>(T, 0.0)), regret(nm, std::vector<double>(T, 0.0));
  double cells = 0.0;
  for (size_t d : test_sets) {
    const auto& ds = bench.datasets[d];
    const double best = ds.max_response(), worst = ds.min_response();
    for (int s = 0; s < seeds; ++s) {
      std::vector<double> bsf(nm, -INFINITY);
      for (size_t t = 0; t < T; ++t) {
        for (size_t m = 0; m < nm; ++m) {
          bsf[m] = std::max(bsf[m], results[methods[m]][d][static_cast<size_t>(s)].values[t]);
          regret[m][t] += best > worst ? (best - bsf[m]) / (best - worst) : 0.0;
        }
        for (size_t m = 0; m < nm; ++m) {
          double better = 0, equal = 0;
          for (size_t o = 0; o < nm; ++o) {
            better += bsf[o] > bsf[m];
            equal += bsf[o] == bsf[m];
          }
          rank[m][t] += 1.0 + better + (equal - 1.0) / 2.0;
        }
      }
      cells += 1.0;
    }
  }
  for (size_t m = 0; m < nm; ++m) {
    for (size_t t = 0; t < T; ++t) {
      rank[m][t] /= cells;
      regret[m][t] /= cells;
    }
  }
  auto mean_rank = [&](size_t m, size_t upto) {
    double s = 0;
    for (size_t t = 0; t < std::min(upto, T); ++t) s += rank[m][t];
    return s / static_cast<double>(std::min(upto, T));
  };
  auto repeats = [&](const std::string& m) {  // trials spent on a row already evaluated, per study
    double s = 0;
    int64_t c = 0;
    for (const auto& [d, runs] : results[m]) {
      for (const auto& r : runs) {
        s += static_cast<double>(r.rows.size() - std::set<size_t>(r.rows.begin(), r.rows.end()).size());
        ++c;
      }
    }
    return c ? s / static_cast<double>(c) : 0.0;
  };
  auto per_suggest_ms = [&](const std::string& m) {
    double s = 0;
    int64_t c = 0;
    for (const auto& [d, runs] : results[m]) {
      for (const auto& r : runs) {
        s += r.suggest_seconds;
        c += r.suggest_calls;
      }
    }
    return c ? 1000.0 * s / static_cast<double>(c) : 0.0;
  };

  const std::string csv_path = out_dir + "/" + prefix + ".csv";
  {
    std::ofstream csv(csv_path);
    csv << "trial";
    for (const auto& m : methods) csv << ",rank_" << m;
    for (const auto& m : methods) csv << ",regret_" << m;
    csv << "\n";
    for (size_t t = 0; t < T; ++t) {
      csv << t + 1;
      for (size_t m = 0; m < nm; ++m) csv << fmt::format(",{:.6g}", rank[m][t]);
      for (size_t m = 0; m < nm; ++m) csv << fmt::format(",{:.6g}", regret[m][t]);
      csv << "\n";
    }
  }

  std::string md = fmt::format(
      "# Hyp-RL on the SVM meta-data: average rank and normalized regret\n\n"
      "{} data sets of `{}` ({}), {}-fold cross-validation over data sets ({} fold(s) run): each fold's "
      "policy is meta-trained on the other folds' data sets only and tested on its own. {} trials per study, "
      "{} seed(s) per (method, data set); `hyprl` is deterministic (its first trial is the policy's choice too), "
      "so its one run stands for every seed. Rank: 1 = best accuracy so far among the {} methods (ties share "
      "the mean rank). Normalized regret: (best - best so far) / (best - worst accuracy of the data set).\n\n"
      "Hyp-RL meta-training: {} episodes of horizon {}, reward `{}`, gamma {}, Adam lr {}, LSTM {} / head {}, "
      "replay {} episodes, batch {} episodes, {} updates per episode, target copy every {} updates, "
      "epsilon {} -> {} over {:.0f} % of the episodes, double Q, {}.\n\n"
      "Reproduce: `build/release/bench/repro_hyprl_svm --folds {} --seeds {} --trials {} --episodes {} --reward {} "
      "--gamma {}` (seed {}).\n\n",
      test_sets.size(), metadata, bench.grid->describe(), folds, run_folds, trials, seeds, nm, topt.episodes,
      topt.horizon, reward, topt.gamma, topt.learning_rate, topt.policy.lstm_hidden, topt.policy.head_hidden,
      topt.replay_capacity, topt.batch_episodes, topt.updates_per_episode, topt.target_update_every,
      topt.epsilon_start, topt.epsilon_end, 100 * topt.epsilon_decay,
      no_meta ? "no meta-features (`--no-meta-features`)" : "with the 22 meta-features", folds, seeds, trials, topt.episodes, reward,
      topt.gamma, seed);
  md += "| method | avg rank, trials 1-20 | avg rank, trials 1-50 | regret @1 | @5 | @10 | @20 | @50 | repeated rows / study | ms / suggestion |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|\n";
  auto at = [&](size_t m, size_t t) { return regret[m][std::min(t, T) - 1]; };
  for (size_t m = 0; m < nm; ++m) {
    md += fmt::format("| {} | {:.3f} | {:.3f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.1f} | {:.2f} |\n",
                      methods[m], mean_rank(m, 20), mean_rank(m, 50), at(m, 1), at(m, 5), at(m, 10), at(m, 20),
                      at(m, 50), repeats(methods[m]), per_suggest_ms(methods[m]));
  }
  md += "\nThe LSTM optimizer of the issue's comparison does not exist in metadial yet: no column.\n\n";
  if (timing.front().train_wall_s > 0) {
    md += "## Meta-training time\n\nPer fold, one LibTorch thread, folds trained two at a time on the shared 2-core "
          "machine (wall time includes waiting for the CPU; CPU time is the training thread's own):\n\n"
          "| fold | wall s | CPU s | updates |\n|---|---|---|---|\n";
    for (int k = 0; k < run_folds; ++k) {
      const auto& ft = timing[static_cast<size_t>(k)];
      md += fmt::format("| {} | {:.0f} | {:.0f} | {} |\n", k, ft.train_wall_s, ft.train_cpu_s, ft.updates);
    }
  }
  md += fmt::format("\nWhole run: {:.0f} s wall.\n", total_s);
  std::ofstream(out_dir + "/" + prefix + ".md") << md;
  std::cout << md;

  const std::string gp = out_dir + "/" + prefix + ".gp";
  {
    std::ofstream g(gp);
    g << "set terminal svg size 1200,450 dynamic background rgb 'white'\n"
      << "set output '" << out_dir << "/" << prefix << ".svg'\n"
      << "set datafile separator ','\nset key autotitle columnhead\nset multiplot layout 1,2\n"
      << "set xlabel 'trial'\nset ylabel 'average rank (1 = best)'\nset title 'average rank over " << test_sets.size()
      << " data sets x " << seeds << " seeds'\nplot ";
    for (size_t m = 0; m < nm; ++m) {
      g << (m ? ", " : "") << "'" << csv_path << "' using 1:" << m + 2 << " with lines lw 2 title '" << methods[m]
        << "'";
    }
    g << "\nset ylabel 'average normalized regret'\nset logscale y\nset title 'average normalized regret'\nplot ";
    for (size_t m = 0; m < nm; ++m) {
      g << (m ? ", " : "") << "'" << csv_path << "' using 1:($" << nm + m + 2 << " > 1e-4 ? $" << nm + m + 2 << " : 1e-4) with lines lw 2 title '"
        << methods[m] << "'";
    }
    g << "\nunset multiplot\n";
  }
  if (std::system(("command -v gnuplot >/dev/null 2>&1 && gnuplot '" + gp + "'").c_str()) != 0) {
    std::cerr << "gnuplot not found or failed: no plot (the CSV is there)\n";
  }
  return 0;
}
