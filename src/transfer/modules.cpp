#include "metadial/transfer/modules.h"

#include <cmath>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/matmul.h"

namespace metadial::transfer {

const torch::Tensor& Batch::at(const std::string& name) const {
  const auto it = fields.find(name);
  if (it == fields.end()) {
    std::string have;
    for (const auto& [k, v] : fields) have += (have.empty() ? "" : ", ") + k;
    throw InvalidArgument(detail::concat("batch has no field '", name, "' (fields: ", have.empty() ? "none" : have,
                                         ")"));
  }
  return it->second;
}

TensorDataset::TensorDataset(std::map<std::string, torch::Tensor> fields) : fields_(std::move(fields)) {
  MD_CHECK(!fields_.empty(), "TensorDataset: no fields");
  std::string first;
  for (const auto& [name, t] : fields_) {
    MD_CHECK(t.defined() && t.dim() >= 1, "TensorDataset: field '", name, "' must be a tensor with >= 1 dimension");
    if (first.empty()) {
      first = name;
      size_ = t.size(0);
    }
    MD_CHECK(t.size(0) == size_, "TensorDataset: field '", name, "' has ", t.size(0), " examples, field '", first,
             "' has ", size_);
  }
}

Batch TensorDataset::gather(const torch::Tensor& index) const {
  Batch b;
  b.index = index;
  for (const auto& [name, t] : fields_) b.fields.emplace(name, t.index_select(0, index));
  return b;
}

const torch::Tensor& TensorDataset::field(const std::string& name) const {
  const auto it = fields_.find(name);
  MD_CHECK(it != fields_.end(), "TensorDataset: no field '", name, "'");
  return it->second;
}

Batch TensorDataset::all() const {
  Batch b;
  b.index = torch::arange(size_, torch::kLong);
  b.fields = fields_;
  return b;
}

void uniform_init(torch::Tensor& t, double bound, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (double& x : v) x = (2 * uniform01(rng) - 1) * bound;
  torch::NoGradGuard no_grad;
  t.copy_(torch::from_blob(v.data(), t.sizes(), torch::kDouble).to(t.dtype()));
}

Classifier::Classifier(int64_t inputs, int64_t classes, int64_t hidden, int64_t heads, uint64_t seed)
    : hidden_(hidden), heads_(heads) {
  MD_CHECK(inputs >= 1 && classes >= 2, "Classifier: inputs ", inputs, " and classes ", classes,
           " must be >= 1 and >= 2");
  MD_CHECK(hidden >= 0, "Classifier: hidden ", hidden, " must be >= 0");
  MD_CHECK(heads == 1 || heads == 2, "Classifier: heads ", heads, " must be 1 or 2");
  uint64_t k = 0;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, int64_t fan_in) {
    torch::Tensor t = torch::empty(shape);
    uniform_init(t, 1.0 / std::sqrt(static_cast<double>(fan_in)), derive_seed(seed, {k++}));
    register_parameter(name, t);
  };
  const int64_t last_in = hidden > 0 ? hidden : inputs;
  if (hidden > 0) {
    add("hidden_weight", {hidden, inputs}, inputs);
    add("hidden_bias", {hidden}, inputs);
  }
  for (int64_t h = 0; h < heads; ++h) {
    add("head" + std::to_string(h) + "_weight", {classes, last_in}, last_in);
    add("head" + std::to_string(h) + "_bias", {classes}, last_in);
  }
}

torch::Tensor Classifier::scores(const torch::Tensor& x, Task task, const std::vector<torch::Tensor>& params) const {
  MD_CHECK(static_cast<int64_t>(params.size()) == 2 * heads_ + (hidden_ > 0 ? 2 : 0), "Classifier: ",
           params.size(), " parameter tensors given, expected ", 2 * heads_ + (hidden_ > 0 ? 2 : 0));
  size_t off = 0;
  torch::Tensor h = x;
  if (hidden_ > 0) {
    h = torch::tanh(metadial::nn::dense_linear(x, params[0], params[1]));
    off = 2;
  }
  const size_t head = (task == Task::kRelated && heads_ == 2) ? 1 : 0;
  return metadial::nn::dense_linear(h, params[off + 2 * head], params[off + 2 * head + 1]);
}

torch::Tensor Classifier::losses(const Batch& batch, Task task, const std::vector<torch::Tensor>& params) {
  return torch::nn::functional::cross_entropy(
      scores(batch.at("x"), task, params), batch.at("y"),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
}

torch::Tensor Classifier::correct(const Batch& batch, Task task) {
  torch::NoGradGuard no_grad;
  const torch::Tensor pred = scores(batch.at("x"), task, parameters()).argmax(1);
  return pred.eq(batch.at("y")).to(torch::kFloat);
}

PerceptronWeights::PerceptronWeights(int64_t inputs, int64_t classes, int64_t flags, uint64_t seed,
                                     std::string input_field)
    : classes_(classes), flags_(flags), input_field_(std::move(input_field)) {
  MD_CHECK(inputs >= 1 && classes >= 1 && flags >= 0, "PerceptronWeights: inputs ", inputs, ", classes ", classes,
           ", flags ", flags, ": need inputs >= 1, classes >= 1, flags >= 0");
  const int64_t n = inputs + classes + flags;
  const double bound = 1.0 / std::sqrt(static_cast<double>(n));
  weight_ = torch::empty({n});
  bias_ = torch::empty({1});
  uniform_init(weight_, bound, derive_seed(seed, {0}));
  uniform_init(bias_, bound, derive_seed(seed, {1}));
  weight_ = register_parameter("weight", weight_);
  bias_ = register_parameter("bias", bias_);
}

torch::Tensor PerceptronWeights::logits(const Batch& batch) {
  // Same value as v . [x, onehot(y), onehot(flag)] + b, without building the one-hot columns.
  const torch::Tensor& x = batch.at(input_field_);
  const int64_t inputs = weight_.size(0) - classes_ - flags_;
  MD_CHECK(x.dim() == 2 && x.size(1) == inputs, "PerceptronWeights: field '", input_field_, "' has shape ", x.sizes(),
           ", expected (B, ", inputs, ")");
  torch::Tensor out = metadial::nn::dense_mm(x, weight_.narrow(0, 0, inputs).unsqueeze(1)).squeeze(1) + bias_;
  out = out + weight_.narrow(0, inputs, classes_).index_select(0, batch.at("y"));
  if (flags_ > 0) out = out + weight_.narrow(0, inputs + classes_, flags_).index_select(0, batch.at("flag"));
  return out;
}

PerceptronWeights::Parts PerceptronWeights::parts(const Batch& batch) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& x = batch.at(input_field_);
  const int64_t inputs = weight_.size(0) - classes_ - flags_;
  MD_CHECK(x.dim() == 2 && x.size(1) == inputs, "PerceptronWeights: field '", input_field_, "' has shape ", x.sizes(),
           ", expected (B, ", inputs, ")");
  Parts p;
  p.input = metadial::nn::dense_mm(x, weight_.narrow(0, 0, inputs).unsqueeze(1)).squeeze(1);
  p.label = weight_.narrow(0, inputs, classes_).index_select(0, batch.at("y"));
  p.flag = flags_ > 0 ? weight_.narrow(0, inputs + classes_, flags_).index_select(0, batch.at("flag"))
                      : torch::zeros_like(p.label);
  p.bias = bias_.expand_as(p.label);
  return p;
}

}  // namespace metadial::transfer
