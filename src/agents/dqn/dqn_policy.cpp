#include "metadial/agents/dqn/dqn_policy.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/matmul.h"
#include "metadial/nn/model_file.h"
#include "metadial/nn/optim.h"

namespace metadial::agents::dqn {
namespace {

constexpr int kFormatVersion = 1;
constexpr nn::ModelFileKind kModelFile{"METADIAL-DQN", kFormatVersion, "model", "DQN model",
                                       "`metadial dialog train --out`"};
constexpr const char* kArchitecture = "mlp2-relu";
// Sub-streams of the policy seed.
constexpr uint64_t kInitStream = stream("init");
constexpr uint64_t kExploreStream = stream("expr");
constexpr uint64_t kReplayStream = stream("repl");
constexpr float kMaskedQ = -1.0e30F;

// Layer shapes (out, in) of the Q-network.
std::vector<std::pair<int, int>> layer_shapes(int obs, int na, const DqnOptions& o) {
  return {{o.h1, obs}, {o.h2, o.h1}, {na, o.h2}};
}

// PyTorch's default Linear initialization, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and
// biases, drawn from our own generator so that it is portable and independent per thread.
std::vector<torch::Tensor> init_parameters(int obs, int na, const DqnOptions& o, uint64_t seed) {
  Rng rng(derive_seed(seed, {kInitStream}));
  std::vector<torch::Tensor> params;
  for (const auto& [out, in] : layer_shapes(obs, na, o)) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    torch::Tensor w = torch::empty({out, in}, torch::kFloat);
    torch::Tensor b = torch::empty({out}, torch::kFloat);
    float* pw = w.data_ptr<float>();
    for (int64_t i = 0; i < w.numel(); ++i) pw[i] = static_cast<float>((2.0 * uniform01(rng) - 1.0) * bound);
    float* pb = b.data_ptr<float>();
    for (int64_t i = 0; i < b.numel(); ++i) pb[i] = static_cast<float>((2.0 * uniform01(rng) - 1.0) * bound);
    params.push_back(w);
    params.push_back(b);
  }
  return params;
}

// x (B x in) W^T + b. Debian's LibTorch multiplies with the reference BLAS; nn::dense_linear
// takes the fast path for these sizes, with torch autograd.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return nn::dense_linear(x, w, b);
}

torch::Tensor forward(const std::vector<torch::Tensor>& p, const torch::Tensor& x) {
  torch::Tensor h = torch::relu(linear(x, p[0], p[1]));
  h = torch::relu(linear(h, p[2], p[3]));
  return linear(h, p[4], p[5]);
}

}  // namespace

int masked_argmax(std::span<const float> q, std::span<const uint8_t> mask) {
  int best = -1;
  for (size_t a = 0; a < q.size(); ++a) {
    if (a < mask.size() && !mask[a]) continue;
    if (best < 0 || q[a] > q[static_cast<size_t>(best)]) best = static_cast<int>(a);
  }
  return best;
}

struct DqnPolicy::Impl {
  Impl(int obs_size, int n_actions, const DqnOptions& o, uint64_t s, std::vector<torch::Tensor> params)
      : options(o),
        obs(obs_size),
        na(n_actions),
        seed(s),
        explore_rng(derive_seed(s, {kExploreStream})),
        replay_rng(derive_seed(s, {kReplayStream})),
        replay(o.replay_capacity, obs_size, n_actions) {
    online = std::move(params);
    for (auto& t : online) {
      target.push_back(t.detach().clone());
      t.set_requires_grad(true);
    }
    adam = std::make_unique<torch::optim::Adam>(online, torch::optim::AdamOptions(o.lr));
    const auto b = static_cast<size_t>(o.batch_size);
    idx.resize(b);
    s_batch.resize(b * static_cast<size_t>(obs));
    s2_batch.resize(b * static_cast<size_t>(obs));
    a_batch.resize(b);
    r_batch.resize(b);
    notdone_batch.resize(b);
    mask_batch.resize(b * static_cast<size_t>(na));
    h1.resize(static_cast<size_t>(o.h1));
    h2.resize(static_cast<size_t>(o.h2));
    q.resize(static_cast<size_t>(na));
  }

