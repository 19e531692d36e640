// The meta-RL controller of seed 004 against its baselines: test accuracy against total training
// steps spent (every network trained counted), 5 seeds, on Fashion-MNIST and on the MNIST test
// images (split three ways). Hyperparameter choices, defaults, L, K and the controller's settings
// come from the config (examples/online_fashion_mnist.toml); per dataset and seed:
//
//   fixed default        1 training with [target.defaults]                          L steps
//   cosine               1 training, learning rate cosine-decayed from [cosine] lr_max  L
//   controller (online)  1 training, the controller learning as it goes              L
//   controller (meta)    --meta-runs trainings meta-training it, then 1 frozen greedy run
//                        on the evaluation seed                                     (M + 1) L
//   random search        --search full trainings of random fixed tuples; best by validation,
//                        reported after 1, 2, 5, 10 trainings                        n L
//   GP-BO                the same with the GP sampler                                 n L
//   PBT (equal compute)  population 4, each member L / 4 steps                        L
//   PBT                  population 4 and 8, L steps each                             4 L, 8 L
//
// Writes bench/results/online_controller.{md,csv,gp,svg}.
//
// With --target dqn_dialog the same methods run on the DQN dialogue policy (online/dqn_target.h:
// one step = one training dialogue; learning rate and exploration rate are the hyperparameters;
// score = greedy success rate), config examples/online_dqn_dialog.toml, one panel per
// environment preset (--datasets env3,env1, default the config's), and the results go to
// bench/results/online_controller_dqn.{md,csv,gp,svg}.
//
//   ./build/release/bench/repro_online_controller [--config examples/online_fashion_mnist.toml]
//       [--seeds 5] [--steps L] [--interval K] [--meta-runs 4] [--search 10]
//       [--datasets fashion-mnist,mnist] [--out bench/results]
//   ./build/release/bench/repro_online_controller --target dqn_dialog [--seeds 3] ...
#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/online_commands.h"
#include "repro_common.h"
#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/threads.h"
#include "metadial/optim/gp_sampler.h"
#include "metadial/optim/random_sampler.h"

using namespace metadial;

