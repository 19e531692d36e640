// Tabular HPO benchmarks: the responses of one grid of configurations on many data sets, read
// from the meta-data format of ../shared/data/hpo-metadata/ (Wistuba, Schilling & Schmidt-Thieme),
// and the objective that looks a configuration's response up instead of training a model.
//
// Format: one file per data set, one line per configuration, libsvm-style sparse
//
//     accuracy idx:value idx:value ...        (a missing index is 0)
//
// whose columns are first the hyperparameter columns, then the data set's meta-features (the same
// on every line of a file). A small descriptor, `layout.toml` in the benchmark folder, says how
// many hyperparameter columns there are and what they mean; without one, the SVM layout of
// hpo-metadata/svm is assumed (TabularLayout::svm()):
//
//     model = "svm"                  # free text, shown in messages and model cards
//     response = "accuracy"          # what the first number of a line is
//     maximize = true                # larger responses are better
//     meta_features = 22             # columns after the hyperparameter columns
//     [[hyperparameter]]             # columns 0-2: one-hot block, one column per choice
//     name = "kernel"
//     choices = ["rbf", "polynomial", "linear"]
//     [[hyperparameter]]             # column 3: one numeric column
//     name = "C"
//     [[hyperparameter]]             # column 4
//     name = "gamma"
//     [[hyperparameter]]             # column 5; the file holds log10(degree), shown as 10^value
//     name = "degree"
//     scale = "log10"
//
// The grid as a search space (TabularGrid::space()): one categorical parameter per
// hyperparameter. A one-hot block gives its choices; a numeric column gives its distinct values,
// in increasing order, written with the fewest significant digits (at least 6) that keep them
// apart ("-0.833333", "0.25"; "2".."10" for a log10 column). Categorical choices are encoded in
// order, so a model over the unit cube (GP-BO) sees these values as ordered levels.
//
// Conditional hyperparameters: within the rows of one combination of one-hot choices (e.g. all
// "rbf" rows), a numeric column that takes a single value is *inactive* there (gamma for the
// polynomial and linear kernels, degree for rbf and linear). Its value is ignored when a
// configuration is looked up, so every point of the space decodes to a real grid row, and a
// grid row's canonical configuration (TabularGrid::config) holds the first (smallest) choice
// of each inactive parameter. A configuration whose active values are not a row of a grid that
// is not a full product maps to the nearest row of the same one-hot choices (fewest level
// steps summed over the active columns; the first such row on a tie).
//
// The meta-data loader lives here, in the torch-free objective module, rather than under meta/
// as DESIGN.md sketches, because meta/ is compiled into the LibTorch library: the tabular
// objective must work in `metadial tune` without LibTorch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/objective/objective.h"
#include "metadial/space/search_space.h"

namespace metadial::objective {

/// One hyperparameter of a tabular layout: a one-hot block (choices given) or one numeric column.
struct TabularHyperparameter {
  std::string name;
  std::vector<std::string> choices;  ///< non-empty: a one-hot block of choices.size() columns
  bool log10 = false;                ///< numeric only: the file holds log10 of the value
  /// Number of file columns it takes (choices.size(), or 1).
  int n_columns() const { return choices.empty() ? 1 : static_cast<int>(choices.size()); }
  bool operator==(const TabularHyperparameter&) const = default;
};

/// How the columns of a meta-data file are laid out (see the file comment).
struct TabularLayout {
  std::string model = "svm";
  std::string response = "accuracy";
  bool maximize = true;
  std::vector<TabularHyperparameter> hyperparameters;
  int n_meta_features = 0;

  /// The layout of ../shared/data/hpo-metadata/svm: kernel (rbf, polynomial, linear one-hot in
  /// columns 0-2), C (3), gamma (4), degree (5, log10), 22 meta-features (6-27), accuracy.
  static TabularLayout svm();
  /// Reads a descriptor file (TOML); throws DataError naming the file and line on a bad one.
  static TabularLayout from_file(const std::string& path);
  /// Throws InvalidArgument on an empty or duplicate name, fewer than 2 choices, a negative
  /// meta-feature count or no hyperparameter at all.
  void validate() const;

  int n_hyperparameter_columns() const;
  int n_columns() const { return n_hyperparameter_columns() + n_meta_features; }
  /// "0-5 hyperparameters (kernel 0-2, C 3, ...), 6-27 meta-features".
  std::string describe() const;

  nlohmann::json to_json() const;
  static TabularLayout from_json(const nlohmann::json& j);
  bool operator==(const TabularLayout&) const = default;
};

/// The grid of configurations shared by every data set of a benchmark. Immutable value type.
class TabularGrid {
 public:
  /// Builds the grid of `rows` (each the n_hyperparameter_columns() file values of one
  /// configuration). `source` names where the rows came from, for messages. Throws DataError
  /// on a one-hot block that is not one-hot, a row of the wrong size or two equal rows
  /// (naming `source` and, when `lines` is given, the lines).
  TabularGrid(TabularLayout layout, std::vector<std::vector<double>> rows, const std::string& source = "grid",
              std::span<const int> lines = {});

  const TabularLayout& layout() const { return layout_; }
  /// Number of configurations (rows).
  size_t size() const { return rows_.size(); }
  /// The file values of configuration `row` (n_hyperparameter_columns() numbers).
  const std::vector<double>& features(size_t row) const { return rows_.at(row); }
  const std::vector<std::vector<double>>& rows() const { return rows_; }

