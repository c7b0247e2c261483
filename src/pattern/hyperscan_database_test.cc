#include "pattern/hyperscan_database.h"

#include <algorithm>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace liaison::pattern {
namespace {

std::set<unsigned> ScanAll(const HyperscanDatabase& db, HyperscanScratch& scratch,
                           std::string_view subject) {
  std::set<unsigned> ids;
  Status s = db.Scan(subject, scratch, [&](unsigned id) { ids.insert(id); });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return ids;
}

TEST(HyperscanDatabase, CompilesAndScansManyExpressions) {
  bool ok = false;
  std::vector<HyperscanExpression> exprs = {
      {LikeToRegex("%.evil.com", &ok), 0},
      {"^https?://[a-z]+\\.example/", 1},
      {LikeToRegex("a_c", &ok), 2},
      {"(?i)malware", 3},
  };
  Result<CompileOutput> out = HyperscanDatabase::Compile(exprs);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_NE(out->database, nullptr);
  EXPECT_TRUE(out->rejected.empty());
  HyperscanScratch scratch;
  ASSERT_TRUE(scratch.Prepare(*out->database).ok());
  EXPECT_EQ(ScanAll(*out->database, scratch, "www.evil.com"), (std::set<unsigned>{0}));
  EXPECT_EQ(ScanAll(*out->database, scratch, "evil.com"), (std::set<unsigned>{}));
  EXPECT_EQ(ScanAll(*out->database, scratch, "https://abc.example/x"), (std::set<unsigned>{1}));
  EXPECT_EQ(ScanAll(*out->database, scratch, "abc"), (std::set<unsigned>{2}));
  EXPECT_EQ(ScanAll(*out->database, scratch,
                    "a\xc3\xa9"
                    "c"),
            (std::set<unsigned>{2}));
  EXPECT_EQ(ScanAll(*out->database, scratch, "abbc"), (std::set<unsigned>{}));
  EXPECT_EQ(ScanAll(*out->database, scratch, "xx MALWARE xx"), (std::set<unsigned>{3}));
}

TEST(HyperscanDatabase, PrefilterModeAcceptsBackReferences) {
  // Back-references are not supported exactly; prefilter mode approximates them (a superset).
  std::vector<HyperscanExpression> exprs = {{"(ab)\\1", 7}};
  Result<CompileOutput> out = HyperscanDatabase::Compile(exprs);
  ASSERT_TRUE(out.ok());
  ASSERT_NE(out->database, nullptr);
  HyperscanScratch scratch;
  ASSERT_TRUE(scratch.Prepare(*out->database).ok());
  EXPECT_EQ(ScanAll(*out->database, scratch, "xxababxx"), (std::set<unsigned>{7}));
}

TEST(HyperscanDatabase, RejectsWhatItCannotCompile) {
  std::vector<HyperscanExpression> exprs = {{"ok", 1}, {"(unbalanced", 2}, {"\\C", 3}};
  Result<CompileOutput> out = HyperscanDatabase::Compile(exprs);
  ASSERT_TRUE(out.ok());
  ASSERT_NE(out->database, nullptr);
  std::vector<unsigned> rejected = out->rejected;
  std::sort(rejected.begin(), rejected.end());
  EXPECT_EQ(rejected, (std::vector<unsigned>{2, 3}));
  HyperscanScratch scratch;
  ASSERT_TRUE(scratch.Prepare(*out->database).ok());
  EXPECT_EQ(ScanAll(*out->database, scratch, "is it ok"), (std::set<unsigned>{1}));
}

TEST(HyperscanDatabase, AllRejectedGivesNoDatabase) {
  std::vector<HyperscanExpression> exprs = {{"(", 1}};
  Result<CompileOutput> out = HyperscanDatabase::Compile(exprs);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->database, nullptr);
  EXPECT_EQ(out->rejected, (std::vector<unsigned>{1}));
}

TEST(HyperscanDatabase, SerializeRoundTrip) {
  std::vector<HyperscanExpression> exprs = {{"foo[0-9]+", 4}};
  Result<CompileOutput> out = HyperscanDatabase::Compile(exprs);
  ASSERT_TRUE(out.ok());
  Result<std::string> bytes = out->database->Serialize();
  ASSERT_TRUE(bytes.ok());
  EXPECT_GT(out->database->SizeBytes(), 0u);
  Result<std::unique_ptr<HyperscanDatabase>> back = HyperscanDatabase::Deserialize(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  HyperscanScratch scratch;
  ASSERT_TRUE(scratch.Prepare(**back).ok());
  EXPECT_EQ(ScanAll(**back, scratch, "xfoo12"), (std::set<unsigned>{4}));
  EXPECT_EQ(HyperscanDatabase::Deserialize("garbage").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(HyperscanDatabase, OneScratchServesTwoDatabases) {
  std::vector<HyperscanExpression> a = {{"aaa", 1}};
  std::vector<HyperscanExpression> b = {{"b{3}", 2}};
  auto da = HyperscanDatabase::Compile(a);
  auto dbb = HyperscanDatabase::Compile(b);
  ASSERT_TRUE(da.ok() && dbb.ok());
  HyperscanScratch scratch;
  ASSERT_TRUE(scratch.Prepare(*da->database).ok());
  ASSERT_TRUE(scratch.Prepare(*dbb->database).ok());
  EXPECT_EQ(ScanAll(*da->database, scratch, "aaabbb"), (std::set<unsigned>{1}));
  EXPECT_EQ(ScanAll(*dbb->database, scratch, "aaabbb"), (std::set<unsigned>{2}));
}

TEST(LikeToRegex, TranslatesWildcardsAndEscapesTheRest) {
  bool ok = false;
  EXPECT_EQ(LikeToRegex("a%b_c", &ok), "^a.*b.c$");
  EXPECT_TRUE(ok);
  EXPECT_EQ(LikeToRegex("a.b", &ok), "^a\\x2eb$");
  EXPECT_EQ(LikeToRegex("", &ok), "^$");
  EXPECT_EQ(LikeToRegex("x\\%", &ok), "");
  EXPECT_FALSE(ok);
}

TEST(IsValidUtf8, AcceptsWellFormedOnly) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

}  // namespace
}  // namespace liaison::pattern
