#include "metadial/agents/memn2n/retrieval.h"

#include <filesystem>
#include <memory>

#include "metadial/agents/memn2n/memn2n.h"
#include "metadial/core/error.h"

namespace metadial::agents::memn2n {

namespace {

torch::Tensor pack_strings(const std::vector<std::string>& words) {
  std::string joined;
  for (const auto& w : words) joined += w + "\n";
  torch::Tensor t = torch::empty({static_cast<int64_t>(joined.size())}, torch::kUInt8);
  std::copy(joined.begin(), joined.end(), t.data_ptr<uint8_t>());
  return t;
}

std::vector<std::string> unpack_strings(const torch::Tensor& t) {
  const auto* p = t.data_ptr<uint8_t>();
  std::vector<std::string> out;
  std::string cur;
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (p[i] == '\n') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(p[i]));
    }
  }
  return out;
}

struct Loaded {
  Vocabulary vocab;
  CandidateSet candidates;
  int64_t memory_size = 0;
  int64_t sentence_size = 0;
  std::unique_ptr<MemN2N> net;
};

void save_model(const std::string& path, MemN2N& net, const RetrievalData& d) {
  torch::serialize::OutputArchive ar;
  ar.write("format", torch::tensor({int64_t{20260001}}));
  ar.write("sizes", torch::tensor({net.options().embedding, net.options().hops, d.memory_size, d.sentence_size}));
  std::vector<std::string> words;
  for (int64_t i = 0; i < d.vocab.size(); ++i) words.push_back(d.vocab.word(i));
  ar.write("vocab", pack_strings(words));
  ar.write("candidates", pack_strings(d.candidates.texts()));
  for (const auto& p : net.named_parameters()) ar.write("param." + p.key(), p.value().detach());
  ar.save_to(path);
}

Loaded load_model(const std::string& path) {
  MD_CHECK_AS(DataError, std::filesystem::exists(path), path, ": no such model file");
  torch::serialize::InputArchive ar;
  torch::Tensor format, sizes, vocab, cands;
  try {
    ar.load_from(path);
    ar.read("format", format);
    ar.read("sizes", sizes);
    ar.read("vocab", vocab);
    ar.read("candidates", cands);
  } catch (const c10::Error&) {
    throw DataError(detail::concat(path, ": not a memn2n model file (write one with `metadial memn2n train --out`)"));
  }
  MD_CHECK_AS(DataError, format.numel() == 1 && format.item<int64_t>() == 20260001 && sizes.numel() == 4, path,
              ": not a memn2n model file (unknown format)");
  Loaded m;
  const auto words = unpack_strings(vocab);
  MD_CHECK_AS(DataError, words.size() >= 2 && words[0] == "<pad>" && words[1] == "<unk>", path,
              ": corrupt vocabulary in the model file");
  for (size_t i = 2; i < words.size(); ++i) m.vocab.add(words[i]);
  m.candidates = CandidateSet(unpack_strings(cands), path);
  m.memory_size = sizes[2].item<int64_t>();
  m.sentence_size = sizes[3].item<int64_t>();
  MemN2NOptions o;
  o.vocab_size = m.vocab.size();
  o.embedding = sizes[0].item<int64_t>();
  o.hops = sizes[1].item<int64_t>();
  m.net = std::make_unique<MemN2N>(o, encode_candidates(m.candidates, m.vocab));
  torch::NoGradGuard no_grad;
  for (auto& p : m.net->named_parameters()) {
    torch::Tensor t;
    try {
      ar.read("param." + p.key(), t);
    } catch (const c10::Error&) {
      throw DataError(detail::concat(path, ": the model file lacks parameter ", p.key()));
    }
    MD_CHECK_AS(DataError, t.sizes() == p.value().sizes(), path, ": parameter ", p.key(), " has the wrong shape");
    p.value().copy_(t);
  }
  return m;
}

}  // namespace

RetrievalTrainReport train_retrieval(const RetrievalTrainOptions& o,
                                     const std::function<void(int64_t, double, double)>& on_epoch) {
  const RetrievalData d = load_retrieval_data(o.train, o.validation, o.test, o.candidates, o.memory_size);
  MemN2NOptions mo;
  mo.vocab_size = d.vocab.size();
  mo.embedding = o.embedding;
  mo.hops = o.hops;
  mo.seed = o.seed;
  MemN2N net(mo, encode_candidates(d.candidates, d.vocab));
  FitOptions f;
  f.epochs = o.epochs;
  f.learning_rate = o.learning_rate;
  f.batch_size = o.batch_size;
  f.seed = o.seed;
  const FitResult fr = fit(net, d.train, d.validation, f, [&](const EpochRecord& e) {
    if (on_epoch) on_epoch(e.epoch, e.train_loss, e.validation);
  });
  RetrievalTrainReport r;
  r.train_examples = d.train.size();
  r.validation_examples = d.validation.size();
  r.test_examples = d.test.size();
  r.vocab_size = d.vocab.size();
  r.candidates = d.candidates.size();
  r.best_validation = fr.best_validation;
  r.best_epoch = fr.best_epoch;
  r.seconds = fr.seconds;
  if (d.test.size() > 0) r.test_accuracy = accuracy(net, d.test);
  if (!o.model_out.empty()) save_model(o.model_out, net, d);
  return r;
}

RetrievalEvalReport evaluate_retrieval(const std::string& model_file, const std::string& dialogs) {
  Loaded m = load_model(model_file);
  const auto ex = make_examples(read_dialogs(dialogs));
  const EncodedExamples e = encode(ex, m.vocab, m.candidates, m.memory_size, m.sentence_size);
  return {accuracy(*m.net, e), e.size()};
}

}  // namespace metadial::agents::memn2n