  // Copies the online weights, transposed, into the acting cache (after each learning step).
  void refresh_cache() const {
    auto transpose = [](const torch::Tensor& w, std::vector<float>& out) {
      const int64_t rows = w.size(0), cols = w.size(1);
      const torch::Tensor c = w.detach().contiguous();
      const float* p = c.data_ptr<float>();
      out.resize(static_cast<size_t>(rows * cols));
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t k = 0; k < cols; ++k) out[static_cast<size_t>(k * rows + r)] = p[r * cols + k];
      }
    };
    auto copy = [](const torch::Tensor& b, std::vector<float>& out) {
      const torch::Tensor c = b.detach().contiguous();
      out.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    };
    transpose(online[0], w1t);
    copy(online[1], b1);
    transpose(online[2], w2t);
    copy(online[3], b2);
    transpose(online[4], w3t);
    copy(online[5], b3);
    dirty = false;
  }

  // q = W3 relu(W2 relu(W1 x + b1) + b2) + b3, skipping zero inputs (the observation is sparse,
  // half the hidden units are off).
  void act_forward(std::span<const float> x) const {
    if (dirty) refresh_cache();
    const size_t n1 = h1.size(), n2 = h2.size(), n3 = q.size();
    auto layer = [](const float* in, size_t n_in, const float* wt, const float* bias, float* out, size_t n_out) {
      std::memcpy(out, bias, n_out * sizeof(float));
      for (size_t i = 0; i < n_in; ++i) {
        const float v = in[i];
        if (v == 0.0F) continue;
        const float* row = wt + i * n_out;
        for (size_t j = 0; j < n_out; ++j) out[j] += v * row[j];
      }
    };
    layer(x.data(), x.size(), w1t.data(), b1.data(), h1.data(), n1);
    for (float& v : h1) v = std::max(v, 0.0F);
    layer(h1.data(), n1, w2t.data(), b2.data(), h2.data(), n2);
    for (float& v : h2) v = std::max(v, 0.0F);
    layer(h2.data(), n2, w3t.data(), b3.data(), q.data(), n3);
  }

  double learn() {
    const int bs = options.batch_size;
    MD_CHECK(replay.size() >= bs, "DQN learn: the replay buffer holds ", replay.size(), " transitions, fewer than a batch (",
             bs, ")");
    replay.sample_indices(replay_rng, idx);
    const auto o = static_cast<size_t>(obs);
    for (size_t k = 0; k < idx.size(); ++k) {
      const int i = idx[k];
      std::memcpy(s_batch.data() + k * o, replay.observation(i).data(), o * sizeof(float));
      std::memcpy(s2_batch.data() + k * o, replay.next_observation(i).data(), o * sizeof(float));
      a_batch[k] = replay.action(i);
      r_batch[k] = replay.reward(i);
      notdone_batch[k] = replay.done(i) ? 0.0F : 1.0F;
      const auto m = replay.next_mask(i);
      for (size_t a = 0; a < m.size(); ++a) mask_batch[k * static_cast<size_t>(na) + a] = m[a] ? 0.0F : kMaskedQ;
    }
    const auto opts = torch::TensorOptions().dtype(torch::kFloat);
    const torch::Tensor s = torch::from_blob(s_batch.data(), {bs, obs}, opts);
    const torch::Tensor s2 = torch::from_blob(s2_batch.data(), {bs, obs}, opts);
    const torch::Tensor a = torch::from_blob(a_batch.data(), {bs, 1}, torch::TensorOptions().dtype(torch::kLong));
    const torch::Tensor r = torch::from_blob(r_batch.data(), {bs}, opts);
    const torch::Tensor notdone = torch::from_blob(notdone_batch.data(), {bs}, opts);
    const torch::Tensor maskadd = torch::from_blob(mask_batch.data(), {bs, na}, opts);

    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor qt = forward(target, s2);
      torch::Tensor next;
      if (options.double_q) {
        const torch::Tensor best = (forward(online, s2) + maskadd).argmax(1, /*keepdim=*/true);
        next = qt.gather(1, best).squeeze(1);
      } else {
        next = std::get<0>((qt + maskadd).max(1));
      }
      y = r + static_cast<float>(options.gamma) * notdone * next;
    }
    const torch::Tensor pred = forward(online, s).gather(1, a).squeeze(1);
    const torch::Tensor loss = options.huber ? torch::smooth_l1_loss(pred, y) : torch::mse_loss(pred, y);
    adam->zero_grad();
    loss.backward();
    adam->step();
    {
      torch::NoGradGuard no_grad;
      const auto tau = static_cast<float>(options.tau);
      for (size_t i = 0; i < online.size(); ++i) target[i].mul_(1.0F - tau).add_(online[i], tau);
    }
    dirty = true;
    ++steps;
    return loss.item<double>();
  }

  DqnOptions options;
  int obs;
  int na;
  uint64_t seed;
  ModelInfo info;
  Rng explore_rng;
  Rng replay_rng;
  std::vector<torch::Tensor> online;
  std::vector<torch::Tensor> target;
  std::unique_ptr<torch::optim::Adam> adam;
  ReplayBuffer replay;
  int64_t steps = 0;

  // Acting cache (transposed weights) and scratch.
  mutable bool dirty = true;
  mutable std::vector<float> w1t, b1, w2t, b2, w3t, b3, h1, h2, q;
  // Minibatch scratch.
  std::vector<int> idx;
  std::vector<float> s_batch, s2_batch, r_batch, notdone_batch, mask_batch;
  std::vector<int64_t> a_batch;
};

