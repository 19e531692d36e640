#include "metadial/core/data.h"

#include <cstdlib>
#include <filesystem>

namespace metadial {

std::string data_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("METADIAL_DATA"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return (std::filesystem::path(xdg) / "metadial").string();
  const char* home = std::getenv("HOME");
  return (std::filesystem::path(home && *home ? home : ".") / ".local" / "share" / "metadial").string();
}

std::string data_set_dir(const std::string& data_set, const std::string& flag) {
  return (std::filesystem::path(data_dir(flag)) / data_set).string();
}

}  // namespace metadial
