#include "cli/e2e_commands.h"

#include <chrono>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"
#include "metadial/train/e2e_trainer.h"

namespace metadial::cli {

int run_dialog_corpus(const DialogCorpusArgs& a, std::ostream& out) {
  MD_CHECK(!a.out.empty(), "dialog corpus: --out DIR is required");
  MD_CHECK(a.kb_entities >= 1, "--kb-entities must be >= 1 (got ", a.kb_entities, ")");
  dialog::CorpusOptions o;
  o.num_train = a.train;
  o.num_dev = a.dev;
  o.num_test = a.test;
  o.seed = a.seed;
  o.templates = dialog::template_set_from_name(a.templates);
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
  MD_CHECK(a.stage != "il" || a.il_dialogues > 0, "--stage il needs --il-dialogues N (N > 0)");
  MD_CHECK(a.eval_dialogues >= 0, "--eval-dialogues must be >= 0 (got ", a.eval_dialogues, ")");
  MD_CHECK(a.kb_entities >= 1, "--kb-entities must be >= 1 (got ", a.kb_entities, ")");
  const auto train = dialog::load_corpus(a.train);
  const auto dev = a.dev.empty() ? std::vector<dialog::CorpusDialogue>{} : dialog::load_corpus(a.dev);
  const auto ontology = dialog::CorpusOntology::from({&train, &dev});
  auto domain = dialog::Domain::builtin(a.domain, dialog::KbOptions{a.kb_entities, a.kb_seed});
  agents::e2e::InteractiveOptions io;
  io.templates = dialog::template_set_from_name(a.templates);
  io.dialogues = std::max(a.eval_dialogues, 1);
  io.seed = derive_seed(a.options.tracker.seed, {0x6576616cULL});
  const auto t0 = std::chrono::steady_clock::now();
  agents::e2e::E2eAgent agent(domain, ontology, train, a.options);
  std::ofstream csv;
  if (!a.curve.empty()) {
    csv.open(a.curve);
    MD_CHECK_AS(StorageError, static_cast<bool>(csv), "--curve '", a.curve, "': cannot be written");
    csv << "epoch,train_loss,dev_joint,dev_action_accuracy,seconds\n";
  }
  nlohmann::json curve = nlohmann::json::array();
  agent.train_supervised(train, dev, [&](const agents::e2e::SlEpoch& e) {
    curve.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"dev_joint", e.dev_joint},
                     {"dev_action_accuracy", e.dev_action_accuracy}, {"seconds", e.seconds}});
    if (csv) csv << fmt::format("{},{:.5f},{:.5f},{:.5f},{:.2f}\n", e.epoch, e.loss, e.dev_joint, e.dev_action_accuracy, e.seconds);
    if (!a.json) {
      out << fmt::format("epoch {:>3}  loss {:.4f}  dev joint {:.2f} %  dev action {:.2f} %  ({:.1f} s)\n", e.epoch, e.loss,
                         100 * e.dev_joint, 100 * e.dev_action_accuracy, e.seconds);
      out.flush();
    }
  });
  const double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json j = {{"stage", a.stage}, {"train", a.train}, {"curve", curve}, {"train_seconds", train_secs},
                      {"parameters", agent.num_parameters()}};
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
  if (a.json) out << j.dump() << "\n";
  return 0;
}

