#include "auth/authenticator.h"

#include <sodium.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/api_key.h"
#include "auth/password.h"
#include "storage/memory/memory_store.h"
#include "storage/store_wrapper.h"

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

// ----- Partners (issue 4)

constexpr char kPartnerB[] = "identity--bbbbbbbb-0000-4000-8000-000000000002";

class PartnerAuthTest : public AuthenticatorTest {
 protected:
  void SetUp() override {
    AuthenticatorTest::SetUp();
    storage::Partner partner;
    partner.id = kPartnerB;
    partner.name = "Agency B";
    partner.user = "hub-b";
    ASSERT_TRUE(store_->CreatePartner(partner).ok());
    storage::User user;
    user.name = "hub-b";
    user.role = storage::Role::kPartner;
    user.password_hash = alice_hash_;
    user.partner = kPartnerB;
    ASSERT_TRUE(store_->CreateUser(user).ok());
  }

  void SetPartnerDisabled(bool disabled) {
    Result<storage::Partner> partner = store_->GetPartner(kPartnerB);
    ASSERT_TRUE(partner.ok());
    partner->disabled = disabled;
    ASSERT_TRUE(store_->UpdatePartner(*partner).ok());
  }
};

TEST_F(PartnerAuthTest, PartnerUserCarriesItsOrganisation) {
  auto auth = Make();
  Result<policy::Principal> p = auth->Authenticate(BasicHeader("hub-b", "s3cret"), kAddress);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->role, storage::Role::kPartner);
  EXPECT_EQ(p->partner, kPartnerB);
  EXPECT_TRUE(p->is_partner());
  EXPECT_FALSE(p->is_admin());

  const std::string token = AddKey("hub-b");
  p = auth->Authenticate("Bearer " + token, kAddress);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->partner, kPartnerB);
  EXPECT_EQ(p->method, "api-key");
}

TEST_F(PartnerAuthTest, OwnPeopleHaveNoPartner) {
  // A partner id on a non-partner account means nothing.
  Result<storage::User> alice = store_->GetUser("alice");
  ASSERT_TRUE(alice.ok());
  alice->partner = kPartnerB;
  ASSERT_TRUE(store_->UpdateUser(*alice).ok());
  auto auth = Make();
  Result<policy::Principal> p = auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->partner.empty());
  EXPECT_FALSE(p->is_partner());
}

TEST_F(PartnerAuthTest, DisabledPartnerUserFailsLikeADisabledUser) {
  auto auth = Make();
  const std::string token = AddKey("hub-b");
  ASSERT_TRUE(auth->Authenticate(BasicHeader("hub-b", "s3cret"), kAddress).ok());  // cached
  Result<storage::User> user = store_->GetUser("hub-b");
  ASSERT_TRUE(user.ok());
  user->disabled = true;
  ASSERT_TRUE(store_->UpdateUser(*user).ok());
  Result<policy::Principal> r = auth->Authenticate(BasicHeader("hub-b", "s3cret"), kAddress);
  ExpectUnauthenticated(r);
  EXPECT_EQ(r.status().message(),
            auth->Authenticate(BasicHeader("bob", "s3cret"), kAddress).status().message());
  ExpectUnauthenticated(auth->Authenticate("Bearer " + token, kAddress));
}

TEST_F(PartnerAuthTest, DisabledPartnerRefusedEvenWhenCached) {
  auto auth = Make();
  const std::string token = AddKey("hub-b");
  ASSERT_TRUE(auth->Authenticate(BasicHeader("hub-b", "s3cret"), kAddress).ok());
  SetPartnerDisabled(true);
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("hub-b", "s3cret"), kAddress));
  ExpectUnauthenticated(auth->Authenticate("Bearer " + token, kAddress));
  SetPartnerDisabled(false);
  EXPECT_TRUE(auth->Authenticate(BasicHeader("hub-b", "s3cret"), kAddress).ok());
  EXPECT_TRUE(auth->Authenticate("Bearer " + token, kAddress).ok());
}

