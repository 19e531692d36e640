#include <string_view>

#include "metadial/core/error.h"
#include "metadial/storage/in_memory.h"
#include "metadial/storage/sqlite.h"
#include "metadial/storage/storage.h"

namespace metadial::storage {

std::unique_ptr<Storage> open_storage(const std::string& url, OpenMode mode) {
  constexpr std::string_view kSqlitePrefix = "sqlite:";
  if (url == "memory") return std::make_unique<InMemoryStorage>();
  if (url.starts_with(kSqlitePrefix)) {
    const std::string path = url.substr(kSqlitePrefix.size());
    MD_CHECK(!path.empty(), "storage URL '", url, "' has no path (expected sqlite:PATH, e.g. sqlite:runs/tune.db)");
    SqliteOptions options;
    options.create = mode == OpenMode::kCreate;
    return std::make_unique<SqliteStorage>(path, options);
  }
  throw InvalidArgument(::metadial::detail::concat("unknown storage URL '", url, "' (expected memory or sqlite:PATH)"));
}

}  // namespace metadial::storage
