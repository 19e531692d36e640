// The two-level LSTM black-box optimizer (the meta-learned multi-fidelity BO of the paper in
// shared/seeds/000, after Chen et al. 2017): which point, and at which fidelity, to evaluate next.
//
//   level 1  LSTM(hidden) reads, per step, [x_{t-1}, y~_{t-1}, gap_{t-1}, m~_{t-1}, first]:
//            the previous point (unit cube), its value normalized online (y~ = (y - mean)/sd over
//            the values seen so far, gap = (y - min)/sd, both clipped to [-5, 5]; 0 while sd is 0),
//            its fidelity m / (M - 1) (1 for single-fidelity models) and a start flag (1 only at
//            the first step, where everything else is 0). A linear head gives a Gaussian N(mu, sd^2)
//            over u in R^d; the proposal is x_t = sigmoid(u) (squashed into the unit cube).
//            Proposal::kIncumbent (issue 14): the input also holds the incumbent x* (the best point
//            observed at the highest fidelity observed so far; the cube's centre before any), and
//            the head's mean is relative to it: u = logit(x*) + head_mu (logit clamped to +-8), so
//            a head output of 0 proposes around the incumbent and the log-sd sets how far, in the
//            logit space of the cube (steps shrink near the faces instead of piling up on them).
//   level 2  (M > 1 only) LSTM(fidelity_hidden) reads [x_t, spent_{t-1} / cost_scale] (the
//            paper's input x_t, plus the cost spent so far, which the budget loss needs), and a
//            linear head gives a categorical distribution over the M fidelities (cheapest first).
//
// A model is tied to its dimension d and its number of fidelities M (stored with it). Rollout
// runs the networks one step at a time in plain C++ (a few microseconds a step; no LibTorch
// call), which is what the `lstm` / `lstm-mf` samplers and the evaluations use; the trainer runs
// the same networks batched in LibTorch. This header is torch-free (pimpl).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace metadial::optim::learned {

/// Where the first level's proposal is centred.
enum class Proposal {
  kAbsolute,   ///< u = head_mu (the paper's and Chen et al.'s parameterization)
  kIncumbent,  ///< u = logit(x*) + head_mu, x* an input too (see the header comment)
};
/// "absolute" | "incumbent".
const char* to_string(Proposal proposal);
/// Parses to_string()'s names; throws InvalidArgument naming the known ones.
Proposal proposal_from_string(const std::string& name);

/// logit(x) clamped to [-kMaxLogit, kMaxLogit]: the incumbent's offset in u.
inline constexpr double kMaxLogit = 8.0;
double clamped_logit(double x);

/// Whether an observation (fidelity m, value y) replaces the incumbent (best_m, best_y; best_m = -1
/// before any): a higher fidelity than the incumbent's always does, the same fidelity when lower.
inline bool replaces_incumbent(int m, double y, int best_m, double best_y) {
  return m > best_m || (m == best_m && y < best_y);
}

/// Sizes and the fidelity setting of a model.
struct ModelOptions {
  int dim = 1;              ///< d, 1..16
  int fidelities = 1;       ///< M; 1 = single fidelity (no second-level network)
  int hidden = 64;          ///< first-level LSTM state size (the paper's notebooks: 64)
  int fidelity_hidden = 32; ///< second-level LSTM state size
  std::vector<double> costs = {1.0};  ///< cost of each fidelity, cheapest first (size M)
  double cost_scale = 1.0;  ///< spent cost is divided by this for the second-level input
  Proposal proposal = Proposal::kAbsolute;  ///< a file without the field: kAbsolute

  /// Throws InvalidArgument on out-of-range values.
  void validate() const;
  nlohmann::json to_json() const;
  static ModelOptions from_json(const nlohmann::json& j);
  /// Input size of the first-level LSTM: dim + 4 (kAbsolute), 2 dim + 4 (kIncumbent).
  int input_size() const { return proposal == Proposal::kIncumbent ? 2 * dim + 4 : dim + 4; }
};

