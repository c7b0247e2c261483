#pragma once

// Internal to storage/postgres: one libpq connection, statement parameters and results, and the
// mapping of PostgreSQL errors to Status. Not for use outside storage/postgres (libpq stays here).
//
// Error mapping (Status codes of the Store contract):
//  - connection lost or refused, server shutting down or starting (SQLSTATE classes 08, 57P0x),
//    serialization failure (40001), deadlock (40P01), too many connections / out of resources
//    (53xxx) -> kUnavailable: transient, the caller may retry.
//  - unique violation (23505) -> kAlreadyExists; other integrity violations (23xxx) and data
//    exceptions (22xxx: e.g. a value not valid in the database encoding) -> kInvalidArgument.
//  - statement cancelled or over statement_timeout (57014) -> kDeadlineExceeded.
//  - data corrupted / index corrupted (XX001, XX002) -> kDataLoss; everything else -> kInternal.
//
// Thread safety: a PgConnection is used by one thread at a time (the pool hands it out).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace liaison::storage::postgres {

// Parameters of one statement, numbered $1, $2, ... in the order they are added. Each Add returns
// the placeholder, so SQL can be built as `"... WHERE id = " + p.Add(id)`.
class Params {
 public:
  std::string Add(std::string_view text);
  std::string Add(const std::string& text) { return Add(std::string_view(text)); }
  std::string Add(const char* text) { return Add(std::string_view(text)); }
  std::string Add(int64_t value);
  std::string Add(int32_t value) { return Add(int64_t{value}); }
  std::string Add(bool value);
  std::string AddNull();
  // A bytea value sent in binary form (any bytes, NUL included).
  std::string AddBytes(std::string_view bytes);
  // Array literals: `$n::text[]` / `$n::bigint[]`.
  std::string AddTextArray(const std::vector<std::string>& values);
  std::string AddBigintArray(const std::vector<int64_t>& values);

  size_t size() const { return values_.size(); }

 private:
  friend class PgConnection;
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<int> binary_;
};

// The rows of one statement. Text format; accessors parse.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result) {}
  PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  // Rows changed by INSERT/UPDATE/DELETE.
  int64_t affected() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;
  int64_t Int(int row, int col) const;        // 0 for NULL or unparsable text
  bool Bool(int row, int col) const;          // 't'
  std::string Bytes(int row, int col) const;  // bytea (hex output) decoded

 private:
  PGresult* result_ = nullptr;
};

// Connection settings resolved from a postgresql:// URL plus defaults.
struct ConnectSpec {
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  std::string display;  // "HOST:PORT" for messages (never the password)
  std::string schema;   // search_path to set on every connection
};

// Parses `url` (postgresql://USER[:PASS]@HOST:PORT/DB[?params], or a key=value conninfo string)
// with libpq and adds defaults for what it does not set: connect_timeout, keepalives,
// application_name. kInvalidArgument when libpq cannot parse it.
Result<ConnectSpec> ResolveConnectSpec(const std::string& url, int connect_timeout_s,
                                       const std::string& application_name,
                                       const std::string& schema);

class PgConnection {
 public:
  // Connects (blocking, bounded by connect_timeout) and sets the session up (UTF8, search_path).
  // kUnavailable "cannot reach PostgreSQL at HOST:PORT: ..." when it cannot.
  static Result<std::unique_ptr<PgConnection>> Connect(const ConnectSpec& spec);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with parameters. Errors mapped as described at the top of this file.
  Result<PgResult> Exec(const std::string& sql, const Params& params);
  Result<PgResult> Exec(const std::string& sql) { return Exec(sql, Params()); }
  // Like Exec, for statements run again and again (the hot reads of every request): the text is
  // prepared once per connection as a named statement and later calls only bind and execute, which
  // spares the server parsing and analysing it each time (measured here: four small lookups
  // 0.68 ms -> 0.25 ms). Use it only for SQL whose text takes a bounded number of shapes (values
  // go in `params`). The cache holds kMaxPrepared statements; when full and no transaction is
  // open it is emptied (DEALLOCATE ALL), inside a transaction the statement runs unprepared.
  // A statement the server no longer knows, or whose cached plan went stale across a schema
  // change, is prepared again and retried once (outside a transaction).
  // Poolers: prepared statements are per server session. PgBouncer in transaction mode supports
  // these protocol-level statements from version 1.21 (max_prepared_statements > 0).
  Result<PgResult> ExecPrepared(const std::string& sql, const Params& params);
  static constexpr size_t kMaxPrepared = 200;
  // Runs a script of several statements without parameters (migrations, BEGIN, COMMIT).
  Status ExecScript(const std::string& sql);
  // Runs `copy_sql` ("COPY t(a, b) FROM STDIN") and sends `data`, rows in COPY's text format
  // (see CopyRow). The fastest way to insert many rows (one statement, no per-row parameters).
  Status CopyIn(const std::string& copy_sql, const std::string& data);

  // False once the connection is known to be dead (the pool then drops it).
  bool healthy() const;
  // SQLSTATE of the last failed statement ("" for none or for a lost connection).
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // True when the last failure was the connection itself (lost, reset).
  bool last_error_was_connection() const { return last_connection_error_; }
  const std::string& display() const { return display_; }
  PGconn* raw() { return conn_; }

 private:
  PgConnection(PGconn* conn, std::string display) : conn_(conn), display_(std::move(display)) {}
  Status ErrorFrom(PGresult* result, std::string_view what);
  // The name of `sql`'s prepared statement on this connection, preparing it if needed; "" when
  // it should run unprepared (cache full inside a transaction).
  Result<std::string> Prepare(const std::string& sql, int param_count);
  // `params` as the arrays libpq takes (Exec and ExecPrepared).
  struct Bound;
  static Bound Bind(const Params& params);

  PGconn* conn_;
  std::string display_;
  std::string last_sqlstate_;
  bool last_connection_error_ = false;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  uint64_t next_statement_ = 0;                            // names are never reused on a connection
};

// Builds rows in COPY's text format: fields separated by tabs, rows ended by newlines, NULL as
// \N, backslash/tab/newline/CR escaped.
class CopyRows {
 public:
  CopyRows& Field(std::string_view text);
  CopyRows& Field(const std::string& text) { return Field(std::string_view(text)); }
  CopyRows& Field(const char* text) { return Field(std::string_view(text)); }
  CopyRows& Field(int64_t value);
  CopyRows& Field(bool value) { return Raw(value ? "t" : "f"); }
  CopyRows& Null() { return Raw("\\N"); }
  void EndRow();
  const std::string& data() const { return data_; }
  bool empty() const { return data_.empty(); }

 private:
  CopyRows& Raw(std::string_view text);
  std::string data_;
  bool first_ = true;
};

// Quotes an SQL identifier ("my schema" -> "\"my schema\"").
std::string QuoteIdentifier(std::string_view name);

}  // namespace liaison::storage::postgres