TEST_F(PartnerAuthTest, PartnerAccountWithoutAKnownPartnerRefused) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate(BasicHeader("hub-b", "s3cret"), kAddress).ok());
  ASSERT_TRUE(store_->DeletePartner(kPartnerB).ok());
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("hub-b", "s3cret"), kAddress));

  storage::User orphan;
  orphan.name = "hub-x";
  orphan.role = storage::Role::kPartner;
  orphan.password_hash = alice_hash_;  // names no partner
  ASSERT_TRUE(store_->CreateUser(orphan).ok());
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("hub-x", "s3cret"), kAddress));
}

TEST_F(PartnerAuthTest, PartnerStoreFailurePassesThrough) {
  class FailingPartners : public storage::StoreWrapper {
   public:
    using StoreWrapper::StoreWrapper;
    Result<storage::Partner> GetPartner(const std::string&) override {
      return UnavailableError("injected");
    }
  };
  FailingPartners failing(*store_);
  Authenticator auth(failing, clock_, {});
  Result<policy::Principal> r = auth.Authenticate(BasicHeader("hub-b", "s3cret"), kAddress);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

// ----- Auditing authentication failures

class AuditTest : public AuthenticatorTest {
 protected:
  std::unique_ptr<Authenticator> MakeAudited(AuthenticatorOptions options = {}) {
    options.audit_store = store_.get();
    return Make(std::move(options));
  }

  std::vector<storage::AuditRecord> Audit() {
    Result<std::vector<storage::AuditRecord>> records = store_->ListAudit(0, 10000);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    return records.ok() ? *records : std::vector<storage::AuditRecord>{};
  }

  static bool Has(const storage::AuditRecord& r, const std::string& text) {
    return r.detail.find(text) != std::string::npos;
  }
};

TEST_F(AuditTest, NotAuditedWithoutASink) {
  auto auth = Make();
  ExpectUnauthenticated(auth->Authenticate("Bearer junk", kAddress));
  EXPECT_TRUE(Audit().empty());
  EXPECT_TRUE(auth->FlushAudit().ok());
}

TEST_F(AuditTest, FailureRecordedWithAddressSchemeReasonAndCount) {
  auto auth = MakeAudited();
  ExpectUnauthenticated(auth->Authenticate(BasicHeader("alice", "wrong"), kAddress));
  std::vector<storage::AuditRecord> records = Audit();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, "auth-failure");
  EXPECT_EQ(records[0].actor, "-");
  EXPECT_EQ(records[0].subject, "");
  EXPECT_EQ(records[0].time, clock_.NowMicros());
  EXPECT_EQ(records[0].detail,
            R"({"address":"192.0.2.1","scheme":"basic","reason":"wrong password","count":1})");
  // The password is nowhere in the log.
  EXPECT_FALSE(Has(records[0], "wrong\""));
  EXPECT_EQ(auth->stats().audit_records, 1u);
}

TEST_F(AuditTest, ReasonsAreSpecificForTheOperator) {
  AuthenticatorOptions options;
  options.audit_interval_micros = 1;  // a record per failure
  auto auth = MakeAudited(options);
  const std::string token = AddKey("alice");
  const std::string bob_token = AddKey("bob");
  struct Case {
    std::string header;
    std::string scheme;
    std::string reason;
  } cases[] = {
      {BasicHeader("nobody", "x"), "basic", "unknown user or no password"},
      {BasicHeader("bob", "s3cret"), "basic", "disabled user"},
      {"Basic !!!", "basic", "malformed Basic credentials"},
      {"Bearer junk", "bearer", "malformed bearer token"},
      {"Bearer " + bob_token, "bearer", "disabled user"},
      {"Negotiate abc", "other", "unsupported scheme"},
  };
  for (const Case& c : cases) {
    clock_.Advance(10);
    ExpectUnauthenticated(auth->Authenticate(c.header, kAddress));
    std::vector<storage::AuditRecord> records = Audit();
    ASSERT_FALSE(records.empty());
    EXPECT_TRUE(Has(records.back(), "\"scheme\":\"" + c.scheme + "\"")) << records.back().detail;
    EXPECT_TRUE(Has(records.back(), "\"reason\":\"" + c.reason + "\"")) << records.back().detail;
  }
  ASSERT_TRUE(store_->RevokeApiKey(ParseApiKey(token)->key_id).ok());
  clock_.Advance(10);
  ExpectUnauthenticated(auth->Authenticate("Bearer " + token, kAddress));
  EXPECT_TRUE(Has(Audit().back(), "\"reason\":\"revoked API key\""));
}

