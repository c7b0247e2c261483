#include "pattern/observation.h"

#include <gtest/gtest.h>

namespace liaison::pattern {
namespace {

TEST(Value, MapsAreSortedAndLastDuplicateWins) {
  Value v = Value::FromMembers({{"b", Value(int64_t{1})}, {"a", Value("x")}, {"b", Value(true)}});
  ASSERT_TRUE(v.is_map());
  ASSERT_EQ(v.as_map().size(), 2u);
  EXPECT_EQ(v.as_map()[0].first, "a");
  ASSERT_NE(v.Find("b"), nullptr);
  EXPECT_TRUE(v.Find("b")->is_bool());
  EXPECT_EQ(v.Find("c"), nullptr);
  EXPECT_EQ(Value("s").Find("a"), nullptr);  // not a map
}

TEST(Value, ParsesJsonNumbers) {
  Result<Value> v = ParseJsonValue(R"({"i": -5, "u": 18446744073709551615, "d": 1.5, "n": null,
                                       "l": [1, "a", false]})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->Find("i")->as_int(), -5);
  EXPECT_TRUE(v->Find("u")->is_double());
  EXPECT_DOUBLE_EQ(v->Find("d")->as_number(), 1.5);
  EXPECT_TRUE(v->Find("n")->is_null());
  EXPECT_EQ(v->Find("l")->as_list().size(), 3u);
}

TEST(Value, DepthIsBounded) {
  std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_EQ(ParseJsonValue(deep, 64).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(ParseJsonValue(deep, 128).ok());
  EXPECT_EQ(ParseJsonValue("{").status().code(), StatusCode::kInvalidArgument);
}

constexpr char kBundle[] = R"({
  "type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111",
  "objects": [
    {"type": "ipv4-addr", "id": "ipv4-addr--22222222-2222-5222-8222-222222222222", "value": "10.0.0.1"},
    {"type": "network-traffic", "id": "network-traffic--33333333-3333-5333-8333-333333333333",
     "src_ref": "ipv4-addr--22222222-2222-5222-8222-222222222222", "protocols": ["tcp"]},
    {"type": "observed-data", "id": "observed-data--44444444-4444-4444-8444-444444444444",
     "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:01.5Z",
     "number_observed": 3,
     "object_refs": ["network-traffic--33333333-3333-5333-8333-333333333333"]}
  ]})";

TEST(LoadObservations, ResolvesObjectRefsAndReachableObjects) {
  Result<std::vector<Observation>> obs = LoadObservations(kBundle);
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  ASSERT_EQ(obs->size(), 1u);
  const Observation& o = (*obs)[0];
  EXPECT_EQ(o.id, "observed-data--44444444-4444-4444-8444-444444444444");
  EXPECT_EQ(o.number_observed, 3);
  EXPECT_EQ(o.last_observed_us - o.first_observed_us, 1'500'000);
  ASSERT_EQ(o.objects.size(), 2u);  // the traffic and the address it refers to
  const ObservedObject* ip = o.FindObject("ipv4-addr--22222222-2222-5222-8222-222222222222");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->type, "ipv4-addr");
  EXPECT_EQ(ip->value.Find("value")->as_string(), "10.0.0.1");
  EXPECT_EQ(o.FindObject("nope"), nullptr);
}

TEST(LoadObservations, EmbeddedObjectsAreKeyedByDictionaryKey) {
  Result<std::vector<Observation>> obs = LoadObservations(R"([{"type": "observed-data",
      "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z",
      "number_observed": 1, "objects": {"1": {"type": "file", "name": "b"},
                                        "0": {"type": "file", "name": "a"}}}])");
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  ASSERT_EQ((*obs)[0].objects.size(), 2u);
  EXPECT_EQ((*obs)[0].objects[0].key, "0");
  EXPECT_EQ((*obs)[0].FindObject("1")->value.Find("name")->as_string(), "b");
  EXPECT_EQ((*obs)[0].id, "");
}

TEST(LoadObservations, ErrorsNameTheObject) {
  Result<std::vector<Observation>> obs = LoadObservations(R"([{"type": "observed-data",
      "id": "observed-data--44444444-4444-4444-8444-444444444444",
      "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z",
      "number_observed": 1.5, "objects": {}}])");
  ASSERT_FALSE(obs.ok());
  EXPECT_EQ(obs.status().message(),
            "observed-data 'observed-data--44444444-4444-4444-8444-444444444444': property "
            "'number_observed': required integer >= 1");
  EXPECT_EQ(LoadObservations("[1]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadObservations(R"({"type": "indicator"})").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(LoadObservations, LimitsObjectCount) {
  LoadOptions options;
  options.max_objects = 2;
  EXPECT_EQ(LoadObservations(kBundle, options).status().code(), StatusCode::kResourceExhausted);
}

TEST(LoadObservationLine, HandlesBlankLinesAndSingleObjects) {
  Result<std::vector<Observation>> blank = LoadObservationLine("  \r\n");
  ASSERT_TRUE(blank.ok());
  EXPECT_TRUE(blank->empty());
  Result<std::vector<Observation>> one = LoadObservationLine(
      R"({"type": "observed-data", "first_observed": "2020-01-01T00:00:00Z",
          "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1,
          "objects": {"0": {"type": "url", "value": "http://a/"}}})");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->size(), 1u);
  Result<std::vector<Observation>> bundle = LoadObservationLine(kBundle);
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(bundle->size(), 1u);
}

}  // namespace
}  // namespace liaison::pattern
