// Tabular benchmarks: layout descriptors, the grid, and the meta-data file loader.
#include "metadial/objective/tabular.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "metadial/core/config.h"
#include "metadial/core/error.h"
#include "metadial/core/hash.h"

namespace metadial::objective {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLayoutFile = "layout.toml";

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string range_text(int first, int last) {
  return first == last ? std::to_string(first) : fmt::format("{}-{}", first, last);
}

// The distinct values as text, with the fewest significant digits (>= 6) that keep them apart.
std::vector<std::string> level_names(const std::vector<double>& values) {
  for (int digits = 6; digits <= 17; ++digits) {
    std::vector<std::string> names;
    for (double v : values) names.push_back(fmt::format("{:.{}g}", v, digits));
    if (std::set<std::string>(names.begin(), names.end()).size() == names.size()) return names;
  }
  std::vector<std::string> names;
  for (double v : values) names.push_back(fmt::format("{}", v));
  return names;
}

std::string values_text(std::span<const double> v) {
  std::vector<std::string> parts;
  for (double x : v) parts.push_back(fmt::format("{:.6g}", x));
  return "(" + join(parts) + ")";
}

// ---- descriptor -------------------------------------------------------------------------------

// ---- data files -------------------------------------------------------------------------------

// One data-set file as read: per line, the hyperparameter columns, the response and the line.
struct RawTable {
  std::vector<std::vector<double>> features;
  std::vector<double> responses;
  std::vector<int> lines;
  std::vector<double> meta;
};

bool parse_double(std::string_view s, double& out) {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last && first != last;
}

RawTable read_table(const std::string& path, const TabularLayout& layout) {
  std::ifstream in(path);
  if (!in) throw DataError(detail::concat(path, ": cannot read the meta-data file"));
  const int n_hp = layout.n_hyperparameter_columns();
  const int n_cols = layout.n_columns();
  RawTable table;
  std::string text;
  int line_no = 0;
  int meta_line = 0;
  std::vector<double> values(static_cast<size_t>(n_cols));
  std::vector<char> seen(static_cast<size_t>(n_cols));
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    std::istringstream tokens(text);
    std::string token;
    if (!(tokens >> token)) continue;  // blank line
    auto fail = [&](const std::string& msg) { throw DataError(detail::concat(path, ":", line_no, ": ", msg)); };
    double response = 0.0;
    if (!parse_double(token, response) || !std::isfinite(response)) {
      fail(detail::concat("the ", layout.response, " '", token,
                          "' is not a finite number (expected a line `RESPONSE idx:value ...`)"));
    }
    std::fill(values.begin(), values.end(), 0.0);
    std::fill(seen.begin(), seen.end(), 0);
    while (tokens >> token) {
      const size_t colon = token.find(':');
      if (colon == std::string::npos) fail(detail::concat("'", token, "' is not of the form idx:value"));
      const std::string_view idx_text(token.data(), colon);
      const std::string_view value_text(token.data() + colon + 1, token.size() - colon - 1);
      long idx = -1;
      auto [ptr, ec] = std::from_chars(idx_text.data(), idx_text.data() + idx_text.size(), idx);
      if (ec != std::errc() || ptr != idx_text.data() + idx_text.size() || idx < 0 || idx_text.empty()) {
        fail(detail::concat("index '", idx_text, "' in '", token, "' is not a non-negative integer"));
      }
      if (idx >= n_cols) {
        fail(detail::concat("index ", idx, " is out of range: the ", layout.model, " layout has ", n_cols,
                            " columns (", layout.describe(), "); a ", kLayoutFile,
                            " beside the data describes another layout"));
      }
      double v = 0.0;
      if (!parse_double(value_text, v) || !std::isfinite(v)) {
        fail(detail::concat("value '", value_text, "' of index ", idx, " is not a finite number"));
      }
      const auto i = static_cast<size_t>(idx);
      if (seen[i]) fail(detail::concat("index ", idx, " appears twice"));
      seen[i] = 1;
      values[i] = v;
    }
    std::vector<double> meta(values.begin() + n_hp, values.end());
    if (table.responses.empty()) {
      table.meta = meta;
      meta_line = line_no;
    } else if (meta != table.meta) {
      size_t k = 0;
      while (meta[k] == table.meta[k]) ++k;
      fail(detail::concat("meta-feature ", k, " (index ", static_cast<int>(k) + n_hp, ") is ", meta[k], " but ",
                          table.meta[k], " on line ", meta_line,
                          "; the meta-features describe the data set and must be the same on every line"));
    }
    table.features.emplace_back(values.begin(), values.begin() + n_hp);
    table.responses.push_back(response);
    table.lines.push_back(line_no);
  }
  if (table.responses.empty()) throw DataError(detail::concat(path, ": no configuration (the file is empty)"));
  return table;
}

