// Reproduction: dialogue state tracking of the end-to-end agent (Liu et al. 2018, Table 2) on the
// public sim-M data set: train the tracker on sim-M train (best epoch on dev), report per-slot and
// joint goal accuracy on sim-M test. The paper reports joint 84.57 % on its (larger, 100k
// dialogue) movie corpus; the target on sim-M is joint >= 80 %.
//
// Run from the repository root:
//   repro_e2e_dst_simm [--data DIR] [--epochs N] [--seed S] [--small] [--out bench/results]
// --small uses reduced sizes (word 64, LSTMs 64 / 96) for a quick run; default: the paper's sizes.
// Writes <out>/e2e_dst_simm.md and e2e_dst_simm.csv (the learning curve).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "metadial/agents/e2e/state_tracker.h"
#include "metadial/dialog/corpus.h"
#include "metadial/nn/threads.h"

using namespace metadial;

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process: small networks, one torch thread
  std::string data = "../shared/data/simulated-dialogue/sim-M";
  std::string out_dir = "bench/results";
  agents::e2e::TrackerOptions o;
  bool small = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--data") data = next();
    else if (a == "--epochs") o.epochs = std::stoi(next());
    else if (a == "--seed") o.seed = std::stoull(next());
    else if (a == "--out") out_dir = next();
    else if (a == "--small") small = true;
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (small) {
    o.word_dim = 64;
    o.utter_hidden = 64;
    o.dialog_hidden = 96;
    o.slot_hidden = 64;
  }
  const auto train = dialog::load_corpus(data + "/train.json");
  const auto dev = dialog::load_corpus(data + "/dev.json");
  const auto test = dialog::load_corpus(data + "/test.json");
  const auto onto = dialog::CorpusOntology::from({&train, &dev, &test});
  const auto t0 = std::chrono::steady_clock::now();
  agents::e2e::StateTracker tracker(onto, train, o);
  std::ofstream csv(out_dir + "/e2e_dst_simm.csv");
  csv << "epoch,train_loss,dev_joint,seconds\n";
  const auto curve = tracker.train(train, dev, [&](const agents::e2e::DstEpoch& e) {
    std::printf("epoch %d loss %.4f dev joint %.2f %% (%.1f s)\n", e.epoch, e.loss, 100 * e.dev_joint, e.seconds);
    std::fflush(stdout);
    csv << fmt::format("{},{:.5f},{:.5f},{:.2f}\n", e.epoch, e.loss, e.dev_joint, e.seconds);
  });
  const auto r = tracker.evaluate(test);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ofstream md(out_dir + "/e2e_dst_simm.md");
  md << "# State tracking on sim-M (Liu et al. 2018, Table 2)\n\n";
  md << fmt::format("Command: `repro_e2e_dst_simm{}{}` (seed {}, {} epochs, best epoch on dev).\n", small ? " --small" : "",
                    fmt::format(" --epochs {}", o.epochs), o.seed, o.epochs);
  md << fmt::format("Sizes: word {}, utterance LSTM {} per direction, dialogue LSTM {}, act {}, slot MLP {}, dropout {}, "
                    "Adam {}; {} parameters, {} words. Single CPU thread (metadial::nn::set_torch_threads(1)), wall time {:.0f} s.\n\n",
                    o.word_dim, o.utter_hidden, o.dialog_hidden, o.act_dim, o.slot_hidden, o.dropout, o.learning_rate,
                    tracker.num_parameters(), tracker.vocabulary_size(), secs);
  md << fmt::format("Data: sim-M train {} / dev {} / test {} dialogues; test has {} turns. Candidate values: the union "
                    "of the values of the three splits (sim-M ships no ontology); 88 % of test turns hold a movie not "
                    "seen in train, handled by the value-mention features (see state_tracker.h).\n\n",
                    train.size(), dev.size(), test.size(), r.turns);
  md << "| goal slot | accuracy (%) | paper, its movie corpus (%) |\n|---|---|---|\n";
  auto paper = [](const std::string& s) -> std::string {
    if (s == "num_tickets") return "98.22";
    if (s == "movie") return "91.86";
    if (s == "theatre_name") return "97.33";
    if (s == "date") return "99.31";
    if (s == "time") return "97.71";
    return "-";
  };
  for (size_t s = 0; s < r.slots.size(); ++s) {
    md << fmt::format("| {} | {:.2f} | {} |\n", r.slots[s], 100 * r.slot_accuracy[s], paper(r.slots[s]));
  }
  md << fmt::format("| **joint** | **{:.2f}** | 84.57 |\n\n", 100 * r.joint_accuracy);
  md << fmt::format("Target (issue 5): joint >= 80 % -> {}.\n", r.joint_accuracy >= 0.8 ? "met" : "NOT met");
  md << "\nLearning curve: e2e_dst_simm.csv (epoch, training loss, dev joint accuracy, seconds).\n";
  std::printf("test joint %.2f %% (%d turns), %.0f s\n", 100 * r.joint_accuracy, r.turns, secs);
  for (size_t s = 0; s < r.slots.size(); ++s) std::printf("  %s %.2f %%\n", r.slots[s].c_str(), 100 * r.slot_accuracy[s]);
  (void)curve;
  return 0;
}
