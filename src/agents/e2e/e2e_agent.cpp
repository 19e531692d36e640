#include "metadial/agents/e2e/e2e_agent.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "agents/e2e/features.h"
#include "metadial/core/error.h"
#include "metadial/core/hash.h"
#include "metadial/core/random.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/goal.h"
#include "metadial/nn/init.h"
#include "metadial/nn/model_file.h"

namespace metadial::agents::e2e {

void AgentOptions::validate() const {
  tracker.validate();
  MD_CHECK(policy_hidden >= 1, "agent options: policy_hidden ", policy_hidden, " must be >= 1");
  MD_CHECK(lambda_slot >= 0.0 && lambda_action >= 0.0, "agent options: lambda_slot ", lambda_slot, " / lambda_action ",
           lambda_action, " must be >= 0");
}

namespace {

const AgentOptions& validated(const AgentOptions& o) {
  o.validate();
  return o;
}

}  // namespace

struct E2eAgent::Impl {
  std::shared_ptr<const dialog::Domain> domain;
  AgentOptions options;
  Featurizer feat;
  TrackerNet tracker{nullptr};
  PolicyNet policy{nullptr};
  std::unique_ptr<torch::optim::Adam> adam;
  std::unique_ptr<torch::optim::Adam> rl_all, rl_policy;
  Rng rng;
  std::vector<int> slot_ids;  // domain slot id of each tracker slot
  dialog::KbOptions kb_options;

  Impl(std::shared_ptr<const dialog::Domain> d, Featurizer f, const AgentOptions& o)
      : domain(std::move(d)),
        options(validated(o)),
        feat(std::move(f)),
        rng(derive_seed(o.tracker.seed, {stream("pol")})) {
    MD_CHECK(domain != nullptr, "e2e agent: null domain");
    const dialog::CorpusOntology& ontology = feat.ontology();
    const dialog::Ontology& onto = domain->ontology();
    for (size_t s = 0; s < ontology.slots.size(); ++s) {
      const int id = onto.slot_id(ontology.slots[s]);
      MD_CHECK(onto.informable_index(id) >= 0, "e2e agent: slot '", ontology.slots[s], "' is not informable in domain '",
               domain->name(), "'");
      for (const auto& v : ontology.values[s]) (void)onto.value_id(id, v);  // throws naming the value
      slot_ids.push_back(id);
    }
    // Initial weights from the seed alone; torch's global generator is neither read nor moved.
    Rng init(derive_seed(o.tracker.seed, {stream("init")}));
    nn::build_module([&] {
      tracker = TrackerNet(feat.sizes(), options.tracker, init);
      policy = PolicyNet(feat.sizes(), options.tracker.dialog_hidden, options.policy_hidden, init);
    });
    feat.set_kb_summary([this](const std::vector<std::string>& state) { return summary(state); });
    std::vector<torch::Tensor> params = tracker->parameters();
    for (const auto& p : policy->parameters()) params.push_back(p);
    adam = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(options.tracker.learning_rate));
  }

  std::vector<int> constraints(const std::vector<std::string>& state) const {
    const dialog::Ontology& onto = domain->ontology();
    std::vector<int> c(static_cast<size_t>(onto.num_informable()), dialog::kNoValue);
    for (size_t s = 0; s < state.size(); ++s) {
      if (state[s].empty()) continue;
      c[static_cast<size_t>(onto.informable_index(slot_ids[s]))] = onto.value_id(slot_ids[s], state[s]);
    }
    return c;
  }

  std::vector<float> summary(const std::vector<std::string>& state) const {
    const auto c = constraints(state);
    bool any = false;
    for (int v : c) any = any || v >= 0;
    const int n = domain->kb().count(c);
    const int total = domain->kb().size();
    std::vector<float> f(kKbFeatures, 0.0F);
    f[0] = any ? 1.0F : 0.0F;
    f[1] = n == 0 ? 1.0F : 0.0F;
    f[2] = n == 1 ? 1.0F : 0.0F;
    f[3] = n >= 2 && n <= 5 ? 1.0F : 0.0F;
    f[4] = n > 5 ? 1.0F : 0.0F;
    f[5] = static_cast<float>(std::log1p(static_cast<double>(n)) / std::log1p(static_cast<double>(total)));
    return f;
  }

  std::vector<double> lambdas() const { return std::vector<double>(feat.ontology().slots.size(), options.lambda_slot); }

  std::vector<EncodedDialogue> encode_all(const std::vector<dialog::CorpusDialogue>& data) const {
    std::vector<EncodedDialogue> out;
    for (const auto& d : data) out.push_back(feat.encode(d, true));
    return out;
  }

  void set_train(bool on) {
    tracker->train(on);
    policy->train(on);
  }

