#include "storage/sqlite/sqlite_connection.h"

#include <chrono>
#include <thread>
#include <utility>

namespace liaison::storage::sqlite {

Status SqliteStatus(int rc, sqlite3* db, std::string_view what) {
  std::string detail =
      (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = std::string(what) + ": " + detail;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(message + " (the database is busy; retry)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(message);
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(message);
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return NotFoundError(message);
      return InternalError(message);
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return ResourceExhaustedError(message);
    case SQLITE_IOERR:
      return UnavailableError(message);
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return FailedPreconditionError(message);
    default:
      return InternalError(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Statement

Statement::Statement(Statement&& other) noexcept
    : stmt_(other.stmt_),
      connection_(other.connection_),
      owned_(other.owned_),
      bind_error_(std::move(other.bind_error_)) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

namespace {
Status BindResult(int rc, sqlite3_stmt* stmt) {
  if (rc == SQLITE_OK) return Status::Ok();
  return SqliteStatus(rc, sqlite3_db_handle(stmt), "binding a query parameter");
}
}  // namespace

Statement& Statement::Bind(int index, int64_t value) {
  Status s = BindResult(sqlite3_bind_int64(stmt_, index, value), stmt_);
  if (bind_error_.ok()) bind_error_ = s;
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  Status s = BindResult(
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      stmt_);
  if (bind_error_.ok()) bind_error_ = s;
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  // A zero-length blob must not be bound from a null pointer (that would bind NULL).
  static const char kEmpty = 0;
  Status s = BindResult(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(),
                                            bytes.size(), SQLITE_TRANSIENT),
                        stmt_);
  if (bind_error_.ok()) bind_error_ = s;
  return *this;
}

Statement& Statement::BindNull(int index) {
  Status s = BindResult(sqlite3_bind_null(stmt_, index), stmt_);
  if (bind_error_.ok()) bind_error_ = s;
  return *this;
}

Result<bool> Statement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // sqlite3_step's return is the extended code (extended result codes are on).
  Status s = SqliteStatus(rc, connection_->db(), "running a query");
  sqlite3_reset(stmt_);
  return s;
}

Status Statement::Run() {
  ASSIGN_OR_RETURN(bool row, Step());
  (void)row;  // a statement run for its effect; a RETURNING row would be ignored
  return Status::Ok();
}

void Statement::Reset() { sqlite3_reset(stmt_); }

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

// ---------------------------------------------------------------------------------------------
// Connection

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     const Options& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (!options.read_only) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteStatus(rc, db, "opening database '" + path + "'");
    sqlite3_close_v2(db);
    return s;
  }
  std::unique_ptr<Connection> c(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  // synchronous=FULL: in WAL mode every COMMIT fsyncs the WAL, so an acknowledged write survives
  // power loss (NORMAL would only survive a process crash). mmap_size: reads map the database
  // file instead of copying pages through read(2), which keeps page reads cheap when the
  // database is larger than the page cache (writes still go through the WAL); a commit by another
  // connection drops the mapping, so readers of a few rows turn it off (SqliteStore::ReaderKind).
  RETURN_IF_ERROR(
      c->Exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; "
              "PRAGMA cache_size = -" +
                  std::to_string(options.cache_kib) +
                  "; PRAGMA mmap_size = " + std::to_string(options.mmap_bytes) + ";",
              "configuring database '" + path + "'"));
  if (options.read_only) {
    RETURN_IF_ERROR(c->Exec("PRAGMA query_only = ON;", "configuring a reader"));
  } else {
    // A new file gets 8 KiB pages (STIX objects are often 0.5-2 KB; fewer overflow pages). The
    // pragma is a no-op on an existing database.
    // journal_size_limit: the WAL file is truncated back to 64 MiB after a checkpoint that
    // emptied it, so a burst of writes does not leave a huge file behind.
    // wal_autocheckpoint: the committing connection checkpoints once the WAL holds 8000 pages
    // (62.5 MiB of 8 KiB pages plus frame headers, under that limit) instead of SQLite's 1000. A
    // checkpoint writes each page once however many commits changed it, and the index on object
    // ids is changed at random places: with 1000 pages, every other commit of a 500-object batch
    // wrote most of that index back to the database file (and stalled the writer on its fsync).
    // Two hubs draining a backlog used 13% less CPU (federation_benchmark, backlog phase).
    RETURN_IF_ERROR(
        c->Exec("PRAGMA page_size = 8192; PRAGMA journal_size_limit = 67108864; "
                "PRAGMA wal_autocheckpoint = 8000;",
                "configuring database '" + path + "'"));
    // Switching a new file to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
    // (without the busy handler) when another connection is doing the same: retry until the
    // busy timeout.
    std::string mode;
    for (int waited_ms = 0;; waited_ms += 5) {
      ASSIGN_OR_RETURN(Statement wal, c->Prepare("PRAGMA journal_mode = WAL"));
      Result<bool> row = wal.Step();
      if (row.ok()) {
        mode = *row ? wal.Text(0) : "";
        break;
      }
      if (row.status().code() != StatusCode::kUnavailable || waited_ms >= options.busy_timeout_ms) {
        return row.status().WithContext("enabling write-ahead logging on '" + path + "'");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (mode != "wal") {
      return FailedPreconditionError("database '" + path +
                                     "' cannot use write-ahead logging (journal mode '" + mode +
                                     "'); put it on a local file system");
    }
  }
  return c;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Connection::Exec(std::string_view sql, std::string_view what) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, what);
  return Status::Ok();
}

Result<Statement> Connection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Statement(it->second, this, /*owned=*/false);
  bool cache = cache_.size() < kMaxCachedStatements;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, "preparing a query");
  if (stmt == nullptr) return InternalError("preparing a query: empty SQL");
  if (cache) cache_.emplace(sql, stmt);
  return Statement(stmt, this, /*owned=*/!cache);
}

// ---------------------------------------------------------------------------------------------
// Transaction

Result<Transaction> Transaction::Begin(Connection* connection, bool immediate) {
  // Cached statements: BEGIN/COMMIT run on every call, and parsing them each time would cost as
  // much as a point query.
  ASSIGN_OR_RETURN(Statement begin,
                   connection->Prepare(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  Status s = begin.Run();
  if (!s.ok()) return s.WithContext("starting a transaction");
  return Transaction(connection);
}

Transaction::~Transaction() {
  if (connection_ != nullptr) (void)connection_->Exec("ROLLBACK", "rolling back");
}

Status Transaction::Commit() {
  Connection* c = connection_;
  Status s;
  {
    Result<Statement> commit = c->Prepare("COMMIT");
    s = commit.ok() ? commit->Run() : commit.status();
    if (!s.ok()) s = s.WithContext("committing");
  }
  if (!s.ok()) {
    // A failed COMMIT may leave the transaction open (e.g. SQLITE_BUSY): roll it back so the
    // connection is clean for the next caller. The destructor does that.
    if (sqlite3_get_autocommit(c->db()) != 0) connection_ = nullptr;
    return s;
  }
  connection_ = nullptr;
  return Status::Ok();
}

}  // namespace liaison::storage::sqlite
