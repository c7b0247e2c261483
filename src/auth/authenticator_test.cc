#include "auth/authenticator.h"

#include <sodium.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "auth/api_key.h"
#include "auth/password.h"
#include "storage/memory/memory_store.h"

namespace liaison::auth {
namespace {

std::string Base64(std::string_view s) {
  EXPECT_TRUE(EnsureSodium().ok());
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

std::string BasicHeader(std::string_view user, std::string_view password) {
  return "Basic " + Base64(std::string(user) + ":" + std::string(password));
}

constexpr char kAddress[] = "192.0.2.1";

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = storage::memory::MemoryStore::Create();
    Result<std::string> hash = HashPassword("s3cret");
    ASSERT_TRUE(hash.ok());
    alice_hash_ = *hash;
    AddUser("alice", storage::Role::kPublisher, alice_hash_, false);
    AddUser("bob", storage::Role::kReader, alice_hash_, true);  // same password, disabled
    AddUser("carol", storage::Role::kReader, "", false);        // no password login
    Result<std::string> secret = LoadOrCreateHubSecret(*store_);
    ASSERT_TRUE(secret.ok());
    hub_secret_ = *secret;
  }

  void AddUser(const std::string& name, storage::Role role, const std::string& hash,
               bool disabled) {
    storage::User user;
    user.name = name;
    user.role = role;
    user.password_hash = hash;
    user.disabled = disabled;
    ASSERT_TRUE(store_->CreateUser(user).ok());
  }

  std::string AddKey(const std::string& user) {
    Result<NewApiKey> key = GenerateApiKey(user, "test", hub_secret_, clock_.NowMicros());
    EXPECT_TRUE(key.ok());
    EXPECT_TRUE(store_->CreateApiKey(key->record).ok());
    return key->token;
  }

  std::unique_ptr<Authenticator> Make(AuthenticatorOptions options = {}) {
    return std::make_unique<Authenticator>(*store_, clock_, std::move(options));
  }

  static void ExpectUnauthenticated(const Result<policy::Principal>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  }

  std::unique_ptr<storage::memory::MemoryStore> store_;
  FakeClock clock_;
  std::string alice_hash_;
  std::string hub_secret_;
};

TEST_F(AuthenticatorTest, MissingHeaderIsUnauthenticated) {
  auto auth = Make();
  ExpectUnauthenticated(auth->Authenticate("", kAddress));
  ExpectUnauthenticated(auth->Authenticate("   ", kAddress));
  // Asking without credentials first is normal client behaviour: not a failure.
  EXPECT_EQ(auth->stats().failures, 0u);
}

TEST_F(AuthenticatorTest, MalformedHeadersAreUnauthenticated) {
  auto auth = Make();
  for (const std::string& header : {
           std::string("Basic"),
           std::string("Basic !!!notbase64"),
           std::string("Basic ") + Base64("no-colon"),
           std::string("Basic ") + Base64(":password-without-user"),
           std::string("Basic ") + Base64(std::string(300, 'u') + ":pw"),
           std::string("Digest username=alice"),
           std::string("Bearer"),
           std::string("Bearer not-a-key"),
           std::string("Bearer lsk_0123456789abcdef.short"),
           std::string("alice:s3cret"),
           std::string("Basic ") + std::string(10000, 'A'),
       }) {
    SCOPED_TRACE(header.substr(0, 60));
    ExpectUnauthenticated(auth->Authenticate(header, kAddress));
  }
  EXPECT_EQ(auth->stats().password_verifications, 0u);
}

TEST_F(AuthenticatorTest, WrongPasswordAndUnknownUserLookTheSame) {
  auto auth = Make();
  Result<policy::Principal> wrong = auth->Authenticate(BasicHeader("alice", "S3cret"), kAddress);
  Result<policy::Principal> unknown =
      auth->Authenticate(BasicHeader("mallory", "s3cret"), kAddress);
  Result<policy::Principal> disabled = auth->Authenticate(BasicHeader("bob", "s3cret"), kAddress);
  Result<policy::Principal> no_password = auth->Authenticate(BasicHeader("carol", ""), kAddress);
  ExpectUnauthenticated(wrong);
  ExpectUnauthenticated(unknown);
  ExpectUnauthenticated(disabled);
  ExpectUnauthenticated(no_password);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
  EXPECT_EQ(wrong.status().message(), disabled.status().message());
  EXPECT_EQ(wrong.status().message(), no_password.status().message());
  // Unknown users still pay for an argon2id verification (against a dummy hash).
  EXPECT_EQ(auth->stats().password_verifications, 4u);
}

TEST_F(AuthenticatorTest, DisabledUserRejectedEvenWhenCached) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  storage::User alice = *store_->GetUser("alice");
  alice.disabled = true;
  ASSERT_TRUE(store_->UpdateUser(alice).ok());
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress));
}

