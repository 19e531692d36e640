// Tests of the tabular meta-data loader, the grid as a search space and the tabular objective.
// Expected numbers for the SVM benchmark are read off the files themselves (e.g. the first line
// of hpo-metadata/svm/A9A is "0.757908 0:1.0 3:-0.8333333333333334 4:-1.0 6:0.1319...").
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/objective/registry.h"
#include "metadial/objective/tabular.h"

namespace metadial::objective {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kSvmDir = std::string(METADIAL_SOURCE_DIR) + "/../shared/data/hpo-metadata/svm";

// A fresh temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() / ("metadial_tabular_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

// A small layout: two numeric hyperparameters (a, b) and one meta-feature (column 2).
constexpr const char* kSmallLayout = R"(model = "toy"
response = "error"
maximize = false
meta_features = 1
[[hyperparameter]]
name = "a"
[[hyperparameter]]
name = "b"
)";

// 2 x 2 grid over (a, b), meta-feature 0.5.
std::string toy_file(double r00, double r01, double r10, double r11) {
  return std::to_string(r00) + " 0:0 1:0 2:0.5\n" + std::to_string(r01) + " 0:0 1:1 2:0.5\n" +
         std::to_string(r10) + " 0:1 1:0 2:0.5\n" + std::to_string(r11) + " 0:1 1:1 2:0.5\n";
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

bool have_svm() { return fs::is_directory(kSvmDir); }

TEST(TabularLayout, SvmLayoutHas28Columns) {
  const TabularLayout l = TabularLayout::svm();
  EXPECT_EQ(l.n_hyperparameter_columns(), 6);
  EXPECT_EQ(l.n_columns(), 28);
  EXPECT_EQ(l.describe(), "0-5 hyperparameters (kernel 0-2, C 3, gamma 4, degree 5), 6-27 meta-features");
  EXPECT_EQ(TabularLayout::from_json(l.to_json()), l);
}

TEST(TabularLoader, ReadsTheSvmBenchmark) {
  if (!have_svm()) GTEST_SKIP() << "no " << kSvmDir;
  const TabularBenchmark b = load_tabular_benchmark(kSvmDir);
  ASSERT_EQ(b.datasets.size(), 50u);
  EXPECT_EQ(b.grid->size(), 288u);
  EXPECT_EQ(b.datasets.front().name, "A9A");  // sorted by name
  const TabularDataset& a9a = b.dataset("A9A");
  ASSERT_EQ(a9a.meta_features.size(), 22u);
  EXPECT_DOUBLE_EQ(a9a.meta_features[0], 0.13193208595081896);  // index 6
  EXPECT_DOUBLE_EQ(a9a.meta_features[1], 0.0);                  // index 7 is absent: 0
  EXPECT_DOUBLE_EQ(a9a.meta_features[12], 5.710311048494906E-5);  // index 18, written with E-5
  EXPECT_DOUBLE_EQ(a9a.responses[0], 0.757908);
  EXPECT_DOUBLE_EQ(a9a.responses[168], 0.828744);  // first polynomial line
  EXPECT_DOUBLE_EQ(a9a.max_response(), 0.849217);
  EXPECT_DOUBLE_EQ(b.dataset("yeast").responses[13], 0.397306);

  const space::SearchSpace& s = b.grid->space();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.param(0).name, "kernel");
  EXPECT_EQ(s.cardinality(0), 3);
  EXPECT_EQ(s.cardinality(1), 12);  // C
  EXPECT_EQ(s.cardinality(2), 14);  // gamma (rbf only)
  EXPECT_EQ(s.cardinality(3), 9);   // degree 2..10 (polynomial only)
  const auto& degree = std::get<space::CategoricalParam>(s.param(3).dist).choices;
  EXPECT_EQ(degree, (std::vector<std::string>{"2", "3", "4", "5", "6", "7", "8", "9", "10"}));
  const auto& c = std::get<space::CategoricalParam>(s.param(1).dist).choices;
  EXPECT_EQ(c.front(), "-0.833333");
  EXPECT_EQ(c.back(), "1");
}

