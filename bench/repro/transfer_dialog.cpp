// Experiment 2 of seed paper 001 (Table 2, Figure 2): a personalized bAbI dialog task with 50,
// 100 and 150 training dialogues as the primary task, bAbI dialog task 5 (1000 dialogues) as the
// related task, end-to-end memory networks for M_theta and P_eta, and the rows of Table 2.
//
//   build/release/bench/repro_transfer_dialog --task 1 --settings 50,100,150 --seeds 3
//       --iterations 1500 --meta-updates 1 --simulated-steps 1 --threads 2 --out bench/results
//
// The paper uses personalized task 3 (not available here: tasks 1 and 2 are), 4000 epochs of the
// related data on a GPU (15 h a run), 10 eta updates through 5 simulated steps per iteration.
// This driver runs far fewer iterations and (by default) 1 eta update through 1 simulated step,
// so that all rows, settings and seeds fit in minutes on two cores; the md file says what ran.
// Writes transfer_dialog.md (table), transfer_dialog.csv (one line per run),
// transfer_dialog_hist.csv (final learned-weight histograms) and, with gnuplot, transfer_dialog.svg.
// Data: --babi DIR (default ../shared/data/babi-dialog), --personalized DIR (default
// ../shared/data/personalized-dialog); run from the repository root.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/threads.h"
#include "metadial/transfer/dialog.h"
#include "metadial/transfer/noisy_images.h"

