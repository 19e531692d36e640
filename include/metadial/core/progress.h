// Progress display for long loops (trials, dialogues, meta-training iterations).
// On a terminal: one line redrawn in place, with a bar, a count, the best value so far and a
// rate. Otherwise (a log file, CI): a plain line every `every` steps or `min_interval_s`
// seconds, whichever comes later, plus the last one.
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
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;
  ~ProgressDisplay();

  /// Updates the display: `done` steps finished, `status` a short free text (e.g. "best 0.398").
  void update(int64_t done, const std::string& status);
  /// Ends the line on a terminal. Called by the destructor too.
  void finish();
  bool interactive() const { return interactive_; }

  /// Renders the bar text (exposed for tests): "label [#####-----] 5/10  status".
  static std::string render(const std::string& label, int64_t done, int64_t total, const std::string& status,
                            int width = 24);

 private:
  std::string label_;
  int64_t total_;
  std::FILE* out_;
  bool interactive_;
  bool finished_ = false;
  int64_t last_done_ = -1;
  size_t last_len_ = 0;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace metadial
