#include "cli/memn2n_commands.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metadial/agents/memn2n/babi.h"
#include "metadial/agents/memn2n/retrieval.h"
#include "metadial/core/data.h"
#include "metadial/core/error.h"

namespace metadial::cli {
namespace {

using namespace agents::memn2n;

const char* kTaskFiles[] = {"task1-API-calls", "task2-API-refine", "task3-options", "task4-phone-address",
                            "task5-full-dialogs"};

// --data is the bAbI dialog folder itself; without it, babi-dialog/ in the data folder.
std::string babi_dir(const std::string& flag) { return flag.empty() ? data_set_dir("babi-dialog") : flag; }

// What a dialogue file holds, for the summary printed before training or scoring: counts and
// what the reader changed (empty user sides read as <SILENCE>, overlong sentences cut).
struct FileSummary {
  std::string role, path;
  DialogReadStats stats;
};

FileSummary summarize(const std::string& role, const std::string& path) {
  FileSummary f{role, path, {}};
  (void)read_dialogs(path, -1, &f.stats);
  return f;
}

// "1 dialogue", "2 dialogues".
std::string counted(int64_t n, const char* thing) { return fmt::format("{} {}{}", n, thing, n == 1 ? "" : "s"); }

std::string describe(const FileSummary& f) {
  const DialogReadStats& s = f.stats;
  std::string line = fmt::format("{} {}: {}, {}", f.role, f.path, counted(s.dialogs, "dialogue"), counted(s.responses, "response"));
  if (s.silent_turns > 0) line += fmt::format("; {} read as {}", counted(s.silent_turns, "empty user side"), kSilence);
  if (s.long_sentences > 0) {
    line += fmt::format("; {} of more than {} words cut to {} first {} (longest {} words, first at {}:{})",
                        counted(s.long_sentences, "sentence"), kMaxSentenceWords, s.long_sentences == 1 ? "its" : "their",
                        kMaxSentenceWords, s.longest_sentence, f.path, s.first_long_line);
  }
  return line + "\n";
}

nlohmann::json to_json(const FileSummary& f) {
  return {{"file", f.path},
          {"dialogues", f.stats.dialogs},
          {"responses", f.stats.responses},
          {"silent_turns", f.stats.silent_turns},
          {"cut_sentences", f.stats.long_sentences}};
}

void check_memory(int memory) {
  MD_CHECK(memory >= 1 && memory <= kMaxMemorySize, "--memory ", memory, " must be in [1, ", kMaxMemorySize,
           "] (memory slots: the last utterances a response is chosen from; the references use 50)");
}

}  // namespace

int run_memn2n_train(const Memn2nTrainArgs& a, std::ostream& out) {
  RetrievalTrainOptions o;
  o.train = a.train;
  o.validation = a.dev;
  o.test = a.test;
  o.candidates = a.candidates;
  if (a.task != 0) {
    MD_CHECK(a.task >= 1 && a.task <= 5, "--task ", a.task, " must be in 1..5 (the bAbI dialog tasks)");
    MD_CHECK(o.train.empty() && o.validation.empty(), "--task and --train/--dev exclude each other");
    const std::string dir = babi_dir(a.data);
    const std::string stem = dir + "/dialog-babi-" + kTaskFiles[a.task - 1];
    o.train = stem + "-trn.txt";
    o.validation = stem + "-dev.txt";
    if (o.test.empty()) o.test = stem + "-tst.txt";
    if (o.candidates.empty()) o.candidates = dir + "/dialog-babi-candidates.txt";
  }
  MD_CHECK(!o.train.empty() && !o.validation.empty() && !o.candidates.empty(),
           "memn2n train needs --task N, or --train, --dev and --candidates files");
  check_memory(a.memory);
  std::vector<FileSummary> files{summarize("train", o.train), summarize("dev", o.validation)};
  if (!o.test.empty()) files.push_back(summarize("test", o.test));
  if (!a.json) {
    for (const auto& f : files) out << describe(f);
    out.flush();
  }
  o.epochs = a.epochs;
  o.learning_rate = a.lr;
  o.memory_size = a.memory;
  o.batch_size = a.batch;
  o.seed = a.seed;
  o.model_out = a.out;
  const RetrievalTrainReport r = train_retrieval(o, [&](int64_t epoch, double loss, double dev) {
    if (!a.json) out << fmt::format("epoch {:3d}  loss {:.4f}  dev {:.2f} %\n", epoch, loss, 100 * dev);
  });
  if (a.json) {
    nlohmann::json j{{"train_examples", r.train_examples}, {"validation_examples", r.validation_examples},
                     {"best_validation", r.best_validation}, {"best_epoch", r.best_epoch},
                     {"vocab_size", r.vocab_size},         {"candidates", r.candidates},
                     {"seconds", r.seconds}};
    nlohmann::json read = nlohmann::json::object();
    for (const auto& f : files) read[f.role] = to_json(f);
    j["files"] = std::move(read);
    if (r.test_accuracy >= 0) {
      j["test_accuracy"] = r.test_accuracy;
      j["test_examples"] = r.test_examples;
    }
    if (!a.out.empty()) j["model"] = a.out;
    out << j.dump() << "\n";
  } else {
    out << fmt::format("best dev {:.2f} % (epoch {}), {:.0f} s\n", 100 * r.best_validation, r.best_epoch, r.seconds);
    if (r.test_accuracy >= 0) out << fmt::format("test {:.2f} % ({} responses)\n", 100 * r.test_accuracy, r.test_examples);
    if (!a.out.empty()) out << "wrote " << a.out << "\n";
  }
  return 0;
}

int run_memn2n_eval(const Memn2nEvalArgs& a, std::ostream& out) {
  // A file without any response is refused (make_examples): 0 % of 0 responses is no result.
  const FileSummary f = summarize("test", a.test);
  const RetrievalEvalReport r = evaluate_retrieval(a.model, a.test);
  if (a.json) {
    out << nlohmann::json{{"test_accuracy", r.accuracy}, {"responses", r.responses}, {"silent_turns", f.stats.silent_turns}}
               .dump()
        << "\n";
  } else {
    if (f.stats.silent_turns > 0) {
      out << fmt::format("{}: {} read as {}\n", a.test, counted(f.stats.silent_turns, "empty user side"), kSilence);
    }
    out << fmt::format("test {:.2f} % ({} responses)\n", 100 * r.accuracy, r.responses);
  }
  return 0;
}

void declare_memn2n_train(CLI::App& t, Memn2nTrainArgs& a) {
  t.add_option("--task", a.task, "bAbI dialog task 1..5 (files from --data)");
  t.add_option("--data", a.data, "bAbI dialog folder (default: babi-dialog/ in $METADIAL_DATA, else in ~/.local/share/metadial)");
  t.add_option("--train", a.train, "training dialogues");
  t.add_option("--dev", a.dev, "validation dialogues");
  t.add_option("--test", a.test, "test dialogues");
  t.add_option("--candidates", a.candidates, "candidate responses");
  t.add_option("--epochs", a.epochs, "epochs (default 10)");
  t.add_option("--lr", a.lr, "Adam learning rate (default 0.01)");
  t.add_option("--memory", a.memory, "memory slots (default 50, at most 1000)");
  t.add_option("--batch", a.batch, "batch size (default 32)");
  t.add_option("--seed", a.seed, "seed");
  t.add_option("--out", a.out, "model file to write");
  t.add_flag("--json", a.json, "one JSON line");
}

void declare_memn2n_eval(CLI::App& e, Memn2nEvalArgs& a) {
  e.add_option("--model", a.model, "model file from `memn2n train --out`")->required();
  e.add_option("--test", a.test, "dialogues to evaluate")->required();
  e.add_flag("--json", a.json, "one JSON line");
}

}  // namespace metadial::cli
