// Reading configuration files (TOML and JSON) and option tables: one reader, one set of messages.
//
// A file is parsed into a Table (the top level); its sub-tables, keys and array elements keep the
// line they came from, so every error is one line that names the file, the line, the table and the
// key, and says what would be right:
//
//   tune.toml:3: unknown key 'trails' in [study] (expected one of: jobs, name, seed, trials)
//   tune.toml:5: [study] trials must be an integer, got a float
//   tune.toml:1: [objective] needs function (a string)
//   tune.toml:7: [study] jobs must be between 1 and 1024
//
// Types follow one rule everywhere: an integer is accepted where a number is expected; a float is
// never accepted where an integer is expected. Every error is a metadial::ConfigError; callers whose
// contract is another error class (a data descriptor: DataError; options passed through the API:
// InvalidArgument) convert at their boundary with rethrow_as<E>(...).
//
//   const config::Table root = config::load_toml(path);
//   root.expect_keys({"study", "objective"});
//   if (auto study = root.table("study")) {
//     study->expect_keys({"trials", "seed"});
//     int64_t trials = study->integer("trials").value_or(30);
//     if (trials < 0) study->invalid("trials", "must be >= 0");
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"

namespace metadial::config {

namespace detail {
struct Document;
}  // namespace detail

/// One table of a configuration (a TOML table, a JSON object) with typed, checked access to its keys.
/// Cheap to copy (it shares the parsed document); immutable.
class Table {
 public:
  /// Wraps an in-memory object (options handed over through the API, which have no file and no
  /// lines): messages start with "SOURCE: " and name `section` (e.g. "[sampler]"). A null value is
  /// read as an empty table; anything else but an object is a ConfigError.
  static Table from_json(const nlohmann::json& value, const std::string& source, const std::string& section);

  /// The file (or source name) the table comes from.
  const std::string& file() const;
  /// The table as named in messages: "[study]", "[space.lr]", "[[hyperparameter]]", "[slots[0]]";
  /// empty for the top level of a file.
  const std::string& section() const { return section_; }
  /// The line of the table (its header, or where it opens); 0 when unknown (in-memory tables).
  int line() const;
  /// The line of `key`; the table's own line when the key is absent or its line is unknown.
  int line(std::string_view key) const;
  /// "FILE:LINE" of `key` (just "FILE" when the line is unknown), for messages built by callers.
  std::string where(std::string_view key) const;
  /// How a key is named in messages: "[study] trials", or "trials" at the top level.
  std::string label(std::string_view key) const;

  bool contains(std::string_view key) const;
  /// The keys, in sorted order.
  std::vector<std::string> keys() const;
  /// The table as JSON (TOML dates and times are strings).
  const nlohmann::json& json() const { return *node_; }
  /// The raw value of `key`, or nullptr.
  const nlohmann::json* find(std::string_view key) const;
  /// "a string", "an integer", "a float", "a boolean", "an array", "a table", "a date/time", "null".
  std::string type_of(std::string_view key) const;

  /// Throws "FILE:LINE: unknown key 'k' in [section] (expected one of: a, b)" for the first key
  /// (by line) that is not in `known`.
  const Table& expect_keys(const std::vector<std::string>& known) const;

  // Typed getters: std::nullopt when the key is absent; a ConfigError
  // "FILE:LINE: [section] key must be <type>, got <type>" when it has another type.
  std::optional<std::string> string(std::string_view key) const;
  std::optional<int64_t> integer(std::string_view key) const;
  /// An integer or a float.
  std::optional<double> number(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::vector<std::string>> strings(std::string_view key) const;
  std::optional<std::vector<int64_t>> integers(std::string_view key) const;
  std::optional<std::vector<double>> numbers(std::string_view key) const;
  /// A sub-table ([section.key]); the returned table is named "[section.key]".
  std::optional<Table> table(std::string_view key) const;
  /// The sub-table, or an empty table of that name when absent (every key takes its default).
  Table table_or_empty(std::string_view key) const;
  /// An array of tables ([[key]]); empty when absent.
  std::vector<Table> tables(std::string_view key) const;

  // Required keys: "FILE:LINE: [section] needs key (<hint or type>)" when absent.
  std::string require_string(std::string_view key, std::string_view hint = {}) const;
  int64_t require_integer(std::string_view key, std::string_view hint = {}) const;
  double require_number(std::string_view key, std::string_view hint = {}) const;
  Table require_table(std::string_view key, std::string_view hint = {}) const;

  /// "FILE:LINE: [section] needs key (hint)" at the table's line.
  [[noreturn]] void missing(std::string_view key, std::string_view hint) const;
  /// "FILE:LINE: [section] key <what>" at the key's line: a value of the right type that is not
  /// allowed, e.g. invalid("jobs", "must be between 1 and 1024").
  [[noreturn]] void invalid(std::string_view key, std::string_view what) const;
  /// "FILE:LINE: [section] key must be <expected>, got <actual type>" at the key's line.
  [[noreturn]] void wrong_type(std::string_view key, std::string_view expected) const;
  /// "FILE:LINE: message" at the key's line (any message a caller builds).
  [[noreturn]] void fail_at(std::string_view key, std::string_view message) const;
  /// "FILE:LINE: message" at the table's line.
  [[noreturn]] void fail(std::string_view message) const;

  /// Runs f; an InvalidArgument it throws becomes a ConfigError "FILE:LINE: <its message>" at the
  /// line of `key` (for checks that live in an options struct's validate()).
  template <typename F>
  decltype(auto) checked(std::string_view key, F&& f) const {
    try {
      return std::forward<F>(f)();
    } catch (const InvalidArgument& e) {
      fail_at(key, e.what());
    }
  }

 private:
  friend struct TableFactory;
  Table(std::shared_ptr<const detail::Document> doc, const nlohmann::json* node, std::string pointer, std::string path,
        std::string section);
  std::string child_pointer(std::string_view key) const;
  int line_of_pointer(const std::string& pointer) const;
  std::string type_at(const std::string& pointer, const nlohmann::json& value) const;
  std::string child_path(std::string_view key) const;
  template <typename T, typename Check, typename Get>
  std::optional<std::vector<T>> array_of(std::string_view key, const char* expected, Check check, Get get) const;

  std::shared_ptr<const detail::Document> doc_;
  const nlohmann::json* node_ = nullptr;
  std::string pointer_;  ///< JSON pointer of this table in the document
  std::string path_;     ///< dotted path ("space.lr", "slots[0]"); empty at the top level
  std::string section_;  ///< name in messages
};

/// Parses TOML text; `name` is used in messages. A syntax error is "NAME:LINE: what".
Table parse_toml(std::string_view text, const std::string& name);
/// Parses JSON text; `name` is used in messages. A syntax error is "NAME:LINE: what".
Table parse_json(std::string_view text, const std::string& name);
/// Reads a whole file. A missing or unreadable file is "PATH: cannot read the file (does it exist?)".
std::string read_file(const std::string& path);
/// Reads and parses a TOML file. A missing or unreadable file is "PATH: cannot read the file (does it exist?)".
Table load_toml(const std::string& path);
/// Reads and parses a JSON file (same messages as load_toml).
Table load_json(const std::string& path);

/// Runs f; a ConfigError it throws is rethrown as E with the same message. For callers whose
/// documented error class is another one (data descriptors throw DataError; options given through
/// the API throw InvalidArgument).
template <typename E, typename F>
decltype(auto) rethrow_as(F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const ConfigError& e) {
    throw E(e.what());
  }
}

}  // namespace metadial::config