bool is_dataset_file(const fs::directory_entry& e) {
  if (!e.is_regular_file()) return false;
  const std::string name = e.path().filename().string();
  if (name.empty() || name[0] == '.' || name == kLayoutFile || name.rfind("README", 0) == 0) return false;
  const std::string ext = e.path().extension().string();
  return ext != ".md" && ext != ".toml" && ext != ".json";
}

}  // namespace

// ---- TabularLayout ------------------------------------------------------------------------------

TabularLayout TabularLayout::svm() {
  TabularLayout l;
  l.model = "svm";
  l.response = "accuracy";
  l.maximize = true;
  l.hyperparameters = {{"kernel", {"rbf", "polynomial", "linear"}, false},
                       {"C", {}, false},
                       {"gamma", {}, false},
                       {"degree", {}, true}};
  l.n_meta_features = 22;
  return l;
}

void TabularLayout::validate() const {
  MD_CHECK(!hyperparameters.empty(), "tabular layout '", model, "': no hyperparameter");
  MD_CHECK(n_meta_features >= 0, "tabular layout '", model, "': meta_features must be >= 0, got ", n_meta_features);
  std::set<std::string> names;
  for (const auto& h : hyperparameters) {
    MD_CHECK(!h.name.empty(), "tabular layout '", model, "': a hyperparameter has an empty name");
    MD_CHECK(names.insert(h.name).second, "tabular layout '", model, "': hyperparameter '", h.name, "' appears twice");
    MD_CHECK(h.choices.empty() || h.choices.size() >= 2, "tabular layout '", model, "': hyperparameter '", h.name,
             "' needs at least 2 choices for a one-hot block, got ", h.choices.size());
    MD_CHECK(h.choices.empty() || !h.log10, "tabular layout '", model, "': hyperparameter '", h.name,
             "' has choices, so it cannot be log10-scaled");
    std::set<std::string> c(h.choices.begin(), h.choices.end());
    MD_CHECK(c.size() == h.choices.size(), "tabular layout '", model, "': hyperparameter '", h.name,
             "' has duplicate choices");
  }
}

int TabularLayout::n_hyperparameter_columns() const {
  int n = 0;
  for (const auto& h : hyperparameters) n += h.n_columns();
  return n;
}

std::string TabularLayout::describe() const {
  std::vector<std::string> parts;
  int col = 0;
  for (const auto& h : hyperparameters) {
    parts.push_back(h.name + " " + range_text(col, col + h.n_columns() - 1));
    col += h.n_columns();
  }
  std::string out = range_text(0, col - 1) + " hyperparameters (" + join(parts) + ")";
  if (n_meta_features > 0) out += ", " + range_text(col, col + n_meta_features - 1) + " meta-features";
  return out;
}

