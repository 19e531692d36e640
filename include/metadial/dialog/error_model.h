// Semantic error simulation: what the system hears of the user's true act, as an N-best list of
// hypotheses with confidences (PyDial's simulated semantic channel). Two N-best generators:
//
// kRanked (default; after PyDial's benchmark setting, DSTC2NBestGenerator + DSTC2 scorer, whose
//   DSTC2 statistics are not available here, so the statistics are replaced by a stated model):
//   - the top hypothesis is the true turn with probability 1 - error_rate (so error_rate is the
//     top-1 semantic error rate), otherwise a confusion of it;
//   - 0..nbest_size-1 further distinct confusions follow; when the top is wrong, the true turn
//     is among them (at a random rank) with probability 1 - miss_prob;
//   - confidences: a correct top gets U(1 - 2 * error_rate, 1), a wrong top U(0.2, 1) (so the
//     score is informative but a confident error is possible); the rest, 1 - top, is shared by
//     the others (each below the top), leaving some mass unassigned. Sum <= 1.
// kSampled (PyDial's SampledNBestGenerator + additive scorer): nbest_size independent draws,
//   each the true turn with probability 1 - error_rate and a confusion otherwise; identical
//   draws merge and a hypothesis' confidence is its share of the draws. Much milder: the true
//   turn usually wins the vote.
// At error rate 0 both give the true turn alone with confidence 1.
//
// A confusion changes one item of the turn (PyDial's LevenshteinConfusions, approximately): an
// inform keeps its slot with probability value_confusion_prob and gets a similar value (the
// values of the slot ranked by edit distance to the true one, the nearest most likely) or, one
// time in ten, dontcare; otherwise it informs another informable slot with a random value. A
// request asks for another requestable slot; affirm and negate swap; reqalts, hello and bye
// become null().
#pragma once

#include <vector>

#include "metadial/core/random.h"
#include "metadial/dialog/acts.h"

namespace metadial::dialog {

/// N-best generators (see the file comment).
enum class NBestModel { kRanked, kSampled };

/// Error model settings.
struct ErrorModelOptions {
  NBestModel model = NBestModel::kRanked;
  double error_rate = 0.0;            ///< semantic error rate in [0, 1)
  int nbest_size = 5;                 ///< N-best length (ranked) / number of draws (sampled), 1..kMaxNBest
  double miss_prob = 0.5;             ///< ranked: a wrong top leaves the true turn out of the list
  double value_confusion_prob = 0.7;  ///< inform confusions that keep the slot
  void validate() const;
};

/// Turns a true user turn into an N-best list.
class ErrorModel {
 public:
  ErrorModel(const Ontology& ontology, const ErrorModelOptions& options);
  /// Fills `out` (sorted by decreasing confidence). Draws from `rng` only when error_rate > 0.
  void corrupt(const UserTurn& truth, Rng& rng, NBestList& out) const;
  /// One confusion of `truth` (changes one item).
  UserTurn confuse(const UserTurn& truth, Rng& rng) const;
  const ErrorModelOptions& options() const { return options_; }

 private:
  void ranked(const UserTurn& truth, Rng& rng, NBestList& out) const;
  void sampled(const UserTurn& truth, Rng& rng, NBestList& out) const;
  int similar_value(int informable_index, int value, Rng& rng) const;

  const Ontology* ontology_;
  ErrorModelOptions options_;
  // neighbours_[offset_[i] + v * (V_i - 1) + j]: j-th most similar other value of value v of slot i
  std::vector<int> offset_;
  std::vector<int16_t> neighbours_;
};

}  // namespace metadial::dialog
