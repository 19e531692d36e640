#include "metadial/online/controller.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/init.h"
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

void Controller::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  impl_->net->save(archive);
  nlohmann::json choices = nlohmann::json::array();
  for (const auto& c : impl_->space.choices()) choices.push_back({{"name", c.name}, {"values", c.values}});
  const nlohmann::json meta = {{"format", "metadial-online-controller"},
                               {"version", 1},
                               {"choices", choices},
                               {"options", impl_->options.to_json()},
                               {"baseline", impl_->baseline},
                               {"has_baseline", impl_->has_baseline},
                               {"sq", impl_->sq},
                               {"updates", impl_->updates}};
  archive.write("metadial_online", c10::IValue(meta.dump()));
  torch::serialize::OutputArchive opt;
  impl_->optimizer->save(opt);
  archive.write("adam", opt);
  try {
    archive.save_to(path);
  } catch (const c10::Error&) {
    throw InvalidArgument(detail::concat("cannot write the controller '", path,
                                         "' (does its folder exist and is it writable?)"));
  }
}

Controller Controller::load(const std::string& path) {
  MD_CHECK(std::filesystem::is_regular_file(path), "no controller at '", path,
           "' (write one with `metadial online meta-train CONFIG --save ", path, "`)");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error&) {
    throw InvalidArgument(detail::concat("'", path, "' is not a controller (not a LibTorch archive)"));
  }
  c10::IValue record;
  if (!archive.try_read("metadial_online", record) || !record.isString()) {
    throw InvalidArgument(detail::concat("'", path, "' is not a controller (no metadial_online record)"));
  }
  nlohmann::json meta;
  ChoiceSpace space;
  ControllerOptions options;
  try {
    meta = nlohmann::json::parse(record.toStringRef());
    MD_CHECK(meta.value("format", "") == "metadial-online-controller" && meta.value("version", 0) == 1, "'", path,
             "': unsupported controller format (this metadial reads version 1)");
    for (const auto& c : meta.at("choices")) space.add(c.at("name").get<std::string>(), c.at("values").get<std::vector<double>>());
    options = ControllerOptions::from_json(meta.at("options"));
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(detail::concat("'", path, "': malformed controller record (", e.what(), ")"));
  }
  Controller out(std::move(space), options);
  try {
    out.impl_->net->load(archive);
    torch::serialize::InputArchive opt;
    if (archive.try_read("adam", opt)) out.impl_->optimizer->load(opt);
  } catch (const c10::Error&) {
    throw InvalidArgument(detail::concat("'", path, "': the controller weights do not match the stored sizes"));
  }
  out.impl_->baseline = meta.value("baseline", 0.0);
  out.impl_->has_baseline = meta.value("has_baseline", false);
  out.impl_->sq = meta.value("sq", 0.0);
  out.impl_->updates = meta.value("updates", int64_t{0});
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