DqnPolicy::DqnPolicy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DqnPolicy::DqnPolicy(int observation_size, int num_actions, const DqnOptions& options, uint64_t seed) {
  MD_CHECK(observation_size >= 1, "DQN: observation size ", observation_size, " must be >= 1");
  MD_CHECK(num_actions >= 1, "DQN: number of actions ", num_actions, " must be >= 1");
  options.validate();
  impl_ = std::make_unique<Impl>(observation_size, num_actions, options, seed,
                                 init_parameters(observation_size, num_actions, options, seed));
  impl_->info.seed = seed;
}

DqnPolicy::DqnPolicy(const dialog::DialogueEnv& env, const DqnOptions& options, uint64_t seed)
    : DqnPolicy(env.observation_size(), env.num_actions(), options, seed) {
  impl_->info.env = env.options().name;
  impl_->info.domain = env.domain().name();
  for (int a = 0; a < env.num_actions(); ++a) impl_->info.action_names.push_back(env.domain().actions().name(a));
}

DqnPolicy::~DqnPolicy() = default;
DqnPolicy::DqnPolicy(DqnPolicy&&) noexcept = default;
DqnPolicy& DqnPolicy::operator=(DqnPolicy&&) noexcept = default;

int DqnPolicy::act(const PolicyInput& input) {
  MD_CHECK(input.observation.size() == static_cast<size_t>(impl_->obs), "DQN: observation of ", input.observation.size(),
           " floats, the network expects ", impl_->obs);
  MD_CHECK(input.action_mask.empty() || input.action_mask.size() == static_cast<size_t>(impl_->na), "DQN: mask of ",
           input.action_mask.size(), " actions, the network has ", impl_->na);
  impl_->act_forward(input.observation);
  const int a = masked_argmax(impl_->q, input.action_mask);
  MD_CHECK(a >= 0, "DQN: the action mask allows no action");
  return a;
}

int DqnPolicy::act_explore(const PolicyInput& input, double epsilon) {
  if (epsilon > 0.0 && uniform01(impl_->explore_rng) < epsilon) {
    int allowed = 0;
    for (size_t a = 0; a < static_cast<size_t>(impl_->na); ++a) allowed += (input.action_mask.empty() || input.action_mask[a]) ? 1 : 0;
    MD_CHECK(allowed > 0, "DQN: the action mask allows no action");
    int k = static_cast<int>(uniform01(impl_->explore_rng) * allowed);
    for (size_t a = 0; a < static_cast<size_t>(impl_->na); ++a) {
      if ((input.action_mask.empty() || input.action_mask[a]) && k-- == 0) return static_cast<int>(a);
    }
  }
  return act(input);
}

void DqnPolicy::q_values(std::span<const float> observation, std::span<float> out) const {
  MD_CHECK(observation.size() == static_cast<size_t>(impl_->obs) && out.size() == static_cast<size_t>(impl_->na),
           "DQN q_values: sizes ", observation.size(), " -> ", out.size(), ", expected ", impl_->obs, " -> ", impl_->na);
  impl_->act_forward(observation);
  std::copy(impl_->q.begin(), impl_->q.end(), out.begin());
}

