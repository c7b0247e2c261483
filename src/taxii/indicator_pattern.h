#pragma once

// Pattern validation of posted indicators. The STIX module validates an object's structure but
// cannot parse STIX Patterning (the pattern module depends on it, not the reverse), so the ingest
// path checks patterns here: an indicator whose pattern_type is "stix" must carry a pattern in the
// STIX Patterning language (STIX 2.1 section 4.7 and section 9), or it is rejected and reported
// in the status resource like any other invalid object.
//
//   if (Status s = CheckIndicatorPattern(info); !s.ok()) report_failure(s.message());
//
// Thread-safe: pure function.

#include "common/status.h"
#include "stix/object.h"

namespace liaison::taxii {

// OK for objects that are not indicators, for indicators whose pattern_type is not "stix" (PCRE,
// Sigma, Snort, Suricata, YARA, ... are opaque to the hub), and for indicators whose pattern
// parses (STIX Patterning 2.1, or 2.0 for spec_version 2.0 content). Otherwise kInvalidArgument,
// naming the object and the property: "indicator--...: property 'pattern': not a valid STIX
// pattern: at position 0: ...".
Status CheckIndicatorPattern(const stix::ObjectInfo& info);

}  // namespace liaison::taxii
