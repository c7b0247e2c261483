#include "cli/partner_admin.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "audit/chain.h"
#include "auth/api_key.h"
#include "crypto/hub_keys.h"
#include "policy/tlp.h"
#include "stix/object.h"
#include "storage/hub_settings.h"
#include "storage/memory/memory_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace liaison::cli {
namespace {

using storage::Role;

// One hub: a store (memory or SQLite in a temp dir), initialised with an identity.
struct TestHub {
  std::string dir;
  std::unique_ptr<storage::Store> store;
  InitResult init;
  IdentityResult identity;
  federation::HubIdentity self;
};

class PartnerAdminTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/liaison_partner_admin_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_NO_FATAL_FAILURE(MakeHub("a", "Agency A", "https://a.example:8443/api/", &a_));
    ASSERT_NO_FATAL_FAILURE(MakeHub("b", "Agency B", "https://b.example/api/", &b_));
    b_file_ = ExportHubIdentity(b_.self, "").value();
  }
  // Hub C, for the tests that need a second partner.
  void MakeC() {
    ASSERT_NO_FATAL_FAILURE(MakeHub("c", "Agency C", "http://127.0.0.1:9000/api/", &c_));
    c_file_ = ExportHubIdentity(c_.self, "").value();
  }
  void TearDown() override {
    a_.store.reset();
    b_.store.reset();
    c_.store.reset();
    std::filesystem::remove_all(root_);
  }

  std::unique_ptr<storage::Store> OpenStore(const std::string& dir) {
    if (GetParam() == "sqlite") {
      Result<std::unique_ptr<storage::sqlite::SqliteStore>> s =
          storage::sqlite::SqliteStore::Open(dir + "/hub.db");
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      return s.ok() ? std::move(s).value() : nullptr;
    }
    return storage::memory::MemoryStore::Create();
  }

  void MakeHub(const std::string& name, const std::string& org, const std::string& url,
               TestHub* hub) {
    hub->dir = root_ + "/" + name;
    std::filesystem::create_directories(hub->dir);
    hub->store = OpenStore(hub->dir);
    ASSERT_NE(hub->store, nullptr);
    InitOptions options;
    options.org_name = org;
    Result<InitResult> init = InitializeHub(*hub->store, clock_, options);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    hub->init = *init;
    IdentityOptions id_options;
    id_options.url = url;
    Result<IdentityResult> identity =
        CreateHubIdentity(*hub->store, clock_, HubKeyPath(hub->dir), id_options);
    ASSERT_TRUE(identity.ok()) << identity.status().ToString();
    hub->identity = *identity;
    Result<federation::HubIdentity> self =
        federation::LoadHubIdentity(*hub->store, HubKeyPath(hub->dir));
    ASSERT_TRUE(self.ok()) << self.status().ToString();
    hub->self = std::move(self).value();
  }

  storage::Store& a() { return *a_.store; }

  Result<AddPartnerResult> AddB(const std::string& token = "") {
    AddPartnerOptions options;
    options.identity_text = b_file_;
    options.token = token;
    return AddPartner(a(), clock_, a_.self, options);
  }

  std::optional<storage::Grant> GrantOf(const std::string& collection, const std::string& subject) {
    Result<std::vector<storage::Grant>> grants = a().ListGrants(collection);
    if (!grants.ok()) return std::nullopt;
    for (const storage::Grant& g : *grants) {
      if (g.subject == subject) return g;
    }
    return std::nullopt;
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = root_ + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path;
  }

  FakeClock clock_;
  std::string root_;
  TestHub a_, b_, c_;
  std::string b_file_, c_file_;
};

