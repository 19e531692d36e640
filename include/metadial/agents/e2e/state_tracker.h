// Neural dialogue state tracker of the end-to-end agent (Liu et al. 2018, sections 3.1-3.2):
// word embeddings -> bidirectional LSTM utterance encoder (U_k = last forward and backward
// states) -> dialogue-level LSTM over [U_k, A_{k-1}] (A_{k-1}: embedding of the previous system
// act, a bag of "TYPE:slot" act labels) -> per goal slot a one-hidden-layer MLP with softmax over
// the slot's candidate values plus "none" (equation 2). Trained with the slot part of equation
// 4 (cross-entropy summed over slots and turns), Adam, dropout, best epoch chosen on dev joint
// goal accuracy.
//
// Candidate values and unseen words. A value's logit is <h_m, e_{m,v}> (the paper's softmax
// output row, initialised to zero) plus a delexicalised term <h_m, P_m f_v> + w_m . f_v, where
// f_v are string-match features of the value in the dialogue so far (mentioned by the user in
// this turn / the previous turn / earlier, by the system in this turn / earlier, the latest
// user-mentioned value of the slot); the encoder's input per token is [embedding, one bit per
// slot: the token is part of a known value]. Without these, a softmax over word embeddings
// cannot name a value whose words it never saw (88 % of sim-M test turns hold a movie that is
// not in sim-M train). The candidate values are the ontology (CorpusOntology) given at
// construction: for sim-M, the union of the values of all splits, as the data set ships no
// separate ontology.
//
// LibTorch behind a pimpl: this header does not include torch. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "metadial/dialog/corpus.h"

namespace metadial::agents::e2e {

/// Sizes and training settings. Defaults are the paper's section 4.2.
struct TrackerOptions {
  int word_dim = 300;       ///< word embedding size
  int utter_hidden = 150;   ///< utterance-level LSTM state (each direction)
  int dialog_hidden = 200;  ///< dialogue-level LSTM state
  int act_dim = 32;         ///< system act embedding size
  int slot_hidden = 100;    ///< hidden layer of each slot MLP
  double dropout = 0.5;
  double learning_rate = 1e-3;
  int epochs = 15;
  int batch_dialogues = 8;
  double unk_value_prob = 0.5;  ///< training: a token of a value mention becomes <unk> with this probability
  bool mention_features = true; ///< the delexicalised value term (false: the paper's plain softmax)
  uint64_t seed = 0;
  /// InvalidArgument naming the bad field.
  void validate() const;
};

/// Per-slot and joint goal accuracy over the turns of a corpus.
struct DstReport {
  std::vector<std::string> slots;
  std::vector<double> slot_accuracy;  ///< per slot: fraction of turns whose value is right ("none" included)
  double joint_accuracy = 0.0;        ///< fraction of turns with every slot right
  int turns = 0;
};

/// One epoch of training: mean loss, dev joint accuracy.
struct DstEpoch {
  int epoch = 0;
  double loss = 0.0;
  double dev_joint = 0.0;
  double seconds = 0.0;
};

/// The state tracker.
class StateTracker {
 public:
  /// A fresh tracker over `ontology`'s slots and values, with the word vocabulary of `train`
  /// (words seen there; others map to <unk>) and its system act labels.
  StateTracker(const dialog::CorpusOntology& ontology, const std::vector<dialog::CorpusDialogue>& train,
               const TrackerOptions& options);
  ~StateTracker();
  StateTracker(StateTracker&&) noexcept;
  StateTracker& operator=(StateTracker&&) noexcept;

  /// Trains on `train`, keeping the parameters of the epoch with the best joint accuracy on
  /// `dev` (the last epoch if dev is empty). `on_epoch` (optional) sees each epoch.
  std::vector<DstEpoch> train(const std::vector<dialog::CorpusDialogue>& train,
                              const std::vector<dialog::CorpusDialogue>& dev,
                              const std::function<void(const DstEpoch&)>& on_epoch = {});
  /// Per-slot and joint accuracy on `data`. DataError naming the dialogue if a state holds a
  /// slot or value the ontology does not know.
  DstReport evaluate(const std::vector<dialog::CorpusDialogue>& data);
  /// The tracked state after each turn of `dialogue`: per turn, per slot the value or "" (none).
  std::vector<std::vector<std::string>> predict(const dialog::CorpusDialogue& dialogue);
  /// Mean training loss (equation 4, slot part) of `data` without dropout.
  double loss(const std::vector<dialog::CorpusDialogue>& data);

  const dialog::CorpusOntology& ontology() const;
  const TrackerOptions& options() const;
  int vocabulary_size() const;
  int64_t num_parameters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace metadial::agents::e2e