TabularLayout TabularLayout::from_file(const std::string& path) {
  // A layout descriptor is part of the data: its errors are DataErrors, worded by the config reader.
  return config::rethrow_as<DataError>([&] {
    const config::Table root = config::load_toml(path);
    root.expect_keys({"model", "response", "maximize", "meta_features", "hyperparameter"});
    TabularLayout l;
    l.hyperparameters.clear();
    l.model = root.string("model").value_or("tabular");
    l.response = root.string("response").value_or("response");
    l.maximize = root.boolean("maximize").value_or(l.maximize);
    const int64_t n_meta = root.integer("meta_features").value_or(0);
    if (n_meta < 0 || n_meta > 100000) {
      root.invalid("meta_features", "must be an integer >= 0 (the number of meta-feature columns)");
    }
    l.n_meta_features = static_cast<int>(n_meta);
    const std::vector<config::Table> hps = root.tables("hyperparameter");
    if (hps.empty()) {
      root.fail_at("hyperparameter",
                   "the layout needs [[hyperparameter]] tables, one per hyperparameter, in column order");
    }
    for (const config::Table& t : hps) {
      t.expect_keys({"name", "choices", "scale"});
      TabularHyperparameter h;
      h.name = t.string("name").value_or("");
      if (h.name.empty()) t.missing("name", "a non-empty string");
      h.choices = t.strings("choices").value_or(std::vector<std::string>{});
      const std::string scale = t.string("scale").value_or("linear");
      if (scale != "linear" && scale != "log10") {
        t.invalid("scale", "must be \"linear\" or \"log10\", got \"" + scale + "\"");
      }
      h.log10 = scale == "log10";
      l.hyperparameters.push_back(std::move(h));
    }
    try {
      l.validate();
    } catch (const InvalidArgument& e) {
      root.fail(e.what());
    }
    return l;
  });
}

nlohmann::json TabularLayout::to_json() const {
  nlohmann::json hps = nlohmann::json::array();
  for (const auto& h : hyperparameters) {
    nlohmann::json j = {{"name", h.name}};
    if (!h.choices.empty()) j["choices"] = h.choices;
    if (h.log10) j["scale"] = "log10";
    hps.push_back(j);
  }
  return {{"model", model},
          {"response", response},
          {"maximize", maximize},
          {"meta_features", n_meta_features},
          {"hyperparameters", hps}};
}

TabularLayout TabularLayout::from_json(const nlohmann::json& j) {
  TabularLayout l;
  l.model = j.at("model").get<std::string>();
  l.response = j.at("response").get<std::string>();
  l.maximize = j.at("maximize").get<bool>();
  l.n_meta_features = j.at("meta_features").get<int>();
  l.hyperparameters.clear();
  for (const auto& h : j.at("hyperparameters")) {
    TabularHyperparameter hp;
    hp.name = h.at("name").get<std::string>();
    if (h.contains("choices")) hp.choices = h.at("choices").get<std::vector<std::string>>();
    hp.log10 = h.value("scale", std::string("linear")) == "log10";
    l.hyperparameters.push_back(std::move(hp));
  }
  l.validate();
  return l;
}

// ---- TabularGrid --------------------------------------------------------------------------------

