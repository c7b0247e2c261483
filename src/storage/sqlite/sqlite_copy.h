#pragma once

// storage::TableCopier on a SQLite hub file (storage/table_copy.h), on its own connection.

#include <memory>
#include <string>

#include "common/status.h"
#include "storage/table_copy.h"

namespace liaison::storage::sqlite {

// Opens `path` (which SqliteStore::Open has created and migrated). kFailedPrecondition/kDataLoss
// as SqliteStore::Open.
Result<std::unique_ptr<TableCopier>> OpenTableCopier(const std::string& path);

}  // namespace liaison::storage::sqlite
