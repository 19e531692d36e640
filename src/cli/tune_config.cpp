#include "cli/tune_config.h"

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
  root.expect_keys({"study", "sampler", "objective", "space"});

  if (const auto r = root.table("study")) {
    r->expect_keys({"name", "sampler", "trials", "seed", "jobs", "direction", "max_cost", "max_wall_s",
                    "trial_timeout_s", "max_consecutive_failures", "storage"});
    cfg.study_name = r->string("name");
    cfg.sampler = r->string("sampler").value_or(cfg.sampler);
    cfg.trials = r->integer("trials").value_or(cfg.trials);
    if (cfg.trials < 0) r->invalid("trials", "must be >= 0");
    if (auto s = r->integer("seed")) {
      if (*s < 0) r->invalid("seed", "must be >= 0");
      cfg.seed = static_cast<uint64_t>(*s);
    }
    if (auto j = r->integer("jobs")) {
      if (*j < 1 || *j > 1024) r->invalid("jobs", "must be between 1 and 1024");
      cfg.jobs = static_cast<int>(*j);
    }
    cfg.direction = r->string("direction");
    if (cfg.direction && *cfg.direction != "minimize" && *cfg.direction != "maximize") {
      r->invalid("direction", "must be \"minimize\" or \"maximize\"");
    }
    auto positive = [&](const char* key) {
      auto v = r->number(key);
      if (v && !(*v > 0)) r->invalid(key, "must be > 0");
      return v;
    };
    cfg.max_cost = positive("max_cost");
    cfg.max_wall_s = positive("max_wall_s");
    cfg.trial_timeout_s = positive("trial_timeout_s");
    if (auto k = r->integer("max_consecutive_failures")) {
      if (*k < 1) r->invalid("max_consecutive_failures", "must be >= 1");
      cfg.max_consecutive_failures = static_cast<int>(*k);
    }
    cfg.storage = r->string("storage");
  }

  if (const auto t = root.table("sampler")) {
    cfg.sampler_options = t->json();
    cfg.sampler_line = t->line();
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

}  // namespace

TuneConfig parse_tune_config(const std::string& text, const std::string& name) {
  return from_table(config::parse_toml(text, name));
}

TuneConfig load_tune_config(const std::string& path) { return from_table(config::load_toml(path)); }

ConfigError objective_error(const TuneConfig& cfg, const std::string& what) {
  return ConfigError(detail::concat(cfg.file, ":", cfg.objective_line, ": ", what));
}

}  // namespace metadial::cli
