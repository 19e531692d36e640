// The end-to-end task-oriented dialogue agent of Liu et al. 2018 (Figure 1): the state tracker
// of state_tracker.h (utterance BiLSTM, dialogue LSTM, per-slot value softmax), a symbolic KB
// query from the best value of each slot summarised as E_k (availability and number of
// matches), a policy MLP over [s_k, slot log-probabilities v_k, E_k] emitting a system action
// (act type + slot, equation 3), and template NLG that fills the action from the tracked values
// and the KB entities (dialog/nlg.h).
//
// Supervised training minimises equation 4 (interpolated cross-entropy of slot labels and the
// corpus' next system action; E_k computed from the annotated state, i.e. teacher forcing),
// divided by the number of turns. Interactive dialogues run against the agenda-based user
// (dialog/user_simulator.h) realised by the template NLG (extended templates by default), for
// at most 15 system turns. Success (section 4.2): the tracked goal values match the user's
// goal on every slot and the user accepted the offered entity.
//
// Action labels ("REQUEST:movie", "CONFIRM:date", "SELECT:time", "OFFER:name",
// "NOTIFY_FAILURE:", "OTHER:" = reqmore, "GOOD_BYE:") map to system acts: confirm uses the
// tracked value, select the two best values, offer the lowest-id KB entity matching the tracked
// values (stating them; no match -> inform(name=none)).
//
// Model files (save / load): one file, a magic line "METADIAL-E2E <version>", the length of a
// JSON header, the header (domain name and knowledge-base options, with a fingerprint of the
// KB; the tracker ontology; the word, act and action vocabularies; the options; parameter
// shapes, byte count and checksum), then torch::save() of the tracker and policy parameters.
// Agents on built-in domains only (the loader rebuilds the domain from its name and KB options).
//
// LibTorch behind a pimpl. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metadial/agents/e2e/state_tracker.h"
#include "metadial/dialog/acts.h"
#include "metadial/dialog/corpus.h"
#include "metadial/dialog/goal.h"
#include "metadial/dialog/knowledge_base.h"
#include "metadial/dialog/nlg.h"
#include "metadial/dialog/user_simulator.h"

namespace metadial::dialog {
class Domain;
}

namespace metadial::agents::e2e {

/// Model and supervised-training settings (tracker sizes: TrackerOptions, paper defaults).
struct AgentOptions {
  TrackerOptions tracker;
  int policy_hidden = 100;     ///< policy MLP hidden layer (paper: 100)
  double lambda_slot = 1.0;    ///< equation 4 weight of each slot's cross-entropy
  double lambda_action = 1.0;  ///< equation 4 weight of the action cross-entropy
  void validate() const;
};

/// One supervised epoch.
struct SlEpoch {
  int epoch = 0;
  double loss = 0.0;           ///< equation 4 per turn, training data (with dropout)
  double dev_joint = 0.0;
  double dev_action_accuracy = 0.0;
  double seconds = 0.0;
};

/// Interactive evaluation settings.
struct InteractiveOptions {
  int dialogues = 200;
  int max_turns = 15;
  dialog::TemplateSet templates = dialog::TemplateSet::kExtended;
  dialog::UserOptions user = dialog::UserOptions::simm();  ///< the built-in mix fitted to sim-M (as corpus generation)
  uint64_t seed = 0;
  bool sample = false;  ///< sample actions from the policy (exploration) instead of argmax
};

/// One interactive dialogue.
struct Episode {
  dialog::CorpusDialogue dialogue;  ///< text, acts and the true state per turn
  std::vector<std::vector<std::string>> tracked;  ///< tracked state per turn (per tracker slot)
  std::vector<int> actions;         ///< policy action per system turn
  std::vector<std::vector<float>> kb;  ///< KB summary the policy saw at each system turn
  dialog::Goal goal;                ///< the user's goal at the end (after any relaxation)
  bool user_finished = false;       ///< the user said bye (or hung up)
  bool success = false;
  bool user_accepted = false;       ///< the user accepted an offer that satisfies its goal
  bool goal_tracked = false;        ///< final tracked state matches the user's goal
  int turns = 0;                    ///< system turns
};

/// Summary of interactive dialogues.
struct InteractiveReport {
  int dialogues = 0;
  double success_rate = 0.0;
  double avg_turns = 0.0;            ///< all dialogues
  double avg_turns_success = 0.0;    ///< successful dialogues (paper's Figure 4)
  double joint_accuracy = 0.0;       ///< per-turn joint state accuracy over all turns
  std::vector<double> slot_accuracy; ///< per tracker slot
};

/// What the agent makes of a dialogue so far (E2eAgent::decide).
struct TurnDecision {
  std::vector<std::string> state;              ///< per tracker slot: the best value, "" for none
  std::vector<std::string> second;             ///< per tracker slot: the second best value ("" none)
  std::vector<std::vector<float>> slot_probs;  ///< per tracker slot: P(none), then P(value i) in ontology order
  std::vector<float> kb;                       ///< KB summary E_k of `state`
  std::vector<float> action_probs;             ///< the policy's softmax over action_names()
  int action = -1;                             ///< the argmax (or a sample of action_probs)
};

/// The end-to-end agent.
class E2eAgent {
 public:
  /// A fresh agent on `domain` (its KB answers the queries) over the tracker ontology `ontology`
  /// (slot names must be informable slots of the domain), with vocabularies from `train`.
  /// InvalidArgument if a slot or value of the ontology is not in the domain.
  E2eAgent(std::shared_ptr<const dialog::Domain> domain, const dialog::CorpusOntology& ontology,
           const std::vector<dialog::CorpusDialogue>& train, const AgentOptions& options);
  ~E2eAgent();
  E2eAgent(E2eAgent&&) noexcept;
  E2eAgent& operator=(E2eAgent&&) noexcept;

