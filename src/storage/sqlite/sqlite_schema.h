#pragma once

// The SQLite schema as an ordered list of migrations. Migration i (0-based) takes a database from
// user_version i to i+1. Never edit a released migration: append a new one.

#include <string_view>
#include <vector>

namespace liaison::storage::sqlite {

const std::vector<std::string_view>& Migrations();

}  // namespace liaison::storage::sqlite
