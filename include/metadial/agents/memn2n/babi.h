// Reader for the bAbI dialog text format (Bordes, Boureau & Weston 2017) and its personalized
// extension (Joshi, Mi & Faltings 2017): dialogues, response candidates, and the
// (history, user utterance, bot response) examples a retrieval model learns from.
//
// Format: one line per turn, `ID user<TAB>bot`; ID restarts at 1 for each dialogue; lines
// without a tab (knowledge-base results, the personalized profile line `1 <gender> <age>`) are
// context only. Candidate files hold one response per line, `1 text`. Every malformed line
// throws metadial::DataError naming the file and the line. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace metadial::agents::memn2n {

/// Who said an utterance of the history.
enum class Speaker {
  kUser,     ///< the user's side of a turn
  kBot,      ///< the system's response
  kContext,  ///< a line without a tab: knowledge-base result or user profile
};

/// One line of a dialogue file.
struct DialogLine {
  int64_t line = 0;       ///< 1-based line number in the file
  std::string user;       ///< user side (the whole text for context lines)
  std::string bot;        ///< bot response (empty for context lines)
  bool has_bot = false;   ///< true for `ID user<TAB>bot` lines
};

/// One dialogue: its lines in order.
struct Dialog {
  std::string file;               ///< file it came from (for messages)
  std::vector<DialogLine> lines;
};

/// One utterance of a dialogue history, tokenised.
struct Utterance {
  std::vector<std::string> words;
  Speaker speaker = Speaker::kUser;
};

/// A retrieval example: everything said before a bot response, the user's last utterance,
/// and the response to retrieve.
struct DialogExample {
  std::vector<Utterance> history;   ///< oldest first
  std::vector<std::string> query;   ///< the user's words of this turn ("<SILENCE>" included)
  std::string answer;               ///< the bot response (as in the file)
  std::string file;                 ///< where it came from
  int64_t line = 0;
};

/// Splits on spaces (runs of spaces count as one; no other normalisation, as the data is
/// already lower case and tokenised).
std::vector<std::string> tokenize(const std::string& text);

/// Reads a dialogue file. Throws DataError (file:line) when the file cannot be opened, a line
/// does not start with a positive integer ID followed by a space, an ID is neither 1 nor the
/// previous ID + 1, a line has more than one tab, or a side of a turn is empty.
std::vector<Dialog> read_dialogs(const std::string& path);

/// The first `max_dialogs` dialogues of `path` (all when max_dialogs < 0).
std::vector<Dialog> read_dialogs(const std::string& path, int64_t max_dialogs);

/// One example per bot response: the history holds every earlier line (context lines as
/// Speaker::kContext, turns as a user and a bot utterance).
std::vector<DialogExample> make_examples(const std::vector<Dialog>& dialogs);

/// Response candidates: texts in file order with a lookup by text.
class CandidateSet {
 public:
  CandidateSet() = default;
  /// From texts (duplicates are kept once, first position wins).
  explicit CandidateSet(const std::vector<std::string>& texts, std::string source = "<memory>");
  /// Reads a candidate file (`ID text` per line). Throws DataError (file:line) for a line
  /// without an ID or without text, or a file that cannot be opened or is empty.
  static CandidateSet read(const std::string& path);

  int64_t size() const { return static_cast<int64_t>(texts_.size()); }
  const std::string& text(int64_t i) const { return texts_.at(static_cast<size_t>(i)); }
  const std::vector<std::string>& texts() const { return texts_; }
  /// Position of `text`, or -1.
  int64_t find(const std::string& text) const;
  /// Position of example `e`'s answer; throws DataError naming e's file and line and this set's
  /// source when the response is not a candidate.
  int64_t index_of(const DialogExample& e) const;
  /// Adds `text` at the end unless present; returns its position.
  int64_t add(const std::string& text);
  const std::string& source() const { return source_; }

 private:
  std::vector<std::string> texts_;
  std::unordered_map<std::string, int64_t> index_;
  std::string source_;
};

/// Word ids: 0 is padding, 1 unknown words; the rest in order of addition.
class Vocabulary {
 public:
  Vocabulary();
  /// Adds `word` unless present; returns its id.
  int64_t add(const std::string& word);
  /// Id of `word` (1 when unknown).
  int64_t id(const std::string& word) const;
  int64_t size() const { return static_cast<int64_t>(words_.size()); }
  const std::string& word(int64_t id) const { return words_.at(static_cast<size_t>(id)); }

  /// Adds the words of the examples' histories, queries and answers, the candidates' words,
  /// and the speaker and time tokens for `memory_size` slots (see speaker_token, time_token).
  void add_all(const std::vector<DialogExample>& examples, const CandidateSet& candidates, int64_t memory_size);

 private:
  std::vector<std::string> words_;
  std::unordered_map<std::string, int64_t> index_;
};

/// The token appended to a memory slot for its speaker: "$u", "$r" or "$c".
const char* speaker_token(Speaker s);
/// The token appended to the memory slot `age` utterances back (0 = most recent): "#0", "#1", ...
std::string time_token(int64_t age);

}  // namespace metadial::agents::memn2n
