// The simulated user's corpus statistics beside sim-M's (issue 22): turns per dialogue (mean and
// distribution), slot mentions per user turn (all turns and the opening turn), and the share of
// dialogues in which a stated value changes. Our corpus: the rule expert against the agenda user
// with a profile mix (movie domain, training templates, as `metadial dialog corpus`).
//
//   repro_user_profiles_simm [--profiles FILE.toml] [--dialogues N] [--seed S] [--simm PATH]
//                            [--fit] [--step X] [--out PREFIX]
//
// Without --profiles: the built-in default mix (UserOptions::simm()). --fit: each profile of the
// mix alone (N dialogues each), then the shares on a grid of step X over the simplex that bring
// the mixture closest to sim-M: relative error of the mean turns + relative error of the slot
// mentions per user turn + total variation distance of the turn distributions (all three exact
// for a mixture, from the per-profile numbers), and a check run of the best mix. The profiles'
// behaviour fields are not fitted, only the shares. Writes PREFIX.md and PREFIX.csv
// (default bench/results/user_profiles_simm) and prints the same.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/dialog/corpus.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/user_profiles.h"

using namespace metadial;

namespace {

constexpr int kMaxBucket = 12;  // turns 1..11, 12 = 12 or more

struct Stats {
  int dialogues = 0;
  double turns = 0.0;           // total dialogue turns (user turns: one per turn)
  double slots = 0.0;           // total slot mentions in user utterances
  double first_slots = 0.0;     // slot mentions in the opening turns
  double changed = 0.0;         // dialogues in which a state value changes
  double successes = 0.0;       // expert success (ours only)
  std::vector<double> hist = std::vector<double>(kMaxBucket + 1, 0.0);  // dialogues per turn count