  double run_epoch(const std::vector<EncodedDialogue>& data, bool learn) {
    std::vector<size_t> order(data.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (learn) {
      shuffle(order, rng);
    }
    set_train(learn);
    double total = 0.0;
    int64_t turns = 0;
    const size_t bs = static_cast<size_t>(learn ? options.tracker.batch_dialogues : 32);
    for (size_t start = 0; start < order.size(); start += bs) {
      std::vector<const EncodedDialogue*> batch;
      for (size_t k = start; k < std::min(order.size(), start + bs); ++k) batch.push_back(&data[order[k]]);
      const Batch b = make_batch(batch, feat.sizes(), learn ? options.tracker.unk_value_prob : 0.0, rng);
      std::optional<torch::NoGradGuard> ng;
      if (!learn) ng.emplace();
      const TrackerOutput t = tracker->forward(b);
      const torch::Tensor a = policy->forward(t, b.kb, false);
      const torch::Tensor l = equation4_loss(t.slot_logits, b.labels, a, b.actions, lambdas(), options.lambda_action);
      if (learn) {
        adam->zero_grad();
        (l / static_cast<double>(b.num_turns)).backward();
        std::vector<torch::Tensor> params = tracker->parameters();
        for (const auto& p : policy->parameters()) params.push_back(p);
        torch::nn::utils::clip_grad_norm_(params, 5.0);
        adam->step();
      }
      total += l.item<double>();
      turns += b.num_turns;
    }
    return turns > 0 ? total / static_cast<double>(turns) : 0.0;
  }

  // (state accuracy report, action accuracy) on encoded data.
  std::pair<DstReport, double> scores(const std::vector<EncodedDialogue>& data) {
    set_train(false);
    torch::NoGradGuard ng;
    DstReport r;
    r.slots = feat.ontology().slots;
    const size_t m = r.slots.size();
    std::vector<int64_t> right(m, 0);
    int64_t joint = 0, n = 0, act_right = 0, act_n = 0;
    for (size_t start = 0; start < data.size(); start += 32) {
      std::vector<const EncodedDialogue*> batch;
      for (size_t k = start; k < std::min(data.size(), start + 32); ++k) batch.push_back(&data[k]);
      const Batch b = make_batch(batch, feat.sizes(), 0.0, rng);
      const TrackerOutput t = tracker->forward(b);
      const torch::Tensor a = policy->forward(t, b.kb, false).argmax(1);
      torch::Tensor all_ok = torch::ones({b.num_turns}, torch::kBool);
      for (size_t s = 0; s < m; ++s) {
        const torch::Tensor ok = t.slot_logits[s].argmax(1).eq(b.labels[s]);
        right[s] += ok.sum().item<int64_t>();
        all_ok = all_ok.logical_and(ok);
      }
      joint += all_ok.sum().item<int64_t>();
      n += b.num_turns;
      const torch::Tensor valid = b.actions.ge(0);
      act_right += a.eq(b.actions).logical_and(valid).sum().item<int64_t>();
      act_n += valid.sum().item<int64_t>();
    }
    r.turns = static_cast<int>(n);
    for (size_t s = 0; s < m; ++s) r.slot_accuracy.push_back(n ? static_cast<double>(right[s]) / static_cast<double>(n) : 0.0);
    r.joint_accuracy = n ? static_cast<double>(joint) / static_cast<double>(n) : 0.0;
    return {r, act_n ? static_cast<double>(act_right) / static_cast<double>(act_n) : 0.0};
  }

  std::vector<torch::Tensor> snapshot() const {
    std::vector<torch::Tensor> out;
    for (const auto& p : tracker->parameters()) out.push_back(p.detach().clone());
    for (const auto& p : policy->parameters()) out.push_back(p.detach().clone());
    return out;
  }
  void restore(const std::vector<torch::Tensor>& snap) {
    torch::NoGradGuard ng;
    std::vector<torch::Tensor> params = tracker->parameters();
    for (const auto& p : policy->parameters()) params.push_back(p);
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(snap[i]);
  }

  // Tracks the dialogue so far and chooses the next action from the last turn.
  TurnDecision decide(const dialog::CorpusDialogue& d, bool sample) {
    MD_CHECK(!d.turns.empty(), "e2e agent: decide() needs a dialogue with at least one user turn");
    set_train(false);
    torch::NoGradGuard ng;
    EncodedDialogue e = feat.encode(d, false);
    const Batch b = make_batch({&e}, feat.sizes(), 0.0, rng);
    const TrackerOutput t = tracker->forward(b);
    const int64_t last = b.num_turns - 1;
    TurnDecision out;
    const auto& onto = feat.ontology();
    for (size_t s = 0; s < t.slot_logits.size(); ++s) {
      const torch::Tensor row = t.slot_logits[s][last];
      const torch::Tensor top = std::get<1>(row.topk(std::min<int64_t>(2, row.size(0))));
      auto name = [&](int64_t c) { return c == 0 ? std::string() : onto.values[s][static_cast<size_t>(c - 1)]; };
      out.state.push_back(name(top[0].item<int64_t>()));
      out.second.push_back(top.size(0) > 1 ? name(top[1].item<int64_t>()) : std::string());
      const torch::Tensor p = torch::softmax(row, 0).contiguous();
      out.slot_probs.emplace_back(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
    }
    out.kb = summary(out.state);
    const torch::Tensor kbt = torch::from_blob(out.kb.data(), {1, kKbFeatures}, torch::kFloat32).clone();
    TrackerOutput last_row;
    last_row.state = t.state.slice(0, last, last + 1);
    for (const auto& l : t.slot_logits) last_row.slot_logits.push_back(l.slice(0, last, last + 1));
    const torch::Tensor logits = policy->forward(last_row, kbt, false)[0];
    const torch::Tensor p = torch::softmax(logits, 0).contiguous();
    out.action_probs.assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
    if (sample) {
      double u = uniform01(rng), acc = 0.0;
      out.action = static_cast<int>(p.size(0)) - 1;
      for (int64_t i = 0; i < p.size(0); ++i) {
        acc += out.action_probs[static_cast<size_t>(i)];
        if (u < acc) {
          out.action = static_cast<int>(i);
          break;
        }
      }
    } else {
      out.action = static_cast<int>(logits.argmax().item<int64_t>());
    }
    return out;
  }

  dialog::SystemAct act_of(int a, const std::vector<std::string>& state, const std::vector<std::string>& second) const {
    const dialog::Ontology& onto = domain->ontology();
    const std::string& label = feat.actions()[static_cast<size_t>(a)];
    const auto colon = label.find(':');
    const std::string type = label.substr(0, colon);
    const std::string slot = colon == std::string::npos ? std::string() : label.substr(colon + 1);
    dialog::SystemAct act;
    auto tracker_slot = [&](const std::string& name) { return feat.ontology().slot_index(name); };
    auto offer = [&] {
      const auto c = constraints(state);
      for (size_t i = 0; i < c.size(); ++i) act.stated[i] = static_cast<int16_t>(c[i]);
      dialog::EntitySet set(domain->kb().size());
      domain->kb().match(c, set);
      const int e = set.next(0);
      if (e < 0) {
        act.type = dialog::SystemActType::kInformNone;
      } else {
        act.type = dialog::SystemActType::kOffer;
        act.entity = e;
      }
    };
    if (type == "REQUEST" || type == "CONFIRM" || type == "SELECT") {
      const int s = tracker_slot(slot);
      if (s < 0) {  // a slot the tracker does not know: ask nothing new
        act.type = dialog::SystemActType::kReqmore;
        return act;
      }
      act.slot = static_cast<int8_t>(slot_ids[static_cast<size_t>(s)]);
      const std::string& v1 = state[static_cast<size_t>(s)];
      const std::string& v2 = second[static_cast<size_t>(s)];
      const bool has1 = !v1.empty() && v1 != "dontcare";
      const bool has2 = !v2.empty() && v2 != "dontcare";
      if (type == "SELECT" && has1 && has2) {
        act.type = dialog::SystemActType::kSelect;
        act.value = static_cast<int16_t>(onto.value_id(act.slot, v1));
        act.value2 = static_cast<int16_t>(onto.value_id(act.slot, v2));
      } else if (type != "REQUEST" && has1) {
        act.type = dialog::SystemActType::kConfirm;
        act.value = static_cast<int16_t>(onto.value_id(act.slot, v1));
      } else {
        act.type = dialog::SystemActType::kRequest;
      }
      return act;
    }
    if (type == "OFFER" || type == "NOTIFY_FAILURE" || type == "INFORM" || type == "NOTIFY_SUCCESS") {
      offer();
      return act;
    }
    if (type == "GOOD_BYE") {
      act.type = dialog::SystemActType::kBye;
      return act;
    }
    act.type = dialog::SystemActType::kReqmore;
    return act;
  }
};

namespace {

// The episode's decision turns with the policy's inputs and actions, ready for a batch.
EncodedDialogue encode_episode(const Featurizer& feat, const Episode& ep) {
  EncodedDialogue e = feat.encode(ep.dialogue, false);
  e.turns.resize(std::min(e.turns.size(), ep.actions.size()));
  for (size_t k = 0; k < e.turns.size(); ++k) {
    e.turns[k].kb = ep.kb[k];
    e.turns[k].action = ep.actions[k];
  }
  return e;
}

}  // namespace

E2eAgent::E2eAgent(std::shared_ptr<const dialog::Domain> domain, const dialog::CorpusOntology& ontology,
                   const std::vector<dialog::CorpusDialogue>& train, const AgentOptions& options)
    : impl_(std::make_unique<Impl>(std::move(domain), Featurizer(ontology, train), options)) {}
E2eAgent::E2eAgent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
E2eAgent::~E2eAgent() = default;
E2eAgent::E2eAgent(E2eAgent&&) noexcept = default;
E2eAgent& E2eAgent::operator=(E2eAgent&&) noexcept = default;

std::vector<SlEpoch> E2eAgent::train_supervised(const std::vector<dialog::CorpusDialogue>& train,
                                                const std::vector<dialog::CorpusDialogue>& dev,
                                                const std::function<void(const SlEpoch&)>& on_epoch) {
  MD_CHECK(!train.empty(), "e2e agent: empty training corpus");
  const auto tr = impl_->encode_all(train);
  const auto dv = impl_->encode_all(dev);
  std::vector<SlEpoch> curve;
  std::vector<torch::Tensor> best;
  double best_score = -1.0;
  for (int e = 1; e <= impl_->options.tracker.epochs; ++e) {
    const auto t0 = std::chrono::steady_clock::now();
    SlEpoch ep;
    ep.epoch = e;
    ep.loss = impl_->run_epoch(tr, true);
    if (!dv.empty()) {
      const auto [r, acc] = impl_->scores(dv);
      ep.dev_joint = r.joint_accuracy;
      ep.dev_action_accuracy = acc;
    }
    ep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double score = ep.dev_joint + ep.dev_action_accuracy;
    if (dv.empty() || score > best_score) {
      best_score = score;
      best = impl_->snapshot();
    }
    curve.push_back(ep);
    if (on_epoch) on_epoch(ep);
  }
  impl_->restore(best);
  return curve;
}

double E2eAgent::supervised_loss(const std::vector<dialog::CorpusDialogue>& data) {
  return impl_->run_epoch(impl_->encode_all(data), false);
}

double E2eAgent::action_accuracy(const std::vector<dialog::CorpusDialogue>& data) {
  return impl_->scores(impl_->encode_all(data)).second;
}

DstReport E2eAgent::state_report(const std::vector<dialog::CorpusDialogue>& data) {
  return impl_->scores(impl_->encode_all(data)).first;
}

Episode E2eAgent::run_dialogue(uint64_t seed, const InteractiveOptions& o) {
  const dialog::Domain& domain = *impl_->domain;
  const dialog::Ontology& onto = domain.ontology();
  const auto& tonto = impl_->feat.ontology();
  dialog::GoalGenerator goals(domain, dialog::CorpusOptions::booking_goals());
  dialog::AgendaUser user(domain, o.user);
  dialog::UserNlg unlg(domain, o.templates);
  dialog::SystemNlg snlg(domain);
  Rng goal_rng(derive_seed(seed, {1})), user_rng(derive_seed(seed, {2})), text_rng(derive_seed(seed, {3}));
  user.start(goals.sample(goal_rng), user_rng);

  Episode ep;
  ep.dialogue.dialogue_id = detail::concat(domain.name(), "_interactive_", seed);
  std::vector<std::string> truth(tonto.slots.size());
  auto add_turn = [&](const dialog::SystemAct* sys, const dialog::UserTurn& ut) {
    dialog::CorpusTurn t;
    if (sys) {
      t.system_acts = dialog::corpus_acts(domain, *sys);
      t.system_utterance = snlg.realize(*sys, text_rng);
    } else {
      t.user_intents.push_back(dialog::domain_intent(domain.name()));
    }
    t.user_utterance = unlg.realize(ut, sys == nullptr, text_rng);
    t.user_acts = dialog::corpus_acts(domain, ut);
    for (int k = 0; k < ut.size; ++k) {
      const auto& it = ut.items[static_cast<size_t>(k)];
      if (it.type != dialog::UserActType::kInform) continue;
      const int s = tonto.slot_index(onto.slot(it.slot).name);
      if (s >= 0) truth[static_cast<size_t>(s)] = std::string(onto.value_name(it.slot, it.value));
    }
    for (size_t s = 0; s < truth.size(); ++s) {
      if (!truth[s].empty()) t.dialogue_state.push_back({tonto.slots[s], truth[s]});
    }
    ep.dialogue.turns.push_back(std::move(t));
  };
  bool user_bye = false;
  {
    const dialog::UserTurn first = user.respond(dialog::SystemAct{}, user_rng);
    user_bye = first.has(dialog::UserActType::kBye);
    add_turn(nullptr, first);
  }
  while (ep.turns < o.max_turns && !user.finished()) {
    const auto dec = impl_->decide(ep.dialogue, o.sample);
    ep.tracked.push_back(dec.state);
    ep.actions.push_back(dec.action);
    ep.kb.push_back(dec.kb);
    const dialog::SystemAct act = impl_->act_of(dec.action, dec.state, dec.second);
    ++ep.turns;
    const dialog::UserTurn ut = user.respond(act, user_rng);
    if (act.type == dialog::SystemActType::kBye) break;
    user_bye = ut.has(dialog::UserActType::kBye);
    add_turn(&act, ut);
  }
  if (ep.tracked.size() < ep.dialogue.turns.size()) ep.tracked.push_back(impl_->decide(ep.dialogue, false).state);
  // Success: the user accepted a matching offer and the final tracked state is the user's goal.
  ep.user_accepted = user.success();
  ep.goal = user.goal();
  ep.user_finished = user_bye;
  const dialog::Goal& g = user.goal();
  bool match = true;
  const auto& last = ep.tracked.back();
  for (size_t s = 0; s < tonto.slots.size(); ++s) {
    const int i = onto.informable_index(impl_->slot_ids[s]);
    const int v = g.constraints[static_cast<size_t>(i)];
    if (v >= 0) match = match && last[s] == onto.value_name(impl_->slot_ids[s], v);
    else match = match && (last[s].empty() || last[s] == "dontcare");
  }
  ep.goal_tracked = match;
  ep.success = ep.user_accepted && ep.goal_tracked;
  return ep;
}

InteractiveReport E2eAgent::evaluate(const InteractiveOptions& o) {
  MD_CHECK(o.dialogues >= 1 && o.max_turns >= 1, "interactive options: dialogues ", o.dialogues, " / max_turns ",
           o.max_turns, " must be >= 1");
  InteractiveReport r;
  const size_t m = impl_->feat.ontology().slots.size();
  std::vector<int64_t> right(m, 0);
  int64_t joint = 0, n = 0, succ = 0, turns = 0, turns_succ = 0;
  for (int d = 0; d < o.dialogues; ++d) {
    const Episode ep = run_dialogue(derive_seed(o.seed, {static_cast<uint64_t>(d)}), o);
    succ += ep.success ? 1 : 0;
    turns += ep.turns;
    if (ep.success) turns_succ += ep.turns;
    for (size_t k = 0; k < ep.dialogue.turns.size() && k < ep.tracked.size(); ++k) {
      bool all = true;
      for (size_t s = 0; s < m; ++s) {
        const bool ok = ep.tracked[k][s] == ep.dialogue.turns[k].state_value(impl_->feat.ontology().slots[s]);
        right[s] += ok ? 1 : 0;
        all = all && ok;
      }
      joint += all ? 1 : 0;
      ++n;
    }
  }
  r.dialogues = o.dialogues;
  r.success_rate = static_cast<double>(succ) / o.dialogues;
  r.avg_turns = static_cast<double>(turns) / o.dialogues;
  r.avg_turns_success = succ ? static_cast<double>(turns_succ) / static_cast<double>(succ) : 0.0;
  r.joint_accuracy = n ? static_cast<double>(joint) / static_cast<double>(n) : 0.0;
  for (size_t s = 0; s < m; ++s) r.slot_accuracy.push_back(n ? static_cast<double>(right[s]) / static_cast<double>(n) : 0.0);
  return r;
}

int E2eAgent::teacher_action(const Episode& ep, size_t turn) const {
  MD_CHECK(turn < ep.dialogue.turns.size(), "teacher_action: turn ", turn, " of ", ep.dialogue.turns.size());
  const dialog::Ontology& onto = impl_->domain->ontology();
  const Featurizer& f = impl_->feat;
  if (turn + 1 == ep.dialogue.turns.size() && ep.user_finished) return f.action_id("GOOD_BYE:");
  const dialog::CorpusTurn& t = ep.dialogue.turns[turn];
  for (int i : onto.system_requestable()) {
    const int v = ep.goal.constraints[static_cast<size_t>(i)];
    if (v < 0) continue;
    const int sid = onto.informable()[static_cast<size_t>(i)];
    const std::string& name = onto.slot(sid).name;
    if (t.state_value(name) != onto.value_name(sid, v)) {
      const int a = f.action_id("REQUEST:" + name);
      if (a >= 0) return a;
    }
  }
  return f.action_id("OFFER:" + onto.slot(dialog::Ontology::entity_slot()).name);
}

double E2eAgent::train_on_teaching(const std::vector<Episode>& taught, const std::vector<dialog::CorpusDialogue>& corpus,
                                   int passes) {
  MD_CHECK(passes >= 1, "train_on_teaching: passes ", passes, " must be >= 1");
  std::vector<EncodedDialogue> data;
  for (const Episode& ep : taught) {
    EncodedDialogue e = impl_->feat.encode(ep.dialogue, true);
    for (size_t k = 0; k < e.turns.size(); ++k) e.turns[k].action = teacher_action(ep, k);
    data.push_back(std::move(e));
  }
  for (size_t k = 0; k < taught.size() && !corpus.empty(); ++k) {
    data.push_back(impl_->feat.encode(corpus[impl_->rng() % corpus.size()], true));
  }
  double loss = 0.0;
  for (int p = 0; p < passes; ++p) loss = impl_->run_epoch(data, true);
  return loss;
}

double E2eAgent::train_on_dialogues(const std::vector<dialog::CorpusDialogue>& taught,
                                    const std::vector<dialog::CorpusDialogue>& corpus, int passes) {
  MD_CHECK(passes >= 1, "train_on_dialogues: passes ", passes, " must be >= 1");
  if (taught.empty()) return 0.0;
  std::vector<EncodedDialogue> data = impl_->encode_all(taught);
  for (size_t k = 0; k < taught.size() && !corpus.empty(); ++k) {
    data.push_back(impl_->feat.encode(corpus[impl_->rng() % corpus.size()], true));
  }
  double loss = 0.0;
  for (int p = 0; p < passes; ++p) loss = impl_->run_epoch(data, true);
  return loss;
}

double E2eAgent::reinforce_step(const std::vector<Episode>& episodes, const std::vector<double>& advantages,
                                bool end_to_end, double learning_rate) {
  MD_CHECK(learning_rate > 0.0, "reinforce_step: learning rate ", learning_rate, " must be > 0");
  std::vector<EncodedDialogue> enc;
  for (const Episode& ep : episodes) {
    if (!ep.actions.empty()) enc.push_back(encode_episode(impl_->feat, ep));
  }
  size_t n = 0;
  for (const auto& e : enc) n += e.turns.size();
  MD_CHECK(n == advantages.size(), "reinforce_step: ", advantages.size(), " advantages for ", n, " actions");
  if (n == 0) return 0.0;
  auto& opt = end_to_end ? impl_->rl_all : impl_->rl_policy;
  if (!opt) {
    std::vector<torch::Tensor> params = impl_->policy->parameters();
    if (end_to_end) {
      for (const auto& p : impl_->tracker->parameters()) params.push_back(p);
    }
    opt = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(learning_rate));
  }
  std::vector<const EncodedDialogue*> ptrs;
  for (const auto& e : enc) ptrs.push_back(&e);
  impl_->set_train(false);  // dropout only in supervised training
  const Batch b = make_batch(ptrs, impl_->feat.sizes(), 0.0, impl_->rng);
  const TrackerOutput t = impl_->tracker->forward(b);
  const torch::Tensor logits = impl_->policy->forward(t, b.kb, !end_to_end);
  const torch::Tensor logp = torch::log_softmax(logits, 1).gather(1, b.actions.view({-1, 1})).view({-1});
  std::vector<float> adv(advantages.begin(), advantages.end());
  const torch::Tensor a = torch::from_blob(adv.data(), {static_cast<int64_t>(adv.size())}, torch::kFloat32).clone();
  const torch::Tensor loss = -(logp * a).sum() / static_cast<double>(n);
  impl_->tracker->zero_grad();
  impl_->policy->zero_grad();
  loss.backward();
  std::vector<torch::Tensor> params = impl_->policy->parameters();
  if (end_to_end) {
    for (const auto& p : impl_->tracker->parameters()) params.push_back(p);
  }
  torch::nn::utils::clip_grad_norm_(params, 5.0);
  opt->step();
  return loss.item<double>();
}

double E2eAgent::log_likelihood(const std::vector<Episode>& episodes) {
  std::vector<EncodedDialogue> enc;
  for (const Episode& ep : episodes) {
    if (!ep.actions.empty()) enc.push_back(encode_episode(impl_->feat, ep));
  }
  if (enc.empty()) return 0.0;
  std::vector<const EncodedDialogue*> ptrs;
  for (const auto& e : enc) ptrs.push_back(&e);
  impl_->set_train(false);
  torch::NoGradGuard ng;
  const Batch b = make_batch(ptrs, impl_->feat.sizes(), 0.0, impl_->rng);
  const TrackerOutput t = impl_->tracker->forward(b);
  const torch::Tensor logits = impl_->policy->forward(t, b.kb, false);
  return torch::log_softmax(logits, 1).gather(1, b.actions.view({-1, 1})).sum().item<double>();
}

double E2eAgent::parameter_norm(bool tracker) const {
  double s = 0.0;
  for (const auto& p : tracker ? impl_->tracker->parameters() : impl_->policy->parameters()) s += p.pow(2).sum().item<double>();
  return std::sqrt(s);
}

const std::vector<std::string>& E2eAgent::action_names() const { return impl_->feat.actions(); }
std::vector<float> E2eAgent::kb_summary(const std::vector<std::string>& state) const { return impl_->summary(state); }
dialog::SystemAct E2eAgent::to_system_act(int a, const std::vector<std::string>& state,
                                          const std::vector<std::string>& second) const {
  MD_CHECK(a >= 0 && a < static_cast<int>(impl_->feat.actions().size()), "e2e agent: action ", a, " out of range");
  return impl_->act_of(a, state, second);
}
const dialog::CorpusOntology& E2eAgent::ontology() const { return impl_->feat.ontology(); }
TurnDecision E2eAgent::decide(const dialog::CorpusDialogue& dialogue, bool sample) { return impl_->decide(dialogue, sample); }
const dialog::KbOptions& E2eAgent::kb_options() const { return impl_->kb_options; }
void E2eAgent::set_kb_options(const dialog::KbOptions& kb) { impl_->kb_options = kb; }
const dialog::Domain& E2eAgent::domain() const { return *impl_->domain; }
std::shared_ptr<const dialog::Domain> E2eAgent::shared_domain() const { return impl_->domain; }
const AgentOptions& E2eAgent::options() const { return impl_->options; }
int64_t E2eAgent::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : impl_->tracker->parameters()) n += p.numel();
  for (const auto& p : impl_->policy->parameters()) n += p.numel();
  return n;
}


