// One file format for every trained network of the project (learned optimizers, Hyp-RL policies,
// DQN dialogue policies, end-to-end agents, memory networks, online controllers):
//
//   <MAGIC> <version>\n
//   <length of the JSON header in bytes>\n
//   <JSON header>\n
//   <torch::save of the parameter list>
//
// The header holds the caller's fields (architecture, options, vocabularies, ...) plus
// parameter_shapes, parameter_bytes and an FNV-1a parameter_checksum, so a cut or altered file is
// one clear DataError before LibTorch reads a byte of it. Every size the file states (the header
// length, parameter_bytes, the shapes) is checked against the file's real size before anything
// is allocated for it. Files are written to PATH.tmp and renamed over PATH, so a failed write
// never destroys a model already stored there.
//
// Includes torch: it takes and returns torch tensors.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstddef>
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
/// naming the file: missing, another kind (magic), another version, cut short or with bytes after
/// its end, a header length or parameter_bytes that is not a non-negative integer or does not fit
/// the file, header not JSON, checksum mismatch, parameters unreadable or not matching the
/// header's shapes. No buffer larger than the file is ever allocated. The caller checks the
/// header's own fields and that the shapes fit the architecture it describes.
ModelFile load_model_file(const std::string& path, const ModelFileKind& kind);

/// The names of `module`'s parameters in registration order: a header's "parameter_names", which
/// copy_parameters() compares with the module it fills.
nlohmann::json parameter_names(const torch::nn::Module& module);

/// Copies the first module.parameters().size() tensors of `file` into `module`'s parameters (no
/// gradient recorded), after checking that the file has at least that many, that the header's
/// parameter_names (when it has them) are the module's, and that every tensor has its parameter's
/// shape and dtype. One DataError naming the file and the first mismatch otherwise. Returns the
/// number of tensors copied (the caller reads any after them itself).
size_t copy_parameters(const std::string& path, const ModelFileKind& kind, const ModelFile& file,
                       torch::nn::Module& module);

/// Sum of the elements of the file's tensors: bounded by the file size, so a caller can compare
/// the size of the network its header describes with it before building that network.
int64_t total_elements(const ModelFile& file);

}  // namespace metadial::nn