  /// Supervised pre-training (equation 4), keeping the epoch with the best dev joint + action
  /// accuracy (the last epoch without dev).
  std::vector<SlEpoch> train_supervised(const std::vector<dialog::CorpusDialogue>& train,
                                        const std::vector<dialog::CorpusDialogue>& dev,
                                        const std::function<void(const SlEpoch&)>& on_epoch = {});
  /// Equation 4 per turn on `data` (no dropout).
  double supervised_loss(const std::vector<dialog::CorpusDialogue>& data);
  /// Fraction of turns whose predicted next action is the corpus'.
  double action_accuracy(const std::vector<dialog::CorpusDialogue>& data);
  /// Per-slot and joint state accuracy on `data`.
  DstReport state_report(const std::vector<dialog::CorpusDialogue>& data);

  /// One dialogue with the simulated user (dialogue seed `seed`).
  Episode run_dialogue(uint64_t seed, const InteractiveOptions& options);
  /// `options.dialogues` dialogues with seeds derive_seed(options.seed, {d}).
  InteractiveReport evaluate(const InteractiveOptions& options);

  /// Imitation (Algorithm 1, lines 4-6): the teacher's action after user turn `turn` of `ep`,
  /// knowing the goal: request the first system-requestable goal slot the user has not stated
  /// yet, else offer; bye after the user's last turn. -1 if the label is not an action.
  int teacher_action(const Episode& ep, size_t turn) const;
  /// Supervised updates (equation 4) on the corrected episodes (true states from their
  /// annotations, teacher actions) plus as many dialogues drawn from `corpus`: `passes` passes.
  /// Returns the mean loss per turn of the last pass.
  double train_on_teaching(const std::vector<Episode>& taught, const std::vector<dialog::CorpusDialogue>& corpus,
                           int passes);
  /// One REINFORCE step (equation 5) on `episodes`: loss -sum_k log pi(a_k|s_k) adv_k / turns,
  /// `advantages` one per action of each episode in order. end_to_end: gradients also into the
  /// encoder and tracker; otherwise policy parameters only. Returns the loss.
  double reinforce_step(const std::vector<Episode>& episodes, const std::vector<double>& advantages, bool end_to_end,
                        double learning_rate);
  /// Sum of log pi(a_k|s_k) of the episodes' actions (no dropout, no gradient).
  double log_likelihood(const std::vector<Episode>& episodes);
  /// L2 norm of the tracker's (true) or the policy's (false) parameters (tests).
  double parameter_norm(bool tracker) const;

  /// Supervised updates (equation 4) on annotated dialogues `taught` (their own state labels and
  /// next-system-act action labels, e.g. dialogues corrected in `dialog chat --teach`) plus as
  /// many dialogues drawn from `corpus`: `passes` passes. Returns the mean loss per turn of the
  /// last pass. DataError naming the dialogue if a state value is not in the ontology.
  double train_on_dialogues(const std::vector<dialog::CorpusDialogue>& taught,
                            const std::vector<dialog::CorpusDialogue>& corpus, int passes);

  /// Tracks `dialogue` (its system and user turns so far; labels are ignored) and chooses the
  /// next action after its last user turn: greedy, or sampled from the policy with `sample`.
  TurnDecision decide(const dialog::CorpusDialogue& dialogue, bool sample = false);

  /// Writes the agent to `path` (format in the header comment), atomically (temp file +
  /// rename). InvalidArgument if the domain's KB is not the built-in domain's KB generated with
  /// kb_options() (the file could not be loaded); StorageError if it cannot be written.
  void save(const std::string& path) const;
  /// Reads an agent written by save(). `domain` (optional): the domain the caller wants; a file
  /// for another domain is one DataError naming both. DataError naming the file for a file that
  /// cannot be read, is not an e2e agent, is truncated or corrupt.
  static E2eAgent load(const std::string& path, std::string_view domain = {});
  /// The options the domain's knowledge base was generated with (what save() records; default
  /// KbOptions{}, as Domain::builtin(name)).
  const dialog::KbOptions& kb_options() const;
  void set_kb_options(const dialog::KbOptions& kb);
  const dialog::Domain& domain() const;
  std::shared_ptr<const dialog::Domain> shared_domain() const;
  const AgentOptions& options() const;

  /// Policy action names.
  const std::vector<std::string>& action_names() const;
  /// The KB summary E_k of a tracked state (per tracker slot: value or "").
  std::vector<float> kb_summary(const std::vector<std::string>& state) const;
  /// The system act of action `a` in tracked state `state` with the two best values per slot
  /// (`second`: per slot, "" if none).
  dialog::SystemAct to_system_act(int a, const std::vector<std::string>& state,
                                  const std::vector<std::string>& second) const;
  const dialog::CorpusOntology& ontology() const;
  int64_t num_parameters() const;

 private:
  struct Impl;
  explicit E2eAgent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace metadial::agents::e2e
