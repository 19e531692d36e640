// The shared model-file format: framing, size checks, checksum, atomic write.
#include "metadial/nn/model_file.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "metadial/core/error.h"
#include "metadial/core/file.h"
#include "metadial/core/hash.h"

namespace metadial::nn {
namespace {

using metadial::detail::concat;

std::string checksum(const std::string& bytes) { return to_hex(fnv1a(kFnv1aBasis, bytes.data(), bytes.size())); }

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Reads up to the next '\n' (not kept), at most `max` bytes before it; nullopt when there is no
// '\n' within them (`partial` gets what was read).
std::optional<std::string> read_line(std::istream& in, size_t max, std::string& partial) {
  partial.clear();
  char c = 0;
  while (partial.size() <= max && in.get(c)) {
    if (c == '\n') return partial;
    partial.push_back(c);
  }
  return std::nullopt;
}

// A JSON value as a count of bytes or elements: a non-negative integer, nothing else.
std::optional<uint64_t> as_count(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

std::string shown(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

// The header's parameter_shapes, each dimension a count, the elements of all of them together at
// most `bytes` (every element takes at least one byte of the payload).
std::vector<std::vector<int64_t>> read_shapes(const std::string& path, const ModelFileKind& kind,
                                              const nlohmann::json& j, uint64_t bytes) {
  auto bad = [&](const std::string& what) {
    return DataError(concat("'", path, "': corrupt ", kind.noun, " header (parameter_shapes ", what, ")"));
  };
  if (!j.is_array()) throw bad("is not a list of shapes");
  if (j.size() > bytes) throw bad(concat("lists ", j.size(), " tensors in ", bytes, " parameter bytes"));
  std::vector<std::vector<int64_t>> shapes;
  uint64_t total = 0;
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_array() || j[i].size() > 64) throw bad(concat("entry ", i, " is not a shape: ", shown(j[i])));
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    for (const auto& d : j[i]) {
      const auto n = as_count(d);
      if (!n) throw bad(concat("entry ", i, ": dimension ", shown(d), " is not a non-negative integer"));
      if (*n > bytes || (*n > 0 && numel > bytes / *n)) {
        throw bad(concat("entry ", i, " has more elements than the file's ", bytes, " parameter bytes"));
      }
      numel *= *n;
      shape.push_back(static_cast<int64_t>(*n));
    }
    total += numel;
    if (total > bytes) throw bad(concat("describe more elements than the file's ", bytes, " parameter bytes"));
    shapes.push_back(std::move(shape));
  }
  return shapes;
}

}  // namespace

void save_model_file(const std::string& path, const ModelFileKind& kind, nlohmann::json header,
                     const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> copies;
  nlohmann::json shapes = nlohmann::json::array();
  for (const auto& p : params) {
    copies.push_back(p.detach().clone());
    shapes.push_back(p.sizes().vec());
  }
  std::ostringstream payload;
  torch::save(copies, payload);
  const std::string bytes = payload.str();
  header["parameter_shapes"] = shapes;
  header["parameter_bytes"] = bytes.size();
  header["parameter_checksum"] = checksum(bytes);
  const std::string h = header.dump();
  std::ostringstream file;
  file << kind.magic << " " << kind.version << "\n" << h.size() << "\n" << h << "\n" << bytes;
  write_file_atomically(path, file.str());
}

ModelFile load_model_file(const std::string& path, const ModelFileKind& kind) {
  std::ifstream in(path, std::ios::binary);
  MD_CHECK_AS(DataError, in.good(), "cannot open model file '", path, "'");
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  in.seekg(0, std::ios::beg);
  MD_CHECK_AS(DataError, end >= 0 && in.good(), "cannot open model file '", path, "' (not a regular file?)");
  const auto size = static_cast<uint64_t>(end);
  auto left = [&] { return size - static_cast<uint64_t>(in.tellg()); };

  // Line 1: magic and version.
  const std::string want = std::string(kind.magic) + " ";
  std::string partial;
  const auto magic_line = read_line(in, want.size() + 12, partial);
  if (!magic_line) {
    MD_CHECK_AS(DataError, size > 0, "'", path, "' is empty (a metadial ", kind.title, " starts with '", kind.magic,
                "'; write one with ", kind.how, ")");
    MD_CHECK_AS(DataError, !(in.eof() && std::string_view(want).starts_with(partial)), "'", path, "': truncated ",
                kind.noun, " file (", size, " bytes: it ends inside line 1)");
  }
  MD_CHECK_AS(DataError, magic_line && magic_line->starts_with(want), "'", path, "' is not a metadial ", kind.title,
              " (it does not start with '", kind.magic, "'; write one with ", kind.how, ")");
  MD_CHECK_AS(DataError, *magic_line == want + std::to_string(kind.version), "'", path, "': ", kind.noun, " format '",
              *magic_line, "' is not supported (this metadial reads version ", kind.version, ")");

  // Line 2: the header length, checked against what is left of the file before it is allocated.
  const auto len_line = read_line(in, 20, partial);
  MD_CHECK_AS(DataError, len_line || !in.eof(), "'", path, "': truncated ", kind.noun, " file (it ends inside line 2)");
  const bool digits = len_line && !len_line->empty() && len_line->size() <= 18 &&
                      len_line->find_first_not_of("0123456789") == std::string::npos;
  MD_CHECK_AS(DataError, digits, "'", path, "': corrupt ", kind.noun,
              " file (line 2 should be the header length, a non-negative integer; it is '",
              shown(nlohmann::json(len_line ? *len_line : partial)), "')");
  const uint64_t header_len = std::stoull(*len_line);
  MD_CHECK_AS(DataError, header_len < left(), "'", path, "': truncated ", kind.noun,
              " file (the JSON header is cut short: line 2 gives ", header_len, " bytes, the file has ", left(),
              " left)");
  std::string hbytes(header_len, '\0');
  in.read(hbytes.data(), static_cast<std::streamsize>(header_len));
  MD_CHECK_AS(DataError, static_cast<uint64_t>(in.gcount()) == header_len && in.get() == '\n', "'", path,
              "': truncated or corrupt ", kind.noun, " file (the JSON header is cut short or its length is wrong)");

  ModelFile f;
  try {
    f.header = nlohmann::json::parse(hbytes);
  } catch (const std::exception& e) {
    throw DataError(concat("'", path, "': corrupt ", kind.noun, " header (", first_line(e.what()), ")"));
  }
  MD_CHECK_AS(DataError, f.header.is_object(), "'", path, "': corrupt ", kind.noun, " header (not a JSON object)");
  for (const char* key : {"parameter_shapes", "parameter_bytes", "parameter_checksum"}) {
    MD_CHECK_AS(DataError, f.header.contains(key), "'", path, "': corrupt ", kind.noun, " header (no ", key, ")");
  }

  // parameter_bytes: a count, and exactly what is left of the file.
  const auto param_bytes = as_count(f.header["parameter_bytes"]);
  MD_CHECK_AS(DataError, param_bytes.has_value(), "'", path, "': corrupt ", kind.noun, " header (parameter_bytes is ",
              shown(f.header["parameter_bytes"]), ", not a byte count: a non-negative integer)");
  const uint64_t rest = left();
  MD_CHECK_AS(DataError, *param_bytes <= rest, "'", path, "': truncated ", kind.noun, " file (", rest, " of ",
              *param_bytes, " parameter bytes)");
  MD_CHECK_AS(DataError, *param_bytes == rest, "'", path, "': corrupt ", kind.noun, " file (", rest - *param_bytes,
              " bytes after the ", *param_bytes, " parameter bytes its header announces)");
  const std::vector<std::vector<int64_t>> shapes = read_shapes(path, kind, f.header["parameter_shapes"], *param_bytes);
  const nlohmann::json& sum = f.header["parameter_checksum"];
  MD_CHECK_AS(DataError, sum.is_string(), "'", path, "': corrupt ", kind.noun,
              " header (parameter_checksum is not a string)");

  std::string bytes(*param_bytes, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(*param_bytes));
  MD_CHECK_AS(DataError, static_cast<uint64_t>(in.gcount()) == *param_bytes, "'", path, "': truncated ", kind.noun,
              " file (", in.gcount(), " of ", *param_bytes, " parameter bytes)");
  MD_CHECK_AS(DataError, checksum(bytes) == sum.get<std::string>(), "'", path, "': corrupt ", kind.noun,
              " parameters (checksum mismatch: the file was changed after it was written)");
  try {
    std::istringstream pin(bytes);
    torch::load(f.params, pin);
  } catch (const std::exception& e) {
    throw DataError(concat("'", path, "': corrupt ", kind.noun, " parameters (", first_line(e.what()), ")"));
  }
  MD_CHECK_AS(DataError, f.params.size() == shapes.size(), "'", path, "': the file holds ", f.params.size(),
              " parameter tensors, its header lists ", shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    MD_CHECK_AS(DataError, f.params[i].sizes().vec() == shapes[i], "'", path, "': parameter ", i, " has shape ",
                f.params[i].sizes(), ", its header says ", fmt::format("[{}]", fmt::join(shapes[i], ", ")));
  }
  return f;
}

nlohmann::json parameter_names(const torch::nn::Module& module) {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& p : module.named_parameters()) names.push_back(p.key());
  return names;
}

