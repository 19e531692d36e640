// The Hyp-RL policy (Jomaa, Grabocka & Schmidt-Thieme 2019): which configuration of a grid to
// evaluate next, given the data set's meta-features and what has been tried so far.
//
//   state   an LSTM reads a start token, then one step per evaluated configuration:
//           [standardized grid features of the row, its response, start flag, meta-features]
//   action  a row of the grid; rows already tried are masked out
//   Q       an MLP on [LSTM state, meta-features] gives one Q-value per row
//
// Responses enter the network as utilities, larger = better (the response, negated for a
// layout that minimizes). A policy is bound to the grid it was trained on (stored with it) and
// to its number of meta-features (0 when trained without them).
//
// This header is torch-free (pimpl); the network lives in src/optim/hyprl/.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/objective/tabular.h"

namespace metadial::optim::hyprl {

/// Sizes of the policy network.
struct PolicyOptions {
  int lstm_hidden = 64;            ///< LSTM state size
  int head_hidden = 128;           ///< hidden layer of the Q head
  bool use_meta_features = true;   ///< false: the network sees no meta-features

  /// Throws InvalidArgument on a non-positive size.
  void validate() const;
  nlohmann::json to_json() const;
  static PolicyOptions from_json(const nlohmann::json& j);
};

/// One evaluated configuration: a grid row and its response (in the layout's own units).
struct Observation {
  size_t row = 0;
  double response = 0.0;
};

/// A Q-network over a grid's configurations. Move-only. q_values() and choose() are const and
/// may be called from several threads at once (they take an internal lock).
class Policy {
 public:
  /// A freshly initialized network for `grid`, reading `n_meta_features` meta-features (ignored
  /// when options.use_meta_features is false). Weights from `seed`.
  Policy(objective::TabularGrid grid, int n_meta_features, PolicyOptions options, uint64_t seed);
  ~Policy();
  Policy(Policy&&) noexcept;
  Policy& operator=(Policy&&) noexcept;
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  const objective::TabularGrid& grid() const;
  const PolicyOptions& options() const;
  /// Meta-features the network reads: 0 when trained without them.
  int n_meta_features() const;

  /// Q-value of every grid row after `history` (rows already in the history get -infinity).
  /// `meta_features` must have n_meta_features() values (InvalidArgument otherwise).
  std::vector<double> q_values(std::span<const Observation> history, std::span<const double> meta_features) const;
  /// The row with the highest Q-value among those in neither `history` nor `also_tried` (the
  /// lowest such row on a tie); nullopt when every row is taken.
  std::optional<size_t> choose(std::span<const Observation> history, std::span<const double> meta_features,
                               std::span<const size_t> also_tried = {}) const;

  /// Free-form description stored with the model (training data, options, time).
  const nlohmann::json& card() const;
  void set_card(nlohmann::json card);

  /// Writes the network, its grid and card to one checksummed model file (nn/model_file.h, magic
  /// METADIAL-HYPRL), atomically. Throws StorageError when it cannot be written.
  void save(const std::string& path) const;
  /// Reads a file written by save(). Throws InvalidArgument naming the file when it does not
  /// exist, DataError (one line naming the file) when it is not a Hyp-RL model, is cut short,
  /// altered (checksum, grid fingerprint), or its weights do not fit the sizes its header gives.
  static Policy load(const std::string& path);

  struct Impl;
  /// The implementation (network and tensors), for the trainer.
  Impl& impl() const { return *impl_; }

 private:
  explicit Policy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Runs a policy greedily on a data set for `n` trials: the first row is `first` if given, else
/// the policy's own choice. Returns the rows in the order tried (at most grid().size()).
std::vector<size_t> run_policy(const Policy& policy, const objective::TabularDataset& dataset, int n,
                               std::optional<size_t> first = std::nullopt);

}  // namespace metadial::optim::hyprl
