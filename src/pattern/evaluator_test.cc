#include "pattern/evaluator.h"

#include <gtest/gtest.h>

#include "pattern/ip_address.h"
#include "pattern/parser.h"

namespace liaison::pattern {
namespace {

Observation MakeObservation(int64_t first_s, std::string json_objects, int64_t count = 1) {
  std::string doc = R"([{"type": "observed-data", "first_observed": "2020-01-01T00:00:00Z",
      "last_observed": "2020-01-01T00:00:00Z", "number_observed": )" +
                    std::to_string(count) + R"(, "objects": )" + json_objects + "}]";
  Result<std::vector<Observation>> obs = LoadObservations(doc);
  EXPECT_TRUE(obs.ok()) << obs.status().ToString();
  Observation o = (*obs)[0];
  o.first_observed_us += first_s * 1'000'000;
  o.last_observed_us += first_s * 1'000'000;
  return o;
}

Pattern MustParse(std::string_view text) {
  Result<Pattern> p = Parse(text);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

TEST(ResolvePath, FollowsListsAndReferences) {
  Observation o = MakeObservation(0, R"({"0": {"type": "email-addr", "value": "a@x"},
      "1": {"type": "email-addr", "value": "b@x"},
      "2": {"type": "email-message", "to_refs": ["0", "1", "9"], "x": [[1, 2], [3]]}})");
  const ObservedObject* msg = o.FindObject("2");
  ASSERT_NE(msg, nullptr);
  std::vector<const Value*> values;
  ResolvePath(MustParse("[email-message:to_refs[*].value = 'a']").root.comparison.comparison.path,
              o, *msg, &values);
  ASSERT_EQ(values.size(), 2u);  // "9" does not resolve
  EXPECT_EQ(values[0]->as_string(), "a@x");
  values.clear();
  ResolvePath(MustParse("[email-message:x[*][*] = 1]").root.comparison.comparison.path, o, *msg,
              &values);
  EXPECT_EQ(values.size(), 3u);
  values.clear();
  // A _refs list at the end of the path is the list itself.
  ResolvePath(MustParse("[email-message:to_refs = 1]").root.comparison.comparison.path, o, *msg,
              &values);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_TRUE(values[0]->is_list());
}

TEST(CompareValue, AppliesOperatorAndNegation) {
  Pattern eq = MustParse("[x:y = 5]");
  Pattern ne = MustParse("[x:y NOT = 5]");
  const Comparison& c_eq = eq.root.comparison.comparison;
  const Comparison& c_ne = ne.root.comparison.comparison;
  EXPECT_TRUE(CompareValue(c_eq, Value(int64_t{5})));
  EXPECT_TRUE(CompareValue(c_eq, Value(5.0)));
  EXPECT_FALSE(CompareValue(c_ne, Value(int64_t{5})));
  EXPECT_TRUE(CompareValue(c_ne, Value(int64_t{6})));
  // Incomparable: false both ways.
  EXPECT_FALSE(CompareValue(c_eq, Value("5")));
  EXPECT_FALSE(CompareValue(c_ne, Value("5")));
  EXPECT_FALSE(CompareValue(c_eq, Value()));
}

TEST(CompareValue, IntegerAndFloatComparisonsAreExact) {
  Pattern p = MustParse("[x:y < 9007199254740993]");  // 2^53 + 1, not a double
  const Comparison& c = p.root.comparison.comparison;
  EXPECT_TRUE(CompareValue(c, Value(9007199254740992.0)));
  EXPECT_FALSE(CompareValue(c, Value(int64_t{9007199254740993})));
  Pattern big = MustParse("[x:y > 9223372036854775807]");
  EXPECT_TRUE(CompareValue(big.root.comparison.comparison, Value(1e19)));
  EXPECT_FALSE(CompareValue(big.root.comparison.comparison, Value(-1e19)));
}

TEST(EvaluateComparison, RequiresTheRootType) {
  Observation o = MakeObservation(0, R"({"0": {"type": "file", "name": "a"}})");
  Pattern p = MustParse("[directory:name = 'a']");
  EXPECT_FALSE(EvaluateComparison(p.root.comparison.comparison, o, o.objects[0]));
  Pattern q = MustParse("[file:name = 'a']");
  EXPECT_TRUE(EvaluateComparison(q.root.comparison.comparison, o, o.objects[0]));
  EXPECT_TRUE(EvaluateComparisonExpression(q.root.comparison, o));
}

TEST(Match, ReportsTheSmallestBinding) {
  std::vector<Observation> obs = {
      MakeObservation(0, R"({"0": {"type": "file", "name": "a"}})"),
      MakeObservation(10, R"({"0": {"type": "file", "name": "b"}})"),
      MakeObservation(20, R"({"0": {"type": "file", "name": "a"}})"),
  };
  Result<MatchResult> r = Match(MustParse("[file:name = 'a'] FOLLOWEDBY [file:name = 'b']"), obs);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->matched);
  EXPECT_EQ(r->observation_indices, (std::vector<size_t>{0, 1}));

