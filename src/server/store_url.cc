#include "server/store_url.h"

#include <filesystem>
#include <optional>
#include <utility>

#include <sys/stat.h>

#include "storage/hub_settings.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace liaison::server {

namespace {

namespace fs = std::filesystem;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A SQLite location from a path: a directory means its hub.db.
StoreLocation SqliteAt(std::string_view path_text, std::string* data_dir_for_message) {
  std::string path(path_text);
  std::error_code ec;
  bool is_dir = fs::is_directory(path, ec);
  // A path ending in '/' names a directory even before it exists (init creates it).
  if (is_dir || (!path.empty() && path.back() == '/')) {
    *data_dir_for_message = path;
    path = (fs::path(path) / storage::kHubDbFile).string();
  }
  StoreLocation where;
  where.kind = StoreKind::kSqlite;
  where.target = path;
  where.display = path;
  return where;
}

class PostgresListener final : public StoreListener {
 public:
  explicit PostgresListener(std::unique_ptr<storage::postgres::EventListener> listener)
      : listener_(std::move(listener)) {}

 private:
  std::unique_ptr<storage::postgres::EventListener> listener_;
};

}  // namespace

std::string RedactStoreUrl(std::string_view url) {
  std::string out(url);
  // postgresql://USER:PASS@HOST...: the user-info ends at the last '@' before the path.
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = out.find_first_of("/?", start);
    if (end == std::string::npos) end = out.size();
    size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, "***");
      }
    }
  }
  // password=... as a query parameter (URL) or a key=value pair (libpq connection string).
  for (size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    size_t value = pos + 9;
    size_t end = out.find_first_of("& ", value);
    if (end == std::string::npos) end = out.size();
    out.replace(value, end - value, "***");
  }
  return out;
}

Result<StoreLocation> ParseStoreUrl(std::string_view store, std::string_view data_dir) {
  std::string ignored;
  if (store.empty()) {
    if (data_dir.empty()) return InvalidArgumentError("--data DIR or --store URL is required");
    StoreLocation where;
    where.kind = StoreKind::kSqlite;
    where.target = (fs::path(std::string(data_dir)) / storage::kHubDbFile).string();
    where.display = where.target;
    return where;
  }
  if (StartsWith(store, "postgresql://") || StartsWith(store, "postgres://")) {
    StoreLocation where;
    where.kind = StoreKind::kPostgres;
    where.target = std::string(store);
    // schema=NAME is ours, not libpq's: take it out of the URL.
    size_t query = where.target.find('?');
    if (query != std::string::npos) {
      std::string rest = where.target.substr(query + 1);
      std::string kept;
      size_t start = 0;
      while (start <= rest.size()) {
        size_t end = rest.find('&', start);
        if (end == std::string::npos) end = rest.size();
        std::string param = rest.substr(start, end - start);
        if (param.rfind("schema=", 0) == 0) {
          where.schema = param.substr(7);
          if (where.schema.empty()) {
            return InvalidArgumentError("--store: schema= needs a schema name");
          }
        } else if (!param.empty()) {
          kept += (kept.empty() ? "" : "&") + param;
        }
        start = end + 1;
      }
      where.target = where.target.substr(0, query) + (kept.empty() ? "" : "?" + kept);
    }
    where.display = RedactStoreUrl(store);
    return where;
  }
  if (StartsWith(store, "sqlite:")) {
    std::string_view path = store.substr(7);
    // sqlite:///abs/path (URL style) as well as sqlite:PATH.
    if (StartsWith(path, "//")) path.remove_prefix(2);
    if (path.empty()) return InvalidArgumentError("--store sqlite:PATH needs a path");
    return SqliteAt(path, &ignored);
  }
  size_t scheme = store.find("://");
  if (scheme != std::string_view::npos) {
    return InvalidArgumentError("unsupported store URL '" + RedactStoreUrl(store) +
                                "': use postgresql://USER@HOST:PORT/DB, sqlite:PATH or a data "
                                "directory");
  }
  return SqliteAt(store, &ignored);
}

int SchemaVersionOf(const StoreLocation& where) {
  return where.kind == StoreKind::kPostgres ? storage::postgres::PostgresStore::SchemaVersion()
                                            : storage::sqlite::SqliteStore::SchemaVersion();
}

Result<bool> StoreIsEmpty(storage::Store& store) {
  ASSIGN_OR_RETURN(std::optional<std::string> created, store.GetSetting(storage::kCreatedSetting));
  if (created) return false;
  ASSIGN_OR_RETURN(std::vector<storage::ApiRoot> roots, store.ListApiRoots());
  if (!roots.empty()) return false;
  ASSIGN_OR_RETURN(std::vector<storage::User> users, store.ListUsers());
  if (!users.empty()) return false;
  ASSIGN_OR_RETURN(std::vector<storage::Partner> partners, store.ListPartners());
  if (!partners.empty()) return false;
  ASSIGN_OR_RETURN(std::vector<storage::AuditRecord> audit, store.ListAudit(0, 1));
  if (!audit.empty()) return false;
  ASSIGN_OR_RETURN(int64_t last_event, store.LastEventSeq());
  return last_event == 0;
}

Result<std::unique_ptr<storage::Store>> OpenStore(const StoreLocation& where, OpenMode mode) {
  std::unique_ptr<storage::Store> store;
  if (where.kind == StoreKind::kPostgres) {
    storage::postgres::PostgresStore::Options options;
    options.schema = where.schema;
    Result<std::unique_ptr<storage::postgres::PostgresStore>> pg =
        storage::postgres::PostgresStore::Open(where.target, options);
    if (!pg.ok()) return pg.status().WithContext(where.display);
    store = std::move(pg).value();
  } else {
    std::error_code ec;
    if (mode == OpenMode::kExisting && !fs::is_regular_file(where.target, ec)) {
      fs::path dir = fs::path(where.target).parent_path();
      std::string data = dir.empty() ? "." : dir.string();
      return NotFoundError("no hub in " + data + ": run `liaison init --data " + data + "` first");
    }
    // New WAL/shm files must be as private as the database.
    umask(077);
    Result<std::unique_ptr<storage::sqlite::SqliteStore>> lite =
        storage::sqlite::SqliteStore::Open(where.target);
    if (!lite.ok()) return lite.status().WithContext("cannot open " + where.display);
    store = std::move(lite).value();
  }
  if (mode == OpenMode::kExisting) {
    ASSIGN_OR_RETURN(std::optional<std::string> created,
                     store->GetSetting(storage::kCreatedSetting));
    if (!created) {
      if (where.kind == StoreKind::kPostgres) {
        return NotFoundError("no hub in " + where.display + ": run `liaison init --store " +
                             where.display + " --data DIR` first");
      }
      fs::path dir = fs::path(where.target).parent_path();
      std::string data = dir.empty() ? "." : dir.string();
      return NotFoundError("no hub in " + data + ": run `liaison init --data " + data + "` first");
    }
  }
  return store;
}

Result<std::unique_ptr<StoreListener>> ListenForChanges(storage::Store& store,
                                                        std::function<void()> on_change) {
  auto* pg = dynamic_cast<storage::postgres::PostgresStore*>(&store);
  if (pg == nullptr) return std::unique_ptr<StoreListener>();
  ASSIGN_OR_RETURN(std::unique_ptr<storage::postgres::EventListener> listener,
                   pg->Listen(std::move(on_change)));
  return std::unique_ptr<StoreListener>(new PostgresListener(std::move(listener)));
}

}  // namespace liaison::server
