// Private to agents/e2e: turning annotated dialogues into tensors (vocabularies, value-mention
// features, padded batches) and the tracker network of state_tracker.h. Includes torch.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "metadial/agents/e2e/state_tracker.h"
#include "metadial/core/random.h"
#include "metadial/dialog/corpus.h"

namespace metadial::agents::e2e {

/// Number of value-mention features per candidate value.
inline constexpr int kMentionFeatures = 7;
/// Size of the KB query summary E_k: [any constraint, 0 matches, 1, 2-5, > 5, log(1+n)/log(1+N)].
inline constexpr int kKbFeatures = 6;

/// The KB query summary of a tracked state (per slot of the tracker's ontology: value or "").
using KbSummaryFn = std::function<std::vector<float>(const std::vector<std::string>& state)>;

/// The system action label of a corpus turn's system acts: "TYPE:slot" of the first act.
std::string system_action_label(const std::vector<dialog::CorpusAct>& acts);

/// Vocabulary and output sizes.
struct Sizes {
  int vocab = 2;    ///< words, with 0 = <pad>, 1 = <unk>
  int acts = 1;     ///< system act labels "TYPE:slot", with 0 = <start>
  int slots = 0;
  std::vector<int> classes;  ///< per slot: 1 (none) + number of values
  int actions = 0;           ///< system action labels the policy chooses from
};

/// One turn as numbers.
struct EncodedTurn {
  std::vector<int64_t> words;     ///< user utterance token ids (at least one: <pad> if empty)
  std::vector<uint8_t> in_value;  ///< per token: part of a value mention
  std::vector<float> tags;        ///< tokens x slots: token is part of a value of that slot
  std::vector<int64_t> acts;      ///< previous system act label ids
  std::vector<std::vector<float>> features;  ///< per slot: classes x kMentionFeatures
  std::vector<int64_t> labels;    ///< per slot: class (0 = none); empty without labels
  int64_t action = -1;            ///< the system's next action (policy label), -1 if unknown
  std::vector<float> kb;          ///< KB summary of the labelled state (zeros without labels)
};

struct EncodedDialogue {
  std::vector<EncodedTurn> turns;
};

/// The vocabularies of a Featurizer, in id order (what a model file stores).
struct Vocabulary {
  std::vector<std::string> words;    ///< words[0] = "<pad>", words[1] = "<unk>"
  std::vector<std::string> acts;     ///< acts[0] = "<start>"
  std::vector<std::string> actions;  ///< policy action labels
};

/// Builds vocabularies from a training corpus and encodes dialogues.
class Featurizer {
 public:
  Featurizer(const dialog::CorpusOntology& ontology, const std::vector<dialog::CorpusDialogue>& train);
  /// Restores a Featurizer from its vocabularies. InvalidArgument naming the problem if they are
  /// not a Featurizer's (missing <pad>/<unk>/<start>, a duplicate, no actions).
  Featurizer(const dialog::CorpusOntology& ontology, const Vocabulary& vocabulary);
  Vocabulary vocabulary() const;
  EncodedDialogue encode(const dialog::CorpusDialogue& d, bool with_labels) const;
  const Sizes& sizes() const { return sizes_; }
  const dialog::CorpusOntology& ontology() const { return ontology_; }
  /// Class of a value of slot s (0 for ""), -1 if unknown.
  int value_class(size_t slot, const std::string& value) const;
  /// Id of a system act label ("REQUEST:movie"), or -1.
  int act_id(const std::string& label) const;
  /// Policy action labels (next system act of each training turn; "GOOD_BYE:" after the last).
  const std::vector<std::string>& actions() const { return action_names_; }
  /// Index of a policy action label, or -1.
  int action_id(const std::string& label) const;
  /// Computes EncodedTurn::kb from the labelled state (unset: zeros).
  void set_kb_summary(KbSummaryFn fn) { kb_summary_ = std::move(fn); }
  const KbSummaryFn& kb_summary() const { return kb_summary_; }

 private:
  struct ValueRef {
    int slot;
    int value;
    std::vector<std::string> tokens;
  };
  // Mentions in a token list: per slot, per value, whether it occurs; per token, slot tags.
  void init_values();
  void mentions(const std::vector<std::string>& tokens, std::vector<std::vector<uint8_t>>& found,
                std::vector<float>* tags, std::vector<uint8_t>* in_value) const;

