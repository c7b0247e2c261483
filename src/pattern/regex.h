#pragma once

// Regex: a compiled MATCHES regular expression (PCRE2), compiled once per pattern.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<const Regex> re, Regex::Compile("^evil\\.[a-z]+$"));
//   bool hit = re->Search("evil.example");
//
// STIX 2.1 section 9.6 (MATCHES): the pattern is a PCRE regular expression matched against the
// property value; it is a search (unanchored), use ^ and $ to anchor. Matching is bounded: PCRE2's
// match and depth limits stop a hostile expression (catastrophic backtracking), and such an aborted
// match counts as "no match". Thread-safe: Search may run concurrently on one Regex.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace liaison::pattern {

class Regex {
 public:
  // Compiles `pattern` (UTF-8) in UTF mode. Errors: kInvalidArgument with PCRE2's message and the
  // offset in the pattern, e.g. "missing closing parenthesis at offset 4".
  static Result<std::shared_ptr<const Regex>> Compile(std::string_view pattern);

  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // True when the expression matches somewhere in `subject` (UTF-8 text; invalid UTF-8 sequences
  // simply never match a character).
  bool Search(std::string_view subject) const;

  // True when the expression matches somewhere in `bytes`, read as 8-bit code units (for binary
  // properties: `_bin`/`_hex` values compared to a pattern whose characters are all < U+0100).
  // False when the pattern has characters beyond U+00FF.
  bool SearchBytes(std::string_view bytes) const;

  const std::string& pattern() const { return pattern_; }

  // Bounds applied to every match (PCRE2 match_limit / depth_limit).
  static constexpr uint32_t kMatchLimit = 1'000'000;
  static constexpr uint32_t kDepthLimit = 10'000;

 private:
  struct Impl;
  explicit Regex(std::string pattern);
  std::string pattern_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace liaison::pattern