  /// The grid as a search space (one categorical parameter per hyperparameter).
  const space::SearchSpace& space() const { return space_; }
  /// The canonical configuration of a row (inactive parameters at their first choice).
  space::Config config(size_t row) const;
  /// The row a configuration of space() stands for (inactive parameters ignored; off-grid
  /// values to the nearest row). Throws InvalidArgument on a missing parameter or a value that
  /// is not one of the parameter's choices.
  size_t row_of(const space::Config& config) const;
  /// Whether hyperparameter `hp` is active in `row` (always true for a one-hot block).
  bool active(size_t row, size_t hp) const;
  /// The row whose file values are exactly `features`, if any.
  std::optional<size_t> find(std::span<const double> features) const;

  /// A 16-hex-digit hash of the layout's hyperparameters and the rows (order included).
  std::string fingerprint() const;
  /// "svm grid: 288 configurations of kernel, C, gamma, degree".
  std::string describe() const;

  nlohmann::json to_json() const;
  static TabularGrid from_json(const nlohmann::json& j);

 private:
  TabularLayout layout_;
  std::vector<std::vector<double>> rows_;
  // Per hyperparameter: its levels (numeric: sorted distinct active values; one-hot: choices).
  std::vector<std::vector<double>> levels_;
  // Per row and hyperparameter: choice / level index, -1 when inactive.
  std::vector<std::vector<int>> keys_;
  space::SearchSpace space_;
};

/// One data set of a benchmark: its responses on every grid row (in the grid's row order) and
/// its meta-features.
struct TabularDataset {
  std::string name;  ///< the file name
  std::string path;
  std::vector<double> responses;
  std::vector<double> meta_features;

  /// Largest / smallest response.
  double max_response() const;
  double min_response() const;
  /// The best response in the layout's direction.
  double best_response(bool maximize) const { return maximize ? max_response() : min_response(); }
};

/// A grid and the data sets measured on it.
struct TabularBenchmark {
  std::string path;  ///< the folder (or the single file) it was read from
  std::shared_ptr<const TabularGrid> grid;
  std::vector<TabularDataset> datasets;  ///< ordered by name

  /// Index of a data set by name; throws InvalidArgument listing a few names if absent.
  size_t index_of(const std::string& name) const;
  const TabularDataset& dataset(const std::string& name) const { return datasets[index_of(name)]; }
};

/// The layout for files in `dir`: dir/layout.toml if it exists, else TabularLayout::svm().
TabularLayout find_tabular_layout(const std::string& dir);

/// Reads every data-set file in `dir` (regular files, except hidden ones, the descriptor
/// layout.toml, README* and *.md / *.toml / *.json), with `layout` or find_tabular_layout(dir).
/// Throws DataError on a malformed line (file and line named), a file whose configurations are
/// not those of the first file (different grids cannot be mixed in one benchmark), meta-features
/// that change within a file, or a folder with no data set.
TabularBenchmark load_tabular_benchmark(const std::string& dir, std::optional<TabularLayout> layout = std::nullopt);

/// Reads one data-set file; the layout defaults to find_tabular_layout(its folder).
TabularBenchmark load_tabular_file(const std::string& path, std::optional<TabularLayout> layout = std::nullopt);

/// A directory: load_tabular_benchmark; a file: load_tabular_file. Throws InvalidArgument when
/// `path` does not exist.
TabularBenchmark load_tabular(const std::string& path, std::optional<TabularLayout> layout = std::nullopt);

/// Evaluating a configuration looks its response up in a data set's table. Cost 1 per trial.
/// Stateless after construction: evaluate() is thread-safe.
class TabularObjective final : public Objective {
 public:
  TabularObjective(std::shared_ptr<const TabularGrid> grid, TabularDataset dataset);

  /// {response of grid.row_of(config), 1}.
  Evaluation evaluate(const space::Config& config, int fidelity, Reporter& reporter) override;
  /// The grid's space.
  std::optional<space::SearchSpace> default_space() const override { return grid_->space(); }
  /// False for accuracy (the layout's `maximize`).
  bool minimize() const override { return !grid_->layout().maximize; }
  /// "tabular:svm/A9A".
  std::string name() const override;

  const TabularGrid& grid() const { return *grid_; }
  const TabularDataset& dataset() const { return dataset_; }
  /// The best response of the data set (a known optimum in the objective's own direction; not
  /// returned by known_optimum(), whose regret convention is best - optimum for minimization).
  double best_response() const { return dataset_.best_response(grid_->layout().maximize); }

 private:
  std::shared_ptr<const TabularGrid> grid_;
  TabularDataset dataset_;
};

/// Builds a TabularObjective from [objective] options:
///   metadata = "PATH"    a data-set file, or a benchmark folder together with
///   dataset  = "NAME"    the data set's file name in that folder
///   layout   = "PATH"    optional descriptor (default: layout.toml beside the data, else svm)
/// Relative paths are taken from the working directory. Throws InvalidArgument on unknown keys,
/// a missing path or data set, and DataError on malformed data.
std::unique_ptr<TabularObjective> make_tabular_objective(const nlohmann::json& options);

class ObjectiveRegistry;
/// Adds "tabular" (make_tabular_objective) to a registry. Kept apart from
/// register_builtin_objectives (the test functions) for now; `metadial tune` calls both.
void register_tabular_objective(ObjectiveRegistry& registry);

}  // namespace metadial::objective