  dialog::CorpusOntology ontology_;
  Sizes sizes_;
  std::unordered_map<std::string, int64_t> words_;
  std::unordered_map<std::string, int> acts_;
  std::vector<std::unordered_map<std::string, int>> values_;
  std::unordered_map<std::string, std::vector<ValueRef>> by_first_token_;
  std::vector<std::string> action_names_;
  std::unordered_map<std::string, int> action_ids_;
  KbSummaryFn kb_summary_;
};

/// A padded batch of dialogues.
struct Batch {
  torch::Tensor words, words_rev;  ///< N x L
  torch::Tensor tags, tags_rev;    ///< N x L x slots
  torch::Tensor last;              ///< N: index of each utterance's last token
  torch::Tensor acts;              ///< N x acts (multi-hot)
  torch::Tensor dlg_index;         ///< B*K: row of the N turns (N = padding row)
  torch::Tensor flat_pos;          ///< N: b*K+k
  std::vector<torch::Tensor> features;  ///< per slot: N x classes x F
  std::vector<torch::Tensor> labels;    ///< per slot: N (empty without labels)
  torch::Tensor actions;                ///< N: policy labels (-1 unknown: ignored by the loss)
  torch::Tensor kb;                     ///< N x kKbFeatures
  int64_t num_turns = 0, batch = 0, max_turns = 0;
};

/// Pads `dialogues` into a batch; with unk_prob > 0 each value-mention token becomes <unk>
/// with that probability (drawn from rng).
Batch make_batch(const std::vector<const EncodedDialogue*>& dialogues, const Sizes& sizes, double unk_prob, Rng& rng);

struct TrackerOutput {
  torch::Tensor state;                     ///< N x dialog_hidden: s_k (after dropout in training)
  std::vector<torch::Tensor> slot_logits;  ///< per slot: N x classes
};

/// Encoder + dialogue LSTM + slot heads. Initial weights are drawn from `init` (LibTorch's default
/// distributions, nn::reset_parameters), and so is the seed of the dropout masks: nothing comes from
/// torch's global generator. Construct it inside nn::build_module().
struct TrackerNetImpl : torch::nn::Module {
  TrackerNetImpl(const Sizes& sizes, const TrackerOptions& options, Rng& init);
  TrackerOutput forward(const Batch& b);
  /// Inverted dropout (as torch::nn::Dropout) in training mode, the identity otherwise; the mask
  /// is drawn from dropout_gen.
  torch::Tensor dropout(const torch::Tensor& x);

  torch::nn::Embedding embed{nullptr};
  torch::nn::LSTM fwd{nullptr}, bwd{nullptr}, dialog{nullptr};
  torch::nn::Linear act{nullptr};
  double dropout_p = 0.0;
  at::Generator dropout_gen;
  std::vector<torch::nn::Linear> hidden, project, direct;
  std::vector<torch::Tensor> out_rows;
  int utter_hidden = 0;
};
TORCH_MODULE(TrackerNet);

/// Sum over slots of the mean cross-entropy over turns (equation 4, slot part, lambda = 1).
torch::Tensor slot_loss(const TrackerOutput& out, const Batch& b);

/// Equation 4 exactly: sum over turns k of -[sum_m lambda_m log P(l_k^m*) + lambda_a log P(a_k*)]
/// from the slot logits (per slot N x C_m), slot labels (per slot N), action logits (N x A) and
/// action labels (N; a label < 0 leaves the action term of that turn out).
torch::Tensor equation4_loss(const std::vector<torch::Tensor>& slot_logits, const std::vector<torch::Tensor>& slot_labels,
                             const torch::Tensor& action_logits, const torch::Tensor& action_labels,
                             const std::vector<double>& lambda_slots, double lambda_action);

/// Policy network (equation 3): one hidden layer over [s_k, v_k, E_k], softmax over actions.
/// Initial weights are drawn from `init`.
struct PolicyNetImpl : torch::nn::Module {
  PolicyNetImpl(const Sizes& sizes, int dialog_hidden, int hidden, Rng& init);
  /// Action logits; `detach_tracker` stops gradients into the tracker (policy-only training).
  torch::Tensor forward(const TrackerOutput& t, const torch::Tensor& kb, bool detach_tracker);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(PolicyNet);

}  // namespace metadial::agents::e2e