TEST_F(AuditTest, SuccessesAndAnonymousRequestsAreNotAudited) {
  auto auth = MakeAudited();
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
  ExpectUnauthenticated(auth->Authenticate("", kAddress));
  EXPECT_TRUE(auth->FlushAudit().ok());
  EXPECT_TRUE(Audit().empty());
}

TEST_F(AuditTest, FloodFromOneAddressFoldsIntoOneRecordPerInterval) {
  AuthenticatorOptions options;
  options.max_failures = 0;  // no throttling: every request is checked
  auto auth = MakeAudited(options);
  for (int i = 0; i < 500; ++i) {
    ExpectUnauthenticated(auth->Authenticate("Bearer junk", kAddress));
    clock_.Advance(10'000);  // 500 failures over 5 s
  }
  ASSERT_EQ(Audit().size(), 1u);  // the first one only, so far
  clock_.Advance(5'000'000);
  ExpectUnauthenticated(auth->Authenticate("Bearer junk", kAddress));
  std::vector<storage::AuditRecord> records = Audit();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(Has(records[0], "\"count\":1}"));
  // The 499 folded ones are written as soon as the interval is over; the new failure starts the
  // next interval's fold.
  EXPECT_TRUE(Has(records[1], "\"count\":499}")) << records[1].detail;
  ASSERT_TRUE(auth->FlushAudit().ok());
  records = Audit();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(Has(records[2], "\"count\":1}"));
}

TEST_F(AuditTest, FoldedFailuresWrittenByTheNextRequestAfterTheInterval) {
  auto auth = MakeAudited();
  for (int i = 0; i < 3; ++i) ExpectUnauthenticated(auth->Authenticate("Bearer junk", kAddress));
  ASSERT_EQ(Audit().size(), 1u);
  clock_.Advance(9'999'999);
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), "192.0.2.9").ok());
  ASSERT_EQ(Audit().size(), 1u);  // not due yet
  clock_.Advance(1);
  ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), "192.0.2.9").ok());
  std::vector<storage::AuditRecord> records = Audit();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(Has(records[1], "\"address\":\"192.0.2.1\""));
  EXPECT_TRUE(Has(records[1], "\"count\":2}"));
}

TEST_F(AuditTest, FlushAndDestructorWriteWhatIsFolded) {
  {
    auto auth = MakeAudited();
    for (int i = 0; i < 4; ++i) ExpectUnauthenticated(auth->Authenticate("Bearer junk", kAddress));
    ASSERT_TRUE(auth->FlushAudit().ok());
    ASSERT_EQ(Audit().size(), 2u);
    EXPECT_TRUE(Has(Audit()[1], "\"count\":3}"));
    EXPECT_TRUE(auth->FlushAudit().ok());  // nothing more
    ASSERT_EQ(Audit().size(), 2u);
    ExpectUnauthenticated(auth->Authenticate("Bearer junk", kAddress));
  }
  std::vector<storage::AuditRecord> records = Audit();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(Has(records[2], "\"count\":1}"));
}

TEST_F(AuditTest, EachAddressHasItsOwnInterval) {
  auto auth = MakeAudited();
  for (int i = 0; i < 3; ++i) {
    ExpectUnauthenticated(auth->Authenticate("Bearer junk", "198.51.100." + std::to_string(i)));
    ExpectUnauthenticated(auth->Authenticate("Bearer junk", "198.51.100." + std::to_string(i)));
  }
  std::vector<storage::AuditRecord> records = Audit();
  ASSERT_EQ(records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Has(records[i], "\"address\":\"198.51.100." + std::to_string(i) + "\""));
  }
}

