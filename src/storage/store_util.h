#pragma once

// Helpers shared by the Store backends (storage/memory, storage/sqlite, later storage/postgres), so
// that every backend applies the same rules for the parts of the contract that are not SQL:
// argument checks, the text of versions in status resources, status counters, and the assignment
// of date_added values. Not for use outside storage/.
//
// Thread-safe: all functions here are pure.

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "storage/store.h"

namespace liaison::storage {

// The STIX timestamp text of a version (or date_added) in microseconds: three fractional digits
// when the value is whole milliseconds ("2016-05-12T08:17:27.000Z"), else six.
std::string FormatVersionText(int64_t micros);

// Checks the parts of an AddObjectsRequest a backend relies on: every object has a non-empty id,
// type, spec_version and json. kInvalidArgument naming the first bad object.
Status ValidateAddObjectsRequest(const AddObjectsRequest& request);

// The most values one filter list of an ObjectQuery may hold (ids, types, spec_versions,
// versions). Backends build one SQL parameter per value.
inline constexpr size_t kMaxQueryValues = 4096;

// kInvalidArgument when a filter list of `query` holds more than kMaxQueryValues values.
Status ValidateObjectQuery(const ObjectQuery& query);

// Fills the counters of a status from its lists: success/failure/pending counts, total_count at
// least their sum, and status "pending" when pendings remain, else "complete".
void FinishStatusCounts(StatusResource& status);

// The date_added to give the next new version in a collection whose last assigned value is
// `last_date_added`: max(now_micros, last_date_added + 1). Strictly increasing whatever the
// clock does.
inline int64_t NextDateAdded(int64_t last_date_added, int64_t now_micros) {
  return now_micros > last_date_added ? now_micros : last_date_added + 1;
}

// The number of rows a page query should fetch to know `more`: limit + 1, clamped so that huge
// limits do not overflow.
int64_t FetchLimit(size_t limit);

}  // namespace liaison::storage
