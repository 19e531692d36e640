// One file format for the project's trained networks (DQN dialogue policies, end-to-end agents):
//
//   <MAGIC> <version>\n
//   <length of the JSON header in bytes>\n
//   <JSON header>\n
//   <torch::save of the parameter list>
//
// The header holds the caller's fields (architecture, options, vocabularies, ...) plus
// parameter_shapes, parameter_bytes and an FNV-1a parameter_checksum, so a cut or altered file is
// one clear DataError before LibTorch reads a byte of it. Files are written to PATH.tmp and renamed
// over PATH, so a failed write never destroys a model already stored there.
//
// Includes torch: it takes and returns torch tensors.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace metadial::nn {

/// How one kind of model file names itself (in the file and in error messages).
struct ModelFileKind {
  std::string_view magic;  ///< first token of line 1, e.g. "METADIAL-DQN"
  int version = 1;         ///< the only version load_model_file() accepts
  std::string_view noun;   ///< "model" -> "truncated model file", "corrupt model header", ...
  std::string_view title;  ///< "DQN model" -> "'PATH' is not a metadial DQN model"
  std::string_view how;    ///< how to write one, e.g. "`metadial dialog train --out`"
};

/// Writes `params` (detached copies are saved) under `header`, which gains parameter_shapes,
/// parameter_bytes and parameter_checksum. Throws StorageError when the file cannot be written.
void save_model_file(const std::string& path, const ModelFileKind& kind, nlohmann::json header,
                     const std::vector<torch::Tensor>& params);

/// What load_model_file() read.
struct ModelFile {
  nlohmann::json header;              ///< every field save_model_file() wrote
  std::vector<torch::Tensor> params;  ///< in the order saved, shapes checked against the header
};

/// Reads a file written by save_model_file() with the same kind. Every failure is one DataError
/// naming the file: missing, another kind (magic), another version, cut short, header not JSON,
/// checksum mismatch, parameters unreadable or not matching the header's shapes. The caller checks
/// the header's own fields and that the shapes fit the architecture it describes.
ModelFile load_model_file(const std::string& path, const ModelFileKind& kind);

}  // namespace metadial::nn
