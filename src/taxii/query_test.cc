#include "taxii/query.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace liaison::taxii {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;
using storage::VersionSelector;

constexpr char kId1[] = "indicator--3600ad1b-fff1-4c98-bcc9-4de3bc2e2ffb";
constexpr char kId2[] = "sighting--4600ad1b-fff1-4c58-bcc9-4de3bc5e2ffd";

StatusCode CodeOf(const Query& q, Endpoint e = Endpoint::kObjects, QueryLimits limits = {}) {
  return ParseFilters(q, e, limits).status().code();
}

// ----- Malformed parameters: 400 (TAXII 2.1 section 3.4).

TEST(ParseFilters, RejectsBadLimits) {
  for (const char* bad : {"0", "-1", "abc", "", "1.5", "+5", " 5", "5 ", "0x10"}) {
    EXPECT_EQ(CodeOf({{"limit", bad}}), StatusCode::kInvalidArgument) << "limit=" << bad;
  }
}

TEST(ParseFilters, RejectsBadAddedAfter) {
  for (const char* bad : {"", "yesterday", "2016-13-01T00:00:00Z", "2016-01-01", "1700000000"}) {
    EXPECT_EQ(CodeOf({{"added_after", bad}}), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseFilters, RejectsRepeatedParameters) {
  EXPECT_EQ(CodeOf({{"limit", "1"}, {"limit", "2"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      CodeOf({{"added_after", "2016-01-01T00:00:00Z"}, {"added_after", "2017-01-01T00:00:00Z"}}),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[type]", "indicator"}, {"match[type]", "malware"}}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"next", "a"}, {"next", "b"}}), StatusCode::kInvalidArgument);
}

TEST(ParseFilters, RejectsEmptyValuesInLists) {
  for (const char* bad : {"", ",", "indicator,", ",indicator", "indicator,,malware"}) {
    EXPECT_EQ(CodeOf({{"match[type]", bad}}), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseFilters, RejectsMalformedMatchValues) {
  EXPECT_EQ(CodeOf({{"match[id]", "not-an-id"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[id]", "indicator--1234"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[type]", "Indicator"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[type]", "indicator malware"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[spec_version]", "2"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[spec_version]", "two.one"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[version]", "newest"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[version]", "2016-01-01"}}), StatusCode::kInvalidArgument);
}

TEST(ParseFilters, RejectsVersionDuplicatesAndAllWithOthers) {
  // TAXII 2.1 section 3.4.1: no keyword or version twice; "all" alone.
  EXPECT_EQ(CodeOf({{"match[version]", "last,last"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[version]", "2016-01-01T00:00:00Z,2016-01-01T00:00:00.000Z"}}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[version]", "all,first"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[version]", "2016-01-01T00:00:00Z,all"}}), StatusCode::kInvalidArgument);
}

TEST(ParseFilters, RejectsEmptyNext) {
  EXPECT_EQ(CodeOf({{"next", ""}}), StatusCode::kInvalidArgument);
}

TEST(ParseFilters, EnforcesBounds) {
  QueryLimits limits{.max_params = 3, .max_query_bytes = 100, .max_match_values = 2};
  EXPECT_EQ(CodeOf({{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}, Endpoint::kObjects, limits),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"x", std::string(200, 'y')}}, Endpoint::kObjects, limits),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[type]", "a-b,c-d"}, {"match[spec_version]", "2.1"}}, Endpoint::kObjects,
                   limits),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"match[type]", "a-b,c-d"}}, Endpoint::kObjects, limits), StatusCode::kOk);

  // The default cap: 1000 match values.
  std::string many;
  for (int i = 0; i < 1001; ++i) many += (i ? ",t" : "t") + std::to_string(i);
  EXPECT_EQ(CodeOf({{"match[type]", many}}), StatusCode::kInvalidArgument);
}

TEST(ParseFilters, ErrorMessagesAreBounded) {
  std::string huge(10000, 'Z');
  Result<Filters> f = ParseFilters({{"match[type]", huge}}, Endpoint::kObjects, {});
  ASSERT_FALSE(f.ok());
  EXPECT_LT(f.status().message().size(), 300u);
}

// ----- Well-formed parameters.

TEST(ParseFilters, EmptyQueryHasNoFilters) {
  Result<Filters> f = ParseFilters({}, Endpoint::kObjects, {});
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->added_after);
  EXPECT_FALSE(f->limit);
  EXPECT_FALSE(f->next);
  EXPECT_TRUE(f->ids.empty());
  EXPECT_TRUE(f->types.empty());
  EXPECT_TRUE(f->spec_versions.empty());
  EXPECT_TRUE(f->version_selectors.empty());
  EXPECT_TRUE(f->versions.empty());
}

TEST(ParseFilters, ParsesEveryFilter) {
  Query q = {{"added_after", "2016-11-04T03:04:05.123456Z"},
             {"limit", "25"},
             {"next", "abc"},
             {"match[id]", std::string(kId1) + "," + kId2 + "," + kId1},
             {"match[type]", "indicator,sighting"},
             {"match[version]", "first,2018-03-02T01:01:01.123Z,last"},
             {"match[spec_version]", "2.0,2.1"}};
  Result<Filters> f = ParseFilters(q, Endpoint::kObjects, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->added_after, 1478228645123456);
  EXPECT_EQ(f->limit, 25u);
  EXPECT_EQ(f->next, "abc");
  EXPECT_EQ(f->ids, (std::vector<std::string>{kId1, kId2}));  // duplicates dropped
  EXPECT_EQ(f->types, (std::vector<std::string>{"indicator", "sighting"}));
  EXPECT_EQ(f->spec_versions, (std::vector<std::string>{"2.0", "2.1"}));
  EXPECT_EQ(f->version_selectors,
            (std::vector<VersionSelector>{VersionSelector::kFirst, VersionSelector::kLast}));
  EXPECT_EQ(f->versions, (std::vector<int64_t>{1519952461123000}));
}

TEST(ParseFilters, HugeLimitSaturates) {
  Result<Filters> f =
      ParseFilters({{"limit", "99999999999999999999999999"}}, Endpoint::kObjects, {});
  ASSERT_TRUE(f.ok());
  EXPECT_GT(*f->limit, 1000000u);
  Result<Filters> g = ParseFilters({{"limit", "007"}}, Endpoint::kObjects, {});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->limit, 7u);
}

TEST(ParseFilters, AllAloneIsFine) {
  Result<Filters> f = ParseFilters({{"match[version]", "all"}}, Endpoint::kObjects, {});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->version_selectors, (std::vector<VersionSelector>{VersionSelector::kAll}));
}

TEST(ParseFilters, UnknownAndInapplicableParametersAreIgnored) {
  // TAXII 2.1 section 3.4: servers MAY ignore fields they do not understand.
  EXPECT_EQ(CodeOf({{"match[foo]", ""}, {"foo", "bar"}}), StatusCode::kOk);
  // The object endpoint defines only version and spec_version match fields (section 5.6).
  Result<Filters> f =
      ParseFilters({{"match[type]", "BAD TYPE"}, {"match[id]", "x"}}, Endpoint::kObject, {});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->types.empty());
  // Versions (5.8) take no match[version]; delete (5.7) takes no paging.
  EXPECT_EQ(CodeOf({{"match[version]", "bogus"}}, Endpoint::kVersions), StatusCode::kOk);
  EXPECT_EQ(CodeOf({{"limit", "0"}, {"added_after", "x"}}, Endpoint::kDeleteObject),
            StatusCode::kOk);
  EXPECT_EQ(CodeOf({{"match[version]", "bogus"}}, Endpoint::kDeleteObject),
            StatusCode::kInvalidArgument);
}

TEST(ParseFilters, CanonicalIgnoresOrderAndPaging) {
  Result<Filters> a =
      ParseFilters({{"match[type]", "indicator,malware"}, {"limit", "5"}}, Endpoint::kObjects, {});
  Result<Filters> b =
      ParseFilters({{"match[type]", "malware,indicator"}, {"next", "zzz"}}, Endpoint::kObjects, {});
  Result<Filters> c = ParseFilters({{"match[type]", "malware"}}, Endpoint::kObjects, {});
  Result<Filters> d =
      ParseFilters({{"match[type]", "indicator,malware"}, {"added_after", "2020-01-01T00:00:00Z"}},
                   Endpoint::kObjects, {});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_EQ(a->Canonical(), b->Canonical());
  EXPECT_NE(a->Canonical(), c->Canonical());
  EXPECT_NE(a->Canonical(), d->Canonical());
}

TEST(LooksLike, Identifiers) {
  EXPECT_TRUE(LooksLikeStixId(kId1));
  EXPECT_TRUE(LooksLikeStixId("x-custom-thing--3600AD1B-fff1-4c98-bcc9-4de3bc2e2ffb"));
  EXPECT_FALSE(LooksLikeStixId("indicator-3600ad1b-fff1-4c98-bcc9-4de3bc2e2ffb"));
  EXPECT_FALSE(LooksLikeStixId("--3600ad1b-fff1-4c98-bcc9-4de3bc2e2ffb"));
  EXPECT_FALSE(LooksLikeStixId("indicator--3600ad1b-fff1-4c98-bcc9-4de3bc2e2ffg"));
  EXPECT_TRUE(LooksLikeUuid("2d086da7-4bdc-4f91-900e-d77486753710"));
  EXPECT_FALSE(LooksLikeUuid("2d086da7-4bdc-4f91-900e-d7748675371"));
  EXPECT_FALSE(LooksLikeUuid("2d086da7x4bdc-4f91-900e-d77486753710"));
}

}  // namespace
}  // namespace liaison::taxii
