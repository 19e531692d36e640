// A unique path for a SQLite file in the temp directory; removes the file and its WAL, shared
// memory and journal side files on destruction. Shared by the storage tests.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace metadial::storage::testing {

class TempDb {
 public:
  TempDb() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("metadial_storage_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".db"))
                .string();
    remove_all();
  }
  ~TempDb() { remove_all(); }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;

  const std::string& str() const { return path_; }

  /// True if any of the side files SQLite creates next to the database exists.
  bool has_side_files() const {
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
      if (std::filesystem::exists(path_ + suffix)) return true;
    }
    return false;
  }

 private:
  void remove_all() const {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path_ + suffix, ec);
  }

  std::string path_;
};

/// The bytes of a file ("" if it cannot be read).
inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace metadial::storage::testing
