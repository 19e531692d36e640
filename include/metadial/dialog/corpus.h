// Annotated dialogue corpora in the JSON schema of the public sim-M / sim-R data sets (Shah et
// al. 2018, google-research-datasets/simulated-dialogue): a list of
//   {dialogue_id, turns: [{system_utterance, system_acts, user_utterance: {text, tokens, slots:
//    [{slot, start, exclusive_end}]}, user_acts, user_intents, dialogue_state: [{slot, value}]}]}
// where system_* is absent in the first turn. One loader reads both the public files and the
// corpora our generator writes (corpus_generator.h); malformed input throws DataError naming
// the file, the dialogue id, the turn and the field.
//
// Everything here is plain strings: the end-to-end agent builds its own vocabularies from them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace metadial::dialog {

/// One act: type (sim-M's upper-case names, e.g. "REQUEST"), optional slot and value.
struct CorpusAct {
  std::string type;
  std::string slot;   ///< empty if absent
  std::string value;  ///< empty if absent (then the slot may be present)
  friend bool operator==(const CorpusAct&, const CorpusAct&) = default;
};

/// A value mention in an utterance: tokens[start, exclusive_end) realize a value of `slot`.
struct CorpusSpan {
  std::string slot;
  int start = 0;
  int exclusive_end = 0;
  friend bool operator==(const CorpusSpan&, const CorpusSpan&) = default;
};

/// An utterance with its tokens and value spans.
struct CorpusUtterance {
  std::string text;
  std::vector<std::string> tokens;
  std::vector<CorpusSpan> slots;
  friend bool operator==(const CorpusUtterance&, const CorpusUtterance&) = default;
};

/// A slot-value pair of the dialogue state.
struct CorpusSlotValue {
  std::string slot;
  std::string value;
  friend bool operator==(const CorpusSlotValue&, const CorpusSlotValue&) = default;
};

/// One turn: the system's utterance (absent in the first turn), then the user's.
struct CorpusTurn {
  std::optional<CorpusUtterance> system_utterance;
  std::vector<CorpusAct> system_acts;
  CorpusUtterance user_utterance;
  std::vector<CorpusAct> user_acts;
  std::vector<std::string> user_intents;
  std::vector<CorpusSlotValue> dialogue_state;  ///< the user's goal values stated so far

  /// The state's value of `slot`, or "" if the state does not hold it.
  std::string state_value(std::string_view slot) const;
  friend bool operator==(const CorpusTurn&, const CorpusTurn&) = default;
};

/// One dialogue.
struct CorpusDialogue {
  std::string dialogue_id;
  std::vector<CorpusTurn> turns;
  friend bool operator==(const CorpusDialogue&, const CorpusDialogue&) = default;
};

/// Act types of the sim-M schema (README of the data set).
const std::vector<std::string>& corpus_act_types();

/// Parses corpus JSON text; `source` names the file in messages. DataError naming source,
/// dialogue id, turn and field on malformed input (missing or mistyped field, unknown act type,
/// a span outside the tokens, a value without a slot).
std::vector<CorpusDialogue> parse_corpus(std::string_view json_text, const std::string& source);
/// Reads and parses a corpus file (DataError if it cannot be read, is malformed, or holds no
/// dialogue: training or scoring over nothing is refused rather than reported as 0 %).
std::vector<CorpusDialogue> load_corpus(const std::string& path);
/// Serializes to the sim-M schema (parse_corpus(to_corpus_json(d)) == d).
std::string to_corpus_json(const std::vector<CorpusDialogue>& dialogues, bool pretty = false);
/// Writes a corpus file atomically (temp file + rename); StorageError if it cannot be written.
void save_corpus(const std::string& path, const std::vector<CorpusDialogue>& dialogues);

/// Tokenizer shared by the generator, the agent and chat: lower-cases, splits on white space
/// and makes each of , ? ! ; " ( ) a token of its own; "6:00", "7.30" and "don't" stay whole.
std::vector<std::string> tokenize(std::string_view text);

/// Every (slot, value) of the dialogue states of `dialogues`, per slot in order of first
/// appearance: the candidate values a state tracker chooses from. Slots are sorted by name.
struct CorpusOntology {
  std::vector<std::string> slots;
  std::vector<std::vector<std::string>> values;  ///< per slot
  /// Index of a slot, or -1.
  int slot_index(std::string_view slot) const;
  /// Adds the values of `dialogues` (new slots and values appended; slots re-sorted only when
  /// built from scratch).
  void add(const std::vector<CorpusDialogue>& dialogues);
  /// The ontology of the given corpora (union).
  static CorpusOntology from(const std::vector<const std::vector<CorpusDialogue>*>& corpora);
};

}  // namespace metadial::dialog
