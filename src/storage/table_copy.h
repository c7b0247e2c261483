#pragma once

// Whole-hub copy between backends (`liaison store copy`): every table of the hub, row by row, as
// stored (sequence numbers, date_added, audit hashes, outbox states and leases kept). The column
// list below is the common logical schema of storage/sqlite and storage/postgres (SQLite column
// names; PostgreSQL's `user_name` is `user` here). Each backend implements TableCopier on its own
// connection, next to its schema (storage/sqlite/sqlite_copy.h, storage/postgres/pg_copy.h).
//
// Values travel as text: integers and booleans in decimal ("0"/"1"), TEXT as is, BLOB/BYTEA as raw
// bytes; NULL as std::nullopt.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace liaison::storage {

enum class CopyType { kInt, kBool, kText, kBytes };

struct CopyColumn {
  std::string name;
  CopyType type = CopyType::kText;
};

struct CopyTable {
  std::string name;
  std::vector<CopyColumn> columns;
  std::string order_by;  // the primary key, so exports are deterministic
};

using CopyRow = std::vector<std::optional<std::string>>;

// The hub's tables in an order that satisfies foreign keys when imported front to back.
inline const std::vector<CopyTable>& CopyTables() {
  using T = CopyType;
  static const std::vector<CopyTable> kTables = {
      {"settings", {{"key", T::kText}, {"value", T::kText}}, "key"},
      {"api_roots",
       {{"seq", T::kInt},
        {"name", T::kText},
        {"title", T::kText},
        {"description", T::kText},
        {"max_content_length", T::kInt}},
       "seq"},
      {"collections",
       {{"seq", T::kInt},
        {"id", T::kText},
        {"api_root", T::kText},
        {"title", T::kText},
        {"description", T::kText},
        {"alias", T::kText},
        {"media_types", T::kText},
        {"last_date_added", T::kInt}},
       "seq"},
      {"grants",
       {{"collection_id", T::kText},
        {"subject", T::kText},
        {"can_read", T::kBool},
        {"can_write", T::kBool}},
       "collection_id, subject"},
      {"users",
       {{"name", T::kText},
        {"role", T::kText},
        {"password_hash", T::kText},
        {"disabled", T::kBool},
        {"created", T::kInt},
        {"partner", T::kText}},
       "name"},
      {"api_keys",
       {{"key_id", T::kText},
        {"user", T::kText},
        {"secret_hash", T::kText},
        {"description", T::kText},
        {"created", T::kInt},
        {"revoked", T::kBool}},
       "key_id"},
      {"objects",
       {{"coll", T::kInt},
        {"date_added", T::kInt},
        {"id", T::kText},
        {"type", T::kText},
        {"spec_version", T::kText},
        {"version", T::kInt},
        {"has_version", T::kBool},
        {"is_last", T::kBool},
        {"is_first", T::kBool},
        {"tlp", T::kInt},
        {"origin", T::kText},
        {"received_from", T::kText},
        {"recipients", T::kText},
        {"sealed", T::kBool},
        {"signature", T::kText},
        {"json", T::kText}},
       "coll, date_added"},
      {"statuses",
       {{"id", T::kText},
        {"api_root", T::kText},
        {"status", T::kText},
        {"request_timestamp", T::kInt},
        {"total_count", T::kInt},
        {"success_count", T::kInt},
        {"failure_count", T::kInt},
        {"pending_count", T::kInt},
        {"owner", T::kText},
        {"successes", T::kBytes},
        {"failures", T::kBytes},
        {"pendings", T::kBytes}},
       "id"},
      {"partners",
       {{"id", T::kText},
        {"name", T::kText},
        {"identity_json", T::kText},
        {"url", T::kText},
        {"inbox", T::kText},
        {"sign_key", T::kText},
        {"box_key", T::kText},
        {"token", T::kText},
        {"user", T::kText},
        {"disabled", T::kBool},
        {"created", T::kInt}},
       "id"},
      {"channels",
       {{"seq", T::kInt},
        {"id", T::kText},
        {"partner", T::kText},
        {"collection_id", T::kText},
        {"mode", T::kText},
        {"max_tlp", T::kInt},
        {"remote_collection", T::kText},
        {"cursor", T::kText},
        {"created", T::kInt}},
       "seq"},
      {"outbox",
       {{"seq", T::kInt},
        {"partner", T::kText},
        {"collection_id", T::kText},
        {"object_id", T::kText},
        {"version", T::kInt},
        {"date_added", T::kInt},
        {"state", T::kInt},
        {"attempts", T::kInt},
        {"next_attempt", T::kInt},
        {"delivered_at", T::kInt},
        {"error", T::kText},
        {"created", T::kInt},
        {"lease_until", T::kInt}},
       "seq"},
      {"events",
       {{"seq", T::kInt},
        {"time", T::kInt},
        {"kind", T::kText},
        {"collection_id", T::kText},
        {"object_id", T::kText},
        {"version", T::kInt},
        {"tlp", T::kInt},
        {"origin", T::kText},
        {"received_from", T::kText},
        {"recipients", T::kText},
        {"sealed", T::kBool},
        {"signature", T::kText},
        {"data", T::kText}},
       "seq"},
      {"audit",
       {{"seq", T::kInt},
        {"time", T::kInt},
        {"kind", T::kText},
        {"actor", T::kText},
        {"subject", T::kText},
        {"detail", T::kText},
        {"prev_hash", T::kText},
        {"hash", T::kText}},
       "seq"},
      {"feedback",
       {{"seq", T::kInt},
        {"about_id", T::kText},
        {"feedback_id", T::kText},
        {"feedback_version", T::kInt},
        {"from_id", T::kText},
        {"outcome", T::kText},
        {"note", T::kText},
        {"count", T::kInt},
        {"received", T::kInt}},
       "seq"},
  };
  return kTables;
}

// One backend's side of a copy. Not thread-safe: one copy at a time per instance.
class TableCopier {
 public:
  virtual ~TableCopier() = default;

  // Calls `sink` with the table's rows in `order_by` order, in batches of at most `batch` rows,
  // from one consistent snapshot per table. Stops at the first error `sink` returns.
  virtual Status Export(const CopyTable& table, size_t batch,
                        const std::function<Status(std::vector<CopyRow>&)>& sink) = 0;
  // Inserts `rows` (values in the table's column order) in one transaction.
  virtual Status Import(const CopyTable& table, const std::vector<CopyRow>& rows) = 0;
  // After all imports: brings the backend's own bookkeeping in line with the imported rows
  // (PostgreSQL: identity sequences and the events/audit counters).
  virtual Status FinishImport() = 0;
  virtual Result<int64_t> Count(const CopyTable& table) = 0;
};

}  // namespace liaison::storage
