#include "auth/api_key.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "storage/memory/memory_store.h"

namespace liaison::auth {
namespace {

const std::string kHubSecret(32, 'k');

TEST(ApiKey, ParseRejectsMalformedTokens) {
  Result<NewApiKey> key = GenerateApiKey("alice", "", kHubSecret, 1);
  ASSERT_TRUE(key.ok());
  const std::string good = key->token;
  std::vector<std::string> bad = {
      "",
      "lsk_",
      "xsk_" + good.substr(4),                          // wrong prefix
      good.substr(0, good.size() - 1),                  // short secret
      good + "A",                                       // long secret
      "lsk_" + std::string(16, 'G') + good.substr(20),  // key id not hex
      "lsk_" + std::string(16, 'A') + good.substr(20),  // key id upper-case hex
      good.substr(0, 20) + "!" + good.substr(21),       // separator
      good.substr(0, 30) + "+" + good.substr(31),       // secret not base64url
  };
  for (const std::string& token : bad) {
    Result<ParsedApiKey> parsed = ParseApiKey(token);
    EXPECT_FALSE(parsed.ok()) << token;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
      // The message never echoes the token.
      if (!token.empty()) {
        EXPECT_EQ(parsed.status().message().find(token), std::string::npos);
      }
    }
  }
}

TEST(ApiKey, GenerateRejectsMissingUserOrSecret) {
  EXPECT_EQ(GenerateApiKey("", "d", kHubSecret, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateApiKey("alice", "d", "", 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(ApiKey, GeneratedTokenParsesAndMatchesRecord) {
  Result<NewApiKey> key = GenerateApiKey("alice", "sync job", kHubSecret, 1234);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->token.size(), 4u + kApiKeyIdChars + 1 + kApiKeySecretChars);
  Result<ParsedApiKey> parsed = ParseApiKey(key->token);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->key_id, key->record.key_id);
  EXPECT_EQ(key->record.user, "alice");
  EXPECT_EQ(key->record.description, "sync job");
  EXPECT_EQ(key->record.created, 1234);
  EXPECT_FALSE(key->record.revoked);
  EXPECT_EQ(key->record.secret_hash, HashApiKeySecret(parsed->secret, kHubSecret));
  // The stored hash is not the secret, and depends on the hub secret.
  EXPECT_EQ(key->record.secret_hash.find(parsed->secret), std::string::npos);
  EXPECT_NE(key->record.secret_hash, HashApiKeySecret(parsed->secret, std::string(32, 'j')));
  EXPECT_EQ(key->record.secret_hash.size(), 64u);
}

TEST(ApiKey, KeysAreUnique) {
  std::set<std::string> ids, tokens;
  for (int i = 0; i < 100; ++i) {
    Result<NewApiKey> key = GenerateApiKey("alice", "", kHubSecret, 1);
    ASSERT_TRUE(key.ok());
    ids.insert(key->record.key_id);
    tokens.insert(key->token);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(tokens.size(), 100u);
}

TEST(ApiKey, HashWorksWithAnyHubSecretLength) {
  EXPECT_EQ(HashApiKeySecret("s", "short").size(), 64u);
  EXPECT_EQ(HashApiKeySecret("s", std::string(200, 'x')).size(), 64u);
  EXPECT_NE(HashApiKeySecret("s", "short"), HashApiKeySecret("s", "shorT"));
}

TEST(HubSecret, CorruptSettingIsDataLoss) {
  auto store = storage::memory::MemoryStore::Create();
  ASSERT_TRUE(store->PutSetting(kHubSecretSetting, "not hex").ok());
  EXPECT_EQ(LoadOrCreateHubSecret(*store).status().code(), StatusCode::kDataLoss);
  ASSERT_TRUE(store->PutSetting(kHubSecretSetting, std::string(64, 'z')).ok());
  EXPECT_EQ(LoadOrCreateHubSecret(*store).status().code(), StatusCode::kDataLoss);
}

TEST(HubSecret, CreatedOnceThenStable) {
  auto store = storage::memory::MemoryStore::Create();
  Result<std::string> first = LoadOrCreateHubSecret(*store);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 32u);
  Result<std::optional<std::string>> stored = store->GetSetting(kHubSecretSetting);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->size(), 64u);
  Result<std::string> second = LoadOrCreateHubSecret(*store);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
}

}  // namespace
}  // namespace liaison::auth
