#include <string_view>

#include "metadial/core/error.h"
#include "metadial/storage/in_memory.h"
#include "metadial/storage/postgres.h"
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
    options.read_only = mode == OpenMode::kReadOnly;
    return std::make_unique<SqliteStorage>(path, options);
  }
  // postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME, postgres://..., postgresql:KEY=VALUE ...
  if (is_postgres_url(url)) {
    PostgresOptions options;
    options.create = mode == OpenMode::kCreate;
    options.read_only = mode == OpenMode::kReadOnly;
    return std::make_unique<PostgresStorage>(url, options);
  }
  throw InvalidArgument(
      ::metadial::detail::concat("unknown storage URL '", mask_password(url),
                                 "' (expected memory, sqlite:PATH or postgresql://USER@HOST[:PORT]/DBNAME)"));
}

}  // namespace metadial::storage
