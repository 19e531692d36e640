// IDX files: the format of MNIST and Fashion-MNIST (LeCun's page: a big-endian header, the magic
// number 0x0000TTNN with element type TT and NN dimensions, NN big-endian uint32 sizes, then the
// elements in row-major order). Files may be gzip-compressed (.gz) or plain; both are read the
// same way. Malformed input (wrong magic, an element type other than unsigned byte, truncated or
// over-long data) throws DataError naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace metadial {

/// An IDX array of unsigned bytes (type code 0x08), the only type the image data sets use.
struct IdxArray {
  /// Sizes, outermost first: {count, rows, cols} for images, {count} for labels.
  std::vector<int64_t> dims;
  /// The elements, row-major; size() == product of dims.
  std::vector<uint8_t> data;

  /// Number of elements (product of dims; 1 for a 0-dimensional array).
  int64_t numel() const;
};

/// Reads an unsigned-byte IDX file, gzip-compressed or not. When `expected_dims` >= 0, the file
/// must have that many dimensions (3 for images, 1 for labels). Throws DataError for a missing
/// or unreadable file, a wrong magic number, another element type, a dimension count that does
/// not match, or data shorter or longer than the header says.
IdxArray read_idx(const std::string& path, int expected_dims = -1);

/// Writes `array` as an unsigned-byte IDX file, gzip-compressed when `gzip` is true.
/// Throws InvalidArgument when data.size() does not match dims, DataError when it cannot write.
void write_idx(const std::string& path, const IdxArray& array, bool gzip);

/// Images and their labels from two IDX files (MNIST layout): images {n, rows, cols}, labels {n}.
struct IdxImages {
  int64_t count = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint8_t> pixels;  ///< count * rows * cols, row-major
  std::vector<uint8_t> labels;  ///< count
};

/// Reads an image file and its label file; throws DataError when the counts differ, when a file is
/// malformed (see read_idx), or when a label is >= `num_classes` (naming the file and the index).
IdxImages read_idx_images(const std::string& images_path, const std::string& labels_path, int num_classes = 10);

}  // namespace metadial
