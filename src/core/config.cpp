#include "metadial/core/config.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace metadial::config {

namespace detail {

/// A parsed file: its content as JSON, plus the line of every value, by JSON pointer.
struct Document {
  std::string file;
  nlohmann::json root;
  std::map<std::string, int> lines;
  std::set<std::string> datetimes;  ///< pointers of TOML dates/times (stored as strings)
  bool toml = false;
};

}  // namespace detail

using Json = nlohmann::json;
using metadial::detail::concat;

struct TableFactory {
  static Table make(std::shared_ptr<const detail::Document> doc, const Json* node, std::string pointer,
                    std::string path, std::string section) {
    return Table(std::move(doc), node, std::move(pointer), std::move(path), std::move(section));
  }
};

namespace {

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

const char* json_type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return "a string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a float";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "a table";
    case Json::value_t::null: return "null";
    default: return "a value of another kind";
  }
}

bool fits_int64(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  return v.is_number_integer();
}

Table root_table(std::shared_ptr<detail::Document> doc) {
  const Json* node = &doc->root;
  return TableFactory::make(std::move(doc), node, "", "", "");
}

// ---- TOML -> JSON, with lines -----------------------------------------------------------------

int toml_line(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

Json from_toml(const toml::node& n, const std::string& pointer, detail::Document& doc) {
  doc.lines[pointer] = std::max(toml_line(n), 1);
  if (const auto* t = n.as_table()) {
    Json j = Json::object();
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      j[key] = from_toml(v, pointer + "/" + escape_pointer_token(key), doc);
    }
    return j;
  }
  if (const auto* a = n.as_array()) {
    Json j = Json::array();
    size_t i = 0;
    for (const auto& v : *a) j.push_back(from_toml(v, pointer + "/" + std::to_string(i++), doc));
    return j;
  }
  if (n.is_string()) return *n.value<std::string>();
  if (n.is_integer()) return *n.value<int64_t>();
  if (n.is_floating_point()) return *n.value<double>();
  if (n.is_boolean()) return *n.value<bool>();
  // Dates and times: kept as their TOML text, marked so that a string getter refuses them.
  std::ostringstream out;
  n.visit([&](const auto& v) {
    if constexpr (toml::is_date<decltype(v)> || toml::is_time<decltype(v)> || toml::is_date_time<decltype(v)>) out << v;
  });
  doc.datetimes.insert(pointer);
  return out.str();
}

// ---- JSON lines: a scan of text nlohmann::json has already accepted ----------------------------

class JsonLineScanner {
 public:
  JsonLineScanner(std::string_view text, detail::Document& doc) : s_(text), doc_(doc) {}

  void run() {
    skip_ws();
    value("", line_);
  }

 private:
  void skip_ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) {
      if (s_[i_] == '\n') ++line_;
      ++i_;
    }
  }
  std::string string_token() {
    const size_t start = i_++;
    while (i_ < s_.size() && s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
    ++i_;
    return Json::parse(std::string(s_.substr(start, i_ - start))).get<std::string>();
  }
  void value(const std::string& pointer, int line) {
    doc_.lines[pointer] = line;
    if (i_ >= s_.size()) return;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return;
      }
      while (i_ < s_.size()) {
        skip_ws();
        const int key_line = line_;
        const std::string key = string_token();
        skip_ws();
        ++i_;  // ':'
        skip_ws();
        value(pointer + "/" + escape_pointer_token(key), key_line);
        skip_ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        ++i_;  // '}'
        return;
      }
    } else if (c == '[') {
      ++i_;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return;
      }
      for (size_t k = 0; i_ < s_.size(); ++k) {
        skip_ws();
        value(pointer + "/" + std::to_string(k), line_);
        skip_ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        ++i_;  // ']'
        return;
      }
    } else if (c == '"') {
      string_token();
    } else {
      while (i_ < s_.size() && std::string_view(",]} \t\r\n").find(s_[i_]) == std::string_view::npos) ++i_;
    }
  }

  std::string_view s_;
  detail::Document& doc_;
  size_t i_ = 0;
  int line_ = 1;
};

}  // namespace

// ---- Table ------------------------------------------------------------------------------------

Table::Table(std::shared_ptr<const detail::Document> doc, const Json* node, std::string pointer, std::string path,
             std::string section)
    : doc_(std::move(doc)), node_(node), pointer_(std::move(pointer)), path_(std::move(path)),
      section_(std::move(section)) {}

