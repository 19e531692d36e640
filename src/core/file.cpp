#include "metadial/core/file.h"

#include <filesystem>
#include <fstream>

#include "metadial/core/error.h"

namespace metadial {

void write_file_atomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MD_CHECK_AS(StorageError, out.good(), "cannot write '", tmp, "' (does its folder exist and is it writable?)");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    MD_CHECK_AS(StorageError, out.good(), "cannot write '", tmp, "' (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  MD_CHECK_AS(StorageError, !ec, "cannot write '", path, "' (rename from '", tmp, "': ", ec.message(), ")");
}

}  // namespace metadial
