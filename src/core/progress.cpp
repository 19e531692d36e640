#include "metadial/core/progress.h"

#include <unistd.h>

#include <algorithm>

namespace metadial {

ProgressDisplay::ProgressDisplay(std::string label, int64_t total, std::FILE* out, std::optional<bool> interactive)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      interactive_(interactive.value_or(out != nullptr && isatty(fileno(out)) != 0)),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

ProgressDisplay::~ProgressDisplay() { finish(); }

std::string ProgressDisplay::render(const std::string& label, int64_t done, int64_t total, const std::string& status,
                                    int width) {
  std::string s = label;
  if (total > 0) {
    const auto filled = static_cast<int>(std::clamp<int64_t>(done * width / total, 0, width));
    s += " [" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '-') +
         "] " + std::to_string(done) + "/" + std::to_string(total);
  } else {
    s += " " + std::to_string(done);
  }
  if (!status.empty()) s += "  " + status;
  return s;
}

void ProgressDisplay::update(int64_t done, const std::string& status) {
  if (out_ == nullptr || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string text = render(label_, done, total_, status);
  char rate[64];
  std::snprintf(rate, sizeof(rate), "  %.1fs", elapsed);
  text += rate;
  if (interactive_) {
    const size_t pad = last_len_ > text.size() ? last_len_ - text.size() : 0;
    std::fprintf(out_, "\r%s%s", text.c_str(), std::string(pad, ' ').c_str());
    std::fflush(out_);
    last_len_ = text.size();
    last_done_ = done;
    return;
  }
  // Plain lines: at most about 10 per run and one per 2 seconds, but always the last step.
  const int64_t every = total_ > 0 ? std::max<int64_t>(1, total_ / 10) : 1;
  const bool last = total_ > 0 && done >= total_;
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (last || (done - std::max<int64_t>(last_done_, 0) >= every && since >= 2.0) || last_done_ < 0) {
    std::fprintf(out_, "%s\n", text.c_str());
    std::fflush(out_);
    last_done_ = done;
    last_print_ = now;
  }
}

void ProgressDisplay::finish() {
  if (finished_) return;
  finished_ = true;
  if (interactive_ && out_ != nullptr && last_len_ > 0) {
    std::fprintf(out_, "\n");
    std::fflush(out_);
  }
}

}  // namespace metadial
