// Errors: one root (metadial::Error), a few subclasses, and the check macros.
//
// MD_CHECK is for what a user can get wrong (bad bounds, bad config, bad data): it throws
// InvalidArgument (or the class given to MD_CHECK_AS) with a message built from its arguments.
// MD_ASSERT is for internal invariants: a failure is a bug in metadial, not in the input.
#pragma once

#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace metadial {

/// Root of every exception metadial throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A value passed through the API is out of its domain (bounds, sizes, names).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A configuration file is malformed; the message names the file, line and key.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// An input data file is malformed; the message names the file and line.
class DataError : public Error {
 public:
  using Error::Error;
};

/// The trial storage failed (cannot open, not a metadial database, newer schema, I/O).
class StorageError : public Error {
 public:
  using Error::Error;
};

/// Thrown by an objective (through Reporter::report) to stop a trial the study decided to prune.
/// An objective that knows what the trial has cost so far (the training steps it ran, the seconds
/// its program took) rethrows it with that cost; without one the study charges the fidelity's cost.
class TrialPruned : public Error {
 public:
  using Error::Error;
  TrialPruned(const std::string& what, double cost) : Error(what), cost_(cost) {}
  /// The cost spent until the trial was stopped, if the objective said.
  std::optional<double> cost() const { return cost_; }

 private:
  std::optional<double> cost_;
};

namespace detail {

/// Concatenates anything streamable into one string.
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  out.precision(10);
  (out << ... << args);
  return out.str();
}

[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace detail
}  // namespace metadial

/// Throws ErrorType(message) when cond is false. The message is built from the arguments.
#define MD_CHECK_AS(ErrorType, cond, ...)                                  \
  do {                                                                     \
    if (!(cond)) {                                                         \
      throw ErrorType(::metadial::detail::concat(__VA_ARGS__));            \
    }                                                                      \
  } while (false)

/// Throws metadial::InvalidArgument(message) when cond is false.
#define MD_CHECK(cond, ...) MD_CHECK_AS(::metadial::InvalidArgument, cond, __VA_ARGS__)

/// Internal invariant: a failure is a metadial bug. Always on (cheap checks only).
#define MD_ASSERT(cond, ...)                                                            \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      ::metadial::detail::assert_fail(#cond, __FILE__, __LINE__,                        \
                                      ::metadial::detail::concat("" __VA_OPT__(, ) __VA_ARGS__)); \
    }                                                                                   \
  } while (false)
