#include "taxii/indicator_pattern.h"

#include <string>

#include "gtest/gtest.h"

namespace liaison::taxii {
namespace {

constexpr char kId[] = "indicator--3600ad1b-fff1-4c98-bcc9-4de3bc2e2ffb";

stix::ObjectInfo Info(const std::string& type, const std::string& spec_version,
                      const std::string& json) {
  stix::ObjectInfo info;
  info.id = type + "--3600ad1b-fff1-4c98-bcc9-4de3bc2e2ffb";
  info.type = type;
  info.spec_version = spec_version;
  info.json = json;
  return info;
}

std::string Indicator21(const std::string& pattern_type, const std::string& pattern) {
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + kId +
         R"(","pattern_type":")" + pattern_type + R"(","pattern":)" + pattern + "}";
}

TEST(CheckIndicatorPattern, RejectsPatternsThatDoNotParse) {
  for (const char* bad : {R"("[this is not a pattern")", R"("ipv4-addr:value = '1.2.3.4'")",
                          R"("[ipv4-addr:value = '1.2.3.4'] AND")", R"("")"}) {
    Status s = CheckIndicatorPattern(Info("indicator", "2.1", Indicator21("stix", bad)));
    ASSERT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find(kId), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("property 'pattern'"), std::string::npos) << s.message();
  }
}

TEST(CheckIndicatorPattern, RejectsANonStringPattern) {
  Status s = CheckIndicatorPattern(Info("indicator", "2.1", Indicator21("stix", "42")));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(CheckIndicatorPattern, ChecksStix20PatternsWithThe20Grammar) {
  const std::string v20 = std::string(R"({"type":"indicator","id":")") + kId + R"(","pattern":)";
  // 2.0 has no EXISTS.
  EXPECT_EQ(
      CheckIndicatorPattern(Info("indicator", "2.0", v20 + R"("[EXISTS file:name]"})")).code(),
      StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      CheckIndicatorPattern(Info("indicator", "2.0", v20 + R"("[file:name = 'a.exe']"})")).ok());
}

TEST(CheckIndicatorPattern, AcceptsValidStixPatterns) {
  for (const char* good : {R"("[ipv4-addr:value = '10.0.0.1']")",
                           R"("[file:hashes.'SHA-256' = 'abc'] AND [url:value LIKE '%evil%']")",
                           R"("[ipv4-addr:value ISSUBSET '198.51.100.0/24'] WITHIN 60 SECONDS")"}) {
    Status s = CheckIndicatorPattern(Info("indicator", "2.1", Indicator21("stix", good)));
    EXPECT_TRUE(s.ok()) << good << ": " << s.ToString();
  }
}

TEST(CheckIndicatorPattern, IgnoresOtherLanguagesAndOtherTypes) {
  EXPECT_TRUE(
      CheckIndicatorPattern(Info("indicator", "2.1", Indicator21("pcre", R"("[unbalanced")")))
          .ok());
  EXPECT_TRUE(
      CheckIndicatorPattern(Info("indicator", "2.1", Indicator21("yara", R"("rule x {")"))).ok());
  EXPECT_TRUE(CheckIndicatorPattern(
                  Info("malware", "2.1", R"({"type":"malware","pattern":"[not a pattern"})"))
                  .ok());
}

}  // namespace
}  // namespace liaison::taxii
