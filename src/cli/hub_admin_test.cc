#include "cli/hub_admin.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "auth/api_key.h"
#include "auth/password.h"
#include "cli/data_dir_util.h"
#include "storage/memory/memory_store.h"

namespace liaison::cli {
namespace {

using storage::Role;

class HubAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = storage::memory::MemoryStore::Create();
    InitOptions options;
    options.org_name = "ACME CERT";
    Result<InitResult> r = InitializeHub(*store_, clock_, options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    hub_ = *r;
  }

  FakeClock clock_;
  std::unique_ptr<storage::memory::MemoryStore> store_;
  InitResult hub_;
};

TEST(ValidateUserName, AcceptsAndRejects) {
  EXPECT_TRUE(ValidateUserName("alice").ok());
  EXPECT_TRUE(ValidateUserName("a.b_c-d@example.org").ok());
  EXPECT_TRUE(ValidateUserName(std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateUserName("").ok());
  EXPECT_FALSE(ValidateUserName(std::string(65, 'a')).ok());
  EXPECT_FALSE(ValidateUserName("al ice").ok());
  EXPECT_FALSE(ValidateUserName("alice:x").ok());
  EXPECT_FALSE(ValidateUserName("ålice").ok());
  EXPECT_EQ(ValidateUserName("a/b").code(), StatusCode::kInvalidArgument);
}

TEST(ValidatePassword, EnforcesLengthAndNoControlCharacters) {
  EXPECT_TRUE(ValidatePassword("correct horse").ok());
  EXPECT_FALSE(ValidatePassword("short").ok());
  EXPECT_FALSE(ValidatePassword("has\ttab inside").ok());
  EXPECT_FALSE(ValidatePassword(std::string(auth::kMaxPasswordBytes + 1, 'x')).ok());
}

TEST(GenerateUuid, IsVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    Result<std::string> u = GenerateUuid();
    ASSERT_TRUE(u.ok());
    ASSERT_EQ(u->size(), 36u);
    EXPECT_EQ((*u)[14], '4');
    EXPECT_NE(std::string("89ab").find((*u)[19]), std::string::npos) << *u;
    EXPECT_EQ((*u)[8], '-');
    EXPECT_TRUE(seen.insert(*u).second);
  }
}

TEST(GeneratePassword, IsLongAlphanumericAndUnique) {
  Result<std::string> a = GeneratePassword();
  Result<std::string> b = GeneratePassword();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 24u);
  EXPECT_NE(*a, *b);
  for (char c : *a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << *a;
  EXPECT_TRUE(ValidatePassword(*a).ok());
}

TEST_F(HubAdminTest, InitCreatesRootCollectionGrantsAndAdmin) {
  EXPECT_EQ(store_->GetSetting(kOrgNameSetting).value(), std::optional<std::string>("ACME CERT"));
  EXPECT_TRUE(store_->GetSetting(kCreatedSetting).value().has_value());
  Result<storage::ApiRoot> root = store_->GetApiRoot("api");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->title, "ACME CERT TAXII API root");

  Result<storage::Collection> c = store_->GetCollection("api", "default");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->id, hub_.collection_id);
  EXPECT_EQ(c->title, "Default collection");

  Result<std::vector<storage::Grant>> grants = store_->ListGrants(hub_.collection_id);
  ASSERT_TRUE(grants.ok());
  std::map<std::string, std::pair<bool, bool>> by_subject;
  for (const auto& g : *grants) by_subject[g.subject] = {g.can_read, g.can_write};
  EXPECT_EQ(by_subject["role:admin"], std::make_pair(true, true));
  EXPECT_EQ(by_subject["role:publisher"], std::make_pair(true, true));
  EXPECT_EQ(by_subject["role:reader"], std::make_pair(true, false));
  EXPECT_EQ(by_subject.size(), 3u);

  Result<storage::User> admin = store_->GetUser("admin");
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->role, Role::kAdmin);
  EXPECT_FALSE(admin->disabled);
  EXPECT_EQ(hub_.admin_password.size(), 24u);
  EXPECT_TRUE(auth::VerifyPassword(admin->password_hash, hub_.admin_password));
  EXPECT_FALSE(auth::VerifyPassword(admin->password_hash, "wrong password"));
  EXPECT_TRUE(store_->GetSetting(auth::kHubSecretSetting).value().has_value());
}

