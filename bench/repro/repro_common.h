// Small helpers shared by the reproduction drivers in bench/repro/.
#pragma once

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "metadial/optim/sampler.h"

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

/// The fields of a CSV line, empty ones included (no quoting: the drivers write none).
inline std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out{""};
  for (char c : line) {
    if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

/// Forwards to a sampler it borrows and notes the wall time of each suggest() call.
class TimedSampler final : public optim::Sampler {
 public:
  explicit TimedSampler(optim::Sampler& inner) : inner_(inner) {}
  optim::Suggestion suggest(const optim::SamplerContext& ctx, std::span<const study::FrozenTrial> history) override {
    const auto t0 = std::chrono::steady_clock::now();
    auto s = inner_.suggest(ctx, history);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return s;
  }
  std::string name() const override { return inner_.name(); }
  bool uses_history() const override { return inner_.uses_history(); }
  double total_seconds() const {
    double t = 0.0;
    for (double s : seconds) t += s;
    return t;
  }
  std::vector<double> seconds;  ///< one per suggest() call

 private:
  optim::Sampler& inner_;
};

/// One panel of a row of line plots: `csv` has x in column 1 and `series` curves in columns 2...
struct PlotPanel {
  std::string title;
  std::string csv;
  size_t series = 0;
};

/// Writes the gnuplot script `gp` drawing `panels` side by side (log y) into `svg`, and runs
/// gnuplot on it if there is one (a note on stderr otherwise: the CSV files stay).
inline void plot_panels(const std::string& gp, const std::string& svg, const std::vector<PlotPanel>& panels,
                        const std::string& xlabel, const std::string& ylabel, int width) {
  {
    std::ofstream g(gp);
    g << "set terminal svg size " << width << ",400 dynamic background rgb 'white'\n"
      << "set output '" << svg << "'\n"
      << "set datafile separator ','\nset datafile missing ''\nset key autotitle columnhead\nset logscale y\n"
      << "set multiplot layout 1," << panels.size() << "\n"
      << "set xlabel '" << xlabel << "'\nset ylabel '" << ylabel << "'\n";
    for (const auto& p : panels) {
      g << "set title '" << p.title << "'\nplot ";
      for (size_t i = 0; i < p.series; ++i) {
        g << (i ? ", " : "") << "'" << p.csv << "' using 1:" << i + 2 << " with lines lw 2";
      }
      g << "\n";
    }
    g << "unset multiplot\n";
  }
  if (std::system(("command -v gnuplot >/dev/null 2>&1 && gnuplot '" + gp + "'").c_str()) != 0) {
    std::cerr << "gnuplot not found or failed: no plot (the CSV files are there)\n";
  }
}

}  // namespace metadial::repro