TEST(TabularGrid, EveryRowRoundTripsAndInactiveParametersAreIgnored) {
  if (!have_svm()) GTEST_SKIP() << "no " << kSvmDir;
  const TabularBenchmark b = load_tabular_file(kSvmDir + "/A9A");
  const TabularGrid& g = *b.grid;
  for (size_t r = 0; r < g.size(); ++r) ASSERT_EQ(g.row_of(g.config(r)), r) << r;
  // Row 0: rbf, C = -0.833333, gamma = -1; degree is inactive and canonically "2".
  const space::Config c0 = g.config(0);
  EXPECT_EQ(std::get<std::string>(c0.at("kernel")), "rbf");
  EXPECT_EQ(std::get<std::string>(c0.at("gamma")), "-1");
  EXPECT_EQ(std::get<std::string>(c0.at("degree")), "2");
  EXPECT_TRUE(g.active(0, 2));
  EXPECT_FALSE(g.active(0, 3));
  space::Config other = c0;
  other["degree"] = std::string("7");
  EXPECT_EQ(g.row_of(other), 0u);
  // Row 287: linear, C = 1; both gamma and degree inactive.
  space::Config lin = g.config(287);
  EXPECT_EQ(std::get<std::string>(lin.at("kernel")), "linear");
  lin["gamma"] = std::string("0.75");
  lin["degree"] = std::string("10");
  EXPECT_EQ(g.row_of(lin), 287u);
  // Polynomial rows 168 and 170 (file lines 169, 171): log10 degree 1.0 and 0.477 are shown as 10 and 3.
  EXPECT_EQ(std::get<std::string>(g.config(168).at("degree")), "10");
  EXPECT_EQ(std::get<std::string>(g.config(170).at("degree")), "3");
  EXPECT_EQ(std::get<std::string>(g.config(169).at("kernel")), "polynomial");

  // Every point of the unit cube decodes to a configuration of some row whose active values it has.
  Rng rng(7);
  std::set<size_t> hit;
  for (int i = 0; i < 3000; ++i) {
    std::vector<double> u = {uniform01(rng), uniform01(rng), uniform01(rng), uniform01(rng)};
    const space::Config cfg = g.space().decode(u);
    const size_t r = g.row_of(cfg);
    const space::Config canon = g.config(r);
    for (size_t h = 0; h < 4; ++h) {
      if (g.active(r, h)) {
        const std::string& name = g.layout().hyperparameters[h].name;
        ASSERT_EQ(canon.at(name), cfg.at(name)) << space::to_string(cfg);
      }
    }
    hit.insert(r);
  }
  EXPECT_GT(hit.size(), 250u);
  EXPECT_THROW(g.row_of({{"kernel", std::string("rbf")}}), InvalidArgument);
  space::Config bad = c0;
  bad["C"] = std::string("0.3");
  try {
    g.row_of(bad);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("'C' = 0.3 is not a value of the svm grid"));
  }
}

TEST(TabularGrid, OffGridConfigurationMapsToTheNearestRow) {
  // 3 x 3 grid over (a, b) with the corner (2, 2) missing: (a=2, b=2) maps to the nearest rows
  // (2, 1) and (1, 2) at one level step; the first of them in row order is (1, 2) = row 5.
  TabularLayout l;
  l.model = "toy";
  l.hyperparameters = {{"a", {}, false}, {"b", {}, false}};
  std::vector<std::vector<double>> rows;
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) {
      if (a == 2 && b == 2) continue;
      rows.push_back({double(a), double(b)});
    }
  }
  const TabularGrid g(l, rows);
  EXPECT_EQ(g.row_of({{"a", std::string("2")}, {"b", std::string("2")}}), 5u);
  EXPECT_EQ(g.row_of({{"a", std::string("2")}, {"b", std::string("0")}}), 6u);
}

TEST(TabularGrid, FingerprintAndJsonRoundTrip) {
  TabularLayout l;
  l.model = "toy";
  l.hyperparameters = {{"k", {"x", "y"}, false}, {"a", {}, false}};
  const TabularGrid g(l, {{1, 0, 0.5}, {1, 0, 1.5}, {0, 1, 0.5}});
  const TabularGrid back = TabularGrid::from_json(g.to_json());
  EXPECT_EQ(back.fingerprint(), g.fingerprint());
  EXPECT_TRUE(back.space() == g.space());
  EXPECT_EQ(g.fingerprint().size(), 16u);
  const TabularGrid other(l, {{1, 0, 0.5}, {1, 0, 2.5}, {0, 1, 0.5}});
  EXPECT_NE(other.fingerprint(), g.fingerprint());
  // "a" is active for k = x (two values) and inactive for k = y (one row).
  EXPECT_TRUE(g.active(0, 1));
  EXPECT_FALSE(g.active(2, 1));
}

