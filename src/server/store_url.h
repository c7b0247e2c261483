#pragma once

// Where a hub's store lives, from `--store URL` and `--data DIR`: the one place that parses store
// URLs, used by every `liaison` command that opens a store and by the server.
//
//   ASSIGN_OR_RETURN(StoreLocation where, ParseStoreUrl(store_flag, data_dir));
//   ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, OpenStore(where, OpenMode::kExisting));
//
// Accepted forms of `store`:
//   ""                              SQLite in DATA_DIR/hub.db (the default; needs `data_dir`)
//   postgresql://... postgres://...  PostgreSQL (storage/postgres; anything libpq accepts after it,
//                                   plus `schema=NAME` in the query: the hub's tables live in that
//                                   schema, default public, so several hubs can share a database)
//   sqlite:PATH                     SQLite: the file PATH, or PATH/hub.db when PATH is a directory
//   PATH                            same as sqlite:PATH (a data directory or a hub.db file)
//
// Thread-safe (no shared state).

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/store.h"

namespace liaison::server {

enum class StoreKind { kSqlite, kPostgres };

struct StoreLocation {
  StoreKind kind = StoreKind::kSqlite;
  // The SQLite file path, or the PostgreSQL URL as given (may hold a password).
  std::string target;
  // For messages and logs: the path, or the URL with any password replaced by "***".
  std::string display;
  // PostgreSQL: the schema holding the hub's tables (the URL's schema= parameter, taken out of
  // `target`), "public" by default.
  std::string schema = "public";
};

// Parses `store` (see above). kInvalidArgument when both are empty ("--data DIR or --store URL is
// required"), for "sqlite:" without a path, and for an unknown scheme ("mysql://...").
Result<StoreLocation> ParseStoreUrl(std::string_view store, std::string_view data_dir);

// `url` with the password of its user-info part (postgresql://USER:PASS@...) and any
// password=... parameter replaced by "***". Other strings are returned unchanged.
std::string RedactStoreUrl(std::string_view url);

enum class OpenMode {
  // The hub must exist: kNotFound ("no hub in ...: run `liaison init ...` first") for a missing
  // SQLite file or a PostgreSQL database without an initialised hub (no hub.created setting).
  kExisting,
  // Opens (creating the SQLite file or PostgreSQL schema when missing) whatever is there.
  kCreate,
};

// Opens the store and applies pending migrations (both backends migrate on open; PostgreSQL does
// it under an advisory lock, so nodes starting at once are safe). Errors: kNotFound (kExisting,
// above); the backend's errors with the location in the message: kUnavailable (PostgreSQL
// unreachable, within its connect timeout of 5 s), kFailedPrecondition (schema newer than this
// binary, cannot create the file), kDataLoss.
Result<std::unique_ptr<storage::Store>> OpenStore(const StoreLocation& where, OpenMode mode);

// The schema version the opened store is at after migration (SqliteStore::SchemaVersion or
// PostgresStore::SchemaVersion).
int SchemaVersionOf(const StoreLocation& where);

// True when `store` holds no hub data at all: no settings (hub.created), API roots, users,
// partners, audit records or events. Used by `liaison init` and `liaison store copy`.
Result<bool> StoreIsEmpty(storage::Store& store);

// Starts waking `on_change` whenever another node commits events to the same database
// (PostgreSQL LISTEN/NOTIFY; also after each reconnection). Returns null for backends that have
// a single writer process (SQLite): there is nothing to listen to. The returned handle stops
// listening when destroyed; it must not outlive `store`. kUnavailable when the listener cannot
// connect at start.
class StoreListener {
 public:
  virtual ~StoreListener() = default;
};
Result<std::unique_ptr<StoreListener>> ListenForChanges(storage::Store& store,
                                                        std::function<void()> on_change);

}  // namespace liaison::server