Table Table::from_json(const Json& value, const std::string& source, const std::string& section) {
  auto doc = std::make_shared<detail::Document>();
  doc->file = source;
  if (!value.is_null() && !value.is_object()) {
    throw ConfigError(concat(source, ": ", section, " must be a table of key = value, got ", json_type_name(value),
                             " (", value.dump(), ")"));
  }
  doc->root = value.is_null() ? Json::object() : value;
  const Json* node = &doc->root;
  // Sub-tables are named after the section: [objective] -> [objective.env].
  std::string path = section;
  if (path.size() >= 2 && path.front() == '[' && path.back() == ']') path = path.substr(1, path.size() - 2);
  return TableFactory::make(std::move(doc), node, "", path, section);
}

const std::string& Table::file() const { return doc_->file; }

int Table::line_of_pointer(const std::string& pointer) const {
  auto it = doc_->lines.find(pointer);
  return it == doc_->lines.end() ? 0 : it->second;
}

std::string Table::child_pointer(std::string_view key) const { return pointer_ + "/" + escape_pointer_token(key); }

std::string Table::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : concat(path_, ".", key);
}

int Table::line() const { return line_of_pointer(pointer_); }

int Table::line(std::string_view key) const {
  const int l = contains(key) ? line_of_pointer(child_pointer(key)) : 0;
  return l > 0 ? l : line();
}

std::string Table::where(std::string_view key) const {
  const int l = line(key);
  return l > 0 ? concat(file(), ":", l) : file();
}

std::string Table::label(std::string_view key) const {
  return section_.empty() ? std::string(key) : concat(section_, " ", key);
}

bool Table::contains(std::string_view key) const { return node_->contains(std::string(key)); }

std::vector<std::string> Table::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : node_->items()) out.push_back(k);
  return out;
}

const Json* Table::find(std::string_view key) const {
  auto it = node_->find(std::string(key));
  return it == node_->end() ? nullptr : &*it;
}

std::string Table::type_at(const std::string& pointer, const Json& value) const {
  if (doc_->datetimes.count(pointer)) return "a date/time";
  return json_type_name(value);
}

std::string Table::type_of(std::string_view key) const {
  const Json* v = find(key);
  return v ? type_at(child_pointer(key), *v) : "nothing";
}

void Table::fail_at(std::string_view key, std::string_view message) const {
  throw ConfigError(concat(where(key), ": ", message));
}

void Table::fail(std::string_view message) const {
  const int l = line();
  throw ConfigError(l > 0 ? concat(file(), ":", l, ": ", message) : concat(file(), ": ", message));
}

void Table::missing(std::string_view key, std::string_view hint) const {
  fail(concat(section_.empty() ? std::string("the top level") : section_, " needs ", key, " (", hint, ")"));
}

void Table::invalid(std::string_view key, std::string_view what) const { fail_at(key, concat(label(key), " ", what)); }

void Table::wrong_type(std::string_view key, std::string_view expected) const {
  fail_at(key, concat(label(key), " must be ", expected, ", got ", type_of(key)));
}

const Table& Table::expect_keys(const std::vector<std::string>& known) const {
  const std::string* first = nullptr;
  int first_line = std::numeric_limits<int>::max();
  std::vector<std::string> unknown;
  for (const auto& [k, v] : node_->items()) {
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    unknown.push_back(k);
  }
  for (const auto& k : unknown) {
    const int l = line(k);
    if (first == nullptr || l < first_line) {
      first = &k;
      first_line = l;
    }
  }
  if (first != nullptr) {
    std::vector<std::string> sorted = known;
    std::sort(sorted.begin(), sorted.end());
    fail_at(*first, concat("unknown key '", *first, "' in ", section_.empty() ? "the top level" : section_,
                           sorted.empty() ? std::string(" (it takes no keys)") : concat(" (expected one of: ", join(sorted), ")")));
  }
  return *this;
}

std::optional<std::string> Table::string(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string() || doc_->datetimes.count(child_pointer(key))) wrong_type(key, "a string");
  return v->get<std::string>();
}

std::optional<int64_t> Table::integer(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) wrong_type(key, "an integer");
  if (!fits_int64(*v)) invalid(key, concat("is too large (got ", v->dump(), ")"));
  return v->get<int64_t>();
}

std::optional<double> Table::number(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) wrong_type(key, "a number");
  return v->get<double>();
}

std::optional<bool> Table::boolean(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) wrong_type(key, "a boolean");
  return v->get<bool>();
}

template <typename T, typename Check, typename Get>
std::optional<std::vector<T>> Table::array_of(std::string_view key, const char* expected, Check check,
                                              Get get) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_array()) wrong_type(key, expected);
  std::vector<T> out;
  const std::string base = child_pointer(key);
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& e = (*v)[i];
    const std::string p = base + "/" + std::to_string(i);
    if (!check(e) || doc_->datetimes.count(p)) {
      const int l = line_of_pointer(p) > 0 ? line_of_pointer(p) : line(key);
      const std::string at = l > 0 ? concat(file(), ":", l) : file();
      throw ConfigError(concat(at, ": ", label(key), " must be ", expected, ", got ", type_at(p, e), " at index ", i));
    }
    out.push_back(get(e));
  }
  return out;
}

