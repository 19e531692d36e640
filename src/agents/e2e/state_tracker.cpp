#include "metadial/agents/e2e/state_tracker.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "agents/e2e/features.h"
#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/init.h"

namespace metadial::agents::e2e {

void TrackerOptions::validate() const {
  MD_CHECK(word_dim >= 1 && utter_hidden >= 1 && dialog_hidden >= 1 && act_dim >= 1 && slot_hidden >= 1,
           "tracker options: sizes must be >= 1 (word_dim ", word_dim, ", utter_hidden ", utter_hidden,
           ", dialog_hidden ", dialog_hidden, ", act_dim ", act_dim, ", slot_hidden ", slot_hidden, ")");
  MD_CHECK(dropout >= 0.0 && dropout < 1.0, "tracker options: dropout ", dropout, " not in [0, 1)");
  MD_CHECK(learning_rate > 0.0, "tracker options: learning_rate ", learning_rate, " must be > 0");
  MD_CHECK(epochs >= 1, "tracker options: epochs ", epochs, " must be >= 1");
  MD_CHECK(batch_dialogues >= 1, "tracker options: batch_dialogues ", batch_dialogues, " must be >= 1");
  MD_CHECK(unk_value_prob >= 0.0 && unk_value_prob <= 1.0, "tracker options: unk_value_prob ", unk_value_prob,
           " not in [0, 1]");
}

struct StateTracker::Impl {
  TrackerOptions options;
  Featurizer feat;
  TrackerNet net{nullptr};
  std::unique_ptr<torch::optim::Adam> adam;
  Rng rng;

  Impl(const dialog::CorpusOntology& ontology, const std::vector<dialog::CorpusDialogue>& train_data,
       const TrackerOptions& o)
      : options(o), feat(ontology, train_data), rng(derive_seed(o.seed, {stream("dst")})) {
    options.validate();
    // Initial weights from the seed alone; torch's global generator is neither read nor moved.
    Rng init(derive_seed(o.seed, {stream("init")}));
    net = nn::build_module([&] { return TrackerNet(feat.sizes(), options, init); });
    adam = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(options.learning_rate));
  }

  std::vector<EncodedDialogue> encode_all(const std::vector<dialog::CorpusDialogue>& data) const {
    std::vector<EncodedDialogue> out;
    out.reserve(data.size());
    for (const auto& d : data) out.push_back(feat.encode(d, /*with_labels=*/true));
    return out;
  }