void DqnPolicy::remember(std::span<const float> observation, int action, double reward,
                         std::span<const float> next_observation, std::span<const uint8_t> next_mask, bool done) {
  impl_->replay.add(observation, action, static_cast<float>(reward * impl_->options.reward_scale), next_observation,
                    next_mask, done);
}

bool DqnPolicy::can_learn() const {
  return impl_->replay.size() >= impl_->options.batch_size && impl_->replay.total_added() >= impl_->options.learn_start;
}

double DqnPolicy::learn() { return impl_->learn(); }

void DqnPolicy::set_learning_rate(double lr) {
  MD_CHECK(lr >= 0.0 && lr < 10.0, "DQN learning rate ", lr, " must be in [0, 10)");
  nn::set_learning_rate(*impl_->adam, lr);
}

double DqnPolicy::learning_rate() const { return nn::learning_rate(*impl_->adam); }

DqnPolicy DqnPolicy::clone() const {
  const Impl& src = *impl_;
  std::vector<torch::Tensor> params;
  for (const auto& t : src.online) params.push_back(t.detach().clone());
  auto impl = std::make_unique<Impl>(src.obs, src.na, src.options, src.seed, std::move(params));
  for (size_t i = 0; i < src.target.size(); ++i) impl->target[i] = src.target[i].clone();
  impl->info = src.info;
  impl->explore_rng = src.explore_rng;
  impl->replay_rng = src.replay_rng;
  impl->replay = src.replay;
  impl->steps = src.steps;
  // Adam: step size and per-parameter moments (keyed by the parameter's TensorImpl address).
  DqnPolicy out(std::move(impl));
  out.set_learning_rate(learning_rate());
  auto& dst_state = out.impl_->adam->state();
  const auto& src_state = src.adam->state();
  for (size_t i = 0; i < src.online.size(); ++i) {
    const auto it = src_state.find(c10::guts::to_string(src.online[i].unsafeGetTensorImpl()));
    if (it == src_state.end()) continue;
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    auto d = std::make_unique<torch::optim::AdamParamState>();
    d->step(s.step());
    d->exp_avg(s.exp_avg().clone());
    d->exp_avg_sq(s.exp_avg_sq().clone());
    if (s.max_exp_avg_sq().defined()) d->max_exp_avg_sq(s.max_exp_avg_sq().clone());
    dst_state[c10::guts::to_string(out.impl_->online[i].unsafeGetTensorImpl())] = std::move(d);
  }
  return out;
}

DialogueOutcome run_training_dialogue(dialog::DialogueEnv& env, DqnPolicy& policy, double epsilon, uint64_t seed) {
  std::vector<float> previous(static_cast<size_t>(env.observation_size()));
  env.reset(seed);
  policy.begin_dialogue();
  while (!env.done()) {
    const PolicyInput in = PolicyInput::from(env);
    const int a = policy.act_explore(in, epsilon);
    std::copy(in.observation.begin(), in.observation.end(), previous.begin());
    const dialog::StepResult step = env.step(a);
    policy.remember(previous, a, step.reward, step.observation, env.action_mask(), step.done);
  }
  return {env.success(), env.total_reward(), env.turn()};
}
int64_t DqnPolicy::gradient_steps() const { return impl_->steps; }
const ReplayBuffer& DqnPolicy::replay() const { return impl_->replay; }
const DqnOptions& DqnPolicy::options() const { return impl_->options; }
int DqnPolicy::observation_size() const { return impl_->obs; }
int DqnPolicy::num_actions() const { return impl_->na; }
ModelInfo& DqnPolicy::info() { return impl_->info; }
const ModelInfo& DqnPolicy::info() const { return impl_->info; }

