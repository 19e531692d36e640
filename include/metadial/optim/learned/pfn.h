// A prior-data fitted network (PFN; Müller et al. 2022, "Transformers can do Bayesian inference";
// for BO: PFNs4BO, Müller et al. 2023): a small transformer meta-trained on functions drawn from
// the same prior as the learned optimizers (meta/gp_prior.h) that reads a history of observations
// and a batch of query points and returns, in one forward pass, each query's posterior predictive
// mean and variance: a learned surrogate for Bayesian optimization (the `pfn` sampler).
//
//   tokens   one per history point and one per query: [x padded to max_dim (x - 1/2, 0 in the
//            padding), a mask of the d active dimensions] through a linear x-encoder, plus, through
//            a linear y-encoder, [y~, 1] for a history point (y~ = its standardized value) and
//            [0, 0] for a query. No positional encoding: the history is a set.
//   layers   `layers` pre-norm transformer blocks (multi-head attention, GELU feed-forward of
//            width ffn). Attention is masked: a history token attends to the history; a query
//            attends to the history and to itself, never to another query, so each query's
//            prediction is independent of which other queries share its batch, and the history's
//            keys and values are computed once for any number of queries.
//   output   per query a Gaussian N(mean, variance) of its standardized value, variance =
//            softplus(raw) + 1e-4; trained by its negative log-likelihood. A Gaussian (not the
//            paper's Riemann "bar" distribution) because BO needs only the first two moments for
//            expected improvement (optim/acquisition.h, in closed form), the prior's posteriors
//            are close to Gaussian (GP samples; bumps on a faint GP background), and two outputs
//            keep the model and its training small.
//   scaling  predict() standardizes the history's values by their mean and sd (sd 1 when it is 0)
//            and maps the outputs back: the model is invariant to the loss's scale and offset.
//
// One model serves d = 1..max_dim (padded inputs). Saved in the project's checksummed model
// file format (nn/model_file.h, magic METADIAL-PFN). This header is torch-free (pimpl).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "metadial/optim/surrogate.h"

namespace metadial::optim::learned {

/// A history a PFN is conditioned on: every layer's keys and values of its tokens (pfn.cpp).
struct PfnHistory;

/// Sizes of a PFN.
struct PfnOptions {
  int max_dim = 6;  ///< largest input dimension (inputs of fewer dimensions are padded)
  int width = 64;   ///< token width E
  int layers = 4;   ///< transformer blocks
  int heads = 4;    ///< attention heads (divides width)
  int ffn = 128;    ///< feed-forward width

  /// Throws InvalidArgument on out-of-range values.
  void validate() const;
  nlohmann::json to_json() const;
  static PfnOptions from_json(const nlohmann::json& j);
};

/// A PFN surrogate model. Move-only.
class PfnModel {
 public:
  /// Fresh weights drawn from metadial's generator with `seed` (Linear layers: LibTorch's default
  /// initialization; layer norms: 1 and 0).
  PfnModel(PfnOptions options, uint64_t seed);
  ~PfnModel();
  PfnModel(PfnModel&&) noexcept;
  PfnModel& operator=(PfnModel&&) noexcept;
  PfnModel(const PfnModel&) = delete;
  PfnModel& operator=(const PfnModel&) = delete;

  const PfnOptions& options() const;
  int max_dim() const { return options().max_dim; }
  int64_t n_parameters() const;

  /// Free-form description stored with the model (command, prior, training time, iterations).
  const nlohmann::json& card() const;
  void set_card(nlohmann::json card);

  /// Writes the network, options and card to one checksummed model file, atomically. Throws
  /// StorageError when it cannot be written.
  void save(const std::string& path) const;
  /// Reads a file written by save(). InvalidArgument naming the file when it does not exist;
  /// DataError (one line naming the file) when it is not a PFN model, is cut short, altered, or
  /// its weights do not fit the sizes its header gives.
  static PfnModel load(const std::string& path);

  /// Posterior predictive mean and variance at m query points `xq` (m x dim, row-major) given n >= 1
  /// observations (x: n x dim, y: n), in the units of y. dim in 1..max_dim, points in the unit
  /// cube. One forward pass; thread-safe (no state changes). Throws InvalidArgument on sizes.
  void predict(size_t dim, std::span<const double> x, std::span<const double> y, std::span<const double> xq,
               std::span<double> means, std::span<double> variances) const;
  /// The history's part of predict(), once, for many batches of queries (the history's tokens never
  /// attend to queries, so their keys and values do not depend on them).
  std::shared_ptr<const PfnHistory> condition(size_t dim, std::span<const double> x, std::span<const double> y) const;
  /// predict() on a conditioned history: the same numbers.
  void predict(const PfnHistory& history, std::span<const double> xq, std::span<double> means,
               std::span<double> variances) const;

  struct Impl;
  /// The implementation (LibTorch network), for the trainer.
  Impl& impl() const { return *impl_; }

 private:
  explicit PfnModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A PfnModel conditioned on a history: the Surrogate the acquisition search reads. Borrows the
/// model, which must outlive it.
class PfnSurrogate final : public Surrogate {
 public:
  /// x: n x dim row-major, y: n values (n >= 1); conditions the model on them once.
  PfnSurrogate(const PfnModel& model, size_t dim, std::span<const double> x, std::span<const double> y);
  size_t dim() const override { return dim_; }
  void predict_batch(std::span<const double> xs, std::span<double> means, std::span<double> variances) const override;

 private:
  const PfnModel* model_;
  size_t dim_;
  std::shared_ptr<const PfnHistory> history_;
};

}  // namespace metadial::optim::learned
