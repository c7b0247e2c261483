#include "storage/sqlite/sqlite_copy.h"

#include <charconv>
#include <utility>

#include "storage/sqlite/sqlite_connection.h"

namespace liaison::storage::sqlite {

namespace {

std::string ColumnList(const CopyTable& table) {
  std::string out;
  for (const CopyColumn& column : table.columns) {
    if (!out.empty()) out += ", ";
    out += "\"" + column.name + "\"";
  }
  return out;
}

Result<int64_t> ParseInt(const std::string& text, const std::string& table) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgumentError("copy: '" + text + "' is not an integer (table " + table + ")");
  }
  return value;
}

class SqliteTableCopier final : public TableCopier {
 public:
  explicit SqliteTableCopier(std::unique_ptr<Connection> connection)
      : connection_(std::move(connection)) {}

  Status Export(const CopyTable& table, size_t batch,
                const std::function<Status(std::vector<CopyRow>&)>& sink) override {
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(connection_.get(), false));
    ASSIGN_OR_RETURN(Statement stmt,
                     connection_->Prepare("SELECT " + ColumnList(table) + " FROM " + table.name +
                                          " ORDER BY " + table.order_by));
    std::vector<CopyRow> rows;
    while (true) {
      ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) break;
      CopyRow row;
      row.reserve(table.columns.size());
      for (size_t i = 0; i < table.columns.size(); ++i) {
        int col = static_cast<int>(i);
        if (stmt.IsNull(col)) {
          row.emplace_back(std::nullopt);
        } else if (table.columns[i].type == CopyType::kInt ||
                   table.columns[i].type == CopyType::kBool) {
          row.emplace_back(std::to_string(stmt.Int(col)));
        } else {
          row.emplace_back(stmt.Text(col));
        }
      }
      rows.push_back(std::move(row));
      if (rows.size() >= batch) {
        RETURN_IF_ERROR(sink(rows));
        rows.clear();
      }
    }
    if (!rows.empty()) RETURN_IF_ERROR(sink(rows));
    return txn.Commit();
  }

  Status Import(const CopyTable& table, const std::vector<CopyRow>& rows) override {
    std::string sql = "INSERT INTO " + table.name + "(" + ColumnList(table) + ") VALUES (";
    for (size_t i = 0; i < table.columns.size(); ++i) sql += i == 0 ? "?" : ", ?";
    sql += ")";
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(connection_.get(), true));
    ASSIGN_OR_RETURN(Statement stmt, connection_->Prepare(sql));
    for (const CopyRow& row : rows) {
      if (row.size() != table.columns.size()) {
        return InternalError("copy: a row of " + table.name + " has the wrong number of values");
      }
      stmt.Reset();
      for (size_t i = 0; i < row.size(); ++i) {
        int index = static_cast<int>(i) + 1;
        if (!row[i]) {
          stmt.BindNull(index);
          continue;
        }
        switch (table.columns[i].type) {
          case CopyType::kInt:
          case CopyType::kBool: {
            ASSIGN_OR_RETURN(int64_t value, ParseInt(*row[i], table.name));
            stmt.Bind(index, value);
            break;
          }
          case CopyType::kText:
            stmt.Bind(index, std::string_view(*row[i]));
            break;
          case CopyType::kBytes:
            stmt.BindBlob(index, *row[i]);
            break;
        }
      }
      RETURN_IF_ERROR(stmt.Run().WithContext("copying into " + table.name));
    }
    return txn.Commit();
  }

  // AUTOINCREMENT tables (outbox) advance sqlite_sequence on explicit inserts; the other
  // sequences are MAX(seq)+1 or rowids: nothing to do.
  Status FinishImport() override { return Status::Ok(); }

  Result<int64_t> Count(const CopyTable& table) override {
    ASSIGN_OR_RETURN(Statement stmt, connection_->Prepare("SELECT COUNT(*) FROM " + table.name));
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    int64_t n = has_row ? stmt.Int(0) : 0;
    stmt.Reset();
    return n;
  }

 private:
  std::unique_ptr<Connection> connection_;
};

}  // namespace

Result<std::unique_ptr<TableCopier>> OpenTableCopier(const std::string& path) {
  Connection::Options options;
  options.mmap_bytes = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, Connection::Open(path, options));
  return std::unique_ptr<TableCopier>(new SqliteTableCopier(std::move(connection)));
}

}  // namespace liaison::storage::sqlite
