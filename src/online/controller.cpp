#include "metadial/online/controller.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/init.h"
#include "metadial/nn/model_file.h"
#include "metadial/online/reinforce.h"

namespace metadial::online {

torch::Tensor reinforce_loss(const std::vector<torch::Tensor>& logits, const std::vector<int64_t>& actions,
                             double advantage, double entropy_weight) {
  MD_CHECK(logits.size() == actions.size() && !logits.empty(), "reinforce_loss: ", logits.size(), " logit vectors and ",
           actions.size(), " actions");
  torch::Tensor log_prob_sum;
  torch::Tensor entropy_sum;
  for (size_t i = 0; i < logits.size(); ++i) {
    MD_CHECK(logits[i].dim() == 1 && actions[i] >= 0 && actions[i] < logits[i].size(0),
             "reinforce_loss: action ", actions[i], " of hyperparameter ", i, " out of range");
    const torch::Tensor lp = torch::log_softmax(logits[i], 0);
    const torch::Tensor h = -(lp.exp() * lp).sum();
    const torch::Tensor a = lp[actions[i]];
    log_prob_sum = i == 0 ? a : log_prob_sum + a;
    entropy_sum = i == 0 ? h : entropy_sum + h;
  }
  return -advantage * log_prob_sum - entropy_weight * entropy_sum;
}

void ControllerOptions::validate() const {
  MD_CHECK(hidden >= 1, "controller option 'hidden': ", hidden, ", must be >= 1");
  MD_CHECK(learning_rate > 0, "controller option 'learning_rate': ", learning_rate, ", must be > 0");
  MD_CHECK(entropy_weight >= 0, "controller option 'entropy_weight': ", entropy_weight, ", must be >= 0");
  MD_CHECK(baseline_decay >= 0 && baseline_decay < 1, "controller option 'baseline_decay': ", baseline_decay,
           ", must be in [0, 1)");
  MD_CHECK(prior >= 0 && prior < 1, "controller option 'prior': ", prior, ", must be in [0, 1)");
}

nlohmann::json ControllerOptions::to_json() const {
  return {{"hidden", hidden},
          {"learning_rate", learning_rate},
          {"entropy_weight", entropy_weight},
          {"baseline_decay", baseline_decay},
          {"normalize_advantage", normalize_advantage},
          {"prior", prior},
          {"seed", seed}};
}

ControllerOptions ControllerOptions::from_json(const nlohmann::json& j) {
  ControllerOptions o;
  for (const auto& [key, v] : j.items()) {
    if (key == "hidden") o.hidden = v.get<int>();
    else if (key == "learning_rate") o.learning_rate = v.get<double>();
    else if (key == "entropy_weight") o.entropy_weight = v.get<double>();
    else if (key == "baseline_decay") o.baseline_decay = v.get<double>();
    else if (key == "normalize_advantage") o.normalize_advantage = v.get<bool>();
    else if (key == "seed") o.seed = v.get<uint64_t>();
    else if (key == "prior") o.prior = v.get<double>();
    else
      throw InvalidArgument("unknown controller option '" + key +
                            "' (known: hidden, learning_rate, entropy_weight, baseline_decay, normalize_advantage, prior, seed)");
  }
  o.validate();
  return o;
}

namespace {

struct NetImpl : torch::nn::Module {
  NetImpl(int64_t in, int64_t hidden, const ChoiceSpace& space) : lstm(torch::nn::LSTMCellOptions(in, hidden)) {
    register_module("lstm", lstm);
    for (size_t i = 0; i < space.size(); ++i) {
      heads.push_back(register_module("head" + std::to_string(i),
                                      torch::nn::Linear(hidden, static_cast<int64_t>(space.at(i).values.size()))));
    }
  }
  torch::nn::LSTMCell lstm;
  std::vector<torch::nn::Linear> heads;
};
TORCH_MODULE(Net);

double squash(double x) { return std::copysign(std::log1p(std::abs(x)), x); }

}  // namespace

struct Controller::Impl {
  Impl(ChoiceSpace s, ControllerOptions o)
      : space(std::move(s)), options(o), rng(derive_seed(o.seed, {0xC7})) {
    options.validate();
    MD_CHECK(!space.empty(), "the controller needs at least one hyperparameter");
    // Initial weights from the seed alone; torch's global generator is neither read nor moved.
    net = nn::build_module([&] { return Net(input_size(), options.hidden, space); });
    Rng init(derive_seed(options.seed, {0xC8}));
    nn::reset_parameters(net, init);
    optimizer = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(options.learning_rate));
    begin({});
  }
  int64_t input_size() const { return kStatFeatures + 1 + space.total_choices(); }