INSTANTIATE_TEST_SUITE_P(Backends, PartnerAdminTest, ::testing::Values("memory", "sqlite"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(NormalizeApiRootUrl, AcceptsAndRejects) {
  EXPECT_EQ(NormalizeApiRootUrl("https://hub.example/api").value_or(""),
            "https://hub.example/api/");
  EXPECT_EQ(NormalizeApiRootUrl("HTTP://127.0.0.1:8080/api/").value_or(""),
            "http://127.0.0.1:8080/api/");
  EXPECT_EQ(NormalizeApiRootUrl("https://hub.example").value_or(""), "https://hub.example/");
  for (const char* bad :
       {"", "ftp://hub/api/", "hub.example/api/", "https:///api/", "https://user:pw@hub/api/",
        "https://hub/api/?x=1", "https://hub/a b/", "https://hub/api/#frag"}) {
    EXPECT_EQ(NormalizeApiRootUrl(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PartnerUserName, Slugs) {
  EXPECT_EQ(PartnerUserName("Agency B"), "partner-agency-b");
  EXPECT_EQ(PartnerUserName("  CERT--EU (Brussels) "), "partner-cert-eu-brussels");
  EXPECT_EQ(PartnerUserName("Ωμέγα"), "partner-hub");
  EXPECT_EQ(PartnerUserName(std::string(100, 'x')).size(), std::string("partner-").size() + 48);
  EXPECT_TRUE(ValidateUserName(PartnerUserName(std::string(300, 'y') + "!")).ok());
}

TEST(BuildFeedbackObject, SightingAndOpinion) {
  const std::string indicator = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
  FeedbackSpec spec;
  spec.object_id = indicator;
  spec.outcome = "acted-on";
  spec.note = "seven suspects detained";
  spec.count = 3;
  spec.tlp = "amber+strict";
  spec.recipients = {"identity--b7f6c3a0-51c4-4d1e-9a27-0c2d8f7e1a11"};
  Result<std::string> json = BuildFeedbackObject(spec, 1700000000000000);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  Result<stix::ObjectInfo> info = stix::ParseObject(*json);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->type, "sighting");
  EXPECT_NE(json->find("\"sighting_of_ref\":\"" + indicator + "\""), std::string::npos);
  EXPECT_NE(json->find("\"count\":3"), std::string::npos);
  EXPECT_NE(json->find("\"x_liaison_feedback\":{\"outcome\":\"acted-on\",\"note\":\"seven suspects "
                       "detained\"}"),
            std::string::npos);
  EXPECT_NE(json->find(std::string(policy::TlpMarkingId(policy::Tlp::kAmberStrict))),
            std::string::npos);
  EXPECT_NE(json->find("x_liaison_recipients"), std::string::npos);

  spec.outcome = "false-positive";
  spec.count.reset();
  json = BuildFeedbackObject(spec, 1700000000000000);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  info = stix::ParseObject(*json);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->type, "opinion");
  EXPECT_NE(json->find("\"opinion\":\"strongly-disagree\""), std::string::npos);
  EXPECT_NE(json->find("\"object_refs\":[\"" + indicator + "\"]"), std::string::npos);

  // Each is a new object.
  EXPECT_NE(BuildFeedbackObject(spec, 1).value_or("a"), BuildFeedbackObject(spec, 1).value_or("a"));
}

TEST(BuildFeedbackObject, RejectsBadSpecs) {
  FeedbackSpec good;
  good.object_id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
  good.outcome = "seen";
  ASSERT_TRUE(BuildFeedbackObject(good, 1).ok());
  auto code = [](FeedbackSpec s) { return BuildFeedbackObject(s, 1).status().code(); };
  FeedbackSpec s = good;
  s.object_id = "not-an-id";
  EXPECT_EQ(code(s), StatusCode::kInvalidArgument);
  s = good;
  s.object_id = "Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
  EXPECT_EQ(code(s), StatusCode::kInvalidArgument);
  s = good;
  s.outcome = "arrested";
  EXPECT_EQ(code(s), StatusCode::kInvalidArgument);
  s = good;
  s.tlp = "purple";
  EXPECT_EQ(code(s), StatusCode::kInvalidArgument);
  s = good;
  s.count = 0;
  EXPECT_EQ(code(s), StatusCode::kInvalidArgument);
  s = good;
  s.outcome = "false-positive";
  s.count = 2;
  EXPECT_EQ(code(s), StatusCode::kInvalidArgument);
  s = good;
  s.recipients = {"organization--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"};
  EXPECT_EQ(code(s), StatusCode::kInvalidArgument);
  s = good;
  s.note = std::string(10001, 'n');
  EXPECT_EQ(code(s), StatusCode::kInvalidArgument);
}

TEST_P(PartnerAdminTest, IdentityCreatedWithInboxKeysAndSettings) {
  EXPECT_EQ(a_.self.id, a_.identity.identity_id);
  EXPECT_EQ(a_.self.name, "Agency A");
  EXPECT_EQ(a_.self.url, "https://a.example:8443/api/");
  EXPECT_EQ(a_.self.inbox, a_.identity.inbox_id);
  EXPECT_EQ(a_.identity.fingerprint, a_.self.keys.fingerprint());
  EXPECT_NE(a_.self.identity_json.find("\"identity_class\":\"organization\""), std::string::npos);
  EXPECT_TRUE(stix::ParseObject(a_.self.identity_json).ok());

  struct stat st;
  ASSERT_EQ(stat(HubKeyPath(a_.dir).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);

  Result<storage::Collection> inbox = a().GetCollection("api", kInboxAlias);
  ASSERT_TRUE(inbox.ok());
  EXPECT_EQ(inbox->id, a_.self.inbox);
  EXPECT_EQ(inbox->title, kInboxTitle);
  std::optional<storage::Grant> reader = GrantOf(inbox->id, "role:reader");
  ASSERT_TRUE(reader.has_value());
  EXPECT_TRUE(reader->can_read);
  EXPECT_FALSE(reader->can_write);
  EXPECT_FALSE(GrantOf(inbox->id, "role:publisher")->can_write);

  // Refused once present.
  Result<IdentityResult> again = CreateHubIdentity(a(), clock_, HubKeyPath(a_.dir), {});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_P(PartnerAdminTest, IdentityInitForAnOldHubKeepsAnExistingKeyFile) {
  std::filesystem::create_directories(root_ + "/old");
  std::unique_ptr<storage::Store> old = OpenStore(root_ + "/old");
  ASSERT_NE(old, nullptr);
  InitOptions options;
  options.org_name = "Old Hub";
  ASSERT_TRUE(InitializeHub(*old, clock_, options).ok());
  // An earlier run wrote the key file and then stopped.
  crypto::HubKeys keys = crypto::HubKeys::Generate().value();
  std::string key_file = root_ + "/old.key";
  ASSERT_TRUE(keys.Save(key_file).ok());
  Result<IdentityResult> r = CreateHubIdentity(*old, clock_, key_file, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->fingerprint, keys.fingerprint());
  Result<federation::HubIdentity> self = federation::LoadHubIdentity(*old, key_file);
  ASSERT_TRUE(self.ok()) << self.status().ToString();
  EXPECT_EQ(self->name, "Old Hub");
  EXPECT_TRUE(self->url.empty());
  EXPECT_EQ(ExportHubIdentity(*self, "").status().code(), StatusCode::kFailedPrecondition);
  Result<std::string> exported = ExportHubIdentity(*self, "https://old.example/api");
  ASSERT_TRUE(exported.ok());
  Result<federation::PartnerIdentity> parsed = federation::ParseIdentityFile(*exported);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->url, "https://old.example/api/");
  EXPECT_EQ(ExportHubIdentity(*self, "ftp://x/").status().code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(SetPublicUrl(*old, "https://old.example/api").ok());
  EXPECT_EQ(federation::LoadHubIdentity(*old, key_file)->url, "https://old.example/api/");
  EXPECT_EQ(SetPublicUrl(*old, "nope").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(PartnerAdminTest, AddPartnerCreatesUserKeyGrantAndSealedToken) {
  Result<AddPartnerResult> r = AddB("lsk_token-that-a-presents-to-b");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->user, "partner-agency-b");
  const storage::Partner& p = r->partner;
  EXPECT_EQ(p.id, b_.self.id);
  EXPECT_EQ(p.name, "Agency B");
  EXPECT_EQ(p.url, "https://b.example/api/");
  EXPECT_EQ(p.inbox, b_.self.inbox);
  EXPECT_EQ(p.sign_key, b_.self.keys.sign_public_b64());
  EXPECT_EQ(p.box_key, b_.self.keys.box_public_b64());
  EXPECT_EQ(p.token.find("lsk_token"), std::string::npos);  // sealed
  EXPECT_EQ(a_.self.keys.UnsealSecret(p.token).value_or(""), "lsk_token-that-a-presents-to-b");

  Result<storage::Partner> stored = a().GetPartner(p.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, p);

  Result<storage::User> user = a().GetUser("partner-agency-b");
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->role, Role::kPartner);
  EXPECT_EQ(user->partner, b_.self.id);
  EXPECT_TRUE(user->password_hash.empty());

  Result<auth::ParsedApiKey> key = auth::ParseApiKey(r->api_token);
  ASSERT_TRUE(key.ok());
  Result<storage::ApiKey> record = a().FindApiKey(key->key_id);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->user, "partner-agency-b");
  EXPECT_FALSE(record->revoked);

  std::optional<storage::Grant> g = GrantOf(a_.self.inbox, "user:partner-agency-b");
  ASSERT_TRUE(g.has_value());
  EXPECT_TRUE(g->can_write);
  EXPECT_FALSE(g->can_read);
  EXPECT_FALSE(GrantOf(a_.init.collection_id, "user:partner-agency-b").has_value());

  // Audited.
  Result<std::vector<storage::AuditRecord>> audit = ListAuditEntries(a(), 0, 100, "partner");
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].subject, b_.self.id);
  EXPECT_EQ((*audit)[0].actor, kCliAuditActor);
  EXPECT_TRUE(audit::VerifyChain(a()).ok());
}

TEST_P(PartnerAdminTest, AddPartnerErrors) {
  ASSERT_NO_FATAL_FAILURE(MakeC());
  ASSERT_TRUE(AddB().ok());
  Result<AddPartnerResult> dup = AddB();
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);

  AddPartnerOptions options;
  options.identity_text = "{\"liaison_identity\": 1}";
  Result<AddPartnerResult> bad = AddPartner(a(), clock_, a_.self, options);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("identity file: ", 0), 0u) << bad.status().message();
  options.identity_text = "not json";
  EXPECT_EQ(AddPartner(a(), clock_, a_.self, options).status().code(),
            StatusCode::kInvalidArgument);
  // A file whose fingerprint does not match its key.
  std::string tampered = c_file_;
  size_t fp = tampered.find(c_.self.keys.fingerprint());
  ASSERT_NE(fp, std::string::npos);
  tampered[fp] = tampered[fp] == '0' ? '1' : '0';
  options.identity_text = tampered;
  EXPECT_EQ(AddPartner(a(), clock_, a_.self, options).status().code(),
            StatusCode::kInvalidArgument);

  options.identity_text = ExportHubIdentity(a_.self, "").value();
  Result<AddPartnerResult> own = AddPartner(a(), clock_, a_.self, options);
  EXPECT_EQ(own.status().code(), StatusCode::kInvalidArgument);

  // Same name as an existing partner.
  options.identity_text = c_file_;
  options.name = "agency b";
  EXPECT_EQ(AddPartner(a(), clock_, a_.self, options).status().code(), StatusCode::kAlreadyExists);
  options.name = "";
  options.url = "gopher://c/";
  EXPECT_EQ(AddPartner(a(), clock_, a_.self, options).status().code(),
            StatusCode::kInvalidArgument);
  options.url = "";
  options.token = "has space";
  EXPECT_EQ(AddPartner(a(), clock_, a_.self, options).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(a().ListPartners()->size(), 1u);
}

TEST_P(PartnerAdminTest, ResolvePartnerByIdNameOrUser) {
  ASSERT_NO_FATAL_FAILURE(MakeC());
  ASSERT_TRUE(AddB().ok());
  EXPECT_EQ(ResolvePartner(a(), b_.self.id)->name, "Agency B");
  EXPECT_EQ(ResolvePartner(a(), "AGENCY b")->id, b_.self.id);
  EXPECT_EQ(ResolvePartner(a(), "partner-agency-b")->id, b_.self.id);
  EXPECT_EQ(ResolvePartner(a(), "Agency Z").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ResolvePartner(a(), c_.self.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ResolvePartner(a(), "").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(PartnerAdminTest, TokenUrlDisableEnable) {
  ASSERT_NO_FATAL_FAILURE(MakeC());
  ASSERT_TRUE(AddB().ok());
  EXPECT_TRUE(a().GetPartner(b_.self.id)->token.empty());
  ASSERT_TRUE(SetPartnerToken(a(), clock_, a_.self, b_.self.id, "lsk_new").ok());
  EXPECT_EQ(a_.self.keys.UnsealSecret(a().GetPartner(b_.self.id)->token).value_or(""), "lsk_new");
  EXPECT_EQ(SetPartnerToken(a(), clock_, a_.self, b_.self.id, "").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SetPartnerToken(a(), clock_, a_.self, c_.self.id, "x").code(), StatusCode::kNotFound);

  ASSERT_TRUE(SetPartnerUrl(a(), clock_, b_.self.id, "https://b2.example/api").ok());
  EXPECT_EQ(a().GetPartner(b_.self.id)->url, "https://b2.example/api/");
  EXPECT_EQ(SetPartnerUrl(a(), clock_, b_.self.id, "b2").code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(SetPartnerDisabled(a(), clock_, b_.self.id, true).ok());
  EXPECT_TRUE(a().GetPartner(b_.self.id)->disabled);
  EXPECT_TRUE(a().GetUser("partner-agency-b")->disabled);
  EXPECT_EQ(RotatePartnerCredential(a(), clock_, b_.self.id).status().code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(SetPartnerDisabled(a(), clock_, b_.self.id, false).ok());
  EXPECT_FALSE(a().GetPartner(b_.self.id)->disabled);
  EXPECT_FALSE(a().GetUser("partner-agency-b")->disabled);
  EXPECT_EQ(SetPartnerDisabled(a(), clock_, c_.self.id, true).code(), StatusCode::kNotFound);
}

TEST_P(PartnerAdminTest, RotateCredentialRevokesOldKeys) {
  ASSERT_NO_FATAL_FAILURE(MakeC());
  Result<AddPartnerResult> r = AddB();
  ASSERT_TRUE(r.ok());
  std::string old_id = auth::ParseApiKey(r->api_token)->key_id;
  Result<auth::NewApiKey> fresh = RotatePartnerCredential(a(), clock_, b_.self.id);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_TRUE(a().FindApiKey(old_id)->revoked);
  EXPECT_FALSE(a().FindApiKey(fresh->record.key_id)->revoked);
  EXPECT_EQ(fresh->record.user, "partner-agency-b");
  EXPECT_EQ(RotatePartnerCredential(a(), clock_, c_.self.id).status().code(),
            StatusCode::kNotFound);
}

TEST_P(PartnerAdminTest, ChannelsAddListRemove) {
  ASSERT_TRUE(AddB().ok());
  ChannelSpec push;
  push.partner = "Agency B";
  push.collection = "default";
  push.mode = "push";
  push.max_tlp = "amber";
  push.allow_pull = true;
  Result<storage::Channel> c = AddChannel(a(), clock_, push);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->partner, b_.self.id);
  EXPECT_EQ(c->collection_id, a_.init.collection_id);
  EXPECT_EQ(c->mode, storage::ChannelMode::kPush);
  EXPECT_EQ(c->max_tlp, static_cast<int32_t>(policy::Tlp::kAmber));
  std::optional<storage::Grant> g = GrantOf(a_.init.collection_id, "user:partner-agency-b");
  ASSERT_TRUE(g.has_value());
  EXPECT_TRUE(g->can_read);
  EXPECT_FALSE(g->can_write);

  EXPECT_EQ(AddChannel(a(), clock_, push).status().code(), StatusCode::kAlreadyExists);

  ChannelSpec pull;
  pull.partner = b_.self.id;
  pull.collection = kInboxAlias;
  pull.mode = "pull";
  pull.remote_collection = "2b6d9f3e-2c1f-4b1a-9d8e-1f2a3b4c5d6e";
  Result<storage::Channel> p = AddChannel(a(), clock_, pull);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->max_tlp, static_cast<int32_t>(policy::Tlp::kAmberStrict));  // the default
  EXPECT_EQ(p->remote_collection, pull.remote_collection);

  Result<PartnerSummary> summary = GetPartnerSummary(a(), b_.self.id);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->channels.size(), 2u);
  EXPECT_EQ(summary->deliveries.queued, 0);

  // Errors.
  ChannelSpec s = push;
  s.partner = "nobody";
  EXPECT_EQ(AddChannel(a(), clock_, s).status().code(), StatusCode::kNotFound);
  s = push;
  s.collection = "nope";
  EXPECT_EQ(AddChannel(a(), clock_, s).status().code(), StatusCode::kNotFound);
  s = push;
  s.max_tlp = "ultraviolet";
  Result<storage::Channel> bad_tlp = AddChannel(a(), clock_, s);
  EXPECT_EQ(bad_tlp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_tlp.status().message().find("ultraviolet"), std::string::npos);
  s = push;
  s.mode = "both";
  EXPECT_EQ(AddChannel(a(), clock_, s).status().code(), StatusCode::kInvalidArgument);
  s = push;
  s.remote_collection = "x";
  EXPECT_EQ(AddChannel(a(), clock_, s).status().code(), StatusCode::kInvalidArgument);
  s = pull;
  s.remote_collection = "";
  EXPECT_EQ(AddChannel(a(), clock_, s).status().code(), StatusCode::kInvalidArgument);
  s = pull;
  s.allow_pull = true;
  EXPECT_EQ(AddChannel(a(), clock_, s).status().code(), StatusCode::kInvalidArgument);

  // Removing the push channel takes the read grant away.
  ASSERT_TRUE(RemoveChannel(a(), clock_, c->id).ok());
  EXPECT_FALSE(GrantOf(a_.init.collection_id, "user:partner-agency-b").has_value());
  EXPECT_EQ(RemoveChannel(a(), clock_, c->id).code(), StatusCode::kNotFound);
  EXPECT_EQ(a().ListChannels("")->size(), 1u);
  // The inbox write grant is untouched by channels.
  EXPECT_TRUE(GrantOf(a_.self.inbox, "user:partner-agency-b")->can_write);
}

TEST_P(PartnerAdminTest, RemovePartnerRevokesAndReAddReusesUser) {
  Result<AddPartnerResult> r = AddB();
  ASSERT_TRUE(r.ok());
  ChannelSpec push;
  push.partner = b_.self.id;
  push.collection = "default";
  push.mode = "push";
  push.allow_pull = true;
  ASSERT_TRUE(AddChannel(a(), clock_, push).ok());

  ASSERT_TRUE(RemovePartner(a(), clock_, b_.self.id).ok());
  EXPECT_EQ(a().GetPartner(b_.self.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(a().ListChannels("")->empty());
  EXPECT_TRUE(a().GetUser("partner-agency-b")->disabled);
  EXPECT_TRUE(a().FindApiKey(auth::ParseApiKey(r->api_token)->key_id)->revoked);
  EXPECT_FALSE(GrantOf(a_.self.inbox, "user:partner-agency-b").has_value());
  EXPECT_FALSE(GrantOf(a_.init.collection_id, "user:partner-agency-b").has_value());
  EXPECT_EQ(RemovePartner(a(), clock_, b_.self.id).code(), StatusCode::kNotFound);

  Result<AddPartnerResult> again = AddB();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->user, "partner-agency-b");
  EXPECT_FALSE(a().GetUser("partner-agency-b")->disabled);
  EXPECT_TRUE(GrantOf(a_.self.inbox, "user:partner-agency-b")->can_write);
}

TEST_P(PartnerAdminTest, UserNameTakenByAnotherUserGetsASuffix) {
  ASSERT_TRUE(AddUser(a(), clock_, "partner-agency-b", Role::kReader, "a-long-password").ok());
  Result<AddPartnerResult> r = AddB();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->user, "partner-agency-b-" + b_.self.id.substr(10, 8));
  EXPECT_EQ(a().GetUser("partner-agency-b")->role, Role::kReader);
}

TEST_P(PartnerAdminTest, ReceiptsAndCounts) {
  ASSERT_TRUE(AddB().ok());
  storage::AddObjectsRequest request;
  request.collection_id = a_.init.collection_id;
  for (int i = 0; i < 3; ++i) {
    storage::NewObject o;
    o.id = "indicator--00000000-0000-4000-8000-00000000000" + std::to_string(i);
    o.type = "indicator";
    o.spec_version = "2.1";
    o.version = 1700000000000000 + i;
    o.json = "{\"id\":\"" + o.id + "\"}";
    o.label.origin = a_.self.id;
    o.outbox_partners = {b_.self.id};
    request.objects.push_back(o);
  }
  Result<storage::AddObjectsResult> added = a().AddObjects(request, clock_.NowMicros());
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  Result<std::vector<storage::OutboxRow>> rows = ListReceipts(a(), {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  ASSERT_TRUE(a().MarkOutboxDelivered({(*rows)[0].seq}, clock_.NowMicros()).ok());
  ASSERT_TRUE(
      a().MarkOutboxFailed({(*rows)[1].seq}, "HTTP 400: bad", true, 0, clock_.NowMicros()).ok());

  ReceiptQuery q;
  q.partner = "Agency B";
  q.state = "delivered";
  rows = ListReceipts(a(), q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].object_id, request.objects[0].id);
  q.state = "";
  q.object_id = request.objects[1].id;
  rows = ListReceipts(a(), q);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].error, "HTTP 400: bad");
  q.state = "lost";
  EXPECT_EQ(ListReceipts(a(), q).status().code(), StatusCode::kInvalidArgument);
  q.state = "";
  q.partner = "nobody";
  EXPECT_EQ(ListReceipts(a(), q).status().code(), StatusCode::kNotFound);

  Result<std::vector<PartnerSummary>> all = ListPartnerSummaries(a());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].deliveries.queued, 1);
  EXPECT_EQ((*all)[0].deliveries.delivered, 1);
  EXPECT_EQ((*all)[0].deliveries.failed, 1);
}