/// Running statistics of the values seen in one optimization run, giving the network's inputs.
struct OnlineNormalizer {
  int64_t n = 0;
  double sum = 0.0, sum_sq = 0.0, min = 0.0;
  /// Adds y; returns (y~, gap) as defined in the header comment.
  std::pair<double, double> add(double y);
};

/// A meta-learned optimizer (both levels). Move-only.
class LearnedOptimizer {
 public:
  /// Fresh weights (PyTorch's default uniform init, drawn from metadial's generator with `seed`).
  LearnedOptimizer(ModelOptions options, uint64_t seed);
  ~LearnedOptimizer();
  LearnedOptimizer(LearnedOptimizer&&) noexcept;
  LearnedOptimizer& operator=(LearnedOptimizer&&) noexcept;
  LearnedOptimizer(const LearnedOptimizer&) = delete;
  LearnedOptimizer& operator=(const LearnedOptimizer&) = delete;

  const ModelOptions& options() const;
  int dim() const { return options().dim; }
  int n_fidelities() const { return options().fidelities; }
  /// Number of trainable parameters.
  int64_t n_parameters() const;

  /// Free-form description stored with the model (command, seed, training time, regret).
  const nlohmann::json& card() const;
  void set_card(nlohmann::json card);

  /// Writes the networks, options and card to one checksummed model file (nn/model_file.h,
  /// magic METADIAL-LEARNED-OPTIMIZER), atomically. Throws StorageError when it cannot be written.
  void save(const std::string& path) const;
  /// Reads a file written by save(). Throws InvalidArgument naming the file when it does not
  /// exist, DataError (one line naming the file) when it is not a learned-optimizer model, is cut
  /// short, altered (checksum), or its weights do not fit the sizes its header gives.
  static LearnedOptimizer load(const std::string& path);

  /// Copies the (possibly just trained) LibTorch weights into the plain C++ copy Rollout uses.
  void refresh_inference_weights();

  struct Impl;
  /// The implementation (LibTorch networks), for the trainer.
  Impl& impl() const { return *impl_; }

 private:
  explicit LearnedOptimizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// One optimization run of a model, a step at a time, in plain C++. Copyable (a snapshot of the
/// run's state); borrows the model, which must outlive it.
///
///   propose()          -> mean and sd of u for the next point (runs level 1 once per step)
///   fidelity_probs(x)  -> probabilities of the fidelities for that point (level 2)
///   observe(x, m, y)   -> records the evaluation and moves to the next step
class Rollout {
 public:
  explicit Rollout(const LearnedOptimizer& model);

  /// The Gaussian over u (x = sigmoid(u)) of the next proposal: mean then sd, each of size dim.
  /// The mean includes the incumbent's logit for Proposal::kIncumbent models.
  void propose(std::span<double> mean, std::span<double> sd);
  /// Probabilities of the M fidelities (cheapest first) for point x (size dim). {1} when M = 1.
  std::vector<double> fidelity_probs(std::span<const double> x);
  /// Records that x (unit cube) was evaluated at fidelity m with value y (smaller = better).
  void observe(std::span<const double> x, int fidelity, double y);
  /// Steps observed so far.
  int64_t steps() const { return steps_; }

 private:
  void advance_level1();
  void level2(std::span<const double> x, std::vector<float>& h, std::vector<float>& c) const;

  const LearnedOptimizer* model_;
  std::vector<float> h1_, c1_, h2_, c2_, input_;
  std::vector<float> pending_h2_, pending_c2_, pending_x_;
  std::vector<float> mu_, sd_;
  bool proposed_ = false, level2_ready_ = false;
  OnlineNormalizer norm_;
  std::vector<double> best_x_;  ///< the incumbent x* (kIncumbent), the centre before any observation
  double best_y_ = 0.0;
  int best_m_ = -1;             ///< its fidelity; -1: none yet
  double spent_ = 0.0;
  int64_t steps_ = 0;
};

/// The squashing of the policy: 1 / (1 + exp(-u)).
double squash(double u);

}  // namespace metadial::optim::learned
