#pragma once

// The abstract syntax tree of a STIX Patterning expression (STIX 2.1 section 9, STIX 2.0 Part 5).
//
//   [file:hashes.'SHA-256' = 'aec0…' AND file:size > 1024] FOLLOWEDBY [ipv4-addr:value =
//   '10.0.0.1']
//       WITHIN 300 SECONDS
//
// is a Pattern whose root ObservationExpression has kind kFollowedBy, two kObservation children
// (each holding a ComparisonExpression tree), and one Qualifier (kWithin, 300 s).
//
// Shape rules the parser guarantees (and the printer relies on):
//  - AND/OR nodes (of both comparison and observation expressions) are n-ary and flattened: a kAnd
//    node never has an unqualified kAnd child; the same for kOr and kFollowedBy. Parentheses that
//    only group are not kept; Print() writes the ones precedence needs.
//  - Qualifiers are postfix and attach to the observation expression just before them
//    (`[a] AND [b] WITHIN 5 SECONDS` qualifies [b] only; write `([a] AND [b]) WITHIN 5 SECONDS` to
//    qualify both). A node may carry several qualifiers; they apply in order, innermost first.
//  - Source positions (`position`, 0-based byte offsets into the pattern text) are kept for
//    diagnostics but are not part of equality, so Parse(Print(p)) == p.
//
// All types are plain values: copyable, comparable with ==, no pointers into the source text.
// A MATCHES comparison additionally holds its compiled regular expression (shared, immutable,
// thread-safe to use concurrently); it is ignored by ==.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace liaison::pattern {

// The Patterning grammar version. The two differ in small ways (see parser.h): 2.1 allows NOT
// before EXISTS and float WITHIN durations; 2.0 observed-data only embeds `objects`.
enum class StixVersion { k20, k21 };

// "2.0" / "2.1".
const char* StixVersionName(StixVersion v);

// A literal (STIX 2.1 section 9.2, table "Constants").
struct Constant {
  enum class Kind {
    kString,     // 'text'           string_value: the unescaped text
    kInt,        // 42, -7           int_value
    kFloat,      // 1.5, -0.25       float_value
    kBool,       // true, false      bool_value
    kHex,        // h'ff00'          string_value: the decoded bytes
    kBinary,     // b'aGk='          string_value: the decoded bytes
    kTimestamp,  // t'2016-…Z'       timestamp_us, and string_value: the text between the quotes
  };
  Kind kind = Kind::kString;
  std::string string_value;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  int64_t timestamp_us = 0;  // microseconds since the Unix epoch (kTimestamp)

  static Constant String(std::string s);
  static Constant Int(int64_t v);
  static Constant Float(double v);
  static Constant Bool(bool v);
  static Constant Hex(std::string bytes);
  static Constant Binary(std::string bytes);
  // `text` must be a valid STIX timestamp; `micros` its instant.
  static Constant Timestamp(std::string text, int64_t micros);

  friend bool operator==(const Constant& a, const Constant& b);
};

// One step of an object path after the object type (STIX 2.1 section 9.3).
struct PathStep {
  enum class Kind {
    kKey,       // .name or .'quoted-name' (the first step is always a key)
    kIndex,     // [3]; negative indices count from the end ([-1] is the last element)
    kAnyIndex,  // [*]: any element
  };
  Kind kind = Kind::kKey;
  std::string key;    // kKey
  int64_t index = 0;  // kIndex

  static PathStep Key(std::string k) { return {Kind::kKey, std::move(k), 0}; }
  static PathStep Index(int64_t i) { return {Kind::kIndex, {}, i}; }
  static PathStep AnyIndex() { return {Kind::kAnyIndex, {}, 0}; }

  friend bool operator==(const PathStep&, const PathStep&) = default;
};

// `file:extensions.'windows-pebinary-ext'.sections[*].entropy` is
// {object_type "file", steps [extensions, windows-pebinary-ext, sections, [*], entropy]}.
// A key ending in `_ref` (a single reference) or followed by an index after a key ending in `_refs`
// dereferences to the referenced object when the path continues past it (section 9.3).
struct ObjectPath {
  std::string object_type;
  std::vector<PathStep> steps;  // never empty; steps[0].kind == kKey

