#include "metadial/agents/memn2n/retrieval.h"

#include <memory>

#include <nlohmann/json.hpp>

#include "metadial/agents/memn2n/memn2n.h"
#include "metadial/core/error.h"
#include "metadial/nn/model_file.h"

namespace metadial::agents::memn2n {

namespace {

constexpr nn::ModelFileKind kModelFile{"METADIAL-MEMN2N", 1, "model", "memn2n model",
                                       "`metadial memn2n train --out`"};

struct Loaded {
  Vocabulary vocab;
  CandidateSet candidates;
  int64_t memory_size = 0;
  int64_t sentence_size = 0;
  std::unique_ptr<MemN2N> net;
};

void save_model(const std::string& path, MemN2N& net, const RetrievalData& d) {
  std::vector<std::string> words;
  for (int64_t i = 0; i < d.vocab.size(); ++i) words.push_back(d.vocab.word(i));
  const nlohmann::json header = {{"format", "metadial-memn2n"},
                                 {"embedding", net.options().embedding},
                                 {"hops", net.options().hops},
                                 {"heads", net.options().heads},
                                 {"memory_size", d.memory_size},
                                 {"sentence_size", d.sentence_size},
                                 {"vocabulary", words},
                                 {"candidates", d.candidates.texts()},
                                 {"parameter_names", nn::parameter_names(net)}};
  nn::save_model_file(path, kModelFile, header, net.parameters());
}

Loaded load_model(const std::string& path) {
  const nn::ModelFile file = nn::load_model_file(path, kModelFile);
  auto corrupt = [&](const std::string& what) {
    return DataError(detail::concat("'", path, "': corrupt memn2n model header (", what.substr(0, what.find('\n')), ")"));
  };
  Loaded m;
  MemN2NOptions o;
  std::vector<std::string> words, candidates;
  try {
    const nlohmann::json& h = file.header;
    MD_CHECK_AS(DataError, h.at("format") == "metadial-memn2n", "format ", h.at("format").dump());
    o.embedding = h.at("embedding").get<int64_t>();
    o.hops = h.at("hops").get<int64_t>();
    o.heads = h.at("heads").get<int64_t>();
    m.memory_size = h.at("memory_size").get<int64_t>();
    m.sentence_size = h.at("sentence_size").get<int64_t>();
    words = h.at("vocabulary").get<std::vector<std::string>>();
    candidates = h.at("candidates").get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    throw corrupt(e.what());
  }
  MD_CHECK_AS(DataError, words.size() >= 2 && words[0] == "<pad>" && words[1] == "<unk>", "'", path,
              "': corrupt vocabulary in the model file (it should start with <pad>, <unk>)");
  MD_CHECK_AS(DataError, m.memory_size >= 1 && m.memory_size <= kMaxMemorySize, "'", path, "': memory_size ",
              m.memory_size, " outside [1, ", kMaxMemorySize, "]");
  MD_CHECK_AS(DataError, m.sentence_size >= 3 && m.sentence_size <= kMaxSentenceWords + 2, "'", path,
              "': sentence_size ", m.sentence_size, " outside [3, ", kMaxSentenceWords + 2, "]");
  MD_CHECK_AS(DataError, o.embedding >= 1 && o.hops >= 1 && (o.heads == 1 || o.heads == 2), "'", path,
              "': corrupt memn2n model header (embedding ", o.embedding, ", hops ", o.hops, ", heads ", o.heads, ")");
  // The network's size (A, W [, W2]: vocabulary x embedding; H: embedding^2), compared with the
  // file's before it is built.
  const auto v = static_cast<int64_t>(words.size());
  const int64_t have = nn::total_elements(file);
  MD_CHECK_AS(DataError, o.embedding <= have && o.embedding <= (int64_t{1} << 31) &&
                             (1 + o.heads) * v * o.embedding + o.embedding * o.embedding == have,
              "'", path, "': the file holds ", have, " parameters, the network its header describes (", v,
              " words, embedding ", o.embedding, ") has more or fewer");
  for (size_t i = 2; i < words.size(); ++i) m.vocab.add(words[i]);
  MD_CHECK_AS(DataError, m.vocab.size() == v, "'", path, "': corrupt vocabulary in the model file (repeated words)");
  o.vocab_size = v;
  try {
    m.candidates = CandidateSet(candidates, path);
    m.net = std::make_unique<MemN2N>(o, encode_candidates(m.candidates, m.vocab));
  } catch (const InvalidArgument& e) {
    throw corrupt(e.what());
  }
  const size_t n = nn::copy_parameters(path, kModelFile, file, *m.net);
  MD_CHECK_AS(DataError, n == file.params.size(), "'", path, "': the file holds ", file.params.size(),
              " parameter tensors, the network its header describes has ", n);
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
