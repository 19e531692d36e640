// The Hyp-RL Q-network, the Policy around it, and saving / loading models.
#include "metadial/optim/hyprl/policy.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/init.h"
#include "metadial/nn/model_file.h"
#include "optim/hyprl/detail/network.h"

namespace metadial::optim::hyprl {
namespace {

constexpr nn::ModelFileKind kModelFile{"METADIAL-HYPRL", 1, "model", "Hyp-RL model",
                                       "`metadial meta-train hyprl --out`"};

}  // namespace

namespace detail {

QNetImpl::QNetImpl(NetDims d) : dims(d) {
  lstm_ = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(d.input(), d.hidden)));
  fc1_ = register_module("fc1", torch::nn::Linear(d.hidden + d.meta, d.head_hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(d.head_hidden, d.actions));
}

torch::Tensor QNetImpl::head(const torch::Tensor& h, const torch::Tensor& meta) {
  torch::Tensor z = h;
  if (dims.meta > 0) {
    std::vector<int64_t> shape(h.sizes().begin(), h.sizes().end());
    shape.back() = dims.meta;
    z = torch::cat({h, meta.expand(shape)}, -1);
  }
  return fc2_(torch::relu(fc1_(z)));
}

torch::Tensor QNetImpl::forward(const torch::Tensor& x, const torch::Tensor& meta) {
  auto out = std::get<0>(lstm_->forward(x));
  return head(out, meta);
}

torch::Tensor QNetImpl::step(const torch::Tensor& x, const torch::Tensor& meta, std::optional<LstmState>& state) {
  auto [out, next] = state ? lstm_->forward(x.unsqueeze(0), *state) : lstm_->forward(x.unsqueeze(0));
  state = next;
  return head(out.squeeze(0), meta);
}

void copy_parameters(const QNet& from, QNet& to) {
  torch::NoGradGuard no_grad;
  auto src = from->named_parameters();
  auto dst = to->named_parameters();
  for (auto& p : dst) p.value().copy_(src[p.key()]);
}

}  // namespace detail

// ---- PolicyOptions ----------------------------------------------------------------------------

void PolicyOptions::validate() const {
  MD_CHECK(lstm_hidden >= 1 && lstm_hidden <= 4096, "Hyp-RL policy: lstm_hidden must be in [1, 4096], got ",
           lstm_hidden);
  MD_CHECK(head_hidden >= 1 && head_hidden <= 4096, "Hyp-RL policy: head_hidden must be in [1, 4096], got ",
           head_hidden);
}

nlohmann::json PolicyOptions::to_json() const {
  return {{"lstm_hidden", lstm_hidden}, {"head_hidden", head_hidden}, {"use_meta_features", use_meta_features}};
}

PolicyOptions PolicyOptions::from_json(const nlohmann::json& j) {
  PolicyOptions o;
  o.lstm_hidden = j.at("lstm_hidden").get<int>();
  o.head_hidden = j.at("head_hidden").get<int>();
  o.use_meta_features = j.at("use_meta_features").get<bool>();
  o.validate();
  return o;
}

// ---- Policy::Impl -------------------------------------------------------------------------------

Policy::Impl::Impl(objective::TabularGrid g, int n_meta_features, PolicyOptions o)
    : grid(std::move(g)), options(o), n_meta(o.use_meta_features ? n_meta_features : 0) {
  options.validate();
  MD_CHECK(n_meta_features >= 0, "Hyp-RL policy: n_meta_features must be >= 0, got ", n_meta_features);
  const auto rows = static_cast<int64_t>(grid.size());
  const auto cols = static_cast<int64_t>(grid.layout().n_hyperparameter_columns());
  std::vector<float> flat;
  flat.reserve(static_cast<size_t>(rows * cols));
  for (const auto& r : grid.rows()) {
    for (double v : r) flat.push_back(static_cast<float>(v));
  }
  torch::Tensor x = torch::from_blob(flat.data(), {rows, cols}, torch::kFloat32).clone();
  const torch::Tensor mean = x.mean(0, true);
  torch::Tensor sd = x.std(0, false, true);
  sd = torch::where(sd > 1e-8, sd, torch::ones_like(sd));
  features = (x - mean) / sd;
  detail::NetDims d;
  d.features = cols;
  d.meta = n_meta;
  d.hidden = options.lstm_hidden;
  d.head_hidden = options.head_hidden;
  d.actions = rows;
  net = nn::build_module([&] { return detail::QNet(d); });  // weights: reset_parameters or load
}