TEST(TabularLoader, ReadsAnotherModelFamilyFromItsDescriptor) {
  TempDir dir;
  dir.write("layout.toml", kSmallLayout);
  dir.write("d1", toy_file(0.4, 0.3, 0.2, 0.1));
  // The same grid in another order, with a blank line and the meta-feature written as 5e-1.
  dir.write("d2", "0.9 0:1 1:1 2:5e-1\n\n0.6 0:0 1:0 2:0.5\n0.7 0:0 1:1 2:0.5\n0.8 0:1 1:0 2:0.5\n");
  dir.write("README.md", "not data");
  const TabularBenchmark b = load_tabular_benchmark(dir.str());
  ASSERT_EQ(b.datasets.size(), 2u);
  EXPECT_EQ(b.grid->layout().model, "toy");
  EXPECT_FALSE(b.grid->layout().maximize);
  EXPECT_EQ(b.dataset("d2").responses, (std::vector<double>{0.6, 0.7, 0.8, 0.9}));
  EXPECT_EQ(b.dataset("d2").meta_features, (std::vector<double>{0.5}));

  auto obj = make_tabular_objective({{"metadata", dir.str()}, {"dataset", "d1"}});
  EXPECT_TRUE(obj->minimize());
  EXPECT_EQ(obj->name(), "tabular:toy/d1");
  NullReporter rep;
  EXPECT_DOUBLE_EQ(obj->evaluate({{"a", std::string("1")}, {"b", std::string("0")}}, 0, rep).value, 0.2);
  EXPECT_DOUBLE_EQ(obj->best_response(), 0.1);
}

TEST(TabularLoader, NonNumericValueNamesFileAndLine) {
  TempDir dir;
  dir.write("layout.toml", kSmallLayout);
  const std::string f = dir.write("d1", "0.4 0:0 1:0 2:0.5\n0.3 0:0 1:abc 2:0.5\n");
  EXPECT_THAT(error_of([&] { load_tabular_benchmark(dir.str()); }),
              HasSubstr(f + ":2: value 'abc' of index 1 is not a finite number"));
  dir.write("d1", "0.4 0:0 1:0 2:0.5\nx7 0:0 1:1 2:0.5\n");
  EXPECT_THAT(error_of([&] { load_tabular_benchmark(dir.str()); }),
              HasSubstr(f + ":2: the error 'x7' is not a finite number"));
  dir.write("d1", "0.4 0:0 1:0 2:0.5\n0.3 0:0 1=1 2:0.5\n");
  EXPECT_THAT(error_of([&] { load_tabular_benchmark(dir.str()); }), HasSubstr(f + ":2: '1=1' is not of the form"));
}

TEST(TabularLoader, IndexOutOfRangeNamesFileLineAndLayout) {
  TempDir dir;
  dir.write("layout.toml", kSmallLayout);
  const std::string f = dir.write("d1", "0.4 0:0 1:0 2:0.5\n0.3 0:0 1:1 2:0.5\n0.3 0:1 1:1 3:0.5\n");
  const std::string msg = error_of([&] { load_tabular_benchmark(dir.str()); });
  EXPECT_THAT(msg, HasSubstr(f + ":3: index 3 is out of range: the toy layout has 3 columns"));
  EXPECT_THAT(msg, HasSubstr("0-1 hyperparameters (a 0, b 1), 2 meta-features"));
  dir.write("d1", "0.4 0:0 -1:0 2:0.5\n");
  EXPECT_THAT(error_of([&] { load_tabular_benchmark(dir.str()); }), HasSubstr(f + ":1: index '-1'"));
}

TEST(TabularLoader, DifferentGridsCannotBeMixed) {
  TempDir dir;
  dir.write("layout.toml", kSmallLayout);
  dir.write("a", toy_file(0.4, 0.3, 0.2, 0.1));
  const std::string b = dir.write("b", "0.4 0:0 1:0 2:0.5\n0.3 0:0 1:1 2:0.5\n0.3 0:1 1:0 2:0.5\n0.3 0:1 1:2 2:0.5\n");
  std::string msg = error_of([&] { load_tabular_benchmark(dir.str()); });
  EXPECT_THAT(msg, HasSubstr(b + ":4: configuration (1, 2)"));
  EXPECT_THAT(msg, HasSubstr("data sets with different grids cannot be mixed in one benchmark"));
  dir.write("b", "0.4 0:0 1:0 2:0.5\n0.3 0:0 1:1 2:0.5\n0.3 0:1 1:0 2:0.5\n");
  msg = error_of([&] { load_tabular_benchmark(dir.str()); });
  EXPECT_THAT(msg, HasSubstr(b + ": 3 configurations, but"));
  dir.write("b", "0.4 0:0 1:0 2:0.5\n0.3 0:0 1:1 2:0.5\n0.3 0:1 1:0 2:0.5\n0.3 0:0 1:1 2:0.5\n");
  EXPECT_THAT(error_of([&] { load_tabular_benchmark(dir.str()); }), HasSubstr(b + ":4: the same configuration as line 2"));
}

