#include "cli/tune_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "metadial/core/error.h"

namespace metadial::cli {
namespace {

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

[[noreturn]] void fail(const std::string& file, int line, const std::string& msg) {
  throw ConfigError(detail::concat(file, ":", line, ": ", msg));
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

class TableReader {
 public:
  TableReader(const std::string& file, const toml::table& t, std::string where, std::set<std::string> known)
      : file_(file), t_(t), where_(std::move(where)), known_(std::move(known)) {
    for (const auto& [k, v] : t_) {
      if (!known_.count(std::string(k.str()))) {
        std::string list;
        for (const auto& n : known_) list += (list.empty() ? "" : ", ") + n;
        fail(file_, line_of(v), detail::concat("unknown key '", k.str(), "' in ", where_, " (expected one of: ", list,
                                               ")"));
      }
    }
  }

  const toml::node* get(const std::string& key) const { return t_.get(key); }

  std::optional<std::string> str(const std::string& key) const {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) wrong(*n, key, "a string");
    return n->value<std::string>();
  }
  std::optional<int64_t> integer(const std::string& key) const {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) wrong(*n, key, "an integer");
    return n->value<int64_t>();
  }
  std::optional<double> number(const std::string& key) const {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_number()) wrong(*n, key, "a number");
    return n->value<double>();
  }
  std::optional<bool> boolean(const std::string& key) const {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) wrong(*n, key, "true or false");
    return n->value<bool>();
  }
  int line(const std::string& key) const {
    const auto* n = get(key);
    return n ? line_of(*n) : line_of(t_);
  }
  [[noreturn]] void wrong(const toml::node& n, const std::string& key, const char* expected) const {
    fail(file_, line_of(n), detail::concat(where_, " ", key, " must be ", expected, ", got ", type_name(n)));
  }
  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }

 private:
  const std::string& file_;
  const toml::table& t_;
  std::string where_;
  std::set<std::string> known_;
};

nlohmann::json to_json(const toml::node& n) {
  if (const auto* t = n.as_table()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : *t) j[std::string(k.str())] = to_json(v);
    return j;
  }
  if (const auto* a = n.as_array()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& v : *a) j.push_back(to_json(v));
    return j;
  }
  if (n.is_string()) return *n.value<std::string>();
  if (n.is_integer()) return *n.value<int64_t>();
  if (n.is_floating_point()) return *n.value<double>();
  if (n.is_boolean()) return *n.value<bool>();
  // Dates and times: kept as their TOML text.
  std::ostringstream out;
  n.visit([&](const auto& v) {
    if constexpr (toml::is_date<decltype(v)> || toml::is_time<decltype(v)> || toml::is_date_time<decltype(v)>) out << v;
  });
  return out.str();
}

space::Distribution parse_param(const TableReader& r, const std::string& name, int line) {
  const auto type = r.str("type");
  if (!type) fail(r.file(), line, detail::concat(r.where(), " needs type = \"float\", \"int\" or \"categorical\""));
  auto need_number = [&](const char* key) {
    auto v = r.number(key);
    if (!v) fail(r.file(), line, detail::concat(r.where(), " needs ", key));
    return *v;
  };
  try {
    if (*type == "float") {
      for (const char* k : {"choices", "step"}) {
        if (r.get(k)) fail(r.file(), r.line(k), detail::concat(r.where(), ": '", k, "' does not apply to a float parameter"));
      }
      space::FloatParam p{need_number("low"), need_number("high"), r.boolean("log").value_or(false)};
      space::validate(name, p);
      return p;
    }
    if (*type == "int") {
      if (r.get("choices")) fail(r.file(), r.line("choices"), r.where() + ": 'choices' does not apply to an int parameter");
      space::IntParam p;
      auto lo = r.integer("low"), hi = r.integer("high");
      if (!lo || !hi) fail(r.file(), line, r.where() + " needs integer low and high");
      p.low = *lo;
      p.high = *hi;
      p.step = r.integer("step").value_or(1);
      p.log = r.boolean("log").value_or(false);
      space::validate(name, p);
      return p;
    }
    if (*type == "categorical") {
      for (const char* k : {"low", "high", "step", "log"}) {
        if (r.get(k)) fail(r.file(), r.line(k), detail::concat(r.where(), ": '", k, "' does not apply to a categorical parameter"));
      }
      const auto* n = r.get("choices");
      if (!n) fail(r.file(), line, r.where() + " needs choices = [\"a\", \"b\", ...]");
      const auto* arr = n->as_array();
      if (!arr) r.wrong(*n, "choices", "an array of strings");
      space::CategoricalParam p;
      for (const auto& c : *arr) {
        if (!c.is_string()) fail(r.file(), line_of(c), r.where() + " choices must be strings");
        p.choices.push_back(*c.value<std::string>());
      }
      space::validate(name, p);
      return p;
    }
  } catch (const InvalidArgument& e) {
    fail(r.file(), line, e.what());
  }
  fail(r.file(), r.line("type"),
       detail::concat(r.where(), " type '", *type, "' is unknown (expected float, int or categorical)"));
}

}  // namespace

