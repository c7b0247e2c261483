#pragma once

// storage::TableCopier on a PostgreSQL hub database (storage/table_copy.h), on its own connection.

#include <memory>
#include <string>

#include "common/status.h"
#include "storage/table_copy.h"

namespace liaison::storage::postgres {

// Connects to `url` (tables in `schema`), which PostgresStore::Open has created and migrated.
// kUnavailable when the server cannot be reached.
Result<std::unique_ptr<TableCopier>> OpenTableCopier(const std::string& url,
                                                     const std::string& schema = "public");

}  // namespace liaison::storage::postgres