TEST(TabularLoader, RejectsChangingMetaFeaturesBrokenOneHotAndDuplicates) {
  TempDir dir;
  dir.write("layout.toml", kSmallLayout);
  const std::string f = dir.write("d", "0.4 0:0 1:0 2:0.5\n0.3 0:0 1:1 2:0.6\n");
  EXPECT_THAT(error_of([&] { load_tabular_benchmark(dir.str()); }),
              HasSubstr(f + ":2: meta-feature 0 (index 2) is 0.6 but 0.5 on line 1"));
  dir.write("d", "0.4 0:0 1:0 2:0.5\n0.3 0:0 1:0 2:0.5\n");
  EXPECT_THAT(error_of([&] { load_tabular_benchmark(dir.str()); }), HasSubstr(f + ":2: the same configuration as " + f + ":1"));

  TempDir svm;  // no layout.toml: the SVM layout
  const std::string g = svm.write("s", "0.5 0:1 1:1 3:0.1\n");
  EXPECT_THAT(error_of([&] { load_tabular_benchmark(svm.str()); }),
              HasSubstr(g + ":1: columns 0-2 (kernel) must be one-hot (one 1, the rest 0), got (1, 1, 0)"));
  TempDir empty;
  EXPECT_THAT(error_of([&] { load_tabular_benchmark(empty.str()); }), HasSubstr("no data-set file"));
}

TEST(TabularLoader, BadDescriptorNamesItsLine) {
  TempDir dir;
  const std::string f = dir.write("layout.toml", "model = \"x\"\nmeta_feature = 3\n[[hyperparameter]]\nname = \"a\"\n");
  EXPECT_THAT(error_of([&] { TabularLayout::from_file(f); }), HasSubstr(f + ":2: unknown key 'meta_feature'"));
  dir.write("layout.toml", "model = \"x\"\n[[hyperparameter]]\nname = \"a\"\nscale = \"log2\"\n");
  EXPECT_THAT(error_of([&] { TabularLayout::from_file(f); }), HasSubstr(f + ":4: [[hyperparameter]] scale must be"));
  dir.write("layout.toml", "model = \"x\"\n");
  EXPECT_THAT(error_of([&] { TabularLayout::from_file(f); }), HasSubstr("needs [[hyperparameter]] tables"));
}

TEST(TabularObjective, LooksResponsesUpThroughTheRegistry) {
  if (!have_svm()) GTEST_SKIP() << "no " << kSvmDir;
  ObjectiveRegistry registry;
  register_tabular_objective(registry);
  auto obj = registry.create("tabular", {{"metadata", kSvmDir}, {"dataset", "A9A"}});
  EXPECT_FALSE(obj->minimize());
  EXPECT_EQ(obj->name(), "tabular:svm/A9A");
  const space::SearchSpace s = *obj->default_space();
  NullReporter rep;
  // Line 169 of A9A: polynomial, C = -0.833333, degree 10 (5:1.0): accuracy 0.828744; line 170, degree 2: 0.837343.
  const space::Config poly = {{"kernel", std::string("polynomial")},
                              {"C", std::string("-0.833333")},
                              {"gamma", std::string("0.75")},  // inactive for polynomial
                              {"degree", std::string("10")}};
  EXPECT_DOUBLE_EQ(obj->evaluate(poly, 0, rep).value, 0.828744);
  space::Config poly2 = poly;
  poly2["degree"] = std::string("2");
  EXPECT_DOUBLE_EQ(obj->evaluate(poly2, 0, rep).value, 0.837343);
  // The same objective from the file path alone.
  auto direct = registry.create("tabular", {{"metadata", kSvmDir + "/A9A"}});
  EXPECT_DOUBLE_EQ(direct->evaluate(poly, 0, rep).value, 0.828744);
  EXPECT_TRUE(*direct->default_space() == s);

  try {
    registry.create("tabular", {{"metadata", kSvmDir}});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("is a folder: name the data set with dataset = \"NAME\""));
  }
  try {
    registry.create("tabular", {{"metadata", kSvmDir}, {"dataset", "nope"}});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("no data set 'nope'"));
  }
  EXPECT_THROW(registry.create("tabular", {{"metadata", "/no/such/path"}}), InvalidArgument);
  EXPECT_THROW(registry.create("tabular", {{"metadata", kSvmDir}, {"datset", "A9A"}}), InvalidArgument);
}

}  // namespace
}  // namespace metadial::objective
