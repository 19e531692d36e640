#include <filesystem>

#include "cli/commands.h"
#include "metadial/core/error.h"
#include "metadial/objective/command.h"

namespace metadial::cli {

namespace {

// A config's command runs in the config file's folder unless working_dir says otherwise, so
// `command = ["./train.sh"]` means the train.sh beside the config, wherever metadial is started.
// log_dir, if relative, is taken from where metadial is started (where the user looks for it).
objective::CommandOptions resolved_command_options(const TuneConfig& cfg) {
  namespace fs = std::filesystem;
  auto options = objective::command_options_from_json(cfg.objective_options);
  const fs::path config_dir = fs::absolute(fs::path(cfg.file)).parent_path();
  if (options.working_dir.empty()) {
    options.working_dir = config_dir.string();
  } else if (fs::path(options.working_dir).is_relative()) {
    options.working_dir = (config_dir / options.working_dir).lexically_normal().string();
  }
  if (!options.log_dir.empty() && fs::path(options.log_dir).is_relative()) {
    options.log_dir = fs::absolute(options.log_dir).lexically_normal().string();
  }
  return options;
}

}  // namespace

std::unique_ptr<objective::Objective> make_command_objective(const TuneConfig& cfg) {
  try {
    return std::make_unique<objective::CommandObjective>(resolved_command_options(cfg), cfg.space);
  } catch (const InvalidArgument& e) {
    throw objective_error(cfg, e.what());
  }
}

std::optional<std::string> command_log_dir(const TuneConfig& cfg) {
  if (!cfg.function.empty()) return std::nullopt;
  try {
    auto options = resolved_command_options(cfg);
    if (options.log_dir.empty()) return std::nullopt;
    return options.log_dir;
  } catch (const InvalidArgument&) {
    return std::nullopt;  // make_objective reports it
  }
}

}  // namespace metadial::cli
