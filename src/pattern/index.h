#pragma once

// Index: matches a stream of observations against many STIX patterns at once (issue 3, "The
// index"). Each Match(observation) costs a few hash probes per observed property value instead of
// one evaluation per pattern.
//
//   Index index;
//   RETURN_IF_ERROR(index.Add("indicator--…", *Parse("[ipv4-addr:value = '198.51.100.7']")));
//   RETURN_IF_ERROR(index.RebuildRegexDatabases());   // after bulk loads: compiles LIKE/MATCHES
//   std::vector<IndexHit> hits;
//   for (const Observation& o : stream) {
//     hits.clear();
//     index.Match(o, &hits);
//     for (const IndexHit& h : hits) sight(h.indicator_id, h.observations);
//   }
//
// How a pattern is indexed. Every comparison gets an "anchor", a condition the index can test
// cheaply that is necessary for the comparison to hold:
//   - `=` and `IN` with string, integer, float or boolean constants: the key (object type, path,
//     typed value) in one hash table (typed_key.h), so one probe per observed value;
//   - ISSUBSET / ISSUPERSET with an address constant: a prefix structure (cidr_set.h);
//   - LIKE / MATCHES: a Hyperscan prefilter per (object type, path) (hyperscan_database.h);
//   - anything else (!=, <, NOT, EXISTS, timestamp/binary constants, …): the presence of an object
//     of the comparison's type (every comparison needs one, see evaluator.h).
// An AND inside `[...]` is anchored by its cheapest operand, an OR by all of its operands, a
// pattern by all of its `[...]`. When an anchor fires, the pattern is confirmed with the
// evaluator (evaluator.h), so the index answers exactly what the evaluator answers. Patterns made
// only of `=`/`IN` comparisons on one object type per `[...]`, joined by OR and without qualifiers,
// need no confirmation: their hash hit is the match, and they keep no AST (the common
// million-IOC case: under 200 bytes per indicator).
//
// Streaming semantics.
//   - A pattern whose every binding holds a single observation ("stateless": `[...]`, OR of those,
//     with WITHIN or START/STOP qualifiers) hits on observation o when Match(pattern, {o}) does.
//   - A pattern that needs several observations ("stateful": observation AND, FOLLOWEDBY,
//     REPEATS) keeps a window of the earlier observations that satisfy one of its `[...]`. When o
//     satisfies one, the pattern is evaluated over window + {o}; a match is reported with the
//     observations of the binding found, and those observations are consumed (removed from the
//     window), so each observation contributes to at most one hit of a given pattern. (Because
//     the window alone never matches, every binding found contains o.)
//   - Windows are bounded: at most IndexOptions::max_window_observations per pattern (the oldest
//     is evicted first), and, when the pattern's root carries `WITHIN n SECONDS` (not followed by
//     REPEATS), observations whose last_observed is more than n seconds before the latest
//     first_observed seen by that pattern are dropped: they can no longer be part of a match if
//     observations arrive in first_observed order (WITHIN holds when max(first_observed) -
//     min(last_observed) <= n, as the evaluator reads section 9.7.2). Windows hold copies of the
//     observations.
//   - Validity: an indicator hits only observations that overlap [valid_from, valid_until): an
//     observation with last_observed < valid_from or first_observed >= valid_until is ignored for
//     it (STIX 2.1 section 4.7: valid_until is the time the indicator is no longer valid).
//     RemoveExpired(now) drops indicators whose valid_until has passed, to reclaim memory.
//
// Thread-safety: all methods may be called concurrently. Match takes a shared lock on the index
// structure (many Match calls run in parallel, each with its own Hyperscan scratch: a thread-local
// one for the index a thread mostly matches against, else one from a pool; a thread keeps that
// scratch memory until it exits) plus, for stateful patterns only, one mutex around the window
// state. Add, Remove, RemoveExpired
// and the final install step of RebuildRegexDatabases take the exclusive lock; they are short
// (no Hyperscan compilation under the lock). RebuildRegexDatabases compiles without any lock held,
// so it can run on a background thread while matching continues; comparisons added meanwhile stay
// "pending" (evaluated for every observed value of their path, correct but slower) until the next
// rebuild.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pattern/ast.h"
#include "pattern/evaluator.h"
#include "pattern/observation.h"

