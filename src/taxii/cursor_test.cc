#include "taxii/cursor.h"

#include <cctype>
#include <string>

#include "gtest/gtest.h"

namespace liaison::taxii {
namespace {

TEST(Cursor, RejectsGarbage) {
  for (const char* bad : {"", "a", "not a cursor", "AAAAAAAAAAAAAAAAAAAAAAA=",
                          "AAAAAAAAAAAAAAAAAAAAAAAA", "!!!!!!!!!!!!!!!!!!!!!!!"}) {
    EXPECT_EQ(DecodeCursor(bad, "scope").status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Cursor, RejectsACursorOfAnotherQuery) {
  std::string next = EncodeCursor(1700000000000000, "objects type=indicator");
  Result<int64_t> r = DecodeCursor(next, "objects type=malware");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Cursor, RejectsTamperedCursors) {
  std::string next = EncodeCursor(1700000000000000, "scope");
  // Flip every character in turn: each change must be caught (format byte, fingerprint) or, for
  // the date bytes, at worst decode to another position of the same query, never crash.
  for (size_t i = 0; i < next.size(); ++i) {
    std::string t = next;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    Result<int64_t> r = DecodeCursor(t, "scope");
    if (r.ok()) {
      EXPECT_NE(*r, 1700000000000000);
    }
  }
  // The first characters hold the format byte.
  std::string bad_format = next;
  bad_format[0] = 'B';
  EXPECT_FALSE(DecodeCursor(bad_format, "scope").ok());
}

TEST(Cursor, RejectsNegativeDates) {
  std::string next = EncodeCursor(-5, "scope");
  EXPECT_FALSE(DecodeCursor(next, "scope").ok());
}

TEST(Cursor, RoundTrips) {
  for (int64_t date :
       {int64_t{0}, int64_t{1}, int64_t{1700000000000000}, int64_t{253402300799999999}}) {
    std::string next = EncodeCursor(date, "scope");
    EXPECT_EQ(next.size(), 23u);
    for (char c : next) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << next;
    }
    Result<int64_t> r = DecodeCursor(next, "scope");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, date);
  }
}

TEST(Cursor, FingerprintIsStable) {
  // FNV-1a 64 of "" and "a" (published test vectors): cursors must survive restarts and upgrades.
  EXPECT_EQ(Fingerprint(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fingerprint("a"), 0xaf63dc4c8601ec8cull);
}

}  // namespace
}  // namespace liaison::taxii