TEST_F(HubAdminTest, InitTwiceIsRefused) {
  Result<InitResult> again = InitializeHub(*store_, clock_, {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST(HubAdmin, InitRejectsBadOptions) {
  FakeClock clock;
  auto store = storage::memory::MemoryStore::Create();
  InitOptions bad_user;
  bad_user.admin_user = "bad user";
  EXPECT_EQ(InitializeHub(*store, clock, bad_user).status().code(), StatusCode::kInvalidArgument);
  InitOptions bad_org;
  bad_org.org_name = "";
  EXPECT_EQ(InitializeHub(*store, clock, bad_org).status().code(), StatusCode::kInvalidArgument);
  // Nothing was written by the refused attempts.
  EXPECT_TRUE(store->ListApiRoots().value().empty());
}

TEST_F(HubAdminTest, UsersAddPasswdDisableEnable) {
  ASSERT_TRUE(AddUser(*store_, clock_, "alice", Role::kPublisher, "alice-password").ok());
  Status dup = AddUser(*store_, clock_, "alice", Role::kReader, "other-password");
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "user 'alice' already exists");
  EXPECT_EQ(AddUser(*store_, clock_, "bob", Role::kReader, "short").code(),
            StatusCode::kInvalidArgument);

  ASSERT_TRUE(SetUserPassword(*store_, "alice", "new-alice-password").ok());
  EXPECT_TRUE(auth::VerifyPassword(store_->GetUser("alice")->password_hash, "new-alice-password"));
  EXPECT_EQ(SetUserPassword(*store_, "nobody", "whatever-pw").code(), StatusCode::kNotFound);

  ASSERT_TRUE(SetUserDisabled(*store_, "alice", true).ok());
  EXPECT_TRUE(store_->GetUser("alice")->disabled);
  ASSERT_TRUE(SetUserDisabled(*store_, "alice", false).ok());
  EXPECT_FALSE(store_->GetUser("alice")->disabled);
  EXPECT_EQ(SetUserDisabled(*store_, "nobody", true).code(), StatusCode::kNotFound);

  ASSERT_TRUE(SetUserRole(*store_, "alice", Role::kReader).ok());
  EXPECT_EQ(store_->GetUser("alice")->role, Role::kReader);
}

TEST_F(HubAdminTest, LastAdminCannotBeDisabledOrDemoted) {
  Status s = SetUserDisabled(*store_, "admin", true);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(SetUserRole(*store_, "admin", Role::kReader).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(AddUser(*store_, clock_, "root2", Role::kAdmin, "second-admin-pw").ok());
  EXPECT_TRUE(SetUserDisabled(*store_, "admin", true).ok());
  // Now root2 is the last enabled one.
  EXPECT_EQ(SetUserDisabled(*store_, "root2", true).code(), StatusCode::kFailedPrecondition);
}

TEST_F(HubAdminTest, ApiKeysCreateListRevoke) {
  ASSERT_TRUE(AddUser(*store_, clock_, "alice", Role::kPublisher, "alice-password").ok());
  Result<auth::NewApiKey> key = CreateUserApiKey(*store_, clock_, "alice", "feed sync");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->token.rfind(auth::kApiKeyPrefix, 0), 0u);
  Result<auth::ParsedApiKey> parsed = auth::ParseApiKey(key->token);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->key_id, key->record.key_id);
  std::string secret = store_->GetSetting(auth::kHubSecretSetting).value().value();
  (void)secret;
  Result<storage::ApiKey> stored = store_->FindApiKey(key->record.key_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->user, "alice");
  EXPECT_EQ(stored->description, "feed sync");
  EXPECT_EQ(stored->secret_hash.find(parsed->secret), std::string::npos);

  clock_.Advance(1000);
  ASSERT_TRUE(CreateUserApiKey(*store_, clock_, "admin", "").ok());
  Result<std::vector<storage::ApiKey>> all = ListAllApiKeys(*store_, "");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].user, "admin");
  EXPECT_EQ((*all)[1].user, "alice");
  EXPECT_EQ(ListAllApiKeys(*store_, "alice")->size(), 1u);
  EXPECT_EQ(ListAllApiKeys(*store_, "nobody").status().code(), StatusCode::kNotFound);

  EXPECT_EQ(CreateUserApiKey(*store_, clock_, "nobody", "").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(SetUserDisabled(*store_, "alice", true).ok());
  EXPECT_EQ(CreateUserApiKey(*store_, clock_, "alice", "").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(HubAdminTest, CollectionsCreateResolveDelete) {
  CollectionSpec spec;
  spec.title = "Phishing";
  spec.alias = "phishing";
  Result<storage::Collection> c = CreateCollection(*store_, spec);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->id.size(), 36u);
  EXPECT_EQ(store_->ListGrants(c->id)->size(), 3u);

  EXPECT_EQ(CreateCollection(*store_, spec).status().code(), StatusCode::kAlreadyExists);
  spec.alias = "bad alias";
  EXPECT_EQ(CreateCollection(*store_, spec).status().code(), StatusCode::kInvalidArgument);
  spec.alias = "";
  spec.title = "";
  EXPECT_EQ(CreateCollection(*store_, spec).status().code(), StatusCode::kInvalidArgument);
  spec.title = "Private";
  spec.default_grants = false;
  Result<storage::Collection> priv = CreateCollection(*store_, spec);
  ASSERT_TRUE(priv.ok());
  EXPECT_TRUE(store_->ListGrants(priv->id)->empty());
  spec.api_root = "nope";
  EXPECT_EQ(CreateCollection(*store_, spec).status().code(), StatusCode::kNotFound);

  EXPECT_EQ(ResolveCollection(*store_, "", "phishing")->id, c->id);
  EXPECT_EQ(ResolveCollection(*store_, "api", c->id)->id, c->id);
  EXPECT_EQ(ResolveCollection(*store_, "", "default")->id, hub_.collection_id);
  Result<storage::Collection> missing = ResolveCollection(*store_, "", "nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "collection 'nope' does not exist");
}

TEST_F(HubAdminTest, GrantsSetKeepUnsetFields) {
  ASSERT_TRUE(AddUser(*store_, clock_, "alice", Role::kReader, "alice-password").ok());
  Result<std::string> subject = GrantSubject(*store_, "alice", "");
  ASSERT_TRUE(subject.ok());
  EXPECT_EQ(*subject, "user:alice");
  EXPECT_EQ(GrantSubject(*store_, "", "publisher").value_or(""), "role:publisher");
  EXPECT_EQ(GrantSubject(*store_, "", "god").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GrantSubject(*store_, "alice", "reader").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GrantSubject(*store_, "", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GrantSubject(*store_, "nobody", "").status().code(), StatusCode::kNotFound);

  Result<storage::Grant> g = SetGrant(*store_, hub_.collection_id, "user:alice", true, {});
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->can_read);
  EXPECT_FALSE(g->can_write);
  g = SetGrant(*store_, hub_.collection_id, "user:alice", {}, true);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->can_read);  // kept
  EXPECT_TRUE(g->can_write);
  g = SetGrant(*store_, hub_.collection_id, "role:reader", false, {});
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->can_read);
  EXPECT_FALSE(g->can_write);
}