TuneConfig parse_tune_config(const std::string& text, const std::string& name) {
  TuneConfig cfg;
  cfg.file = name;
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    fail(name, static_cast<int>(e.source().begin.line), std::string(e.description()));
  }
  TableReader top(cfg.file, root, "the top level", {"study", "sampler", "objective", "space"});
  for (const char* section : {"study", "sampler", "objective", "space"}) {
    if (const auto* n = root.get(section); n && !n->is_table()) {
      fail(cfg.file, line_of(*n), detail::concat("'", section, "' must be a table ([", section, "])"));
    }
  }

  if (const auto* t = root.get_as<toml::table>("study")) {
    TableReader r(cfg.file, *t, "[study]",
                  {"name", "sampler", "trials", "seed", "jobs", "direction", "max_cost", "max_wall_s",
                   "trial_timeout_s", "max_consecutive_failures", "storage"});
    cfg.study_name = r.str("name");
    cfg.sampler = r.str("sampler").value_or(cfg.sampler);
    cfg.trials = r.integer("trials").value_or(cfg.trials);
    if (cfg.trials < 0) fail(cfg.file, r.line("trials"), "[study] trials must be >= 0");
    if (auto s = r.integer("seed")) {
      if (*s < 0) fail(cfg.file, r.line("seed"), "[study] seed must be >= 0");
      cfg.seed = static_cast<uint64_t>(*s);
    }
    if (auto j = r.integer("jobs")) {
      if (*j < 1 || *j > 1024) fail(cfg.file, r.line("jobs"), "[study] jobs must be between 1 and 1024");
      cfg.jobs = static_cast<int>(*j);
    }
    cfg.direction = r.str("direction");
    if (cfg.direction && *cfg.direction != "minimize" && *cfg.direction != "maximize") {
      fail(cfg.file, r.line("direction"), "[study] direction must be \"minimize\" or \"maximize\"");
    }
    auto positive = [&](const char* key) {
      auto v = r.number(key);
      if (v && !(*v > 0)) fail(cfg.file, r.line(key), detail::concat("[study] ", key, " must be > 0"));
      return v;
    };
    cfg.max_cost = positive("max_cost");
    cfg.max_wall_s = positive("max_wall_s");
    cfg.trial_timeout_s = positive("trial_timeout_s");
    if (auto k = r.integer("max_consecutive_failures")) {
      if (*k < 1) fail(cfg.file, r.line("max_consecutive_failures"), "[study] max_consecutive_failures must be >= 1");
      cfg.max_consecutive_failures = static_cast<int>(*k);
    }
    cfg.storage = r.str("storage");
  }

  if (const auto* t = root.get_as<toml::table>("sampler")) {
    cfg.sampler_options = to_json(*t);
    cfg.sampler_line = line_of(*t);
  }

  const auto* obj = root.get_as<toml::table>("objective");
  if (!obj) fail(cfg.file, 1, "missing [objective] table (function = \"branin\" or command = [\"./train.sh\", ...])");
  cfg.objective_line = line_of(*obj);
  const auto* fn = obj->get("function");
  const auto* cmd = obj->get("command");
  if (fn && cmd) fail(cfg.file, line_of(*cmd), "[objective] has both function and command; keep one");
  if (!fn && !cmd) fail(cfg.file, cfg.objective_line, "[objective] needs function = \"NAME\" or command = [\"prog\", ...]");
  if (fn) {
    if (!fn->is_string()) fail(cfg.file, line_of(*fn), detail::concat("[objective] function must be a string, got ", type_name(*fn)));
    cfg.function = *fn->value<std::string>();
  } else {
    const auto* arr = cmd->as_array();
    if (!arr || arr->empty()) fail(cfg.file, line_of(*cmd), "[objective] command must be a non-empty array of strings");
    for (const auto& a : *arr) {
      if (!a.is_string()) fail(cfg.file, line_of(a), "[objective] command must be an array of strings");
    }
  }
  for (const auto& [k, v] : *obj) {
    if (k.str() != "function") cfg.objective_options[std::string(k.str())] = to_json(v);
  }

  if (const auto* sp = root.get_as<toml::table>("space")) {
    space::SearchSpace space;
    for (const auto& [k, v] : *sp) {
      const std::string pname(k.str());
      const auto* pt = v.as_table();
      if (!pt) fail(cfg.file, line_of(v), detail::concat("[space] entry '", pname, "' must be a table ([space.", pname, "])"));
      TableReader r(cfg.file, *pt, "[space." + pname + "]", {"type", "low", "high", "log", "step", "choices"});
      space.add(pname, parse_param(r, pname, line_of(*pt)));
    }
    if (space.empty()) fail(cfg.file, line_of(*sp), "[space] defines no parameter");
    cfg.space = std::move(space);
  }
  return cfg;
}

TuneConfig load_tune_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(detail::concat(path, ": cannot read the config file (does it exist?)"));
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_tune_config(buf.str(), path);
}

}  // namespace metadial::cli