namespace {

using namespace metadial;
using namespace metadial::transfer;

struct Row {
  Method method;
  const char* label;
  const char* paper;  // Table 2 (personalized task 3): 50 / 100 / 150 dialogues
};

const Row kRows[] = {
    {Method::kPrimaryOnly, "Primary", "54.7 ± 1.3 / 59.3 ± 0.5 / 61.1 ± 0.5"},
    {Method::kPretrainFinetune, "Primary + Related Pre-Training", "32.8 ± 3.5 / 42.1 ± 4.7 / 47.8 ± 0.8"},
    {Method::kJoint, "Primary + Related", "37.1 ± 4.1 / 50.9 ± 1.7 / 58.6 ± 0.7"},
    {Method::kMultiTask, "Primary + Auxiliary Related (Multi-Task)", "51.2 ± 2.4 / 58.2 ± 1.2 / 60.6 ± 0.7"},
    {Method::kLearned, "Weighted Auxiliary Related: Proposed", "57.7 ± 1.6 / 64.6 ± 0.8 / 67.1 ± 0.6"},
    {Method::kRandomFixed, "Weighted Auxiliary Related: Random-Fixed", "50.7 ± 2.0 / 58.7 ± 0.8 / 61.2 ± 1.0"},
    {Method::kRandomChanging, "Weighted Auxiliary Related: Random-Changing", "52.3 ± 0.9 / 58.7 ± 1.0 / 59.8 ± 0.8"},
};

const char* kPersonalizedTask[] = {"", "task1-API-calls", "task2-API-refine"};

struct Job {
  int setting;
  size_t row;
  int seed;
  DialogTransferResult result;
};

std::vector<int> parse_ints(std::string s) {
  std::vector<int> out;
  for (char& c : s)
    if (c == ',') c = ' ';
  std::istringstream in(s);
  int v = 0;
  while (in >> v) out.push_back(v);
  return out;
}

std::string mean_sd(const std::vector<double>& v) {
  if (v.empty()) return "-";
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  s = v.size() > 1 ? std::sqrt(s / static_cast<double>(v.size() - 1)) : 0;
  return fmt::format("{:.1f} ± {:.1f}", 100 * m, 100 * s);
}

}  // namespace

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process (--threads: parallel runs, one torch thread each)
  CLI::App app{"Seed paper 001, Table 2: meta-weighted transfer for personalized dialogue"};
  std::string babi = "../shared/data/babi-dialog";
  std::string personalized = "../shared/data/personalized-dialog";
  int task = 1;
  std::string settings_spec = "50,100,150";
  std::string rows_spec = "0,1,2,3,4,5,6";
  int seeds = 3;
  int first_seed = 0;
  int64_t iterations = 1500;
  int64_t meta_updates = 1;
  int64_t simulated_steps = 1;
  int64_t eval_every = 100;
  int64_t related_dialogs = 1000;
  int64_t test_dialogs = -1;
  double lr = 1e-3;
  double weight_lr = 1e-3;
  double simulated_lr = 1e-3;
  int threads = 2;
  std::string out_dir = "bench/results";
  app.add_option("--babi", babi, "bAbI dialog folder");
  app.add_option("--personalized", personalized, "personalized dialog folder");
  app.add_option("--task", task, "personalized task (1 or 2; small set)");
  app.add_option("--settings", settings_spec, "primary training dialogues per setting");
  app.add_option("--rows", rows_spec, "Table 2 rows to run (0-6)");
  app.add_option("--seeds", seeds, "seeds per row and setting");
  app.add_option("--first-seed", first_seed, "first seed (runs use first-seed .. first-seed + seeds - 1)");
  app.add_option("--iterations", iterations, "trainer iterations per run");
  app.add_option("--meta-updates", meta_updates, "eta updates per iteration (paper: 10)");
  app.add_option("--simulated-steps", simulated_steps, "simulated steps per eta update (paper: 5)");
  app.add_option("--eval-every", eval_every, "validation every this-many iterations");
  app.add_option("--related-dialogs", related_dialogs, "related (bAbI task 5) dialogues");
  app.add_option("--test-dialogs", test_dialogs, "test dialogues (-1: all 1000)");
  app.add_option("--lr", lr, "Adam learning rate of the dialogue model");
  app.add_option("--weight-lr", weight_lr, "Adam learning rate of P_eta");
  app.add_option("--simulated-lr", simulated_lr, "SGD step of the simulated updates (beta)");
  app.add_option("--threads", threads, "runs in parallel");
  app.add_option("--out", out_dir, "output folder");
  CLI11_PARSE(app, argc, argv);
  try {
    MD_CHECK(task == 1 || task == 2, "--task ", task, ": personalized tasks 1 and 2 are available");
    const auto t_all = std::chrono::steady_clock::now();
    const std::vector<int> settings = parse_ints(settings_spec);
    std::vector<size_t> rows;
    for (int r : parse_ints(rows_spec)) {
      MD_CHECK(r >= 0 && r < 7, "--rows: ", r, " is not in 0..6");
      rows.push_back(static_cast<size_t>(r));
    }
    const std::string stem = personalized + "/small/personalized-dialog-" + kPersonalizedTask[task];
    auto base_options = [&](int setting) {
      DialogTransferOptions o;
      o.primary_train(stem + "-trn.txt")
          .primary_validation(stem + "-dev.txt")
          .primary_test(stem + "-tst.txt")
          .related_train(babi + "/dialog-babi-task5-full-dialogs-trn.txt")
          .primary_dialogs(setting)
          .related_dialogs(related_dialogs)
          .test_dialogs(test_dialogs);
      TrainerOptions t = o.trainer();
      o.trainer(t.iterations(iterations)
                    .meta_updates(meta_updates)
                    .simulated_steps(simulated_steps)
                    .eval_every(eval_every)
                    .model_lr(lr)
                    .weight_lr(weight_lr)
                    .simulated_lr(simulated_lr));
      return o;
    };
    std::map<int, std::unique_ptr<DialogTransferData>> data;
    for (int s : settings) {
      data[s] = std::make_unique<DialogTransferData>(base_options(s));
      std::cerr << "setting " << s << ": data read\n";
    }
    std::vector<Job> jobs;
    // Expensive (learned) runs first, so that the pool ends evenly.
    for (int pass = 0; pass < 2; ++pass)
      for (int s : settings)
        for (size_t r : rows)
          if ((kRows[r].method == Method::kLearned) == (pass == 0))
            for (int seed = first_seed; seed < first_seed + seeds; ++seed) jobs.push_back({s, r, seed, {}});
    std::atomic<size_t> next{0};
    std::mutex io;
    auto worker = [&] {
      for (size_t j = next++; j < jobs.size(); j = next++) {
        Job& job = jobs[j];
        DialogTransferOptions o = base_options(job.setting);
        o.trainer(with_method(o.trainer(), kRows[job.row].method, /*auxiliary=*/true)
                      .seed(derive_seed(static_cast<uint64_t>(job.seed), {77})));
        o.seed(static_cast<uint64_t>(job.seed));
        job.result = run_dialog_transfer(*data[job.setting], o);
        std::lock_guard<std::mutex> lock(io);
        std::cerr << fmt::format("[{}/{}] {} dialogues, {}, seed {}: test {:.1f} % (val {:.1f} % at {}) in {:.0f} s\n",
                                 j + 1, jobs.size(), job.setting, kRows[job.row].label, job.seed,
                                 100 * job.result.test_accuracy, 100 * job.result.best_validation,
                                 job.result.best_iteration, job.result.total_seconds);
      }
    };
    std::vector<std::thread> pool;
    for (int i = 0; i < std::max(1, threads); ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();

    std::filesystem::create_directories(out_dir);
    std::ofstream csv(out_dir + "/transfer_dialog.csv");
    csv << "task,setting,method,seed,test,validation,best_iteration,mean_weight,vocab,candidates,primary_examples,"
           "related_examples,test_examples,seconds\n";
    std::map<std::pair<size_t, int>, std::vector<double>> acc;
    for (const Job& j : jobs) {
      const auto& r = j.result;
      csv << fmt::format("{},{},{},{},{:.4f},{:.4f},{},{:.4f},{},{},{},{},{},{:.1f}\n", task, j.setting,
                         to_string(kRows[j.row].method), j.seed, r.test_accuracy, r.best_validation, r.best_iteration,
                         r.mean_weight, r.vocab_size, r.candidates, r.primary_examples, r.related_examples,
                         r.test_examples, r.total_seconds);
      acc[{j.row, j.setting}].push_back(r.test_accuracy);
    }
    std::ofstream hist(out_dir + "/transfer_dialog_hist.csv");
    hist << "setting,seed,bin_low,bin_high,count\n";
    for (const Job& j : jobs) {
      if (kRows[j.row].method != Method::kLearned) continue;
      const auto& h = j.result.weight_histogram;
      for (size_t b = 0; b < h.size(); ++b)
        hist << fmt::format("{},{},{:.2f},{:.2f},{}\n", j.setting, j.seed, static_cast<double>(b) / h.size(),
                            static_cast<double>(b + 1) / h.size(), h[b]);
    }
    std::ofstream md(out_dir + "/transfer_dialog.md");
    md << "# Meta-weighted transfer for dialogue (seed paper 001, Table 2)\n\n"
       << fmt::format("Primary: personalized bAbI task {} (small set; the paper's task 3 is not available), first N "
                      "training and N validation dialogues, test on {} test dialogues. Related: bAbI dialog task 5, "
                      "{} dialogues. Per-response test accuracy (%), mean ± sd over {} seed(s).\n\n",
                      task, test_dialogs < 0 ? std::string("all 1000") : std::to_string(test_dialogs),
                      related_dialogs, seeds)
       << fmt::format("Settings: {} iterations (batch 32, Adam {} for theta, {} for eta), {} eta update(s) through {} "
                      "simulated step(s) per iteration (paper: 10 through 5, for 4000 related epochs), validation "
                      "every {} iterations for model selection. Wall time {:.0f} s on {} thread(s).\n\n",
                      iterations, lr, weight_lr, meta_updates, simulated_steps, eval_every, wall, threads)
       << "Command: `repro_transfer_dialog --task " << task << " --settings " << settings_spec << " --rows " << rows_spec
       << " --seeds " << seeds << " --first-seed " << first_seed << " --iterations " << iterations << " --meta-updates " << meta_updates
       << " --simulated-steps " << simulated_steps << " --threads " << threads << "`\n\n| method |";
    for (int s : settings) md << " " << s << " |";
    md << " paper (task 3): 50 / 100 / 150 |\n|---|";
    for (size_t i = 0; i < settings.size(); ++i) md << "---|";
    md << "---|\n";
    for (size_t r : rows) {
      md << "| " << kRows[r].label << " |";
      for (int s : settings) md << " " << mean_sd(acc[{r, s}]) << " |";
      md << " " << kRows[r].paper << " |\n";
    }
    md << "\nFinal learned weights of the related examples (proposed method, first seed): see transfer_dialog_hist.csv";
    for (const Job& j : jobs)
      if (kRows[j.row].method == Method::kLearned && j.seed == first_seed)
        md << fmt::format("; {} dialogues: mean weight {:.3f}", j.setting, j.result.mean_weight);
    md << ".\n";
    md.close();
    // Figure: test accuracy per setting (clusters) and method (bars), via gnuplot.
    std::ofstream dat(out_dir + "/transfer_dialog_plot.csv");
    for (int s : settings) {
      dat << s;
      for (size_t r : rows) {
        const auto& v = acc[{r, s}];
        double m = 0;
        for (double x : v) m += x;
        m = v.empty() ? 0 : m / static_cast<double>(v.size());
        dat << " " << fmt::format("{:.2f}", 100 * m);
      }
      dat << "\n";
    }
    dat.close();
    std::ofstream gp(out_dir + "/transfer_dialog.gp");
    gp << "set terminal svg size 1000,480\nset output '" << out_dir << "/transfer_dialog.svg'\n"
       << "set style data histogram\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
       << "set ylabel 'per-response test accuracy (%)'\nset xlabel 'primary training dialogues'\n"
       << "set key outside right\nset yrange [40:80]\n"
       << "set title 'Meta-weighted transfer, personalized bAbI task " << task << " (mean over seeds)'\nplot ";
    for (size_t k = 0; k < rows.size(); ++k)
      gp << (k ? ", " : "") << "'" << out_dir << "/transfer_dialog_plot.csv' using " << k + 2
         << (k == 0 ? ":xtic(1)" : "") << " title '" << kRows[rows[k]].label << "'";
    gp << "\n";
    gp.close();
    if (std::system(("gnuplot " + out_dir + "/transfer_dialog.gp 2>/dev/null").c_str()) != 0)
      std::cerr << "gnuplot failed: no transfer_dialog.svg\n";
    std::cout << "wrote " << out_dir << "/transfer_dialog.{md,csv} (" << fmt::format("{:.0f}", wall) << " s)\n";
  } catch (const metadial::Error& e) {
    std::cerr << "repro_transfer_dialog: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
