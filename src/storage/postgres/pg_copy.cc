#include "storage/postgres/pg_copy.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "storage/postgres/pg_connection.h"

namespace liaison::storage::postgres {

namespace {

// The logical column `user` is `user_name` here (USER is reserved in PostgreSQL).
std::string PgColumn(const std::string& name) { return name == "user" ? "user_name" : name; }

std::string ColumnList(const CopyTable& table) {
  std::string out;
  for (const CopyColumn& column : table.columns) {
    if (!out.empty()) out += ", ";
    out += QuoteIdentifier(PgColumn(column.name));
  }
  return out;
}

std::string OrderBy(const CopyTable& table) {
  return table.order_by;  // primary key columns; none is renamed
}

Result<int64_t> ParseInt(const std::string& text, const std::string& table) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgumentError("copy: '" + text + "' is not an integer (table " + table + ")");
  }
  return value;
}

class PgTableCopier final : public TableCopier {
 public:
  explicit PgTableCopier(std::unique_ptr<PgConnection> connection)
      : connection_(std::move(connection)) {}

  Status Export(const CopyTable& table, size_t batch,
                const std::function<Status(std::vector<CopyRow>&)>& sink) override {
    RETURN_IF_ERROR(connection_->ExecScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    Status status = ExportInTransaction(table, batch, sink);
    Status end = connection_->ExecScript(status.ok() ? "COMMIT" : "ROLLBACK");
    return status.ok() ? end : status;
  }

  // One COPY FROM STDIN per batch (atomic by itself): several times faster than INSERTs.
  Status Import(const CopyTable& table, const std::vector<CopyRow>& rows) override {
    if (rows.empty()) return Status::Ok();
    static constexpr char kHex[] = "0123456789abcdef";
    CopyRows data;
    for (const CopyRow& row : rows) {
      if (row.size() != table.columns.size()) {
        return InternalError("copy: a row of " + table.name + " has the wrong number of values");
      }
      for (size_t i = 0; i < row.size(); ++i) {
        if (!row[i]) {
          data.Null();
          continue;
        }
        switch (table.columns[i].type) {
          case CopyType::kInt: {
            ASSIGN_OR_RETURN(int64_t value, ParseInt(*row[i], table.name));
            data.Field(value);
            break;
          }
          case CopyType::kBool:
            data.Field(*row[i] != "0");
            break;
          case CopyType::kText:
            data.Field(std::string_view(*row[i]));
            break;
          case CopyType::kBytes: {
            // bytea's hex input form; CopyRows escapes the backslash for COPY.
            std::string hex = "\\x";
            hex.reserve(2 + row[i]->size() * 2);
            for (unsigned char ch : *row[i]) {
              hex += kHex[ch >> 4];
              hex += kHex[ch & 15];
            }
            data.Field(std::string_view(hex));
            break;
          }
        }
      }
      data.EndRow();
    }
    Status status = connection_->CopyIn(
        "COPY " + table.name + "(" + ColumnList(table) + ") FROM STDIN", data.data());
    return status.WithContext("copying into " + table.name);
  }

  Status FinishImport() override {
    // Identity sequences continue after the imported rows; the counters hold the heads of the
    // events and the audit chain (postgres_store.cc appends after them).
    for (const char* table : {"api_roots", "collections", "channels", "outbox", "feedback"}) {
      std::string t = table;
      Result<PgResult> r =
          connection_->Exec("SELECT setval(pg_get_serial_sequence('" + t +
                            "', 'seq'), COALESCE(MAX(seq), 0) + 1, " + "false) FROM " + t);
      if (!r.ok()) return r.status().WithContext("copy: resetting the sequence of " + t);
    }
    Result<PgResult> events = connection_->Exec(
        "UPDATE counters SET value = (SELECT COALESCE(MAX(seq), 0) FROM events) "
        "WHERE name = 'events'");
    if (!events.ok()) return events.status().WithContext("copy: events counter");
    Result<PgResult> audit = connection_->Exec(
        "UPDATE counters SET value = COALESCE((SELECT seq FROM audit ORDER BY seq DESC LIMIT 1), "
        "0), hash = COALESCE((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), '') "
        "WHERE name = 'audit'");
    if (!audit.ok()) return audit.status().WithContext("copy: audit counter");
    // Statistics for the planner now rather than when autovacuum gets to it: without them the
    // paging query may sort instead of walking one index range (storage/postgres/README.md).
    Result<PgResult> analyze = connection_->Exec("ANALYZE");
    if (!analyze.ok()) return analyze.status().WithContext("copy: ANALYZE");
    return Status::Ok();
  }

  Result<int64_t> Count(const CopyTable& table) override {
    ASSIGN_OR_RETURN(PgResult r, connection_->Exec("SELECT COUNT(*) FROM " + table.name));
    return r.rows() > 0 ? r.Int(0, 0) : 0;
  }

 private:
  Status ExportInTransaction(const CopyTable& table, size_t batch,
                             const std::function<Status(std::vector<CopyRow>&)>& sink) {
    RETURN_IF_ERROR(connection_->ExecScript("DECLARE liaison_copy NO SCROLL CURSOR FOR SELECT " +
                                            ColumnList(table) + " FROM " + table.name +
                                            " ORDER BY " + OrderBy(table)));
    while (true) {
      ASSIGN_OR_RETURN(PgResult r,
                       connection_->Exec("FETCH " + std::to_string(batch) + " FROM liaison_copy"));
      if (r.rows() == 0) break;
      std::vector<CopyRow> rows;
      rows.reserve(static_cast<size_t>(r.rows()));
      for (int row = 0; row < r.rows(); ++row) {
        CopyRow out;
        out.reserve(table.columns.size());
        for (size_t i = 0; i < table.columns.size(); ++i) {
          int col = static_cast<int>(i);
          if (r.IsNull(row, col)) {
            out.emplace_back(std::nullopt);
            continue;
          }
          switch (table.columns[i].type) {
            case CopyType::kInt:
              out.emplace_back(std::to_string(r.Int(row, col)));
              break;
            case CopyType::kBool:
              out.emplace_back(r.Bool(row, col) ? "1" : "0");
              break;
            case CopyType::kText:
              out.emplace_back(r.Text(row, col));
              break;
            case CopyType::kBytes:
              out.emplace_back(r.Bytes(row, col));
              break;
          }
        }
        rows.push_back(std::move(out));
      }
      RETURN_IF_ERROR(sink(rows));
    }
    return connection_->ExecScript("CLOSE liaison_copy");
  }

  std::unique_ptr<PgConnection> connection_;
};

}  // namespace

Result<std::unique_ptr<TableCopier>> OpenTableCopier(const std::string& url,
                                                     const std::string& schema) {
  ASSIGN_OR_RETURN(ConnectSpec spec, ResolveConnectSpec(url, 5, "liaison-copy", schema));
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection, PgConnection::Connect(spec));
  return std::unique_ptr<TableCopier>(new PgTableCopier(std::move(connection)));
}

}  // namespace liaison::storage::postgres
