// End-to-end memory network for response retrieval (Sukhbaatar et al. 2015, as used for dialogue
// by Bordes, Boureau & Weston 2017 and Joshi, Mi & Faltings 2017): bag-of-words sentence
// encodings, a memory of the dialogue history whose slots carry speaker and time tokens,
// `hops` attention hops with a shared embedding A and a hop matrix H (u <- H u + o), and
// candidate scoring u . W(candidate). Match-type features are not implemented.
//
// The networks compute from an explicit parameter list (same order as parameters()), so that a
// meta-learner can evaluate them at simulated parameters (transfer/ wraps them that way).
// MemN2NWeightNet is the weight module of seed paper 001's dialogue experiment: a memory
// network over (history, user utterance + next bot utterance) giving one logit.
//
// Includes torch: the networks are torch modules and the encoded data torch tensors.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "metadial/agents/memn2n/babi.h"

namespace metadial::agents::memn2n {

/// The most word ids one encoded tensor may hold (N x memory_size x sentence_size, int64:
/// 4 GiB): encode() refuses more, with a message, instead of exhausting the memory.
inline constexpr int64_t kMaxEncodedElements = int64_t{1} << 29;

/// Examples as padded word-id tensors (0 = padding).
struct EncodedExamples {
  torch::Tensor story;         ///< int64 N x memory_size x sentence_size (oldest slot first, empty slots last)
  torch::Tensor query;         ///< int64 N x sentence_size
  torch::Tensor answer;        ///< int64 N: candidate index of the response
  torch::Tensor answer_words;  ///< int64 N x sentence_size: the response's words
  int64_t size() const { return answer.defined() ? answer.size(0) : 0; }
  /// The examples at `index` (int64).
  EncodedExamples select(const torch::Tensor& index) const;
};

/// Longest sentence, in words, of the examples and candidates, at most kMaxSentenceWords (longer
/// ones are cut), plus 2 for the speaker and time tokens of memory slots.
int64_t sentence_size(const std::vector<DialogExample>& examples, const CandidateSet& candidates);

/// Encodes examples: the last `memory_size` history utterances with their speaker and time
/// tokens; a sentence keeps its first min(sentence_size - 2, kMaxSentenceWords) words in a memory
/// slot, min(sentence_size, kMaxSentenceWords) as query or answer. Throws DataError (file:line)
/// when an answer is not a candidate, InvalidArgument when a tensor would hold more than
/// kMaxEncodedElements word ids.
EncodedExamples encode(const std::vector<DialogExample>& examples, const Vocabulary& vocab,
                       const CandidateSet& candidates, int64_t memory_size, int64_t sentence_size);

/// Candidates as word ids, int64 C x length; length <= 0: the longest candidate's word count, at
/// most kMaxSentenceWords (a candidate keeps its first kMaxSentenceWords words).
torch::Tensor encode_candidates(const CandidateSet& candidates, const Vocabulary& vocab, int64_t length = 0);

/// Sizes of a memory network.
struct MemN2NOptions {
  int64_t vocab_size = 0;     ///< words, padding and unknown included
  int64_t embedding = 20;     ///< d
  int64_t hops = 3;
  int64_t heads = 1;          ///< 2: a second candidate embedding for an auxiliary task
  double init_std = 0.1;      ///< parameters ~ N(0, init_std^2)
  uint64_t seed = 0;
  /// Throws InvalidArgument naming the first setting out of its domain.
  void validate() const;
};

/// The dialogue state after `hops` hops: u_0 = sum of A over `query` words (B x d), then
/// u <- u H + sum_i softmax_i(m_i . u) m_i with m_i = sum of A over memory slot i's words.
/// Row 0 of A (padding) is ignored. Empty slots get no attention.
torch::Tensor memory_state(const torch::Tensor& a, const torch::Tensor& h, const torch::Tensor& story,
                           const torch::Tensor& query_embedding, int64_t hops);

/// Sum of the rows of `table` over the non-padding ids of `ids` (... x L) -> ... x d.
torch::Tensor bag_of_words(const torch::Tensor& table, const torch::Tensor& ids);

/// The retrieval network. Parameters, in order: A (V x d), H (d x d), W (V x d) and, with two
/// heads, W2 (V x d).
class MemN2N : public torch::nn::Module {
 public:
  /// `candidates`: int64 C x L word ids (encode_candidates).
  MemN2N(const MemN2NOptions& options, torch::Tensor candidates);

