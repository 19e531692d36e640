// `metadial memn2n ...`: the end-to-end memory network for response retrieval on bAbI-format
// dialogue files (agents/memn2n), alone.
//
//   memn2n train (--task N [--data DIR] | --train F --dev F [--test F] --candidates F)
//                [--epochs 10] [--lr 0.01] [--memory 50] [--seed 0] [--out model.pt] [--json]
//   memn2n eval  --model model.pt --test F [--json]
//
// --task N reads DIR/dialog-babi-taskN-*-{trn,dev,tst}.txt and DIR/dialog-babi-candidates.txt
// (DIR: --data, else babi-dialog/ in the data folder, core/data.h). A model file holds the
// parameters, vocabulary and candidates. `train` first prints one line per file: dialogues,
// responses, empty user sides read as <SILENCE>, sentences cut to kMaxSentenceWords (babi.h).
// Bad input (malformed line, a file without any response, a response missing from the
// candidates, --memory outside [1, kMaxMemorySize], a file that is not a memn2n model) throws
// DataError / InvalidArgument with one line.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace metadial::cli {

struct Memn2nTrainArgs {
  int task = 0;  ///< 1..5: bAbI dialog task files from `data`
  std::string data;
  std::string train, dev, test, candidates;
  int epochs = 10;
  double lr = 0.01;
  int memory = 50;
  int batch = 32;
  uint64_t seed = 0;
  std::string out;
  bool json = false;
};

struct Memn2nEvalArgs {
  std::string model;
  std::string test;
  bool json = false;
};

int run_memn2n_train(const Memn2nTrainArgs& args, std::ostream& out);
int run_memn2n_eval(const Memn2nEvalArgs& args, std::ostream& out);

/// Flags of `memn2n train` and `memn2n eval`.
void declare_memn2n_train(CLI::App& command, Memn2nTrainArgs& args);
void declare_memn2n_eval(CLI::App& command, Memn2nEvalArgs& args);

}  // namespace metadial::cli
