// Why the learned weights of the *correct* related examples drift down in Table 1's MNIST setting
// (seed paper 001, experiment 1; issue 19), and what stops it. Each variant is the example config
// (examples/transfer_noisy_images.toml: MNIST 10k split 6000 / 2000 / 2000, shift corruption, 75 %
// wrong labels, learned weights, no primary step, batch 256) with some of these changes:
//
//   norm       weighted losses averaged by sum_i w_i instead of the batch size (TrainerOptions::normalize_weights)
//   centred    P_eta reads the images minus their mean (WeightImageInput::kCentred)
//   noimage    P_eta reads no image, only label and flag (WeightImageInput::kNone)
//   lrX        Adam learning rate of eta X (default 1e-3)
//   epsX       Adam epsilon of theta and eta X (default 1e-8)
//   wepsX      Adam epsilon of eta alone X
//   fix        centred + eta's Adam learning rate 0.1 and epsilon 1e-5 (NoisyImagesOptions' defaults since issue 19)
//   betaX      SGD step of the simulated update X (default 1e-3)
//   oracle     the oracle weighting (reference accuracy)
//
// joined by '+' (e.g. "norm+centred"), one variant per comma-separated item. For each run it
// records, every --record iterations, the mean weight of the correct and the incorrect related
// examples, the mean of each term of P_eta's logit (image part v.x, label part, flag part, bias)
// over both groups, and the mean norm of eta's meta-gradient.
//
//   build/release/bench/repro_transfer_weight_drift --variants base,norm,centred,noimage,lr1e-2,eps1e-16
//       --seeds 1 --iterations 3000 --threads 2 --out bench/results
//
// Writes transfer_weight_drift.md (final numbers per variant, mean ± sd over seeds) and
// transfer_weight_drift.csv (the trajectories), appending: each finished run is written at once,
// and a run already in the CSV (same variant, seed, iterations) is skipped, so the driver can be
// stopped and continued.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "metadial/core/error.h"
#include "metadial/nn/threads.h"
#include "metadial/transfer/noisy_images.h"
#include "repro_common.h"

