#include "cli/match_runner.h"

#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace liaison::cli {
namespace {

constexpr char kBundle21[] =
    R"({"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
 "objects":[
  {"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
   "created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z",
   "first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":50,
   "object_refs":["ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8"]},
  {"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8",
   "value":"198.51.100.3"}]})";

constexpr char kObserved20[] = R"([{"type":"observed-data","id":"observed-data--1",
  "created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z",
  "first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":1,
  "objects":{"0":{"type":"domain-name","value":"evil.example.com"}}}])";

TEST(RunSingleMatch, MatchNoMatchAndJson) {
  SingleMatchOutcome m =
      RunSingleMatch("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", kBundle21, std::nullopt, true);
  EXPECT_EQ(m.exit_code, 0) << m.error;
  EXPECT_NE(m.output.find("\"matched\":true"), std::string::npos);
  EXPECT_NE(m.output.find("observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"),
            std::string::npos);

  SingleMatchOutcome n =
      RunSingleMatch("[ipv4-addr:value = '203.0.113.1']", kBundle21, std::nullopt, false);
  EXPECT_EQ(n.exit_code, 1);
  EXPECT_EQ(n.output, "no match\n");
}

TEST(RunSingleMatch, DetectsStix20Input) {
  SingleMatchOutcome m =
      RunSingleMatch("[domain-name:value LIKE '%.example.com']", kObserved20, std::nullopt, false);
  EXPECT_EQ(m.exit_code, 0) << m.error;
  EXPECT_EQ(m.output, "match: observed-data--1\n");
  SingleMatchOutcome forced = RunSingleMatch("[domain-name:value = 'evil.example.com']",
                                             kObserved20, pattern::StixVersion::k21, false);
  EXPECT_EQ(forced.exit_code, 0) << forced.error;
}

TEST(RunSingleMatch, InvalidPatternOrInputExitsTwo) {
  SingleMatchOutcome bad = RunSingleMatch("[ipv4-addr:value = ", kBundle21, std::nullopt, false);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.error.find("invalid pattern"), std::string::npos);
  EXPECT_EQ(bad.error.find('\n'), std::string::npos);
  SingleMatchOutcome input =
      RunSingleMatch("[ipv4-addr:value = '1.2.3.4']", "{not json", std::nullopt, false);
  EXPECT_EQ(input.exit_code, 2);
  EXPECT_NE(input.error.find("observed data"), std::string::npos);
  EXPECT_FALSE(ParseStixVersion("2.2").ok());
  EXPECT_EQ(*ParseStixVersion("2.0"), pattern::StixVersion::k20);
}

constexpr char kIndicators[] = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"indicator","spec_version":"2.1","id":"indicator--11111111-1111-4111-8111-111111111111",
  "created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z","pattern_type":"stix",
  "pattern":"[ipv4-addr:value = '198.51.100.3']","valid_from":"2010-01-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--22222222-2222-4222-8222-222222222222",
  "created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z","pattern_type":"stix",
  "pattern":"[domain-name:value LIKE '%.evil.example']","valid_from":"2010-01-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--33333333-3333-4333-8333-333333333333",
  "created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z","pattern_type":"sigma",
  "pattern":"title: x","valid_from":"2010-01-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--44444444-4444-4444-8444-444444444444",
  "created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z","pattern_type":"stix",
  "pattern":"[broken","valid_from":"2010-01-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--55555555-5555-4555-8555-555555555555",
  "created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z","pattern_type":"stix",
  "pattern":"[ipv4-addr:value = '198.51.100.3']","valid_from":"2010-01-01T00:00:00Z",
  "valid_until":"2012-01-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--66666666-6666-4666-8666-666666666666",
  "created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z","pattern_type":"stix",
  "pattern":"[ipv4-addr:value = '198.51.100.3']","valid_from":"2010-01-01T00:00:00Z","revoked":true},
 {"type":"malware","spec_version":"2.1","id":"malware--77777777-7777-4777-8777-777777777777"}]})";

