#include "metadial/core/idx.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>

#include "metadial/core/error.h"

namespace metadial {
namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const {
    if (f != nullptr) gzclose(f);
  }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// The whole (decompressed) content of a file; gzopen reads plain files transparently.
std::vector<uint8_t> slurp(const std::string& path) {
  GzFile f(gzopen(path.c_str(), "rb"));
  MD_CHECK_AS(DataError, f != nullptr, "IDX file '", path, "': cannot open (", std::strerror(errno), ")");
  std::vector<uint8_t> out;
  std::array<uint8_t, 1 << 16> buf{};
  while (true) {
    const int n = gzread(f.get(), buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(f.get(), &code);
      throw DataError(detail::concat("IDX file '", path, "': cannot decompress after ", out.size(),
                                     " bytes (", msg, "): the file is truncated or corrupt"));
    }
    if (n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  // A gzip stream cut short ends without error on some zlib versions: ask explicitly.
  int code = 0;
  const char* msg = gzerror(f.get(), &code);
  MD_CHECK_AS(DataError, code == Z_OK || code == Z_STREAM_END, "IDX file '", path, "': cannot decompress (", msg,
              "): the file is truncated or corrupt");
  return out;
}

uint32_t big_endian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

const char* type_name(uint8_t t) {
  switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
  }
}

}  // namespace

int64_t IdxArray::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

IdxArray read_idx(const std::string& path, int expected_dims) {
  const std::vector<uint8_t> bytes = slurp(path);
  MD_CHECK_AS(DataError, bytes.size() >= 4, "IDX file '", path, "': ", bytes.size(),
              " bytes, too short for the 4-byte magic number");
  const uint8_t type = bytes[2];
  const int ndims = bytes[3];
  if (bytes[0] != 0 || bytes[1] != 0) {
    throw DataError(detail::concat("IDX file '", path, "': wrong magic number 0x", std::hex, big_endian32(bytes.data()),
                                   std::dec, ": an IDX file starts with two zero bytes (0x0000TTNN)",
                                   " -- is it an IDX file?"));
  }
  MD_CHECK_AS(DataError, type == 0x08, "IDX file '", path, "': element type 0x", std::hex, int{type}, std::dec, " (",
              type_name(type), ") in the magic number; metadial reads unsigned-byte IDX files (0x08)");
  MD_CHECK_AS(DataError, expected_dims < 0 || ndims == expected_dims, "IDX file '", path, "': ", ndims,
              " dimensions in the magic number, expected ", expected_dims,
              expected_dims == 3 ? " (images: count, rows, cols)" : expected_dims == 1 ? " (labels: count)" : "");
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  MD_CHECK_AS(DataError, bytes.size() >= header, "IDX file '", path, "': truncated header: ", bytes.size(),
              " bytes, the ", ndims, " dimension sizes need ", header);
  IdxArray out;
  uint64_t numel = 1;
  for (int i = 0; i < ndims; ++i) {
    const uint32_t d = big_endian32(bytes.data() + 4 + 4 * i);
    out.dims.push_back(d);
    MD_CHECK_AS(DataError, d == 0 || numel <= std::numeric_limits<uint64_t>::max() / d, "IDX file '", path,
                "': dimension sizes overflow");
    numel *= d;
  }
  const uint64_t have = bytes.size() - header;
  if (have < numel) {
    throw DataError(detail::concat("IDX file '", path, "': truncated: the header promises ", numel,
                                   " elements, the file holds ", have));
  }
  MD_CHECK_AS(DataError, have == numel, "IDX file '", path, "': ", have - numel,
              " bytes after the last element (the header promises ", numel, ")");
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

void write_idx(const std::string& path, const IdxArray& array, bool gzip) {
  MD_CHECK(array.dims.size() <= 255, "write_idx: ", array.dims.size(), " dimensions, IDX allows at most 255");
  MD_CHECK(static_cast<int64_t>(array.data.size()) == array.numel(), "write_idx: ", array.data.size(),
           " elements but dims give ", array.numel());
  std::vector<uint8_t> bytes{0, 0, 0x08, static_cast<uint8_t>(array.dims.size())};
  for (int64_t d : array.dims) {
    MD_CHECK(d >= 0 && d <= std::numeric_limits<uint32_t>::max(), "write_idx: dimension ", d, " out of range");
    const auto u = static_cast<uint32_t>(d);
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<uint8_t>(u >> s));
  }
  bytes.insert(bytes.end(), array.data.begin(), array.data.end());
  GzFile f(gzopen(path.c_str(), gzip ? "wb" : "wbT"));
  MD_CHECK_AS(DataError, f != nullptr, "IDX file '", path, "': cannot open for writing (", std::strerror(errno), ")");
  size_t done = 0;
  while (done < bytes.size()) {
    const auto chunk = static_cast<unsigned>(std::min<size_t>(bytes.size() - done, 1 << 20));
    const int n = gzwrite(f.get(), bytes.data() + done, chunk);
    MD_CHECK_AS(DataError, n > 0, "IDX file '", path, "': write failed");
    done += static_cast<size_t>(n);
  }
  MD_CHECK_AS(DataError, gzclose(f.release()) == Z_OK, "IDX file '", path, "': write failed on close");
}

IdxImages read_idx_images(const std::string& images_path, const std::string& labels_path, int num_classes) {
  IdxArray images = read_idx(images_path, 3);
  IdxArray labels = read_idx(labels_path, 1);
  MD_CHECK_AS(DataError, images.dims[0] == labels.dims[0], "IDX files '", images_path, "' and '", labels_path,
              "': ", images.dims[0], " images but ", labels.dims[0], " labels");
  for (size_t i = 0; i < labels.data.size(); ++i) {
    MD_CHECK_AS(DataError, labels.data[i] < num_classes, "IDX file '", labels_path, "': label ", int{labels.data[i]},
                " at index ", i, " is not in [0, ", num_classes, ")");
  }
  IdxImages out;
  out.count = images.dims[0];
  out.rows = images.dims[1];
  out.cols = images.dims[2];
  out.pixels = std::move(images.data);
  out.labels = std::move(labels.data);
  return out;
}

}  // namespace metadial