// ---- model files ----

namespace {

constexpr int kFormatVersion = 1;
constexpr nn::ModelFileKind kModelFile{"METADIAL-E2E", kFormatVersion, "e2e agent", "e2e agent",
                                       "`metadial dialog e2e train --out FILE`"};

// Entity count, names and values of a knowledge base.
std::string kb_fingerprint(const dialog::KnowledgeBase& kb) {
  uint64_t h = kFnv1aBasis;
  const int n = kb.size(), m = kb.num_informable();
  h = fnv1a(h, &n, sizeof n);
  h = fnv1a(h, &m, sizeof m);
  for (int e = 0; e < n; ++e) {
    h = fnv1a(h, kb.name(e).data(), kb.name(e).size() + 1);
    for (int i = 0; i < m; ++i) {
      const int v = kb.value(e, i);
      h = fnv1a(h, &v, sizeof v);
    }
  }
  return to_hex(h);
}

nlohmann::json options_json(const AgentOptions& o) {
  const TrackerOptions& t = o.tracker;
  return {{"word_dim", t.word_dim},
          {"utter_hidden", t.utter_hidden},
          {"dialog_hidden", t.dialog_hidden},
          {"act_dim", t.act_dim},
          {"slot_hidden", t.slot_hidden},
          {"dropout", t.dropout},
          {"learning_rate", t.learning_rate},
          {"epochs", t.epochs},
          {"batch_dialogues", t.batch_dialogues},
          {"unk_value_prob", t.unk_value_prob},
          {"mention_features", t.mention_features},
          {"seed", t.seed},
          {"policy_hidden", o.policy_hidden},
          {"lambda_slot", o.lambda_slot},
          {"lambda_action", o.lambda_action}};
}

AgentOptions options_from_json(const nlohmann::json& j) {
  AgentOptions o;
  TrackerOptions& t = o.tracker;
  t.word_dim = j.at("word_dim").get<int>();
  t.utter_hidden = j.at("utter_hidden").get<int>();
  t.dialog_hidden = j.at("dialog_hidden").get<int>();
  t.act_dim = j.at("act_dim").get<int>();
  t.slot_hidden = j.at("slot_hidden").get<int>();
  t.dropout = j.at("dropout").get<double>();
  t.learning_rate = j.at("learning_rate").get<double>();
  t.epochs = j.at("epochs").get<int>();
  t.batch_dialogues = j.at("batch_dialogues").get<int>();
  t.unk_value_prob = j.at("unk_value_prob").get<double>();
  t.mention_features = j.at("mention_features").get<bool>();
  t.seed = j.at("seed").get<uint64_t>();
  o.policy_hidden = j.at("policy_hidden").get<int>();
  o.lambda_slot = j.at("lambda_slot").get<double>();
  o.lambda_action = j.at("lambda_action").get<double>();
  return o;
}

std::vector<torch::Tensor> all_parameters(const TrackerNet& tracker, const PolicyNet& policy) {
  std::vector<torch::Tensor> params = tracker->parameters();
  for (const auto& p : policy->parameters()) params.push_back(p);
  return params;
}

}  // namespace