TEST_F(AuthenticatorTest, CacheNotFooledByADifferentPassword) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("alice", "s3cret "), kAddress));
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("alice", "s3cre"), kAddress));
  // Same password, other user (bob is disabled; carol has no password).
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("bob", "s3cret"), kAddress));
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("carol", "s3cret"), kAddress));
  EXPECT_EQ(auth->stats().cache_hits, 0u);
}

TEST_F(AuthenticatorTest, PasswordChangeInvalidatesCache) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  storage::User alice = *store_->GetUser("alice");
  Result<std::string> new_hash = HashPassword("n3w");
  ASSERT_TRUE(new_hash.ok());
  alice.password_hash = *new_hash;
  ASSERT_TRUE(store_->UpdateUser(alice).ok());
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress));
  EXPECT_TRUE(auth->Authenticate(BasicHeader("alice", "n3w"), kAddress).ok());
}

TEST_F(AuthenticatorTest, CacheExpires) {
  AuthenticatorOptions options;
  options.cache_ttl_micros = 60'000'000;
  auto auth = Make(options);
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  EXPECT_EQ(auth->stats().password_verifications, 1u);
  clock_.Advance(59'000'000);
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  EXPECT_EQ(auth->stats().password_verifications, 1u);
  EXPECT_EQ(auth->stats().cache_hits, 1u);
  clock_.Advance(2'000'000);
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  EXPECT_EQ(auth->stats().password_verifications, 2u);
  auth->ClearCache();
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  EXPECT_EQ(auth->stats().password_verifications, 3u);
}

TEST_F(AuthenticatorTest, RoleChangeTakesEffectWhileCached) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  storage::User alice = *store_->GetUser("alice");
  alice.role = storage::Role::kReader;
  ASSERT_TRUE(store_->UpdateUser(alice).ok());
  Result<policy::Principal> p = auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->role, storage::Role::kReader);
}

TEST_F(AuthenticatorTest, BasicSuccessSetsPrincipal) {
  auto auth = Make();
  // Scheme names are case-insensitive; extra spaces tolerated.
  Result<policy::Principal> p =
      auth->Authenticate("basic  " + Base64("alice:s3cret") + " ", kAddress);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->role, storage::Role::kPublisher);
  EXPECT_TRUE(p->authenticated);
  EXPECT_EQ(p->method, "basic");
  EXPECT_TRUE(p->api_key_id.empty());
}

TEST_F(AuthenticatorTest, PasswordMayContainColons) {
  Result<std::string> hash = HashPassword("a:b:c");
  ASSERT_TRUE(hash.ok());
  AddUser("dave", storage::Role::kAdmin, *hash, false);
  auto auth = Make();
  Result<policy::Principal> p = auth->Authenticate(BasicHeader("dave", "a:b:c"), kAddress);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->is_admin());
}

