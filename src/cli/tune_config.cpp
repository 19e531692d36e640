#include "cli/tune_config.h"

#include <charconv>
#include <system_error>
#include <type_traits>
#include <variant>

#include "metadial/core/config.h"
#include "metadial/core/error.h"

namespace metadial::cli {
namespace {

space::Distribution parse_param(const config::Table& r, const std::string& name) {
  const std::string type = r.require_string("type", "\"float\", \"int\" or \"categorical\"");
  try {
    if (type == "float") {
      for (const char* k : {"choices", "step"}) {
        if (r.contains(k)) r.invalid(k, "does not apply to a float parameter");
      }
      space::FloatParam p{r.require_number("low"), r.require_number("high"), r.boolean("log").value_or(false)};
      space::validate(name, p);
      return p;
    }
    if (type == "int") {
      if (r.contains("choices")) r.invalid("choices", "does not apply to an int parameter");
      space::IntParam p;
      p.low = r.require_integer("low");
      p.high = r.require_integer("high");
      p.step = r.integer("step").value_or(1);
      p.log = r.boolean("log").value_or(false);
      space::validate(name, p);
      return p;
    }
    if (type == "categorical") {
      for (const char* k : {"low", "high", "step", "log"}) {
        if (r.contains(k)) r.invalid(k, "does not apply to a categorical parameter");
      }
      if (!r.contains("choices")) r.missing("choices", "[\"a\", \"b\", ...]");
      space::CategoricalParam p;
      p.choices = *r.strings("choices");
      space::validate(name, p);
      return p;
    }
  } catch (const InvalidArgument& e) {
    r.fail(e.what());
  }
  r.invalid("type", detail::concat("'", type, "' is unknown (expected float, int or categorical)"));
}

TuneConfig from_table(const config::Table& root) {
  TuneConfig cfg;
  cfg.file = root.file();
  root.expect_keys({"study", "sampler", "pruner", "objective", "space", "enqueue"});
  cfg.enqueue = root.tables("enqueue");

  if (const auto r = root.table("study")) {
    r->expect_keys({"name", "sampler", "trials", "seed", "jobs", "direction", "max_cost", "max_wall_s",
                    "trial_timeout_s", "max_consecutive_failures", "heartbeat_interval_s", "heartbeat_timeout_s", "retry_failed",
                    "storage"});
    cfg.study_name = r->string("name");
    cfg.sampler = r->string("sampler").value_or(cfg.sampler);
    // An integer in its range, else one line naming the key (never truncated before the check).
    auto integer = [&](const IntSetting& setting) {
      const auto v = r->integer(setting.key);
      if (v && !setting.allows(*v)) r->invalid(setting.key, setting.range());
      return v;
    };
    cfg.trials = integer(kTrialsSetting).value_or(cfg.trials);
    if (auto s = integer(kSeedSetting)) cfg.seed = static_cast<uint64_t>(*s);
    if (auto j = integer(kJobsSetting)) cfg.jobs = static_cast<int>(*j);
    cfg.direction = r->string("direction");
    if (cfg.direction && *cfg.direction != "minimize" && *cfg.direction != "maximize") {
      r->invalid("direction", "must be \"minimize\" or \"maximize\"");
    }
    auto positive = [&](const PositiveSetting& setting) {
      auto v = r->number(setting.key);
      if (v && !setting.allows(*v)) r->invalid(setting.key, setting.range());
      return v;
    };
    cfg.max_cost = positive(kMaxCostSetting);
    cfg.max_wall_s = positive(kMaxWallSetting);
    cfg.trial_timeout_s = positive(kTrialTimeoutSetting);
    if (auto k = integer(kMaxConsecutiveFailuresSetting)) cfg.max_consecutive_failures = static_cast<int>(*k);
    if (auto k = integer(kRetryFailedSetting)) cfg.retry_failed = static_cast<int>(*k);
    const auto interval = positive(kHeartbeatIntervalSetting);
    const auto timeout = positive(kHeartbeatTimeoutSetting);
    cfg.heartbeat_interval_s = interval.value_or(cfg.heartbeat_interval_s);
    cfg.heartbeat_timeout_s = timeout.value_or(cfg.heartbeat_timeout_s);
    if (!(cfg.heartbeat_timeout_s > cfg.heartbeat_interval_s)) {
      if (timeout) {
        r->invalid(kHeartbeatTimeoutSetting.key,
                   detail::concat("must exceed heartbeat_interval_s (", cfg.heartbeat_interval_s, " s)"));
      }
      r->invalid(kHeartbeatIntervalSetting.key,
                 detail::concat("must be below heartbeat_timeout_s (", cfg.heartbeat_timeout_s, " s, the default)"));
    }
    cfg.storage = r->string("storage");
  }

  if (const auto t = root.table("sampler")) {
    cfg.sampler_options = t->json();
    cfg.sampler_line = t->line();
  }

  if (const auto t = root.table("pruner")) {
    cfg.pruner = t->require_string("type", "\"median\", \"percentile\", \"asha\", \"hyperband\" or \"none\"");
    cfg.pruner_line = t->line();
    cfg.pruner_type_line = t->line("type");
    for (const auto& [k, v] : t->json().items()) {
      if (k != "type") cfg.pruner_options[k] = v;
    }
  }

  if (!root.contains("objective")) {
    root.fail("missing [objective] table (function = \"branin\" or command = [\"./train.sh\", ...])");
  }
  const config::Table obj = *root.table("objective");
  cfg.objective_line = obj.line();
  const bool fn = obj.contains("function");
  const bool cmd = obj.contains("command");
  if (fn && cmd) obj.fail_at("command", "[objective] has both function and command; keep one");
  if (!fn && !cmd) obj.fail("[objective] needs function = \"NAME\" or command = [\"prog\", ...]");
  if (fn) {
    cfg.function = *obj.string("function");
  } else {
    const auto argv = obj.strings("command");
    if (argv->empty()) obj.invalid("command", "must be a non-empty array of strings");
  }
  for (const auto& [k, v] : obj.json().items()) {
    if (k != "function") cfg.objective_options[k] = v;
  }

  if (const auto sp = root.table("space")) {
    space::SearchSpace space;
    for (const auto& pname : sp->keys()) {
      const config::Table r = *sp->table(pname);
      r.expect_keys({"type", "low", "high", "log", "step", "choices"});
      space.add(pname, parse_param(r, pname));
    }
    if (space.empty()) sp->fail("[space] defines no parameter");
    cfg.space = std::move(space);
  }
  return cfg;
}

// What a value of parameter `p` must be, for messages.
std::string expected_value(const space::Parameter& p) {
  return std::visit(
      [](const auto& d) -> std::string {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, space::FloatParam>) {
          return detail::concat("a number in [", d.low, ", ", d.high, "]");
        } else if constexpr (std::is_same_v<D, space::IntParam>) {
          return detail::concat("an integer in [", d.low, ", ", d.high, "]");
        } else {
          std::string choices;
          for (const auto& c : d.choices) choices += (choices.empty() ? "\"" : ", \"") + c + "\"";
          return "one of " + choices;
        }
      },
      p.dist);
}

}  // namespace