void E2eAgent::save(const std::string& path) const {
  const Impl& m = *impl_;
  const std::string fingerprint = kb_fingerprint(m.domain->kb());
  std::shared_ptr<const dialog::Domain> rebuilt;
  try {
    rebuilt = dialog::Domain::builtin(m.domain->name(), m.kb_options);
  } catch (const Error&) {
    throw InvalidArgument(detail::concat("e2e agent: cannot save an agent on domain '", m.domain->name(),
                                         "': only agents on a built-in domain (movie, restaurant) can be saved"));
  }
  MD_CHECK(kb_fingerprint(rebuilt->kb()) == fingerprint, "e2e agent: cannot save: the knowledge base of domain '",
           m.domain->name(), "' is not the built-in one generated with ", m.kb_options.num_entities, " entities, seed ",
           m.kb_options.seed, " (call set_kb_options() with the options it was generated with)");
  const Vocabulary v = m.feat.vocabulary();
  const dialog::CorpusOntology& onto = m.feat.ontology();
  const nlohmann::json header = {{"format", "metadial-e2e-agent"},
                                 {"version", kFormatVersion},
                                 {"domain", m.domain->name()},
                                 {"kb", {{"entities", m.kb_options.num_entities}, {"seed", m.kb_options.seed}}},
                                 {"kb_fingerprint", fingerprint},
                                 {"ontology", {{"slots", onto.slots}, {"values", onto.values}}},
                                 {"vocabulary", {{"words", v.words}, {"acts", v.acts}, {"actions", v.actions}}},
                                 {"options", options_json(m.options)}};
  nn::save_model_file(path, kModelFile, header, all_parameters(m.tracker, m.policy));
}