TEST_F(AuthenticatorTest, ApiKeyDenials) {
  auto auth = Make();
  const std::string token = AddKey("alice");
  const std::string bob_token = AddKey("bob");  // disabled user
  Result<ParsedApiKey> parsed = ParseApiKey(token);
  ASSERT_TRUE(parsed.ok());

  // Right key id, wrong secret.
  std::string wrong_secret = token;
  wrong_secret.back() = wrong_secret.back() == 'A' ? 'B' : 'A';
  ExpectUnauthenticated(auth->Authenticate("Bearer " + wrong_secret, kAddress));
  // Unknown key id.
  std::string unknown = token;
  unknown[4] = unknown[4] == 'a' ? 'b' : 'a';
  ExpectUnauthenticated(auth->Authenticate("Bearer " + unknown, kAddress));
  // Disabled owner.
  ExpectUnauthenticated(auth->Authenticate("Bearer " + bob_token, kAddress));
  // Revoked.
  ASSERT_TRUE(auth->Authenticate("Bearer " + token, kAddress).ok());
  ASSERT_TRUE(store_->RevokeApiKey(parsed->key_id).ok());
  Result<policy::Principal> revoked = auth->Authenticate("Bearer " + token, kAddress);
  ExpectUnauthenticated(revoked);
  EXPECT_EQ(revoked.status().message(),
            auth->Authenticate("Bearer " + unknown, kAddress).status().message());
  // An API key is not a password.
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("alice", token), kAddress));
}

TEST_F(AuthenticatorTest, ApiKeySuccessSetsPrincipal) {
  auto auth = Make();  // loads the hub secret from the store lazily
  const std::string token = AddKey("alice");
  Result<policy::Principal> p = auth->Authenticate("BEARER " + token, kAddress);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->role, storage::Role::kPublisher);
  EXPECT_EQ(p->method, "api-key");
  EXPECT_EQ(p->api_key_id, ParseApiKey(token)->key_id);
  EXPECT_EQ(auth->stats().password_verifications, 0u);
}

TEST_F(AuthenticatorTest, ApiKeyFromAnotherHubSecretRejected) {
  AuthenticatorOptions options;
  options.hub_secret = std::string(32, 'o');  // not the secret the key was made with
  auto auth = Make(options);
  ExpectUnauthenticated(auth->Authenticate("Bearer " + AddKey("alice"), kAddress));
}

TEST_F(AuthenticatorTest, RepeatedFailuresThrottleTheAddress) {
  AuthenticatorOptions options;
  options.max_failures = 3;
  options.failure_window_micros = 60'000'000;
  auto auth = Make(options);
  for (int i = 0; i < 3; ++i) {
    ExpectUnauthenticated(auth->Authenticate("Bearer junk", kAddress));
  }
  EXPECT_EQ(auth->RetryAfterSeconds(kAddress), 60);
  // Even the right password is refused now, without running argon2id.
  Result<policy::Principal> r = auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(auth->stats().password_verifications, 0u);
  EXPECT_EQ(auth->stats().throttled, 1u);
  // Other addresses are unaffected.
  EXPECT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), "192.0.2.2").ok());
  EXPECT_EQ(auth->RetryAfterSeconds("192.0.2.2"), 0);
  // The window ends.
  clock_.Advance(30'500'000);
  EXPECT_EQ(auth->RetryAfterSeconds(kAddress), 30);
  clock_.Advance(30'000'000);
  EXPECT_EQ(auth->RetryAfterSeconds(kAddress), 0);
  EXPECT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
}

TEST_F(AuthenticatorTest, FailureTrackingStaysBounded) {
  AuthenticatorOptions options;
  options.max_failures = 2;
  options.max_tracked_addresses = 4;
  auto auth = Make(options);
  for (int i = 0; i < 50; ++i) {
    ExpectUnauthenticated(auth->Authenticate("Bearer junk", "198.51.100." + std::to_string(i)));
  }
  // Still works for a fresh address; nothing crashed or grew without bound.
  EXPECT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
}

TEST_F(AuthenticatorTest, CacheStaysBounded) {
  AuthenticatorOptions options;
  options.cache_capacity = 1;
  auto auth = Make(options);
  Result<std::string> hash = HashPassword("pw2");
  ASSERT_TRUE(hash.ok());
  AddUser("erin", storage::Role::kReader, *hash, false);
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  ASSERT_TRUE(auth->Authenticate(BasicHeader("erin", "pw2"), kAddress).ok());  // evicts alice
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  EXPECT_EQ(auth->stats().cache_hits, 0u);
  EXPECT_EQ(auth->stats().password_verifications, 3u);
}

}  // namespace
}  // namespace liaison::auth