TEST_P(PartnerAdminTest, AuditListFiltersAndPages) {
  ASSERT_TRUE(AddB().ok());
  ChannelSpec push;
  push.partner = b_.self.id;
  push.collection = "default";
  push.mode = "push";
  ASSERT_TRUE(AddChannel(a(), clock_, push).ok());
  ASSERT_TRUE(SetPartnerDisabled(a(), clock_, b_.self.id, true).ok());
  Result<std::vector<storage::AuditRecord>> all = ListAuditEntries(a(), 0, 100, "");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);  // identity, partner add, channel add, partner disable
  EXPECT_EQ((*all)[0].kind, "identity");
  EXPECT_EQ(ListAuditEntries(a(), 0, 100, "channel")->size(), 1u);
  EXPECT_EQ(ListAuditEntries(a(), 0, 100, "partner")->size(), 2u);
  Result<std::vector<storage::AuditRecord>> tail = ListAuditEntries(a(), (*all)[1].seq, 1, "");
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].seq, (*all)[2].seq);
  Result<audit::VerifyReport> verified = audit::VerifyChain(a());
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->entries, 4);
}

TEST_P(PartnerAdminTest, ConfigApplyIsIdempotent) {
  ASSERT_NO_FATAL_FAILURE(MakeC());
  std::string b_path = WriteFile("b.identity.json", b_file_);
  WriteFile("c.identity.json", c_file_);
  WriteFile("c.token", "lsk_c-token\n");
  std::string config = R"({
    "partners": [
      {"identity_file": ")" +
                       b_path + R"(", "token": "lsk_b-token"},
      {"identity_file": "c.identity.json", "name": "Agency Sea", "token_file": "c.token"}
    ],
    "channels": [
      {"partner": "Agency B", "collection": "default", "mode": "push", "max_tlp": "amber",
       "allow_pull": true},
      {"partner": "agency sea", "collection": "inbox", "mode": "pull",
       "remote_collection": "11111111-2222-4333-8444-555555555555"}
    ]})";
  Result<ApplyReport> first = ApplyConfig(a(), clock_, a_.self, config, root_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->new_tokens.size(), 2u);
  EXPECT_EQ(first->changes.size(), 4u);
  EXPECT_EQ(a().ListPartners()->size(), 2u);
  EXPECT_EQ(a().GetPartner(c_.self.id)->name, "Agency Sea");
  EXPECT_EQ(a_.self.keys.UnsealSecret(a().GetPartner(c_.self.id)->token).value_or(""),
            "lsk_c-token");
  EXPECT_TRUE(GrantOf(a_.init.collection_id, "user:partner-agency-b")->can_read);
  ASSERT_EQ(a().ListChannels("")->size(), 2u);
  size_t audit_entries = ListAuditEntries(a(), 0, 1000, "")->size();

  Result<ApplyReport> second = ApplyConfig(a(), clock_, a_.self, config, root_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->changes.empty());
  EXPECT_TRUE(second->new_tokens.empty());
  EXPECT_EQ(ListAuditEntries(a(), 0, 1000, "")->size(), audit_entries);

  // A changed max_tlp keeps the channel's id and cursor; a changed token is re-sealed.
  std::vector<storage::Channel> before = a().ListChannels(b_.self.id).value();
  ASSERT_EQ(before.size(), 1u);
  std::string changed = config;
  changed.replace(changed.find("\"max_tlp\": \"amber\""), 18, "\"max_tlp\": \"green\"");
  changed.replace(changed.find("lsk_b-token"), 11, "lsk_b-token2");
  Result<ApplyReport> third = ApplyConfig(a(), clock_, a_.self, changed, root_);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->changes.size(), 2u);
  std::vector<storage::Channel> after = a().ListChannels(b_.self.id).value();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].id, before[0].id);
  EXPECT_EQ(after[0].max_tlp, static_cast<int32_t>(policy::Tlp::kGreen));
  EXPECT_EQ(a_.self.keys.UnsealSecret(a().GetPartner(b_.self.id)->token).value_or(""),
            "lsk_b-token2");
  EXPECT_TRUE(ApplyConfig(a(), clock_, a_.self, changed, root_)->changes.empty());
}

