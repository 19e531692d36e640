// Corpus generator: self-play of the agenda-based user against an expert agent (normally the
// rule policy of agents/rule_policy.h, passed in as a function so that dialog/ stays below
// agents/), realized in text by the template NLG (nlg.h) and annotated per turn in the sim-M
// schema (corpus.h): system acts and utterance, user acts and utterance with value spans, and
// the dialogue state (every goal slot the user has stated so far, "dontcare" included).
//
// Dialogues run on a noise-free DialogueEnv (error rate 0), so the expert sees exactly what the
// user said. Seeds: dialogue d of a split with seed s uses derive_seed(s, {split, d}), so
// splits never share a dialogue and the corpus is reproducible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "metadial/dialog/corpus.h"
#include "metadial/dialog/env.h"
#include "metadial/dialog/nlg.h"

namespace metadial::dialog {

/// The expert: the summary action to take in the environment's current state. Called with
/// begin = true before the first act of each dialogue (to reset per-dialogue memory).
using ExpertFn = std::function<int(const DialogueEnv& env, bool begin)>;

/// Generator settings.
struct CorpusOptions {
  int num_train = 10000;  ///< paper-like default split sizes
  int num_dev = 1000;
  int num_test = 1000;
  uint64_t seed = 0;
  TemplateSet templates = TemplateSet::kTraining;
  int max_turns = 15;     ///< system turns per dialogue (the paper's limit)
  /// The simulated users: by default the profile mix fitted to sim-M's statistics (issue 22;
  /// user_profiles.h). UserOptions::standard() gives the corpus of before (terser users).
  UserOptions user = UserOptions::simm();
  /// User goals. Default: no requests (the paper's booking task: the goal is the slot values and
  /// success is an accepted offer), 4 constraints on database slots (all of the movie domain's,
  /// as sim-M, whose dialogues end with all five slots in the state in 359 of 384; fewer where
  /// the domain has fewer) plus the required ones. Before issue 22: 1 to 3.
  GoalOptions goal = booking_goals();
  static GoalOptions booking_goals() {
    GoalOptions g;
    g.min_constraints = 4;
    g.max_constraints = 4;
    g.min_requests = 0;
    g.max_requests = 0;
    return g;
  }
  /// InvalidArgument naming the bad field.
  void validate() const;
};

/// Train / dev / test dialogues.
struct CorpusSplits {
  std::vector<CorpusDialogue> train, dev, test;
};

/// Statistics of a generated split.
struct CorpusStats {
  int dialogues = 0;
  int turns = 0;
  int successes = 0;  ///< the user's objective success (user_simulator.h)
};

/// Generates annotated dialogues on one domain.
class CorpusGenerator {
 public:
  CorpusGenerator(std::shared_ptr<const Domain> domain, CorpusOptions options, ExpertFn expert);

  /// One dialogue from `seed`, named `id`; *success gets the user's objective success.
  CorpusDialogue generate(uint64_t seed, const std::string& id, bool* success = nullptr);
  /// `n` dialogues of split `split` (0 train, 1 dev, 2 test), ids "<domain>_<split>_<d>".
  std::vector<CorpusDialogue> generate_split(int split, int n, CorpusStats* stats = nullptr);
  /// All three splits with the option sizes.
  CorpusSplits generate_all(CorpusStats* stats = nullptr);

  const CorpusOptions& options() const { return options_; }

 private:
  std::shared_ptr<const Domain> domain_;
  CorpusOptions options_;
  ExpertFn expert_;
  DialogueEnv env_;
  UserNlg user_nlg_;
  SystemNlg system_nlg_;
};

/// Writes dir/train.json, dir/dev.json, dir/test.json (creating dir).
void save_splits(const std::string& dir, const CorpusSplits& splits);

/// The sim-M user intent of a domain's first turn ("BUY_MOVIE_TICKETS", "FIND_RESTAURANT", or
/// "FIND_<DOMAIN>").
std::string domain_intent(const std::string& domain);

}  // namespace metadial::dialog
