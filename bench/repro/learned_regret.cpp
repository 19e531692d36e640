// Issue 4, reproduction 2: minimum observed value vs step (simple regret = best target-fidelity
// value so far - the function's minimum), mean and 95 % interval, on held-out GP-prior functions
// (d = 1, 2, 3, 6) and on Branin, Currin, Gramacy-Lee, Hartmann-3, Hartmann-6: the LSTM trained
// with each loss (every models/lstm-d<d>-<loss>.pt present, and models/lstm-d<d>.pt), LSTM-grad
// (models/lstm-grad-d<d>.pt, trained by backpropagation through the unrolled episode), LSTM-det
// (models/lstm-det-d<d>.pt, the same with deterministic proposals as Chen et al.), LSTM-MF
// (GP-prior functions, 2 fidelities: only its target-fidelity results count), GP-BO, random.
//
//   build/release/bench/repro_learned_regret --functions 100 --seeds 20 --steps 20
//
// GP-prior minima are estimated (best of 2048 points refined by projected gradient descent);
// before any target-fidelity result the incumbent is 1 (one sd above the normalized mean), as in
// training. Writes bench/results/learned_regret.{md,gp,svg} and learned_regret_<problem>.csv.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "learned_common.h"
#include "metadial/core/progress.h"
#include "metadial/meta/gp_prior.h"
#include "metadial/nn/threads.h"
#include "metadial/objective/test_functions.h"
#include "metadial/optim/learned/sampler.h"
#include "metadial/meta/optimizer_trainer.h"

