// DQN meta-training of the Hyp-RL policy across the data sets of a tabular benchmark.
#include "metadial/optim/hyprl/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/nn/init.h"
#include "optim/hyprl/detail/network.h"

namespace metadial::optim::hyprl {
namespace {

using objective::TabularBenchmark;
using objective::TabularDataset;

// What the trainer precomputes per data set.
struct Table {
  std::vector<float> utility;     // per row, larger = better
  std::vector<float> normalized;  // per row, (u - worst) / (best - worst) in [0, 1]
  torch::Tensor meta;             // [n_meta] (empty when the network reads none)
};

Table make_table(const Policy::Impl& impl, const TabularDataset& d) {
  Table t;
  double best = -std::numeric_limits<double>::infinity(), worst = std::numeric_limits<double>::infinity();
  for (double r : d.responses) {
    const double u = impl.utility(r);
    t.utility.push_back(static_cast<float>(u));
    best = std::max(best, u);
    worst = std::min(worst, u);
  }
  for (float u : t.utility) {
    t.normalized.push_back(best > worst ? static_cast<float>((u - worst) / (best - worst)) : 0.0f);
  }
  t.meta = impl.meta_tensor(d.meta_features);
  return t;
}

// One played episode, as the replay buffer keeps it.
struct Episode {
  size_t table = 0;
  std::vector<int64_t> rows;
  std::vector<float> rewards;
};

std::vector<float> rewards_of(const Table& t, const std::vector<int64_t>& rows, Reward kind) {
  std::vector<float> r;
  float best = 0.0f;
  for (int64_t row : rows) {
    const auto i = static_cast<size_t>(row);
    switch (kind) {
      case Reward::kResponse:
        r.push_back(t.utility[i]);
        break;
      case Reward::kNormalized:
        r.push_back(t.normalized[i]);
        break;
      case Reward::kImprovement:
        r.push_back(std::max(0.0f, t.normalized[i] - best));
        best = std::max(best, t.normalized[i]);
        break;
    }
  }
  return r;
}

// LSTM input rows for step k of a batch: [features of row, utility, 0, meta].
torch::Tensor step_inputs(const Policy::Impl& impl, const std::vector<int64_t>& rows, const std::vector<float>& util,
                          const torch::Tensor& meta) {
  const auto b = static_cast<int64_t>(rows.size());
  const int64_t f = impl.net->dims.features;
  torch::Tensor x = torch::zeros({b, impl.net->dims.input()});
  std::vector<int64_t> r = rows;
  x.slice(1, 0, f).copy_(impl.features.index_select(0, torch::from_blob(r.data(), {b}, torch::kInt64)));
  std::vector<float> u = util;
  x.select(1, f).copy_(torch::from_blob(u.data(), {b}, torch::kFloat32));
  if (impl.n_meta > 0) x.slice(1, f + 2).copy_(meta);
  return x;
}

torch::Tensor start_inputs(const Policy::Impl& impl, int64_t b, const torch::Tensor& meta) {
  const int64_t f = impl.net->dims.features;
  torch::Tensor x = torch::zeros({b, impl.net->dims.input()});
  x.select(1, f + 1).fill_(1.0f);
  if (impl.n_meta > 0) x.slice(1, f + 2).copy_(meta);
  return x;
}

torch::Tensor stack_meta(const Policy::Impl& impl, const std::vector<const Table*>& tables) {
  if (impl.n_meta == 0) return torch::zeros({static_cast<int64_t>(tables.size()), 0});
  std::vector<torch::Tensor> m;
  for (const Table* t : tables) m.push_back(t->meta);
  return torch::stack(m);
}

// Plays a batch of episodes side by side for `horizon` steps. At step k, `choose(k, greedy,
// rows so far)` picks an episode's action, given the untried row with the highest Q-value.
struct Rollout {
  std::vector<std::vector<int64_t>> rows;
};

template <typename Choose>
Rollout play(const Policy::Impl& impl, const std::vector<const Table*>& tables, int horizon, Choose&& choose) {
  torch::NoGradGuard no_grad;
  const auto b = static_cast<int64_t>(tables.size());
  const int64_t a = impl.net->dims.actions;
  const torch::Tensor meta = stack_meta(impl, tables);
  torch::Tensor tried = torch::zeros({b, a}, torch::kBool);
  std::optional<detail::LstmState> state;
  torch::Tensor x = start_inputs(impl, b, meta);
  Rollout out;
  out.rows.assign(static_cast<size_t>(b), {});
  for (int k = 0; k < horizon; ++k) {
    const torch::Tensor greedy =
        impl.net->step(x, meta, state).masked_fill(tried, -std::numeric_limits<float>::infinity()).argmax(1).contiguous();
    const int64_t* best = greedy.data_ptr<int64_t>();
    std::vector<int64_t> chosen(static_cast<size_t>(b));
    std::vector<float> util(static_cast<size_t>(b));
    for (int64_t i = 0; i < b; ++i) {
      const auto bi = static_cast<size_t>(i);
      chosen[bi] = choose(k, best[i], out.rows[bi]);
      out.rows[bi].push_back(chosen[bi]);
      util[bi] = tables[bi]->utility[static_cast<size_t>(chosen[bi])];
      tried[i][chosen[bi]] = true;
    }
    x = step_inputs(impl, chosen, util, meta);
  }
  return out;
}

}  // namespace

const char* to_string(Reward r) {
  switch (r) {
    case Reward::kNormalized:
      return "normalized";
    case Reward::kImprovement:
      return "improvement";
    case Reward::kResponse:
      break;
  }
  return "response";
}

Reward reward_from_string(const std::string& s) {
  if (s == "response") return Reward::kResponse;
  if (s == "normalized") return Reward::kNormalized;
  if (s == "improvement") return Reward::kImprovement;
  throw InvalidArgument("reward must be response, normalized or improvement, got '" + s + "'");
}

void TrainerOptions::validate() const {
  MD_CHECK(horizon >= 2, "Hyp-RL: horizon must be >= 2, got ", horizon);
  MD_CHECK(episodes >= 1, "Hyp-RL: episodes must be >= 1, got ", episodes);
  MD_CHECK(gamma >= 0.0 && gamma <= 1.0, "Hyp-RL: gamma must be in [0, 1], got ", gamma);
  MD_CHECK(learning_rate > 0.0 && std::isfinite(learning_rate), "Hyp-RL: learning_rate must be > 0, got ",
           learning_rate);
  MD_CHECK(batch_episodes >= 1, "Hyp-RL: batch_episodes must be >= 1, got ", batch_episodes);
  MD_CHECK(parallel_episodes >= 1, "Hyp-RL: parallel_episodes must be >= 1, got ", parallel_episodes);
  MD_CHECK(replay_capacity >= batch_episodes, "Hyp-RL: replay_capacity (", replay_capacity,
           ") must be >= batch_episodes (", batch_episodes, ")");
  MD_CHECK(warmup_episodes >= 1, "Hyp-RL: warmup_episodes must be >= 1, got ", warmup_episodes);
  MD_CHECK(updates_per_episode > 0.0, "Hyp-RL: updates_per_episode must be > 0, got ", updates_per_episode);
  MD_CHECK(epsilon_start >= 0 && epsilon_start <= 1 && epsilon_end >= 0 && epsilon_end <= 1,
           "Hyp-RL: epsilon_start and epsilon_end must be in [0, 1]");
  MD_CHECK(epsilon_decay > 0.0 && epsilon_decay <= 1.0, "Hyp-RL: epsilon_decay must be in (0, 1], got ",
           epsilon_decay);
  MD_CHECK(target_update_every >= 1, "Hyp-RL: target_update_every must be >= 1, got ", target_update_every);
  MD_CHECK(grad_clip > 0.0, "Hyp-RL: grad_clip must be > 0, got ", grad_clip);
  MD_CHECK(eval_every >= 0, "Hyp-RL: eval_every must be >= 0, got ", eval_every);
  policy.validate();
}

nlohmann::json TrainerOptions::to_json() const {
  return {{"horizon", horizon},
          {"episodes", episodes},
          {"gamma", gamma},
          {"learning_rate", learning_rate},
          {"batch_episodes", batch_episodes},
          {"parallel_episodes", parallel_episodes},
          {"replay_capacity", replay_capacity},
          {"warmup_episodes", warmup_episodes},
          {"updates_per_episode", updates_per_episode},
          {"epsilon_start", epsilon_start},
          {"epsilon_end", epsilon_end},
          {"epsilon_decay", epsilon_decay},
          {"target_update_every", target_update_every},
          {"double_q", double_q},
          {"reward", to_string(reward)},
          {"grad_clip", grad_clip},
          {"seed", seed},
          {"policy", policy.to_json()}};
}

std::vector<double> normalized_regret_curve(const TabularDataset& dataset, bool maximize,
                                            std::span<const size_t> rows) {
  const double sign = maximize ? 1.0 : -1.0;
  double best = -std::numeric_limits<double>::infinity(), worst = std::numeric_limits<double>::infinity();
  for (double r : dataset.responses) {
    best = std::max(best, sign * r);
    worst = std::min(worst, sign * r);
  }
  std::vector<double> out;
  double found = -std::numeric_limits<double>::infinity();
  for (size_t row : rows) {
    MD_CHECK(row < dataset.responses.size(), "row ", row, " out of range");
    found = std::max(found, sign * dataset.responses[row]);
    out.push_back(best > worst ? (best - found) / (best - worst) : 0.0);
  }
  return out;
}

EvalSummary evaluate(const Policy& policy, const TabularBenchmark& b, std::span<const size_t> which, int horizon) {
  EvalSummary s;
  s.horizon = std::min(horizon, static_cast<int>(policy.grid().size()));
  s.n_datasets = which.size();
  if (which.empty()) return s;
  const Policy::Impl& impl = policy.impl();
  std::vector<Table> tables;
  for (size_t i : which) tables.push_back(make_table(impl, b.datasets.at(i)));
  std::vector<const Table*> ptrs;
  for (const auto& t : tables) ptrs.push_back(&t);
  Rollout r;
  {
    std::lock_guard lock(impl.mu);
    r = play(impl, ptrs, s.horizon, [](int, int64_t greedy, const std::vector<int64_t>&) { return greedy; });
  }
  auto at = [&](const std::vector<double>& c, int t) { return c[static_cast<size_t>(std::min<int>(t, s.horizon) - 1)]; };
  for (size_t j = 0; j < which.size(); ++j) {
    std::vector<size_t> rows(r.rows[j].begin(), r.rows[j].end());
    const auto c = normalized_regret_curve(b.datasets[which[j]], policy.grid().layout().maximize, rows);
    s.regret_at_1 += at(c, 1);
    s.regret_at_10 += at(c, 10);
    s.regret_at_20 += at(c, 20);
    s.regret_at_horizon += at(c, s.horizon);
  }
  const auto n = static_cast<double>(which.size());
  s.regret_at_1 /= n;
  s.regret_at_10 /= n;
  s.regret_at_20 /= n;
  s.regret_at_horizon /= n;
  return s;
}

std::vector<std::vector<size_t>> make_folds(size_t n, int k, uint64_t seed) {
  MD_CHECK(k >= 2 && static_cast<size_t>(k) <= n, "folds must be in [2, ", n, "] (the number of data sets), got ", k);
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  Rng rng(derive_seed(seed, {stream("folds")}));
  shuffle(idx, rng);
  std::vector<std::vector<size_t>> folds(static_cast<size_t>(k));
  for (size_t i = 0; i < n; ++i) folds[i % static_cast<size_t>(k)].push_back(idx[i]);
  for (auto& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

Policy train(const TabularBenchmark& b, std::span<const size_t> train_sets, std::span<const size_t> eval_sets,
             const TrainerOptions& options, const std::function<void(const TrainingProgress&)>& on_progress) {
  options.validate();
  MD_CHECK(b.grid != nullptr && !b.datasets.empty(), "Hyp-RL: the benchmark has no data set");
  MD_CHECK(!train_sets.empty(), "Hyp-RL: no data set to train on (every data set is held out)");
  std::set<size_t> seen_train;
  for (size_t i : train_sets) {
    MD_CHECK(i < b.datasets.size(), "Hyp-RL: training data set index ", i, " out of range");
    seen_train.insert(i);
  }
  for (size_t i : eval_sets) {
    MD_CHECK(i < b.datasets.size(), "Hyp-RL: evaluation data set index ", i, " out of range");
    MD_CHECK(!seen_train.count(i), "Hyp-RL: data set '", b.datasets[i].name, "' is both trained and evaluated on");
  }
  MD_CHECK(static_cast<size_t>(options.horizon) <= b.grid->size(), "Hyp-RL: horizon ", options.horizon,
           " exceeds the grid's ", b.grid->size(), " configurations");
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  const int n_meta = static_cast<int>(b.datasets.front().meta_features.size());
  Policy policy(*b.grid, n_meta, options.policy, derive_seed(options.seed, {1}));
  Policy::Impl& impl = policy.impl();
  detail::QNet target = nn::build_module([&] { return detail::QNet(impl.net->dims); });
  detail::copy_parameters(impl.net, target);
  torch::optim::Adam adam(impl.net->parameters(), torch::optim::AdamOptions(options.learning_rate));
  Rng rng(derive_seed(options.seed, {2}));

  std::vector<Table> tables;
  for (size_t i : train_sets) tables.push_back(make_table(impl, b.datasets[i]));
  const int horizon = options.horizon;
  const int64_t n_actions = impl.net->dims.actions;
  const auto t_len = static_cast<int64_t>(horizon);

  std::vector<Episode> buffer;
  size_t next_slot = 0;
  int episodes = 0;
  int64_t updates = 0;
  double credit = 0.0, loss_sum = 0.0;
  int64_t loss_count = 0;

  auto epsilon_at = [&](int done) {
    const double frac = std::min(1.0, static_cast<double>(done) / (options.epsilon_decay * options.episodes));
    return options.epsilon_start + frac * (options.epsilon_end - options.epsilon_start);
  };

  auto update = [&] {
    const auto nb = static_cast<int64_t>(options.batch_episodes);
    std::vector<const Episode*> batch;
    std::vector<const Table*> btables;
    for (int64_t i = 0; i < nb; ++i) {
      batch.push_back(&buffer[uniform_below(rng, buffer.size())]);
      btables.push_back(&tables[batch.back()->table]);
    }
    std::vector<int64_t> rows(static_cast<size_t>(t_len * nb));
    std::vector<float> rewards(rows.size());
    for (int64_t k = 0; k < t_len; ++k) {
      for (int64_t j = 0; j < nb; ++j) {
        const auto at = static_cast<size_t>(k * nb + j);
        rows[at] = batch[static_cast<size_t>(j)]->rows[static_cast<size_t>(k)];
        rewards[at] = batch[static_cast<size_t>(j)]->rewards[static_cast<size_t>(k)];
      }
    }
    const torch::Tensor meta = stack_meta(impl, btables);
    const torch::Tensor rows_t = torch::from_blob(rows.data(), {t_len, nb}, torch::kInt64).clone();
    const torch::Tensor rew_t = torch::from_blob(rewards.data(), {t_len, nb}, torch::kFloat32).clone();
    std::vector<torch::Tensor> steps = {start_inputs(impl, nb, meta)};
    for (int64_t k = 0; k + 1 < t_len; ++k) {
      std::vector<int64_t> r(rows.begin() + k * nb, rows.begin() + (k + 1) * nb);
      std::vector<float> u;
      for (int64_t j = 0; j < nb; ++j) u.push_back(btables[static_cast<size_t>(j)]->utility[static_cast<size_t>(r[static_cast<size_t>(j)])]);
      steps.push_back(step_inputs(impl, r, u, meta));
    }
    const torch::Tensor x = torch::stack(steps);  // [T, B, input]

    const torch::Tensor q = impl.net->forward(x, meta);  // [T, B, A]
    const torch::Tensor q_taken = q.gather(2, rows_t.unsqueeze(2)).squeeze(2);
    torch::Tensor target_values;
    {
      torch::NoGradGuard no_grad;
      torch::Tensor onehot = torch::zeros({t_len, nb, n_actions});
      onehot.scatter_(2, rows_t.unsqueeze(2), 1.0f);
      const torch::Tensor next_mask = onehot.cumsum(0).slice(0, 0, t_len - 1) > 0.5f;  // tried before state k+1
      const torch::Tensor q_next_target = target->forward(x, meta).slice(0, 1);
      torch::Tensor v;
      if (options.double_q) {
        const torch::Tensor pick = q.detach().slice(0, 1).masked_fill(next_mask, -1e30f).argmax(2, true);
        v = q_next_target.gather(2, pick).squeeze(2);
      } else {
        v = std::get<0>(q_next_target.masked_fill(next_mask, -1e30f).max(2));
      }
      target_values = rew_t.clone();
      target_values.slice(0, 0, t_len - 1).add_(v, options.gamma);
    }
    const torch::Tensor loss = torch::smooth_l1_loss(q_taken, target_values);
    adam.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(impl.net->parameters(), options.grad_clip);
    adam.step();
    loss_sum += loss.item<double>();
    ++loss_count;
    ++updates;
    if (updates % options.target_update_every == 0) detail::copy_parameters(impl.net, target);
  };

  auto report = [&](bool with_eval) {
    if (!on_progress) return;
    TrainingProgress p;
    p.episodes = episodes;
    p.total_episodes = options.episodes;
    p.updates = updates;
    p.epsilon = epsilon_at(episodes);
    p.loss = loss_count ? loss_sum / static_cast<double>(loss_count) : 0.0;
    loss_sum = 0.0;
    loss_count = 0;
    if (with_eval && !eval_sets.empty()) p.eval = evaluate(policy, b, eval_sets, horizon);
    p.elapsed_s = elapsed();
    on_progress(p);
  };

  while (episodes < options.episodes) {
    const int n = std::min(options.parallel_episodes, options.episodes - episodes);
    const double eps = epsilon_at(episodes);
    std::vector<size_t> which(static_cast<size_t>(n));
    std::vector<const Table*> ptrs;
    for (auto& w : which) {
      w = uniform_below(rng, tables.size());
      ptrs.push_back(&tables[w]);
    }
    const Rollout r = play(impl, ptrs, horizon,
                           [&](int k, int64_t greedy, const std::vector<int64_t>& so_far) -> int64_t {
                             if (k == 0 || uniform01(rng) < eps) {
                               while (true) {  // a random untried row (horizon <= rows)
                                 const auto row = static_cast<int64_t>(uniform_below(rng, static_cast<size_t>(n_actions)));
                                 if (std::find(so_far.begin(), so_far.end(), row) == so_far.end()) return row;
                               }
                             }
                             return greedy;
                           });
    for (int i = 0; i < n; ++i) {
      Episode e;
      e.table = which[static_cast<size_t>(i)];
      e.rows = r.rows[static_cast<size_t>(i)];
      e.rewards = rewards_of(tables[e.table], e.rows, options.reward);
      if (buffer.size() < static_cast<size_t>(options.replay_capacity)) {
        buffer.push_back(std::move(e));
      } else {
        buffer[next_slot] = std::move(e);
        next_slot = (next_slot + 1) % buffer.size();
      }
    }
    const int before = episodes;
    episodes += n;
    if (episodes >= options.warmup_episodes) {
      credit += n * options.updates_per_episode;
      while (credit >= 1.0) {
        update();
        credit -= 1.0;
      }
    }
    const bool crossed = options.eval_every > 0 && episodes / options.eval_every != before / options.eval_every;
    if (episodes < options.episodes) report(crossed);
  }
  report(true);

  nlohmann::json train_names = nlohmann::json::array(), eval_names = nlohmann::json::array();
  for (size_t i : train_sets) train_names.push_back(b.datasets[i].name);
  for (size_t i : eval_sets) eval_names.push_back(b.datasets[i].name);
  nlohmann::json card = {{"method", "Hyp-RL (Jomaa et al. 2019), DQN"},
                         {"benchmark", b.path},
                         {"grid", b.grid->describe()},
                         {"fingerprint", b.grid->fingerprint()},
                         {"train_datasets", train_names},
                         {"heldout_datasets", eval_names},
                         {"options", options.to_json()},
                         {"updates", updates},
                         {"train_seconds", elapsed()}};
  if (!eval_sets.empty()) {
    const EvalSummary s = evaluate(policy, b, eval_sets, horizon);
    card["heldout_regret"] = {{"at_1", s.regret_at_1},
                              {"at_10", s.regret_at_10},
                              {"at_20", s.regret_at_20},
                              {"at_horizon", s.regret_at_horizon},
                              {"horizon", s.horizon}};
  }
  policy.set_card(card);
  return policy;
}

}  // namespace metadial::optim::hyprl