  double mean_turns() const { return dialogues ? turns / dialogues : 0.0; }
  double slots_per_turn() const { return turns > 0 ? slots / turns : 0.0; }
  double first() const { return dialogues ? first_slots / dialogues : 0.0; }
  double changed_share() const { return dialogues ? changed / dialogues : 0.0; }
  double share(int b) const { return dialogues ? hist[static_cast<size_t>(b)] / dialogues : 0.0; }
};

Stats measure(const std::vector<dialog::CorpusDialogue>& corpus) {
  Stats s;
  for (const auto& d : corpus) {
    ++s.dialogues;
    const int n = static_cast<int>(d.turns.size());
    s.turns += n;
    s.hist[static_cast<size_t>(std::min(std::max(n, 0), kMaxBucket))] += 1.0;
    std::map<std::string, std::string> state;
    bool changed = false;
    for (size_t k = 0; k < d.turns.size(); ++k) {
      const auto& t = d.turns[k];
      s.slots += static_cast<double>(t.user_utterance.slots.size());
      if (k == 0) s.first_slots += static_cast<double>(t.user_utterance.slots.size());
      for (const auto& sv : t.dialogue_state) {
        auto it = state.find(sv.slot);
        if (it != state.end() && it->second != sv.value) changed = true;
        state[sv.slot] = sv.value;
      }
    }
    s.changed += changed ? 1.0 : 0.0;
  }
  return s;
}

int g_min_constraints = -1, g_max_constraints = -1;  // --constraints LO HI (default: the corpus default)

Stats generate(const dialog::UserOptions& user, int n, uint64_t seed) {
  auto domain = dialog::Domain::builtin("movie");
  auto rule = std::make_shared<agents::RulePolicy>();
  dialog::CorpusOptions co;
  co.num_train = n;
  co.num_dev = 0;
  co.num_test = 0;
  co.seed = seed;
  co.user = user;
  if (g_min_constraints >= 0) {
    co.goal.min_constraints = g_min_constraints;
    co.goal.max_constraints = g_max_constraints;
  }
  dialog::CorpusGenerator gen(domain, co, [rule](const dialog::DialogueEnv& env, bool begin) {
    if (begin) rule->begin_dialogue();
    return rule->act(agents::PolicyInput::from(env));
  });
  dialog::CorpusStats cs;
  const auto corpus = gen.generate_split(0, n, &cs);
  Stats s = measure(corpus);
  s.successes = cs.successes;
  return s;
}

// Mixture of per-profile statistics with weights w (sum 1): exact for a mix that draws the
// profile independently per dialogue.
Stats mixture(const std::vector<Stats>& per, const std::vector<double>& w) {
  Stats m;
  m.dialogues = 1000000;
  for (size_t k = 0; k < per.size(); ++k) {
    const double f = w[k] * m.dialogues / per[k].dialogues;
    m.turns += f * per[k].turns;
    m.slots += f * per[k].slots;
    m.first_slots += f * per[k].first_slots;
    m.changed += f * per[k].changed;
    m.successes += f * per[k].successes;
    for (int b = 0; b <= kMaxBucket; ++b) m.hist[static_cast<size_t>(b)] += f * per[k].hist[static_cast<size_t>(b)];
  }
  return m;
}

double tv_distance(const Stats& a, const Stats& b) {
  double d = 0.0;
  for (int k = 0; k <= kMaxBucket; ++k) d += std::abs(a.share(k) - b.share(k));
  return d / 2;
}

double loss(const Stats& ours, const Stats& ref) {
  return std::abs(ours.mean_turns() - ref.mean_turns()) / ref.mean_turns() +
         std::abs(ours.slots_per_turn() - ref.slots_per_turn()) / ref.slots_per_turn() + tv_distance(ours, ref);
}

// All weight vectors on the grid of step `step` over the simplex of dimension n.
void grid(size_t n, int units, std::vector<int>& cur, const std::function<void(const std::vector<int>&)>& f) {
  if (cur.size() + 1 == n) {
    cur.push_back(units);
    f(cur);
    cur.pop_back();
    return;
  }
  for (int u = 0; u <= units; ++u) {
    cur.push_back(u);
    grid(n, units - u, cur, f);
    cur.pop_back();
  }
}

std::string row(const std::string& name, const Stats& s, bool success) {
  std::string h;
  for (int b = 1; b <= kMaxBucket; ++b) h += fmt::format(" {:.3f} |", s.share(b));
  return fmt::format("| {} | {} | {:.2f} | {:.3f} | {:.2f} | {:.3f} | {} |{}\n", name, s.dialogues, s.mean_turns(),
                     s.slots_per_turn(), s.first(), s.changed_share(),
                     success ? fmt::format("{:.3f}", s.successes / std::max(s.dialogues, 1)) : std::string("-"), h);
}

std::string header() {
  std::string h = "| corpus | dialogues | turns / dialogue | slot mentions / user turn | in the opening turn | "
                  "dialogues with a changed value | expert success |";
  std::string sep = "|---|---|---|---|---|---|---|";
  for (int b = 1; b <= kMaxBucket; ++b) {
    h += b == kMaxBucket ? fmt::format(" {}+ turns |", b) : fmt::format(" {} turns |", b);
    sep += "---|";
  }
  return h + "\n" + sep + "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string profiles_file, simm = "../shared/data/simulated-dialogue/sim-M/train.json";
  std::string out = "bench/results/user_profiles_simm";
  int n = 2000;
  uint64_t seed = 1;
  bool fit = false;
  double step = 0.05;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--profiles") profiles_file = next();
    else if (a == "--dialogues") n = std::stoi(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--simm") simm = next();
    else if (a == "--fit") fit = true;
    else if (a == "--step") step = std::stod(next());
    else if (a == "--out") out = next();
    else if (a == "--constraints") {
      g_min_constraints = std::stoi(next());
      g_max_constraints = std::stoi(next());
    }
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  dialog::UserOptions user;
  try {
    user = profiles_file.empty() ? dialog::UserOptions::simm() : dialog::load_user_profiles(profiles_file);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  const Stats ref = measure(dialog::load_corpus(simm));
  std::ostringstream md;
  md << "# The simulated user against sim-M's statistics (issue 22)\n\n";
  md << fmt::format("Command: `repro_user_profiles_simm{}{} --dialogues {} --seed {}{}`.\n\n",
                    profiles_file.empty() ? "" : " --profiles " + profiles_file, fit ? " --fit" : "", n, seed,
                    fit ? fmt::format(" --step {}", step) : "");
  md << "Ours: the rule expert against the agenda user (movie domain, training templates, as `metadial dialog corpus`); "
        "a turn is a system utterance and the user's answer (the opening turn has no system utterance), as in sim-M. "
        "Slot mentions: value spans in the user's utterances. Changed value: a slot of the annotated dialogue "
        "state takes another value later in the dialogue (sim-M: the user changes its mind or picks another offered "
        "option; ours: a profile's change of mind, or a constraint relaxed after 'no match').\n\n";
  md << header();
  md << row("sim-M train (" + simm + ")", ref, false);
  std::vector<double> shares;
  for (const auto& p : user.profiles) shares.push_back(p.share);
  if (fit) {
    std::vector<Stats> per;
    for (const auto& p : user.profiles) {
      dialog::UserOptions one = user;
      one.profiles = {p};
      one.profiles[0].share = 1.0;
      per.push_back(generate(one, n, seed));
      md << row("profile " + p.name + " alone", per.back(), true);
    }
    const int units = static_cast<int>(std::lround(1.0 / step));
    double best = 1e300;
    std::vector<int> cur;
    grid(per.size(), units, cur, [&](const std::vector<int>& u) {
      std::vector<double> w;
      for (int x : u) w.push_back(static_cast<double>(x) / units);
      const double l = loss(mixture(per, w), ref);
      if (l < best - 1e-12) {
        best = l;
        shares = w;
      }
    });
    std::string mixs;
    for (size_t k = 0; k < shares.size(); ++k) mixs += fmt::format("{}{} = {:.2f}", k ? ", " : "", user.profiles[k].name, shares[k]);
    md << row("fitted mix, predicted from the profiles", mixture(per, shares), true);
    md << fmt::format("\nFitted shares (grid step {}, loss {:.4f} = relative error of the mean turns + relative error of "
                      "the slot mentions per user turn + total variation distance of the turn distributions): {}.\n\n",
                      step, best, mixs);
    for (size_t k = 0; k < shares.size(); ++k) user.profiles[k].share = shares[k];
    double sum = 0.0;
    for (double s : shares) sum += s;
    user.profiles.back().share += 1.0 - sum;  // rounding
    md << header();
  }
  const Stats ours = generate(user, n, seed);
  md << row(fit ? "fitted mix, generated" : "the mix, generated", ours, true);
  md << row("sim-M train", ref, false);
  md << fmt::format("\nMix: ");
  for (size_t k = 0; k < user.profiles.size(); ++k) {
    const auto& p = user.profiles[k];
    md << fmt::format("{}{} {:.2f} (volunteer {}, {}, change {:.2f}, patience {}-{})", k ? "; " : "", p.name, p.share,
                      p.volunteer < 0 ? std::string("all") : std::to_string(p.volunteer),
                      p.answer_only_asked ? "answers only what is asked" : fmt::format("extra {:.2f}", p.extra_prob),
                      p.change_prob, p.patience, p.patience_max);
  }
  md << fmt::format(".\nLoss (as for --fit): {:.4f}. Without profiles (PyDial's standard user), with the same goals and with "
                    "the goals of before issue 22 (1 to 3 database constraints; the corpus of before):\n\n",
                    loss(ours, ref));
  md << header();
  md << row("standard user, the same goals", generate(dialog::UserOptions::standard(), n, seed), true);
  g_min_constraints = 1;
  g_max_constraints = 3;
  md << row("standard user, 1-3 constraints (before issue 22)", generate(dialog::UserOptions::standard(), n, seed), true);
  std::fputs(md.str().c_str(), stdout);
  std::ofstream f(out + ".md");
  f << md.str();
  std::ofstream csv(out + ".csv");
  csv << "corpus,turns";
  for (int b = 1; b <= kMaxBucket; ++b) csv << "," << b;
  csv << "\n";
  for (const auto& [name, s] : std::vector<std::pair<std::string, Stats>>{{"sim-M", ref}, {"ours", ours}}) {
    csv << name << "," << fmt::format("{:.3f}", s.mean_turns());
    for (int b = 1; b <= kMaxBucket; ++b) csv << fmt::format(",{:.4f}", s.share(b));
    csv << "\n";
  }
  return 0;
}
