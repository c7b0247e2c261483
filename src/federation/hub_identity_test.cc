#include "federation/hub_identity.h"

#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "crypto/hub_keys.h"
#include "storage/hub_settings.h"
#include "storage/memory/memory_store.h"

namespace liaison::federation {
namespace {

constexpr char kId[] = "identity--a1a1a1a1-0000-4000-8000-000000000001";
constexpr char kIdentity[] =
    R"({"type":"identity","spec_version":"2.1","id":"identity--a1a1a1a1-0000-4000-8000-000000000001",)"
    R"("created":"2026-11-29T22:00:00.000Z","modified":"2026-11-29T22:00:00.000Z",)"
    R"("name":"Agency A","identity_class":"organization"})";
constexpr char kUrl[] = "https://hub.a.example:8443/api/";
constexpr char kInbox[] = "5d1b5bd4-4a3b-4b8f-8f47-0a2f2e6a7c11";

crypto::HubKeys Keys(char fill) { return *crypto::HubKeys::FromSeed(std::string(32, fill)); }

class HubIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "hub_identity_test_XXXXXX";
    dir_ = ::mkdtemp(tmpl.data());
    key_file_ = dir_ + "/" + crypto::kHubKeyFile;
    store_ = storage::memory::MemoryStore::Create();
  }
  void TearDown() override {
    ::unlink(key_file_.c_str());
    ::rmdir(dir_.c_str());
  }
  void Init() {
    ASSERT_TRUE(Keys('a').Save(key_file_).ok());
    ASSERT_TRUE(store_->PutSetting(storage::kIdentityIdSetting, kId).ok());
    ASSERT_TRUE(store_->PutSetting(storage::kIdentitySetting, kIdentity).ok());
    ASSERT_TRUE(store_->PutSetting(storage::kPublicUrlSetting, kUrl).ok());
    ASSERT_TRUE(store_->PutSetting(storage::kInboxSetting, kInbox).ok());
  }
  HubIdentity Loaded() {
    Result<HubIdentity> identity = LoadHubIdentity(*store_, key_file_);
    EXPECT_TRUE(identity.ok()) << identity.status().ToString();
    return identity.ok() ? std::move(*identity) : HubIdentity{};
  }

  std::string dir_, key_file_;
  std::unique_ptr<storage::memory::MemoryStore> store_;
};

TEST_F(HubIdentityTest, LoadsSettingsAndKeys) {
  Init();
  HubIdentity identity = Loaded();
  EXPECT_EQ(identity.id, kId);
  EXPECT_EQ(identity.name, "Agency A");
  EXPECT_EQ(identity.identity_json, kIdentity);
  EXPECT_EQ(identity.url, kUrl);
  EXPECT_EQ(identity.inbox, kInbox);
  EXPECT_EQ(identity.keys.sign_public(), Keys('a').sign_public());
  EXPECT_FALSE(identity.keys.empty());
}

TEST_F(HubIdentityTest, UrlAndInboxMayBeUnset) {
  Init();
  store_ = storage::memory::MemoryStore::Create();
  ASSERT_TRUE(store_->PutSetting(storage::kIdentityIdSetting, kId).ok());
  ASSERT_TRUE(store_->PutSetting(storage::kIdentitySetting, kIdentity).ok());
  HubIdentity identity = Loaded();
  EXPECT_EQ(identity.url, "");
  EXPECT_EQ(identity.inbox, "");
}

TEST_F(HubIdentityTest, WithoutInitItIsFailedPrecondition) {
  Result<HubIdentity> r = LoadHubIdentity(*store_, key_file_);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("hub has no identity"), std::string::npos);
  // Settings but no key file.
  ASSERT_TRUE(store_->PutSetting(storage::kIdentityIdSetting, kId).ok());
  ASSERT_TRUE(store_->PutSetting(storage::kIdentitySetting, kIdentity).ok());
  r = LoadHubIdentity(*store_, key_file_);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(key_file_), std::string::npos);
}