namespace {

using namespace metadial;
using namespace metadial::transfer;


// Applies a variant's tokens to the example config's options.
NoisyImagesOptions options_for(const std::string& variant, int64_t iterations, int seed, int64_t record) {
  // "base": the paper's setting (raw images into P_eta, Adam 1e-3 with epsilon 1e-8 for eta), whatever
  // NoisyImagesOptions' defaults are.
  NoisyImagesOptions o;
  o.weight_input(WeightImageInput::kRaw);
  TrainerOptions t = o.trainer();
  t.iterations(iterations).eval_every(100).seed(static_cast<uint64_t>(seed)).weight_lr(1e-3).adam_eps(1e-8)
      .weight_adam_eps(0).normalize_weights(false);
  for (const std::string& tok : metadial::repro::split(variant, '+')) {
    auto number = [&](size_t prefix) {
      try {
        return std::stod(tok.substr(prefix));
      } catch (const std::exception&) {
        throw InvalidArgument("--variants: '" + tok + "' has no number after its name");
      }
    };
    if (tok == "base") {
    } else if (tok == "norm") {
      t.normalize_weights(true);
    } else if (tok == "centred") {
      o.weight_input(WeightImageInput::kCentred);
    } else if (tok == "noimage") {
      o.weight_input(WeightImageInput::kNone);
    } else if (tok == "oracle") {
      t.weighting(Weighting::kOracle);
    } else if (tok.rfind("lr", 0) == 0) {
      t.weight_lr(number(2));
    } else if (tok == "fix") {  // the example config's setting (issue 19)
      o.weight_input(WeightImageInput::kCentred);
      t.weight_lr(0.1).weight_adam_eps(1e-5);
    } else if (tok.rfind("weps", 0) == 0) {
      t.weight_adam_eps(number(4));
    } else if (tok.rfind("eps", 0) == 0) {
      t.adam_eps(number(3));
    } else if (tok.rfind("beta", 0) == 0) {
      t.simulated_lr(number(4));
    } else {
      throw InvalidArgument("--variants: unknown change '" + tok +
                            "' (valid: base, fix, norm, centred, noimage, oracle, lrX, epsX, wepsX, betaX)");
    }
  }
  o.trainer(t).seed(static_cast<uint64_t>(seed)).record_every(record).histogram_at({});
  return o;
}

struct Final {
  double test = 0, correct = 0, incorrect = 0, seconds = 0;
};

}  // namespace

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);
  CLI::App app{"why the learned weights of correct related examples drift down (issue 19, Table 1)"};
  std::string variants_spec = "base,norm,centred,noimage,lr1e-2,eps1e-16";
  std::string mnist_dir = "../shared/data/mnist-t10k";
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  std::string data_name = "mnist";
  int64_t n_train = 6000;
  std::string out_dir = "bench/results";
  int seeds = 1, first_seed = 0, threads = 2;
  int64_t iterations = 3000, record = 500;
  app.add_option("--variants", variants_spec, "comma-separated variants, changes joined by '+'")->capture_default_str();
  app.add_option("--mnist", mnist_dir, "folder with t10k-{images-idx3,labels-idx1}-ubyte.gz")->capture_default_str();
  app.add_option("--fashion", fashion_dir, "folder with {train,t10k}-*-ubyte.gz")->capture_default_str();
  app.add_option("--data", data_name,
                 "mnist (t10k split --train / 2000 / 2000) or fashion (--train and 10000 validation images from its "
                 "training set, its 10k test set)")
      ->capture_default_str();
  app.add_option("--train", n_train, "training (= primary and related) images")->capture_default_str();
  app.add_option("--seeds", seeds, "seeds per variant")->capture_default_str();
  app.add_option("--first-seed", first_seed, "first seed")->capture_default_str();
  app.add_option("--iterations", iterations, "iterations per run (the example config: 3000)")->capture_default_str();
  app.add_option("--record", record, "trajectory every this-many iterations (a multiple of 100)")->capture_default_str();
  app.add_option("--threads", threads, "runs in parallel")->capture_default_str();
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const std::vector<std::string> variants = metadial::repro::split(variants_spec, ',');
    for (const auto& v : variants) options_for(v, iterations, 0, record).validate();  // typos fail first
    MD_CHECK(data_name == "mnist" || data_name == "fashion", "--data must be mnist or fashion, not '", data_name, "'");
    const ImageSplit data =
        data_name == "mnist"
            ? split_images(load_mnist_format(mnist_dir, "t10k"), n_train, 2000, 2000, /*seed=*/0)
            : split_images(load_mnist_format(fashion_dir, "train"), load_mnist_format(fashion_dir, "t10k"), n_train,
                           10000, /*seed=*/0);
    // Runs of another data set or size are told apart by the variant's name in the CSV.
    const std::string tag = data_name == "mnist" && n_train == 6000 ? "" : fmt::format("@{}{}", data_name, n_train);
    std::filesystem::create_directories(out_dir);
    const std::string csv_path = out_dir + "/transfer_weight_drift.csv";
    // Runs already in the CSV (continue after a stop).
    std::set<std::tuple<std::string, int, int64_t>> done;
    std::map<std::pair<std::string, int64_t>, std::map<int, Final>> finals;
    {
      std::ifstream in(csv_path);
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) {
        const auto f = metadial::repro::csv_fields(line);
        if (f.size() < 20) continue;
        const std::string v = f[0];
        const int seed = std::stoi(f[1]);
        const int64_t iters = std::stoll(f[2]);
        const int64_t it = std::stoll(f[3]);
        if (it == -1) {  // the final line of a run
          done.insert({v, seed, iters});
          finals[{v, iters}][seed] = Final{std::stod(f[4]), std::stod(f[5]), std::stod(f[6]), std::stod(f[19])};
        }
      }
    }
    const bool fresh = !std::filesystem::exists(csv_path);
    std::ofstream csv(csv_path, std::ios::app);
    if (fresh)
      csv << "variant,seed,iterations,iteration,test,mean_correct,mean_incorrect,input_correct,input_incorrect,"
             "label_correct,label_incorrect,flag_correct,flag_incorrect,bias,meta_grad_norm,best_validation,"
             "best_iteration,step_seconds,step_cpu_seconds,total_seconds\n";
    csv.flush();
    struct Job {
      std::string variant;
      int seed;
    };
    std::vector<Job> jobs;
    for (const auto& v : variants)
      for (int s = first_seed; s < first_seed + seeds; ++s)
        if (!done.contains({v + tag, s, iterations})) jobs.push_back({v, s});
    std::cerr << jobs.size() << " run(s) to do (" << done.size() << " already in " << csv_path << ")\n";
    std::atomic<size_t> next{0};
    std::mutex io;
    auto worker = [&] {
      for (size_t j = next++; j < jobs.size(); j = next++) {
        const Job job = jobs[j];
        const NoisyImagesOptions o = options_for(job.variant, iterations, job.seed, record);
        const NoisyImagesResult r = run_noisy_images(data, o);
        std::lock_guard<std::mutex> lock(io);
        for (const auto& w : r.weights)
          csv << fmt::format("{},{},{},{},,{:.6f},{:.6f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4e},,,,,\n",
                             job.variant + tag, job.seed, iterations, w.iteration, w.mean_correct, w.mean_incorrect,
                             w.input_correct, w.input_incorrect, w.label_correct, w.label_incorrect, w.flag_correct,
                             w.flag_incorrect, w.bias, w.meta_grad_norm);
        const WeightSnapshot last = r.weights.empty() ? WeightSnapshot{} : r.weights.back();
        csv << fmt::format("{},{},{},-1,{:.4f},{:.6f},{:.6f},,,,,,,,,{:.4f},{},{:.1f},{:.1f},{:.1f}\n", job.variant + tag,
                           job.seed, iterations, r.test_accuracy, last.mean_correct, last.mean_incorrect,
                           r.best_validation_accuracy, r.best_iteration, r.step_seconds, r.step_cpu_seconds,
                           r.total_seconds);
        csv.flush();
        finals[{job.variant + tag, iterations}][job.seed] =
            Final{r.test_accuracy, last.mean_correct, last.mean_incorrect, r.total_seconds};
        std::cerr << fmt::format("[{}/{}] {} seed {}: test {:.2f} %, weights correct {:.4f} incorrect {:.4f} ({:.0f} s)\n",
                                 j + 1, jobs.size(), job.variant + tag, job.seed, 100 * r.test_accuracy, last.mean_correct,
                                 last.mean_incorrect, r.total_seconds);
      }
    };
    std::vector<std::thread> pool;
    for (int i = 0; i < std::max(1, threads); ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();

    auto pm = [](const std::vector<double>& v, double scale, int digits) {
      if (v.empty()) return std::string("-");
      double m = 0, s = 0;
      for (double x : v) m += x;
      m /= static_cast<double>(v.size());
      for (double x : v) s += (x - m) * (x - m);
      s = v.size() > 1 ? std::sqrt(s / static_cast<double>(v.size() - 1)) : 0;
      return fmt::format("{:.{}f} ± {:.{}f}", m * scale, digits, s * scale, digits);
    };
    std::ofstream md(out_dir + "/transfer_weight_drift.md");
    md << "# Learned weights of correct related examples: causes of the drift (issue 19, Table 1)\n\n"
       << "Default data: MNIST 10k split 6000 / 2000 / 2000 (variant@fashionN: Fashion-MNIST, N training images, 10000 validation, its 10k test set), shift corruption (75 % wrong), learned weights, no primary step, "
          "batch 256, Adam for theta and eta; the variants change what their name says (see "
          "bench/repro/transfer_weight_drift.cpp). Final weights are the module's outputs (not renormalised). "
          "Trajectories (weights, the terms of P_eta's logit, meta-gradient norm) in transfer_weight_drift.csv.\n\n"
       << "Last command: `build/release/bench/repro_transfer_weight_drift --data " << data_name << " --train " << n_train
       << " --variants " << variants_spec << " --seeds " << seeds
       << " --first-seed " << first_seed << " --iterations " << iterations << " --threads " << threads << "`\n\n"
       << "| variant | iterations | seeds | test (%) | final weight, correct | final weight, incorrect | seconds per run |\n"
       << "|---|---|---|---|---|---|---|\n";
    for (const auto& [key, by_seed] : finals) {
      std::vector<double> t, c, i, sec;
      for (const auto& [s, f] : by_seed) {
        t.push_back(f.test);
        c.push_back(f.correct);
        i.push_back(f.incorrect);
        sec.push_back(f.seconds);
      }
      md << "| " << key.first << " | " << key.second << " | " << by_seed.size() << " | " << pm(t, 100, 2) << " | "
         << pm(c, 1, 4) << " | " << pm(i, 1, 4) << " | " << pm(sec, 1, 0) << " |\n";
    }
  } catch (const metadial::Error& e) {
    std::cerr << "repro_transfer_weight_drift: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
