#pragma once

// TAXII URL query parameters (TAXII 2.1 section 3.4): added_after, limit, next and match[<field>],
// parsed and checked for one endpoint.
//
//   ASSIGN_OR_RETURN(taxii::Filters f, taxii::ParseFilters(request.query, Endpoint::kObjects, {}));
//
// Rules (TAXII 2.1 section 3.4 and 3.4.1):
//  - A malformed parameter is kInvalidArgument (HTTP 400).
//  - added_after, limit and next may appear once; each match[<field>] may appear once.
//  - Comma-separated values are ORed; fields are ANDed. Values must not be empty.
//  - match[version]: "first", "last", "all" or STIX timestamps; no value twice; "all" alone.
//  - Parameters an endpoint does not define (e.g. match[type] on the object endpoint, or
//    match[foo] anywhere) are ignored, as section 3.4 allows for fields a server does not
//    understand.
//  - Bounded: at most QueryLimits::max_params parameters and max_query_bytes bytes in all, and at
//    most max_match_values values over all match fields.
//
// Thread-safe: pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/store.h"

namespace liaison::taxii {

// The endpoints that take filters, each with its own set (TAXII 2.1 sections 5.3, 5.4, 5.6, 5.7,
// 5.8).
enum class Endpoint {
  kObjects,       // GET {api-root}/collections/{id}/objects/: everything
  kManifest,      // GET .../manifest/: everything
  kObject,        // GET .../objects/{object-id}/: added_after, limit, next, version, spec_version
  kVersions,      // GET .../objects/{object-id}/versions/: added_after, limit, next, spec_version
  kDeleteObject,  // DELETE .../objects/{object-id}/: version, spec_version
};

struct QueryLimits {
  size_t max_params = 64;
  size_t max_query_bytes = 256 * 1024;
  size_t max_match_values = 1000;
};

struct Filters {
  std::optional<int64_t> added_after;      // microseconds, exclusive
  std::optional<size_t> limit;             // > 0; huge values saturate (the caller caps)
  std::optional<std::string> next;         // as sent; decoded by the caller (taxii/cursor.h)
  std::vector<std::string> ids;            // match[id], in request order, no duplicates
  std::vector<std::string> types;          // match[type]
  std::vector<std::string> spec_versions;  // match[spec_version]
  std::vector<storage::VersionSelector> version_selectors;  // match[version] keywords
  std::vector<int64_t> versions;                            // match[version] timestamps

  // A stable text of every filter that selects results (not limit or next), with list values
  // sorted: two requests with the same Canonical() select the same results. Cursors bind to it.
  std::string Canonical() const;
};

Result<Filters> ParseFilters(const std::vector<std::pair<std::string, std::string>>& query,
                             Endpoint endpoint, const QueryLimits& limits);

// Loose syntactic checks used for filter values and path segments (the STIX module does the full
// validation of posted objects): a STIX type name is 1..250 of [a-z0-9-]; an identifier is
// "<type>--<UUID>" with the UUID in 8-4-4-4-12 hex form.
bool LooksLikeStixType(std::string_view type);
bool LooksLikeStixId(std::string_view id);
// "8-4-4-4-12" hex digits (any case).
bool LooksLikeUuid(std::string_view uuid);

}  // namespace liaison::taxii
