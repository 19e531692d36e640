// Helpers for tests of files in the nn/model_file format: read and write a file's bytes, find its
// parameter part, overwrite bytes there, rewrite its JSON header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace metadial::testing {

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// Where a model file's parts start: line 2 (the header length), the header, the parameters.
struct ModelFileLayout {
  size_t length_line = 0, header = 0, header_size = 0, parameters = 0;
};

inline ModelFileLayout layout_of(const std::string& bytes) {
  ModelFileLayout l;
  l.length_line = bytes.find('\n') + 1;
  const size_t end2 = bytes.find('\n', l.length_line);
  l.header = end2 + 1;
  l.header_size = std::stoul(bytes.substr(l.length_line, end2 - l.length_line));
  l.parameters = l.header + l.header_size + 1;
  return l;
}

/// Overwrites `n` bytes in the middle of the parameter part of the model file at `path` with
/// random bytes from `seed` (at least one of them differs from what was there).
inline void scramble_parameters(const std::string& path, uint64_t seed = 0, size_t n = 64) {
  std::string bytes = read_file_bytes(path);
  const ModelFileLayout l = layout_of(bytes);
  const size_t at = l.parameters + (bytes.size() - l.parameters - n) / 2;
  std::mt19937_64 rng(seed);
  bool changed = false;
  for (size_t i = at; i < at + n; ++i) {
    const auto b = static_cast<char>(rng() & 0xFF);
    changed = changed || b != bytes[i];
    bytes[i] = b;
  }
  if (!changed) bytes[at] = static_cast<char>(bytes[at] ^ 0x5A);
  write_file_bytes(path, bytes);
}

/// Rewrites the file's header with `edit` applied (line 2 follows), keeping everything else.
inline void edit_model_header(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  const std::string bytes = read_file_bytes(path);
  const ModelFileLayout l = layout_of(bytes);
  nlohmann::json h = nlohmann::json::parse(bytes.substr(l.header, l.header_size));
  edit(h);
  const std::string hs = h.dump();
  write_file_bytes(path, bytes.substr(0, l.length_line) + std::to_string(hs.size()) + "\n" + hs +
                             bytes.substr(l.header + l.header_size));
}

/// Replaces the header's text by `text` verbatim (line 2 follows): for values nlohmann would
/// write otherwise (1e12 as written by a person).
inline void replace_model_header(const std::string& path, const std::string& text) {
  const std::string bytes = read_file_bytes(path);
  const ModelFileLayout l = layout_of(bytes);
  write_file_bytes(path, bytes.substr(0, l.length_line) + std::to_string(text.size()) + "\n" + text +
                             bytes.substr(l.header + l.header_size));
}

}  // namespace metadial::testing