TEST_F(HubIdentityTest, KeyFileProblemsPassThrough) {
  Init();
  ASSERT_EQ(::chmod(key_file_.c_str(), 0644), 0);
  EXPECT_EQ(LoadHubIdentity(*store_, key_file_).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(HubIdentityTest, MismatchedIdentitySettingIsDataLoss) {
  Init();
  ASSERT_TRUE(store_
                  ->PutSetting(storage::kIdentityIdSetting,
                               "identity--b2b2b2b2-0000-4000-8000-000000000002")
                  .ok());
  EXPECT_EQ(LoadHubIdentity(*store_, key_file_).status().code(), StatusCode::kDataLoss);
  ASSERT_TRUE(store_->PutSetting(storage::kIdentityIdSetting, kId).ok());
  ASSERT_TRUE(store_->PutSetting(storage::kIdentitySetting, "{\"type\":\"identity\"}").ok());
  EXPECT_EQ(LoadHubIdentity(*store_, key_file_).status().code(), StatusCode::kDataLoss);
}

TEST_F(HubIdentityTest, ExportThenParseRoundTrips) {
  Init();
  HubIdentity identity = Loaded();
  const std::string file = ExportIdentity(identity);
  EXPECT_TRUE(file.starts_with("{\n  \"liaison_identity\": 1,\n"));
  EXPECT_TRUE(file.ends_with("\n}\n"));
  EXPECT_EQ(file.find("secret"), std::string::npos);
  Result<PartnerIdentity> partner = ParseIdentityFile(file);
  ASSERT_TRUE(partner.ok()) << partner.status().ToString();
  EXPECT_EQ(partner->id, kId);
  EXPECT_EQ(partner->name, "Agency A");
  EXPECT_EQ(partner->identity_json, kIdentity);
  EXPECT_EQ(partner->url, kUrl);
  EXPECT_EQ(partner->inbox, kInbox);
  EXPECT_EQ(partner->sign_key, identity.keys.sign_public_b64());
  EXPECT_EQ(partner->box_key, identity.keys.box_public_b64());
  EXPECT_EQ(partner->fingerprint, identity.keys.fingerprint());
  // A hub that has not published its URL or inbox yet still exports a valid file.
  identity.url.clear();
  identity.inbox.clear();
  ASSERT_TRUE(ParseIdentityFile(ExportIdentity(identity)).ok());
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST_F(HubIdentityTest, ParseRejectsEachProblemByName) {
  Init();
  HubIdentity identity = Loaded();
  const std::string good = ExportIdentity(identity);
  const crypto::HubKeys other = Keys('b');
  const std::string sign_key = identity.keys.sign_public_b64();
  const std::string box_key = identity.keys.box_public_b64();
  // A low-order X25519 point (all zero): decodes to 32 bytes but cannot be sealed to.
  const std::string zero_key = crypto::Base64Encode(std::string(32, '\0'));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not valid JSON"},
      {"[]", "not a JSON object"},
      {Replace(good, "\"liaison_identity\": 1", "\"liaison_identity\": 2"),
       "unsupported version 2"},
      {Replace(good, "\"liaison_identity\": 1", "\"liaison_identity\": \"1\""),
       "'liaison_identity' must be the number 1"},
      {Replace(good, "\"liaison_identity\": 1,", ""), "'liaison_identity' is missing"},
      {Replace(good, "\"url\"", "\"uri\""), "unknown member 'uri'"},
      {Replace(good, "{\n", "{\n  \"url\": \"\",\n"), "a member appears twice"},
      {Replace(good, "\"identity\": {", "\"identity\": [{"), "not valid JSON"},
      {Replace(good, "\"type\":\"identity\"", "\"type\":\"malware\""),
       "'identity' is not a valid STIX object"},
      {Replace(Replace(good, "\"type\":\"identity\"", "\"type\":\"x-org\""), "\"id\":\"identity--",
               "\"id\":\"x-org--"),
       "is of type x-org, not a STIX identity"},
      {Replace(good, "\"spec_version\":\"2.1\",", ""), "'identity' is not a valid STIX object"},
      {Replace(good, "\"name\":\"Agency A\"", "\"name\":\"\""), "the identity has no name"},
      {Replace(good, kUrl, "ftp://hub.a.example/"), "is not an http:// or https:// URL"},
      {Replace(good, kUrl, "https://"), "'url'"},
      {Replace(good, kUrl, "hub.a.example"), "'url'"},
      {Replace(good, kUrl, "https://user:pw@hub.a.example/"), "must not carry user information"},
      {Replace(good, kUrl, "https://hub.a.example/ api/"), "'url'"},
      {Replace(good, kUrl, "https://hub.a.example:0/"), "bad port"},
      {Replace(good, "\"url\": \"" + std::string(kUrl) + "\"", "\"url\": 5"),
       "'url' must be a string"},
      {Replace(good, kInbox, "../../admin"), "'inbox'"},
      {Replace(good, sign_key, sign_key.substr(4)), "'sign_key' is not a 32-byte key"},
      {Replace(good, box_key, "!!!"), "'box_key' is not a 32-byte key"},
      {Replace(good, box_key, zero_key), "'box_key' is not a usable X25519 key"},
      {Replace(good, identity.keys.fingerprint(), "ABC"), "64 lowercase hex digits"},
      // A swapped key no longer matches the fingerprint: both keys are covered.
      {Replace(good, sign_key, other.sign_public_b64()), "'fingerprint' does not match"},
      {Replace(good, box_key, other.box_public_b64()), "'fingerprint' does not match"},
      {std::string(2 << 20, ' '), "too large"},
  };
  for (const auto& [text, problem] : cases) {
    Result<PartnerIdentity> r = ParseIdentityFile(text);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << problem;
    EXPECT_NE(r.status().message().find(problem), std::string::npos)
        << "expected '" << problem << "' in: " << r.status().message();
    EXPECT_TRUE(r.status().message().starts_with("identity file: ")) << r.status().message();
  }
}

}  // namespace
}  // namespace liaison::federation
