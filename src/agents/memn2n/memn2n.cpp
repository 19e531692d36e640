#include "metadial/agents/memn2n/memn2n.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/matmul.h"

namespace metadial::agents::memn2n {

namespace {

torch::Tensor normal_tensor(std::vector<int64_t> shape, double std, uint64_t seed) {
  Rng rng(seed);
  torch::Tensor t = torch::empty(shape, torch::kFloat);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(std * standard_normal(rng));
  return t;
}

void put_words(int64_t* row, int64_t width, const std::vector<std::string>& words, const Vocabulary& vocab,
               const char* speaker = nullptr, const std::string* time = nullptr) {
  int64_t k = 0;
  const int64_t extra = (speaker != nullptr ? 1 : 0) + (time != nullptr ? 1 : 0);
  const int64_t keep = std::min(width - extra, kMaxSentenceWords);
  for (const auto& w : words) {
    if (k >= keep) break;
    row[k++] = vocab.id(w);
  }
  if (speaker != nullptr) row[k++] = vocab.id(speaker);
  if (time != nullptr) row[k++] = vocab.id(*time);
}

}  // namespace

EncodedExamples EncodedExamples::select(const torch::Tensor& index) const {
  return {story.index_select(0, index), query.index_select(0, index), answer.index_select(0, index),
          answer_words.index_select(0, index)};
}

int64_t sentence_size(const std::vector<DialogExample>& examples, const CandidateSet& candidates) {
  size_t n = 1;
  for (const auto& e : examples) {
    for (const auto& u : e.history) n = std::max(n, u.words.size());
    n = std::max(n, e.query.size());
  }
  for (const auto& c : candidates.texts()) n = std::max(n, tokenize(c).size());
  return std::min(static_cast<int64_t>(n), kMaxSentenceWords) + 2;
}

EncodedExamples encode(const std::vector<DialogExample>& examples, const Vocabulary& vocab,
                       const CandidateSet& candidates, int64_t memory_size, int64_t sentence_size) {
  MD_CHECK(memory_size >= 1 && sentence_size >= 3, "encode: memory_size ", memory_size, " must be >= 1 and sentence_size ",
           sentence_size, " >= 3");
  const auto n = static_cast<int64_t>(examples.size());
  // In double: the product of three int64 can overflow.
  const double elements = static_cast<double>(n) * static_cast<double>(memory_size) * static_cast<double>(sentence_size);
  MD_CHECK(elements <= static_cast<double>(kMaxEncodedElements), "encoding ", n, " examples x ", memory_size,
           " memory slots x ", sentence_size, " words needs ", elements * 8 / (1 << 30),
           " GiB, over the limit of ", kMaxEncodedElements * 8 / (int64_t{1} << 30),
           " GiB: use fewer memory slots (memory_size, `memn2n train --memory`) or fewer dialogues");
  EncodedExamples out;
  out.story = torch::zeros({n, memory_size, sentence_size}, torch::kLong);
  out.query = torch::zeros({n, sentence_size}, torch::kLong);
  out.answer = torch::zeros({n}, torch::kLong);
  out.answer_words = torch::zeros({n, sentence_size}, torch::kLong);
  int64_t* story = out.story.data_ptr<int64_t>();
  int64_t* query = out.query.data_ptr<int64_t>();
  int64_t* answer = out.answer.data_ptr<int64_t>();
  int64_t* answer_words = out.answer_words.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const DialogExample& e = examples[static_cast<size_t>(i)];
    answer[i] = candidates.index_of(e);
    const auto h = static_cast<int64_t>(e.history.size());
    const int64_t first = std::max<int64_t>(0, h - memory_size);
    for (int64_t j = first; j < h; ++j) {
      const Utterance& u = e.history[static_cast<size_t>(j)];
      const std::string t = time_token(h - 1 - j);
      put_words(story + (i * memory_size + (j - first)) * sentence_size, sentence_size, u.words, vocab,
                speaker_token(u.speaker), &t);
    }
    put_words(query + i * sentence_size, sentence_size, e.query, vocab);
    put_words(answer_words + i * sentence_size, sentence_size, tokenize(e.answer), vocab);
  }
  return out;
}

torch::Tensor encode_candidates(const CandidateSet& candidates, const Vocabulary& vocab, int64_t length) {
  int64_t sentence_size = length;
  if (sentence_size <= 0) {
    sentence_size = 1;
    for (const auto& c : candidates.texts()) sentence_size = std::max<int64_t>(sentence_size, static_cast<int64_t>(tokenize(c).size()));
    sentence_size = std::min(sentence_size, kMaxSentenceWords);
  }
  torch::Tensor out = torch::zeros({candidates.size(), sentence_size}, torch::kLong);
  int64_t* p = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < candidates.size(); ++i) {
    put_words(p + i * sentence_size, sentence_size, tokenize(candidates.text(i)), vocab);
  }
  return out;
}

