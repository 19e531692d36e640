// Reader for the bAbI dialog text format (Bordes, Boureau & Weston 2017) and its personalized
// extension (Joshi, Mi & Faltings 2017): dialogues, response candidates, and the
// (history, user utterance, bot response) examples a retrieval model learns from.
//
// Format: one line per turn, `ID user<TAB>bot`; ID restarts at 1 for each dialogue; lines
// without a tab (knowledge-base results, the personalized profile line `1 <gender> <age>`) are
// context only. A turn whose user side is empty (`ID <TAB>bot`: the real-dialogue files of task 6,
// dialog-babi-task6-dstc2-*.txt, write a turn whose speech-recognition transcript was empty that
// way) is read as `<SILENCE>`, as the reference readers do, and counted (DialogReadStats).
// Candidate files hold one response per line, `1 text`. Every malformed line throws
// metadial::DataError naming the file and the line. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace metadial::agents::memn2n {

/// The most words a memory network keeps of one sentence (an utterance, a query, a candidate):
/// longer sentences are cut to their first kMaxSentenceWords words, so that one overlong line
/// cannot size every encoded tensor (they are padded to the longest kept sentence). The published
/// bAbI dialog and personalized files have at most 19 words a sentence.
inline constexpr int64_t kMaxSentenceWords = 64;

/// The most memory slots (utterances of history) a memory network reads. The references keep 50
/// (Bordes et al. 2017); the longest history of the published bAbI dialog files is 98 utterances.
inline constexpr int64_t kMaxMemorySize = 1000;

/// The user side a silent turn is written with (and an empty transcript is read as).
inline constexpr const char* kSilence = "<SILENCE>";

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

/// What read_dialogs() read: counts for the loader's summary.
struct DialogReadStats {
  int64_t dialogs = 0;
  int64_t responses = 0;        ///< `ID user<TAB>bot` lines (one example each)
  int64_t context_lines = 0;    ///< lines without a tab
  int64_t silent_turns = 0;     ///< `ID <TAB>bot` lines: empty user side, read as <SILENCE>
  int64_t long_sentences = 0;   ///< sentences (either side of a line) of more than kMaxSentenceWords words
  int64_t first_long_line = 0;  ///< line of the first of them (0: none)
  int64_t longest_sentence = 0; ///< words
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

/// Reads a dialogue file. Throws DataError (file:line) when the file cannot be opened or holds no
/// dialogue, a line does not start with a positive integer ID followed by a space, an ID is
/// neither 1 nor the previous ID + 1, a line has more than one tab, a line without a tab has no
/// text, or the bot side of a turn is empty. An empty user side is read as <SILENCE>. The two
/// sides of a turn lose their leading and trailing spaces.
std::vector<Dialog> read_dialogs(const std::string& path);

/// The first `max_dialogs` dialogues of `path` (all when max_dialogs < 0); `stats`, when given,
/// receives the counts of what was read.
std::vector<Dialog> read_dialogs(const std::string& path, int64_t max_dialogs, DialogReadStats* stats = nullptr);

/// One example per bot response: the history holds every earlier line (context lines as
/// Speaker::kContext, turns as a user and a bot utterance). Throws DataError naming the file
/// when `dialogs` is not empty but holds no bot response (nothing to learn from or to score).
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

  /// Adds the words of the examples' histories, queries and answers, the candidates' words (the
  /// first kMaxSentenceWords of each sentence: the encodings keep no more), and the speaker and
  /// time tokens for `memory_size` slots (see speaker_token, time_token).
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
