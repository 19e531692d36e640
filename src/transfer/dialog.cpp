#include "metadial/transfer/dialog.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "metadial/agents/memn2n/babi.h"
#include "metadial/agents/memn2n/memn2n.h"
#include "metadial/core/error.h"
#include "metadial/transfer/modules.h"
#include "metadial/transfer/trainer.h"

namespace metadial::transfer {

namespace mm = agents::memn2n;

void DialogTransferOptions::validate() const {
  for (const auto* p : {&primary_train_, &primary_validation_, &primary_test_, &related_train_}) {
    MD_CHECK(!p->empty(), "DialogTransferOptions: the primary train / validation / test and related train files are all required");
  }
  MD_CHECK(primary_dialogs_ >= 1, "DialogTransferOptions: primary_dialogs ", primary_dialogs_, " must be >= 1");
  MD_CHECK(related_dialogs_ == -1 || related_dialogs_ >= 1, "DialogTransferOptions: related_dialogs ",
           related_dialogs_, " must be >= 1 or -1 (all)");
  MD_CHECK(test_dialogs_ == -1 || test_dialogs_ >= 1, "DialogTransferOptions: test_dialogs ", test_dialogs_,
           " must be >= 1 or -1 (all)");
  MD_CHECK(memory_size_ >= 1, "DialogTransferOptions: memory_size ", memory_size_, " must be >= 1");
  MD_CHECK(embedding_ >= 1 && hops_ >= 1, "DialogTransferOptions: embedding ", embedding_, " and hops ", hops_,
           " must be >= 1");
  MD_CHECK(histogram_bins_ >= 1, "DialogTransferOptions: histogram_bins ", histogram_bins_, " must be >= 1");
  trainer_.validate();
}

namespace {

TensorDataset to_dataset(const mm::EncodedExamples& e) {
  return TensorDataset({{"story", e.story}, {"query", e.query}, {"y", e.answer}, {"answer_words", e.answer_words}});
}

class DialogModel final : public Model {
 public:
  DialogModel(const mm::MemN2NOptions& o, const torch::Tensor& candidates)
      : net_(register_module("net", std::make_shared<mm::MemN2N>(o, candidates))) {}
  torch::Tensor losses(const Batch& b, Task task, const std::vector<torch::Tensor>& params) override {
    return net_->losses(b.at("story"), b.at("query"), b.at("y"), head(task), params);
  }
  torch::Tensor correct(const Batch& b, Task task) override {
    return net_->predict(b.at("story"), b.at("query"), head(task)).eq(b.at("y")).to(torch::kFloat);
  }

 private:
  int64_t head(Task t) const { return t == Task::kRelated && net_->options().heads == 2 ? 1 : 0; }
  std::shared_ptr<mm::MemN2N> net_;
};

class DialogWeights final : public WeightModule {
 public:
  explicit DialogWeights(const mm::MemN2NOptions& o)
      : net_(register_module("net", std::make_shared<mm::MemN2NWeightNet>(o))) {}
  torch::Tensor logits(const Batch& b) override {
    return net_->logits(b.at("story"), b.at("query"), b.at("answer_words"));
  }