  void begin(std::vector<int64_t> prev) {
    h = torch::zeros({1, options.hidden});
    c = torch::zeros({1, options.hidden});
    previous = prev.empty() ? std::vector<int64_t>(space.size(), 0) : std::move(prev);
    MD_CHECK(previous.size() == space.size(), "begin_episode: ", previous.size(), " indices for ", space.size(),
             " hyperparameters");
    logits.clear();
    pending = false;
  }

  ChoiceSpace space;
  ControllerOptions options;
  Rng rng;
  Net net{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer;
  torch::Tensor h, c;
  std::vector<int64_t> previous;
  std::vector<torch::Tensor> logits;
  std::vector<int64_t> actions;
  std::vector<std::vector<double>> probs;
  bool pending = false;
  bool has_baseline = false;
  double baseline = 0.0;
  double sq = 0.0;  // moving mean of (r - b)^2
  int64_t updates = 0;
};

Controller::Controller(ChoiceSpace space, ControllerOptions options)
    : impl_(std::make_unique<Impl>(std::move(space), options)) {}
Controller::~Controller() = default;
Controller::Controller(Controller&&) noexcept = default;
Controller& Controller::operator=(Controller&&) noexcept = default;

const ChoiceSpace& Controller::space() const { return impl_->space; }
const ControllerOptions& Controller::options() const { return impl_->options; }
int64_t Controller::input_size() const { return impl_->input_size(); }
double Controller::baseline() const { return impl_->baseline; }
int64_t Controller::updates() const { return impl_->updates; }

void Controller::bias_towards(const std::vector<int64_t>& indices, double probability) {
  MD_CHECK(probability > 0 && probability < 1, "bias_towards: probability ", probability, " not in (0, 1)");
  MD_CHECK(indices.size() == impl_->space.size(), "bias_towards: ", indices.size(), " indices for ",
           impl_->space.size(), " hyperparameters");
  torch::NoGradGuard ng;
  for (size_t i = 0; i < indices.size(); ++i) {
    const auto k = static_cast<int64_t>(impl_->space.at(i).values.size());
    MD_CHECK(indices[i] >= 0 && indices[i] < k, "bias_towards: index ", indices[i], " out of range");
    torch::Tensor b = impl_->net->heads[i]->bias;
    b.zero_();
    // p = e^x / (e^x + k - 1)  =>  x = log(p (k - 1) / (1 - p)); one choice only: nothing to bias.
    if (k > 1) b[indices[i]] = std::log(probability * static_cast<double>(k - 1) / (1 - probability));
  }
}

void Controller::begin_episode(std::vector<int64_t> previous) { impl_->begin(std::move(previous)); }

std::vector<int64_t> Controller::act(const TargetStats& stats, double progress, bool greedy) {
  Impl& m = *impl_;
  std::vector<float> x;
  x.reserve(static_cast<size_t>(m.input_size()));
  for (double f : stats.features()) x.push_back(static_cast<float>(squash(f)));
  x.push_back(static_cast<float>(progress));
  for (size_t i = 0; i < m.space.size(); ++i) {
    for (size_t j = 0; j < m.space.at(i).values.size(); ++j) {
      x.push_back(static_cast<int64_t>(j) == m.previous[i] ? 1.0F : 0.0F);
    }
  }
  const torch::Tensor input = torch::tensor(x).view({1, -1});
  auto [h, c] = m.net->lstm->forward(input, std::make_tuple(m.h, m.c));
  m.h = h;
  m.c = c;
  m.logits.clear();
  m.probs.clear();
  std::vector<int64_t> a(m.space.size());
  for (size_t i = 0; i < m.space.size(); ++i) {
    torch::Tensor l = m.net->heads[i]->forward(h).view({-1});
    m.logits.push_back(l);
    const torch::Tensor p = torch::softmax(l.detach(), 0).to(torch::kDouble).contiguous();
    const double* pp = p.data_ptr<double>();
    const int64_t k = p.size(0);
    m.probs.emplace_back(pp, pp + k);
    int64_t choice = 0;
    if (greedy) {
      for (int64_t j = 1; j < k; ++j)
        if (pp[j] > pp[choice]) choice = j;
    } else {
      const double u = uniform01(m.rng);
      double acc = 0.0;
      choice = k - 1;
      for (int64_t j = 0; j < k; ++j) {
        acc += pp[j];
        if (u < acc) {
          choice = j;
          break;
        }
      }
    }
    a[i] = choice;
  }
  m.actions = a;
  m.previous = a;
  m.pending = true;
  return a;
}

std::vector<std::vector<double>> Controller::probabilities() const { return impl_->probs; }

double Controller::learn(double reward) {
  Impl& m = *impl_;
  MD_CHECK(m.pending, "Controller::learn: no decision to learn from (call act() first)");
  MD_CHECK(std::isfinite(reward), "Controller::learn: reward ", reward, " is not finite");
  m.pending = false;
  ++m.updates;
  if (!m.has_baseline) {
    m.baseline = reward;
    m.has_baseline = true;
  }
  double advantage = reward - m.baseline;
  const double d = m.options.baseline_decay;
  if (m.options.normalize_advantage) {
    m.sq = m.sq == 0.0 ? advantage * advantage : d * m.sq + (1 - d) * advantage * advantage;
    advantage = m.sq > 0 ? std::clamp(advantage / std::sqrt(m.sq), -5.0, 5.0) : 0.0;
  }
  m.baseline = d * m.baseline + (1 - d) * reward;
  torch::Tensor loss = reinforce_loss(m.logits, m.actions, advantage, m.options.entropy_weight);
  m.optimizer->zero_grad();
  loss.backward();
  m.optimizer->step();
  m.h = m.h.detach();
  m.c = m.c.detach();
  m.logits.clear();
  return loss.item<double>();
}

namespace {

constexpr nn::ModelFileKind kModelFile{"METADIAL-CONTROLLER", 1, "controller", "online controller",
                                       "`metadial online meta-train CONFIG --save`"};

// Adam keys its per-parameter state by the parameter's TensorImpl (as torch::optim::Adam::step does).
std::string adam_key(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

}  // namespace

// The file's tensors: the network's parameters in registration order, then, for every parameter
// Adam has state for (header "adam": {"step": n} or null per parameter), its exp_avg and exp_avg_sq.
void Controller::save(const std::string& path) const {
  nlohmann::json choices = nlohmann::json::array();
  for (const auto& c : impl_->space.choices()) choices.push_back({{"name", c.name}, {"values", c.values}});
  std::vector<torch::Tensor> tensors = impl_->net->parameters();
  const size_t n_params = tensors.size();
  nlohmann::json adam = nlohmann::json::array();
  auto& state = impl_->optimizer->state();
  for (size_t i = 0; i < n_params; ++i) {
    const auto it = state.find(adam_key(tensors[i]));
    if (it == state.end()) {
      adam.push_back(nullptr);
      continue;
    }
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    MD_ASSERT(!s.max_exp_avg_sq().defined(), "the controller's Adam runs without amsgrad");
    adam.push_back({{"step", s.step()}});
    tensors.push_back(s.exp_avg());
    tensors.push_back(s.exp_avg_sq());
  }
  const nlohmann::json header = {{"format", "metadial-online-controller"},
                                 {"choices", choices},
                                 {"options", impl_->options.to_json()},
                                 {"baseline", impl_->baseline},
                                 {"has_baseline", impl_->has_baseline},
                                 {"sq", impl_->sq},
                                 {"updates", impl_->updates},
                                 {"adam", adam},
                                 {"parameter_names", nn::parameter_names(*impl_->net)}};
  nn::save_model_file(path, kModelFile, header, tensors);
}

Controller Controller::load(const std::string& path) {
  MD_CHECK(std::filesystem::is_regular_file(path), "no controller at '", path,
           "' (write one with `metadial online meta-train CONFIG --save ", path, "`)");
  const nn::ModelFile file = nn::load_model_file(path, kModelFile);
  auto corrupt = [&](const std::string& what) {
    return DataError(detail::concat("'", path, "': corrupt controller header (", what.substr(0, what.find('\n')), ")"));
  };
  const nlohmann::json& h = file.header;
  ChoiceSpace space;
  ControllerOptions options;
  std::vector<std::optional<int64_t>> steps;
  double baseline = 0.0, sq = 0.0;
  bool has_baseline = false;
  int64_t updates = 0;
  try {
    MD_CHECK_AS(DataError, h.at("format") == "metadial-online-controller", "format ", h.at("format").dump());
    for (const auto& c : h.at("choices")) space.add(c.at("name").get<std::string>(), c.at("values").get<std::vector<double>>());
    MD_CHECK_AS(DataError, !space.empty(), "no choices");
    options = ControllerOptions::from_json(h.at("options"));
    for (const auto& a : h.at("adam")) {
      steps.push_back(a.is_null() ? std::nullopt : std::optional<int64_t>(a.at("step").get<int64_t>()));
    }
    baseline = h.at("baseline").get<double>();
    has_baseline = h.at("has_baseline").get<bool>();
    sq = h.at("sq").get<double>();
    updates = h.at("updates").get<int64_t>();
  } catch (const std::exception& e) {
    throw corrupt(e.what());
  }
  // The network's size from the header (LSTM cell, one linear head per hyperparameter), compared
  // with the file's before it is built.
  const auto hidden = static_cast<double>(options.hidden);
  const double in = kStatFeatures + 1 + static_cast<double>(space.total_choices());
  double expected = 4 * hidden * (in + hidden) + 8 * hidden;
  for (const auto& c : space.choices()) expected += static_cast<double>(c.values.size()) * (hidden + 1);
  const size_t n_params = 4 + 2 * space.size();
  double have = 0;
  for (size_t i = 0; i < std::min(n_params, file.params.size()); ++i) have += static_cast<double>(file.params[i].numel());
  MD_CHECK_AS(DataError, file.params.size() >= n_params && have == expected, "'", path, "': the file's ",
              std::min(n_params, file.params.size()), " network tensors hold ", have,
              " parameters, the controller its header describes has ", n_params, " holding ", expected);
  Controller out(std::move(space), options);
  Impl& m = *out.impl_;
  const size_t copied = nn::copy_parameters(path, kModelFile, file, *m.net);
  MD_ASSERT(copied == n_params, "the controller's network has ", copied, " parameters, expected ", n_params);
  const std::vector<torch::Tensor> params = m.net->parameters();
  size_t with_state = 0;
  for (const auto& s : steps) with_state += s.has_value();
  MD_CHECK_AS(DataError, steps.size() == n_params && file.params.size() == n_params + 2 * with_state, "'", path,
              "': the file holds ", file.params.size(), " tensors, its header describes ", n_params,
              " parameters and Adam state for ", with_state, " of ", steps.size());
  size_t k = n_params;
  for (size_t i = 0; i < n_params; ++i) {
    if (!steps[i]) continue;
    const torch::Tensor& avg = file.params[k++];
    const torch::Tensor& avg_sq = file.params[k++];
    MD_CHECK_AS(DataError, *steps[i] >= 0 && avg.sizes() == params[i].sizes() && avg_sq.sizes() == params[i].sizes() &&
                               avg.scalar_type() == torch::kFloat && avg_sq.scalar_type() == torch::kFloat,
                "'", path, "': the Adam state of parameter ", i, " does not fit it");
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(*steps[i]);
    s->exp_avg(avg.clone());
    s->exp_avg_sq(avg_sq.clone());
    m.optimizer->state()[adam_key(params[i])] = std::move(s);
  }
  m.baseline = baseline;
  m.has_baseline = has_baseline;
  m.sq = sq;
  m.updates = updates;
  return out;
}

const char* to_string(Reward r) { return r == Reward::kChange ? "change" : "error_ratio"; }

Reward reward_from_string(const std::string& s) {
  if (s == "change") return Reward::kChange;
  if (s == "error_ratio") return Reward::kErrorRatio;
  throw InvalidArgument("unknown reward '" + s + "' (expected change or error_ratio)");
}

double reward_of(Reward kind, double v0, double v1) {
  if (kind == Reward::kChange) return v1 - v0;
  constexpr double eps = 1e-3;  // keeps a perfect score finite
  return std::log((1 - v0 + eps) / (1 - v1 + eps));
}

RunResult run_controller(Target& target, Controller& controller, const RunOptions& run,
                         const ControllerRunOptions& how) {
  run.validate();
  MD_CHECK(how.greedy_after >= 0 && how.greedy_after <= 1, "controller option 'greedy_after': ", how.greedy_after,
           ", must be in [0, 1]");
  const ChoiceSpace& space = controller.space();
  space.check_accepted(target.accepted(), target.name());
  const auto t0 = std::chrono::steady_clock::now();
  target.reset(run.seed);
  const std::vector<int64_t> start = space.nearest(target.defaults());
  if (controller.updates() == 0 && controller.options().prior > 0) controller.bias_towards(start, controller.options().prior);
  controller.begin_episode(start);
  RunResult res;
  res.method = how.learn ? "controller" : "controller-frozen";
  double previous = target.validation_score();
  for (int64_t step = 0; step < run.total_steps; step += run.interval) {
    const int64_t k = std::min(run.interval, run.total_steps - step);
    const double progress = static_cast<double>(step) / static_cast<double>(run.total_steps);
    const std::vector<int64_t> idx = controller.act(target.stats(), progress, how.greedy || progress >= how.greedy_after);
    const Tuple t = space.tuple(idx);
    target.train(t, k);
    const double v = target.validation_score();
    const double reward = reward_of(how.reward, previous, v);
    previous = v;
    if (how.learn) controller.learn(reward);
    res.schedule.push_back({step, resolve(t, target.defaults(), target.name()), v, reward});
  }
  res.validation = previous;
  res.test = target.test_score();
  res.steps = run.total_steps;
  res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

std::vector<RunResult> meta_train(Controller& controller, const Target& prototype, int runs, const RunOptions& run,
                                  const ControllerRunOptions& how) {
  ControllerRunOptions learning = how;
  learning.learn = true;
  MD_CHECK(runs >= 1, "meta-training needs at least one run, got ", runs);
  std::vector<RunResult> out;
  for (int i = 0; i < runs; ++i) {
    std::unique_ptr<Target> t = prototype.clone();
    RunOptions r = run;
    r.seed = derive_seed(run.seed, {static_cast<uint64_t>(i)});
    out.push_back(run_controller(*t, controller, r, learning));
  }
  return out;
}

}  // namespace metadial::online
