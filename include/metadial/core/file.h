// Writing a file so that a reader never sees half of it: the bytes go to PATH.tmp, which is
// then renamed over PATH (atomic on POSIX file systems). Used for model files, model cards and
// corpora; a failure is one StorageError line naming the file.
#pragma once

#include <string>
#include <string_view>

namespace metadial {

/// Writes `bytes` to `path` atomically (temp file + rename); creates no directories.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace metadial