  /// Candidate scores (B x C) for head 0 or 1 from explicit parameters.
  torch::Tensor scores(const torch::Tensor& story, const torch::Tensor& query, int64_t head,
                       const std::vector<torch::Tensor>& params) const;
  /// Per-example cross-entropy of the right candidate (B).
  torch::Tensor losses(const torch::Tensor& story, const torch::Tensor& query, const torch::Tensor& answer,
                       int64_t head, const std::vector<torch::Tensor>& params) const;
  /// Index of the best candidate per example (B), with the registered parameters.
  torch::Tensor predict(const torch::Tensor& story, const torch::Tensor& query, int64_t head = 0);

  const MemN2NOptions& options() const { return options_; }
  int64_t num_candidates() const { return candidates_.size(0); }

 private:
  MemN2NOptions options_;
  torch::Tensor candidates_;
};

/// Weight module: u_0 = sum of A over the user's and the response's words, `hops` hops over the
/// history, logit = u . v + b. Parameters: A (V x d), H (d x d), v (d), b (1).
class MemN2NWeightNet : public torch::nn::Module {
 public:
  explicit MemN2NWeightNet(const MemN2NOptions& options);
  /// Logits (B).
  torch::Tensor logits(const torch::Tensor& story, const torch::Tensor& query, const torch::Tensor& answer_words);

 private:
  MemN2NOptions options_;
  torch::Tensor a_, h_, v_, b_;
};

/// Settings of fit().
struct FitOptions {
  int64_t epochs = 20;
  int64_t batch_size = 32;
  double learning_rate = 1e-3;  ///< Adam
  double adam_eps = 1e-8;
  double clip_norm = 40;        ///< gradient-norm clipping (0: none)
  uint64_t seed = 0;            ///< batch order
  /// Throws InvalidArgument naming the first setting out of its domain.
  void validate() const;
};

/// One epoch of fit().
struct EpochRecord {
  int64_t epoch = 0;
  double train_loss = 0;   ///< mean over the epoch's batches
  double validation = 0;   ///< accuracy in [0, 1]
};

/// What fit() returns.
struct FitResult {
  double best_validation = 0;
  int64_t best_epoch = 0;           ///< the model holds that epoch's parameters
  std::vector<EpochRecord> epochs;
  double seconds = 0;               ///< wall time of training and validation
};

/// Trains head 0 with Adam on shuffled minibatches, validates after each epoch, keeps the
/// parameters of the best validation accuracy. `on_epoch` is called after each epoch.
FitResult fit(MemN2N& model, const EncodedExamples& train, const EncodedExamples& validation,
              const FitOptions& options, const std::function<void(const EpochRecord&)>& on_epoch = {});

/// A retrieval data set read from bAbI dialog files, encoded with one vocabulary.
struct RetrievalData {
  Vocabulary vocab;            ///< words of every split and of the candidates, plus speaker/time tokens
  CandidateSet candidates;
  int64_t memory_size = 0;
  int64_t sentence_size = 0;
  EncodedExamples train, validation, test;
};

/// Reads train / validation / test dialogue files (the first `max_dialogs` of each; -1: all) and
/// a candidate file. `test` may be empty (no test split). Throws DataError naming file and line
/// for malformed lines and responses missing from the candidates, and naming the file for a
/// split without any response; InvalidArgument for memory_size outside [1, kMaxMemorySize].
/// Sentences longer than kMaxSentenceWords words are cut (DialogReadStats counts them).
RetrievalData load_retrieval_data(const std::string& train, const std::string& validation, const std::string& test,
                                  const std::string& candidates, int64_t memory_size = 50, int64_t max_dialogs = -1);

/// Per-response accuracy in [0, 1] of head `head`.
double accuracy(MemN2N& model, const EncodedExamples& data, int64_t head = 0, int64_t chunk = 1024);

}  // namespace metadial::agents::memn2n