TEST_F(AuditTest, ThrottledRequestsAreCounted) {
  AuthenticatorOptions options;
  options.max_failures = 2;
  auto auth = MakeAudited(options);
  for (int i = 0; i < 2; ++i) ExpectUnauthenticated(auth->Authenticate("Bearer junk", kAddress));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(auth->Authenticate("Bearer junk", kAddress).status().code(),
              StatusCode::kResourceExhausted);
  }
  ASSERT_TRUE(auth->FlushAudit().ok());
  std::vector<storage::AuditRecord> records = Audit();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(Has(records[1], "\"reason\":\"throttled\""));
  EXPECT_TRUE(Has(records[1], "\"count\":6}"));
}

TEST_F(AuditTest, ManyAddressesCannotFloodTheLog) {
  AuthenticatorOptions options;
  options.max_failures = 0;
  options.audit_max_records = 10;
  options.max_tracked_addresses = 50;
  auto auth = MakeAudited(options);
  for (int i = 0; i < 1000; ++i) {
    ExpectUnauthenticated(auth->Authenticate("Bearer junk", "203.0.113." + std::to_string(i)));
  }
  // One interval: at most the budget.
  EXPECT_EQ(Audit().size(), 10u);
  // Later intervals drain what is folded, within the budget each time; nothing is lost.
  for (int round = 0; round < 10; ++round) {
    clock_.Advance(10'000'000);
    ASSERT_TRUE(auth->Authenticate(BasicHeader("alice", "s3cret"), kAddress).ok());
    EXPECT_LE(Audit().size(), 10u * (round + 2));
  }
  ASSERT_TRUE(auth->FlushAudit().ok());
  int64_t total = 0;
  bool overflow = false;
  for (const storage::AuditRecord& r : Audit()) {
    size_t at = r.detail.find("\"count\":");
    ASSERT_NE(at, std::string::npos);
    total += std::stoll(r.detail.substr(at + 8));
    overflow = overflow || Has(r, "\"address\":\"*\"");
  }
  EXPECT_EQ(total, 1000);
  EXPECT_TRUE(overflow);
}

TEST_F(AuditTest, AuditStoreFailureDoesNotChangeTheAnswer) {
  class FailingAudit : public storage::StoreWrapper {
   public:
    using StoreWrapper::StoreWrapper;
    Result<std::vector<storage::AuditRecord>> AppendAudit(const std::vector<storage::AuditRecord>&,
                                                          int64_t) override {
      return UnavailableError("injected");
    }
  };
  FailingAudit failing(*store_);
  AuthenticatorOptions options;
  options.audit_store = &failing;
  Authenticator auth(*store_, clock_, options);
  ExpectUnauthenticated(auth.Authenticate("Bearer junk", kAddress));
  EXPECT_TRUE(auth.Authenticate(BasicHeader("alice", "s3cret"), "192.0.2.9").ok());
  ExpectUnauthenticated(auth.Authenticate("Bearer junk", kAddress));
  EXPECT_EQ(auth.FlushAudit().code(), StatusCode::kUnavailable);
  EXPECT_EQ(auth.stats().audit_records, 0u);
}

TEST_F(AuditTest, RecordsJoinTheHashChain) {
  auto auth = MakeAudited();
  ExpectUnauthenticated(auth->Authenticate("Bearer junk", kAddress));
  ExpectUnauthenticated(auth->Authenticate("Bearer junk", "192.0.2.2"));
  std::vector<storage::AuditRecord> records = Audit();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].seq, 1);
  EXPECT_EQ(records[1].prev_hash, records[0].hash);
  EXPECT_FALSE(records[1].hash.empty());
}

}  // namespace
}  // namespace liaison::auth