TabularGrid::TabularGrid(TabularLayout layout, std::vector<std::vector<double>> rows, const std::string& source,
                         std::span<const int> lines)
    : layout_(std::move(layout)), rows_(std::move(rows)) {
  layout_.validate();
  MD_CHECK_AS(DataError, !rows_.empty(), source, ": the grid has no configuration");
  const auto n_hp = layout_.hyperparameters.size();
  const auto n_cols = static_cast<size_t>(layout_.n_hyperparameter_columns());
  auto where = [&](size_t r) {
    return r < lines.size() ? detail::concat(source, ":", lines[r]) : detail::concat(source, ": row ", r);
  };

  // One-hot blocks -> choice index; numeric columns -> value.
  std::vector<std::vector<int>> choice(rows_.size(), std::vector<int>(n_hp, -1));
  std::vector<std::vector<double>> value(rows_.size(), std::vector<double>(n_hp, 0.0));
  for (size_t r = 0; r < rows_.size(); ++r) {
    MD_CHECK_AS(DataError, rows_[r].size() == n_cols, where(r), ": ", rows_[r].size(),
                " hyperparameter values, expected ", n_cols);
    size_t col = 0;
    for (size_t h = 0; h < n_hp; ++h) {
      const auto& hp = layout_.hyperparameters[h];
      if (hp.choices.empty()) {
        value[r][h] = rows_[r][col++];
        continue;
      }
      int hot = -1;
      bool ok = true;
      for (size_t k = 0; k < hp.choices.size(); ++k) {
        const double v = rows_[r][col + k];
        if (v == 1.0) {
          ok = ok && hot < 0;
          hot = static_cast<int>(k);
        } else {
          ok = ok && v == 0.0;
        }
      }
      MD_CHECK_AS(DataError, ok && hot >= 0, where(r), ": columns ",
                  range_text(static_cast<int>(col), static_cast<int>(col + hp.choices.size()) - 1), " (", hp.name,
                  ") must be one-hot (one 1, the rest 0), got ",
                  values_text(std::span<const double>(rows_[r]).subspan(col, hp.choices.size())));
      choice[r][h] = hot;
      col += hp.choices.size();
    }
  }

  // Activity: a numeric column is inactive within a combination of one-hot choices where it
  // takes a single value.
  std::map<std::vector<int>, std::vector<size_t>> groups;
  for (size_t r = 0; r < rows_.size(); ++r) groups[choice[r]].push_back(r);
  std::vector<std::vector<char>> active(rows_.size(), std::vector<char>(n_hp, 1));
  levels_.assign(n_hp, {});
  for (size_t h = 0; h < n_hp; ++h) {
    if (!layout_.hyperparameters[h].choices.empty()) continue;
    std::set<double> all, used;
    for (const auto& [key, members] : groups) {
      std::set<double> vals;
      for (size_t r : members) vals.insert(value[r][h]);
      all.insert(vals.begin(), vals.end());
      if (vals.size() > 1) {
        used.insert(vals.begin(), vals.end());
      } else {
        for (size_t r : members) active[r][h] = 0;
      }
    }
    levels_[h].assign(used.empty() ? all.begin() : used.begin(), used.empty() ? all.end() : used.end());
  }

  keys_.assign(rows_.size(), std::vector<int>(n_hp, -1));
  std::map<std::vector<int>, size_t> seen;
  for (size_t r = 0; r < rows_.size(); ++r) {
    for (size_t h = 0; h < n_hp; ++h) {
      if (!layout_.hyperparameters[h].choices.empty()) {
        keys_[r][h] = choice[r][h];
      } else if (active[r][h]) {
        const auto& lv = levels_[h];
        keys_[r][h] = static_cast<int>(std::lower_bound(lv.begin(), lv.end(), value[r][h]) - lv.begin());
      }
    }
    auto [it, fresh] = seen.emplace(keys_[r], r);
    MD_CHECK_AS(DataError, fresh, where(r), ": the same configuration as ", where(it->second),
                " (each configuration must appear once)");
  }

  for (size_t h = 0; h < n_hp; ++h) {
    const auto& hp = layout_.hyperparameters[h];
    if (!hp.choices.empty()) {
      space_.add_categorical(hp.name, hp.choices);
      continue;
    }
    std::vector<double> shown = levels_[h];
    if (hp.log10) {
      for (double& v : shown) v = std::pow(10.0, v);
    }
    space_.add_categorical(hp.name, level_names(shown));
  }
}

space::Config TabularGrid::config(size_t row) const {
  MD_CHECK(row < rows_.size(), "grid row ", row, " out of range (", rows_.size(), " configurations)");
  space::Config c;
  for (size_t h = 0; h < layout_.hyperparameters.size(); ++h) {
    const auto& choices = std::get<space::CategoricalParam>(space_.param(h).dist).choices;
    c[layout_.hyperparameters[h].name] = choices[static_cast<size_t>(std::max(0, keys_[row][h]))];
  }
  return c;
}

