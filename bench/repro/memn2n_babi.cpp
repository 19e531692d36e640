// Shows that agents/memn2n's end-to-end memory network is right: per-response test accuracy on
// bAbI dialog tasks 1-5 (Bordes, Boureau & Weston 2017), against their MemN2N column (no match
// type features): 99.9, 100, 74.9, 59.5, 96.1.
//
//   build/release/bench/repro_memn2n_babi --epochs 1:15,2:15,3:20,4:15,5:20 --threads 2 --out bench/results
//
// Settings: embedding 20, 3 hops, memory 50, batch 32, Adam (--lr, default 0.01) with gradient
// clipping at 40, model selection on the dev split after every epoch, candidates = the 4212
// of dialog-babi-candidates.txt. Epochs are far fewer than the original (up to 200 epochs):
// the whole run must fit in minutes on one core. Writes memn2n_babi.{md,csv}.
// Data: --data DIR (the bAbI dialog folder; default babi-dialog/ in the data folder: $METADIAL_DATA, see core/data.h).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <torch/torch.h>

#include "metadial/agents/memn2n/memn2n.h"
#include "metadial/core/data.h"
#include "metadial/core/error.h"
#include "metadial/nn/threads.h"

namespace {

using namespace metadial::agents::memn2n;

const char* kTaskFiles[] = {"task1-API-calls", "task2-API-refine", "task3-options", "task4-phone-address",
                            "task5-full-dialogs"};
const double kPaper[] = {99.9, 100, 74.9, 59.5, 96.1};

struct Outcome {
  int task = 0;
  int epochs = 0;
  double test = 0, test_oov = 0, validation = 0;
  int64_t best_epoch = 0, train_n = 0, test_n = 0;
  double seconds = 0;
};

}  // namespace

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process (--threads: parallel runs, one torch thread each)
  CLI::App app{"bAbI dialog tasks 1-5 with an end-to-end memory network"};
  std::string data = metadial::data_set_dir("babi-dialog");
  std::string epochs_spec = "1:15,2:15,3:20,4:15,5:20";
  std::string out_dir = "bench/results";
  std::string tasks_spec = "1,2,3,4,5";
  double lr = 0.01;
  int threads = 2;
  uint64_t seed = 0;
  app.add_option("--data", data, "bAbI dialog folder");
  app.add_option("--epochs", epochs_spec, "TASK:EPOCHS,... ");
  app.add_option("--tasks", tasks_spec, "tasks to run, e.g. 1,2,3");
  app.add_option("--lr", lr, "Adam learning rate");
  app.add_option("--threads", threads, "tasks run in parallel (one torch thread each)");
  app.add_option("--seed", seed, "seed of initialisation and batch order");
  app.add_option("--out", out_dir, "folder for memn2n_babi.{md,csv}");
  CLI11_PARSE(app, argc, argv);
  try {
    std::map<int, int> epochs;
    for (const auto& item : tokenize([&] { std::string s = epochs_spec; for (char& c : s) if (c == ',') c = ' '; return s; }())) {
      const auto colon = item.find(':');
      MD_CHECK(colon != std::string::npos, "--epochs: expected TASK:EPOCHS, got '", item, "'");
      epochs[std::stoi(item.substr(0, colon))] = std::stoi(item.substr(colon + 1));
    }
    std::vector<int> tasks;
    for (const auto& t : tokenize([&] { std::string s = tasks_spec; for (char& c : s) if (c == ',') c = ' '; return s; }())) {
      tasks.push_back(std::stoi(t));
      MD_CHECK(tasks.back() >= 1 && tasks.back() <= 5, "--tasks: task ", t, " is not in 1..5");
    }
    const auto t_all = std::chrono::steady_clock::now();
    std::vector<Outcome> results(tasks.size());
    std::mutex io;
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t j = next++; j < tasks.size(); j = next++) {
        const int task = tasks[j];
        const auto t0 = std::chrono::steady_clock::now();
        const std::string stem = data + "/dialog-babi-" + kTaskFiles[task - 1];
        RetrievalData d = load_retrieval_data(stem + "-trn.txt", stem + "-dev.txt", stem + "-tst.txt",
                                              data + "/dialog-babi-candidates.txt", 50);
        // The OOV test set has words outside the vocabulary: they map to "unknown".
        const auto oov_ex = make_examples(read_dialogs(stem + "-tst-OOV.txt"));
        const EncodedExamples oov = encode(oov_ex, d.vocab, d.candidates, d.memory_size, d.sentence_size);
        MemN2NOptions mo;
        mo.vocab_size = d.vocab.size();
        mo.seed = seed;
        MemN2N net(mo, encode_candidates(d.candidates, d.vocab));
        FitOptions f;
        f.epochs = epochs.count(task) ? epochs[task] : 10;
        f.learning_rate = lr;
        f.seed = seed;
        const FitResult r = fit(net, d.train, d.validation, f, [&](const EpochRecord& e) {
          std::lock_guard<std::mutex> lock(io);
          std::cerr << fmt::format("task {} epoch {:3d} loss {:.4f} dev {:.4f}\n", task, e.epoch, e.train_loss,
                                   e.validation);
        });
        Outcome o;
        o.task = task;
        o.epochs = static_cast<int>(f.epochs);
        o.validation = r.best_validation;
        o.best_epoch = r.best_epoch;
        o.test = accuracy(net, d.test);
        o.test_oov = accuracy(net, oov);
        o.train_n = d.train.size();
        o.test_n = d.test.size();
        o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::lock_guard<std::mutex> lock(io);
        std::cerr << fmt::format("task {}: test {:.2f} % (OOV {:.2f} %) in {:.0f} s\n", task, 100 * o.test,
                                 100 * o.test_oov, o.seconds);
        results[j] = o;
      }
    };
    std::vector<std::thread> pool;
    for (int i = 0; i < std::max(1, threads); ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();

    std::filesystem::create_directories(out_dir);
    std::ofstream csv(out_dir + "/memn2n_babi.csv");
    csv << "task,epochs,best_epoch,train_examples,test_examples,validation,test,test_oov,paper,seconds\n";
    std::ofstream md(out_dir + "/memn2n_babi.md");
    md << "# MemN2N on bAbI dialog tasks 1-5 (per-response test accuracy, %)\n\n"
       << "Command: `repro_memn2n_babi --epochs " << epochs_spec << " --lr " << lr << " --threads " << threads
       << " --seed " << seed << "`; one seed; wall time " << fmt::format("{:.0f}", wall) << " s on "
       << threads << " thread(s) (one torch thread each).\n\n"
       << "Embedding 20, 3 hops, memory 50 (speaker and time tokens), bag of words, no match-type features, "
       << "batch 32, Adam, model selection on dev after each epoch, 4212 candidates.\n\n"
       << "| task | epochs | best epoch | test | test OOV | Bordes & Weston MemN2N | time (s) |\n|---|---|---|---|---|---|---|\n";
    for (const auto& o : results) {
      csv << fmt::format("{},{},{},{},{},{:.4f},{:.4f},{:.4f},{},{:.1f}\n", o.task, o.epochs, o.best_epoch, o.train_n,
                         o.test_n, o.validation, o.test, o.test_oov, kPaper[o.task - 1], o.seconds);
      md << fmt::format("| {} | {} | {} | {:.1f} | {:.1f} | {} | {:.0f} |\n", o.task, o.epochs, o.best_epoch,
                        100 * o.test, 100 * o.test_oov, kPaper[o.task - 1], o.seconds);
    }
    std::cout << "wrote " << out_dir << "/memn2n_babi.{md,csv} (" << fmt::format("{:.0f}", wall) << " s)\n";
  } catch (const metadial::Error& e) {
    std::cerr << "repro_memn2n_babi: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