size_t copy_parameters(const std::string& path, const ModelFileKind& kind, const ModelFile& file,
                       torch::nn::Module& module) {
  const auto targets = module.named_parameters();
  MD_CHECK_AS(DataError, file.params.size() >= targets.size(), "'", path, "': the file holds ", file.params.size(),
              " parameter tensors, the ", kind.title, " its header describes has ", targets.size());
  if (file.header.contains("parameter_names")) {
    MD_CHECK_AS(DataError, file.header["parameter_names"] == parameter_names(module), "'", path, "': the ",
                kind.noun, "'s parameters are ", shown(file.header["parameter_names"]),
                ", the network its header describes has ", shown(parameter_names(module)));
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < targets.size(); ++i) {
    const torch::Tensor& from = file.params[i];
    torch::Tensor to = targets[i].value();
    MD_CHECK_AS(DataError, from.sizes() == to.sizes() && from.scalar_type() == to.scalar_type(), "'", path,
                "': parameter ", targets[i].key(), " has shape ", from.sizes(), " (", from.scalar_type(),
                "), the network its header describes needs ", to.sizes(), " (", to.scalar_type(), ")");
    to.copy_(from);
  }
  return targets.size();
}

int64_t total_elements(const ModelFile& file) {
  int64_t n = 0;
  for (const auto& p : file.params) n += p.numel();
  return n;
}

}  // namespace metadial::nn