// --- data directory --------------------------------------------------------------------------

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/liaison_cli_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(DataDirTest, ClaimCreatesPrivateDirAndRefusesSecondClaim) {
  std::string dir = root_ + "/a/b";
  std::string warning;
  ASSERT_TRUE(ClaimNewHub(dir, &warning).ok());
  EXPECT_TRUE(warning.empty());
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(HubDbPath(dir).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Status again = ClaimNewHub(dir, &warning);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.message().find("already holds a hub"), std::string::npos);
  RemoveHubFiles(dir);
  EXPECT_FALSE(std::filesystem::exists(HubDbPath(dir)));
}

TEST_F(DataDirTest, ClaimWarnsAboutOpenExistingDir) {
  std::string dir = root_ + "/open";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  std::string warning;
  ASSERT_TRUE(ClaimNewHub(dir, &warning).ok());
  EXPECT_NE(warning.find("accessible to other users"), std::string::npos);
}

TEST_F(DataDirTest, ClaimRejectsAFile) {
  std::string file = root_ + "/file";
  FILE* f = fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  EXPECT_EQ(ClaimNewHub(file, nullptr).code(), StatusCode::kFailedPrecondition);
}

TEST_F(DataDirTest, OpenMissingHubSaysHowToCreateOne) {
  Result<std::unique_ptr<storage::Store>> s = OpenHub(root_ + "/none");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("liaison init --data"), std::string::npos);
}

TEST_F(DataDirTest, InitOnSqliteThenReopen) {
  std::string dir = root_ + "/hub";
  ASSERT_TRUE(ClaimNewHub(dir, nullptr).ok());
  FakeClock clock;
  std::string collection_id;
  {
    Result<std::unique_ptr<storage::Store>> s = OpenHub(dir);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    Result<InitResult> r = InitializeHub(**s, clock, {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    collection_id = r->collection_id;
  }
  Result<std::unique_ptr<storage::Store>> s = OpenHub(dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(ResolveCollection(**s, "", "default").value().id, collection_id);
  EXPECT_EQ((*s)->GetUser("admin").value().role, Role::kAdmin);
  struct stat st;
  ASSERT_EQ(stat(HubDbPath(dir).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

}  // namespace
}  // namespace liaison::cli
