#pragma once

// The logic of `liaison match` (issue 3, "CLI"), kept out of the CLI11 wiring so it is unit-tested.
//
// Single pattern:
//   liaison match --pattern 'PATTERN' --observed FILE [--stix-version 2.0|2.1] [--json]
//   RunSingleMatch(pattern, file_text, version, json) -> exit code 0 (match), 1 (no match),
//   2 (invalid pattern or input; `error` holds the one-line message).
//
// Bulk:
//   liaison match --indicators FILE --observed FILE|- [--format jsonl]
//   LoadIndicators(file_text, &index) then MatchStream(in, index, out, ...): every line of `in` is
//   one observed-data (with embedded objects) or one bundle; each hit becomes one STIX 2.1 sighting
//   written to `out` as one JSON line. The input is streamed line by line, never read whole.
//
// Thread-compatible: no shared state; callers pass their own Index, streams and clock.

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "pattern/ast.h"
#include "pattern/index.h"

namespace liaison::cli {

struct SingleMatchOutcome {
  int exit_code = 2;   // 0 match, 1 no match, 2 invalid pattern or input
  std::string output;  // for stdout (with --json: one JSON object and a newline)
  std::string error;   // one line for stderr when exit_code == 2
};

// Matches `pattern_text` against the observed-data of `observed_json` (a JSON array of objects, a
// bundle, or a TAXII envelope). `version`: the grammar and observation model; nullopt means 2.1
// unless the input declares 2.0 (a bundle with spec_version "2.0", or observed-data without
// spec_version). Semantic errors found by pattern::Check (e.g. ISSUBSET on a non-address) make
// the pattern invalid (exit 2). With `json`, output is
//   {"matched":true,"observed_data_refs":["observed-data--…",…],"observation_indices":[0,…]}
// listing the observed-data of the binding that satisfied the pattern; without it, "match: <ids>"
// or "no match".
SingleMatchOutcome RunSingleMatch(std::string_view pattern_text, std::string_view observed_json,
                                  std::optional<pattern::StixVersion> version, bool json);

// Parses "2.0" / "2.1". kInvalidArgument otherwise.
Result<pattern::StixVersion> ParseStixVersion(std::string_view text);

struct IndicatorLoadSummary {
  size_t loaded = 0;
  size_t skipped = 0;
  // One line per skipped indicator ("indicator--…: pattern_type 'sigma' is not 'stix'"); at most
  // the first 100 are kept, `skipped` counts them all.
  std::vector<std::string> skip_reasons;
};

// Loads every indicator of `text` into `index`: a STIX bundle, a TAXII envelope, a JSON array of
// objects, or JSONL (one object, bundle or array per line). Non-indicator objects are ignored.
// Skipped (with a reason): revoked indicators, pattern_type other than "stix", missing or invalid
// pattern (parsed with the grammar of the indicator's spec_version, or of its pattern_version),
// invalid valid_from/valid_until, valid_until not after valid_from. Errors: kInvalidArgument when
// `text` is neither JSON nor JSONL of objects (the message names the line).
Result<IndicatorLoadSummary> LoadIndicators(std::string_view text, pattern::Index* index);

struct StreamSummary {
  uint64_t lines = 0;         // non-empty lines read
  uint64_t bad_lines = 0;     // lines that were not valid observations (reported on `errors`)
  uint64_t observations = 0;  // observed-data matched
  uint64_t hits = 0;          // sightings written
};

struct StreamOptions {
  pattern::StixVersion version = pattern::StixVersion::k21;
  size_t max_line_bytes = 64u << 20;  // longer lines are reported as bad and skipped
  size_t max_reported_errors = 20;    // further bad lines are only counted
};

// Reads `in` line by line, matches every observation against `index` and writes one sighting per
// hit to `out` (JSON, one per line). `new_id` returns a fresh "sighting--<uuid>" each call;
// `clock` gives created/modified. Bad lines are reported to `errors` ("line 7: …") and skipped.
StreamSummary MatchStream(std::istream& in, pattern::Index& index, std::ostream& out,
                          std::ostream& errors, const Clock& clock,
                          const std::function<std::string()>& new_id,
                          const StreamOptions& options = {});

// The sighting for one hit (STIX 2.1 section 5.2): type, spec_version, id, created, modified,
// sighting_of_ref, observed_data_refs (ids of the binding's observations, when they have ids),
// first_seen/last_seen (earliest first_observed, latest last_observed), count (sum of
// number_observed, capped at 999999999).
std::string SightingJson(const pattern::IndexHit& hit, std::string_view id, int64_t now_us);

// A random (version 4) UUID in canonical text form, from std::random_device.
std::string RandomUuid();

}  // namespace liaison::cli
