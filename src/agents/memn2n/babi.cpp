#include "metadial/agents/memn2n/babi.h"

#include <algorithm>
#include <fstream>

#include "metadial/core/error.h"

namespace metadial::agents::memn2n {

namespace {

// Parses the leading `ID ` of a line; returns the ID and sets `rest` to the text after the space.
int64_t parse_id(const std::string& file, int64_t line_no, const std::string& line, std::string& rest) {
  size_t i = 0;
  int64_t id = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') {
    MD_CHECK_AS(DataError, i < 12, file, ":", line_no, ": line ID is too long");
    id = id * 10 + (line[i] - '0');
    ++i;
  }
  MD_CHECK_AS(DataError, i > 0 && i < line.size() && line[i] == ' ' && id > 0, file, ":", line_no,
              ": malformed line '", line.substr(0, 60), "' (expected 'ID text' with a positive integer ID)");
  rest = line.substr(i + 1);
  return id;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \r") == std::string::npos; }

std::string strip_cr(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Without leading and trailing spaces (and a trailing CR).
std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(' ');
  return b == std::string::npos ? std::string() : strip_cr(s.substr(b));
}

// Counts the words of `text` (runs of spaces count as one), without building them.
int64_t count_words(const std::string& text) {
  int64_t n = 0;
  bool in_word = false;
  for (char c : text) {
    if (c == ' ') {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      ++n;
    }
  }
  return n;
}

void count_sentence(DialogReadStats& st, const std::string& text, int64_t line_no) {
  const int64_t n = count_words(text);
  st.longest_sentence = std::max(st.longest_sentence, n);
  if (n > kMaxSentenceWords) {
    if (st.long_sentences == 0) st.first_long_line = line_no;
    ++st.long_sentences;
  }
}

}  // namespace

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<Dialog> read_dialogs(const std::string& path) { return read_dialogs(path, -1); }

std::vector<Dialog> read_dialogs(const std::string& path, int64_t max_dialogs, DialogReadStats* stats) {
  std::ifstream in(path);
  MD_CHECK_AS(DataError, in.good(), path, ": cannot open the dialogue file");
  std::vector<Dialog> out;
  DialogReadStats st;
  std::string raw;
  int64_t line_no = 0;
  int64_t prev_id = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = strip_cr(raw);
    if (line.empty()) {  // blank lines separate dialogues in some copies; IDs decide anyway
      continue;
    }
    std::string rest;
    const int64_t id = parse_id(path, line_no, line, rest);
    MD_CHECK_AS(DataError, id == 1 || id == prev_id + 1, path, ":", line_no, ": line ID ", id,
                " follows ID ", prev_id, " (expected 1 to start a dialogue or ", prev_id + 1, ")");
    if (id == 1) {
      if (max_dialogs >= 0 && static_cast<int64_t>(out.size()) == max_dialogs) break;
      out.push_back(Dialog{path, {}});
    }
    prev_id = id;
    DialogLine d;
    d.line = line_no;
    const size_t tab = rest.find('\t');
    if (tab == std::string::npos) {
      MD_CHECK_AS(DataError, !blank(rest), path, ":", line_no, ": empty line text after ID ", id,
                  " (expected 'ID user<TAB>bot' or a context line 'ID text')");
      d.user = rest;
      ++st.context_lines;
      count_sentence(st, d.user, line_no);
    } else {
      MD_CHECK_AS(DataError, rest.find('\t', tab + 1) == std::string::npos, path, ":", line_no,
                  ": more than one tab (expected 'ID user<TAB>bot')");
      d.user = trim(rest.substr(0, tab));
      d.bot = trim(rest.substr(tab + 1));
      d.has_bot = true;
      MD_CHECK_AS(DataError, !d.bot.empty(), path, ":", line_no, ": empty bot response after the tab");
      // The real-dialogue files of task 6 write a turn whose transcript was empty as `ID <TAB>bot`:
      // a silent user, as the reference readers take it.
      if (d.user.empty()) {
        d.user = kSilence;
        ++st.silent_turns;
      }
      ++st.responses;
      count_sentence(st, d.user, line_no);
      count_sentence(st, d.bot, line_no);
    }
    out.back().lines.push_back(std::move(d));
  }
  MD_CHECK_AS(DataError, !out.empty() || max_dialogs == 0, path, ": no dialogues in the file");
  st.dialogs = static_cast<int64_t>(out.size());
  if (stats != nullptr) *stats = st;
  return out;
}

