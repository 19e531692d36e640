#include "cli/e2e_commands.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/user_profiles.h"
#include "metadial/train/e2e_trainer.h"

namespace metadial::cli {
namespace {
// The simulated user of corpus generation and interaction: a --user-profiles file, else the
// built-in mix fitted to sim-M (dialog/user_profiles.h).
dialog::UserOptions user_options(const std::string& file) {
  return file.empty() ? dialog::UserOptions::simm() : dialog::load_user_profiles(file);
}
}  // namespace

int run_dialog_corpus(const DialogCorpusArgs& a, std::ostream& out) {
  MD_CHECK(!a.out.empty(), "dialog corpus: --out DIR is required");
  MD_CHECK(a.kb_entities >= 1, "--kb-entities must be >= 1 (got ", a.kb_entities, ")");
  dialog::CorpusOptions o;
  o.num_train = a.train;
  o.num_dev = a.dev;
  o.num_test = a.test;
  o.seed = a.seed;
  o.templates = dialog::template_set_from_name(a.templates);
  o.user = user_options(a.user_profiles);
  auto domain = dialog::Domain::builtin(a.domain, dialog::KbOptions{a.kb_entities, a.kb_seed});
  auto policy = std::make_shared<agents::RulePolicy>();
  dialog::CorpusGenerator gen(domain, o, [policy](const dialog::DialogueEnv& env, bool begin) {
    if (begin) policy->begin_dialogue();
    return policy->act(agents::PolicyInput::from(env));
  });
  const auto t0 = std::chrono::steady_clock::now();
  dialog::CorpusStats stats;
  const auto splits = gen.generate_all(&stats);
  dialog::save_splits(a.out, splits);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double success = stats.dialogues > 0 ? static_cast<double>(stats.successes) / stats.dialogues : 0.0;
  const double turns = stats.dialogues > 0 ? static_cast<double>(stats.turns) / stats.dialogues : 0.0;
  if (a.json) {
    out << nlohmann::json{{"out", a.out},           {"domain", a.domain},   {"train", a.train},
                          {"dev", a.dev},           {"test", a.test},       {"templates", a.templates},
                          {"expert_success", success}, {"turns_per_dialogue", turns}, {"seconds", secs}}
               .dump()
        << "\n";
  } else {
    out << fmt::format("wrote {}/{{train,dev,test}}.json: {} / {} / {} dialogues ({} domain, {} templates), "
                       "{:.2f} turns per dialogue, rule expert success {:.1f} %, {:.1f} s\n",
                       a.out, a.train, a.dev, a.test, a.domain, a.templates, turns, 100 * success, secs);
  }
  return 0;
}

int run_dialog_dst(const DialogDstArgs& a, std::ostream& out) {
  const auto train = dialog::load_corpus(a.train);
  const auto dev = a.dev.empty() ? std::vector<dialog::CorpusDialogue>{} : dialog::load_corpus(a.dev);
  const auto test = dialog::load_corpus(a.test);
  const auto ontology = a.train_ontology_only ? dialog::CorpusOntology::from({&train})
                                              : dialog::CorpusOntology::from({&train, &dev, &test});
  const auto t0 = std::chrono::steady_clock::now();
  agents::e2e::StateTracker tracker(ontology, train, a.options);
  nlohmann::json curve = nlohmann::json::array();
  if (!a.json) {
    out << fmt::format("training the state tracker: {} train / {} dev dialogues, {} words, {} parameters\n",
                       train.size(), dev.size(), tracker.vocabulary_size(), tracker.num_parameters());
    out.flush();
  }
  tracker.train(train, dev, [&](const agents::e2e::DstEpoch& e) {
    curve.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"dev_joint", e.dev_joint}, {"seconds", e.seconds}});
    if (!a.json) {
      out << fmt::format("epoch {:>3}  loss {:.4f}  dev joint {:.2f} %  ({:.1f} s)\n", e.epoch, e.loss,
                         100 * e.dev_joint, e.seconds);
      out.flush();
    }
  });
  const auto report = tracker.evaluate(test);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    nlohmann::json slots = nlohmann::json::object();
    for (size_t s = 0; s < report.slots.size(); ++s) slots[report.slots[s]] = report.slot_accuracy[s];
    out << nlohmann::json{{"test", a.test}, {"turns", report.turns}, {"slot_accuracy", slots},
                          {"joint_accuracy", report.joint_accuracy}, {"curve", curve}, {"seconds", secs}}
               .dump()
        << "\n";
  } else {
    out << fmt::format("test {} ({} turns):\n", a.test, report.turns);
    for (size_t s = 0; s < report.slots.size(); ++s) {
      out << fmt::format("  {:<14} {:6.2f} %\n", report.slots[s], 100 * report.slot_accuracy[s]);
    }
    out << fmt::format("  {:<14} {:6.2f} %\n  ({:.1f} s)\n", "joint", 100 * report.joint_accuracy, secs);
  }
  return 0;
}