  friend bool operator==(const ObjectPath&, const ObjectPath&) = default;
};

enum class ComparisonOp {
  kEqual,         // =
  kNotEqual,      // !=
  kLess,          // <
  kGreater,       // >
  kLessEqual,     // <=
  kGreaterEqual,  // >=
  kIn,            // IN ('a', 'b')
  kLike,          // LIKE 'pat%'      (SQL LIKE: % any run, _ one character; case-sensitive)
  kMatches,       // MATCHES 'regex'  (PCRE2)
  kIsSubset,      // ISSUBSET '10.0.0.0/8'
  kIsSuperset,    // ISSUPERSET '10.0.0.0/24'
  kExists,        // EXISTS path
};

// "=", "!=", "<", ..., "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS".
const char* ComparisonOpName(ComparisonOp op);

// A compiled MATCHES regular expression (PCRE2, compiled once at parse time). Opaque; immutable
// after construction and safe to share between threads. Defined in regex.h.
class Regex;

// One property test: `path [NOT] op value`, or `[NOT] EXISTS path`.
struct Comparison {
  ObjectPath path;
  ComparisonOp op = ComparisonOp::kEqual;
  bool negated = false;       // NOT before the operator
  Constant value;             // every op except kIn and kExists
  std::vector<Constant> set;  // kIn: the members (possibly empty: `IN ()`)
  // kMatches: the compiled form of value.string_value; set by the parser (and by CompileRegexes()
  // in parser.h for hand-built trees). Not part of equality.
  std::shared_ptr<const Regex> regex;
  size_t position = 0;  // offset of the path (or of NOT/EXISTS) in the source; not part of ==

  friend bool operator==(const Comparison& a, const Comparison& b) {
    return a.path == b.path && a.op == b.op && a.negated == b.negated && a.value == b.value &&
           a.set == b.set;
  }
};

// The inside of `[ ... ]`: comparisons joined by AND and OR (AND binds tighter).
struct ComparisonExpression {
  enum class Kind { kComparison, kAnd, kOr };
  Kind kind = Kind::kComparison;
  Comparison comparison;                       // kComparison
  std::vector<ComparisonExpression> children;  // kAnd / kOr: two or more, flattened

  friend bool operator==(const ComparisonExpression&, const ComparisonExpression&) = default;
};

// WITHIN n SECONDS, REPEATS n TIMES, START t'..' STOP t'..' (STIX 2.1 section 9.7).
struct Qualifier {
  enum class Kind { kWithin, kRepeats, kStartStop };
  Kind kind = Kind::kWithin;
  // kWithin: the duration in microseconds (WITHIN 1.5 SECONDS -> 1'500'000). Positive.
  int64_t within_us = 0;
  int64_t repeats = 0;  // kRepeats: at least 1
  Constant start;       // kStartStop: kTimestamp constants
  Constant stop;
  size_t position = 0;  // not part of ==

  friend bool operator==(const Qualifier& a, const Qualifier& b) {
    return a.kind == b.kind && a.within_us == b.within_us && a.repeats == b.repeats &&
           a.start == b.start && a.stop == b.stop;
  }
};

struct ObservationExpression {
  enum class Kind {
    kObservation,  // [ comparison expression ]
    kAnd,          // observation operators, n-ary, flattened
    kOr,
    kFollowedBy,  // children in temporal order
  };
  Kind kind = Kind::kObservation;
  ComparisonExpression comparison;              // kObservation
  std::vector<ObservationExpression> children;  // kAnd / kOr / kFollowedBy: two or more
  std::vector<Qualifier> qualifiers;            // applied in order to this node
  size_t position = 0;                          // not part of ==

  friend bool operator==(const ObservationExpression& a, const ObservationExpression& b) {
    return a.kind == b.kind && a.comparison == b.comparison && a.children == b.children &&
           a.qualifiers == b.qualifiers;
  }
};

// A parsed pattern. `version` is the grammar it was parsed with (not part of ==).
struct Pattern {
  ObservationExpression root;
  StixVersion version = StixVersion::k21;

  friend bool operator==(const Pattern& a, const Pattern& b) { return a.root == b.root; }
};

}  // namespace liaison::pattern
