#pragma once

// Internal to storage/postgres: the versioned schema migrations, in order. Migration i (0-based)
// brings the schema from version i to i + 1; liaison_schema.version records the version reached.

#include <string_view>
#include <vector>

namespace liaison::storage::postgres {

const std::vector<std::string_view>& Migrations();

}  // namespace liaison::storage::postgres