int run_dialog_e2e_train(const DialogE2eTrainArgs& a, std::ostream& out) {
  MD_CHECK(a.stage == "sl" || a.stage == "il" || a.stage == "rl", "--stage '", a.stage, "' (expected sl, il or rl)");
  MD_CHECK(a.il_dialogues >= 0 && a.rl_dialogues >= 0, "--il-dialogues / --rl-dialogues must be >= 0");
  MD_CHECK(a.stage != "il" || a.il_dialogues > 0 || !a.il_corpus.empty(),
           "--stage il needs --il-dialogues N (N > 0) or --il-corpus FILE");
  MD_CHECK(a.eval_dialogues >= 0, "--eval-dialogues must be >= 0 (got ", a.eval_dialogues, ")");
  MD_CHECK(a.kb_entities >= 1, "--kb-entities must be >= 1 (got ", a.kb_entities, ")");
  MD_CHECK(a.il_passes >= 1, "--il-passes must be >= 1 (got ", a.il_passes, ")");
  MD_CHECK(a.model.empty() || a.stage != "sl", "--model '", a.model,
           "' skips supervised training: use --stage il or rl to continue from it (or `dialog e2e eval --model`)");
  MD_CHECK(!a.model.empty() || !a.train.empty(), "--train FILE is required (or --model FILE to start from a saved agent)");
  MD_CHECK(a.il_corpus.empty() || a.stage != "sl", "--il-corpus is used by --stage il or rl, not sl");
  auto train = a.train.empty() ? std::vector<dialog::CorpusDialogue>{} : dialog::load_corpus(a.train);
  const auto dev = a.dev.empty() ? std::vector<dialog::CorpusDialogue>{} : dialog::load_corpus(a.dev);
  const auto taught = a.il_corpus.empty() ? std::vector<dialog::CorpusDialogue>{} : dialog::load_corpus(a.il_corpus);
  agents::e2e::InteractiveOptions io;
  io.templates = dialog::template_set_from_name(a.templates);
  io.dialogues = std::max(a.eval_dialogues, 1);
  io.seed = derive_seed(a.options.tracker.seed, {stream("eval")});
  io.user = user_options(a.user_profiles);
  const auto t0 = std::chrono::steady_clock::now();
  std::ofstream csv;
  if (!a.curve.empty()) {
    csv.open(a.curve);
    MD_CHECK_AS(StorageError, static_cast<bool>(csv), "--curve '", a.curve, "': cannot be written");
    csv << "epoch,train_loss,dev_joint,dev_action_accuracy,seconds\n";
  }
  nlohmann::json curve = nlohmann::json::array();
  auto make_agent = [&]() {
    if (!a.model.empty()) {
      auto loaded = agents::e2e::E2eAgent::load(a.model, a.domain);
      if (!a.json) {
        out << fmt::format("starting from agent '{}' (domain {}, {} parameters)\n", a.model, loaded.domain().name(),
                           loaded.num_parameters());
      }
      return loaded;
    }
    auto ontology = dialog::CorpusOntology::from({&train, &dev});
    const dialog::KbOptions kb{a.kb_entities, a.kb_seed};
    auto domain = dialog::Domain::builtin(a.domain.empty() ? "movie" : a.domain, kb);
    // Candidate values: those of the corpus, then the domain's other values of each slot, so that
    // the agent can track any goal of the simulated user or of a person in chat.
    for (size_t s = 0; s < ontology.slots.size(); ++s) {
      const auto& onto = domain->ontology();
      const int id = onto.slot_id(ontology.slots[s]);
      auto& vs = ontology.values[s];
      for (const std::string& v : onto.slot(id).values) {
        if (std::find(vs.begin(), vs.end(), v) == vs.end()) vs.push_back(v);
      }
      if (std::find(vs.begin(), vs.end(), "dontcare") == vs.end()) vs.push_back("dontcare");
    }
    agents::e2e::E2eAgent fresh(domain, ontology, train, a.options);
    fresh.set_kb_options(kb);
    fresh.train_supervised(train, dev, [&](const agents::e2e::SlEpoch& e) {
      curve.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"dev_joint", e.dev_joint},
                       {"dev_action_accuracy", e.dev_action_accuracy}, {"seconds", e.seconds}});
      if (csv) csv << fmt::format("{},{:.5f},{:.5f},{:.5f},{:.2f}\n", e.epoch, e.loss, e.dev_joint, e.dev_action_accuracy, e.seconds);
      if (!a.json) {
        out << fmt::format("epoch {:>3}  loss {:.4f}  dev joint {:.2f} %  dev action {:.2f} %  ({:.1f} s)\n", e.epoch, e.loss,
                           100 * e.dev_joint, 100 * e.dev_action_accuracy, e.seconds);
        out.flush();
      }
    });
    return fresh;
  };
  agents::e2e::E2eAgent agent = make_agent();
  const double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json j = {{"stage", a.stage}, {"train", a.train}, {"curve", curve}, {"train_seconds", train_secs},
                      {"parameters", agent.num_parameters()}};
  if (!a.model.empty()) j["model"] = a.model;
  if (!taught.empty()) {
    // Dialogues taught in chat join the corpus D of Algorithm 1 and get their own update first.
    const double loss = agent.train_on_dialogues(taught, train, a.il_passes);
    j["il_corpus"] = {{"file", a.il_corpus}, {"dialogues", taught.size()}, {"loss", loss}};
    if (!a.json) {
      out << fmt::format("il: {} taught dialogues from '{}' join the corpus; {} pass(es), loss {:.4f}\n", taught.size(),
                         a.il_corpus, a.il_passes, loss);
    }
    train.insert(train.end(), taught.begin(), taught.end());
  }
  auto point_json = [](const train::E2eCurvePoint& p) {
    return nlohmann::json{{"dialogues", p.dialogues}, {"train_success", p.train_success},
                          {"success_rate", p.eval.success_rate}, {"avg_turns_success", p.eval.avg_turns_success},
                          {"joint_accuracy", p.eval.joint_accuracy}};
  };
  auto print_point = [&](const char* stage, const train::E2eCurvePoint& p) {
    if (csv) {
      csv << fmt::format("{}:{},{:.5f},{:.5f},{:.5f},\n", stage, p.dialogues, p.eval.success_rate, p.eval.joint_accuracy,
                         p.eval.avg_turns_success);
    }
    if (!a.json) {
      out << fmt::format("{} {:>5} dialogues  eval success {:.1f} %  turns {:.2f}  joint {:.2f} %\n", stage, p.dialogues,
                         100 * p.eval.success_rate, p.eval.avg_turns_success, 100 * p.eval.joint_accuracy);
      out.flush();
    }
  };
  if (a.stage != "sl" && a.il_dialogues > 0) {
    const auto t1 = std::chrono::steady_clock::now();
    train::E2eImitationOptions il;
    il.dialogues = a.il_dialogues;
    il.eval_every = a.eval_every;
    il.eval_dialogues = std::max(std::min(a.eval_dialogues, 100), 1);
    il.interaction = io;
    nlohmann::json c = nlohmann::json::array();
    train::run_imitation(agent, train, il, [&](const train::E2eCurvePoint& p) {
      c.push_back(point_json(p));
      print_point("il", p);
    });
    j["il_curve"] = c;
    j["il_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  }
  if (a.stage == "rl" && a.rl_dialogues > 0) {
    const auto t1 = std::chrono::steady_clock::now();
    train::E2eReinforceOptions rl;
    rl.dialogues = a.rl_dialogues;
    rl.end_to_end = !a.policy_only;
    rl.eval_every = a.eval_every;
    rl.eval_dialogues = std::max(std::min(a.eval_dialogues, 100), 1);
    rl.interaction = io;
    nlohmann::json c = nlohmann::json::array();
    train::run_reinforce(agent, rl, [&](const train::E2eCurvePoint& p) {
      c.push_back(point_json(p));
      print_point("rl", p);
    });
    j["rl_curve"] = c;
    j["rl_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  }
  if (a.eval_dialogues > 0) {
    const auto r = agent.evaluate(io);
    nlohmann::json slots = nlohmann::json::object();
    for (size_t s = 0; s < agent.ontology().slots.size(); ++s) slots[agent.ontology().slots[s]] = r.slot_accuracy[s];
    j["interactive"] = {{"dialogues", r.dialogues},       {"templates", a.templates},
                        {"success_rate", r.success_rate}, {"avg_turns", r.avg_turns},
                        {"avg_turns_success", r.avg_turns_success}, {"joint_accuracy", r.joint_accuracy},
                        {"slot_accuracy", slots}};
    if (!a.json) {
      out << fmt::format("interactive ({} dialogues, {} templates): success {:.1f} %, turns {:.2f} (successful: {:.2f}), "
                         "joint state accuracy {:.2f} %\n",
                         r.dialogues, a.templates, 100 * r.success_rate, r.avg_turns, r.avg_turns_success,
                         100 * r.joint_accuracy);
    }
  }
  if (!a.out.empty()) {
    agent.save(a.out);
    j["out"] = a.out;
    if (!a.json) out << fmt::format("agent written to {}\n", a.out);
  }
  if (a.json) out << j.dump() << "\n";
  return 0;
}

int run_dialog_e2e_eval(const DialogE2eEvalArgs& a, std::ostream& out) {
  MD_CHECK(!a.model.empty(), "dialog e2e eval: --model FILE is required");
  MD_CHECK(a.dialogues >= 1, "--dialogues must be >= 1 (got ", a.dialogues, ")");
  MD_CHECK(a.max_turns >= 1, "--max-turns must be >= 1 (got ", a.max_turns, ")");
  agents::e2e::InteractiveOptions io;
  io.templates = dialog::template_set_from_name(a.templates);
  io.dialogues = a.dialogues;
  io.seed = a.seed;
  io.max_turns = a.max_turns;
  io.user = user_options(a.user_profiles);
  std::vector<dialog::CorpusDialogue> test;
  if (!a.test.empty()) test = dialog::load_corpus(a.test);
  auto agent = agents::e2e::E2eAgent::load(a.model, a.domain);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = agent.evaluate(io);
  const auto& slots = agent.ontology().slots;
  nlohmann::json slot_acc = nlohmann::json::object();
  for (size_t s = 0; s < slots.size(); ++s) slot_acc[slots[s]] = r.slot_accuracy[s];
  nlohmann::json j = {{"model", a.model},
                      {"domain", agent.domain().name()},
                      {"dialogues", r.dialogues},
                      {"templates", a.templates},
                      {"seed", a.seed},
                      {"success_rate", r.success_rate},
                      {"avg_turns", r.avg_turns},
                      {"avg_turns_success", r.avg_turns_success},
                      {"joint_accuracy", r.joint_accuracy},
                      {"slot_accuracy", slot_acc}};
  if (!a.json) {
    out << fmt::format("agent '{}' ({} domain) vs the simulated user: {} dialogues, {} templates, seed {}\n", a.model,
                       agent.domain().name(), r.dialogues, a.templates, a.seed);
    out << fmt::format("  success rate            {:6.2f} %\n", 100 * r.success_rate);
    out << fmt::format("  turns (successful)      {:6.2f}  (all: {:.2f})\n", r.avg_turns_success, r.avg_turns);
    for (size_t s = 0; s < slots.size(); ++s) out << fmt::format("  state {:<17} {:6.2f} %\n", slots[s], 100 * r.slot_accuracy[s]);
    out << fmt::format("  state joint             {:6.2f} %\n", 100 * r.joint_accuracy);
  }
  if (!test.empty()) {
    agents::e2e::DstReport rep;
    double act = 0.0;
    try {
      rep = agent.state_report(test);
      act = agent.action_accuracy(test);
    } catch (const DataError& e) {
      throw DataError(detail::concat("'", a.test, "': ", e.what()));
    }
    nlohmann::json ts = nlohmann::json::object();
    for (size_t s = 0; s < rep.slots.size(); ++s) ts[rep.slots[s]] = rep.slot_accuracy[s];
    j["test"] = {{"file", a.test}, {"turns", rep.turns}, {"slot_accuracy", ts}, {"joint_accuracy", rep.joint_accuracy},
                 {"action_accuracy", act}};
    if (!a.json) {
      out << fmt::format("test corpus '{}' ({} turns):\n", a.test, rep.turns);
      for (size_t s = 0; s < rep.slots.size(); ++s) out << fmt::format("  state {:<17} {:6.2f} %\n", rep.slots[s], 100 * rep.slot_accuracy[s]);
      out << fmt::format("  state joint             {:6.2f} %\n  action accuracy         {:6.2f} %\n", 100 * rep.joint_accuracy,
                         100 * act);
    }
  }
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) out << j.dump() << "\n";
  return 0;
}

// ---- chat ----

namespace {

// Index of the first byte that breaks UTF-8 (overlong forms, surrogates and code points above
// U+10FFFF included), or npos if `s` is valid.
size_t invalid_utf8_at(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1FU;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0FU;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07U;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0U) != 0x80U) return i;
      cp = (cp << 6) | (d & 0x3FU);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A line of the person's input, checked: nullopt at end of input; `error` set for a line that
// is not UTF-8.
struct Line {
  bool eof = false;
  std::string text;   // trimmed
  std::string error;  // one line to print instead of using the text
};

Line read_line(std::istream& in, std::ostream& out, const char* prompt) {
  out << prompt << std::flush;
  Line l;
  std::string raw;
  if (!std::getline(in, raw)) {
    l.eof = true;
    out << "\n";
    return l;
  }
  const size_t bad = invalid_utf8_at(raw);
  if (bad != std::string_view::npos) {
    l.error = fmt::format("input is not valid UTF-8 (byte {}): type what you want, or 'bye'", bad + 1);
    return l;
  }
  l.text = trim(raw);
  return l;
}

// The person's side of a chat: the agent, its domain's NLG, the dialogue so far.
class Chat {
 public:
  Chat(agents::e2e::E2eAgent& agent, const DialogChatArgs& args, std::istream& in, std::ostream& out)
      : agent_(agent), args_(args), in_(in), out_(out), nlg_(agent.domain()), rng_(derive_seed(args.seed, {0x63686174ULL})) {
    const auto& onto = agent_.ontology();
    value_tokens_.resize(onto.slots.size());
    for (size_t s = 0; s < onto.slots.size(); ++s) {
      for (const auto& v : onto.values[s]) value_tokens_[s].push_back(dialog::tokenize(v));
    }
  }

  // Runs dialogues until `quit` or end of input.
  void run() {
    const auto& names = agent_.action_names();
    out_ << fmt::format("chat with the e2e agent '{}' ({} domain, {} actions). You are the user: say what you want.\n"
                        "'bye' ends a dialogue (a new one starts), 'quit' or end of input leaves.\n",
                        args_.model, agent_.domain().name(), names.size());
    if (args_.teach) {
      out_ << "teaching: after each agent turn, Enter accepts, slot=value corrects a tracked slot (slot=none clears it), "
              "a N picks action N; corrected dialogues go to '"
           << args_.corpus_out << "'\n";
    }
    for (int n = 1; !quit_; ++n) {
      out_ << fmt::format("--- dialogue {} ---\n", n);
      dialogue(n);
    }
  }

 private:
  // Per tracker slot: the spans of ontology values in `tokens` (slot, start, end).
  std::vector<dialog::CorpusSpan> mentions(const std::vector<std::string>& tokens) const {
    std::vector<dialog::CorpusSpan> spans;
    const auto& onto = agent_.ontology();
    for (size_t s = 0; s < value_tokens_.size(); ++s) {
      for (const auto& vt : value_tokens_[s]) {
        if (vt.empty() || vt.size() > tokens.size()) continue;
        for (size_t i = 0; i + vt.size() <= tokens.size(); ++i) {
          if (std::equal(vt.begin(), vt.end(), tokens.begin() + static_cast<std::ptrdiff_t>(i))) {
            spans.push_back({onto.slots[s], static_cast<int>(i), static_cast<int>(i + vt.size())});
          }
        }
      }
    }
    return spans;
  }

  void add_user_turn(const std::string& text, bool bye) {
    dialog::CorpusTurn t;
    if (pending_) {
      t.system_acts = dialog::corpus_acts(agent_.domain(), pending_->act);
      t.system_utterance = pending_->utterance;
    } else {
      t.user_intents.push_back(dialog::domain_intent(agent_.domain().name()));
    }
    t.user_utterance.text = text;
    t.user_utterance.tokens = dialog::tokenize(text);
    t.user_utterance.slots = mentions(t.user_utterance.tokens);
    if (bye) t.user_acts.push_back({"GOOD_BYE", "", ""});
    dialogue_.turns.push_back(std::move(t));
    pending_.reset();
  }

  void set_state(const std::vector<std::string>& state) {
    auto& ds = dialogue_.turns.back().dialogue_state;
    ds.clear();
    const auto& slots = agent_.ontology().slots;
    for (size_t s = 0; s < slots.size(); ++s) {
      if (!state[s].empty()) ds.push_back({slots[s], state[s]});
    }
  }

  std::string state_line(const std::vector<std::string>& state) const {
    std::string line;
    const auto& slots = agent_.ontology().slots;
    for (size_t s = 0; s < slots.size(); ++s) {
      line += fmt::format("{}{}={}{}", s ? "  " : "", slots[s], state[s].empty() ? "none" : state[s],
                          overrides_[s] ? " (corrected)" : "");
    }
    return line;
  }

  // "slot=value": empty if applied, else the one line to print.
  std::string correct(const std::string& cmd, std::vector<std::string>& state) {
    const auto& onto = agent_.ontology();
    const auto eq = cmd.find('=');
    const std::string slot = lower(trim(std::string_view(cmd).substr(0, eq)));
    const std::string value = trim(std::string_view(cmd).substr(eq + 1));
    const int s = onto.slot_index(slot);
    if (s < 0) {
      std::string list;
      for (const auto& x : onto.slots) list += (list.empty() ? "" : ", ") + x;
      return fmt::format("unknown slot '{}' (slots: {})", slot, list);
    }
    const auto si = static_cast<size_t>(s);
    const std::string lv = lower(value);
    if (lv.empty() || lv == "none") {
      state[si].clear();
      overrides_[si] = std::string();
      return {};
    }
    for (const auto& v : onto.values[si]) {
      if (lower(v) == lv) {
        state[si] = v;
        overrides_[si] = v;
        return {};
      }
    }
    // A few valid values: those containing the typed text first.
    std::vector<std::string> some;
    for (const auto& v : onto.values[si]) {
      if (some.size() < 5 && lower(v).find(lv) != std::string::npos) some.push_back(v);
    }
    for (const auto& v : onto.values[si]) {
      if (some.size() < 5 && std::find(some.begin(), some.end(), v) == some.end()) some.push_back(v);
    }
    std::string list;
    for (const auto& v : some) list += (list.empty() ? "'" : ", '") + v + "'";
    return fmt::format("'{}' is not a value of slot '{}' (e.g. {}; {} values in all, or 'none')", value, slot, list,
                       onto.values[si].size());
  }

  // The menu after a system turn; may change `state` and `action`. 'bye' or 'quit' typed here accepts
  // the turn as it stands and is queued as the user's next line.
  void teach(std::vector<std::string>& state, int& action, const std::vector<std::string>& second) {
    const auto& names = agent_.action_names();
    std::string actions;
    for (size_t i = 0; i < names.size(); ++i) actions += fmt::format("{}{} {}", i ? ", " : "", i, names[i]);
    for (;;) {
      say(state, action, second);
      out_ << "  tracked: " << state_line(state) << "\n";
      out_ << fmt::format("  action:  {} {}\n", action, names[static_cast<size_t>(action)]);
      out_ << "  [Enter] accept | slot=value correct a slot | bye / quit | a N pick action N of: " << actions << "\n";
      const Line l = read_line(in_, out_, "teach> ");
      if (l.eof) return;
      if (!l.error.empty()) {
        out_ << l.error << "\n";
        continue;
      }
      if (l.text.empty()) return;
      if (const std::string cmd = lower(l.text); cmd == "bye" || cmd == "goodbye" || cmd == "quit") {
        queued_ = l.text;
        return;
      }
      if (l.text.find('=') != std::string::npos) {
        const std::string err = correct(l.text, state);
        if (!err.empty()) out_ << err << "\n";
        continue;
      }
      if (l.text.size() >= 2 && (l.text[0] == 'a' || l.text[0] == 'A') && std::isspace(static_cast<unsigned char>(l.text[1]))) {
        const std::string num = trim(std::string_view(l.text).substr(2));
        size_t used = 0;
        int n = -1;
        try {
          n = std::stoi(num, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == num.size() && used > 0 && n >= 0 && n < static_cast<int>(names.size())) {
          action = n;
        } else {
          out_ << fmt::format("'{}' is not an action number: pick 0 to {}\n", num, names.size() - 1);
        }
        continue;
      }
      out_ << fmt::format("unknown teach command '{}': press Enter to accept, type slot=value, a N, bye or quit\n", l.text);
    }
  }

  // Realizes the system act of `action` in `state` and prints it.
  void say(const std::vector<std::string>& state, int action, const std::vector<std::string>& second) {
    const dialog::SystemAct act = agent_.to_system_act(action, state, second);
    Rng r = rng_;  // the same template choice as the final realization in dialogue()
    out_ << "agent: " << nlg_.realize(act, r).text << "\n";
  }

  void dialogue(int n) {
    dialogue_ = dialog::CorpusDialogue{};
    pending_.reset();
    overrides_.assign(agent_.ontology().slots.size(), std::nullopt);
    std::vector<std::string> last_state(agent_.ontology().slots.size());
    bool ended = false;
    for (int turn = 0; !ended;) {
      Line l;
      if (queued_) {
        l.text = *queued_;
        queued_.reset();
      } else {
        l = read_line(in_, out_, "you> ");
      }
      if (!l.error.empty()) {
        out_ << l.error << "\n";
        continue;
      }
      if (!l.eof && l.text.empty()) {
        out_ << "empty input: type what you want, or 'bye'\n";
        continue;
      }
      const std::string cmd = lower(l.text);
      if (l.eof || cmd == "quit") quit_ = true;
      const bool bye = quit_ || cmd == "bye" || cmd == "goodbye";
      if (bye) {
        // Leaving ends the dialogue as a 'bye' turn: the state stays, the system says goodbye.
        if (dialogue_.turns.empty()) break;
        add_user_turn(quit_ ? std::string("bye") : l.text, true);
        set_state(last_state);
        dialog::SystemAct good_bye;
        good_bye.type = dialog::SystemActType::kBye;
        out_ << "agent: " << nlg_.realize(good_bye, rng_).text << "\n";
        break;
      }
      add_user_turn(l.text, false);
      const auto d = agent_.decide(dialogue_);
      std::vector<std::string> state = d.state;
      // A corrected slot keeps its value until the person mentions a value of that slot again.
      const auto& spans = dialogue_.turns.back().user_utterance.slots;
      for (size_t s = 0; s < state.size(); ++s) {
        const bool mentioned = std::any_of(spans.begin(), spans.end(),
                                           [&](const dialog::CorpusSpan& x) { return x.slot == agent_.ontology().slots[s]; });
        if (mentioned) overrides_[s].reset();
        if (overrides_[s]) state[s] = *overrides_[s];
      }
      int action = d.action;
      if (args_.teach) {
        teach(state, action, d.second);
      } else {
        say(state, action, d.second);
      }
      // The final (possibly corrected) state and act of this turn.
      set_state(state);
      last_state = state;
      Pending p;
      p.act = agent_.to_system_act(action, state, d.second);
      p.utterance = nlg_.realize(p.act, rng_);  // advances rng_ as say() previewed
      pending_ = std::move(p);
      ++turn;
      if (pending_->act.type == dialog::SystemActType::kBye || turn >= args_.max_turns) {
        if (pending_->act.type != dialog::SystemActType::kBye) out_ << "(the agent closes the dialogue after " << turn << " turns)\n";
        pending_.reset();
        ended = true;
      }
    }
    save(n);
  }

  void save(int n) {
    if (dialogue_.turns.empty() || args_.corpus_out.empty()) return;
    std::vector<dialog::CorpusDialogue> all;
    if (std::filesystem::exists(args_.corpus_out)) all = dialog::load_corpus(args_.corpus_out);
    std::string id;
    for (size_t k = all.size() + 1;; ++k) {
      id = fmt::format("{}_chat_{}", agent_.domain().name(), k);
      if (std::none_of(all.begin(), all.end(), [&](const auto& d) { return d.dialogue_id == id; })) break;
    }
    dialogue_.dialogue_id = id;
    all.push_back(dialogue_);
    dialog::save_corpus(args_.corpus_out, all);  // atomically: a crash keeps the previous file
    out_ << fmt::format("dialogue {} saved as '{}' ({} turns) to '{}' ({} dialogues)\n", n, id, dialogue_.turns.size(),
                        args_.corpus_out, all.size());
  }

  struct Pending {
    dialog::SystemAct act;
    dialog::CorpusUtterance utterance;
  };

  agents::e2e::E2eAgent& agent_;
  const DialogChatArgs& args_;
  std::istream& in_;
  std::ostream& out_;
  dialog::SystemNlg nlg_;
  Rng rng_;
  std::vector<std::vector<std::vector<std::string>>> value_tokens_;  // per slot, per value
  dialog::CorpusDialogue dialogue_;
  std::optional<Pending> pending_;
  std::vector<std::optional<std::string>> overrides_;  // per slot: the corrected value ("" cleared), if any
  bool quit_ = false;
  std::optional<std::string> queued_;  ///< 'bye' / 'quit' typed at the teach prompt
};

}  // namespace

int run_dialog_chat(const DialogChatArgs& a, std::istream& in, std::ostream& out) {
  MD_CHECK(!a.model.empty(), "dialog chat: --model FILE is required");
  MD_CHECK(!a.teach || !a.corpus_out.empty(), "--teach needs --corpus-out FILE.json (where the corrected dialogues go)");
  MD_CHECK(a.max_turns >= 1, "--max-turns must be >= 1 (got ", a.max_turns, ")");
  auto agent = agents::e2e::E2eAgent::load(a.model, a.domain);
  // Check the corpus file before the person types anything: a malformed one is an error now.
  if (!a.corpus_out.empty() && std::filesystem::exists(a.corpus_out)) (void)dialog::load_corpus(a.corpus_out);
  Chat chat(agent, a, in, out);
  chat.run();
  return 0;
}

void declare_dialog_corpus(CLI::App& command, DialogCorpusArgs& corpus) {
  command.add_option("--domain", corpus.domain, "built-in domain: movie | restaurant | sf_restaurant")->capture_default_str();
  command.add_option("--out", corpus.out, "directory for train.json, dev.json, test.json")->required();
  command.add_option("--train", corpus.train, "training dialogues")->capture_default_str();
  command.add_option("--dev", corpus.dev, "development dialogues")->capture_default_str();
  command.add_option("--test", corpus.test, "test dialogues")->capture_default_str();
  command.add_option("--templates", corpus.templates, "user templates: training | extended")->capture_default_str();
  command.add_option("--seed", corpus.seed, "random seed")->capture_default_str();
  command.add_option("--kb-entities", corpus.kb_entities, "entities in the generated knowledge base")->capture_default_str();
  command.add_option("--kb-seed", corpus.kb_seed, "seed of the generated knowledge base")->capture_default_str();
  command.add_option("--user-profiles", corpus.user_profiles,
                     "TOML mix of simulated-user profiles (default: the built-in mix fitted to sim-M; examples/user_profiles.toml)");
  command.add_flag("--json", corpus.json, "one JSON line");
}

void declare_dialog_dst(CLI::App& command, DialogDstArgs& dst) {
  auto& o = dst.options;
  command.add_option("--train", dst.train, "training corpus (sim-M JSON)")->required();
  command.add_option("--dev", dst.dev, "development corpus (best epoch chosen on it)");
  command.add_option("--test", dst.test, "test corpus")->required();
  command.add_option("--epochs", o.epochs, "training epochs")->capture_default_str();
  command.add_option("--seed", o.seed, "random seed")->capture_default_str();
  command.add_option("--word-dim", o.word_dim, "word embedding size")->capture_default_str();
  command.add_option("--utter-hidden", o.utter_hidden, "utterance LSTM size (each direction)")->capture_default_str();
  command.add_option("--dialog-hidden", o.dialog_hidden, "dialogue LSTM size")->capture_default_str();
  command.add_option("--act-dim", o.act_dim, "system act embedding size")->capture_default_str();
  command.add_option("--slot-hidden", o.slot_hidden, "slot MLP hidden size")->capture_default_str();
  command.add_option("--dropout", o.dropout, "dropout")->capture_default_str();
  command.add_option("--lr", o.learning_rate, "Adam learning rate")->capture_default_str();
  command.add_option("--batch", o.batch_dialogues, "dialogues per minibatch")->capture_default_str();
  command.add_option("--unk-value-prob", o.unk_value_prob, "training: value-mention tokens replaced by <unk> with this probability")
      ->capture_default_str();
  command.add_flag("--mention-features,!--no-mention-features", o.mention_features, "the paper's plain softmax (no value-mention features)");
  command.add_flag("--train-ontology-only", dst.train_ontology_only, "candidate values from the train file only");
  command.add_flag("--json", dst.json, "one JSON line");
}

void declare_dialog_e2e_train(CLI::App& command, DialogE2eTrainArgs& train) {
  auto& ao = train.options;
  command.add_option("--stage", train.stage, "sl | il (SL then imitation) | rl (SL, imitation if --il-dialogues, REINFORCE)")
      ->capture_default_str();
  command.add_option("--il-dialogues", train.il_dialogues, "taught dialogues (stages il, rl)")->capture_default_str();
  command.add_option("--rl-dialogues", train.rl_dialogues, "REINFORCE dialogues (stage rl)")->capture_default_str();
  command.add_flag("--policy-only", train.policy_only, "RL updates the policy network only (not the encoder and tracker)");
  command.add_option("--eval-every", train.eval_every, "il / rl: evaluation every N dialogues")->capture_default_str();
  command.add_option("--train", train.train, "training corpus (sim-M schema, from `dialog corpus`; optional with --model)");
  command.add_option("--dev", train.dev, "development corpus");
  command.add_option("--domain", train.domain, "built-in domain of the corpus: movie | restaurant | sf_restaurant (default: movie, or the model's)");
  command.add_option("--kb-entities", train.kb_entities, "entities in the generated knowledge base")->capture_default_str();
  command.add_option("--kb-seed", train.kb_seed, "seed of the generated knowledge base")->capture_default_str();
  command.add_option("--epochs", ao.tracker.epochs, "training epochs")->capture_default_str();
  command.add_option("--seed", ao.tracker.seed, "random seed")->capture_default_str();
  command.add_option("--word-dim", ao.tracker.word_dim, "word embedding size")->capture_default_str();
  command.add_option("--utter-hidden", ao.tracker.utter_hidden, "utterance LSTM size (each direction)")->capture_default_str();
  command.add_option("--dialog-hidden", ao.tracker.dialog_hidden, "dialogue LSTM size")->capture_default_str();
  command.add_option("--slot-hidden", ao.tracker.slot_hidden, "slot MLP hidden size")->capture_default_str();
  command.add_option("--policy-hidden", ao.policy_hidden, "policy MLP hidden size")->capture_default_str();
  command.add_option("--lr", ao.tracker.learning_rate, "Adam learning rate")->capture_default_str();
  command.add_option("--batch", ao.tracker.batch_dialogues, "dialogues per minibatch")->capture_default_str();
  command.add_option("--lambda-slot", ao.lambda_slot, "equation 4 weight of each slot")->capture_default_str();
  command.add_option("--lambda-action", ao.lambda_action, "equation 4 weight of the action")->capture_default_str();
  command.add_option("--eval-dialogues", train.eval_dialogues, "interactive test dialogues after training")->capture_default_str();
  command.add_option("--templates", train.templates, "user templates in interaction: training | extended")->capture_default_str();
  command.add_option("--curve", train.curve, "write the learning curve as CSV");
  command.add_option("--out", train.out, "write the trained agent to this file");
  command.add_option("--model", train.model, "start from this saved agent instead of supervised training (stages il, rl)");
  command.add_option("--il-corpus", train.il_corpus, "dialogues taught in `dialog chat --teach` (sim-M JSON): join the imitation corpus");
  command.add_option("--il-passes", train.il_passes, "supervised passes on the --il-corpus dialogues")->capture_default_str();
  command.add_option("--user-profiles", train.user_profiles,
                     "TOML mix of simulated-user profiles in interaction (default: the built-in mix fitted to sim-M)");
  command.add_flag("--json", train.json, "one JSON line");
}

void declare_dialog_e2e_eval(CLI::App& command, DialogE2eEvalArgs& eval) {
  command.add_option("--model", eval.model, "saved agent (from `dialog e2e train --out`)")->required();
  command.add_option("--domain", eval.domain, "the domain the agent must be for (default: the model's)");
  command.add_option("--dialogues", eval.dialogues, "interactive dialogues")->capture_default_str();
  command.add_option("--templates", eval.templates, "user templates: training | extended")->capture_default_str();
  command.add_option("--seed", eval.seed, "dialogue seed")->capture_default_str();
  command.add_option("--max-turns", eval.max_turns, "system turns per dialogue")->capture_default_str();
  command.add_option("--test", eval.test, "test corpus (sim-M JSON): also corpus state tracking and action accuracy");
  command.add_option("--user-profiles", eval.user_profiles,
                     "TOML mix of simulated-user profiles (default: the built-in mix fitted to sim-M)");
  command.add_flag("--json", eval.json, "one JSON line");
}

void declare_dialog_chat(CLI::App& command, DialogChatArgs& chat) {
  command.add_option("--model", chat.model, "saved agent (from `dialog e2e train --out`)")->required();
  command.add_option("--domain", chat.domain, "the domain the agent must be for (default: the model's)");
  command.add_flag("--teach", chat.teach, "after each agent turn, correct the tracked slots and the action");
  command.add_option("--corpus-out", chat.corpus_out, "append each dialogue (as corrected) to this sim-M JSON file");
  command.add_option("--seed", chat.seed, "seed of the agent's sentence templates")->capture_default_str();
  command.add_option("--max-turns", chat.max_turns, "agent turns per dialogue")->capture_default_str();

}

int run_dialog_chat_terminal(const DialogChatArgs& args, std::ostream& out) { return run_dialog_chat(args, std::cin, out); }

}  // namespace metadial::cli
