#include "cli/commands.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metadial/core/config.h"
#include "metadial/core/error.h"
#include "metadial/core/text.h"
#include "metadial/core/interrupt.h"
#include "metadial/core/progress.h"
#include "metadial/objective/registry.h"
#include "metadial/objective/tabular.h"
#if METADIAL_WITH_TORCH
#include "metadial/optim/hyprl/sampler.h"
#include "metadial/optim/learned/sampler.h"
#endif
#include "metadial/optim/pruner.h"
#include "metadial/optim/sampler.h"
#include "metadial/storage/storage.h"
#include "metadial/study/study.h"
#if METADIAL_WITH_TORCH
#include "metadial/train/dialogue_objective.h"
#endif

namespace metadial::cli {
namespace {

using study::FrozenTrial;
using study::TrialState;

// The search space of a config's study: the objective's own, or the config's [space].
space::SearchSpace study_space(const TuneConfig& cfg, const objective::Objective& objective) {
  if (auto own = objective.default_space()) {
    if (cfg.space && !(*cfg.space == *own)) {
      throw ConfigError(detail::concat(cfg.file, ":", cfg.objective_line, ": objective '", objective.name(),
                                       "' defines its own search space; remove the [space] tables"));
    }
    return *own;
  }
  if (!cfg.space) {
    throw ConfigError(detail::concat(cfg.file, ":", cfg.objective_line,
                                     ": this objective needs a search space: add [space.NAME] tables"));
  }
  return *cfg.space;
}

// [study] direction, else the objective's.
study::Direction study_direction(const TuneConfig& cfg, const objective::Objective& objective) {
  if (cfg.direction) return study::direction_from_string(*cfg.direction);
  return objective.minimize() ? study::Direction::kMinimize : study::Direction::kMaximize;
}

// The objective's target fidelity: where a queued configuration runs.
int target_fidelity(const objective::Objective& objective) {
  return static_cast<int>(objective.fidelities().size()) - 1;
}

// A configuration from `--params NAME=VALUE ...`: every parameter of the space once, each value
// read as its parameter's type and within its bounds; InvalidArgument "--params: ..." otherwise.
space::Config config_from_flags(const std::vector<std::string>& items, const space::SearchSpace& space) {
  std::string names;
  for (const auto& p : space.params()) names += (names.empty() ? "" : ", ") + p.name;
  space::Config config;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    MD_CHECK(eq != std::string::npos && eq > 0, "--params: '", item, "' is not NAME=VALUE");
    const std::string key = item.substr(0, eq);
    const std::string text = item.substr(eq + 1);
    const auto& ps = space.params();
    const auto it = std::find_if(ps.begin(), ps.end(), [&](const space::Parameter& p) { return p.name == key; });
    MD_CHECK(it != ps.end(), "--params: '", key, "' is not a parameter of the search space (its parameters: ", names,
             ")");
    MD_CHECK(!config.contains(key), "--params: ", key, " is given twice");
    space::Value value;
    if (std::holds_alternative<space::FloatParam>(it->dist)) {
      double x = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
      MD_CHECK(ec == std::errc() && end == text.data() + text.size(), "--params: ", key, " is a float parameter; '",
               text, "' is not a number");
      value = x;
    } else if (std::holds_alternative<space::IntParam>(it->dist)) {
      int64_t x = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
      MD_CHECK(ec == std::errc() && end == text.data() + text.size(), "--params: ", key, " is an int parameter; '",
               text, "' is not an integer");
      value = x;
    } else {
      value = text;
    }
    space::SearchSpace one;
    one.add(it->name, it->dist);
    try {
      one.encode({{key, value}});
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("--params: ") + e.what());
    }
    config.emplace(key, std::move(value));
  }
  for (const auto& p : space.params()) {
    MD_CHECK(config.contains(p.name), "--params: ", p.name, " is missing (give every parameter: ", names, ")");
  }
  return config;
}

