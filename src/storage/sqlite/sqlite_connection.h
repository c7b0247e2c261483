#pragma once

// Thin RAII layer over one sqlite3 connection, used only inside storage/sqlite: opening with the
// hub's pragmas, a per-connection cache of prepared statements, statements that reset themselves,
// transactions that roll back unless committed, and the mapping of SQLite result codes to Status.
//
// Thread safety: a Connection and its Statements are used by one thread at a time (the store hands
// connections out under a mutex); connections are opened with SQLITE_OPEN_NOMUTEX.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace liaison::storage::sqlite {

// Maps a SQLite result code (extended codes enabled) to a Status: BUSY/LOCKED -> kUnavailable,
// CORRUPT/NOTADB -> kDataLoss, UNIQUE/PRIMARY KEY constraint -> kAlreadyExists, FOREIGN KEY
// constraint -> kNotFound, FULL/NOMEM/TOOBIG -> kResourceExhausted, IOERR -> kUnavailable,
// CANTOPEN/READONLY/PERM -> kFailedPrecondition, anything else -> kInternal. `what` says what was
// being done ("adding objects").
Status SqliteStatus(int rc, sqlite3* db, std::string_view what);

class Connection;

// A prepared statement borrowed from a Connection's cache (or owned, for uncached SQL). Resets
// and clears its bindings when destroyed, so the cached statement is ready for the next use.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, Connection* connection, bool owned)
      : stmt_(stmt), connection_(connection), owned_(owned) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);  // bound as TEXT, copied
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  // Steps once: true when a row is available, false when done. Errors mapped with SqliteStatus.
  Result<bool> Step();
  // Steps expecting no row (INSERT/UPDATE/DELETE).
  Status Run();
  // Resets for another execution with new bindings (bindings are kept until rebound).
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Text(int column) const;  // TEXT or BLOB bytes

 private:
  sqlite3_stmt* stmt_;
  Connection* connection_;
  bool owned_;
  Status bind_error_;  // the first binding failure, reported by Step/Run
};

class Connection {
 public:
  struct Options {
    bool read_only = false;  // a reader: PRAGMA query_only
    int busy_timeout_ms = 10000;
    int cache_kib = 65536;                  // page cache size
    int64_t mmap_bytes = int64_t{1} << 30;  // memory-mapped I/O for reads (0: off)
  };

  // Opens (creating the file when `!read_only`) and applies the pragmas: extended result codes,
  // busy_timeout, foreign_keys, synchronous=FULL, cache_size, and journal_mode=WAL for the writer
  // (kFailedPrecondition if the file system cannot do WAL).
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, const Options& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL without results (may hold several statements).
  Status Exec(std::string_view sql, std::string_view what);

  // A cached prepared statement for `sql` (prepared on first use). SQL texts beyond the cache
  // bound are prepared for one use and finalised.
  Result<Statement> Prepare(const std::string& sql);

  sqlite3* db() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  static constexpr size_t kMaxCachedStatements = 256;

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// BEGIN (DEFERRED for readers, IMMEDIATE for writers) ... COMMIT; rolls back when destroyed
// uncommitted.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection* connection, bool immediate);
  Transaction(Transaction&& other) noexcept : connection_(other.connection_) {
    other.connection_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Commits. On failure the transaction is rolled back.
  Status Commit();

 private:
  explicit Transaction(Connection* connection) : connection_(connection) {}
  Connection* connection_;  // null once committed or rolled back
};

}  // namespace liaison::storage::sqlite
