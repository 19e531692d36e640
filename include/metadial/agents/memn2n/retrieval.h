// Train and evaluate the memory network of memn2n.h on bAbI-format files, with model files that
// hold parameters, vocabulary and candidates (the checksummed nn/model_file format, magic
// METADIAL-MEMN2N). Torch-free, for the CLI (`metadial memn2n`).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace metadial::agents::memn2n {

/// Settings of train_retrieval.
struct RetrievalTrainOptions {
  std::string train, validation, test;  ///< dialogue files (test optional)
  std::string candidates;               ///< candidate file
  int64_t epochs = 10;
  int64_t batch_size = 32;
  double learning_rate = 0.01;          ///< Adam
  int64_t memory_size = 50;
  int64_t embedding = 20;
  int64_t hops = 3;
  uint64_t seed = 0;
  std::string model_out;                ///< model file to write (empty: none)
};

/// What train_retrieval reports.
struct RetrievalTrainReport {
  int64_t train_examples = 0, validation_examples = 0, test_examples = 0;
  int64_t vocab_size = 0, candidates = 0;
  double best_validation = 0;
  int64_t best_epoch = 0;
  double test_accuracy = -1;  ///< -1 without a test file
  double seconds = 0;
};

/// Reads the files, trains (fit()), selects on validation, tests, writes the model file.
/// `on_epoch(epoch, train_loss, validation_accuracy)` after each epoch. Uses the calling thread
/// and LibTorch's intra-op threads, which the program sets (nn::set_torch_threads(1) suits it).
RetrievalTrainReport train_retrieval(const RetrievalTrainOptions& options,
                                     const std::function<void(int64_t, double, double)>& on_epoch = {});

/// Per-response accuracy in [0, 1] of a model file on a dialogue file (words the model has not
/// seen map to "unknown"). Throws DataError for a file that is not a memn2n model.
struct RetrievalEvalReport {
  double accuracy = 0;
  int64_t responses = 0;
};
RetrievalEvalReport evaluate_retrieval(const std::string& model_file, const std::string& dialogs);

}  // namespace metadial::agents::memn2n
