// Tests of the one config reader (TOML and JSON files, in-memory option tables): typed access,
// the int -> double rule, known-key checking and the one-line "FILE:LINE: ..." messages.
#include "metadial/core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace metadial::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The message of the ConfigError f throws; fails the test when it throws none or a multi-line one.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    return msg;
  }
  ADD_FAILURE() << "no ConfigError";
  return "";
}

constexpr const char* kToml = R"(title = "demo"
[study]
name = "s"
trials = 30
rate = 2
scale = 0.5
log = true
tags = ["a", "b"]
weights = [1, 2.5]
seeds = [0, 1, 2]
[space.lr]
low = 1e-5
[[layer]]
width = 4
[[layer]]
width = 8
)";

TEST(ConfigToml, TypedGettersReadEveryKind) {
  const Table root = parse_toml(kToml, "c.toml");
  EXPECT_EQ(root.file(), "c.toml");
  EXPECT_EQ(*root.string("title"), "demo");
  const Table study = *root.table("study");
  EXPECT_EQ(study.section(), "[study]");
  EXPECT_EQ(study.line(), 2);
  EXPECT_EQ(study.line("trials"), 4);
  EXPECT_EQ(*study.string("name"), "s");
  EXPECT_EQ(*study.integer("trials"), 30);
  EXPECT_DOUBLE_EQ(*study.number("scale"), 0.5);
  EXPECT_TRUE(*study.boolean("log"));
  EXPECT_EQ(*study.strings("tags"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*study.numbers("weights"), (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(*study.integers("seeds"), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_FALSE(study.integer("absent").has_value());
  EXPECT_FALSE(study.string("absent").has_value());
  EXPECT_FALSE(root.table("absent").has_value());
  EXPECT_EQ(study.keys(), (std::vector<std::string>{"log", "name", "rate", "scale", "seeds", "tags", "trials", "weights"}));
  const Table lr = *root.table("space")->table("lr");
  EXPECT_EQ(lr.section(), "[space.lr]");
  EXPECT_EQ(lr.line("low"), 12);
  const auto layers = root.tables("layer");
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(*layers[1].integer("width"), 8);
  EXPECT_EQ(layers[1].line("width"), 16);
  EXPECT_EQ(layers[0].section(), "[[layer]]");
  EXPECT_TRUE(root.tables("absent").empty());
}

TEST(ConfigToml, IntegerIsAcceptedWhereANumberIsExpected) {
  const Table study = *parse_toml(kToml, "c.toml").table("study");
  EXPECT_DOUBLE_EQ(*study.number("rate"), 2.0);
  EXPECT_DOUBLE_EQ(*study.number("trials"), 30.0);
}

TEST(ConfigToml, FloatIsRefusedWhereAnIntegerIsExpected) {
  const Table study = *parse_toml(kToml, "c.toml").table("study");
  EXPECT_EQ(error_of([&] { study.integer("scale"); }), "c.toml:6: [study] scale must be an integer, got a float");
  EXPECT_EQ(error_of([&] { study.integers("weights"); }), "c.toml:9: [study] weights must be an array of integers, got a float at index 1");
}

TEST(ConfigToml, TypeErrorsNameFileLineSectionKeyAndBothTypes) {
  const Table root = parse_toml(kToml, "c.toml");
  const Table study = *root.table("study");
  EXPECT_EQ(error_of([&] { study.string("trials"); }), "c.toml:4: [study] trials must be a string, got an integer");
  EXPECT_EQ(error_of([&] { study.number("name"); }), "c.toml:3: [study] name must be a number, got a string");
  EXPECT_EQ(error_of([&] { study.boolean("scale"); }), "c.toml:6: [study] scale must be a boolean, got a float");
  EXPECT_EQ(error_of([&] { study.strings("name"); }), "c.toml:3: [study] name must be an array of strings, got a string");
  EXPECT_EQ(error_of([&] { study.strings("weights"); }), "c.toml:9: [study] weights must be an array of strings, got an integer at index 0");
  EXPECT_EQ(error_of([&] { study.table("log"); }), "c.toml:7: [study] log must be a table, got a boolean");
  EXPECT_EQ(error_of([&] { root.integer("title"); }), "c.toml:1: title must be an integer, got a string");
  EXPECT_EQ(error_of([&] { root.tables("study"); }),
            "c.toml:2: study must be an array of tables ([[study]]), got a table");
}

TEST(ConfigToml, UnknownKeyNamesFileLineSectionAndTheKnownKeys) {
  const Table root = parse_toml("[study]\ntrials = 3\ntrails = 4\nzeta = 1\n", "c.toml");
  EXPECT_EQ(error_of([&] { root.table("study")->expect_keys({"trials", "seed", "jobs"}); }),
            "c.toml:3: unknown key 'trails' in [study] (expected one of: jobs, seed, trials)");
  EXPECT_EQ(error_of([&] { root.expect_keys({"objective"}); }),
            "c.toml:1: unknown key 'study' in the top level (expected one of: objective)");
  EXPECT_EQ(error_of([&] { root.table("study")->expect_keys({}); }),
            "c.toml:2: unknown key 'trials' in [study] (it takes no keys)");
  EXPECT_NO_THROW(root.table("study")->expect_keys({"trials", "trails", "zeta"}));
}

TEST(ConfigToml, MissingKeysAndBadValuesAreOneLine) {
  const Table study = *parse_toml(kToml, "c.toml").table("study");
  EXPECT_EQ(error_of([&] { study.require_string("kind"); }), "c.toml:2: [study] needs kind (a string)");
  EXPECT_EQ(error_of([&] { study.require_integer("jobs", "between 1 and 8"); }),
            "c.toml:2: [study] needs jobs (between 1 and 8)");
  EXPECT_EQ(study.require_integer("trials"), 30);
  EXPECT_DOUBLE_EQ(study.require_number("rate"), 2.0);
  EXPECT_EQ(error_of([&] { study.invalid("trials", "must be <= 10"); }), "c.toml:4: [study] trials must be <= 10");
  EXPECT_EQ(error_of([&] { study.fail_at("log", "anything"); }), "c.toml:7: anything");
  EXPECT_EQ(error_of([&] { study.checked("rate", [] { throw InvalidArgument("rate too high"); }); }),
            "c.toml:5: rate too high");
  EXPECT_EQ(study.checked("rate", [] { return 7; }), 7);
  EXPECT_EQ(error_of([&] { parse_toml("x = 1\n", "c.toml").require_table("objective"); }),
            "c.toml:1: the top level needs objective (a table [objective])");
}

TEST(ConfigToml, AbsentTableReadsAsEmpty) {
  const Table root = parse_toml("[run]\nsteps = 5\n", "c.toml");
  const Table pbt = root.table_or_empty("pbt");
  EXPECT_EQ(pbt.section(), "[pbt]");
  EXPECT_TRUE(pbt.keys().empty());
  EXPECT_EQ(pbt.integer("population").value_or(8), 8);
  EXPECT_EQ(error_of([&] { pbt.require_integer("population"); }), "c.toml: [pbt] needs population (an integer)");
  EXPECT_EQ(*root.table_or_empty("run").integer("steps"), 5);
}

TEST(ConfigToml, SyntaxErrorGivesFileAndLine) {
  const std::string msg = error_of([] { parse_toml("[study]\ntrials = 3\nseed = = 4\n", "c.toml"); });
  EXPECT_THAT(msg, StartsWith("c.toml:3: "));
}

TEST(ConfigToml, DatesAreNotStrings) {
  const Table root = parse_toml("when = 1979-05-27\n", "c.toml");
  EXPECT_EQ(error_of([&] { root.string("when"); }), "c.toml:1: when must be a string, got a date/time");
  EXPECT_EQ(root.json()["when"], "1979-05-27");
}

TEST(ConfigFiles, MissingFileIsOneLineNamingIt) {
  EXPECT_EQ(error_of([] { load_toml("/nonexistent/x.toml"); }),
            "/nonexistent/x.toml: cannot read the file (does it exist?)");
  EXPECT_EQ(error_of([] { load_json("/nonexistent/x.json"); }),
            "/nonexistent/x.json: cannot read the file (does it exist?)");
}

TEST(ConfigFiles, LoadsTomlAndJsonFiles) {
  const auto dir = std::filesystem::temp_directory_path() / ("metadial_config_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string toml_path = (dir / "a.toml").string();
  const std::string json_path = (dir / "a.json").string();
  std::ofstream(toml_path) << "[run]\nsteps = 5\n";
  std::ofstream(json_path) << "{\n  \"run\": {\n    \"steps\": 5.5\n  }\n}\n";
  EXPECT_EQ(*load_toml(toml_path).table("run")->integer("steps"), 5);
  const Table run = *load_json(json_path).table("run");
  EXPECT_EQ(error_of([&] { run.integer("steps"); }), json_path + ":3: [run] steps must be an integer, got a float");
  std::filesystem::remove_all(dir);
}

constexpr const char* kJson = R"({
  "domain": "d",
  "entity": {"slot": "name",
             "parts": [["x"]]},
  "slots": [
    {"name": "a",
     "colour": 1},
    {"name": "b", "kb_skew": 2}
  ],
  "weird/key~": {
    "n": 3
  }
})";

TEST(ConfigJson, KeysKeepTheirLines) {
  const Table root = parse_json(kJson, "o.json");
  EXPECT_EQ(root.line("domain"), 2);
  EXPECT_EQ(root.line("entity"), 3);
  const Table entity = *root.table("entity");
  EXPECT_EQ(entity.section(), "[entity]");
  EXPECT_EQ(entity.line("parts"), 4);
  const auto slots = root.tables("slots");
  ASSERT_EQ(slots.size(), 2u);
  EXPECT_EQ(slots[0].section(), "[slots[0]]");
  EXPECT_EQ(slots[0].line(), 6);
  EXPECT_EQ(slots[0].line("colour"), 7);
  EXPECT_EQ(slots[1].line("kb_skew"), 8);
  EXPECT_DOUBLE_EQ(*slots[1].number("kb_skew"), 2.0);
  EXPECT_EQ(root.table("weird/key~")->line("n"), 11);
}

TEST(ConfigJson, UnknownKeyAndTypeErrorsGiveTheKeysLine) {
  const Table root = parse_json(kJson, "o.json");
  const auto slots = root.tables("slots");
  EXPECT_EQ(error_of([&] { slots[0].expect_keys({"name", "values"}); }),
            "o.json:7: unknown key 'colour' in [slots[0]] (expected one of: name, values)");
  EXPECT_EQ(error_of([&] { slots[0].string("colour"); }), "o.json:7: [slots[0]] colour must be a string, got an integer");
  EXPECT_EQ(error_of([&] { root.table("entity")->strings("parts"); }),
            "o.json:4: [entity] parts must be an array of strings, got an array at index 0");
}

TEST(ConfigJson, SyntaxErrorGivesFileAndLine) {
  const std::string msg = error_of([] { parse_json("{\n  \"a\": 1,\n  \"b\": ]\n}\n", "o.json"); });
  EXPECT_THAT(msg, StartsWith("o.json:3: not valid JSON: "));
  EXPECT_THAT(error_of([] { parse_json("[1, 2]", "o.json"); }), StartsWith("o.json:1: the top level must be"));
}

TEST(ConfigInMemory, OptionsWithoutAFileNameTheirSource) {
  const Table t = Table::from_json({{"n_initial", 2.5}, {"model", "m.pt"}}, "sampler 'gp'", "[sampler]");
  EXPECT_EQ(t.line(), 0);
  EXPECT_EQ(*t.string("model"), "m.pt");
  EXPECT_EQ(error_of([&] { t.integer("n_initial"); }),
            "sampler 'gp': [sampler] n_initial must be an integer, got a float");
  EXPECT_EQ(error_of([&] { t.expect_keys({"model"}); }),
            "sampler 'gp': unknown key 'n_initial' in [sampler] (expected one of: model)");
  EXPECT_TRUE(Table::from_json(nullptr, "x", "[x]").keys().empty());
  EXPECT_EQ(error_of([] { Table::from_json(3, "x", "[x]"); }), "x: [x] must be a table of key = value, got an integer (3)");
}

TEST(ConfigInMemory, RethrowAsKeepsTheMessage) {
  const Table t = Table::from_json({{"k", "v"}}, "src", "[t]");
  try {
    rethrow_as<InvalidArgument>([&] { return t.integer("k"); });
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "src: [t] k must be an integer, got a string");
  }
  EXPECT_EQ(rethrow_as<DataError>([] { return 3; }), 3);
}

}  // namespace
}  // namespace metadial::config