namespace liaison::pattern {

struct IndexOptions {
  // Earlier observations kept per stateful pattern (oldest evicted first). At least 1.
  size_t max_window_observations = 256;
  // Drop window observations outside the root WITHIN horizon (see above).
  bool evict_outside_within = true;
  // Bounds for the evaluator's search when confirming a compound pattern.
  MatchOptions match_options;
};

// An observation that took part in a hit.
struct ObservationRef {
  std::string id;  // observed-data id ("" when the input had none)
  int64_t first_observed_us = 0;
  int64_t last_observed_us = 0;
  int64_t number_observed = 1;
  // The ordinal of the Match call that passed this observation to the index (0, 1, 2, …).
  uint64_t sequence = 0;
};

struct IndexHit {
  std::string indicator_id;
  // The observations of the binding, in stream order (the last one is the observation passed to
  // the Match call that reported the hit).
  std::vector<ObservationRef> observations;
};

struct IndexStats {
  size_t indicators = 0;           // live indicators
  size_t exact_indicators = 0;     // confirmed by their hash hit alone (no AST kept)
  size_t stateful_indicators = 0;  // patterns spanning several observations
  size_t equality_keys = 0;        // distinct (type, path, value) keys
  size_t regex_compiled = 0;       // LIKE/MATCHES anchors inside Hyperscan databases
  size_t regex_pending = 0;        // added since the last RebuildRegexDatabases
  size_t regex_always = 0;  // refused by Hyperscan: candidates whenever their path has a value
  size_t cidr_anchors = 0;
  size_t type_anchors = 0;         // comparisons anchored only by their object type
  size_t window_observations = 0;  // observations held in windows
  size_t index_bytes = 0;          // hash tables, postings, slots (excluding ASTs and windows)
  uint64_t observations = 0;       // Match calls so far
  uint64_t confirmations = 0;      // evaluator calls made to confirm candidates
  uint64_t evaluation_errors = 0;  // confirmations that hit the evaluator's bounds (no hit)
};

class Index {
 public:
  static constexpr int64_t kNoStart = std::numeric_limits<int64_t>::min();
  static constexpr int64_t kNoEnd = std::numeric_limits<int64_t>::max();

  explicit Index(IndexOptions options = {});
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  // Adds (or replaces, when `indicator_id` is already present) an indicator. `valid_from_us` /
  // `valid_until_us`: microseconds since the epoch, or kNoStart / kNoEnd. Errors:
  // kInvalidArgument when valid_until <= valid_from or the id is empty; kResourceExhausted when an
  // internal table is full (more than 65,535 distinct object paths, or 4 GiB of keys). On error
  // the index is unchanged (a replaced indicator stays removed).
  Status Add(std::string_view indicator_id, Pattern pattern, int64_t valid_from_us = kNoStart,
             int64_t valid_until_us = kNoEnd);

  // Removes an indicator (it stops matching immediately); returns whether it was present.
  bool Remove(std::string_view indicator_id);

  // Removes every indicator whose valid_until_us <= now_us; returns how many.
  size_t RemoveExpired(int64_t now_us);

  // Compiles the LIKE/MATCHES anchors added since the last rebuild into Hyperscan databases (one
  // per object type and path) and installs them. Compilation runs without holding the index lock.
  // Calls are serialised. Errors: kInternal / kResourceExhausted from Hyperscan (the previous
  // databases stay in use; nothing is lost, pending anchors stay pending).
  Status RebuildRegexDatabases();

  // Matches one observation; appends one IndexHit per indicator it completes to `hits` (order
  // unspecified) and returns how many were appended.
  size_t Match(const Observation& observation, std::vector<IndexHit>* hits);

  bool Contains(std::string_view indicator_id) const;
  size_t size() const;
  IndexStats Stats() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace liaison::pattern
