#include "metadial/dialog/corpus_generator.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "metadial/core/error.h"

namespace metadial::dialog {
namespace {

EnvOptions noise_free_env(const CorpusOptions& o) {
  EnvOptions e = env_preset("env1");
  e.name = "corpus";
  e.max_turns = o.max_turns;
  e.user = o.user;
  e.goal = o.goal;
  return e;
}

const CorpusOptions& validated(const CorpusOptions& o) {
  o.validate();
  return o;
}

// Applies the user's informs to the running state (slot name -> value), kept in informable order.
void update_state(const Ontology& o, const UserTurn& turn, std::vector<std::string>& state) {
  for (int k = 0; k < turn.size; ++k) {
    const UserActItem& it = turn.items[static_cast<size_t>(k)];
    if (it.type != UserActType::kInform) continue;
    const int i = o.informable_index(it.slot);
    if (i < 0) continue;
    state[static_cast<size_t>(i)] = std::string(o.value_name(it.slot, it.value));
  }
}

std::vector<CorpusSlotValue> state_pairs(const Ontology& o, const std::vector<std::string>& state) {
  std::vector<CorpusSlotValue> out;
  for (int i = 0; i < o.num_informable(); ++i) {
    const auto& v = state[static_cast<size_t>(i)];
    if (!v.empty()) out.push_back({o.slot(o.informable()[static_cast<size_t>(i)]).name, v});
  }
  return out;
}

}  // namespace

void CorpusOptions::validate() const {
  MD_CHECK(num_train >= 0 && num_dev >= 0 && num_test >= 0, "corpus options: split sizes ", num_train, "/", num_dev,
           "/", num_test, " must be >= 0");
  MD_CHECK(max_turns >= 1, "corpus options: max_turns ", max_turns, " must be >= 1");
  user.validate();
  goal.validate();
}

std::string domain_intent(const std::string& domain) {
  if (domain == "movie") return "BUY_MOVIE_TICKETS";
  if (domain == "restaurant") return "FIND_RESTAURANT";
  std::string up = "FIND_";
  for (char c : domain) up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return up;
}

CorpusGenerator::CorpusGenerator(std::shared_ptr<const Domain> domain, CorpusOptions options, ExpertFn expert)
    : domain_(std::move(domain)),
      options_(validated(options)),
      expert_(std::move(expert)),
      env_(domain_, noise_free_env(options_)),
      user_nlg_(*domain_, options_.templates),
      system_nlg_(*domain_) {
  MD_CHECK(static_cast<bool>(expert_), "corpus generator: no expert policy given");
}

CorpusDialogue CorpusGenerator::generate(uint64_t seed, const std::string& id, bool* success) {
  const Ontology& o = domain_->ontology();
  Rng text_rng(derive_seed(seed, {stream("nlg")}));
  CorpusDialogue d;
  d.dialogue_id = id;
  std::vector<std::string> state(static_cast<size_t>(o.num_informable()));

  env_.reset(seed);
  {
    const TurnRecord& r = env_.last_turn();
    CorpusTurn t;
    t.user_utterance = user_nlg_.realize(r.user_turn, /*opening=*/true, text_rng);
    t.user_acts = corpus_acts(*domain_, r.user_turn);
    t.user_intents.push_back(domain_intent(domain_->name()));
    update_state(o, r.user_turn, state);
    t.dialogue_state = state_pairs(o, state);
    d.turns.push_back(std::move(t));
  }
  bool begin = true;
  while (!env_.done()) {
    const int a = expert_(env_, begin);
    begin = false;
    env_.step(a);
    const TurnRecord& r = env_.last_turn();
    CorpusTurn t;
    t.system_acts = corpus_acts(*domain_, r.system_act);
    t.system_utterance = system_nlg_.realize(r.system_act, text_rng);
    t.user_utterance = user_nlg_.realize(r.user_turn, /*opening=*/false, text_rng);
    t.user_acts = corpus_acts(*domain_, r.user_turn);
    update_state(o, r.user_turn, state);
    t.dialogue_state = state_pairs(o, state);
    d.turns.push_back(std::move(t));
  }
  if (success) *success = env_.success();
  return d;
}

std::vector<CorpusDialogue> CorpusGenerator::generate_split(int split, int n, CorpusStats* stats) {
  MD_CHECK(split >= 0 && split <= 2, "corpus generator: split ", split, " (expected 0 train, 1 dev, 2 test)");
  static const char* kNames[] = {"train", "dev", "test"};
  std::vector<CorpusDialogue> out;
  out.reserve(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    bool ok = false;
    const uint64_t seed = derive_seed(options_.seed, {static_cast<uint64_t>(split), static_cast<uint64_t>(k)});
    out.push_back(generate(seed, detail::concat(domain_->name(), "_", kNames[split], "_", k), &ok));
    if (stats) {
      ++stats->dialogues;
      stats->turns += static_cast<int>(out.back().turns.size());
      stats->successes += ok ? 1 : 0;
    }
  }
  return out;
}

CorpusSplits CorpusGenerator::generate_all(CorpusStats* stats) {
  CorpusSplits s;
  s.train = generate_split(0, options_.num_train, stats);
  s.dev = generate_split(1, options_.num_dev, stats);
  s.test = generate_split(2, options_.num_test, stats);
  return s;
}

void save_splits(const std::string& dir, const CorpusSplits& splits) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw StorageError(detail::concat("corpus directory '", dir, "': cannot be created (", ec.message(), ")"));
  save_corpus(dir + "/train.json", splits.train);
  save_corpus(dir + "/dev.json", splits.dev);
  save_corpus(dir + "/test.json", splits.test);
}

}  // namespace metadial::dialog
