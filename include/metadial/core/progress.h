// Progress display for long loops (trials, dialogues, meta-training iterations).
// On a terminal: one line redrawn in place, with a bar, a count, the best value so far and a
// rate. Otherwise (a log file, a pipe, CI): a plain line at the first update, at each tenth of the
// total, at least every 10 seconds while it advances, and at the end. The total is a count
// (trials, iterations) or a real amount with a unit (cost spent of a cost budget).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace metadial {

class ProgressDisplay {
 public:
  /// `total` = 0 when unknown. `out` is typically stderr; `interactive` defaults to isatty(out).
  ProgressDisplay(std::string label, int64_t total, std::FILE* out = stderr, std::optional<bool> interactive = {});
  /// A real amount of `total` in `unit` (e.g. cost of a cost budget: "[###---] 3.5/20 cost"), shown
  /// with update_amount(). `total` <= 0 or not finite: unknown.
  ProgressDisplay(std::string label, double total, std::string unit, std::FILE* out = stderr,
                  std::optional<bool> interactive = {});
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;
  ~ProgressDisplay();

  /// Updates the display: `done` steps finished, `status` a short free text (e.g. "best 0.398").
  void update(int64_t done, const std::string& status);
  /// The same for a display of a real amount: `done` of the total in its unit.
  void update_amount(double done, const std::string& status);
  /// Prints `line` on a line of its own (a warning), above the bar on a terminal; the bar is
  /// drawn again at the next update.
  void message(const std::string& line);
  /// Ends the line on a terminal; elsewhere prints the last update if its line was skipped.
  /// Called by the destructor too.
  void finish();
  bool interactive() const { return interactive_; }

  /// Renders the bar text (exposed for tests): "label [#####-----] 5/10  status".
  static std::string render(const std::string& label, int64_t done, int64_t total, const std::string& status,
                            int width = 24);
  /// The bar of a real amount: "label [#####-----] 2.5/5 cost  status" (numbers to 4 digits).
  static std::string render_amount(const std::string& label, double done, double total, const std::string& unit,
                                   const std::string& status, int width = 24);

  /// Plain lines come at least this often while the display advances.
  static constexpr double kPlainIntervalS = 10.0;

 private:
  // Shows `text` at `tenths` of the total (10 * done / total; < 0: no total), `advanced`: the
  // count moved since the last call.
  void show(std::string text, double tenths, bool advanced);

  std::string label_;
  int64_t total_ = 0;
  double amount_total_ = 0.0;
  std::string unit_;
  std::FILE* out_;
  bool interactive_;
  bool finished_ = false;
  bool shown_ = false;   // a line was printed
  int last_tenth_ = -1;  // plain mode: the tenth of the total of the last line
  int64_t last_done_ = -1;
  double last_amount_ = -1.0;
  std::string pending_;  // plain mode: the last update's text when its line was skipped
  size_t last_len_ = 0;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace metadial
