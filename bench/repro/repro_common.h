// Small helpers shared by the reproduction drivers in bench/repro/.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace metadial::repro {

/// The 1-minute load average (other jobs on the machine inflate wall times), "unknown" if unreadable.
inline std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string first;
  in >> first;
  return first.empty() ? "unknown" : first;
}

/// "a,b,,c" -> {"a", "b", "c"} (empty items dropped).
inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace metadial::repro