void MemN2NOptions::validate() const {
  MD_CHECK(vocab_size >= 2, "MemN2NOptions: vocab_size ", vocab_size, " must be >= 2");
  MD_CHECK(embedding >= 1, "MemN2NOptions: embedding ", embedding, " must be >= 1");
  MD_CHECK(hops >= 1, "MemN2NOptions: hops ", hops, " must be >= 1");
  MD_CHECK(heads == 1 || heads == 2, "MemN2NOptions: heads ", heads, " must be 1 or 2");
  MD_CHECK(init_std > 0, "MemN2NOptions: init_std ", init_std, " must be > 0");
}

torch::Tensor bag_of_words(const torch::Tensor& table, const torch::Tensor& ids) {
  const torch::Tensor flat = ids.reshape({-1});
  // Zero the padding row of the table (cheaper than masking the gathered rows when ids outnumber rows).
  torch::Tensor keep = torch::ones({table.size(0), 1}, table.options().requires_grad(false));
  keep[0][0] = 0;
  const torch::Tensor rows = (table * keep).index_select(0, flat);
  std::vector<int64_t> shape = ids.sizes().vec();
  shape.push_back(table.size(1));
  return rows.view(shape).sum(-2);
}

torch::Tensor memory_state(const torch::Tensor& a, const torch::Tensor& h, const torch::Tensor& story,
                           const torch::Tensor& query_embedding, int64_t hops) {
  const torch::Tensor m = bag_of_words(a, story);                                   // B x M x d
  const torch::Tensor empty = story.select(2, 0).eq(0).to(m.scalar_type()) * -1e9;  // B x M
  torch::Tensor u = query_embedding;                                                // B x d
  for (int64_t k = 0; k < hops; ++k) {
    const torch::Tensor logits = (m * u.unsqueeze(1)).sum(2) + empty;
    const torch::Tensor p = torch::softmax(logits, 1);
    const torch::Tensor o = (m * p.unsqueeze(2)).sum(1);
    u = nn::dense_mm(u, h) + o;
  }
  return u;
}

MemN2N::MemN2N(const MemN2NOptions& options, torch::Tensor candidates) : options_(options) {
  options_.validate();
  MD_CHECK(candidates.dim() == 2 && candidates.scalar_type() == torch::kLong && candidates.size(0) >= 1,
           "MemN2N: candidates must be an int64 C x L tensor with C >= 1");
  MD_CHECK(candidates.max().item<int64_t>() < options_.vocab_size, "MemN2N: a candidate word id is >= vocab_size ",
           options_.vocab_size);
  candidates_ = register_buffer("candidates", candidates);
  const int64_t v = options_.vocab_size;
  const int64_t d = options_.embedding;
  const double s = options_.init_std;
  register_parameter("A", normal_tensor({v, d}, s, derive_seed(options_.seed, {1})));
  register_parameter("H", normal_tensor({d, d}, s, derive_seed(options_.seed, {2})));
  register_parameter("W", normal_tensor({v, d}, s, derive_seed(options_.seed, {3})));
  if (options_.heads == 2) register_parameter("W2", normal_tensor({v, d}, s, derive_seed(options_.seed, {4})));
}

torch::Tensor MemN2N::scores(const torch::Tensor& story, const torch::Tensor& query, int64_t head,
                             const std::vector<torch::Tensor>& params) const {
  MD_CHECK(head >= 0 && head < options_.heads, "MemN2N: head ", head, " out of [0, ", options_.heads, ")");
  MD_CHECK(params.size() == static_cast<size_t>(2 + options_.heads), "MemN2N: expected ", 2 + options_.heads,
           " parameters, got ", params.size());
  const torch::Tensor u = memory_state(params[0], params[1], story, bag_of_words(params[0], query), options_.hops);
  const torch::Tensor c = bag_of_words(params[static_cast<size_t>(2 + head)], candidates_);  // C x d
  return nn::dense_mm(u, c.t());
}

torch::Tensor MemN2N::losses(const torch::Tensor& story, const torch::Tensor& query, const torch::Tensor& answer,
                             int64_t head, const std::vector<torch::Tensor>& params) const {
  const torch::Tensor logp = torch::log_softmax(scores(story, query, head, params), 1);
  return -logp.gather(1, answer.unsqueeze(1)).squeeze(1);
}

torch::Tensor MemN2N::predict(const torch::Tensor& story, const torch::Tensor& query, int64_t head) {
  torch::NoGradGuard no_grad;
  return scores(story, query, head, parameters()).argmax(1);
}

MemN2NWeightNet::MemN2NWeightNet(const MemN2NOptions& options) : options_(options) {
  options_.validate();
  const int64_t v = options_.vocab_size;
  const int64_t d = options_.embedding;
  const double s = options_.init_std;
  a_ = register_parameter("A", normal_tensor({v, d}, s, derive_seed(options_.seed, {11})));
  h_ = register_parameter("H", normal_tensor({d, d}, s, derive_seed(options_.seed, {12})));
  v_ = register_parameter("v", normal_tensor({d}, s, derive_seed(options_.seed, {13})));
  b_ = register_parameter("b", torch::zeros({1}));
}