std::vector<float> DqnPolicy::parameters() const {
  std::vector<float> out;
  for (const auto& t : impl_->online) {
    const torch::Tensor c = t.detach().contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

void DqnPolicy::check_compatible(const dialog::DialogueEnv& env, const std::string& what) const {
  const ModelInfo& i = impl_->info;
  const std::string trained = i.domain.empty() ? std::string() : " (trained on domain '" + i.domain + "')";
  MD_CHECK_AS(DataError, env.observation_size() == impl_->obs && env.num_actions() == impl_->na, what,
              ": the model takes observations of ", impl_->obs, " floats and has ", impl_->na, " actions", trained,
              "; environment ", env.options().name, " (domain '", env.domain().name(), "') has ", env.observation_size(),
              " and ", env.num_actions());
  if (i.action_names.empty()) return;
  for (int a = 0; a < env.num_actions(); ++a) {
    MD_CHECK_AS(DataError, i.action_names[static_cast<size_t>(a)] == env.domain().actions().name(a), what,
                ": summary action ", a, " is '", i.action_names[static_cast<size_t>(a)], "' in the model", trained,
                " but '", env.domain().actions().name(a), "' in domain '", env.domain().name(), "'");
  }
}

void DqnPolicy::save(const std::string& path) const {
  const ModelInfo& i = impl_->info;
  const nlohmann::json header = {{"format", "metadial-dqn"},
                                 {"version", kFormatVersion},
                                 {"architecture", kArchitecture},
                                 {"observation_size", impl_->obs},
                                 {"num_actions", impl_->na},
                                 {"hidden", {impl_->options.h1, impl_->options.h2}},
                                 {"options", impl_->options.to_json()},
                                 {"env", i.env},
                                 {"domain", i.domain},
                                 {"action_names", i.action_names},
                                 {"trained_dialogues", i.trained_dialogues},
                                 {"seed", i.seed}};
  nn::save_model_file(path, kModelFile, header, impl_->online);
}

DqnPolicy DqnPolicy::load(const std::string& path) {
  nn::ModelFile file = nn::load_model_file(path, kModelFile);
  const nlohmann::json& h = file.header;
  std::vector<torch::Tensor>& params = file.params;
  int obs = 0, na = 0;
  DqnOptions options;
  ModelInfo info;
  try {
    const std::string arch = h.at("architecture").get<std::string>();
    MD_CHECK_AS(DataError, arch == kArchitecture, "'", path, "': model architecture '", arch,
                "' is not a DQN MLP (expected '", kArchitecture, "')");
    obs = h.at("observation_size").get<int>();
    na = h.at("num_actions").get<int>();
    options = DqnOptions::from_json(h.at("options"));
    info.env = h.value("env", "");
    info.domain = h.value("domain", "");
    info.action_names = h.value("action_names", std::vector<std::string>{});
    info.trained_dialogues = h.value("trained_dialogues", int64_t{0});
    info.seed = h.value("seed", uint64_t{0});
  } catch (const DataError&) {
    throw;
  } catch (const std::exception& e) {
    throw DataError("'" + path + "': corrupt model header (" + e.what() + ")");
  }
  MD_CHECK_AS(DataError, obs >= 1 && na >= 1, "'", path, "': corrupt model header (observation_size ", obs,
              ", num_actions ", na, ")");
  MD_CHECK_AS(DataError, info.action_names.empty() || info.action_names.size() == static_cast<size_t>(na), "'", path,
              "': corrupt model header (", info.action_names.size(), " action names for ", na, " actions)");
  const auto expected = layer_shapes(obs, na, options);
  MD_CHECK_AS(DataError, params.size() == 2 * expected.size(), "'", path,
              "': the file holds ", params.size(), " parameter tensors, a ", kArchitecture, " network has ",
              2 * expected.size());
  for (size_t l = 0; l < expected.size(); ++l) {
    const std::vector<int64_t> w = {expected[l].first, expected[l].second}, b = {expected[l].first};
    MD_CHECK_AS(DataError,
                params[2 * l].sizes().vec() == w && params[2 * l + 1].sizes().vec() == b &&
                    params[2 * l].scalar_type() == torch::kFloat && params[2 * l + 1].scalar_type() == torch::kFloat,
                "'", path, "': layer ", l + 1, " has shape ", params[2 * l].sizes(), " but the header's architecture (",
                obs, " -> ", options.h1, " -> ", options.h2, " -> ", na, ") needs [", w[0], ", ", w[1], "]");
  }
  for (auto& p : params) p = p.contiguous().clone();
  auto impl = std::make_unique<Impl>(obs, na, options, info.seed, std::move(params));
  impl->info = info;
  return DqnPolicy(std::move(impl));
}

}  // namespace metadial::agents::dqn
