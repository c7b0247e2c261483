#include "pattern/lexer.h"

#include <gtest/gtest.h>

namespace liaison::pattern {
namespace {

std::vector<TokenKind> Kinds(std::string_view text, StixVersion v = StixVersion::k21) {
  Result<std::vector<Token>> t = Tokenize(text, v);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  std::vector<TokenKind> kinds;
  if (t.ok()) {
    for (const Token& tok : *t) kinds.push_back(tok.kind);
  }
  return kinds;
}

TEST(Lexer, TokenizesASimplePattern) {
  EXPECT_EQ(Kinds("[file:size >= 10]"),
            (std::vector<TokenKind>{TokenKind::kLBracket, TokenKind::kIdentifier, TokenKind::kColon,
                                    TokenKind::kIdentifier, TokenKind::kGe, TokenKind::kInt,
                                    TokenKind::kRBracket, TokenKind::kEnd}));
}

TEST(Lexer, RecordsPositionsAndText) {
  Result<std::vector<Token>> t = Tokenize("  [a-b:c != 'x']", StixVersion::k21);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].position, 2u);
  EXPECT_EQ((*t)[1].text, "a-b");
  EXPECT_EQ((*t)[1].value, "a-b");
  EXPECT_EQ((*t)[4].kind, TokenKind::kNeq);
  EXPECT_EQ((*t)[4].position, 9u);
  EXPECT_EQ((*t)[5].value, "x");
  EXPECT_EQ((*t).back().position, 16u);
}

TEST(Lexer, DecodesLiterals) {
  Result<std::vector<Token>> t =
      Tokenize("'a\\'b\\\\c' -42 +7 .5 -1.25 h'0aFF' b'aGk=' t'2020-01-02T03:04:05.5Z' true",
               StixVersion::k21);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].value, "a'b\\c");
  EXPECT_EQ((*t)[1].int_value, -42);
  EXPECT_EQ((*t)[2].int_value, 7);
  EXPECT_DOUBLE_EQ((*t)[3].float_value, 0.5);
  EXPECT_DOUBLE_EQ((*t)[4].float_value, -1.25);
  EXPECT_EQ((*t)[5].value, std::string("\x0a\xff", 2));
  EXPECT_EQ((*t)[6].value, "hi");
  EXPECT_EQ((*t)[7].kind, TokenKind::kTimestamp);
  EXPECT_EQ((*t)[7].value, "2020-01-02T03:04:05.5Z");
  EXPECT_EQ((*t)[7].timestamp_us % 1'000'000, 500'000);
  EXPECT_EQ((*t)[8].kind, TokenKind::kBool);
  EXPECT_TRUE((*t)[8].bool_value);
}

TEST(Lexer, KeywordCaseDependsOnVersion) {
  EXPECT_EQ(Kinds("AND and")[0], TokenKind::kAnd);
  EXPECT_EQ(Kinds("AND and")[1], TokenKind::kIdentifier);
  EXPECT_EQ(Kinds("and", StixVersion::k20)[0], TokenKind::kAnd);
  EXPECT_EQ(Kinds("False", StixVersion::k20)[0], TokenKind::kBool);
  EXPECT_EQ(Kinds("False")[0], TokenKind::kIdentifier);
}

TEST(Lexer, SkipsCommentsAndUnicodeSpaces) {
  EXPECT_EQ(Kinds("/* c */ [ // x\n ]\u00a0\u2003"),
            (std::vector<TokenKind>{TokenKind::kLBracket, TokenKind::kRBracket, TokenKind::kEnd}));
}

TEST(Lexer, ReportsErrorsWithPositions) {
  auto msg = [](std::string_view text) {
    Result<std::vector<Token>> t = Tokenize(text, StixVersion::k21);
    return t.ok() ? std::string("ok") : t.status().message();
  };
  EXPECT_EQ(msg("'abc"),
            "at position 0: expected a closing quote for the string, found the end of the pattern");
  EXPECT_EQ(msg("  @"), "at position 2: expected a token, found '@'");
  EXPECT_EQ(msg("x ! y"), "at position 2: expected '!=', found '!'");
  EXPECT_EQ(msg("01"), "at position 0: expected an integer without leading zeros, found '01'");
  EXPECT_EQ(msg("- 1"), "at position 0: expected a number after '-', found '- '");
  EXPECT_EQ(msg("h'abc'"), "at position 0: expected pairs of hex digits in h'...', found 'abc'");
  EXPECT_NE(msg("t'2020-01-01'").find("expected a timestamp"), std::string::npos);
  EXPECT_EQ(msg("'\xff'"),
            "at position 0: expected a string of valid UTF-8, found an invalid "
            "byte sequence");
  EXPECT_EQ(msg("'a\\x'"),
            "at position 2: expected \\' or \\\\ (the only escapes in a string), found '\\x'");
}

TEST(Lexer, ControlCharactersAreShownEscaped) {
  Result<std::vector<Token>> t = Tokenize("\x01", StixVersion::k21);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "at position 0: expected a token, found '\\x01'");
}

}  // namespace
}  // namespace liaison::pattern