space::Config enqueued_config(const config::Table& t, const space::SearchSpace& space) {
  std::vector<std::string> names;
  for (const auto& p : space.params()) names.push_back(p.name);
  t.expect_keys(names);
  const std::string prefix = t.section().empty() ? "" : t.section() + " ";
  space::Config config;
  for (const auto& p : space.params()) {
    const nlohmann::json* v = t.find(p.name);
    if (v == nullptr) t.missing(p.name, expected_value(p));
    space::Value value;
    if (v->is_number_integer()) {
      value = v->get<int64_t>();
    } else if (v->is_number_float()) {
      value = v->get<double>();
    } else if (v->is_string()) {
      value = v->get<std::string>();
    } else {
      t.wrong_type(p.name, expected_value(p));
    }
    // The value alone against its parameter: the message names the key's line.
    space::SearchSpace one;
    one.add(p.name, p.dist);
    try {
      one.encode({{p.name, value}});
    } catch (const InvalidArgument& e) {
      t.fail_at(p.name, prefix + e.what());
    }
    config.emplace(p.name, std::move(value));
  }
  return config;
}

std::string IntSetting::range() const {
  if (max == std::numeric_limits<int64_t>::max()) return detail::concat("must be >= ", min);
  return detail::concat("must be between ", min, " and ", max);
}

int64_t IntSetting::parse_flag(std::string_view text) const {
  std::string_view digits = text;
  if (digits.size() > 1 && digits.front() == '+') digits.remove_prefix(1);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc::result_out_of_range) {  // past int64_t: say both ends
    throw InvalidArgument(detail::concat(flag, " must be between ", min, " and ", max, " (got ", text, ")"));
  }
  MD_CHECK(ec == std::errc() && end == digits.data() + digits.size(), flag, " must be an integer (got '", text, "')");
  MD_CHECK(allows(v), flag, " ", range(), " (got ", v, ")");
  return v;
}

std::string PositiveSetting::range() const {
  if (max == std::numeric_limits<double>::infinity()) return "must be > 0";
  return detail::concat("must be > 0 and at most ", max);
}

void PositiveSetting::check_flag(double v) const { MD_CHECK(allows(v), flag, " ", range(), " (got ", v, ")"); }

study::OptimizeOptions optimize_options(const TuneConfig& cfg) {
  study::OptimizeOptions opts;
  opts.n_trials = cfg.trials;
  opts.jobs = cfg.jobs;
  opts.seed = cfg.seed;
  opts.max_consecutive_failures = cfg.max_consecutive_failures;
  opts.retry_failed = cfg.retry_failed;
  if (cfg.max_cost) opts.max_cost = *cfg.max_cost;
  if (cfg.max_wall_s) opts.max_wall_s = *cfg.max_wall_s;
  if (cfg.trial_timeout_s) opts.trial_timeout_s = *cfg.trial_timeout_s;
  opts.heartbeat_interval_s = cfg.heartbeat_interval_s;
  opts.heartbeat_timeout_s = cfg.heartbeat_timeout_s;
  opts.validate();
  return opts;
}

TuneConfig parse_tune_config(const std::string& text, const std::string& name) {
  return from_table(config::parse_toml(text, name));
}

TuneConfig load_tune_config(const std::string& path) { return from_table(config::load_toml(path)); }

ConfigError objective_error(const TuneConfig& cfg, const std::string& what) {
  return ConfigError(detail::concat(cfg.file, ":", cfg.objective_line, ": ", what));
}

}  // namespace metadial::cli