TEST_P(PartnerAdminTest, ConfigApplyChecksEverythingFirst) {
  std::string b_path = WriteFile("b.identity.json", b_file_);
  WriteFile("bad.identity.json", "{\"liaison_identity\": 1}");
  auto apply = [&](const std::string& text) {
    return ApplyConfig(a(), clock_, a_.self, text, root_);
  };
  std::string partner_b = R"({"identity_file": ")" + b_path + R"("})";
  struct Case {
    std::string config;
    StatusCode code;
  };
  std::vector<Case> cases = {
      {"not json", StatusCode::kInvalidArgument},
      {"[]", StatusCode::kInvalidArgument},
      {R"({"partner": []})", StatusCode::kInvalidArgument},
      {R"({"partners": {}})", StatusCode::kInvalidArgument},
      {R"({"partners": [{"identity_file": "missing.json"}]})", StatusCode::kInvalidArgument},
      {R"({"partners": [{"identity_file": "bad.identity.json"}]})", StatusCode::kInvalidArgument},
      {R"({"partners": [{"identity_file": 7}]})", StatusCode::kInvalidArgument},
      {R"({"partners": [)" + partner_b.substr(0, partner_b.size() - 1) + R"(, "colour": "red"}]})",
       StatusCode::kInvalidArgument},
      {R"({"partners": [)" + partner_b + "," + partner_b + "]}", StatusCode::kInvalidArgument},
      // The channel's partner is unknown: nothing, not even partner B, is added.
      {R"({"partners": [)" + partner_b +
           R"(], "channels": [{"partner": "Agency Z", "collection": "default", "mode": "push"}]})",
       StatusCode::kNotFound},
      {R"({"partners": [)" + partner_b +
           R"(], "channels": [{"partner": "Agency B", "collection": "default", "mode": "push",
               "max_tlp": "mauve"}]})",
       StatusCode::kInvalidArgument},
      {R"({"partners": [)" + partner_b +
           R"(], "channels": [{"partner": "Agency B", "collection": "nope", "mode": "push"}]})",
       StatusCode::kNotFound},
      {R"({"partners": [)" + partner_b +
           R"(], "channels": [{"partner": "Agency B", "collection": "default", "mode": "pull"}]})",
       StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    Result<ApplyReport> r = apply(c.config);
    EXPECT_EQ(r.status().code(), c.code) << c.config << " -> " << r.status().ToString();
  }
  EXPECT_TRUE(a().ListPartners()->empty());
  EXPECT_TRUE(a().ListChannels("")->empty());
}

}  // namespace
}  // namespace liaison::cli
