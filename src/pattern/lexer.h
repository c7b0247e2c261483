#pragma once

// The STIX Patterning lexer (STIX 2.1 section 9 grammar, lexer rules): turns pattern text into
// tokens with their byte positions. Used by the parser; exposed for tests and tools.
//
//   ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize("[file:size > 10]", StixVersion::k21));
//
// Rules (2.1 grammar, as the OASIS validator's ANTLR grammar writes them):
//  - whitespace (ASCII and the Unicode spaces the grammar lists) and comments (/* */, //) are
//    skipped;
//  - keywords are upper case in 2.1 (AND, OR, NOT, FOLLOWEDBY, LIKE, MATCHES, ISSUBSET, ISSUPERSET,
//    EXISTS, IN, START, STOP, WITHIN, SECONDS, REPEATS, TIMES, LAST) and `true`/`false` lower case;
//    the 2.0 grammar takes both in any case;
//  - identifiers are [A-Za-z_][A-Za-z0-9_-]* (hyphens only allowed by the parser in object types);
//  - 'strings' with the only escapes \' and \\ (the value is unescaped, and must be UTF-8);
//  - integers [+-]?(0|[1-9][0-9]*) in int64 range, floats [+-]?[0-9]*.[0-9]+;
//  - h'hex' (pairs of hex digits), b'base64' (canonical padded base64), t'timestamp' (STIX
//    timestamp, validated);
//  - = == != <> < <= > >= [ ] ( ) : . , *.
// Errors: kInvalidArgument "at position N: expected X, found Y".
//
// Thread-safe: pure functions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pattern/ast.h"

namespace liaison::pattern {

enum class TokenKind {
  kEnd,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kColon,
  kDot,
  kComma,
  kAsterisk,
  kEq,
  kNeq,
  kLt,
  kLe,
  kGt,
  kGe,
  kIdentifier,
  kString,
  kInt,
  kFloat,
  kBool,
  kHex,
  kBinary,
  kTimestamp,
  kAnd,
  kOr,
  kNot,
  kFollowedBy,
  kLike,
  kMatches,
  kIsSubset,
  kIsSuperset,
  kExists,
  kIn,
  kStart,
  kStop,
  kWithin,
  kSeconds,
  kRepeats,
  kTimes,
  kLast,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t position = 0;    // byte offset of the token's first character
  std::string_view text;  // the token as written (points into the input)
  // Decoded value: kIdentifier the name; kString the unescaped text; kHex/kBinary the bytes;
  // kTimestamp the text between the quotes.
  std::string value;
  int64_t int_value = 0;     // kInt
  double float_value = 0;    // kFloat
  bool bool_value = false;   // kBool
  int64_t timestamp_us = 0;  // kTimestamp
};

// Tokenizes the whole input; the last token is kEnd (positioned at text.size()).
Result<std::vector<Token>> Tokenize(std::string_view text, StixVersion version);

// "'AND'", "a string", "the end of the pattern", ...: how an error message names a token kind.
std::string DescribeTokenKind(TokenKind kind);

// How an error message names a token: its text quoted (shortened), or "the end of the pattern".
std::string DescribeToken(const Token& token);

// "at position N: expected <expected>, found <found>"
Status SyntaxError(size_t position, std::string_view expected, std::string_view found);

}  // namespace liaison::pattern