bool TabularGrid::active(size_t row, size_t hp) const { return keys_.at(row).at(hp) >= 0; }

size_t TabularGrid::row_of(const space::Config& config) const {
  const size_t n_hp = layout_.hyperparameters.size();
  std::vector<int> want(n_hp, -1);
  for (size_t h = 0; h < n_hp; ++h) {
    const std::string& name = layout_.hyperparameters[h].name;
    auto it = config.find(name);
    MD_CHECK(it != config.end(), "configuration ", space::to_string(config), " has no parameter '", name,
             "' (the ", layout_.model, " grid needs ", join([&] {
               std::vector<std::string> n;
               for (const auto& hp : layout_.hyperparameters) n.push_back(hp.name);
               return n;
             }()),
             ")");
    const auto& choices = std::get<space::CategoricalParam>(space_.param(h).dist).choices;
    const auto* s = std::get_if<std::string>(&it->second);
    auto pos = s ? std::find(choices.begin(), choices.end(), *s) : choices.end();
    MD_CHECK(pos != choices.end(), "parameter '", name, "' = ", space::to_string(it->second),
             " is not a value of the ", layout_.model, " grid (one of: ", join(choices), ")");
    want[h] = static_cast<int>(pos - choices.begin());
  }
  // Nearest row: one-hot mismatches first, then level steps over the row's active columns.
  size_t best = 0;
  int64_t best_d = std::numeric_limits<int64_t>::max();
  for (size_t r = 0; r < rows_.size(); ++r) {
    int64_t d = 0;
    for (size_t h = 0; h < n_hp; ++h) {
      const int k = keys_[r][h];
      if (!layout_.hyperparameters[h].choices.empty()) {
        d += k == want[h] ? 0 : 1'000'000;
      } else if (k >= 0) {
        d += std::abs(k - want[h]);
      }
    }
    if (d < best_d) {
      best_d = d;
      best = r;
      if (d == 0) break;
    }
  }
  return best;
}

std::optional<size_t> TabularGrid::find(std::span<const double> features) const {
  for (size_t r = 0; r < rows_.size(); ++r) {
    if (std::equal(features.begin(), features.end(), rows_[r].begin(), rows_[r].end())) return r;
  }
  return std::nullopt;
}

std::string TabularGrid::fingerprint() const {
  uint64_t h = kFnv1aBasis;
  h = fnv1a(h, layout_.model);
  for (const auto& hp : layout_.hyperparameters) {
    h = fnv1a(h, hp.name);
    for (const auto& c : hp.choices) h = fnv1a(h, c);
    const char scale = hp.log10 ? 'l' : 'n';
    h = fnv1a(h, &scale, 1);
  }
  for (const auto& row : rows_) {
    for (double v : row) {
      const auto bits = std::bit_cast<uint64_t>(v == 0.0 ? 0.0 : v);
      h = fnv1a(h, &bits, sizeof bits);
    }
  }
  return to_hex(h);
}

std::string TabularGrid::describe() const {
  std::vector<std::string> names;
  for (const auto& hp : layout_.hyperparameters) names.push_back(hp.name);
  return fmt::format("{} grid: {} configurations of {}", layout_.model, rows_.size(), join(names));
}

nlohmann::json TabularGrid::to_json() const { return {{"layout", layout_.to_json()}, {"rows", rows_}}; }

TabularGrid TabularGrid::from_json(const nlohmann::json& j) {
  return TabularGrid(TabularLayout::from_json(j.at("layout")), j.at("rows").get<std::vector<std::vector<double>>>(),
                     "stored grid");
}

// ---- data sets and benchmarks -------------------------------------------------------------------

double TabularDataset::max_response() const { return *std::max_element(responses.begin(), responses.end()); }
double TabularDataset::min_response() const { return *std::min_element(responses.begin(), responses.end()); }