TEST(LoadIndicators, LoadsAndSkipsWithReasons) {
  pattern::Index index;
  Result<IndicatorLoadSummary> s = LoadIndicators(kIndicators, &index);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->loaded, 3u);
  EXPECT_EQ(s->skipped, 3u);
  ASSERT_EQ(s->skip_reasons.size(), 3u);
  EXPECT_NE(s->skip_reasons[0].find("pattern_type 'sigma'"), std::string::npos);
  EXPECT_NE(s->skip_reasons[1].find("invalid pattern"), std::string::npos);
  EXPECT_NE(s->skip_reasons[2].find("revoked"), std::string::npos);
  EXPECT_EQ(index.size(), 3u);
}

TEST(LoadIndicators, AcceptsJsonlAndRejectsGarbage) {
  pattern::Index index;
  std::string jsonl =
      "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--a\","
      "\"pattern\":\"[url:value = 'http://x']\",\"pattern_type\":\"stix\"}\n\n"
      "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--b\","
      "\"pattern\":\"[url:value = 'http://y']\",\"pattern_type\":\"stix\"}\n";
  Result<IndicatorLoadSummary> s = LoadIndicators(jsonl, &index);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->loaded, 2u);
  Result<IndicatorLoadSummary> bad = LoadIndicators("{\"type\":\"indicator\"}\nnot json\n", &index);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
}

TEST(MatchStream, WritesOneSightingPerHit) {
  pattern::Index index;
  ASSERT_TRUE(LoadIndicators(kIndicators, &index).ok());
  std::istringstream in(
      "{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"observed-data--a\","
      "\"first_observed\":\"2015-12-21T19:00:00Z\",\"last_observed\":\"2015-12-21T19:00:05Z\","
      "\"number_observed\":3,\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.3\"}"
      ","
      "\"1\":{\"type\":\"domain-name\",\"value\":\"www.evil.example\"}}}\n"
      "\n"
      "this is not json\n"
      "{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"observed-data--b\","
      "\"first_observed\":\"2015-12-21T19:00:00Z\",\"last_observed\":\"2015-12-21T19:00:00Z\","
      "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"10.0.0.1\"}}}"
      "\n");
  std::ostringstream out, errors;
  FakeClock clock(1700000000000000);
  int n = 0;
  StreamSummary s = MatchStream(in, index, out, errors, clock,
                                [&] { return "sighting--" + std::to_string(n++); });
  EXPECT_EQ(s.lines, 3u);
  EXPECT_EQ(s.bad_lines, 1u);
  EXPECT_EQ(s.observations, 2u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_NE(errors.str().find("line 3"), std::string::npos);
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_NE(text.find("\"sighting_of_ref\":\"indicator--11111111-1111-4111-8111-111111111111\""),
            std::string::npos);
  EXPECT_NE(text.find("\"sighting_of_ref\":\"indicator--22222222-2222-4222-8222-222222222222\""),
            std::string::npos);
  // Expired indicator 5 (valid until 2012) did not hit the 2015 observation.
  EXPECT_EQ(text.find("indicator--55555555"), std::string::npos);
  EXPECT_NE(text.find("\"observed_data_refs\":[\"observed-data--a\"]"), std::string::npos);
  EXPECT_NE(text.find("\"first_seen\":\"2015-12-21T19:00:00.000Z\""), std::string::npos);
  EXPECT_NE(text.find("\"last_seen\":\"2015-12-21T19:00:05.000Z\""), std::string::npos);
  EXPECT_NE(text.find("\"count\":3"), std::string::npos);
  EXPECT_NE(text.find("\"created\":\"2023-11-14T22:13:20.000Z\""), std::string::npos);
  EXPECT_NE(text.find("\"type\":\"sighting\",\"spec_version\":\"2.1\""), std::string::npos);
}

TEST(SightingJson, OmitsEmptyRefsAndCapsCount) {
  pattern::IndexHit hit;
  hit.indicator_id = "indicator--x";
  hit.observations.push_back({"", 0, 1000000, 2000000000, 0});
  std::string s = SightingJson(hit, "sighting--1", 0);
  EXPECT_EQ(s.find("observed_data_refs"), std::string::npos);
  EXPECT_NE(s.find("\"count\":999999999"), std::string::npos);
}

TEST(RandomUuid, IsVersion4) {
  std::string a = RandomUuid(), b = RandomUuid();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace liaison::cli