torch::Tensor Policy::Impl::meta_tensor(std::span<const double> meta) const {
  if (n_meta == 0) return torch::zeros({0});
  MD_CHECK(static_cast<int>(meta.size()) == n_meta, "Hyp-RL policy: the model reads ", n_meta,
           " meta-features, got ", meta.size());
  std::vector<float> m(meta.begin(), meta.end());
  return torch::from_blob(m.data(), {n_meta}, torch::kFloat32).clone();
}

torch::Tensor Policy::Impl::encode(std::span<const Observation> history, const torch::Tensor& meta) const {
  const int64_t f = net->dims.features;
  const auto n = static_cast<int64_t>(history.size());
  torch::Tensor x = torch::zeros({n + 1, net->dims.input()});
  x[0][f + 1] = 1.0f;
  if (n > 0) {
    std::vector<int64_t> rows;
    std::vector<float> u;
    for (const auto& o : history) {
      MD_CHECK(o.row < grid.size(), "Hyp-RL policy: row ", o.row, " is not in the grid (", grid.size(), " rows)");
      rows.push_back(static_cast<int64_t>(o.row));
      u.push_back(static_cast<float>(utility(o.response)));
    }
    const torch::Tensor idx = torch::from_blob(rows.data(), {n}, torch::kInt64);
    x.slice(0, 1).slice(1, 0, f).copy_(features.index_select(0, idx));
    x.slice(0, 1).select(1, f).copy_(torch::from_blob(u.data(), {n}, torch::kFloat32));
  }
  if (n_meta > 0) x.slice(1, f + 2).copy_(meta.unsqueeze(0).expand({n + 1, n_meta}));
  return x;
}

// ---- Policy -----------------------------------------------------------------------------------

Policy::Policy(objective::TabularGrid grid, int n_meta_features, PolicyOptions options, uint64_t seed)
    : impl_(std::make_unique<Impl>(std::move(grid), n_meta_features, options)) {
  // PyTorch's default initialization, drawn from metadial's portable generator: a seed gives the
  // same network everywhere, and torch's global generator is not touched.
  Rng rng(seed);
  nn::reset_parameters(impl_->net, rng);
}

Policy::Policy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Policy::~Policy() = default;
Policy::Policy(Policy&&) noexcept = default;
Policy& Policy::operator=(Policy&&) noexcept = default;

const objective::TabularGrid& Policy::grid() const { return impl_->grid; }
const PolicyOptions& Policy::options() const { return impl_->options; }
int Policy::n_meta_features() const { return impl_->n_meta; }
const nlohmann::json& Policy::card() const { return impl_->card; }
void Policy::set_card(nlohmann::json card) { impl_->card = std::move(card); }

std::vector<double> Policy::q_values(std::span<const Observation> history, std::span<const double> meta) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor m = impl_->meta_tensor(meta);
  const torch::Tensor x = impl_->encode(history, m);
  torch::Tensor q;
  {
    std::lock_guard lock(impl_->mu);
    q = impl_->net->forward(x.unsqueeze(1), m.unsqueeze(0)).select(0, x.size(0) - 1).select(0, 0).contiguous();
  }
  std::vector<double> out(q.data_ptr<float>(), q.data_ptr<float>() + q.numel());
  for (const auto& o : history) out[o.row] = -std::numeric_limits<double>::infinity();
  return out;
}

std::optional<size_t> Policy::choose(std::span<const Observation> history, std::span<const double> meta,
                                     std::span<const size_t> also_tried) const {
  std::vector<double> q = q_values(history, meta);
  for (size_t r : also_tried) {
    if (r < q.size()) q[r] = -std::numeric_limits<double>::infinity();
  }
  std::optional<size_t> best;
  for (size_t r = 0; r < q.size(); ++r) {
    if (q[r] == -std::numeric_limits<double>::infinity() || std::isnan(q[r])) continue;
    if (!best || q[r] > q[*best]) best = r;
  }
  return best;
}