namespace {

using metadial::repro::load_average;
using metadial::repro::split;

struct Args {
  std::string target = "image";  // or "dqn_dialog"
  std::string config;            // default: examples/online_fashion_mnist.toml or online_dqn_dialog.toml
  int seeds = 5;
  int64_t steps = 0;     // 0: the config's
  int64_t interval = 0;  // 0: the config's
  int meta_runs = 4;
  int search = 10;
  std::vector<std::string> datasets;  // default: fashion-mnist,mnist or the config's env
  std::string out = "bench/results";
};

struct Row {
  std::string dataset, method;
  int seed = 0;
  int64_t steps = 0;
  double test = 0.0, validation = 0.0, wall_s = 0.0;
};

struct Stat {
  double mean = 0.0, sd = 0.0;
  int n = 0;
};

Stat stat(const std::vector<double>& v) {
  Stat s;
  s.n = static_cast<int>(v.size());
  for (double x : v) s.mean += x / s.n;
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean) / std::max(1, s.n - 1);
  s.sd = std::sqrt(s.sd);
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  metadial::nn::set_torch_threads(1);  // once, for the process: small networks, one torch thread
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      MD_CHECK(i + 1 < argc, k, " needs a value");
      return argv[++i];
    };
    if (k == "--target") a.target = next();
    else if (k == "--config") a.config = next();
    else if (k == "--seeds") a.seeds = std::stoi(next());
    else if (k == "--steps") a.steps = std::stoll(next());
    else if (k == "--interval") a.interval = std::stoll(next());
    else if (k == "--meta-runs") a.meta_runs = std::stoi(next());
    else if (k == "--search") a.search = std::stoi(next());
    else if (k == "--datasets") a.datasets = split(next(), ',');
    else if (k == "--out") a.out = next();
    else throw InvalidArgument("unknown flag " + k);
  }
  const bool dqn = a.target == "dqn_dialog";
  MD_CHECK(dqn || a.target == "image", "--target '", a.target, "' is unknown (image, dqn_dialog)");
  if (a.config.empty()) a.config = dqn ? "examples/online_dqn_dialog.toml" : "examples/online_fashion_mnist.toml";
  const auto t_all = std::chrono::steady_clock::now();
  const cli::OnlineConfig base = cli::load_online_config(a.config);
  MD_CHECK(base.target_type == (dqn ? "dqn_dialog" : "image"), a.config, ": [target] type is '", base.target_type,
           "', --target asks for '", a.target, "'");
  if (a.datasets.empty()) {
    a.datasets = dqn ? std::vector<std::string>{base.dqn.env} : std::vector<std::string>{"fashion-mnist", "mnist"};
  }
  const std::string stem = dqn ? "online_controller_dqn" : "online_controller";
  const std::string score = dqn ? "test success rate" : "test accuracy";
  std::vector<Row> rows;
  for (const std::string& ds : a.datasets) {
    cli::OnlineConfig c = base;
    if (a.steps > 0) c.run.total_steps = a.steps;
    if (a.interval > 0) c.run.interval = a.interval;
    c.run.validate();
    std::unique_ptr<online::Target> proto_ptr;
    if (dqn) {
      c.dqn.env = ds;
      c.dqn.name = "dqn-dialog " + ds;
      proto_ptr = cli::make_online_target(c);
    } else if (ds == "mnist") {
      c.data = {.dir = "../shared/data/mnist-t10k", .train = 6000, .validation = 1000, .test = 3000, .split_seed = 0};
      if (!std::filesystem::exists(c.data.dir)) c.data.dir = "/work/shared/data/mnist-t10k";
    } else {
      MD_CHECK(ds == "fashion-mnist", "unknown dataset '", ds, "' (fashion-mnist, mnist)");
    }
    if (!dqn) {
      c.target.name = ds;
      proto_ptr = std::make_unique<online::ImageClassifierTarget>(online::ImageData::load(c.data), c.target);
    }
    const online::Target& proto = *proto_ptr;
    const int64_t L = c.run.total_steps;
    for (int s = 0; s < a.seeds; ++s) {
      const auto t_seed = std::chrono::steady_clock::now();
      online::RunOptions run = c.run;
      run.seed = derive_seed(1000, {static_cast<uint64_t>(s)});
      auto add = [&](const std::string& m, const online::RunResult& r) {
        rows.push_back({ds, m, s, r.steps, r.test, r.validation, r.wall_s});
      };
      {
        auto t = proto.clone();
        add("fixed default", online::run_fixed(*t, {}, run));
      }
      {
        auto t = proto.clone();
        add("cosine", online::run_cosine(*t, {}, c.cosine_lr_max, c.cosine_lr_min, run));
      }
      {
        auto t = proto.clone();
        online::ControllerOptions co = c.controller;
        co.seed = derive_seed(co.seed, {static_cast<uint64_t>(s)});
        online::Controller ctl(c.choices, co);
        add("controller (online)", online::run_controller(*t, ctl, run, {.reward = c.reward, .greedy_after = c.greedy_after}));
        if (a.meta_runs > 0) {
          online::RunOptions mrun = run;
          mrun.seed = derive_seed(run.seed, {0x3E7A});
          online::meta_train(ctl, proto, a.meta_runs, mrun, {.reward = c.reward});
          auto t2 = proto.clone();
          online::RunResult r = online::run_controller(*t2, ctl, run, {.reward = c.reward, .learn = false, .greedy = true});
          r.steps += L * a.meta_runs;
          add("controller (meta-trained, frozen)", r);
        }
      }
      for (const std::string& sampler : {std::string("random search"), std::string("GP-BO")}) {
        std::unique_ptr<optim::Sampler> smp;
        if (sampler == "GP-BO") smp = std::make_unique<optim::GpSampler>();
        else smp = std::make_unique<optim::RandomSampler>();
        const online::SearchResult sr = online::search_fixed(proto, c.choices, *smp, a.search, run,
                                                             derive_seed(run.seed, {0x5EA}));
        for (int n : {1, 2, 5, 10, 20}) {
          if (n > a.search) continue;
          size_t b = 0;
          for (size_t i = 1; i < static_cast<size_t>(n); ++i)
            if (sr.trials[i].validation > sr.trials[b].validation) b = i;
          const auto& best = sr.trials[b];
          rows.push_back({ds, sampler + " best fixed", s, n * L, best.test, best.validation, sr.wall_s * n / a.search});
        }
      }
      {
        online::PbtOptions p = c.pbt;
        p.seed = derive_seed(run.seed, {0x9B});
        p.population = 4;
        online::RunOptions short_run = run;
        short_run.total_steps = L / 4;
        short_run.interval = std::min(run.interval, short_run.total_steps);
        add("PBT (equal compute: 4 x L/4)", online::run_pbt(proto, c.choices, p, short_run));
        add("PBT", online::run_pbt(proto, c.choices, p, run));
        p.population = 8;
        add("PBT", online::run_pbt(proto, c.choices, p, run));
      }
      std::cerr << fmt::format("{} seed {}: {:.0f} s\n", ds, s,
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_seed).count());
    }
  }
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
  const double cpu_s = static_cast<double>(std::clock()) / CLOCKS_PER_SEC;

  std::filesystem::create_directories(a.out);
  {
    std::ofstream f(a.out + "/" + stem + ".csv");
    f << (dqn ? "env,method,seed,steps,test_success,validation_success,wall_s\n"
              : "dataset,method,seed,steps,test_accuracy,validation_accuracy,wall_s\n");
    for (const auto& r : rows) {
      f << fmt::format("{},{},{},{},{:.5f},{:.5f},{:.3f}\n", r.dataset, r.method, r.seed, r.steps, r.test,
                       r.validation, r.wall_s);
    }
  }
  // Means per (dataset, method, steps), in first-seen order.
  struct Key {
    std::string dataset, method;
    int64_t steps;
    bool operator<(const Key& o) const {
      return std::tie(dataset, method, steps) < std::tie(o.dataset, o.method, o.steps);
    }
  };
  std::vector<Key> order;
  std::map<Key, std::vector<double>> tests;
  std::map<Key, double> wall;
  for (const auto& r : rows) {
    const Key k{r.dataset, r.method, r.steps};
    if (!tests.count(k)) order.push_back(k);
    tests[k].push_back(r.test);
    wall[k] += r.wall_s / a.seeds;
  }
  const int64_t L = (a.steps > 0 ? a.steps : base.run.total_steps);
  const int64_t K = (a.interval > 0 ? a.interval : base.run.interval);
  std::ofstream md(a.out + "/" + stem + ".md");
  std::string datasets_flag;
  for (const auto& ds : a.datasets) datasets_flag += (datasets_flag.empty() ? "" : ",") + ds;
  md << (dqn ? "# Online hyperparameter control (seed 004) on the DQN dialogue policy: controller vs baselines\n\n"
             : "# Online hyperparameter control (seed 004): controller vs baselines\n\n")
     << fmt::format("Command: `./build/release/bench/repro_online_controller{} --config {} --seeds {} --steps {} "
                    "--interval {} --meta-runs {} --search {} --datasets {}`\n\n",
                    dqn ? " --target dqn_dialog" : "", a.config, a.seeds, L, K, a.meta_runs, a.search, datasets_flag);
  if (dqn) {
    md << fmt::format(
        "DQN dialogue policy (Q-network {} -> {} -> actions, Adam, replay, {} domain) trained against the simulated "
        "user for L = {} training dialogues (one step = one dialogue, an update every {} dialogues); the "
        "learning rate and the (constant within an interval) exploration rate epsilon change every K = {} "
        "dialogues; choices and defaults (learning rate {:g}, epsilon {:g}) from the config. Score = greedy "
        "success rate on {} fixed validation dialogues (the controller's reward and every selection) and on {} other "
        "fixed test dialogues (reported), mean +- sd over {} seeds (seed = initial weights, training dialogues, "
        "exploration, controller / sampler streams). Compute = training dialogues over every policy trained, in "
        "units of L.",
        base.dqn.dqn.h1, base.dqn.dqn.h2, base.domain, L, base.dqn.dqn.train_frequency, K,
        base.dqn.defaults.at("learning_rate"), base.dqn.defaults.at("epsilon"), base.dqn.validation_dialogues,
        base.dqn.test_dialogues, a.seeds);
  } else {
    md << fmt::format("MLP ({} hidden units) trained by SGD for L = {} steps; hyperparameters change every K = {} "
                      "steps; choices and defaults from the config. Test accuracy, mean +- sd over {} seeds "
                      "(seed = initial weights, data order, controller / sampler streams). Compute = training "
                      "steps over every network trained, in units of L.",
                      base.target.hidden, L, K, a.seeds);
  }
  md << fmt::format(" Whole run: {:.0f} s of CPU time on one thread, {:.0f} s wall (shared machine, load average {} "
                    "at the end); wall s / run below is inflated by the load in the same way.\n\n",
                    cpu_s, total_s, load_average());
  for (const std::string& ds : a.datasets) {
    md << "## " << (dqn ? base.domain + ", " : "") << ds << "\n\n| method | compute (x L) | " << score
       << " | wall s / run |\n|---|---:|---:|---:|\n";
    for (const auto& k : order) {
      if (k.dataset != ds) continue;
      const Stat st = stat(tests[k]);
      md << fmt::format("| {} | {:g} | {:.2f} +- {:.2f} | {:.1f} |\n", k.method,
                        static_cast<double>(k.steps) / static_cast<double>(L), 100 * st.mean, 100 * st.sd, wall[k]);
    }
    auto mean_of = [&](const std::string& m, int64_t steps) { return stat(tests[{ds, m, steps}]).mean; };
    const double ctl = mean_of("controller (online)", L);
    const double meta = mean_of("controller (meta-trained, frozen)", L * (a.meta_runs + 1));
    const double rs10 = mean_of("random search best fixed", 10 * L);
    const double pbt_eq = mean_of("PBT (equal compute: 4 x L/4)", L);
    md << fmt::format(
        "\nIssue targets: controller (online, 1 x L) {:.2f} vs random search best fixed tuple at 10 x L {:.2f}: "
        "gap {:+.2f} points (target: within 1 point) -> {}; vs PBT at equal compute {:.2f}: {} (target: >=). "
        "Meta-trained frozen controller ({} x L in all): {:.2f}, gap to random search {:+.2f}.\n\n",
        100 * ctl, 100 * rs10, 100 * (ctl - rs10), ctl >= rs10 - 0.01 ? "met" : "missed", 100 * pbt_eq,
        ctl >= pbt_eq ? "met" : "missed", a.meta_runs + 1, 100 * meta, 100 * (meta - rs10));
  }
  md << "Plot: `" << stem << ".svg` (data: `" << stem << ".csv`, one row per " << (dqn ? "env" : "dataset")
     << " x method x seed).\n";
  md.close();

  // Plot: one panel per dataset, test accuracy (mean +- sd) against compute, one series per method.
  const std::string dat = a.out + "/" + stem + "_means.dat";
  {
    std::ofstream f(dat);
    for (const std::string& ds : a.datasets) {
      std::vector<std::string> methods;
      for (const auto& k : order)
        if (k.dataset == ds && std::find(methods.begin(), methods.end(), k.method) == methods.end())
          methods.push_back(k.method);
      for (const auto& m : methods) {
        f << "# " << ds << " / " << m << "\n";
        for (const auto& k : order) {
          if (k.dataset != ds || k.method != m) continue;
          const Stat st = stat(tests[k]);
          f << static_cast<double>(k.steps) / static_cast<double>(L) << " " << 100 * st.mean << " " << 100 * st.sd
            << "\n";
        }
        f << "\n\n";
      }
    }
  }
  const std::string gp = a.out + "/" + stem + ".gp";
  {
    std::ofstream g(gp);
    double x_max = 1.0;  // the 1 x L points sit inside the frame, not on its left edge
    for (const auto& k : order) x_max = std::max(x_max, static_cast<double>(k.steps) / static_cast<double>(L));
    g << "set terminal svg size 900," << 420 * a.datasets.size() << " dynamic background rgb 'white'\n"
      << "set output '" << a.out << "/" << stem << ".svg'\nset logscale x\nset xrange [0.8:" << 1.25 * x_max
      << "]\nset key bottom right font ',9'\n"
      << "set xlabel 'total training " << (dqn ? "dialogues" : "steps") << " (x L = " << L << ")'\nset ylabel '"
      << score << " (%)'\n"
      << "set multiplot layout " << a.datasets.size() << ",1\n";
    int block = 0;
    for (const std::string& ds : a.datasets) {
      std::vector<std::string> methods;
      for (const auto& k : order)
        if (k.dataset == ds && std::find(methods.begin(), methods.end(), k.method) == methods.end())
          methods.push_back(k.method);
      double top = 0.0;  // the panel shows the 15 points below the best mean (one bad seed can drag a mean far)
      for (const auto& k : order)
        if (k.dataset == ds) top = std::max(top, 100 * stat(tests[k]).mean);
      g << "set yrange [" << std::floor(top - 15) << ":" << std::ceil(top + 2) << "]\n";
      g << "set title '" << ds << " (" << a.seeds << " seeds, mean +- sd)'\nplot ";
      for (size_t i = 0; i < methods.size(); ++i) {
        g << (i ? ", " : "") << "'" << dat << "' index " << block++ << " using 1:2:3 with yerrorlines lw 2 pt " << i + 4
          << " title '" << methods[i] << "'";
      }
      g << "\n";
    }
    g << "unset multiplot\n";
  }
  if (std::system(("command -v gnuplot >/dev/null 2>&1 && gnuplot '" + gp + "'").c_str()) != 0) {
    std::cerr << "gnuplot not found or failed: no plot (the CSV is there)\n";
  }
  std::cout << std::ifstream(a.out + "/" + stem + ".md").rdbuf();
  return 0;
} catch (const std::exception& e) {
  std::cerr << "repro_online_controller: " << e.what() << "\n";
  return 2;
}
