#include "stix/timestamp.h"

#include <gtest/gtest.h>

namespace liaison::stix {
namespace {

TEST(Timestamp, ParsesWholeSecondsAndFractions) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z")->micros, 0);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:01.5Z")->micros, 1500000);
  EXPECT_EQ(ParseTimestamp("2016-05-12T08:17:27.000Z")->micros,
            ParseTimestamp("2016-05-12T08:17:27Z")->micros);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.123456789123Z")->micros, 123456);
}

TEST(Timestamp, RejectsMalformedText) {
  for (const char* bad : {"", "2016-05-12", "2016-05-12T08:17:27", "2016-05-12T08:17:27+00:00",
                          "2016-13-12T08:17:27Z", "2016-02-30T08:17:27Z", "2016-05-12t08:17:27z",
                          "2016-05-12T24:00:00Z", "2016-05-12T08:17:60Z", "2016-05-12T08:17:27.Z",
                          "2016-05-12T08:17:27ZZ", "0000-01-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseTimestamp("2016-02-29T00:00:00Z").ok());
  EXPECT_FALSE(ParseTimestamp("2015-02-29T00:00:00Z").ok());
}

TEST(Timestamp, FormatsRoundTrip) {
  auto ts = *ParseTimestamp("2016-05-12T08:17:27.123Z");
  EXPECT_EQ(FormatTimestamp(ts, 3), "2016-05-12T08:17:27.123Z");
  EXPECT_EQ(FormatTimestamp(ts, 6), "2016-05-12T08:17:27.123000Z");
  EXPECT_EQ(FormatTimestamp(ts, 0), "2016-05-12T08:17:27Z");
  EXPECT_EQ(FormatTimestampShortest(ts), "2016-05-12T08:17:27.123Z");
  EXPECT_EQ(FormatTimestampShortest(*ParseTimestamp("2016-05-12T08:17:27Z")),
            "2016-05-12T08:17:27Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("1969-12-31T23:59:59.9Z"), 1),
            "1969-12-31T23:59:59.9Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("9999-12-31T23:59:59Z"), 0), "9999-12-31T23:59:59Z");
}

TEST(Timestamp, OrdersByInstant) {
  EXPECT_LT(*ParseTimestamp("2016-05-12T08:17:27.1Z"), *ParseTimestamp("2016-05-12T08:17:27.11Z"));
}

}  // namespace
}  // namespace liaison::stix