void Policy::save(const std::string& path) const {
  const nlohmann::json header = {{"format", "metadial-hyprl"},
                                 {"grid", impl_->grid.to_json()},
                                 {"fingerprint", impl_->grid.fingerprint()},
                                 {"options", impl_->options.to_json()},
                                 {"n_meta_features", impl_->n_meta},
                                 {"card", impl_->card},
                                 {"parameter_names", nn::parameter_names(*impl_->net)}};
  nn::save_model_file(path, kModelFile, header, impl_->net->parameters());
}

Policy Policy::load(const std::string& path) {
  MD_CHECK(std::filesystem::is_regular_file(path), "no Hyp-RL model at '", path,
           "' (train one with `metadial meta-train hyprl --out ", path, "`)");
  const nn::ModelFile file = nn::load_model_file(path, kModelFile);
  auto corrupt = [&](const std::string& what) {
    return DataError(metadial::detail::concat("'", path, "': corrupt Hyp-RL model header (",
                                              what.substr(0, what.find('\n')), ")"));
  };
  std::optional<objective::TabularGrid> grid;
  int n_meta = 0;
  PolicyOptions options;
  nlohmann::json card;
  try {
    const nlohmann::json& h = file.header;
    MD_CHECK_AS(DataError, h.at("format") == "metadial-hyprl", "format ", h.at("format").dump());
    grid.emplace(objective::TabularGrid::from_json(h.at("grid")));
    MD_CHECK_AS(DataError, h.at("fingerprint").get<std::string>() == grid->fingerprint(),
                "its grid does not match the grid's fingerprint");
    n_meta = h.at("n_meta_features").get<int>();
    MD_CHECK_AS(DataError, n_meta >= 0, "n_meta_features ", n_meta);
    options = PolicyOptions::from_json(h.at("options"));
    card = h.value("card", nlohmann::json::object());
  } catch (const std::exception& e) {
    throw corrupt(e.what());
  }
  // The network's size from the header, compared with the file's before it is built.
  detail::NetDims d;
  d.features = static_cast<int64_t>(grid->layout().n_hyperparameter_columns());
  d.meta = options.use_meta_features ? n_meta : 0;
  d.hidden = options.lstm_hidden;
  d.head_hidden = options.head_hidden;
  d.actions = static_cast<int64_t>(grid->size());
  const int64_t expected = 4 * d.hidden * (d.input() + d.hidden) + 8 * d.hidden +
                           d.head_hidden * (d.hidden + d.meta + 1) + d.actions * (d.head_hidden + 1);
  MD_CHECK_AS(DataError, expected == nn::total_elements(file), "'", path, "': the file holds ",
              nn::total_elements(file), " parameters, the network its header describes has ", expected);
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(std::move(*grid), n_meta, options);
  } catch (const Error& e) {
    throw corrupt(e.what());
  }
  impl->card = std::move(card);
  const size_t n = nn::copy_parameters(path, kModelFile, file, *impl->net);
  MD_CHECK_AS(DataError, n == file.params.size(), "'", path, "': the file holds ", file.params.size(),
              " parameter tensors, the network its header describes has ", n);
  return Policy(std::move(impl));
}

std::vector<size_t> run_policy(const Policy& policy, const objective::TabularDataset& dataset, int n,
                               std::optional<size_t> first) {
  MD_CHECK(dataset.responses.size() == policy.grid().size(), "run_policy: data set '", dataset.name, "' has ",
           dataset.responses.size(), " responses, the policy's grid ", policy.grid().size());
  std::vector<Observation> history;
  std::vector<size_t> rows;
  const size_t limit = std::min(static_cast<size_t>(std::max(n, 0)), policy.grid().size());
  while (rows.size() < limit) {
    std::optional<size_t> next = rows.empty() && first ? first : policy.choose(history, dataset.meta_features);
    if (!next) break;
    rows.push_back(*next);
    history.push_back({*next, dataset.responses[*next]});
  }
  return rows;
}

}  // namespace metadial::optim::hyprl