torch::Tensor MemN2NWeightNet::logits(const torch::Tensor& story, const torch::Tensor& query,
                                      const torch::Tensor& answer_words) {
  const torch::Tensor u0 = bag_of_words(a_, query) + bag_of_words(a_, answer_words);
  const torch::Tensor u = memory_state(a_, h_, story, u0, options_.hops);
  return (u * v_).sum(1) + b_;
}

void FitOptions::validate() const {
  MD_CHECK(epochs >= 1, "FitOptions: epochs ", epochs, " must be >= 1");
  MD_CHECK(batch_size >= 1, "FitOptions: batch_size ", batch_size, " must be >= 1");
  MD_CHECK(learning_rate > 0, "FitOptions: learning_rate ", learning_rate, " must be > 0");
  MD_CHECK(adam_eps > 0, "FitOptions: adam_eps ", adam_eps, " must be > 0");
  MD_CHECK(clip_norm >= 0, "FitOptions: clip_norm ", clip_norm, " must be >= 0");
}

RetrievalData load_retrieval_data(const std::string& train, const std::string& validation, const std::string& test,
                                  const std::string& candidates, int64_t memory_size, int64_t max_dialogs) {
  MD_CHECK(memory_size >= 1 && memory_size <= kMaxMemorySize, "memory_size ", memory_size, " must be in [1, ",
           kMaxMemorySize, "] (the references use 50)");
  RetrievalData r;
  r.candidates = CandidateSet::read(candidates);
  r.memory_size = memory_size;
  const auto tr = make_examples(read_dialogs(train, max_dialogs));
  const auto va = make_examples(read_dialogs(validation, max_dialogs));
  const auto te = test.empty() ? std::vector<DialogExample>{} : make_examples(read_dialogs(test, max_dialogs));
  std::vector<DialogExample> all = tr;
  all.insert(all.end(), va.begin(), va.end());
  all.insert(all.end(), te.begin(), te.end());
  r.vocab.add_all(all, r.candidates, memory_size);
  r.sentence_size = sentence_size(all, r.candidates);
  r.train = encode(tr, r.vocab, r.candidates, memory_size, r.sentence_size);
  r.validation = encode(va, r.vocab, r.candidates, memory_size, r.sentence_size);
  if (!te.empty()) r.test = encode(te, r.vocab, r.candidates, memory_size, r.sentence_size);
  return r;
}

double accuracy(MemN2N& model, const EncodedExamples& data, int64_t head, int64_t chunk) {
  MD_CHECK(chunk >= 1, "accuracy: chunk ", chunk, " must be >= 1");
  torch::NoGradGuard no_grad;
  const int64_t n = data.size();
  int64_t right = 0;
  for (int64_t s = 0; s < n; s += chunk) {
    const int64_t e = std::min(n, s + chunk);
    const torch::Tensor pred = model.predict(data.story.slice(0, s, e), data.query.slice(0, s, e), head);
    right += pred.eq(data.answer.slice(0, s, e)).sum().item<int64_t>();
  }
  return n > 0 ? static_cast<double>(right) / static_cast<double>(n) : 0.0;
}

FitResult fit(MemN2N& model, const EncodedExamples& train, const EncodedExamples& validation,
              const FitOptions& options, const std::function<void(const EpochRecord&)>& on_epoch) {
  options.validate();
  MD_CHECK(train.size() >= 1, "fit: empty training set");
  const auto t0 = std::chrono::steady_clock::now();
  torch::optim::Adam opt(model.parameters(), torch::optim::AdamOptions(options.learning_rate).eps(options.adam_eps));
  Rng rng(options.seed);
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  FitResult r;
  std::vector<torch::Tensor> best;
  const auto params = model.parameters();
  for (int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    shuffle(order, rng);
    double loss_sum = 0;
    int64_t batches = 0;
    for (int64_t s = 0; s < train.size(); s += options.batch_size) {
      const int64_t e = std::min(train.size(), s + options.batch_size);
      const torch::Tensor idx =
          torch::from_blob(order.data() + s, {e - s}, torch::kLong).clone();
      const EncodedExamples b = train.select(idx);
      opt.zero_grad();
      const torch::Tensor loss = model.losses(b.story, b.query, b.answer, 0, params).mean();
      loss.backward();
      if (options.clip_norm > 0) torch::nn::utils::clip_grad_norm_(params, options.clip_norm);
      opt.step();
      loss_sum += loss.item<double>();
      ++batches;
    }
    EpochRecord rec{epoch, loss_sum / static_cast<double>(batches), accuracy(model, validation)};
    r.epochs.push_back(rec);
    if (best.empty() || rec.validation > r.best_validation) {
      r.best_validation = rec.validation;
      r.best_epoch = epoch;
      torch::NoGradGuard no_grad;
      best.clear();
      for (const auto& p : params) best.push_back(p.detach().clone());
    }
    if (on_epoch) on_epoch(rec);
  }
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace metadial::agents::memn2n
