// Prior-data fitting of the PFN surrogate (meta/pfn_trainer.h).
#include "metadial/meta/pfn_trainer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cmath>

#include <torch/torch.h>

#include "metadial/core/error.h"
#include "metadial/core/file.h"
#include "metadial/core/random.h"
#include "metadial/nn/optim.h"
#include "optim/learned/detail/pfn_network.h"

namespace metadial::meta {

using optim::learned::PfnModel;

namespace {

// Standardized query targets are clipped to this: a history whose values happen to lie close
// together would otherwise give a few enormous targets that dominate a batch's loss.
constexpr double kMaxTarget = 20.0;

struct Batch {
  torch::Tensor x, yin, target;  // [B, S, 2M], [B, S, 2], [B, m]
  int64_t n = 0;
};

Batch make_batch(const PfnTrainerOptions& o, int B, int64_t n, Rng& rng) {
  const auto M = static_cast<size_t>(o.model.max_dim);
  const auto m = static_cast<size_t>(o.queries);
  const size_t S = static_cast<size_t>(n) + m;
  Batch b;
  b.n = n;
  b.x = torch::zeros({B, static_cast<int64_t>(S), static_cast<int64_t>(2 * M)}, torch::kFloat32);
  b.yin = torch::zeros({B, static_cast<int64_t>(S), 2}, torch::kFloat32);
  b.target = torch::zeros({B, static_cast<int64_t>(m)}, torch::kFloat32);
  float* xp = b.x.data_ptr<float>();
  float* yp = b.yin.data_ptr<float>();
  float* tp = b.target.data_ptr<float>();
  std::vector<double> pts, ys;
  for (int t = 0; t < B; ++t) {
    const auto d = static_cast<size_t>(o.min_dim) + uniform_below(rng, static_cast<size_t>(o.max_dim - o.min_dim + 1));
    GpPriorOptions p = o.prior;
    p.dim = static_cast<int>(d);
    const RffFunction f = sample_gp_function(p, rng);
    pts.assign(S * d, 0.0);
    const auto nn = static_cast<size_t>(n);
    for (size_t i = 0; i < nn * d; ++i) pts[i] = uniform01(rng);
    for (size_t q = 0; q < m; ++q) {
      double* row = pts.data() + (nn + q) * d;
      if (q < m / 2) {
        for (size_t k = 0; k < d; ++k) row[k] = uniform01(rng);
      } else {
        const double* base = pts.data() + uniform_below(rng, nn) * d;
        const double scale = std::pow(10.0, -2.5 + 2.0 * uniform01(rng));
        for (size_t k = 0; k < d; ++k) row[k] = std::clamp(base[k] + scale * standard_normal(rng), 0.0, 1.0);
      }
    }
    ys.resize(S);
    for (size_t i = 0; i < S; ++i) ys[i] = f.value(std::span<const double>(pts.data() + i * d, d));
    double mu = 0.0, var = 0.0;
    for (size_t i = 0; i < nn; ++i) mu += ys[i];
    mu /= static_cast<double>(nn);
    for (size_t i = 0; i < nn; ++i) var += (ys[i] - mu) * (ys[i] - mu);
    double sd = std::sqrt(var / static_cast<double>(nn));
    if (!(sd > 1e-12 * (1.0 + std::abs(mu)))) sd = 1.0;
    optim::learned::detail::encode_points(pts, d, o.model.max_dim, xp + static_cast<size_t>(t) * S * 2 * M);
    for (size_t i = 0; i < nn; ++i) {
      float* y = yp + (static_cast<size_t>(t) * S + i) * 2;
      y[0] = static_cast<float>(std::clamp((ys[i] - mu) / sd, -10.0, 10.0));
      y[1] = 1.0f;
    }
    for (size_t q = 0; q < m; ++q) {
      tp[static_cast<size_t>(t) * m + q] = static_cast<float>(std::clamp((ys[nn + q] - mu) / sd, -kMaxTarget, kMaxTarget));
    }
  }
  return b;
}

torch::Tensor nll(optim::learned::detail::PfnNet& net, const Batch& b) {
  const torch::Tensor out = net->forward(b.x, b.yin, b.n);
  const torch::Tensor mean = out.select(-1, 0), var = out.select(-1, 1);
  return (0.5 * (torch::log(var) + (b.target - mean).pow(2) / var)).mean();
}

}  // namespace

GpPriorOptions PfnTrainerOptions::default_prior() {
  GpPriorOptions p;
  p.min_lengthscale = 0.05;
  p.max_lengthscale = 0.5;
  p.anisotropy = 3.0;
  p.bump_fraction = 0.5;
  p.bump_background = 0.05;
  p.n_normalize = 64;
  return p;
}

void PfnTrainerOptions::validate() const {
  model.validate();
  GpPriorOptions p = prior;
  p.dim = max_dim;
  p.validate();
  MD_CHECK(min_dim >= 1 && min_dim <= max_dim && max_dim <= model.max_dim, "meta-train pfn: dimensions [", min_dim, ", ",
           max_dim, "] must lie in [1, ", model.max_dim, "]");
  MD_CHECK(min_history >= 1 && min_history <= max_history && max_history <= 10000,
           "meta-train pfn: history sizes [", min_history, ", ", max_history, "] must satisfy 1 <= min <= max <= 10000");
  MD_CHECK(queries >= 2 && queries <= 10000, "meta-train pfn: --queries must be in [2, 10000], got ", queries);
  MD_CHECK(batch >= 1 && batch <= 100000, "meta-train pfn: --batch must be in [1, 100000], got ", batch);
  MD_CHECK(learning_rate > 0 && std::isfinite(learning_rate), "meta-train pfn: --lr must be positive, got ",
           learning_rate);
  MD_CHECK(warmup >= 0, "meta-train pfn: warmup must be >= 0, got ", warmup);
  MD_CHECK(iterations >= 0 && minutes >= 0 && std::isfinite(minutes), "meta-train pfn: --iterations and --minutes must be >= 0");
  MD_CHECK(iterations > 0 || minutes > 0, "meta-train pfn: give --iterations N or --minutes M (or both: whichever ends first)");
  MD_CHECK(checkpoint_minutes > 0, "meta-train pfn: checkpoint interval must be positive, got ", checkpoint_minutes);
  MD_CHECK(n_validation >= 1, "meta-train pfn: validation tasks must be >= 1, got ", n_validation);
}

nlohmann::json PfnTrainerOptions::prior_card() const {
  const double f = prior.dim_scaled ? 1.0 : 0.0;
  std::vector<std::string> kernels;
  for (PriorKernel k : prior.kernels) kernels.emplace_back(to_string(k));
  nlohmann::json gp = {
      {"family", "gp"},
      {"probability", 1.0 - prior.bump_fraction},
      {"form", "random Fourier features of a stationary GP sample, normalized to mean 0, sd 1"},
      {"kernels", kernels},
      {"features", prior.n_features},
      {"lengthscale", {prior.min_lengthscale, prior.max_lengthscale}},
      {"lengthscale_times_sqrt_d", f > 0},
      {"per_dimension_factor", {1.0 / prior.anisotropy, prior.anisotropy}},
      {"variance", {prior.min_variance, prior.max_variance}}};
  nlohmann::json bumps = {
      {"family", "bumps"},
      {"probability", prior.bump_fraction},
      {"form", "sum of n axis-aligned Gaussian bumps w exp(-|(x - c) / s|^2 / 2) plus background x a gp-family "
               "sample, normalized to mean 0, sd 1"},
      {"bumps", {1, prior.max_bumps}},
      {"centre", "uniform in the cube"},
      {"width", {prior.min_bump_width, prior.max_bump_width}},
      {"weight", "basin -U[0.3, 1] with probability 0.8, hill +U[0.3, 1] otherwise"},
      {"background", prior.bump_background}};
  return {{"families", {gp, bumps}},
          {"dims", {min_dim, max_dim}},
          {"history", {min_history, max_history}},
          {"history_points", "uniform in the cube"},
          {"queries", queries},
          {"query_points", "half uniform in the cube, half history points plus N(0, s^2), s = 10^U[-2.5, -0.5]"},
          {"benchmarks", "none of the named benchmarks (Branin, Currin, Gramacy-Lee, Hartmann) is in any family"}};
}

double pfn_validation_nll(const PfnModel& model, const PfnTrainerOptions& o, int n, uint64_t seed) {
  static constexpr int64_t kSizes[] = {2, 5, 10, 20, 40, 60};
  Rng rng(seed);
  torch::NoGradGuard no_grad;
  double total = 0.0;
  int done = 0, g = 0;
  while (done < n) {
    const int b = std::min(16, n - done);
    const int64_t h = std::clamp<int64_t>(kSizes[g++ % 6], o.min_history, o.max_history);
    const Batch batch = make_batch(o, b, h, rng);
    total += nll(model.impl().net, batch).item<double>() * b;
    done += b;
  }
  return total / n;
}

PfnModel train_pfn(const PfnTrainerOptions& o, const std::function<void(const PfnProgress&)>& on_progress) {
  o.validate();
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };

  PfnModel model(o.model, derive_seed(o.seed, {1}));
  nlohmann::json init_card = nlohmann::json::object();
  if (!o.init.empty()) {
    PfnModel from = PfnModel::load(o.init);
    MD_CHECK(from.options().to_json() == o.model.to_json(), "meta-train pfn: --init '", o.init, "' has sizes ",
             from.options().to_json().dump(), ", this run ", o.model.to_json().dump(), " (give the same sizes)");
    init_card = from.card();
    model = std::move(from);
  }
  const int64_t iterations_before = init_card.value("iterations_run", int64_t{0});
  const double seconds_before = init_card.value("train_seconds", 0.0);
  optim::learned::detail::PfnNet& net = model.impl().net;
  net->train();
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(o.learning_rate));
  Rng rng(derive_seed(o.seed, {2, static_cast<uint64_t>(iterations_before)}));
  const uint64_t validation_seed = derive_seed(0, {stream("pfn-val")});

  double validation = std::numeric_limits<double>::quiet_NaN();
  int64_t it = 0;
  double running = 0.0;
  const auto fill_card = [&](bool final_card) {
    nlohmann::json card = o.card_extra.is_object() ? o.card_extra : nlohmann::json::object();
    card["created_by"] = "metadial meta-train pfn";
    card["options"] = o.model.to_json();
    card["n_parameters"] = model.n_parameters();
    card["prior"] = o.prior_card();
    card["output"] = "Gaussian (mean, variance) of the standardized value, trained by negative log-likelihood";
    card["batch"] = o.batch;
    card["learning_rate"] = o.learning_rate;
    card["warmup"] = o.warmup;
    card["seed"] = o.seed;
    card["init"] = o.init;
    card["iterations_run"] = iterations_before + it;
    card["iterations_this_run"] = it;
    card["train_seconds"] = seconds_before + elapsed();
    card["validation_nll"] = validation;
    card["validation_tasks"] = o.n_validation;
    card["finished"] = final_card;
    if (!init_card.empty()) card["init_card"] = init_card;
    model.set_card(card);
  };
  const auto write_checkpoint = [&](bool final_card) {
    net->eval();
    validation = pfn_validation_nll(model, o, o.n_validation, validation_seed);
    net->train();
    fill_card(final_card);
    if (!o.checkpoint.empty()) {
      model.save(o.checkpoint);
      write_file_atomically(std::filesystem::path(o.checkpoint).replace_extension(".json").string(),
                            model.card().dump(2) + "\n");
    }
    if (on_progress) on_progress({it, running, elapsed(), true, validation});
  };

  double next_checkpoint = o.checkpoint_minutes * 60.0;
  const double limit_s = o.minutes * 60.0;
  for (;; ++it) {
    const double t = elapsed();
    if ((o.iterations > 0 && it >= o.iterations) || (limit_s > 0 && t >= limit_s)) break;
    double frac = 0.0;
    if (o.iterations > 0) frac = std::max(frac, static_cast<double>(it) / static_cast<double>(o.iterations));
    if (limit_s > 0) frac = std::max(frac, t / limit_s);
    const double warm = o.warmup > 0 ? std::min(1.0, static_cast<double>(it + 1) / o.warmup) : 1.0;
    nn::set_learning_rate(adam, warm * nn::cosine_learning_rate(o.learning_rate, 0.1 * o.learning_rate, frac));

    const auto n = static_cast<int64_t>(o.min_history) +
                   static_cast<int64_t>(uniform_below(rng, static_cast<size_t>(o.max_history - o.min_history + 1)));
    const Batch b = make_batch(o, o.batch, n, rng);
    const torch::Tensor loss = nll(net, b);
    adam.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
    adam.step();
    const double l = loss.item<double>();
    running = it == 0 ? l : 0.98 * running + 0.02 * l;
    if (on_progress && (it + 1) % 20 == 0) on_progress({it + 1, running, elapsed(), false, validation});
    if (elapsed() >= next_checkpoint) {
      ++it;  // this iteration is done
      write_checkpoint(false);
      --it;
      next_checkpoint = elapsed() + o.checkpoint_minutes * 60.0;
    }
  }
  write_checkpoint(true);
  net->eval();
  return model;
}

}  // namespace metadial::meta
