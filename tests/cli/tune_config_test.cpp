#include "cli/tune_config.h"

#include <gtest/gtest.h>

#include "metadial/core/error.h"

namespace metadial::cli {
namespace {

// Expects a ConfigError whose message starts with "cfg.toml:LINE:" and contains `needle`.
void expect_error(const std::string& text, int line, const std::string& needle) {
  try {
    parse_tune_config(text, "cfg.toml");
    FAIL() << "expected ConfigError for:\n" << text;
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("cfg.toml:" + std::to_string(line) + ":", 0), 0u) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

TEST(TuneConfig, ParsesTheDocumentedShape) {
  const auto cfg = parse_tune_config(R"(
[study]
name = "branin-gp"
sampler = "gp"
trials = 30
seed = 4
jobs = 2
[sampler]
n_initial = 8
[objective]
command = ["./train.sh", "--lr", "{lr}"]
timeout_s = 600
[space.lr]
type = "float"
low = 1e-5
high = 1e-1
log = true
[space.layers]
type = "int"
low = 1
high = 5
[space.kernel]
type = "categorical"
choices = ["rbf", "linear"]
)",
                                     "cfg.toml");
  EXPECT_EQ(*cfg.study_name, "branin-gp");
  EXPECT_EQ(cfg.sampler, "gp");
  EXPECT_EQ(cfg.trials, 30);
  EXPECT_EQ(cfg.seed, 4u);
  EXPECT_EQ(cfg.jobs, 2);
  EXPECT_EQ(cfg.sampler_options["n_initial"], 8);
  EXPECT_TRUE(cfg.function.empty());
  EXPECT_EQ(cfg.objective_options["command"][2], "{lr}");
  EXPECT_EQ(cfg.objective_options["timeout_s"], 600);
  ASSERT_TRUE(cfg.space.has_value());
  EXPECT_EQ(cfg.space->size(), 3u);
  const auto& lr = std::get<space::FloatParam>(cfg.space->param(cfg.space->index_of("lr")).dist);
  EXPECT_TRUE(lr.log);
  EXPECT_DOUBLE_EQ(lr.low, 1e-5);
}

TEST(TuneConfig, BuiltinFunctionNeedsNoSpace) {
  const auto cfg = parse_tune_config("[objective]\nfunction = \"branin\"\n", "cfg.toml");
  EXPECT_EQ(cfg.function, "branin");
  EXPECT_FALSE(cfg.space.has_value());
  EXPECT_EQ(cfg.trials, 30);
}

TEST(TuneConfig, UnknownKeyNamesFileLineAndKey) {
  expect_error("[study]\ntrials = 3\ntrails = 4\n[objective]\nfunction = \"branin\"\n", 3, "unknown key 'trails'");
  expect_error("[objective]\nfunction = \"x\"\n[space.lr]\ntype = \"float\"\nlo = 1\nhigh = 2\n", 5,
               "unknown key 'lo' in [space.lr]");
  expect_error("[objectiv]\nfunction = \"x\"\n", 1, "unknown key 'objectiv'");
}

TEST(TuneConfig, WrongTypeNamesTheKey) {
  expect_error("[study]\ntrials = \"many\"\n[objective]\nfunction = \"branin\"\n", 2, "trials must be an integer");
  expect_error("[objective]\nfunction = 3\n", 2, "function must be a string");
  expect_error("[objective]\ncommand = [\"a\", 3]\n", 2, "array of strings");
  expect_error("[objective]\nfunction = \"x\"\n[space.lr]\ntype = \"float\"\nlow = \"a\"\nhigh = 2\n", 5,
               "low must be a number");
}

TEST(TuneConfig, BadBoundsNameTheParameter) {
  expect_error("[objective]\nfunction = \"x\"\n[space.lr]\ntype = \"float\"\nlow = 2\nhigh = 1\n", 3,
               "parameter 'lr': low 2 must be below high 1");
  expect_error("[objective]\nfunction = \"x\"\n[space.lr]\ntype = \"float\"\nlow = 0\nhigh = 1\nlog = true\n", 3,
               "log scale needs low > 0");
  expect_error("[objective]\nfunction = \"x\"\n[space.k]\ntype = \"categorical\"\nchoices = []\n", 3,
               "choices must not be empty");
  expect_error("[objective]\nfunction = \"x\"\n[space.k]\ntype = \"tensor\"\n", 4, "type 'tensor' is unknown");
  expect_error("[objective]\nfunction = \"x\"\n[space.n]\ntype = \"int\"\nlow = 1.5\nhigh = 3\n", 5,
               "low must be an integer");
}

TEST(TuneConfig, MissingOrAmbiguousObjective) {
  expect_error("[study]\ntrials = 3\n", 1, "missing [objective]");
  expect_error("[objective]\nfunction = \"a\"\ncommand = [\"b\"]\n", 3, "both function and command");
  expect_error("[objective]\ntimeout_s = 3\n", 1, "needs function");
}

TEST(TuneConfig, SyntaxErrorGivesItsLine) {
  expect_error("[study]\ntrials = 3\nseed = = 4\n", 3, "");
}

TEST(TuneConfig, OutOfRangeStudySettings) {
  expect_error("[study]\ntrials = -1\n[objective]\nfunction = \"b\"\n", 2, "trials must be >= 0");
  expect_error("[study]\njobs = 0\n[objective]\nfunction = \"b\"\n", 2, "jobs must be between 1");
  expect_error("[study]\ndirection = \"up\"\n[objective]\nfunction = \"b\"\n", 2, "minimize");
  expect_error("[study]\nmax_cost = 0\n[objective]\nfunction = \"b\"\n", 2, "max_cost must be > 0");
}

// Issue 21, item 6: an integer key is checked as the int64 the file holds, before it is narrowed
// to the option's type (4294967296 became 0 as an int, and the check passed or failed by chance).
TEST(TuneConfig, IntegerKeysAreCheckedBeforeTheyAreNarrowed) {
  expect_error("[study]\nmax_consecutive_failures = 4294967296\n[objective]\nfunction = \"b\"\n", 2,
               "[study] max_consecutive_failures must be between 1 and 2147483647");
  expect_error("[study]\nmax_consecutive_failures = 0\n[objective]\nfunction = \"b\"\n", 2,
               "max_consecutive_failures must be between 1");
  expect_error("[study]\njobs = 4294967297\n[objective]\nfunction = \"b\"\n", 2, "jobs must be between 1 and 1024");
  expect_error("[study]\njobs = 100000\n[objective]\nfunction = \"b\"\n", 2, "jobs must be between 1 and 1024");
  expect_error("[study]\nseed = -1\n[objective]\nfunction = \"b\"\n", 2, "[study] seed must be >= 0");
  expect_error("[study]\ntrials = 99999999999999999999\n[objective]\nfunction = \"b\"\n", 2, "");
  const auto cfg = parse_tune_config(
      "[study]\nmax_consecutive_failures = 2147483647\njobs = 1024\nseed = 9223372036854775807\n"
      "trials = 9223372036854775807\ntrial_timeout_s = 1e10\n[objective]\nfunction = \"b\"\n",
      "cfg.toml");
  EXPECT_EQ(cfg.max_consecutive_failures, 2147483647);
  EXPECT_EQ(cfg.jobs, 1024);
  EXPECT_EQ(cfg.seed, 9223372036854775807u);
  EXPECT_EQ(cfg.trials, 9223372036854775807);
  EXPECT_EQ(cfg.trial_timeout_s, 1e10);  // the runner caps the deadline (study/optimize.cpp)
  EXPECT_EQ(optimize_options(cfg).trial_timeout_s, 1e10);
}

// Issue 21, item 2: the heartbeat interval and timeout are [study] keys, > 0, timeout > interval.
TEST(TuneConfig, HeartbeatKeysReachTheOptimizeOptions) {
  const auto defaults = parse_tune_config("[objective]\nfunction = \"b\"\n", "cfg.toml");
  EXPECT_EQ(optimize_options(defaults).heartbeat_interval_s, study::OptimizeOptions{}.heartbeat_interval_s);
  EXPECT_EQ(optimize_options(defaults).heartbeat_timeout_s, study::OptimizeOptions{}.heartbeat_timeout_s);
  const auto cfg = parse_tune_config(
      "[study]\nheartbeat_interval_s = 0.5\nheartbeat_timeout_s = 3\n[objective]\nfunction = \"b\"\n", "cfg.toml");
  const study::OptimizeOptions o = optimize_options(cfg);
  EXPECT_EQ(o.heartbeat_interval_s, 0.5);
  EXPECT_EQ(o.heartbeat_timeout_s, 3.0);

  expect_error("[study]\nheartbeat_interval_s = 0\n[objective]\nfunction = \"b\"\n", 2,
               "[study] heartbeat_interval_s must be > 0");
  expect_error("[study]\nheartbeat_interval_s = 1e10\n[objective]\nfunction = \"b\"\n", 2,
               "heartbeat_interval_s must be > 0 and at most 86400");
  expect_error("[study]\nheartbeat_timeout_s = -1\n[objective]\nfunction = \"b\"\n", 2,
               "[study] heartbeat_timeout_s must be > 0");
  expect_error("[study]\nheartbeat_timeout_s = nan\n[objective]\nfunction = \"b\"\n", 2,
               "[study] heartbeat_timeout_s must be > 0");
  expect_error("[study]\nheartbeat_interval_s = 2\nheartbeat_timeout_s = 2\n[objective]\nfunction = \"b\"\n", 3,
               "[study] heartbeat_timeout_s must exceed heartbeat_interval_s (2 s)");
  expect_error("[study]\nheartbeat_interval_s = 300\n[objective]\nfunction = \"b\"\n", 2,
               "[study] heartbeat_interval_s must be below heartbeat_timeout_s (120 s, the default)");
  expect_error("[study]\nheartbeat_timeout_s = 4\n[objective]\nfunction = \"b\"\n", 2,
               "[study] heartbeat_timeout_s must exceed heartbeat_interval_s (5 s)");
}

TEST(TuneConfig, FlagTextIsParsedInTheKeysRangeWithoutClampingOrWrapping) {
  EXPECT_EQ(kJobsSetting.parse_flag("1024"), 1024);
  EXPECT_EQ(kSeedSetting.parse_flag("+7"), 7);
  EXPECT_EQ(kTrialsSetting.parse_flag("9223372036854775807"), 9223372036854775807);
  auto message = [](const IntSetting& s, const std::string& text) -> std::string {
    try {
      s.parse_flag(text);
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "(accepted)";
  };
  EXPECT_EQ(message(kJobsSetting, "100000"), "--jobs must be between 1 and 1024 (got 100000)");
  EXPECT_EQ(message(kJobsSetting, "0"), "--jobs must be between 1 and 1024 (got 0)");
  EXPECT_EQ(message(kSeedSetting, "-1"), "--seed must be >= 0 (got -1)");
  EXPECT_EQ(message(kSeedSetting, "18446744073709551615"),
            "--seed must be between 0 and 9223372036854775807 (got 18446744073709551615)");
  EXPECT_EQ(message(kTrialsSetting, "99999999999999999999"),
            "--trials must be between 0 and 9223372036854775807 (got 99999999999999999999)");
  EXPECT_EQ(message(kTrialsSetting, "3.5"), "--trials must be an integer (got '3.5')");
  EXPECT_EQ(message(kTrialsSetting, ""), "--trials must be an integer (got '')");
  EXPECT_EQ(message(kTrialsSetting, "1e3"), "--trials must be an integer (got '1e3')");
}

TEST(TuneConfig, PrunerTableGivesItsTypeAndPassesItsOptionsOn) {
  const auto none = parse_tune_config("[objective]\nfunction = \"branin\"\n", "cfg.toml");
  EXPECT_EQ(none.pruner, "none");
  EXPECT_EQ(none.pruner_line, 0);
  const auto cfg = parse_tune_config(R"([objective]
function = "learning_curve"
[pruner]
type = "asha"
reduction_factor = 3
min_resource = 2
)",
                                     "cfg.toml");
  EXPECT_EQ(cfg.pruner, "asha");
  EXPECT_EQ(cfg.pruner_line, 3);
  EXPECT_EQ(cfg.pruner_type_line, 4);
  EXPECT_EQ(cfg.pruner_options, (nlohmann::json{{"reduction_factor", 3}, {"min_resource", 2}}));
  expect_error("[objective]\nfunction = \"branin\"\n[pruner]\nreduction_factor = 3\n", 3, "[pruner] needs type");
  expect_error("[objective]\nfunction = \"branin\"\n[pruner]\ntype = 3\n", 4, "[pruner] type must be a string");
  expect_error("pruner = \"asha\"\n[objective]\nfunction = \"branin\"\n", 1, "pruner must be a table");
}

TEST(TuneConfig, MissingFileIsAConfigError) {
  EXPECT_THROW(load_tune_config("/nonexistent/x.toml"), ConfigError);
}

}  // namespace
}  // namespace metadial::cli
