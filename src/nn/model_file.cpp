// The shared model-file format: framing, checksum, atomic write.
#include "metadial/nn/model_file.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "metadial/core/error.h"
#include "metadial/core/file.h"
#include "metadial/core/hash.h"

namespace metadial::nn {
namespace {

std::string checksum(const std::string& bytes) { return to_hex(fnv1a(kFnv1aBasis, bytes.data(), bytes.size())); }

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

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
  std::string magic_line;
  std::getline(in, magic_line);
  const std::string want = std::string(kind.magic) + " ";
  MD_CHECK_AS(DataError, magic_line.rfind(want, 0) == 0, "'", path, "' is not a metadial ", kind.title,
              " (it does not start with '", kind.magic, "'; write one with ", kind.how, ")");
  MD_CHECK_AS(DataError, magic_line == want + std::to_string(kind.version), "'", path, "': ", kind.noun, " format '",
              magic_line, "' is not supported (this metadial reads version ", kind.version, ")");
  std::string len_line;
  std::getline(in, len_line);
  size_t header_len = 0;
  try {
    size_t used = 0;
    header_len = std::stoul(len_line, &used);
    if (used != len_line.size() || header_len >= (size_t{1} << 28)) throw std::out_of_range("length");
  } catch (const std::exception&) {
    throw DataError(metadial::detail::concat("'", path, "': truncated or corrupt ", kind.noun,
                                             " file (line 2 should be the header length)"));
  }
  std::string hbytes(header_len, '\0');
  in.read(hbytes.data(), static_cast<std::streamsize>(header_len));
  MD_CHECK_AS(DataError, static_cast<size_t>(in.gcount()) == header_len && in.get() == '\n', "'", path,
              "': truncated ", kind.noun, " file (the JSON header is cut short)");
  ModelFile f;
  std::vector<std::vector<int64_t>> shapes;
  size_t param_bytes = 0;
  std::string param_checksum;
  try {
    f.header = nlohmann::json::parse(hbytes);
    shapes = f.header.at("parameter_shapes").get<std::vector<std::vector<int64_t>>>();
    param_bytes = f.header.at("parameter_bytes").get<size_t>();
    param_checksum = f.header.at("parameter_checksum").get<std::string>();
  } catch (const std::exception& e) {
    throw DataError(metadial::detail::concat("'", path, "': corrupt ", kind.noun, " header (", first_line(e.what()), ")"));
  }
  std::string bytes(param_bytes, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(param_bytes));
  MD_CHECK_AS(DataError, static_cast<size_t>(in.gcount()) == param_bytes, "'", path, "': truncated ", kind.noun,
              " file (", in.gcount(), " of ", param_bytes, " parameter bytes)");
  MD_CHECK_AS(DataError, checksum(bytes) == param_checksum, "'", path, "': corrupt ", kind.noun,
              " parameters (checksum mismatch: the file was changed after it was written)");
  try {
    std::istringstream pin(bytes);
    torch::load(f.params, pin);
  } catch (const std::exception& e) {
    throw DataError(metadial::detail::concat("'", path, "': corrupt ", kind.noun, " parameters (", first_line(e.what()), ")"));
  }
  MD_CHECK_AS(DataError, f.params.size() == shapes.size(), "'", path, "': the file holds ", f.params.size(),
              " parameter tensors, its header lists ", shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    MD_CHECK_AS(DataError, f.params[i].sizes().vec() == shapes[i], "'", path, "': parameter ", i, " has shape ",
                f.params[i].sizes(), ", its header says ", fmt::format("[{}]", fmt::join(shapes[i], ", ")));
  }
  return f;
}

}  // namespace metadial::nn