 private:
  std::shared_ptr<mm::MemN2NWeightNet> net_;
};

}  // namespace

struct DialogTransferData::Impl {
  int64_t vocab_size = 0;
  torch::Tensor candidates;
  TensorDataset primary{{{"y", torch::zeros({1}, torch::kLong)}}};
  TensorDataset validation{{{"y", torch::zeros({1}, torch::kLong)}}};
  TensorDataset test{{{"y", torch::zeros({1}, torch::kLong)}}};
  TensorDataset related{{{"y", torch::zeros({1}, torch::kLong)}}};
  torch::Tensor related_offer;  // bool per related example: its response offers a restaurant
  double seconds = 0;
};

DialogTransferData::DialogTransferData(const DialogTransferOptions& options) : impl_(std::make_unique<Impl>()) {
  options.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const auto train_ex = mm::make_examples(mm::read_dialogs(options.primary_train(), options.primary_dialogs()));
  const auto val_ex = mm::make_examples(mm::read_dialogs(options.primary_validation(), options.primary_dialogs()));
  const auto test_ex = mm::make_examples(mm::read_dialogs(options.primary_test(), options.test_dialogs()));
  const auto rel_ex = mm::make_examples(mm::read_dialogs(options.related_train(), options.related_dialogs()));
  // Candidates: every response of the primary task's three files (all dialogues) and of the related data.
  mm::CandidateSet cands({}, "the responses of " + options.primary_train() + ", its validation and test files and " +
                                 options.related_train());
  for (const auto* path : {&options.primary_train(), &options.primary_validation(), &options.primary_test()}) {
    for (const auto& d : mm::read_dialogs(*path))
      for (const auto& l : d.lines)
        if (l.has_bot) cands.add(l.bot);
  }
  for (const auto& e : rel_ex) cands.add(e.answer);
  mm::Vocabulary vocab;
  std::vector<mm::DialogExample> seen = train_ex;
  seen.insert(seen.end(), rel_ex.begin(), rel_ex.end());
  vocab.add_all(seen, cands, options.memory_size());
  std::vector<mm::DialogExample> all = seen;
  all.insert(all.end(), val_ex.begin(), val_ex.end());
  all.insert(all.end(), test_ex.begin(), test_ex.end());
  const int64_t len = mm::sentence_size(all, cands);
  const int64_t mem = options.memory_size();
  impl_->vocab_size = vocab.size();
  impl_->candidates = mm::encode_candidates(cands, vocab);
  impl_->primary = to_dataset(mm::encode(train_ex, vocab, cands, mem, len));
  impl_->validation = to_dataset(mm::encode(val_ex, vocab, cands, mem, len));
  impl_->test = to_dataset(mm::encode(test_ex, vocab, cands, mem, len));
  impl_->related = to_dataset(mm::encode(rel_ex, vocab, cands, mem, len));
  std::vector<uint8_t> offer(rel_ex.size());
  for (size_t i = 0; i < rel_ex.size(); ++i) offer[i] = rel_ex[i].answer.rfind("what do you think of this option:", 0) == 0;
  impl_->related_offer = torch::from_blob(offer.data(), {static_cast<int64_t>(offer.size())}, torch::kUInt8)
                             .to(torch::kBool)
                             .clone();
  impl_->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

DialogTransferData::~DialogTransferData() = default;
DialogTransferData::DialogTransferData(DialogTransferData&&) noexcept = default;
DialogTransferData& DialogTransferData::operator=(DialogTransferData&&) noexcept = default;

DialogTransferResult run_dialog_transfer(const DialogTransferData& data, const DialogTransferOptions& options) {
  options.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const auto& d = data.impl();
  const TrainerOptions& to = options.trainer();
  mm::MemN2NOptions mo;
  mo.vocab_size = d.vocab_size;
  mo.embedding = options.embedding();
  mo.hops = options.hops();
  mo.heads = to.separate_related_head() ? 2 : 1;
  mo.seed = derive_seed(options.seed(), {1});
  DialogModel model(mo, d.candidates);
  std::unique_ptr<DialogWeights> weights;
  if (to.weighting() == Weighting::kLearned) {
    mm::MemN2NOptions wo = mo;
    wo.seed = derive_seed(options.seed(), {2});
    weights = std::make_unique<DialogWeights>(wo);
  }
  const bool needs_related = to.weighting() != Weighting::kNone || to.pretrain_iterations() > 0;
  MetaWeightTrainer trainer(model, weights.get(), d.primary, needs_related ? &d.related : nullptr, to);
  const TrainResult tr = trainer.train(d.validation);
  DialogTransferResult r;
  r.test_accuracy = trainer.accuracy(d.test);
  r.best_validation = tr.best_validation;
  r.best_iteration = tr.best_iteration;
  for (const auto& e : tr.curve) r.curve.emplace_back(e.iteration, e.validation);
  if (weights) {
    torch::NoGradGuard no_grad;
    r.weight_histogram.assign(static_cast<size_t>(options.histogram_bins()), 0);
    double sum = 0, sum_offer = 0;
    int64_t n_offer = 0;
    const int64_t n = d.related.size();
    const auto* offer = d.related_offer.data_ptr<bool>();
    for (int64_t s = 0; s < n; s += 1024) {
      const Batch b = d.related.gather(torch::arange(s, std::min(n, s + 1024), torch::kLong));
      const torch::Tensor w = torch::sigmoid(weights->logits(b)).to(torch::kDouble).contiguous();
      const double* p = w.data_ptr<double>();
      for (int64_t i = 0; i < w.size(0); ++i) {
        sum += p[i];
        if (offer[s + i]) {
          sum_offer += p[i];
          ++n_offer;
        }
        const auto bin = std::min<int64_t>(options.histogram_bins() - 1,
                                           static_cast<int64_t>(p[i] * static_cast<double>(options.histogram_bins())));
        ++r.weight_histogram[static_cast<size_t>(bin)];
      }
    }
    r.mean_weight = sum / static_cast<double>(n);
    r.related_offer_examples = n_offer;
    r.mean_weight_offer = n_offer > 0 ? sum_offer / static_cast<double>(n_offer) : 0.0;
    r.mean_weight_other = n > n_offer ? (sum - sum_offer) / static_cast<double>(n - n_offer) : 0.0;
  }
  r.vocab_size = d.vocab_size;
  r.candidates = d.candidates.size(0);
  r.primary_examples = d.primary.size();
  r.validation_examples = d.validation.size();
  r.related_examples = d.related.size();
  r.test_examples = d.test.size();
  r.step_seconds = tr.step_seconds;
  r.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace metadial::transfer
