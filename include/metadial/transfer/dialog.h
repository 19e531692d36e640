// Experiment 2 of seed paper 001 (section 4.2, appendix B): personalized restaurant reservation.
// Primary task: a personalized bAbI dialog task (Joshi et al. 2017) with only 50, 100 or 150
// training (and as many validation) dialogues; related task: bAbI dialog task 5 (Bordes et al.
// 2017, 1000 dialogues). M_theta is an end-to-end memory network for response retrieval
// (agents/memn2n) with an auxiliary head for the related task where the method asks for one;
// P_eta a memory network over (history, user utterance + next bot utterance) giving one weight.
//
// Candidates: every bot utterance of the primary task's train, dev and test files plus those of
// the related training dialogues (what the data sets' candidate files are made of, restricted to
// the two tasks used). Vocabulary: the words of the training data of both tasks and of the
// candidates; other words map to "unknown".
//
// Torch-free on purpose (the loaded data sit behind a pimpl): reproduction drivers and the CLI
// configure and run it without compiling torch headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metadial/transfer/options.h"

namespace metadial::transfer {

/// Settings of one dialogue transfer run.
class DialogTransferOptions {
  /// Primary task files (personalized bAbI): training, validation, test.
  METADIAL_TRANSFER_ARG(DialogTransferOptions, std::string, primary_train, "");
  METADIAL_TRANSFER_ARG(DialogTransferOptions, std::string, primary_validation, "");
  METADIAL_TRANSFER_ARG(DialogTransferOptions, std::string, primary_test, "");
  /// Related task training file (bAbI dialog task 5).
  METADIAL_TRANSFER_ARG(DialogTransferOptions, std::string, related_train, "");
  /// Primary training dialogues (the first this-many of the file); as many validation dialogues.
  METADIAL_TRANSFER_ARG(DialogTransferOptions, int64_t, primary_dialogs, 50);
  /// Related dialogues (the first this-many; -1: all).
  METADIAL_TRANSFER_ARG(DialogTransferOptions, int64_t, related_dialogs, 1000);
  /// Test dialogues (the first this-many; -1: all).
  METADIAL_TRANSFER_ARG(DialogTransferOptions, int64_t, test_dialogs, -1);
  /// Memory slots (the most recent utterances of the history).
  METADIAL_TRANSFER_ARG(DialogTransferOptions, int64_t, memory_size, 50);
  /// Embedding size d and hops of both memory networks (paper: 20 and 3).
  METADIAL_TRANSFER_ARG(DialogTransferOptions, int64_t, embedding, 20);
  METADIAL_TRANSFER_ARG(DialogTransferOptions, int64_t, hops, 3);
  /// The trainer's settings; with_method picks the Table 2 row. Defaults: the paper's (appendix
  /// B): batch 32, Adam 1e-3, a primary step, a weighted related step through the auxiliary
  /// head, 10 eta updates through 5 simulated steps per iteration.
  METADIAL_TRANSFER_ARG(DialogTransferOptions, TrainerOptions, trainer,
                        TrainerOptions()
                            .batch_size(32)
                            .primary_step(true)
                            .weighting(Weighting::kLearned)
                            .separate_related_head(true)
                            .meta_updates(10)
                            .simulated_steps(5)
                            .iterations(2000)
                            .eval_every(100));
  /// Bins on [0, 1] of the final histogram of related weights (learned weighting only).
  METADIAL_TRANSFER_ARG(DialogTransferOptions, int64_t, histogram_bins, 10);
  /// Seeds the modules' initialisation (the trainer keeps trainer().seed()).
  METADIAL_TRANSFER_ARG(DialogTransferOptions, uint64_t, seed, 0);

 public:
  /// Throws InvalidArgument naming the first setting out of its domain (paths included).
  void validate() const;
};

/// The outcome of one run.
struct DialogTransferResult {
  double test_accuracy = 0;        ///< per-response, of the model selected on validation, in [0, 1]
  double best_validation = 0;
  int64_t best_iteration = 0;
  std::vector<std::pair<int64_t, double>> curve;  ///< (iteration, validation accuracy)
  std::vector<int64_t> weight_histogram;  ///< related examples per weight bin at the end (learned only)
  double mean_weight = 0;                 ///< mean final weight of the related examples (learned only)
  /// Learned only: mean final weight of the related examples whose response offers a restaurant
  /// ("what do you think of this option: ...", the part of task 5 whose order, by rating alone,
  /// contradicts personalized task 3) and of the others, and how many there are of each.
  double mean_weight_offer = 0;
  double mean_weight_other = 0;
  int64_t related_offer_examples = 0;
  int64_t vocab_size = 0;
  int64_t candidates = 0;
  int64_t primary_examples = 0;    ///< training responses
  int64_t validation_examples = 0;
  int64_t related_examples = 0;
  int64_t test_examples = 0;
  double step_seconds = 0;         ///< wall time of the training iterations
  double total_seconds = 0;        ///< including data preparation, validation and test
};

/// Read and encoded data of one data setting, to share between runs (methods, seeds).
class DialogTransferData {
 public:
  /// Reads and encodes the files of `options` (DataError naming file and line for bad input).
  explicit DialogTransferData(const DialogTransferOptions& options);
  ~DialogTransferData();
  DialogTransferData(DialogTransferData&&) noexcept;
  DialogTransferData& operator=(DialogTransferData&&) noexcept;
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/// One run on `data` (read with the same file and size settings) with `options.trainer()`: a
/// second model head when trainer().separate_related_head(), the weight network when the
/// weighting is learned. Uses the calling thread only.
DialogTransferResult run_dialog_transfer(const DialogTransferData& data, const DialogTransferOptions& options);

}  // namespace metadial::transfer