  Result<std::vector<std::vector<size_t>>> all =
      FindBindings(MustParse("[file:name = 'a'] AND [file:name = 'b']").root, obs);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<std::vector<size_t>>{{0, 1}, {1, 2}}));
}

TEST(Match, BoundsTheSearch) {
  std::vector<Observation> obs;
  for (int i = 0; i < 200; ++i) {
    obs.push_back(MakeObservation(i, R"({"0": {"type": "file", "name": "a"}})"));
  }
  // 200 choose 4 bindings exist; with a small budget the search stops.
  Pattern p = MustParse("[file:name = 'a'] REPEATS 4 TIMES");
  MatchOptions small;
  small.max_steps = 1000;
  small.max_bindings = 10;
  Result<MatchResult> r = Match(p, obs, small);
  ASSERT_TRUE(r.ok());  // a binding was found before the bound: still a (correct) match
  EXPECT_TRUE(r->matched);
  Result<std::vector<std::vector<size_t>>> all = FindBindings(p.root, obs, small);
  EXPECT_EQ(all.status().code(), StatusCode::kResourceExhausted);

  // No binding and a search cut short: inconclusive, reported as such.
  Pattern never = MustParse(
      "([file:name = 'a'] AND [file:name = 'a'] AND [file:name = 'a']) WITHIN 0.5 SECONDS");
  Result<MatchResult> r2 = Match(never, obs, small);
  EXPECT_EQ(r2.status().code(), StatusCode::kResourceExhausted);
}

TEST(Match, FollowedByScalesWithSortedRightSide) {
  std::vector<Observation> obs;
  for (int i = 0; i < 2000; ++i) {
    obs.push_back(MakeObservation(i, i % 2 ? R"({"0": {"type": "file", "name": "b"}})"
                                           : R"({"0": {"type": "file", "name": "a"}})"));
  }
  // No b after the last a? There is: check the order constraint prunes without exhausting.
  Result<MatchResult> r =
      Match(MustParse("[file:name = 'b'] FOLLOWEDBY [file:name = 'a'] WITHIN 1 SECONDS"), obs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->matched);
}

TEST(IpPrefix, ParsesAndContains) {
  std::optional<IpPrefix> net = ParseIpPrefix("10.1.0.0/16");
  std::optional<IpPrefix> ip = ParseIpPrefix("10.1.2.3");
  ASSERT_TRUE(net && ip);
  EXPECT_EQ(ip->length, 32);
  EXPECT_TRUE(IsSubset(*ip, *net));
  EXPECT_FALSE(IsSubset(*net, *ip));
  EXPECT_FALSE(ParseIpPrefix("10.1.2"));
  EXPECT_FALSE(ParseIpPrefix("10.1.2.256"));
  EXPECT_FALSE(ParseIpPrefix("10.1.2.3/33"));
  EXPECT_FALSE(ParseIpPrefix("10.1.2.3/"));
  EXPECT_FALSE(ParseIpPrefix("1.2.3.4.5"));
  EXPECT_FALSE(ParseIpPrefix("::g"));
  std::optional<IpPrefix> v6 = ParseIpPrefix("2001:db8::ffff:1.2.3.4/100");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->length, 100);
  EXPECT_FALSE(IsSubset(*ip, *v6));
}

}  // namespace
}  // namespace liaison::pattern
