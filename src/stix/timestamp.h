#pragma once

// STIX 2.1 timestamps (section 3.2): RFC 3339, UTC, upper-case T and Z,
// "YYYY-MM-DDTHH:MM:SS[.s+]Z".
//
// Held as microseconds since the Unix epoch, which orders versions and serves TAXII's
// `match[version]`. (Nanoseconds in 64 bits would stop at 2262, and STIX content uses dates up to
// 9999.) Fractions finer than a microsecond are accepted (the spec allows any precision) and
// truncated for ordering; the object's bytes keep the original text.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace liaison::stix {

struct Timestamp {
  int64_t micros = 0;  // since 1970-01-01T00:00:00Z

  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// Parses a STIX timestamp. Errors (kInvalidArgument) say what is wrong, e.g.
// "'2020-13-01T00:00:00Z' is not a valid timestamp: month 13 out of range".
// Years 0001..9999; leap seconds (:60) are rejected (RFC 3339 permits them, STIX examples never use
// them, and their instant is ambiguous).
Result<Timestamp> ParseTimestamp(std::string_view text);

// Formats with exactly `fraction_digits` (0..6) fractional digits: "2016-05-12T08:17:27.000Z".
// TAXII `date_added` uses 6 (microseconds); STIX created/modified written by the hub use 3.
std::string FormatTimestamp(Timestamp ts, int fraction_digits = 3);

// Shortest form that round-trips: no fraction when whole seconds, else trailing zeros trimmed
// (at least 3 digits, so "…:27.100Z").
std::string FormatTimestampShortest(Timestamp ts);

}  // namespace liaison::stix
