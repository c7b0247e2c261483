#include "pattern/index.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

#include "pattern/parser.h"

namespace liaison::pattern {
namespace {

constexpr int64_t kT0 = 1600000000LL * 1000000;
constexpr int64_t kSec = 1000000;

Pattern P(std::string_view text) {
  Result<Pattern> p = Parse(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().ToString();
  return p.ok() ? *p : Pattern{};
}

ObservedObject Object(std::string key, std::string type,
                      std::vector<std::pair<std::string, Value>> members) {
  members.emplace_back("type", Value(type));
  return ObservedObject{std::move(key), std::move(type), Value::FromMembers(std::move(members))};
}

Observation Obs(std::string id, int64_t first_s, std::vector<ObservedObject> objects,
                int64_t number = 1) {
  Observation o;
  o.id = std::move(id);
  o.first_observed_us = kT0 + first_s * kSec;
  o.last_observed_us = o.first_observed_us;
  o.number_observed = number;
  std::sort(objects.begin(), objects.end(),
            [](const ObservedObject& a, const ObservedObject& b) { return a.key < b.key; });
  o.objects = std::move(objects);
  return o;
}

Observation Ip(std::string id, int64_t t, std::string value) {
  return Obs(std::move(id), t, {Object("0", "ipv4-addr", {{"value", Value(value)}})});
}

Observation Domain(std::string id, int64_t t, std::string value) {
  return Obs(std::move(id), t, {Object("0", "domain-name", {{"value", Value(value)}})});
}

std::set<std::string> HitIds(Index& index, const Observation& o) {
  std::vector<IndexHit> hits;
  index.Match(o, &hits);
  std::set<std::string> ids;
  for (const IndexHit& h : hits) ids.insert(h.indicator_id);
  return ids;
}

using Ids = std::set<std::string>;

TEST(Index, EqualityHitsAreExactAndCheap) {
  Index index;
  ASSERT_TRUE(index
                  .Add("indicator--00000000-0000-4000-8000-000000000001",
                       P("[ipv4-addr:value = '198.51.100.7']"))
                  .ok());
  ASSERT_TRUE(index.Add("custom-id", P("[domain-name:value IN ('a.example', 'b.example')]")).ok());
  IndexStats s = index.Stats();
  EXPECT_EQ(s.indicators, 2u);
  EXPECT_EQ(s.exact_indicators, 2u);
  EXPECT_EQ(s.equality_keys, 3u);
  EXPECT_EQ(HitIds(index, Ip("o1", 0, "198.51.100.7")),
            Ids{"indicator--00000000-0000-4000-8000-000000000001"});
  EXPECT_EQ(HitIds(index, Ip("o2", 0, "198.51.100.8")), Ids{});
  EXPECT_EQ(HitIds(index, Domain("o3", 0, "b.example")), Ids{"custom-id"});
  // A domain with the address's text is another type: no hit.
  EXPECT_EQ(HitIds(index, Domain("o4", 0, "198.51.100.7")), Ids{});
  EXPECT_EQ(index.Stats().confirmations, 0u);
}

TEST(Index, HitCarriesTheObservation) {
  Index index;
  ASSERT_TRUE(index.Add("i", P("[ipv4-addr:value = '10.0.0.1']")).ok());
  std::vector<IndexHit> hits;
  index.Match(Ip("obs-a", 5, "10.0.0.2"), &hits);
  ASSERT_EQ(index.Match(Ip("obs-b", 7, "10.0.0.1"), &hits), 1u);
  ASSERT_EQ(hits.size(), 1u);
  ASSERT_EQ(hits[0].observations.size(), 1u);
  EXPECT_EQ(hits[0].observations[0].id, "obs-b");
  EXPECT_EQ(hits[0].observations[0].sequence, 1u);
  EXPECT_EQ(hits[0].observations[0].first_observed_us, kT0 + 7 * kSec);
}

TEST(Index, AddRemoveReplace) {
  Index index;
  ASSERT_TRUE(index.Add("i", P("[ipv4-addr:value = '10.0.0.1']")).ok());
  EXPECT_TRUE(index.Contains("i"));
  // Re-adding an id replaces its pattern.
  ASSERT_TRUE(index.Add("i", P("[ipv4-addr:value = '10.0.0.2']")).ok());
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(HitIds(index, Ip("o", 0, "10.0.0.1")), Ids{});
  EXPECT_EQ(HitIds(index, Ip("o", 0, "10.0.0.2")), Ids{"i"});
  EXPECT_TRUE(index.Remove("i"));
  EXPECT_FALSE(index.Remove("i"));
  EXPECT_FALSE(index.Contains("i"));
  EXPECT_EQ(HitIds(index, Ip("o", 0, "10.0.0.2")), Ids{});
  EXPECT_EQ(index.size(), 0u);
}

TEST(Index, RejectsBadArguments) {
  Index index;
  EXPECT_EQ(index.Add("", P("[ipv4-addr:value = '1.2.3.4']")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Add("i", P("[ipv4-addr:value = '1.2.3.4']"), kT0, kT0).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index.size(), 0u);
}

TEST(Index, ChurnReclaimsAndStaysCorrect) {
  Index index;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3000; ++i) {
      std::string id = "r" + std::to_string(round) + "-" + std::to_string(i);
      ASSERT_TRUE(index
                      .Add(id, P("[ipv4-addr:value = '10.0." + std::to_string(i / 256) + "." +
                                 std::to_string(i % 256) + "']"))
                      .ok());
    }
    for (int i = 0; i < 3000; ++i) {
      if (i != 7) {
        EXPECT_TRUE(index.Remove("r" + std::to_string(round) + "-" + std::to_string(i)));
      }
    }
  }
  EXPECT_EQ(index.size(), 5u);
  EXPECT_EQ(HitIds(index, Ip("o", 0, "10.0.0.7")), (Ids{"r0-7", "r1-7", "r2-7", "r3-7", "r4-7"}));
  EXPECT_EQ(HitIds(index, Ip("o", 0, "10.0.0.8")), Ids{});
  // 15,000 keys were added; dead ones are swept once 1,024 removals accumulate.
  EXPECT_LT(index.Stats().equality_keys, 1100u);
}

TEST(Index, ValidityWindowAndExpiry) {
  Index index;
  ASSERT_TRUE(index.Add("old", P("[ipv4-addr:value = '10.0.0.1']"), kT0, kT0 + 100 * kSec).ok());
  ASSERT_TRUE(index.Add("new", P("[ipv4-addr:value = '10.0.0.1']"), kT0 + 50 * kSec).ok());
  EXPECT_EQ(HitIds(index, Ip("o", -10, "10.0.0.1")), Ids{});
  EXPECT_EQ(HitIds(index, Ip("o", 10, "10.0.0.1")), Ids{"old"});
  EXPECT_EQ(HitIds(index, Ip("o", 60, "10.0.0.1")), (Ids{"old", "new"}));
  EXPECT_EQ(HitIds(index, Ip("o", 100, "10.0.0.1")), Ids{"new"});  // valid_until is exclusive
  EXPECT_EQ(index.RemoveExpired(kT0 + 99 * kSec), 0u);
  EXPECT_EQ(index.RemoveExpired(kT0 + 100 * kSec), 1u);
  EXPECT_FALSE(index.Contains("old"));
  EXPECT_TRUE(index.Contains("new"));
}

TEST(Index, CidrAnchors) {
  Index index;
  ASSERT_TRUE(index.Add("sub", P("[ipv4-addr:value ISSUBSET '198.51.100.0/24']")).ok());
  ASSERT_TRUE(index.Add("sup", P("[ipv4-addr:value ISSUPERSET '198.51.100.7']")).ok());
  ASSERT_TRUE(index.Add("v6", P("[ipv6-addr:value ISSUBSET '2001:db8::/32']")).ok());
  EXPECT_EQ(index.Stats().cidr_anchors, 3u);
  EXPECT_EQ(HitIds(index, Ip("o", 0, "198.51.100.7")), (Ids{"sub", "sup"}));
  EXPECT_EQ(HitIds(index, Ip("o", 0, "198.51.100.9")), Ids{"sub"});
  EXPECT_EQ(HitIds(index, Ip("o", 0, "198.51.0.0/16")), Ids{"sup"});
  EXPECT_EQ(HitIds(index, Ip("o", 0, "203.0.113.1")), Ids{});
  EXPECT_EQ(
      HitIds(index, Obs("o", 0, {Object("0", "ipv6-addr", {{"value", Value("2001:db8::5")}})})),
      Ids{"v6"});
}

TEST(Index, RegexAnchorsPendingThenCompiled) {
  Index index;
  ASSERT_TRUE(index.Add("like", P("[domain-name:value LIKE '%.evil.example']")).ok());
  ASSERT_TRUE(index.Add("re", P("[domain-name:value MATCHES '^c2-[0-9]+[.]']")).ok());
  ASSERT_TRUE(index.Add("esc", P("[domain-name:value LIKE 'a\\\\b%']")).ok());
  IndexStats before = index.Stats();
  EXPECT_EQ(before.regex_pending, 2u);
  // Pending anchors are evaluated exactly, so results are already right.
  EXPECT_EQ(HitIds(index, Domain("o", 0, "www.evil.example")), Ids{"like"});
  ASSERT_TRUE(index.RebuildRegexDatabases().ok());
  IndexStats after = index.Stats();
  EXPECT_EQ(after.regex_pending, 0u);
  EXPECT_EQ(after.regex_compiled, 2u);
  EXPECT_EQ(HitIds(index, Domain("o", 0, "www.evil.example")), Ids{"like"});
  EXPECT_EQ(HitIds(index, Domain("o", 0, "c2-42.example")), Ids{"re"});
  EXPECT_EQ(HitIds(index, Domain("o", 0, "evil.example")), Ids{});
  EXPECT_EQ(HitIds(index, Domain("o", 0, "a\\bc")), Ids{"esc"});
  // Invalid UTF-8 cannot be scanned: candidates fall back to exact evaluation.
  EXPECT_EQ(HitIds(index, Domain("o", 0, "x\xff.evil.example")), Ids{"like"});
  // Added after the rebuild: pending again, still correct.
  ASSERT_TRUE(index.Add("late", P("[domain-name:value LIKE 'www.%']")).ok());
  EXPECT_EQ(HitIds(index, Domain("o", 0, "www.evil.example")), (Ids{"like", "late"}));
  EXPECT_TRUE(index.Remove("like"));
  ASSERT_TRUE(index.RebuildRegexDatabases().ok());
  EXPECT_EQ(HitIds(index, Domain("o", 0, "www.evil.example")), Ids{"late"});
}

// One thread matching against several indexes (each keeps Hyperscan scratch per thread), across
// rebuilds that add databases, and after an index is destroyed and replaced.
TEST(Index, RegexScansWithSeveralIndexesOnOneThread) {
  auto make = [](const std::string& tag) {
    auto index = std::make_unique<Index>();
    EXPECT_TRUE(
        index->Add("like-" + tag, P("[domain-name:value LIKE '%." + tag + ".example']")).ok());
    EXPECT_TRUE(index->RebuildRegexDatabases().ok());
    return index;
  };
  std::unique_ptr<Index> a = make("a");
  std::unique_ptr<Index> b = make("b");
  for (int round = 0; round < 200; ++round) {
    EXPECT_EQ(HitIds(*a, Domain("o", 0, "x.a.example")), Ids{"like-a"});
    EXPECT_EQ(HitIds(*b, Domain("o", 0, "x.b.example")), Ids{"like-b"});
    EXPECT_EQ(HitIds(*b, Domain("o", 0, "x.a.example")), Ids{});
  }
  // A second database (another path) installed after this thread scanned the first.
  ASSERT_TRUE(a->Add("url-a", P("[url:value MATCHES '^https://a[.]example/']")).ok());
  ASSERT_TRUE(a->RebuildRegexDatabases().ok());
  EXPECT_EQ(
      HitIds(*a, Obs("o", 0, {Object("0", "url", {{"value", Value("https://a.example/x")}})})),
      Ids{"url-a"});
  EXPECT_EQ(HitIds(*a, Domain("o", 0, "x.a.example")), Ids{"like-a"});
  // Replace the index this thread scanned first; the new one must still scan correctly.
  a.reset();
  std::unique_ptr<Index> c = make("c");
  for (int round = 0; round < 200; ++round) {
    EXPECT_EQ(HitIds(*c, Domain("o", 0, "y.c.example")), Ids{"like-c"});
    EXPECT_EQ(HitIds(*c, Domain("o", 0, "y.b.example")), Ids{});
  }
  EXPECT_EQ(HitIds(*b, Domain("o", 0, "z.b.example")), Ids{"like-b"});
}

// Keys-only paths through a _ref are dereferenced within the observation, as the evaluator does.
TEST(Index, EqualityThroughAReference) {
  Index index;
  ASSERT_TRUE(index.Add("dst", P("[network-traffic:dst_ref.value = '198.51.100.7']")).ok());
  Observation hit = Obs("o", 0,
                        {Object("1", "ipv4-addr", {{"value", Value("198.51.100.7")}}),
                         Object("0", "network-traffic", {{"dst_ref", Value("1")}})});
  EXPECT_EQ(HitIds(index, hit), Ids{"dst"});
  Observation dangling = Obs("o", 0, {Object("0", "network-traffic", {{"dst_ref", Value("9")}})});
  EXPECT_EQ(HitIds(index, dangling), Ids{});
  Observation not_a_ref =
      Obs("o", 0, {Object("0", "network-traffic", {{"dst_ref", Value(int64_t{1})}})});
  EXPECT_EQ(HitIds(index, not_a_ref), Ids{});
}

TEST(Index, UnindexableComparisonsUseTheTypeAnchor) {
  Index index;
  ASSERT_TRUE(index.Add("ne", P("[ipv4-addr:value != '10.0.0.1']")).ok());
  ASSERT_TRUE(index.Add("gt", P("[file:size > 100]")).ok());
  EXPECT_EQ(index.Stats().type_anchors, 2u);
  EXPECT_EQ(HitIds(index, Ip("o", 0, "10.0.0.2")), Ids{"ne"});
  EXPECT_EQ(HitIds(index, Ip("o", 0, "10.0.0.1")), Ids{});
  EXPECT_EQ(HitIds(index, Obs("o", 0, {Object("0", "file", {{"size", Value(int64_t{500})}})})),
            Ids{"gt"});
}

TEST(Index, RepeatsConsumesObservations) {
  Index index;
  ASSERT_TRUE(index.Add("rep", P("[ipv4-addr:value = '10.0.0.1'] REPEATS 2 TIMES")).ok());
  EXPECT_EQ(index.Stats().stateful_indicators, 1u);
  EXPECT_EQ(HitIds(index, Ip("a", 0, "10.0.0.1")), Ids{});
  std::vector<IndexHit> hits;
  index.Match(Ip("b", 1, "10.0.0.1"), &hits);
  ASSERT_EQ(hits.size(), 1u);
  ASSERT_EQ(hits[0].observations.size(), 2u);
  EXPECT_EQ(hits[0].observations[0].id, "a");
  EXPECT_EQ(hits[0].observations[1].id, "b");
  // a and b were consumed: the third needs a fourth.
  EXPECT_EQ(HitIds(index, Ip("c", 2, "10.0.0.1")), Ids{});
  EXPECT_EQ(HitIds(index, Ip("d", 3, "10.0.0.1")), Ids{"rep"});
  // One observation seen twice repeats on its own.
  EXPECT_EQ(
      HitIds(index, Obs("e", 4, {Object("0", "ipv4-addr", {{"value", Value("10.0.0.1")}})}, 2)),
      Ids{"rep"});
}

TEST(Index, FollowedByAcrossObservations) {
  Index index;
  ASSERT_TRUE(index
                  .Add("seq", P("[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY "
                                "[domain-name:value = 'c2.example']"))
                  .ok());
  EXPECT_EQ(HitIds(index, Domain("d0", 0, "c2.example")), Ids{});
  EXPECT_EQ(HitIds(index, Ip("i1", 10, "10.0.0.1")), Ids{});
  std::vector<IndexHit> hits;
  index.Match(Domain("d2", 20, "c2.example"), &hits);
  ASSERT_EQ(hits.size(), 1u);
  ASSERT_EQ(hits[0].observations.size(), 2u);
  EXPECT_EQ(hits[0].observations[0].id, "i1");
  EXPECT_EQ(hits[0].observations[1].id, "d2");
  EXPECT_EQ(index.Stats().window_observations, 1u);  // d0 remains
}

TEST(Index, WindowIsBoundedByCount) {
  IndexOptions options;
  options.max_window_observations = 3;
  Index index(options);
  ASSERT_TRUE(index.Add("rep", P("[ipv4-addr:value ISSUBSET '10.0.0.0/8'] REPEATS 5 TIMES")).ok());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(HitIds(index, Ip("o" + std::to_string(i), i, "10.0.0.1")), Ids{});
  }
  EXPECT_EQ(index.Stats().window_observations, 3u);
}

TEST(Index, WindowDropsObservationsOutsideWithin) {
  Index index;
  ASSERT_TRUE(index
                  .Add("w", P("([ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY "
                              "[ipv4-addr:value = '10.0.0.2']) WITHIN 60 SECONDS"))
                  .ok());
  EXPECT_EQ(HitIds(index, Ip("a", 0, "10.0.0.1")), Ids{});
  EXPECT_EQ(HitIds(index, Ip("b", 100, "10.0.0.1")), Ids{});
  EXPECT_EQ(index.Stats().window_observations, 1u);  // a is beyond the 60 s horizon
  EXPECT_EQ(HitIds(index, Ip("c", 130, "10.0.0.2")), Ids{"w"});
}

TEST(Index, ConcurrentMatchAndAdd) {
  Index index;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(index
                    .Add("i" + std::to_string(i),
                         P("[ipv4-addr:value = '10.0.0." + std::to_string(i) + "']"))
                    .ok());
  }
  ASSERT_TRUE(index.Add("re", P("[domain-name:value MATCHES 'evil']")).ok());
  ASSERT_TRUE(index.RebuildRegexDatabases().ok());
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  auto reader = [&] {
    while (!stop.load()) {
      if (HitIds(index, Ip("o", 0, "10.0.0.5")) != Ids{"i5"}) ++wrong;
      if (HitIds(index, Domain("o", 0, "evil.example")) != Ids{"re"}) ++wrong;
    }
  };
  std::thread r1(reader), r2(reader);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(
        index.Add("x" + std::to_string(i), P("[url:value = 'http://" + std::to_string(i) + "']"))
            .ok());
    if (i % 100 == 0) ASSERT_TRUE(index.RebuildRegexDatabases().ok());
  }
  stop = true;
  r1.join();
  r2.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace liaison::pattern