std::vector<DialogExample> make_examples(const std::vector<Dialog>& dialogs) {
  std::vector<DialogExample> out;
  for (const Dialog& d : dialogs) {
    std::vector<Utterance> history;
    for (const DialogLine& l : d.lines) {
      if (!l.has_bot) {
        history.push_back({tokenize(l.user), Speaker::kContext});
        continue;
      }
      DialogExample e;
      e.history = history;
      e.query = tokenize(l.user);
      e.answer = l.bot;
      e.file = d.file;
      e.line = l.line;
      out.push_back(std::move(e));
      history.push_back({tokenize(l.user), Speaker::kUser});
      history.push_back({tokenize(l.bot), Speaker::kBot});
    }
  }
  // An evaluation over no response would report 0 % of 0 as if it were a result.
  MD_CHECK_AS(DataError, dialogs.empty() || !out.empty(), dialogs.front().file, ": no bot response in ",
              dialogs.size(), dialogs.size() == 1 ? " dialogue" : " dialogues",
              " (no line 'ID user<TAB>bot'): nothing to learn from or to score");
  return out;
}

CandidateSet::CandidateSet(const std::vector<std::string>& texts, std::string source) : source_(std::move(source)) {
  for (const auto& t : texts) add(t);
}

CandidateSet CandidateSet::read(const std::string& path) {
  std::ifstream in(path);
  MD_CHECK_AS(DataError, in.good(), path, ": cannot open the candidate file");
  CandidateSet out;
  out.source_ = path;
  std::string raw;
  int64_t line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = strip_cr(raw);
    if (line.empty()) continue;
    std::string rest;
    parse_id(path, line_no, line, rest);
    MD_CHECK_AS(DataError, !blank(rest) && rest.find('\t') == std::string::npos, path, ":", line_no,
                ": malformed candidate (expected 'ID response' without a tab)");
    out.add(rest);
  }
  MD_CHECK_AS(DataError, out.size() > 0, path, ": no candidates in the file");
  return out;
}

int64_t CandidateSet::find(const std::string& text) const {
  const auto it = index_.find(text);
  return it == index_.end() ? -1 : it->second;
}

int64_t CandidateSet::index_of(const DialogExample& e) const {
  const int64_t i = find(e.answer);
  MD_CHECK_AS(DataError, i >= 0, e.file, ":", e.line, ": response '", e.answer, "' is not among the ", size(),
              " candidates of ", source_);
  return i;
}

int64_t CandidateSet::add(const std::string& text) {
  const auto [it, inserted] = index_.emplace(text, size());
  if (inserted) texts_.push_back(text);
  return it->second;
}

Vocabulary::Vocabulary() : words_{"<pad>", "<unk>"} {
  index_.emplace("<pad>", 0);
  index_.emplace("<unk>", 1);
}

int64_t Vocabulary::add(const std::string& word) {
  const auto [it, inserted] = index_.emplace(word, size());
  if (inserted) words_.push_back(word);
  return it->second;
}

int64_t Vocabulary::id(const std::string& word) const {
  const auto it = index_.find(word);
  return it == index_.end() ? 1 : it->second;
}

void Vocabulary::add_all(const std::vector<DialogExample>& examples, const CandidateSet& candidates,
                         int64_t memory_size) {
  add(speaker_token(Speaker::kUser));
  add(speaker_token(Speaker::kBot));
  add(speaker_token(Speaker::kContext));
  for (int64_t t = 0; t < memory_size; ++t) add(time_token(t));
  // The words an encoding keeps: the first kMaxSentenceWords of a sentence.
  const auto add_kept = [this](const std::vector<std::string>& words) {
    const size_t n = std::min(words.size(), static_cast<size_t>(kMaxSentenceWords));
    for (size_t i = 0; i < n; ++i) add(words[i]);
  };
  for (const auto& e : examples) {
    for (const auto& u : e.history) add_kept(u.words);
    add_kept(e.query);
    add_kept(tokenize(e.answer));
  }
  for (const auto& c : candidates.texts()) add_kept(tokenize(c));
}

const char* speaker_token(Speaker s) {
  switch (s) {
    case Speaker::kUser:
      return "$u";
    case Speaker::kBot:
      return "$r";
    case Speaker::kContext:
      return "$c";
  }
  return "$?";
}

std::string time_token(int64_t age) { return "#" + std::to_string(age); }

}  // namespace metadial::agents::memn2n
