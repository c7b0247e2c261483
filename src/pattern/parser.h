#pragma once

// Parsing, printing and checking of STIX Patterning expressions.
//
//   Result<Pattern> p = Parse("[ipv4-addr:value ISSUBSET '198.51.100.0/24']");
//   if (!p.ok()) {
//     // kInvalidArgument: "at position 17: expected a comparison operator, found 'ISSUB'"
//   }
//   CheckResult c = Check(*p);       // semantic errors and warnings
//   std::string text = Print(*p);    // canonical text; Parse(text) == *p
//
// Thread-safe: all functions are pure; a Pattern may be shared between threads once built.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pattern/ast.h"

namespace liaison::pattern {

struct ParseOptions {
  // The grammar to accept. Differences honoured (2.1 section 9 vs 2.0 Part 5, as the OASIS
  // validator grammars write them):
  //  - 2.1 keywords are upper case and booleans lower case; 2.0 takes both in any case;
  //  - 2.1 has `[NOT] EXISTS path`; 2.0 has no EXISTS;
  //  - 2.1 START/STOP take timestamp constants t'..'; 2.0 takes plain strings (both are read in
  //    2.0 mode, and Print writes the 2.0 form for a 2.0 pattern).
  // Both accept comments (/* */ and //), `==` for `=` and `<>` for `!=`, and WITHIN durations
  // with a fraction (WITHIN 2.5 SECONDS).
  StixVersion version = StixVersion::k21;
  // Inputs longer than this are rejected with kResourceExhausted.
  size_t max_length = 1 << 20;
  // Maximum nesting of parentheses and brackets (observation plus comparison levels). Deeper input
  // is rejected with kResourceExhausted; this bounds the parser's recursion.
  size_t max_depth = 100;
  // Maximum number of comparisons in one pattern (kResourceExhausted beyond).
  size_t max_comparisons = 10000;
};

// Parses `text` as a whole pattern. Errors:
//  - kInvalidArgument "at position N: expected X, found Y" for syntax errors (N is a 0-based byte
//    offset), and for literals that are malformed (bad timestamp, odd hex digits, bad base64,
//    integer out of range, an invalid MATCHES regular expression, REPEATS 0 TIMES, ...);
//  - kResourceExhausted when a limit of `options` is exceeded.
// Keywords: AND, OR, NOT, FOLLOWEDBY, LIKE, MATCHES, ISSUBSET, ISSUPERSET, EXISTS, IN, START,
// STOP, WITHIN, SECONDS, REPEATS, TIMES (see ParseOptions for case rules). Parse is bounded: linear
// in the input, recursion depth at most options.max_depth.
Result<Pattern> Parse(std::string_view text, const ParseOptions& options = {});

// The canonical text of `pattern`: single spaces around operators, keys quoted only when they are
// not plain identifiers, the parentheses precedence needs, floats in shortest round-trip form,
// hex in lower case, binary in canonical base64, timestamps as written.
// Guarantee: Parse(Print(p), {.version = p.version}) == p for any p returned by Parse.
std::string Print(const Pattern& pattern);
std::string Print(const ObservationExpression& expr);
std::string Print(const ComparisonExpression& expr);
std::string Print(const Comparison& comparison);
std::string Print(const ObjectPath& path);
std::string Print(const Constant& constant);

// (Re)compiles the MATCHES regular expressions of a hand-built tree (Parse already does this).
// kInvalidArgument if one does not compile.
Status CompileRegexes(Pattern& pattern);

// A finding of Check().
struct Diagnostic {
  size_t position = 0;  // 0-based byte offset of the offending comparison or qualifier
  std::string message;  // "at position 1: ISSUBSET needs an IP address property; ..."
};

struct CheckResult {
  std::vector<Diagnostic> errors;    // the pattern can never work as written
  std::vector<Diagnostic> warnings;  // suspicious but legal (custom types and properties)
  bool ok() const { return errors.empty(); }
};

// Semantic validation beyond the grammar (STIX 2.1 section 9 and the SCO definitions of
// section 6):
//  errors:   ISSUBSET/ISSUPERSET with a constant that is not an IPv4/IPv6 address or CIDR block, or
//            on a property of a standard SCO that is not an IP address value; LIKE/MATCHES with a
//            non-string constant (the grammar already enforces this) or on a standard property
//            that is numeric, boolean or a timestamp; ordering (<, >, <=, >=) or = with a constant
//            whose type cannot compare with a standard property's type (e.g. file:size = 'big',
//            file:name > 3); IN sets mixing incompatible constant types; START not before STOP.
//  warnings: an object type that is not a standard SCO type (and not custom `x-…`); a top-level
//            property unknown for a standard SCO type (custom `x_…` properties excepted); an
//            unknown extension name under `extensions`; path steps that can never resolve
//            (indexing a non-list standard property, a key under a scalar one).
CheckResult Check(const Pattern& pattern);

}  // namespace liaison::pattern