  // Mean over turns of the summed slot cross-entropies; trains when `learn`.
  double run_epoch(const std::vector<EncodedDialogue>& data, bool learn) {
    std::vector<size_t> order(data.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (learn) {
      shuffle(order, rng);
      net->train();
    } else {
      net->eval();
    }
    double total = 0.0;
    int64_t turns = 0;
    const size_t bs = static_cast<size_t>(learn ? options.batch_dialogues : 32);
    for (size_t start = 0; start < order.size(); start += bs) {
      std::vector<const EncodedDialogue*> batch;
      for (size_t k = start; k < std::min(order.size(), start + bs); ++k) batch.push_back(&data[order[k]]);
      const Batch b = make_batch(batch, feat.sizes(), learn ? options.unk_value_prob : 0.0, rng);
      if (learn) {
        const TrackerOutput out = net->forward(b);
        const torch::Tensor l = slot_loss(out, b);
        adam->zero_grad();
        l.backward();
        torch::nn::utils::clip_grad_norm_(net->parameters(), 5.0);
        adam->step();
        total += l.item<double>() * static_cast<double>(b.num_turns);
      } else {
        torch::NoGradGuard ng;
        const TrackerOutput out = net->forward(b);
        total += slot_loss(out, b).item<double>() * static_cast<double>(b.num_turns);
      }
      turns += b.num_turns;
    }
    return turns > 0 ? total / static_cast<double>(turns) : 0.0;
  }

  // Predicted class per turn per slot, batch by batch.
  std::vector<std::vector<std::vector<int>>> predict_classes(const std::vector<EncodedDialogue>& data) {
    net->eval();
    torch::NoGradGuard ng;
    std::vector<std::vector<std::vector<int>>> out;
    for (size_t start = 0; start < data.size(); start += 32) {
      std::vector<const EncodedDialogue*> batch;
      for (size_t k = start; k < std::min(data.size(), start + 32); ++k) batch.push_back(&data[k]);
      const Batch b = make_batch(batch, feat.sizes(), 0.0, rng);
      const TrackerOutput o = net->forward(b);
      std::vector<torch::Tensor> arg;
      for (const auto& l : o.slot_logits) arg.push_back(l.argmax(1).contiguous());
      int64_t row = 0;
      for (const EncodedDialogue* d : batch) {
        std::vector<std::vector<int>> turns;
        for (size_t k = 0; k < d->turns.size(); ++k, ++row) {
          std::vector<int> per_slot;
          for (const auto& a : arg) per_slot.push_back(static_cast<int>(a[row].item<int64_t>()));
          turns.push_back(std::move(per_slot));
        }
        out.push_back(std::move(turns));
      }
    }
    return out;
  }

  DstReport report(const std::vector<EncodedDialogue>& data) {
    const auto pred = predict_classes(data);
    DstReport r;
    r.slots = feat.ontology().slots;
    const size_t m = r.slots.size();
    std::vector<int64_t> right(m, 0);
    int64_t joint = 0, n = 0;
    for (size_t d = 0; d < data.size(); ++d) {
      for (size_t k = 0; k < data[d].turns.size(); ++k) {
        bool all = true;
        for (size_t s = 0; s < m; ++s) {
          const bool ok = pred[d][k][s] == data[d].turns[k].labels[s];
          right[s] += ok ? 1 : 0;
          all = all && ok;
        }
        joint += all ? 1 : 0;
        ++n;
      }
    }
    r.turns = static_cast<int>(n);
    for (size_t s = 0; s < m; ++s) r.slot_accuracy.push_back(n > 0 ? static_cast<double>(right[s]) / static_cast<double>(n) : 0.0);
    r.joint_accuracy = n > 0 ? static_cast<double>(joint) / static_cast<double>(n) : 0.0;
    return r;
  }
};

StateTracker::StateTracker(const dialog::CorpusOntology& ontology, const std::vector<dialog::CorpusDialogue>& train,
                           const TrackerOptions& options)
    : impl_(std::make_unique<Impl>(ontology, train, options)) {}
StateTracker::~StateTracker() = default;
StateTracker::StateTracker(StateTracker&&) noexcept = default;
StateTracker& StateTracker::operator=(StateTracker&&) noexcept = default;

std::vector<DstEpoch> StateTracker::train(const std::vector<dialog::CorpusDialogue>& train_data,
                                          const std::vector<dialog::CorpusDialogue>& dev,
                                          const std::function<void(const DstEpoch&)>& on_epoch) {
  MD_CHECK(!train_data.empty(), "state tracker: empty training corpus");
  const auto tr = impl_->encode_all(train_data);
  const auto dv = impl_->encode_all(dev);
  std::vector<DstEpoch> curve;
  std::vector<torch::Tensor> best;
  double best_joint = -1.0;
  for (int e = 1; e <= impl_->options.epochs; ++e) {
    const auto t0 = std::chrono::steady_clock::now();
    DstEpoch ep;
    ep.epoch = e;
    ep.loss = impl_->run_epoch(tr, /*learn=*/true);
    ep.dev_joint = dv.empty() ? 0.0 : impl_->report(dv).joint_accuracy;
    ep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dv.empty() || ep.dev_joint > best_joint) {
      best_joint = ep.dev_joint;
      best.clear();
      for (const auto& p : impl_->net->parameters()) best.push_back(p.detach().clone());
    }
    curve.push_back(ep);
    if (on_epoch) on_epoch(ep);
  }
  {
    torch::NoGradGuard ng;
    auto params = impl_->net->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
  }
  return curve;
}

DstReport StateTracker::evaluate(const std::vector<dialog::CorpusDialogue>& data) {
  return impl_->report(impl_->encode_all(data));
}

std::vector<std::vector<std::string>> StateTracker::predict(const dialog::CorpusDialogue& dialogue) {
  std::vector<EncodedDialogue> one{impl_->feat.encode(dialogue, /*with_labels=*/false)};
  const auto pred = impl_->predict_classes(one);
  std::vector<std::vector<std::string>> out;
  const auto& onto = impl_->feat.ontology();
  for (const auto& turn : pred[0]) {
    std::vector<std::string> row;
    for (size_t s = 0; s < turn.size(); ++s) row.push_back(turn[s] == 0 ? std::string() : onto.values[s][static_cast<size_t>(turn[s] - 1)]);
    out.push_back(std::move(row));
  }
  return out;
}

double StateTracker::loss(const std::vector<dialog::CorpusDialogue>& data) {
  return impl_->run_epoch(impl_->encode_all(data), /*learn=*/false);
}

const dialog::CorpusOntology& StateTracker::ontology() const { return impl_->feat.ontology(); }
const TrackerOptions& StateTracker::options() const { return impl_->options; }
int StateTracker::vocabulary_size() const { return impl_->feat.sizes().vocab; }
int64_t StateTracker::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : impl_->net->parameters()) n += p.numel();
  return n;
}

}  // namespace metadial::agents::e2e