std::function<int(std::ostream&)> add_e2e_commands(CLI::App* dialog) {
  auto corpus_args = std::make_shared<DialogCorpusArgs>();
  auto dst_args = std::make_shared<DialogDstArgs>();
  auto* c = dialog->add_subcommand("corpus", "generate an annotated corpus (rule expert vs agenda user, template NLG) in the sim-M schema");
  c->add_option("--domain", corpus_args->domain, "built-in domain: movie | restaurant")->capture_default_str();
  c->add_option("--out", corpus_args->out, "directory for train.json, dev.json, test.json")->required();
  c->add_option("--train", corpus_args->train, "training dialogues")->capture_default_str();
  c->add_option("--dev", corpus_args->dev, "development dialogues")->capture_default_str();
  c->add_option("--test", corpus_args->test, "test dialogues")->capture_default_str();
  c->add_option("--templates", corpus_args->templates, "user templates: training | extended")->capture_default_str();
  c->add_option("--seed", corpus_args->seed, "random seed")->capture_default_str();
  c->add_option("--kb-entities", corpus_args->kb_entities, "entities in the generated knowledge base")->capture_default_str();
  c->add_option("--kb-seed", corpus_args->kb_seed, "seed of the generated knowledge base")->capture_default_str();
  c->add_flag("--json", corpus_args->json, "one JSON line");

  auto* d = dialog->add_subcommand("dst", "train the neural state tracker on sim-M-schema data; per-slot and joint goal accuracy");
  auto& o = dst_args->options;
  d->add_option("--train", dst_args->train, "training corpus (sim-M JSON)")->required();
  d->add_option("--dev", dst_args->dev, "development corpus (best epoch chosen on it)");
  d->add_option("--test", dst_args->test, "test corpus")->required();
  d->add_option("--epochs", o.epochs, "training epochs")->capture_default_str();
  d->add_option("--seed", o.seed, "random seed")->capture_default_str();
  d->add_option("--word-dim", o.word_dim, "word embedding size")->capture_default_str();
  d->add_option("--utter-hidden", o.utter_hidden, "utterance LSTM size (each direction)")->capture_default_str();
  d->add_option("--dialog-hidden", o.dialog_hidden, "dialogue LSTM size")->capture_default_str();
  d->add_option("--act-dim", o.act_dim, "system act embedding size")->capture_default_str();
  d->add_option("--slot-hidden", o.slot_hidden, "slot MLP hidden size")->capture_default_str();
  d->add_option("--dropout", o.dropout, "dropout")->capture_default_str();
  d->add_option("--lr", o.learning_rate, "Adam learning rate")->capture_default_str();
  d->add_option("--batch", o.batch_dialogues, "dialogues per minibatch")->capture_default_str();
  d->add_option("--unk-value-prob", o.unk_value_prob, "training: value-mention tokens replaced by <unk> with this probability")
      ->capture_default_str();
  d->add_flag("--mention-features,!--no-mention-features", o.mention_features, "the paper's plain softmax (no value-mention features)");
  d->add_flag("--train-ontology-only", dst_args->train_ontology_only, "candidate values from the train file only");
  d->add_flag("--json", dst_args->json, "one JSON line");

  auto e2e_args = std::make_shared<DialogE2eTrainArgs>();
  auto* e2e = dialog->add_subcommand("e2e", "the end-to-end neural dialogue agent (Liu et al. 2018)");
  auto* et = e2e->add_subcommand("train", "train the agent (sl: equation 4 on a corpus), then talk to the simulated user");
  auto& ao = e2e_args->options;
  et->add_option("--stage", e2e_args->stage, "sl | il (SL then imitation) | rl (SL, imitation if --il-dialogues, REINFORCE)")
      ->capture_default_str();
  et->add_option("--il-dialogues", e2e_args->il_dialogues, "taught dialogues (stages il, rl)")->capture_default_str();
  et->add_option("--rl-dialogues", e2e_args->rl_dialogues, "REINFORCE dialogues (stage rl)")->capture_default_str();
  et->add_flag("--policy-only", e2e_args->policy_only, "RL updates the policy network only (not the encoder and tracker)");
  et->add_option("--eval-every", e2e_args->eval_every, "il / rl: evaluation every N dialogues")->capture_default_str();
  et->add_option("--train", e2e_args->train, "training corpus (sim-M schema, from `dialog corpus`)")->required();
  et->add_option("--dev", e2e_args->dev, "development corpus");
  et->add_option("--domain", e2e_args->domain, "built-in domain of the corpus: movie | restaurant")->capture_default_str();
  et->add_option("--kb-entities", e2e_args->kb_entities, "entities in the generated knowledge base")->capture_default_str();
  et->add_option("--kb-seed", e2e_args->kb_seed, "seed of the generated knowledge base")->capture_default_str();
  et->add_option("--epochs", ao.tracker.epochs, "training epochs")->capture_default_str();
  et->add_option("--seed", ao.tracker.seed, "random seed")->capture_default_str();
  et->add_option("--word-dim", ao.tracker.word_dim, "word embedding size")->capture_default_str();
  et->add_option("--utter-hidden", ao.tracker.utter_hidden, "utterance LSTM size (each direction)")->capture_default_str();
  et->add_option("--dialog-hidden", ao.tracker.dialog_hidden, "dialogue LSTM size")->capture_default_str();
  et->add_option("--slot-hidden", ao.tracker.slot_hidden, "slot MLP hidden size")->capture_default_str();
  et->add_option("--policy-hidden", ao.policy_hidden, "policy MLP hidden size")->capture_default_str();
  et->add_option("--lr", ao.tracker.learning_rate, "Adam learning rate")->capture_default_str();
  et->add_option("--batch", ao.tracker.batch_dialogues, "dialogues per minibatch")->capture_default_str();
  et->add_option("--lambda-slot", ao.lambda_slot, "equation 4 weight of each slot")->capture_default_str();
  et->add_option("--lambda-action", ao.lambda_action, "equation 4 weight of the action")->capture_default_str();
  et->add_option("--eval-dialogues", e2e_args->eval_dialogues, "interactive test dialogues after training")->capture_default_str();
  et->add_option("--templates", e2e_args->templates, "user templates in interaction: training | extended")->capture_default_str();
  et->add_option("--curve", e2e_args->curve, "write the learning curve as CSV");
  et->add_flag("--json", e2e_args->json, "one JSON line");
  e2e->require_subcommand(1);

  return [=](std::ostream& out) {
    if (et->parsed()) return run_dialog_e2e_train(*e2e_args, out);
    if (c->parsed()) return run_dialog_corpus(*corpus_args, out);
    if (d->parsed()) return run_dialog_dst(*dst_args, out);
    return -1;
  };
}

}  // namespace metadial::cli
