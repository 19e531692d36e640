// Meta-training of the PFN surrogate (optim/learned/pfn.h) on functions drawn from the learned
// optimizers' prior (meta/gp_prior.h): prior-data fitting (Müller et al. 2022).
//
// Each iteration draws `batch` tasks. A task: d uniform in [min_dim, max_dim], a function f from
// the prior at that d (GP samples with probability 1 - bump_fraction, Gaussian-bump sums on a
// faint GP background otherwise), n history points uniform in the cube (n uniform in
// [min_history, max_history], one n per batch) and `queries` query points, half uniform in the
// cube and half perturbations of history points (sd 10^U[-2.5, -0.5] cube widths: the
// neighbourhoods an acquisition search refines). Values are standardized by the history's mean and
// sd (as PfnModel::predict does); the loss is the mean Gaussian negative log-likelihood of the
// queries' standardized values (clipped to +-20) under the network's predictions. Adam, gradient
// norm clipped at 1, learning rate warmed up linearly over `warmup` iterations then decayed by a
// cosine to a tenth over the run (its length: `iterations`, or the time limit).
//
// Checkpoints: the model (with its card) is written to `checkpoint` every checkpoint_minutes and
// at the end, so a run stopped at any point leaves a usable model; `init` continues from a model
// file of the same sizes and counts its iterations and seconds in the card.
//
// The benchmark functions of the project (Branin, Hartmann, ...) are never drawn: the prior's
// families are the card's, none holds a named benchmark's closed form.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "metadial/meta/gp_prior.h"
#include "metadial/optim/learned/pfn.h"

namespace metadial::meta {

/// Settings of train_pfn().
struct PfnTrainerOptions {
  optim::learned::PfnOptions model;
  /// The function prior (dim is drawn per task). Defaults: the learned optimizers' default prior
  /// (lengthscales 0.05..0.5 times sqrt(d), anisotropy 3, bump background 0.05), with half of the
  /// functions plain GP samples and half Gaussian-bump sums.
  GpPriorOptions prior = default_prior();
  int min_dim = 1, max_dim = 6;         ///< d uniform in [min_dim, max_dim] (max_dim <= model.max_dim)
  int min_history = 2, max_history = 60;  ///< n uniform in this range, one per batch
  int queries = 48;                     ///< query points per task
  int batch = 32;                       ///< tasks per iteration
  double learning_rate = 1e-3;
  int warmup = 200;                     ///< iterations of linear learning-rate warm-up
  int64_t iterations = 0;               ///< stop after this many iterations of this run (0: no limit)
  double minutes = 0.0;                 ///< stop after this many minutes (0: no limit)
  double checkpoint_minutes = 5.0;      ///< minutes between checkpoints
  int n_validation = 128;               ///< held-out tasks (fixed seed) for the validation NLL
  std::string init;                     ///< continue from this model file ("" : fresh weights)
  std::string checkpoint;               ///< where checkpoints are written ("" : none)
  uint64_t seed = 0;
  nlohmann::json card_extra = nlohmann::json::object();  ///< fields added to the card (command, model)

  static GpPriorOptions default_prior();
  /// Throws InvalidArgument on out-of-range values or when neither iterations nor minutes is set.
  void validate() const;
  /// The card's description of the prior: every family with its parameter ranges.
  nlohmann::json prior_card() const;
};

/// What the progress callback sees.
struct PfnProgress {
  int64_t iteration = 0;          ///< of this run
  double loss = 0.0;              ///< mean training NLL over the last iterations
  double elapsed_s = 0.0;
  bool checkpoint = false;        ///< a checkpoint was just written (validation_nll is fresh)
  double validation_nll = 0.0;
};

/// Trains (or continues training) a PFN; returns it with its card filled in (options, prior,
/// iterations_run and train_seconds including an `init` model's, validation NLL). Throws
/// InvalidArgument on bad options or an unusable `init` file.
optim::learned::PfnModel train_pfn(const PfnTrainerOptions& options,
                                   const std::function<void(const PfnProgress&)>& on_progress = {});

/// Mean Gaussian NLL of `model` over `n` tasks drawn with `seed` from the options' prior (the
/// validation measure; tasks of one n per 16).
double pfn_validation_nll(const optim::learned::PfnModel& model, const PfnTrainerOptions& options, int n,
                          uint64_t seed);

}  // namespace metadial::meta
