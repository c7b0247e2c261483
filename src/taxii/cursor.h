#pragma once

// Paging cursors: the `next` value of TAXII envelopes (TAXII 2.1 sections 3.4, 3.5 and 3.7).
//
// A cursor is the date_added of the last result returned plus a fingerprint of the query that
// produced it, base64url-encoded. Since date_added is unique and strictly increasing within a
// collection (storage/store.h), "resume after this date_added" continues the query exactly, with
// no server-side state: cursors never expire and cost nothing to keep.
//
// A cursor grants nothing: the query is re-run with the caller's own filters and permissions
// (TAXII 2.1 Appendix B: the next value "MUST NOT be implicitly trusted"). The fingerprint only
// catches a cursor used with a different query, which would silently skip results.
//
//   std::string next = EncodeCursor(last.date_added, CursorScope(kind, collection, filters));
//   ASSIGN_OR_RETURN(int64_t after, DecodeCursor(request_next, same_scope));
//
// Thread-safe: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace liaison::taxii {

// A 64-bit fingerprint of `scope` (FNV-1a; stable across processes and builds).
uint64_t Fingerprint(std::string_view scope);

// The cursor text (23 characters of [A-Za-z0-9_-]).
std::string EncodeCursor(int64_t last_date_added, std::string_view scope);

// The date_added to resume after. kInvalidArgument when `next` is not a cursor of this server, or
// was made for another query.
Result<int64_t> DecodeCursor(std::string_view next, std::string_view scope);

}  // namespace liaison::taxii
