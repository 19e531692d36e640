// The dashboard's web files, compiled into the program (the source is generated at build time by
// cmake/embed_assets.cmake from src/dashboard/web/ and Debian's Chart.js): the server answers
// only these paths, never a file of the disk.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace metadial::dashboard::detail {

struct Asset {
  const char* path;           ///< the URL path: "/", "/app.js", ...
  const unsigned char* data;  ///< the file's bytes
  std::size_t size;
  std::string_view bytes() const { return {reinterpret_cast<const char*>(data), size}; }
};

/// Every embedded file, in the order of the manifest.
const std::vector<Asset>& assets();

}  // namespace metadial::dashboard::detail
