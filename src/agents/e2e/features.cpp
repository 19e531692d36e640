#include "agents/e2e/features.h"

#include <algorithm>

#include <ATen/CPUGeneratorImpl.h>

#include "metadial/core/error.h"
#include "metadial/nn/init.h"

namespace metadial::agents::e2e {
namespace {

std::string act_label(const dialog::CorpusAct& a) { return a.type + ":" + a.slot; }

}  // namespace

std::string system_action_label(const std::vector<dialog::CorpusAct>& acts) {
  return acts.empty() ? std::string("OTHER:") : act_label(acts.front());
}

int Featurizer::action_id(const std::string& label) const {
  auto it = action_ids_.find(label);
  return it == action_ids_.end() ? -1 : it->second;
}

Featurizer::Featurizer(const dialog::CorpusOntology& ontology, const std::vector<dialog::CorpusDialogue>& train)
    : ontology_(ontology) {
  MD_CHECK(!ontology_.slots.empty(), "state tracker: the ontology has no slots");
  words_["<pad>"] = 0;
  words_["<unk>"] = 1;
  acts_["<start>"] = 0;
  auto add_action = [&](const std::string& label) {
    if (action_ids_.try_emplace(label, static_cast<int>(action_names_.size())).second) action_names_.push_back(label);
  };
  for (const auto& d : train) {
    for (size_t k = 0; k < d.turns.size(); ++k) {
      const auto& t = d.turns[k];
      for (const auto& w : dialog::tokenize(t.user_utterance.text)) words_.try_emplace(w, static_cast<int64_t>(words_.size()));
      for (const auto& a : t.system_acts) acts_.try_emplace(act_label(a), static_cast<int>(acts_.size()));
      add_action(k + 1 < d.turns.size() ? system_action_label(d.turns[k + 1].system_acts) : std::string("GOOD_BYE:"));
    }
  }
  init_values();
}

Featurizer::Featurizer(const dialog::CorpusOntology& ontology, const Vocabulary& v) : ontology_(ontology) {
  MD_CHECK(!ontology_.slots.empty(), "state tracker: the ontology has no slots");
  MD_CHECK(ontology_.values.size() == ontology_.slots.size(), "state tracker: ", ontology_.values.size(),
           " value lists for ", ontology_.slots.size(), " slots");
  MD_CHECK(v.words.size() >= 2 && v.words[0] == "<pad>" && v.words[1] == "<unk>",
           "vocabulary: the words must start with <pad>, <unk>");
  MD_CHECK(!v.acts.empty() && v.acts[0] == "<start>", "vocabulary: the system act labels must start with <start>");
  MD_CHECK(!v.actions.empty(), "vocabulary: no policy actions");
  for (size_t i = 0; i < v.words.size(); ++i) {
    MD_CHECK(words_.try_emplace(v.words[i], static_cast<int64_t>(i)).second, "vocabulary: word '", v.words[i],
             "' appears twice");
  }
  for (size_t i = 0; i < v.acts.size(); ++i) {
    MD_CHECK(acts_.try_emplace(v.acts[i], static_cast<int>(i)).second, "vocabulary: act '", v.acts[i], "' appears twice");
  }
  for (size_t i = 0; i < v.actions.size(); ++i) {
    MD_CHECK(action_ids_.try_emplace(v.actions[i], static_cast<int>(i)).second, "vocabulary: action '", v.actions[i],
             "' appears twice");
  }
  action_names_ = v.actions;
  init_values();
}

Vocabulary Featurizer::vocabulary() const {
  Vocabulary v;
  v.words.resize(words_.size());
  for (const auto& [w, id] : words_) v.words[static_cast<size_t>(id)] = w;
  v.acts.resize(acts_.size());
  for (const auto& [a, id] : acts_) v.acts[static_cast<size_t>(id)] = a;
  v.actions = action_names_;
  return v;
}

void Featurizer::init_values() {
  sizes_.actions = static_cast<int>(action_names_.size());
  sizes_.vocab = static_cast<int>(words_.size());
  sizes_.acts = static_cast<int>(acts_.size());
  sizes_.slots = static_cast<int>(ontology_.slots.size());
  values_.resize(ontology_.slots.size());
  for (size_t s = 0; s < ontology_.slots.size(); ++s) {
    const auto& vs = ontology_.values[s];
    sizes_.classes.push_back(static_cast<int>(vs.size()) + 1);
    for (size_t v = 0; v < vs.size(); ++v) {
      values_[s][vs[v]] = static_cast<int>(v) + 1;
      auto toks = dialog::tokenize(vs[v]);
      if (toks.empty()) continue;
      by_first_token_[toks[0]].push_back({static_cast<int>(s), static_cast<int>(v), toks});
    }
  }
}

int Featurizer::value_class(size_t slot, const std::string& value) const {
  if (value.empty()) return 0;
  auto it = values_[slot].find(value);
  return it == values_[slot].end() ? -1 : it->second;
}

int Featurizer::act_id(const std::string& label) const {
  auto it = acts_.find(label);
  return it == acts_.end() ? -1 : it->second;
}

void Featurizer::mentions(const std::vector<std::string>& tokens, std::vector<std::vector<uint8_t>>& found,
                          std::vector<float>* tags, std::vector<uint8_t>* in_value) const {
  const size_t m = ontology_.slots.size();
  for (size_t i = 0; i < tokens.size(); ++i) {
    auto it = by_first_token_.find(tokens[i]);
    if (it == by_first_token_.end()) continue;
    for (const ValueRef& r : it->second) {
      if (i + r.tokens.size() > tokens.size()) continue;
      if (!std::equal(r.tokens.begin(), r.tokens.end(), tokens.begin() + static_cast<std::ptrdiff_t>(i))) continue;
      found[static_cast<size_t>(r.slot)][static_cast<size_t>(r.value)] = 1;
      for (size_t j = i; j < i + r.tokens.size(); ++j) {
        if (tags) (*tags)[j * m + static_cast<size_t>(r.slot)] = 1.0F;
        if (in_value) (*in_value)[j] = 1;
      }
    }
  }
}

EncodedDialogue Featurizer::encode(const dialog::CorpusDialogue& d, bool with_labels) const {
  const size_t m = ontology_.slots.size();
  EncodedDialogue out;
  auto fresh = [&] {
    std::vector<std::vector<uint8_t>> f(m);
    for (size_t s = 0; s < m; ++s) f[s].assign(ontology_.values[s].size(), 0);
    return f;
  };
  // History of mentions: per turn, per slot, per value.
  std::vector<std::vector<std::vector<uint8_t>>> user_hist, sys_hist;
  std::vector<std::vector<uint8_t>> latest = fresh();  // latest user-mentioned values per slot
  std::vector<std::vector<uint8_t>> ever = fresh();
  for (size_t k = 0; k < d.turns.size(); ++k) {
    const dialog::CorpusTurn& t = d.turns[k];
    EncodedTurn et;
    const auto tokens = dialog::tokenize(t.user_utterance.text);
    const size_t n = std::max<size_t>(tokens.size(), 1);
    et.words.assign(n, 0);
    et.in_value.assign(n, 0);
    et.tags.assign(n * m, 0.0F);
    for (size_t i = 0; i < tokens.size(); ++i) {
      auto it = words_.find(tokens[i]);
      et.words[i] = it == words_.end() ? 1 : it->second;
    }
    auto user_now = fresh();
    mentions(tokens, user_now, &et.tags, &et.in_value);
    auto sys_now = fresh();
    if (t.system_utterance) mentions(dialog::tokenize(t.system_utterance->text), sys_now, nullptr, nullptr);
    for (const auto& a : t.system_acts) {
      const int s = ontology_.slot_index(a.slot);
      if (s < 0 || a.value.empty()) continue;
      const int c = value_class(static_cast<size_t>(s), a.value);
      if (c > 0) sys_now[static_cast<size_t>(s)][static_cast<size_t>(c - 1)] = 1;
    }
    if (k == 0) {
      et.acts.push_back(0);
    } else {
      for (const auto& a : t.system_acts) {
        const int id = act_id(act_label(a));
        if (id >= 0) et.acts.push_back(id);
      }
    }
    for (size_t s = 0; s < m; ++s) {
      bool any = false;
      for (uint8_t x : user_now[s]) any = any || x;
      if (any) latest[s] = user_now[s];
      for (size_t v = 0; v < ever[s].size(); ++v) ever[s][v] |= static_cast<uint8_t>(user_now[s][v] | sys_now[s][v]);
    }
    user_hist.push_back(user_now);
    sys_hist.push_back(sys_now);
    et.features.resize(m);
    for (size_t s = 0; s < m; ++s) {
      const size_t nv = ontology_.values[s].size();
      auto& f = et.features[s];
      f.assign((nv + 1) * kMentionFeatures, 0.0F);
      for (size_t v = 0; v < nv; ++v) {
        float* row = f.data() + (v + 1) * kMentionFeatures;
        row[0] = user_hist[k][s][v];
        row[1] = k >= 1 ? user_hist[k - 1][s][v] : 0;
        for (size_t j = 0; j + 1 < k; ++j) row[2] = std::max<float>(row[2], user_hist[j][s][v]);
        row[3] = sys_hist[k][s][v];
        for (size_t j = 0; j < k; ++j) row[4] = std::max<float>(row[4], sys_hist[j][s][v]);
        row[5] = latest[s][v];
        row[6] = ever[s][v];
      }
    }
    if (with_labels) {
      for (const auto& p : t.dialogue_state) {
        if (ontology_.slot_index(p.slot) < 0) {
          std::string list;
          for (const auto& s : ontology_.slots) list += (list.empty() ? "" : ", ") + s;
          throw DataError(detail::concat("dialogue '", d.dialogue_id, "', turn ", k, ": dialogue_state slot '", p.slot,
                                         "' is not in the tracker's ontology (slots: ", list, ")"));
        }
      }
      for (size_t s = 0; s < m; ++s) {
        const std::string v = t.state_value(ontology_.slots[s]);
        const int c = value_class(s, v);
        if (c < 0) {
          throw DataError(detail::concat("dialogue '", d.dialogue_id, "', turn ", k, ": dialogue_state value '", v,
                                         "' of slot '", ontology_.slots[s], "' is not in the tracker's ontology"));
        }
        et.labels.push_back(c);
      }
      const std::string next = k + 1 < d.turns.size() ? system_action_label(d.turns[k + 1].system_acts) : "GOOD_BYE:";
      et.action = action_id(next);
    }
    et.kb.assign(kKbFeatures, 0.0F);
    if (with_labels && kb_summary_) {
      std::vector<std::string> state;
      for (const auto& slot : ontology_.slots) state.push_back(t.state_value(slot));
      et.kb = kb_summary_(state);
    }
    out.turns.push_back(std::move(et));
  }
  return out;
}

Batch make_batch(const std::vector<const EncodedDialogue*>& dialogues, const Sizes& sizes, double unk_prob, Rng& rng) {
  Batch b;
  const auto m = static_cast<int64_t>(sizes.slots);
  int64_t n = 0, len = 1, kmax = 0;
  for (const auto* d : dialogues) {
    n += static_cast<int64_t>(d->turns.size());
    kmax = std::max<int64_t>(kmax, static_cast<int64_t>(d->turns.size()));
    for (const auto& t : d->turns) len = std::max<int64_t>(len, static_cast<int64_t>(t.words.size()));
  }
  b.num_turns = n;
  b.batch = static_cast<int64_t>(dialogues.size());
  b.max_turns = kmax;
  std::vector<int64_t> words(static_cast<size_t>(n * len), 0), words_rev(static_cast<size_t>(n * len), 0);
  std::vector<float> tags(static_cast<size_t>(n * len * m), 0.0F), tags_rev(static_cast<size_t>(n * len * m), 0.0F);
  std::vector<int64_t> last(static_cast<size_t>(n), 0);
  std::vector<float> acts(static_cast<size_t>(n * sizes.acts), 0.0F);
  std::vector<int64_t> dlg_index(static_cast<size_t>(b.batch * kmax), n);
  std::vector<int64_t> flat_pos(static_cast<size_t>(n), 0);
  const bool labelled = !dialogues.empty() && !dialogues[0]->turns.empty() && !dialogues[0]->turns[0].labels.empty();
  std::vector<std::vector<float>> feats(static_cast<size_t>(m));
  std::vector<std::vector<int64_t>> labels(static_cast<size_t>(m));
  std::vector<int64_t> actions(static_cast<size_t>(n), -1);
  std::vector<float> kb(static_cast<size_t>(n * kKbFeatures), 0.0F);
  int64_t row = 0;
  for (size_t bi = 0; bi < dialogues.size(); ++bi) {
    const auto& turns = dialogues[bi]->turns;
    for (size_t k = 0; k < turns.size(); ++k, ++row) {
      const EncodedTurn& t = turns[k];
      const auto tl = static_cast<int64_t>(t.words.size());
      last[static_cast<size_t>(row)] = tl - 1;
      for (int64_t i = 0; i < tl; ++i) {
        int64_t w = t.words[static_cast<size_t>(i)];
        if (unk_prob > 0.0 && t.in_value[static_cast<size_t>(i)] && uniform01(rng) < unk_prob) w = 1;
        words[static_cast<size_t>(row * len + i)] = w;
        words_rev[static_cast<size_t>(row * len + (tl - 1 - i))] = w;
        for (int64_t s = 0; s < m; ++s) {
          const float g = t.tags[static_cast<size_t>(i * m + s)];
          tags[static_cast<size_t>((row * len + i) * m + s)] = g;
          tags_rev[static_cast<size_t>((row * len + (tl - 1 - i)) * m + s)] = g;
        }
      }
      for (int64_t a : t.acts) acts[static_cast<size_t>(row * sizes.acts + a)] = 1.0F;
      actions[static_cast<size_t>(row)] = t.action;
      std::copy(t.kb.begin(), t.kb.end(), kb.begin() + row * kKbFeatures);
      dlg_index[bi * static_cast<size_t>(kmax) + k] = row;
      flat_pos[static_cast<size_t>(row)] = static_cast<int64_t>(bi) * kmax + static_cast<int64_t>(k);
      for (size_t s = 0; s < static_cast<size_t>(m); ++s) {
        feats[s].insert(feats[s].end(), t.features[s].begin(), t.features[s].end());
        if (labelled) labels[s].push_back(t.labels[s]);
      }
    }
  }
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  b.words = torch::from_blob(words.data(), {n, len}, i64).clone();
  b.words_rev = torch::from_blob(words_rev.data(), {n, len}, i64).clone();
  b.tags = torch::from_blob(tags.data(), {n, len, m}, f32).clone();
  b.tags_rev = torch::from_blob(tags_rev.data(), {n, len, m}, f32).clone();
  b.last = torch::from_blob(last.data(), {n}, i64).clone();
  b.acts = torch::from_blob(acts.data(), {n, static_cast<int64_t>(sizes.acts)}, f32).clone();
  b.dlg_index = torch::from_blob(dlg_index.data(), {b.batch * kmax}, i64).clone();
  b.flat_pos = torch::from_blob(flat_pos.data(), {n}, i64).clone();
  b.actions = torch::from_blob(actions.data(), {n}, i64).clone();
  b.kb = torch::from_blob(kb.data(), {n, static_cast<int64_t>(kKbFeatures)}, f32).clone();
  for (size_t s = 0; s < static_cast<size_t>(m); ++s) {
    const int64_t c = sizes.classes[s];
    b.features.push_back(torch::from_blob(feats[s].data(), {n, c, kMentionFeatures}, f32).clone());
    if (labelled) b.labels.push_back(torch::from_blob(labels[s].data(), {n}, i64).clone());
  }
  return b;
}

TrackerNetImpl::TrackerNetImpl(const Sizes& sizes, const TrackerOptions& o, Rng& init) : utter_hidden(o.utter_hidden) {
  embed = register_module("embed", torch::nn::Embedding(sizes.vocab, o.word_dim));
  const int in = o.word_dim + sizes.slots;
  fwd = register_module("fwd", torch::nn::LSTM(torch::nn::LSTMOptions(in, o.utter_hidden).batch_first(true)));
  bwd = register_module("bwd", torch::nn::LSTM(torch::nn::LSTMOptions(in, o.utter_hidden).batch_first(true)));
  act = register_module("act", torch::nn::Linear(sizes.acts, o.act_dim));
  dialog = register_module(
      "dialog", torch::nn::LSTM(torch::nn::LSTMOptions(2 * o.utter_hidden + o.act_dim, o.dialog_hidden).batch_first(true)));
  nn::reset_parameters(embed, init);
  nn::reset_parameters(fwd, init);
  nn::reset_parameters(bwd, init);
  nn::reset_parameters(act, init);
  nn::reset_parameters(dialog, init);
  for (int s = 0; s < sizes.slots; ++s) {
    const std::string tag = std::to_string(s);
    hidden.push_back(register_module("hidden" + tag, torch::nn::Linear(o.dialog_hidden, o.slot_hidden)));
    project.push_back(register_module(
        "project" + tag, torch::nn::Linear(torch::nn::LinearOptions(kMentionFeatures, o.slot_hidden).bias(false))));
    direct.push_back(
        register_module("direct" + tag, torch::nn::Linear(torch::nn::LinearOptions(kMentionFeatures, 1).bias(false))));
    nn::reset_parameters(hidden.back(), init);
    nn::reset_parameters(project.back(), init);
    nn::reset_parameters(direct.back(), init);
    if (!o.mention_features) {
      torch::NoGradGuard ng;
      project.back()->weight.zero_();
      project.back()->weight.set_requires_grad(false);
      direct.back()->weight.zero_();
      direct.back()->weight.set_requires_grad(false);
    }
    // Output rows: "none" random like a linear layer, values zero (an unseen value starts
    // neutral and is scored by its mentions).
    torch::Tensor rows = torch::zeros({sizes.classes[static_cast<size_t>(s)], o.slot_hidden});
    nn::uniform_(o.mention_features ? rows.slice(0, 0, 1) : rows, 0.1, init);
    out_rows.push_back(register_parameter("out" + tag, rows));
  }
  dropout_p = o.dropout;
  dropout_gen = at::make_generator<at::CPUGeneratorImpl>(init());
}

torch::Tensor TrackerNetImpl::dropout(const torch::Tensor& x) {
  if (!is_training() || dropout_p == 0.0) return x;
  // As at::dropout: a Bernoulli(1 - p) mask scaled by 1 / (1 - p), from our own generator.
  torch::Tensor noise = torch::empty_like(x).bernoulli_(1.0 - dropout_p, dropout_gen);
  noise.div_(1.0 - dropout_p);
  return x * noise;
}

TrackerOutput TrackerNetImpl::forward(const Batch& b) {
  auto encode = [&](torch::nn::LSTM& lstm, const torch::Tensor& words, const torch::Tensor& tags) {
    torch::Tensor x = dropout(torch::cat({embed(words), tags}, 2));
    torch::Tensor out = std::get<0>(lstm->forward(x));  // N x L x H
    torch::Tensor idx = b.last.view({-1, 1, 1}).expand({-1, 1, utter_hidden});
    return out.gather(1, idx).squeeze(1);
  };
  torch::Tensor u = torch::cat({encode(fwd, b.words, b.tags), encode(bwd, b.words_rev, b.tags_rev)}, 1);
  torch::Tensor x = torch::cat({u, act(b.acts)}, 1);                             // N x D
  torch::Tensor padded = torch::cat({x, torch::zeros({1, x.size(1)})}, 0);       // N+1 x D
  torch::Tensor seq = padded.index_select(0, b.dlg_index).view({b.batch, b.max_turns, -1});
  torch::Tensor s = std::get<0>(dialog->forward(seq)).reshape({b.batch * b.max_turns, -1}).index_select(0, b.flat_pos);
  s = dropout(s);
  TrackerOutput out;
  out.state = s;
  for (size_t m = 0; m < hidden.size(); ++m) {
    torch::Tensor h = torch::tanh(hidden[m](s));                                  // N x H
    torch::Tensor logits = h.matmul(out_rows[m].t());                           // N x C
    torch::Tensor pf = project[m](b.features[m]);                                 // N x C x H
    logits = logits + (h.unsqueeze(1) * pf).sum(-1) + direct[m](b.features[m]).squeeze(-1);
    out.slot_logits.push_back(logits);
  }
  return out;
}

torch::Tensor slot_loss(const TrackerOutput& out, const Batch& b) {
  torch::Tensor l = torch::zeros({});
  for (size_t m = 0; m < out.slot_logits.size(); ++m) l = l + torch::nn::functional::cross_entropy(out.slot_logits[m], b.labels[m]);
  return l;
}

torch::Tensor equation4_loss(const std::vector<torch::Tensor>& slot_logits, const std::vector<torch::Tensor>& slot_labels,
                             const torch::Tensor& action_logits, const torch::Tensor& action_labels,
                             const std::vector<double>& lambda_slots, double lambda_action) {
  MD_CHECK(slot_logits.size() == slot_labels.size() && slot_logits.size() == lambda_slots.size(),
           "equation4_loss: ", slot_logits.size(), " slot logits, ", slot_labels.size(), " label sets, ",
           lambda_slots.size(), " weights (expected equal)");
  torch::Tensor l = torch::zeros({});
  for (size_t m = 0; m < slot_logits.size(); ++m) {
    const torch::Tensor lp = torch::log_softmax(slot_logits[m], 1).gather(1, slot_labels[m].view({-1, 1}));
    l = l - lambda_slots[m] * lp.sum();
  }
  if (action_logits.defined() && action_logits.numel() > 0) {
    const torch::Tensor valid = action_labels.ge(0);
    const torch::Tensor safe = action_labels.clamp_min(0).view({-1, 1});
    const torch::Tensor lp = torch::log_softmax(action_logits, 1).gather(1, safe).view({-1});
    l = l - lambda_action * (lp * valid.to(torch::kFloat32)).sum();
  }
  return l;
}

PolicyNetImpl::PolicyNetImpl(const Sizes& sizes, int dialog_hidden, int hidden, Rng& init) {
  int v = 0;
  for (int c : sizes.classes) v += c;
  fc1 = register_module("fc1", torch::nn::Linear(dialog_hidden + v + kKbFeatures, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, std::max(sizes.actions, 1)));
  nn::reset_parameters(*this, init);
}

torch::Tensor PolicyNetImpl::forward(const TrackerOutput& t, const torch::Tensor& kb, bool detach_tracker) {
  std::vector<torch::Tensor> parts{detach_tracker ? t.state.detach() : t.state};
  for (const auto& l : t.slot_logits) {
    torch::Tensor lp = torch::log_softmax(l, 1);
    parts.push_back(detach_tracker ? lp.detach() : lp);
  }
  parts.push_back(kb);
  return fc2(torch::tanh(fc1(torch::cat(parts, 1))));
}

}  // namespace metadial::agents::e2e