size_t TabularBenchmark::index_of(const std::string& name) const {
  for (size_t i = 0; i < datasets.size(); ++i) {
    if (datasets[i].name == name) return i;
  }
  std::vector<std::string> some;
  for (size_t i = 0; i < datasets.size() && i < 8; ++i) some.push_back(datasets[i].name);
  if (datasets.size() > some.size()) some.push_back(fmt::format("... {} in all", datasets.size()));
  throw InvalidArgument(detail::concat("no data set '", name, "' in ", path, " (there are: ", join(some), ")"));
}

TabularLayout find_tabular_layout(const std::string& dir) {
  const fs::path p = fs::path(dir) / kLayoutFile;
  if (fs::exists(p)) return TabularLayout::from_file(p.string());
  return TabularLayout::svm();
}

namespace {

TabularBenchmark load_files(const std::string& where, const std::vector<fs::path>& files, const TabularLayout& layout) {
  TabularBenchmark b;
  b.path = where;
  std::string first_path;
  for (const auto& file : files) {
    const std::string path = file.string();
    RawTable t = read_table(path, layout);
    TabularDataset d;
    d.name = file.filename().string();
    d.path = path;
    d.meta_features = std::move(t.meta);
    if (!b.grid) {
      b.grid = std::make_shared<TabularGrid>(layout, t.features, path, t.lines);
      d.responses = std::move(t.responses);
      first_path = path;
    } else {
      const TabularGrid& g = *b.grid;
      std::vector<int> line_of_row(g.size(), 0);
      d.responses.assign(g.size(), 0.0);
      for (size_t i = 0; i < t.features.size(); ++i) {
        const auto row = g.find(t.features[i]);
        if (!row) {
          throw DataError(detail::concat(path, ":", t.lines[i], ": configuration ", values_text(t.features[i]),
                                         " (columns ", range_text(0, layout.n_hyperparameter_columns() - 1),
                                         ") is not in the grid of ", first_path,
                                         "; data sets with different grids cannot be mixed in one benchmark"));
        }
        if (line_of_row[*row] != 0) {
          throw DataError(detail::concat(path, ":", t.lines[i], ": the same configuration as line ",
                                         line_of_row[*row], " (each configuration must appear once)"));
        }
        line_of_row[*row] = t.lines[i];
        d.responses[*row] = t.responses[i];
      }
      if (t.features.size() != g.size()) {
        throw DataError(detail::concat(path, ": ", t.features.size(), " configurations, but ", first_path, " has ",
                                       g.size(), "; data sets with different grids cannot be mixed in one benchmark"));
      }
    }
    b.datasets.push_back(std::move(d));
  }
  return b;
}

}  // namespace

TabularBenchmark load_tabular_benchmark(const std::string& dir, std::optional<TabularLayout> layout) {
  MD_CHECK(fs::is_directory(dir), "metadata folder '", dir, "' does not exist or is not a folder");
  const TabularLayout l = layout ? *layout : find_tabular_layout(dir);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (is_dataset_file(e)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  if (files.empty()) throw DataError(detail::concat(dir, ": no data-set file in this folder"));
  return load_files(dir, files, l);
}

TabularBenchmark load_tabular_file(const std::string& path, std::optional<TabularLayout> layout) {
  MD_CHECK(fs::is_regular_file(path), "metadata file '", path, "' does not exist");
  const std::string dir = fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().string();
  const TabularLayout l = layout ? *layout : find_tabular_layout(dir);
  return load_files(path, {fs::path(path)}, l);
}

TabularBenchmark load_tabular(const std::string& path, std::optional<TabularLayout> layout) {
  MD_CHECK(fs::exists(path), "metadata path '", path, "' does not exist (give a data-set file or a benchmark folder)");
  return fs::is_directory(path) ? load_tabular_benchmark(path, std::move(layout))
                                : load_tabular_file(path, std::move(layout));
}

}  // namespace metadial::objective