std::string fmt_value(std::optional<double> v) { return v ? fmt::format("{:.6g}", *v) : "-"; }

// Every cell as text::escape_controls(cell): names, values and failure reasons come from users and programs.
std::vector<std::vector<std::string>> printable_rows(std::vector<std::vector<std::string>> rows) {
  for (auto& r : rows) {
    for (auto& cell : r) cell = text::escape_controls(cell);
  }
  return rows;
}

// A plain text table with left-aligned columns (cells made printable).
std::string render_table(const std::vector<std::string>& header_in,
                         const std::vector<std::vector<std::string>>& rows_in) {
  const std::vector<std::string> header = printable_rows({header_in}).front();
  const std::vector<std::vector<std::string>> rows = printable_rows(rows_in);
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); ++i) w[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < cells.size(); ++i) {
      s += cells[i];
      if (i + 1 < cells.size()) s += std::string(w[i] - cells[i].size() + 2, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  };
  line(header);
  std::vector<std::string> rule;
  for (size_t x : w) rule.push_back(std::string(x, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
  return out.str();
}

// "key    value" lines, keys padded to one width (made printable).
std::string render_pairs(const std::vector<std::vector<std::string>>& rows_in) {
  const std::vector<std::vector<std::string>> rows = printable_rows(rows_in);
  size_t w = 0;
  for (const auto& r : rows) w = std::max(w, r[0].size());
  std::string out;
  for (const auto& r : rows) out += r[0] + std::string(w - r[0].size() + 2, ' ') + r[1] + "\n";
  return out;
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Which study to read: the one named, or the only one in the storage.
study::Study pick_study(storage::Storage& storage, const std::optional<std::string>& name, const std::string& url) {
  if (name) return study::Study::load(storage, *name);
  auto all = storage.list_studies();
  if (all.size() == 1) return study::Study::load(storage, all.front().name);
  if (all.empty()) {
    throw InvalidArgument("storage '" + text::escape_controls(storage::mask_password(url)) + "' holds no study yet (run `metadial tune` first)");
  }
  std::string names;
  for (const auto& s : all) names += (names.empty() ? "" : ", ") + text::escape_controls(s.name);
  throw InvalidArgument("storage '" + text::escape_controls(storage::mask_password(url)) + "' holds several studies (" + names +
                        "); choose one with --study NAME");
}

std::string study_name_from_path(const std::string& path) {
  std::string stem = std::filesystem::path(path).stem().string();
  return stem.empty() ? "study" : stem;
}

nlohmann::json best_params_json(const std::optional<FrozenTrial>& best) {
  return best ? space::to_json(best->params) : nlohmann::json(nullptr);
}

// Applies the flags of `tune` over its config. Each flag is checked against the same range as its
// [study] key (tune_config.h), naming the flag; the integer ones already while parsing (declare_tune),
// again here for callers that fill TuneArgs themselves.
void apply_tune_flags(const TuneArgs& args, TuneConfig& cfg) {
  auto integer = [](const IntSetting& setting, auto v) {
    MD_CHECK(std::cmp_greater_equal(v, setting.min) && std::cmp_less_equal(v, setting.max), setting.flag, " ",
             setting.range(), " (got ", v, ")");
    return static_cast<int64_t>(v);
  };
  if (args.sampler) cfg.sampler = *args.sampler;
  if (args.pruner && *args.pruner != cfg.pruner) {
    // Another pruner than the config's: the [pruner] table's options are its, not this one's.
    cfg.pruner = *args.pruner;
    cfg.pruner_options = nlohmann::json::object();
    cfg.pruner_line = 0;
    cfg.pruner_type_line = 0;
  }
  if (args.trials) cfg.trials = integer(kTrialsSetting, *args.trials);
  if (args.jobs) cfg.jobs = static_cast<int>(integer(kJobsSetting, *args.jobs));
  if (args.seed) cfg.seed = static_cast<uint64_t>(integer(kSeedSetting, *args.seed));
  if (args.retry_failed) cfg.retry_failed = static_cast<int>(integer(kRetryFailedSetting, *args.retry_failed));
  if (args.max_cost) {
    kMaxCostSetting.check_flag(*args.max_cost);
    cfg.max_cost = *args.max_cost;
  }
  if (args.max_wall_s) {
    kMaxWallSetting.check_flag(*args.max_wall_s);
    cfg.max_wall_s = *args.max_wall_s;
  }
  if (args.heartbeat_interval_s) {
    kHeartbeatIntervalSetting.check_flag(*args.heartbeat_interval_s);
    cfg.heartbeat_interval_s = *args.heartbeat_interval_s;
  }
  if (args.heartbeat_timeout_s) {
    kHeartbeatTimeoutSetting.check_flag(*args.heartbeat_timeout_s);
    cfg.heartbeat_timeout_s = *args.heartbeat_timeout_s;
  }
  if (!(cfg.heartbeat_timeout_s > cfg.heartbeat_interval_s)) {
    // A config's own pair was checked when it was read: a flag made them cross.
    MD_CHECK(!args.heartbeat_timeout_s, kHeartbeatTimeoutSetting.flag, " ", cfg.heartbeat_timeout_s,
             " must exceed the heartbeat interval (", cfg.heartbeat_interval_s, " s)");
    throw InvalidArgument(detail::concat(kHeartbeatIntervalSetting.flag, " ", cfg.heartbeat_interval_s,
                                         " must be below the heartbeat timeout (", cfg.heartbeat_timeout_s, " s)"));
  }
}

// A CLI11 check that parses an integer flag's text itself, so that an out-of-range value is
// refused in one line naming the flag (InvalidArgument, exit 2) instead of being clamped or
// wrapped by the conversion to the flag's type.
CLI::Validator integer_in(const IntSetting& setting) {
  const std::string hint = setting.max == std::numeric_limits<int64_t>::max()
                               ? detail::concat(">= ", setting.min)
                               : detail::concat(setting.min, "..", setting.max);
  return CLI::Validator(
      [&setting](std::string& text) {
        setting.parse_flag(text);
        return std::string();
      },
      hint);
}

// The pruner of a config (or of --pruner), checked against the objective: a refusal is one line
// naming the config's [pruner] line, or --pruner when the flag chose it. A pruner that can never act
// (the objective reports no intermediate values) is a warning on stderr, not an error.
std::unique_ptr<optim::Pruner> make_pruner(const TuneConfig& cfg, const objective::Objective& objective,
                                           study::Direction direction) {
  optim::PrunerRegistry pruners;
  optim::register_builtin_pruners(pruners);
  const std::string where =
      cfg.pruner_line > 0 ? detail::concat(cfg.file, ":", cfg.pruner_line) : std::string("--pruner");
  std::unique_ptr<optim::Pruner> pruner;
  try {
    pruner = pruners.create(cfg.pruner, cfg.pruner_options);
    pruner->validate(study::pruner_context(direction, objective));
  } catch (const InvalidArgument& e) {
    if (cfg.pruner_line == 0) throw InvalidArgument(std::string("--pruner: ") + e.what());
    const int line = pruners.contains(cfg.pruner) ? cfg.pruner_line : cfg.pruner_type_line;
    throw ConfigError(detail::concat(cfg.file, ":", line, ": ", e.what()));
  }
  if (pruner->prunes() && !objective.reports_intermediate()) {
    std::cerr << "metadial: warning: " << where << ": pruner '" << cfg.pruner << "' will prune nothing: objective '"
              << text::escape_controls(objective.name()) << "' reports no intermediate values\n";
  }
  return pruner;
}

}  // namespace

std::unique_ptr<objective::Objective> make_objective(const TuneConfig& cfg) {
  if (!cfg.function.empty()) {
    objective::ObjectiveRegistry registry;
    objective::register_builtin_objectives(registry);
    objective::register_tabular_objective(registry);
#if METADIAL_WITH_TORCH
    train::register_dialogue_objectives(registry, cfg.space);
#endif
    try {
      return registry.create(cfg.function, cfg.objective_options);
    } catch (const InvalidArgument& e) {
      throw objective_error(cfg, e.what());
    }
  }
  return make_command_objective(cfg);
}

void declare_tune(CLI::App& c, TuneArgs& a) {
  c.add_option("config", a.config_path, "config file (TOML)")->required()->check(CLI::ExistingFile);
  c.add_option("--storage", a.storage, "memory | sqlite:PATH | postgresql://USER@HOST[:PORT]/DB (default sqlite:metadial.db)");
  c.add_option("--study", a.study, "study name (default: [study] name, else the config's file name)");
  c.add_option("--sampler", a.sampler, "random | sobol | lhs | gp | tpe | bohb | lstm | lstm-mf | pfn | hyprl (overrides [study] sampler)");
  c.add_option("--pruner", a.pruner,
               "none | median | percentile | asha | hyperband (overrides [pruner] type; the [pruner] options "
               "apply only to the type they were written for)");
  c.add_option("--trials", a.trials, "complete trials the study should reach")->check(integer_in(kTrialsSetting));
  c.add_option("--jobs", a.jobs, "trials evaluated in parallel")->check(integer_in(kJobsSetting));
  c.add_option("--seed", a.seed, "random seed")->check(integer_in(kSeedSetting));
  c.add_option("--max-cost", a.max_cost, "total cost budget of the study");
  c.add_option("--max-wall", a.max_wall_s, "wall-time budget of this run, seconds");
  c.add_option("--heartbeat-interval", a.heartbeat_interval_s,
               "seconds between the heartbeats of this run's running trials (default 5)");
  c.add_option("--heartbeat-timeout", a.heartbeat_timeout_s,
               "seconds of silence after which another worker's running trial is failed (default 120)");
  c.add_option("--retry-failed", a.retry_failed,
               "re-run a trial whose worker went silent or died up to K times, same params (default 0)")
      ->check(integer_in(kRetryFailedSetting));
  c.add_flag("--json", a.json, "print one JSON summary as the last line of stdout");
}

void declare_studies(CLI::App& c, ReadArgs& a) {
  c.add_option("--storage", a.storage, "memory | sqlite:PATH | postgresql://USER@HOST[:PORT]/DB")->capture_default_str();
}

void declare_trials(CLI::App& c, ReadArgs& a) {
  declare_studies(c, a);
  c.add_option("--study", a.study, "study name (default: the only study in the storage)");
  c.add_flag("--csv", a.csv, "CSV instead of a table");
}

void declare_best(CLI::App& c, ReadArgs& a) {
  declare_studies(c, a);
  c.add_option("--study", a.study, "study name (default: the only study in the storage)");
  c.add_flag("--json", a.json, "one JSON object");
}

void declare_enqueue(CLI::App& c, EnqueueArgs& a) {
  c.add_option("config", a.config_path, "config file (TOML) of the study, as for tune")
      ->required()
      ->check(CLI::ExistingFile);
  c.add_option("--storage", a.storage, "memory | sqlite:PATH | postgresql://USER@HOST[:PORT]/DB (default: as tune)");
  c.add_option("--study", a.study, "study name (default: [study] name, else the config's file name)");
  c.add_option("--params", a.params, "the configuration: NAME=VALUE for every parameter of the space");
  c.add_option("--file", a.file, "or the configuration as a TOML or JSON file (one table of NAME = value)")
      ->check(CLI::ExistingFile);
  c.add_flag("--skip-if-present", a.skip_if_present,
             "queue nothing if the study has the configuration already (queued, or in a trial that did not fail)");
}

int run_enqueue(const EnqueueArgs& args, std::ostream& out) {
  const TuneConfig cfg = load_tune_config(args.config_path);
  const std::string url = args.storage.value_or(cfg.storage.value_or(kDefaultStorage));
  const std::string name = args.study.value_or(cfg.study_name.value_or(study_name_from_path(cfg.file)));
  MD_CHECK(args.params.empty() != !args.file.has_value(),
           "enqueue: give the configuration either with --params NAME=VALUE ... or with --file PATH");
  const auto objective = make_objective(cfg);
  const space::SearchSpace space = study_space(cfg, *objective);
  space::Config config;
  if (args.file) {
    const bool json = std::filesystem::path(*args.file).extension() == ".json";
    config = enqueued_config(json ? config::load_json(*args.file) : config::load_toml(*args.file), space);
  } else {
    config = config_from_flags(args.params, space);
  }
  auto storage = storage::open_storage(url);
  // A study created here records what `tune` would (attrs are for reports; the first writer sets them).
  auto study = study::Study::create_or_load(*storage, name, space, study_direction(cfg, *objective),
                                            {{"sampler", cfg.sampler},
                                             {"objective", objective->name()},
                                             {"seed", cfg.seed},
                                             {"config", std::filesystem::absolute(cfg.file).string()}});
  const auto queued = study.enqueue(config, target_fidelity(*objective), args.skip_if_present);
  const size_t waiting = study.queued().size();
  out << (queued ? "queued " : "not queued (the study has it already) ")
      << text::escape_controls(space::to_string(config)) << " in study '" << text::escape_controls(name) << "' ("
      << waiting << (waiting == 1 ? " configuration" : " configurations") << " waiting)\n";
  return 0;
}

int run_tune(const TuneArgs& args, std::ostream& out) {
  TuneConfig cfg = load_tune_config(args.config_path);
  apply_tune_flags(args, cfg);
  const std::string url = args.storage.value_or(cfg.storage.value_or(kDefaultStorage));
  const std::string name = args.study.value_or(cfg.study_name.value_or(study_name_from_path(cfg.file)));

  // Everything a user can get wrong in the config is checked before the storage is touched.
  auto objective = make_objective(cfg);
  const space::SearchSpace space = study_space(cfg, *objective);
  std::vector<space::Config> enqueued;
  for (const auto& t : cfg.enqueue) enqueued.push_back(enqueued_config(t, space));
  optim::SamplerRegistry samplers;
  optim::register_builtin_samplers(samplers);
#if METADIAL_WITH_TORCH
  optim::hyprl::register_hyprl_sampler(samplers);
  optim::learned::register_learned_samplers(samplers);
#endif
  std::unique_ptr<optim::Sampler> sampler;
  try {
    sampler = samplers.create(cfg.sampler, cfg.sampler_options);
  } catch (const InvalidArgument& e) {
    if (args.sampler && !samplers.contains(cfg.sampler)) throw InvalidArgument(std::string("--sampler: ") + e.what());
    throw ConfigError(detail::concat(cfg.file, ":", std::max(cfg.sampler_line, 1), ": ", e.what()));
  }
  const study::Direction direction = study_direction(cfg, *objective);
  const std::unique_ptr<optim::Pruner> pruner = make_pruner(cfg, *objective, direction);

  study::OptimizeOptions opts = optimize_options(cfg);

  auto storage = storage::open_storage(url);
  nlohmann::json attrs = {{"sampler", cfg.sampler},
                          {"objective", objective->name()},
                          {"seed", cfg.seed},
                          {"config", std::filesystem::absolute(cfg.file).string()}};
  if (pruner->prunes()) attrs["pruner"] = cfg.pruner;
  if (const auto log_dir = command_log_dir(cfg)) attrs["log_dir"] = *log_dir;  // for the dashboard's trial detail
  auto study = study::Study::create_or_load(*storage, name, space, direction, attrs);
  // [[enqueue]]: queued once, however often the study is resumed or how many workers start with it.
  int64_t n_enqueued = 0;
  for (const auto& c : enqueued) {
    if (study.enqueue(c, target_fidelity(*objective), /*skip_if_present=*/true)) ++n_enqueued;
  }
  if (n_enqueued > 0) {
    std::cerr << "tune: queued " << n_enqueued << (n_enqueued == 1 ? " configuration" : " configurations")
              << " from [[enqueue]] to run first\n";
  }

  // With a cost budget the bar counts the cost spent of it (the study ends there, usually long
  // before its trials), else the trials.
  const bool by_cost = std::isfinite(opts.max_cost);
  ProgressDisplay progress = by_cost ? ProgressDisplay("tune " + text::escape_controls(name), opts.max_cost, "cost")
                                     : ProgressDisplay("tune " + text::escape_controls(name), cfg.trials);
  const auto known = objective->known_optimum();
  opts.on_trial_finished = [&](const study::Progress& p) {
    std::string status = "best " + fmt_value(p.best_value);
    if (known && p.best_value) status += fmt::format(" (regret {:.3g})", *p.best_value - *known);
    if (p.n_failed_run > 0) status += fmt::format("  failed {}", p.n_failed_run);
    if (by_cost) {
      status = fmt::format("{} trials  ", p.n_counted) + status;
      progress.update_amount(p.total_cost, status);
    } else {
      progress.update(p.n_counted, status);
    }
  };
  opts.on_warning = [&](const std::string& line) { progress.message("tune: warning: " + text::escape_controls(line)); };
  const study::OptimizeResult r = study::optimize(study, *objective, *sampler, *pruner, opts);
  progress.finish();

  std::vector<std::vector<std::string>> rows = {
      {"study", name + "  (" + storage::mask_password(url) + ")"},
      {"sampler", cfg.sampler},
      {"objective", objective->name()},
      {"trials", fmt::format("{} complete, {} pruned, {} failed ({} run now{}{})", r.n_complete, r.n_pruned, r.n_failed,
                             r.n_run, r.n_recovered ? fmt::format(", {} abandoned marked failed", r.n_recovered) : "",
                             r.n_refused ? fmt::format(", {} late results refused", r.n_refused) : "")},
      {"stopped", r.stop_reason == study::StopReason::kInterrupted
                      ? std::string("interrupted by ") + interrupt::signal_name(interrupt::requested())
                      : std::string(to_string(r.stop_reason))},
      {"best value", r.best ? fmt_value(r.best->value) + fmt::format("  (trial {})", r.best->number) : "-"},
  };
  if (pruner->prunes()) rows.insert(rows.begin() + 2, {"pruner", cfg.pruner});
  if (known && r.best) rows.push_back({"simple regret", fmt::format("{:.6g}", *r.best->value - *known)});
  if (r.best) rows.push_back({"best params", space::to_string(r.best->params)});
  rows.push_back({"total cost", fmt::format("{:.6g}", r.total_cost)});
  rows.push_back({"wall time", fmt::format("{:.2f} s", r.wall_seconds)});
  out << render_pairs(rows);

  if (args.json) {
    nlohmann::json j = {{"study", name},
                        {"storage", storage::mask_password(url)},
                        {"sampler", cfg.sampler},
                        {"pruner", cfg.pruner},
                        {"objective", objective->name()},
                        {"n_trials", r.n_complete + r.n_pruned + r.n_failed},
                        {"n_complete", r.n_complete},
                        {"n_pruned", r.n_pruned},
                        {"n_failed", r.n_failed},
                        {"n_run", r.n_run},
                        {"stop_reason", to_string(r.stop_reason)},
                        {"best_value", r.best ? nlohmann::json(*r.best->value) : nlohmann::json(nullptr)},
                        {"best_params", best_params_json(r.best)},
                        {"best_trial", r.best ? nlohmann::json(r.best->number) : nlohmann::json(nullptr)},
                        {"total_cost", r.total_cost},
                        {"wall_seconds", r.wall_seconds}};
    if (known && r.best) j["simple_regret"] = *r.best->value - *known;
    out << j.dump() << "\n";
  }
  out.flush();
  if (r.stop_reason == study::StopReason::kFailures) {
    throw Error(detail::concat("study '", text::escape_controls(name), "' stopped after ", cfg.max_consecutive_failures,
                               " failed trials in a row; last: ", text::escape_controls(r.last_failure)));
  }
  // Stopped by Ctrl-C / SIGTERM / SIGHUP: the summary above, then 128 + the signal.
  if (r.stop_reason == study::StopReason::kInterrupted && interrupt::exit_code() != 0) return interrupt::exit_code();
  return 0;
}

int run_trials(const ReadArgs& args, std::ostream& out) {
  auto storage = storage::open_storage(args.storage, storage::OpenMode::kReadOnly);
  auto study = pick_study(*storage, args.study, args.storage);
  const auto trials = study.trials();
  std::vector<std::string> header = {"number", "state", "value", "fidelity", "cost", "seconds"};
  for (const auto& p : study.space().params()) header.push_back(p.name);
  header.push_back("reason");
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : trials) {
    std::vector<std::string> row = {std::to_string(t.number), to_string(t.state),
                                    args.csv && t.value ? fmt::format("{:.17g}", *t.value) : fmt_value(t.value),
                                    std::to_string(t.fidelity), fmt::format("{:.6g}", t.cost),
                                    fmt::format("{:.3f}", t.duration())};
    for (const auto& p : study.space().params()) {
      auto it = t.params.find(p.name);
      row.push_back(it == t.params.end() ? "-" : space::to_string(it->second));
    }
    row.push_back(t.fail_reason);
    rows.push_back(std::move(row));
  }
  if (args.csv) {
    auto line = [&](const std::vector<std::string>& cells) {
      for (size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << csv_escape(cells[i]);
      out << "\n";
    };
    line(header);
    for (const auto& r : rows) line(r);
  } else {
    out << "study " << text::escape_controls(study.name()) << " (" << to_string(study.direction()) << "), " << trials.size()
        << " trials\n";
    out << render_table(header, rows);
    const auto queued = study.queued();
    if (!queued.empty()) {
      out << queued.size() << (queued.size() == 1 ? " configuration" : " configurations")
          << " queued, run first by the next trials:\n";
      for (const auto& q : queued) out << "  " << text::escape_controls(space::to_string(q.params)) << "\n";
    }
  }
  return 0;
}

int run_best(const ReadArgs& args, std::ostream& out) {
  auto storage = storage::open_storage(args.storage, storage::OpenMode::kReadOnly);
  auto study = pick_study(*storage, args.study, args.storage);
  auto best = study.best_trial();
  if (!best) throw InvalidArgument("study '" + text::escape_controls(study.name()) + "' has no complete trial yet");
  if (args.json) {
    out << nlohmann::json{{"study", study.name()},
                          {"best_trial", best->number},
                          {"best_value", *best->value},
                          {"best_params", space::to_json(best->params)},
                          {"fidelity", best->fidelity}}
               .dump()
        << "\n";
    return 0;
  }
  out << "study " << text::escape_controls(study.name()) << ": best trial " << best->number << ", value "
      << fmt::format("{:.10g}", *best->value) << "\n";
  for (const auto& [k, v] : best->params)
    out << "  " << text::escape_controls(k) << " = " << text::escape_controls(space::to_string(v)) << "\n";
  return 0;
}

int run_studies(const ReadArgs& args, std::ostream& out) {
  auto storage = storage::open_storage(args.storage, storage::OpenMode::kReadOnly);
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : storage->list_studies()) {
    auto st = study::Study::load(*storage, s.name);
    const auto trials = st.trials();
    const auto best = st.best_trial();
    rows.push_back({s.name, to_string(s.direction), std::to_string(trials.size()), best ? fmt_value(best->value) : "-",
                    s.attrs.value("sampler", ""), s.attrs.value("objective", "")});
  }
  out << render_table({"study", "direction", "trials", "best", "sampler", "objective"}, rows);
  return 0;
}

}  // namespace metadial::cli
