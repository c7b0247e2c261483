#include "stix/canonical.h"

#include <bit>
#include <cstdint>

#include <gtest/gtest.h>

namespace liaison::stix {
namespace {

// RFC 8785 section 3.2.2 (the "numbers/string/literals" example).
TEST(Canonicalize, Rfc8785MainExample) {
  const char* input = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  Result<std::string> c = Canonicalize(input);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*c,
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

// RFC 8785 section 3.2.3: sorting by UTF-16 code units (the emoji's surrogate pair sorts before
// U+FB33 although its code point is larger).
TEST(Canonicalize, Rfc8785SortingExample) {
  const char* input = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  Result<std::string> c = Canonicalize(input);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string expected =
      "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
      "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
      "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
      "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}";
  EXPECT_EQ(*c, expected);
}

// RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript serialisation.
TEST(Canonicalize, Rfc8785AppendixBNumbers) {
  const std::pair<uint64_t, const char*> cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& [bits, text] : cases) {
    EXPECT_EQ(FormatEcmaScriptNumber(std::bit_cast<double>(bits)), text) << std::hex << bits;
  }
}

TEST(Canonicalize, NumbersInDocumentsUseEcmaScriptForm) {
  EXPECT_EQ(*Canonicalize("[1.0, -0, 100, 1e2, 123456789012, 0.1e1, 1E-7]"),
            "[1,0,100,100,123456789012,1,1e-7]");
}

TEST(Canonicalize, NestedObjectsSortedAndWhitespaceRemoved) {
  EXPECT_EQ(*Canonicalize(" { \"b\" : [ {\"z\":1,\"a\":2} ], \"a\" : \"x\" } "),
            "{\"a\":\"x\",\"b\":[{\"a\":2,\"z\":1}]}");
}

TEST(Canonicalize, RejectsDuplicateKeysAndBadJson) {
  Result<std::string> dup = Canonicalize(R"({"a":1,"a":2})");
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dup.status().message().find("duplicate key 'a'"), std::string::npos);
  EXPECT_FALSE(Canonicalize(R"({"a":1,})").ok());
  EXPECT_FALSE(Canonicalize("\"\xff\"").ok());
  EXPECT_FALSE(Canonicalize(R"(["\ud800"])").ok());  // lone surrogate: not valid Unicode
  EXPECT_FALSE(Canonicalize("").ok());
}

}  // namespace
}  // namespace liaison::stix