E2eAgent E2eAgent::load(const std::string& path, std::string_view want_domain) {
  nn::ModelFile file = nn::load_model_file(path, kModelFile);
  std::string domain_name;
  dialog::KbOptions kb;
  std::string fingerprint;
  dialog::CorpusOntology onto;
  Vocabulary vocab;
  AgentOptions options;
  try {
    const nlohmann::json& h = file.header;
    MD_CHECK_AS(DataError, h.at("format").get<std::string>() == "metadial-e2e-agent", "format '",
                h.at("format").get<std::string>(), "'");
    domain_name = h.at("domain").get<std::string>();
    kb.num_entities = h.at("kb").at("entities").get<int>();
    kb.seed = h.at("kb").at("seed").get<uint64_t>();
    fingerprint = h.at("kb_fingerprint").get<std::string>();
    onto.slots = h.at("ontology").at("slots").get<std::vector<std::string>>();
    onto.values = h.at("ontology").at("values").get<std::vector<std::vector<std::string>>>();
    vocab.words = h.at("vocabulary").at("words").get<std::vector<std::string>>();
    vocab.acts = h.at("vocabulary").at("acts").get<std::vector<std::string>>();
    vocab.actions = h.at("vocabulary").at("actions").get<std::vector<std::string>>();
    options = options_from_json(h.at("options"));
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw DataError("'" + path + "': corrupt e2e agent header (" + what.substr(0, what.find('\n')) + ")");
  }
  if (!want_domain.empty() && want_domain != domain_name) {
    throw DataError(detail::concat("model '", path, "' is an e2e agent for domain '", domain_name, "', not '",
                                   want_domain, "' (train one for '", want_domain, "' with `metadial dialog e2e train --domain ",
                                   want_domain, "`)"));
  }
  std::shared_ptr<const dialog::Domain> domain;
  try {
    domain = dialog::Domain::builtin(domain_name, kb);
  } catch (const std::exception& e) {
    throw DataError("'" + path + "': cannot rebuild the agent's domain (" + e.what() + ")");
  }
  MD_CHECK_AS(DataError, kb_fingerprint(domain->kb()) == fingerprint, "'", path, "': the knowledge base of domain '",
              domain_name, "' (", kb.num_entities, " entities, seed ", kb.seed,
              ") differs from the one the agent was trained with (written by another metadial version?)");
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(domain, Featurizer(onto, vocab), options);
  } catch (const Error& e) {
    throw DataError("'" + path + "': corrupt e2e agent header (" + e.what() + ")");
  }
  impl->kb_options = kb;
  const std::vector<torch::Tensor>& params = file.params;
  std::vector<torch::Tensor> target = all_parameters(impl->tracker, impl->policy);
  MD_CHECK_AS(DataError, params.size() == target.size(), "'", path, "': the file holds ",
              params.size(), " parameter tensors, the agent its header describes has ", target.size());
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < target.size(); ++i) {
      MD_CHECK_AS(DataError, params[i].sizes() == target[i].sizes() && params[i].scalar_type() == torch::kFloat32, "'",
                  path, "': parameter ", i, " has shape ", params[i].sizes(), ", the header's architecture needs ",
                  target[i].sizes());
      target[i].copy_(params[i]);
    }
  }
  return E2eAgent(std::move(impl));
}

}  // namespace metadial::agents::e2e