std::optional<std::vector<std::string>> Table::strings(std::string_view key) const {
  return array_of<std::string>(
      key, "an array of strings", [](const Json& e) { return e.is_string(); },
      [](const Json& e) { return e.get<std::string>(); });
}

std::optional<std::vector<int64_t>> Table::integers(std::string_view key) const {
  return array_of<int64_t>(
      key, "an array of integers", [](const Json& e) { return fits_int64(e); },
      [](const Json& e) { return e.get<int64_t>(); });
}

std::optional<std::vector<double>> Table::numbers(std::string_view key) const {
  return array_of<double>(
      key, "an array of numbers", [](const Json& e) { return e.is_number(); },
      [](const Json& e) { return e.get<double>(); });
}

std::optional<Table> Table::table(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) wrong_type(key, "a table");
  const std::string path = child_path(key);
  return Table(doc_, v, child_pointer(key), path, "[" + path + "]");
}

Table Table::table_or_empty(std::string_view key) const {
  if (auto t = table(key)) return *t;
  static const Json kEmpty = Json::object();
  const std::string path = child_path(key);
  return Table(doc_, &kEmpty, child_pointer(key), path, "[" + path + "]");
}

std::vector<Table> Table::tables(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return {};
  if (!v->is_array()) wrong_type(key, doc_->toml ? concat("an array of tables ([[", key, "]])") : "an array of tables");
  std::vector<Table> out;
  const std::string base = child_pointer(key);
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& e = (*v)[i];
    const std::string p = base + "/" + std::to_string(i);
    const std::string path = concat(child_path(key), "[", i, "]");
    if (!e.is_object()) {
      const int l = line_of_pointer(p) > 0 ? line_of_pointer(p) : line(key);
      const std::string at = l > 0 ? concat(file(), ":", l) : file();
      throw ConfigError(concat(at, ": ", label(key), " must be an array of tables, got ", type_at(p, e), " at index ", i));
    }
    out.push_back(Table(doc_, &e, p, path, doc_->toml ? concat("[[", child_path(key), "]]") : "[" + path + "]"));
  }
  return out;
}

std::string Table::require_string(std::string_view key, std::string_view hint) const {
  if (auto v = string(key)) return *v;
  missing(key, hint.empty() ? "a string" : hint);
}

int64_t Table::require_integer(std::string_view key, std::string_view hint) const {
  if (auto v = integer(key)) return *v;
  missing(key, hint.empty() ? "an integer" : hint);
}

double Table::require_number(std::string_view key, std::string_view hint) const {
  if (auto v = number(key)) return *v;
  missing(key, hint.empty() ? "a number" : hint);
}

Table Table::require_table(std::string_view key, std::string_view hint) const {
  if (auto v = table(key)) return *v;
  missing(key, hint.empty() ? concat("a table [", child_path(key), "]") : std::string(hint));
}

// ---- parsing ----------------------------------------------------------------------------------

Table parse_toml(std::string_view text, const std::string& name) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(concat(name, ":", std::max<int>(static_cast<int>(e.source().begin.line), 1), ": ",
                             e.description()));
  }
  auto doc = std::make_shared<detail::Document>();
  doc->file = name;
  doc->toml = true;
  doc->root = from_toml(root, "", *doc);
  doc->lines[""] = 1;
  return root_table(std::move(doc));
}

Table parse_json(std::string_view text, const std::string& name) {
  auto doc = std::make_shared<detail::Document>();
  doc->file = name;
  try {
    doc->root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    const size_t upto = std::min(e.byte > 0 ? e.byte - 1 : 0, text.size());
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(upto), '\n'));
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 3: syntax error ..." -> "syntax error ..."
    if (auto col = what.find(", column "); col != std::string::npos) {
      if (auto colon = what.find(": ", col); colon != std::string::npos) what = what.substr(colon + 2);
    } else if (auto colon = what.find("] "); colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    throw ConfigError(concat(name, ":", line, ": not valid JSON: ", what));
  }
  if (!doc->root.is_object()) {
    throw ConfigError(concat(name, ":1: the top level must be a JSON object, got ", json_type_name(doc->root)));
  }
  JsonLineScanner(text, *doc).run();
  return root_table(std::move(doc));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(concat(path, ": cannot read the file (does it exist?)"));
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw ConfigError(concat(path, ": cannot read the file"));
  return buf.str();
}

Table load_toml(const std::string& path) { return parse_toml(read_file(path), path); }

Table load_json(const std::string& path) { return parse_json(read_file(path), path); }

}  // namespace metadial::config
