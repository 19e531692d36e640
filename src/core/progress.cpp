#include "metadial/core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace metadial {
namespace {

bool is_terminal(std::FILE* out) { return out != nullptr && isatty(fileno(out)) != 0; }

std::string bar(double fraction, int width) {
  const auto filled = static_cast<int>(std::clamp(std::floor(fraction * width), 0.0, static_cast<double>(width)));
  return "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '-') +
         "]";
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", x);
  return buf;
}

}  // namespace

ProgressDisplay::ProgressDisplay(std::string label, int64_t total, std::FILE* out, std::optional<bool> interactive)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      interactive_(interactive.value_or(is_terminal(out))),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

ProgressDisplay::ProgressDisplay(std::string label, double total, std::string unit, std::FILE* out,
                                 std::optional<bool> interactive)
    : label_(std::move(label)),
      amount_total_(std::isfinite(total) && total > 0.0 ? total : 0.0),
      unit_(std::move(unit)),
      out_(out),
      interactive_(interactive.value_or(is_terminal(out))),
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

std::string ProgressDisplay::render_amount(const std::string& label, double done, double total, const std::string& unit,
                                           const std::string& status, int width) {
  std::string s = label;
  if (std::isfinite(total) && total > 0.0) {
    s += " " + bar(done / total, width) + " " + number(done) + "/" + number(total);
  } else {
    s += " " + number(done);
  }
  if (!unit.empty()) s += " " + unit;
  if (!status.empty()) s += "  " + status;
  return s;
}

void ProgressDisplay::update(int64_t done, const std::string& status) {
  if (out_ == nullptr || finished_) return;
  const bool advanced = done != last_done_;
  last_done_ = done;
  show(render(label_, done, total_, status),
       total_ > 0 ? 10.0 * static_cast<double>(done) / static_cast<double>(total_) : -1.0, advanced);
}

void ProgressDisplay::update_amount(double done, const std::string& status) {
  if (out_ == nullptr || finished_) return;
  const bool advanced = done != last_amount_;
  last_amount_ = done;
  show(render_amount(label_, done, amount_total_, unit_, status),
       amount_total_ > 0.0 ? 10.0 * done / amount_total_ : -1.0, advanced);
}

void ProgressDisplay::show(std::string text, double tenths, bool advanced) {
  const auto now = std::chrono::steady_clock::now();
  char rate[64];
  std::snprintf(rate, sizeof(rate), "  %.1fs", std::chrono::duration<double>(now - start_).count());
  text += rate;
  if (interactive_) {
    const size_t pad = last_len_ > text.size() ? last_len_ - text.size() : 0;
    std::fprintf(out_, "\r%s%s", text.c_str(), std::string(pad, ' ').c_str());
    std::fflush(out_);
    last_len_ = text.size();
    shown_ = true;
    return;
  }
  // Plain lines: the first, one per tenth of the total (the whole total being the tenth tenth),
  // one at least every kPlainIntervalS while the count advances; finish() adds a skipped last one.
  const int tenth = tenths >= 0.0 ? static_cast<int>(std::floor(std::min(tenths, 10.0))) : -1;
  const double since = std::chrono::duration<double>(now - last_print_).count();
  const bool print = !shown_ || tenth > last_tenth_ || (advanced && since >= kPlainIntervalS);
  if (!print) {
    pending_ = std::move(text);
    return;
  }
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
  shown_ = true;
  last_tenth_ = std::max(last_tenth_, tenth);
  last_print_ = now;
  pending_.clear();
}

void ProgressDisplay::message(const std::string& line) {
  if (out_ == nullptr) return;
  if (interactive_ && last_len_ > 0) {
    std::fprintf(out_, "\r%s\r", std::string(last_len_, ' ').c_str());  // clear the bar's line
    last_len_ = 0;
  }
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

void ProgressDisplay::finish() {
  if (finished_) return;
  finished_ = true;
  if (out_ == nullptr) return;
  if (interactive_ && last_len_ > 0) {
    std::fprintf(out_, "\n");
    std::fflush(out_);
  } else if (!interactive_ && !pending_.empty()) {
    std::fprintf(out_, "%s\n", pending_.c_str());
    std::fflush(out_);
  }
}

}  // namespace metadial
