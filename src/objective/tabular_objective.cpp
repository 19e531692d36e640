// The tabular objective: a configuration's response looked up in a data set's table.
#include <filesystem>

#include "metadial/core/config.h"
#include "metadial/core/error.h"
#include "metadial/objective/registry.h"
#include "metadial/objective/tabular.h"

namespace metadial::objective {

TabularObjective::TabularObjective(std::shared_ptr<const TabularGrid> grid, TabularDataset dataset)
    : grid_(std::move(grid)), dataset_(std::move(dataset)) {
  MD_CHECK(grid_ != nullptr, "tabular objective: no grid");
  MD_CHECK(dataset_.responses.size() == grid_->size(), "tabular objective: data set '", dataset_.name, "' has ",
           dataset_.responses.size(), " responses for a grid of ", grid_->size(), " configurations");
}

Evaluation TabularObjective::evaluate(const space::Config& config, int fidelity, Reporter&) {
  MD_CHECK(fidelity == 0, "tabular objective '", name(), "' has one fidelity (0), got ", fidelity);
  return Evaluation{dataset_.responses[grid_->row_of(config)], 1.0};
}

std::string TabularObjective::name() const { return "tabular:" + grid_->layout().model + "/" + dataset_.name; }

std::unique_ptr<TabularObjective> make_tabular_objective(const nlohmann::json& options) {
  // Options come through the API: unknown keys and wrong types are InvalidArgument, worded by the config reader.
  const config::Table t = config::rethrow_as<InvalidArgument>([&] {
    config::Table table = config::Table::from_json(options, "objective 'tabular'", "[objective]");
    table.expect_keys({"metadata", "dataset", "layout"});
    return table;
  });
  auto str = [&](const char* key) { return config::rethrow_as<InvalidArgument>([&] { return t.string(key); }); };
  const auto metadata = str("metadata");
  MD_CHECK(metadata.has_value(), "objective 'tabular' needs metadata = \"PATH\" (a data-set file of a benchmark such as "
                                 "../shared/data/hpo-metadata/svm/A9A, or the folder together with dataset = \"NAME\")");
  const auto dataset = str("dataset");
  std::optional<TabularLayout> layout;
  if (auto l = str("layout")) layout = TabularLayout::from_file(*l);

  namespace fs = std::filesystem;
  MD_CHECK(fs::exists(*metadata), "objective 'tabular': metadata path '", *metadata,
           "' does not exist (relative paths are taken from the working directory)");
  if (fs::is_directory(*metadata)) {
    MD_CHECK(dataset.has_value(), "objective 'tabular': metadata '", *metadata,
             "' is a folder: name the data set with dataset = \"NAME\" (one of its files)");
    TabularBenchmark b = load_tabular_benchmark(*metadata, layout);
    const size_t i = b.index_of(*dataset);
    return std::make_unique<TabularObjective>(b.grid, std::move(b.datasets[i]));
  }
  TabularBenchmark b = load_tabular_file(*metadata, layout);
  MD_CHECK(!dataset || *dataset == b.datasets[0].name, "objective 'tabular': dataset = \"", dataset.value_or(""),
           "\" but metadata names the file '", *metadata, "'; give either a file, or a folder and a data set");
  return std::make_unique<TabularObjective>(b.grid, std::move(b.datasets[0]));
}

void register_tabular_objective(ObjectiveRegistry& registry) {
  registry.add("tabular", [](const ObjectiveOptions& options) -> std::unique_ptr<Objective> {
    return make_tabular_objective(options);
  });
}

}  // namespace metadial::objective
