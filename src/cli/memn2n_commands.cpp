#include "cli/memn2n_commands.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metadial/agents/memn2n/retrieval.h"
#include "metadial/core/error.h"

namespace metadial::cli {
namespace {

using namespace agents::memn2n;

const char* kTaskFiles[] = {"task1-API-calls", "task2-API-refine", "task3-options", "task4-phone-address",
                            "task5-full-dialogs"};

std::string babi_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("METADIAL_BABI_DIR")) return env;
  return "../shared/data/babi-dialog";
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
  const RetrievalEvalReport r = evaluate_retrieval(a.model, a.test);
  if (a.json) {
    out << nlohmann::json{{"test_accuracy", r.accuracy}, {"responses", r.responses}}.dump() << "\n";
  } else {
    out << fmt::format("test {:.2f} % ({} responses)\n", 100 * r.accuracy, r.responses);
  }
  return 0;
}

Memn2nCommand add_memn2n_command(CLI::App& app) {
  auto* m = app.add_subcommand("memn2n", "end-to-end memory network for response retrieval (bAbI dialog format)");
  m->require_subcommand(1);
  auto train = std::make_shared<Memn2nTrainArgs>();
  auto* t = m->add_subcommand("train", "train on bAbI-format dialogues, select on dev, report test accuracy");
  t->add_option("--task", train->task, "bAbI dialog task 1..5 (files from --data)");
  t->add_option("--data", train->data, "bAbI dialog folder (default $METADIAL_BABI_DIR or ../shared/data/babi-dialog)");
  t->add_option("--train", train->train, "training dialogues");
  t->add_option("--dev", train->dev, "validation dialogues");
  t->add_option("--test", train->test, "test dialogues");
  t->add_option("--candidates", train->candidates, "candidate responses");
  t->add_option("--epochs", train->epochs, "epochs (default 10)");
  t->add_option("--lr", train->lr, "Adam learning rate (default 0.01)");
  t->add_option("--memory", train->memory, "memory slots (default 50)");
  t->add_option("--batch", train->batch, "batch size (default 32)");
  t->add_option("--seed", train->seed, "seed");
  t->add_option("--out", train->out, "model file to write");
  t->add_flag("--json", train->json, "one JSON line");
  auto eval = std::make_shared<Memn2nEvalArgs>();
  auto* e = m->add_subcommand("eval", "per-response accuracy of a trained model on a dialogue file");
  e->add_option("--model", eval->model, "model file from `memn2n train --out`")->required();
  e->add_option("--test", eval->test, "dialogues to evaluate")->required();
  e->add_flag("--json", eval->json, "one JSON line");
  Memn2nCommand c;
  c.app = m;
  c.run = [t, train, eval](std::ostream& out) {
    if (t->parsed()) return run_memn2n_train(*train, out);
    return run_memn2n_eval(*eval, out);
  };
  return c;
}

}  // namespace metadial::cli
