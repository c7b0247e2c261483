#include "server/store_copy.h"

#include <filesystem>
#include <memory>

#include "audit/chain.h"
#include "server/store_url.h"
#include "storage/postgres/pg_copy.h"
#include "storage/sqlite/sqlite_copy.h"
#include "storage/table_copy.h"

namespace liaison::server {

namespace {

constexpr size_t kBatch = 2000;

Result<std::unique_ptr<storage::TableCopier>> CopierFor(const StoreLocation& where) {
  if (where.kind == StoreKind::kPostgres) {
    Result<std::unique_ptr<storage::TableCopier>> copier =
        storage::postgres::OpenTableCopier(where.target, where.schema);
    if (!copier.ok()) return copier.status().WithContext(where.display);
    return copier;
  }
  Result<std::unique_ptr<storage::TableCopier>> copier =
      storage::sqlite::OpenTableCopier(where.target);
  if (!copier.ok()) return copier.status().WithContext(where.display);
  return copier;
}

}  // namespace

Result<CopyReport> CopyHub(const std::string& from, const std::string& to) {
  if (from.empty() || to.empty()) {
    return InvalidArgumentError("store copy needs --from URL and --to URL");
  }
  ASSIGN_OR_RETURN(StoreLocation source, ParseStoreUrl(from, ""));
  ASSIGN_OR_RETURN(StoreLocation target, ParseStoreUrl(to, ""));
  if (source.kind == target.kind && source.target == target.target) {
    return InvalidArgumentError("--from and --to name the same store");
  }
  CopyReport report;
  report.from = source.display;
  report.to = target.display;

  // Both stores at the current schema (opening migrates); the source must hold a hub, the target
  // nothing at all.
  std::string source_head;
  int64_t source_seq = 0;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, OpenStore(source, OpenMode::kExisting));
    Result<audit::VerifyReport> chain = audit::VerifyChain(*store);
    if (!chain.ok()) {
      return chain.status().WithContext("the source's audit chain does not verify; not copying");
    }
    source_head = chain->last_hash;
    source_seq = chain->last_seq;
  }
  if (target.kind == StoreKind::kSqlite) {
    // A new data directory for the target, as private as `liaison init` makes it.
    std::filesystem::path dir = std::filesystem::path(target.target).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        return FailedPreconditionError("cannot create " + dir.string() + ": " + ec.message());
      }
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
    }
  }
  {
    ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, OpenStore(target, OpenMode::kCreate));
    ASSIGN_OR_RETURN(bool empty, StoreIsEmpty(*store));
    if (!empty) {
      return FailedPreconditionError(target.display +
                                     " already holds a hub; refusing to copy into a non-empty "
                                     "store");
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<storage::TableCopier> in, CopierFor(source));
  ASSIGN_OR_RETURN(std::unique_ptr<storage::TableCopier> out, CopierFor(target));
  for (const storage::CopyTable& table : storage::CopyTables()) {
    ASSIGN_OR_RETURN(int64_t existing, out->Count(table));
    if (existing != 0) {
      return FailedPreconditionError(target.display + " has rows in table " + table.name +
                                     "; refusing to copy into a non-empty store");
    }
  }

  for (const storage::CopyTable& table : storage::CopyTables()) {
    Status status = in->Export(table, kBatch, [&](std::vector<storage::CopyRow>& rows) {
      return out->Import(table, rows);
    });
    if (!status.ok()) return status.WithContext("copying table " + table.name);
  }
  RETURN_IF_ERROR(out->FinishImport());

  // Verify: the same rows per table, and the same audit chain.
  for (const storage::CopyTable& table : storage::CopyTables()) {
    ASSIGN_OR_RETURN(int64_t source_count, in->Count(table));
    ASSIGN_OR_RETURN(int64_t target_count, out->Count(table));
    if (source_count != target_count) {
      return DataLossError("copy verification failed: table " + table.name + " has " +
                           std::to_string(target_count) + " rows in " + target.display + " but " +
                           std::to_string(source_count) + " in " + source.display);
    }
    report.tables.emplace_back(table.name, target_count);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> copied, OpenStore(target, OpenMode::kExisting));
  Result<audit::VerifyReport> chain = audit::VerifyChain(*copied);
  if (!chain.ok()) {
    return DataLossError("copy verification failed: the audit chain in " + target.display +
                         " does not verify: " + chain.status().message());
  }
  if (chain->last_hash != source_head || chain->last_seq != source_seq) {
    return DataLossError("copy verification failed: the audit chain head in " + target.display +
                         " differs from the source's");
  }
  report.audit_entries = chain->entries;
  report.audit_head = chain->last_hash;
  return report;
}

}  // namespace liaison::server