namespace {

using namespace repro;

struct Contender {
  std::string label, sampler;
  nlohmann::json options;
};

std::vector<Contender> contenders(const std::string& models, int d, bool with_mf) {
  std::vector<Contender> c = {{"random", "random", nlohmann::json::object()}, {"GP-BO", "gp", nlohmann::json::object()}};
  const std::string main = fmt::format("{}/lstm-d{}.pt", models, d);
  if (std::filesystem::exists(main)) {
    c.push_back({"LSTM", "lstm", {{"model", main}}});
    c.push_back({"LSTM-greedy", "lstm", {{"model", main}, {"greedy", true}}});
  }
  for (const char* loss : {"min", "sum", "oi", "ei"}) {
    const std::string p = fmt::format("{}/lstm-d{}-{}.pt", models, d, loss);
    if (std::filesystem::exists(p)) c.push_back({fmt::format("LSTM-{}", loss), "lstm", {{"model", p}}});
  }
  const std::string grad = fmt::format("{}/lstm-grad-d{}.pt", models, d);  // --method gradient (Chen et al.)
  if (std::filesystem::exists(grad)) c.push_back({"LSTM-grad", "lstm", {{"model", grad}}});
  // --method gradient --deterministic: Chen et al.'s deterministic proposals (sd pinned at e^-5).
  const std::string det = fmt::format("{}/lstm-det-d{}.pt", models, d);
  if (std::filesystem::exists(det)) c.push_back({"LSTM-det", "lstm", {{"model", det}}});
  const std::string mf = fmt::format("{}/lstm-mf-d{}.pt", models, d);
  if (with_mf && std::filesystem::exists(mf)) c.push_back({"LSTM-MF", "lstm-mf", {{"model", mf}}});
  return c;
}

struct Problem {
  std::string name;
  int d;
  bool gp_prior;
  std::vector<Contender> who;
  // runs[contender][instance] = regret per step
  std::vector<std::vector<std::vector<double>>> runs;
};

}  // namespace

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process (--threads: parallel runs, one torch thread each)
  CLI::App app{"regret vs step: LSTM (each loss), LSTM-MF, GP-BO, random"};
  std::string models = "models", out_dir = "bench/results";
  int functions = 100, seeds = 20, steps = 20, threads = 2;
  std::vector<int> dims = {1, 2, 3, 6};
  std::vector<std::string> named = {"branin", "currin", "gramacy_lee", "hartmann3", "hartmann6"};
  app.add_option("--models", models, "model folder")->capture_default_str();
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  app.add_option("--functions", functions, "held-out GP-prior functions per dimension")->capture_default_str();
  app.add_option("--seeds", seeds, "seeds per named benchmark")->capture_default_str();
  app.add_option("--steps", steps, "steps (the models' trained horizon)")->capture_default_str();
  app.add_option("--threads", threads, "parallel runs")->capture_default_str();
  app.add_option("--dims", dims, "GP-prior dimensions")->capture_default_str();
  app.add_option("--named", named, "named benchmarks")->capture_default_str();
  std::vector<std::string> only;
  app.add_option("--only", only, "run only these optimizers (labels, e.g. LSTM LSTM-grad); default: all");
  CLI11_PARSE(app, argc, argv);
  auto filtered = [&](std::vector<Contender> c) {
    if (only.empty()) return c;
    std::erase_if(c, [&](const Contender& x) { return std::find(only.begin(), only.end(), x.label) == only.end(); });
    return c;
  };
  std::filesystem::create_directories(out_dir);

  std::vector<Problem> problems;
  std::map<int, std::vector<meta::MultiFidelityFunction>> fams;
  for (int d : dims) {
    meta::TrainerOptions to;
    to.model.dim = d;
    to.model.fidelities = 2;
    to.finalize();
    fams[d] = meta::held_out_functions(to, functions, 20261125);
    problems.push_back({fmt::format("gp_prior_d{}", d), d, true, filtered(contenders(models, d, true)), {}});
  }
  for (const auto& n : named) {
    const auto f = objective::make_test_function(n);
    const int d = static_cast<int>(f->dim());
    problems.push_back({n, d, false, filtered(contenders(models, d, false)), {}});
  }
  struct Job {
    size_t problem, contender;
    int instance;
  };
  std::vector<Job> jobs;
  for (size_t p = 0; p < problems.size(); ++p) {
    auto& pr = problems[p];
    const int n = pr.gp_prior ? functions : seeds;
    pr.runs.assign(pr.who.size(), std::vector<std::vector<double>>(static_cast<size_t>(n)));
    for (size_t c = 0; c < pr.who.size(); ++c) {
      for (int i = 0; i < n; ++i) jobs.push_back({p, c, i});
    }
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  ProgressDisplay progress("runs", static_cast<int64_t>(jobs.size()));
  int64_t done = 0;
  auto work = [&] {
    optim::SamplerRegistry reg;
    optim::register_builtin_samplers(reg);
    optim::learned::register_learned_samplers(reg);
    for (size_t j; (j = next++) < jobs.size();) {
      const Job& job = jobs[j];
      Problem& pr = problems[job.problem];
      const Contender& c = pr.who[job.contender];
      auto sampler = reg.create(c.sampler, c.options);
      const auto space = cube(pr.d);
      std::vector<double> regret;
      if (pr.gp_prior) {
        const auto& fam = fams[pr.d][static_cast<size_t>(job.instance)];
        const UnitFunction f = [&](const std::vector<double>& x, int m) { return fam.levels[static_cast<size_t>(m)].value(x); };
        const Run r = run_sampler(*sampler, space, f, {{"low", fam.costs[0]}, {"high", fam.costs[1]}}, steps,
                                  static_cast<uint64_t>(job.instance));
        for (double b : r.best) regret.push_back(std::max(0.0, (std::isnan(b) ? 1.0 : b) - fam.target().minimum));
      } else {
        const auto tf = objective::make_test_function(pr.name);
        const UnitFunction f = [&](const std::vector<double>& x, int) { return tf->value(x); };
        const Run r = run_sampler(*sampler, space, f, {{"full", 1.0}}, steps, static_cast<uint64_t>(job.instance));
        for (double b : r.best) regret.push_back(std::max(0.0, b - *tf->known_optimum()));
      }
      std::lock_guard lock(mu);
      pr.runs[job.contender][static_cast<size_t>(job.instance)] = std::move(regret);
      progress.update(++done, pr.name + " " + c.label);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  progress.finish();

  std::string md = fmt::format(
      "# Regret vs step of learned and classical optimizers (issue 4, reproduction 2)\n\n"
      "Simple regret (best target-fidelity value found - minimum) after {} steps and after 10: mean and 95 % "
      "interval (1.96 SEM) over {} held-out GP-prior functions per dimension (2 fidelities, costs 1 and 10; "
      "only LSTM-MF uses the low one) and {} seeds per named benchmark. LSTM = the shipped model of that "
      "dimension (sampling from its policy), LSTM-greedy = the same model proposing its policy's mean; "
      "LSTM-<loss> = models trained with that loss; LSTM-grad = trained by backpropagation through the "
      "unrolled episode (Chen et al.) from reparameterized samples, LSTM-det = the same with deterministic "
      "proposals x_t = sigmoid(mu_t) (Chen et al.'s setting). Bold: lowest mean.\n"
      "Reproduce: `build/release/bench/repro_learned_regret --functions {} --seeds {} --steps {}`.\n\n",
      steps, functions, seeds, functions, seeds, steps);
  for (auto& pr : problems) {
    md += fmt::format("## {} (d = {})\n\n| optimizer | regret @10 | regret @{} |\n|---|---|---|\n", pr.name, pr.d, steps);
    double best_mean = INFINITY;
    std::vector<MeanCi> finals, tens;
    for (size_t c = 0; c < pr.who.size(); ++c) {
      std::vector<double> f, t10;
      for (const auto& r : pr.runs[c]) {
        f.push_back(r.back());
        t10.push_back(r[std::min<size_t>(9, r.size() - 1)]);
      }
      finals.push_back(mean_ci(f));
      tens.push_back(mean_ci(t10));
      best_mean = std::min(best_mean, finals.back().mean);
    }
    for (size_t c = 0; c < pr.who.size(); ++c) {
      const bool b = finals[c].mean == best_mean;
      md += fmt::format("| {} | {:.4f} ± {:.4f} | {}{:.4f} ± {:.4f}{} |\n", pr.who[c].label, tens[c].mean, tens[c].half,
                        b ? "**" : "", finals[c].mean, finals[c].half, b ? "**" : "");
    }
    md += "\n";
    std::ofstream csv(out_dir + "/learned_regret_" + pr.name + ".csv");
    csv << "step";
    for (const auto& c : pr.who) csv << "," << c.label << "," << c.label << "_lo," << c.label << "_hi";
    csv << "\n";
    for (int t = 0; t < steps; ++t) {
      csv << t + 1;
      for (size_t c = 0; c < pr.who.size(); ++c) {
        std::vector<double> v;
        for (const auto& r : pr.runs[c]) v.push_back(r[static_cast<size_t>(t)]);
        const MeanCi m = mean_ci(v);
        csv << fmt::format(",{:.6g},{:.6g},{:.6g}", m.mean, std::max(m.mean - m.half, 1e-6), m.mean + m.half);
      }
      csv << "\n";
    }
  }
  std::ofstream(out_dir + "/learned_regret.md") << md;
  std::cout << md;
  std::vector<repro::PlotPanel> panels;
  for (const auto& pr : problems) {
    repro::PlotPanel p{pr.name, pr.d, {}};
    for (const auto& c : pr.who) p.labels.push_back(c.label);
    panels.push_back(std::move(p));
  }
  repro::write_band_plot(out_dir, "learned_regret", panels, 3, 1500, "step");
  return 0;
}
