#include "server/store_copy.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "server/store_url.h"
#include "storage/hub_settings.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace liaison::server {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1'700'000'000'000'000;

// Fills `store` with a small hub touching every table.
void Populate(storage::Store& store) {
  ASSERT_TRUE(store.PutSetting(storage::kCreatedSetting, "2026-11-29T00:00:00Z").ok());
  ASSERT_TRUE(store.PutSetting(storage::kOrgNameSetting, "Copy Org").ok());
  storage::ApiRoot root;
  root.name = "api";
  root.title = "API";
  ASSERT_TRUE(store.CreateApiRoot(root).ok());
  storage::Collection c;
  c.id = "11111111-1111-4111-8111-111111111111";
  c.api_root = "api";
  c.title = "Default";
  c.alias = "default";
  ASSERT_TRUE(store.CreateCollection(c).ok());
  ASSERT_TRUE(store.PutGrant({c.id, "role:reader", true, false}).ok());
  storage::User user;
  user.name = "alice";
  user.role = storage::Role::kPublisher;
  user.password_hash = "$argon2id$fake";
  user.created = kNow;
  ASSERT_TRUE(store.CreateUser(user).ok());
  storage::ApiKey key;
  key.key_id = "k1";
  key.user = "alice";
  key.secret_hash = "abcd";
  key.created = kNow;
  ASSERT_TRUE(store.CreateApiKey(key).ok());
  storage::Partner partner;
  partner.id = "identity--22222222-2222-4222-8222-222222222222";
  partner.name = "B";
  partner.identity_json = "{}";
  partner.url = "https://b.example/api/";
  partner.inbox = "inbox";
  partner.user = "alice";
  partner.created = kNow;
  ASSERT_TRUE(store.CreatePartner(partner).ok());
  storage::Channel channel;
  channel.id = "33333333-3333-4333-8333-333333333333";
  channel.partner = partner.id;
  channel.collection_id = c.id;
  channel.mode = storage::ChannelMode::kPull;
  channel.remote_collection = "remote";
  channel.created = kNow;
  ASSERT_TRUE(store.CreateChannel(channel).ok());
  ASSERT_TRUE(store.SetChannelCursor(channel.id, "2026-11-29T00:00:00.000000Z").ok());

  for (int batch = 0; batch < 3; ++batch) {
    storage::AddObjectsRequest request;
    request.collection_id = c.id;
    for (int i = 0; i < 5; ++i) {
      storage::NewObject object;
      object.id = "indicator--44444444-4444-4444-8444-44444444444" + std::to_string(i);
      object.type = "indicator";
      object.spec_version = "2.1";
      object.version = kNow + batch;  // three versions of each
      object.json = "{\"id\":\"" + object.id + "\",\"v\":" + std::to_string(batch) + "}";
      object.label.tlp = batch;
      object.label.origin = "identity--self";
      if (i == 0) object.label.recipients = {partner.id};
      object.outbox_partners = {partner.id};
      request.objects.push_back(object);
    }
    storage::AuditRecord audit;
    audit.kind = "publish";
    audit.actor = "alice";
    audit.detail = "{}";
    request.audit.push_back(audit);
    request.status.id = "55555555-5555-4555-8555-55555555555" + std::to_string(batch);
    request.status.api_root = "api";
    request.status.owner = "alice";
    request.status.request_timestamp = kNow;
    request.status.total_count = 5;
    Result<storage::AddObjectsResult> added = store.AddObjects(request, kNow + batch);
    ASSERT_TRUE(added.ok()) << added.status().message();
  }
  Result<std::vector<storage::OutboxRow>> claimed =
      store.ClaimOutbox(partner.id, 4, kNow, 60'000'000);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 4u);
  ASSERT_TRUE(store.MarkOutboxDelivered({(*claimed)[0].seq, (*claimed)[1].seq}, kNow + 10).ok());
  ASSERT_TRUE(store.MarkOutboxFailed({(*claimed)[2].seq}, "refused", true, 0, kNow + 11).ok());
}

class StoreCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("liaison_store_copy_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    fs::create_directories(root_ + "/a");
    fs::create_directories(root_ + "/b");
    fs::create_directories(root_ + "/c");
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<storage::Store> Open(const std::string& url) {
    Result<StoreLocation> where = ParseStoreUrl(url, "");
    EXPECT_TRUE(where.ok());
    Result<std::unique_ptr<storage::Store>> store = OpenStore(*where, OpenMode::kCreate);
    EXPECT_TRUE(store.ok()) << store.status().message();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Everything a reader of the Store interface can see, as text, for comparisons.
  std::string Fingerprint(storage::Store& store) {
    std::string out;
    auto roots = store.ListApiRoots();
    EXPECT_TRUE(roots.ok());
    for (const storage::ApiRoot& r : *roots) out += r.name + ";";
    auto collections = store.ListCollections("api");
    EXPECT_TRUE(collections.ok());
    for (const storage::Collection& c : *collections) {
      out += c.id + "/" + c.alias + ";";
      auto grants = store.ListGrants(c.id);
      for (const storage::Grant& g : *grants) out += g.subject + ";";
      storage::ObjectQuery q;
      q.collection_id = c.id;
      q.version_selectors = {storage::VersionSelector::kAll};
      q.limit = 1000;
      auto page = store.QueryObjects(q);
      EXPECT_TRUE(page.ok());
      for (const storage::StoredObject& o : page->objects) {
        out += o.id + "@" + std::to_string(o.version) + "+" + std::to_string(o.date_added) + ":" +
               std::to_string(o.label.tlp) + std::to_string(o.label.recipients.size()) + o.json +
               ";";
      }
    }
    auto partners = store.ListPartners();
    for (const storage::Partner& p : *partners) {
      out += p.id + ";";
      auto channels = store.ListChannels(p.id);
      for (const storage::Channel& ch : *channels) out += ch.id + ch.cursor + ";";
    }
    auto users = store.ListUsers();
    for (const storage::User& u : *users) out += u.name + ";";
    auto keys = store.ListApiKeys("alice");
    for (const storage::ApiKey& k : *keys) out += k.key_id + ";";
    storage::OutboxQuery oq;
    auto outbox = store.ListOutbox(oq);
    EXPECT_TRUE(outbox.ok());
    for (const storage::OutboxRow& r : *outbox) {
      out += std::to_string(r.seq) + "=" + std::to_string(static_cast<int>(r.state)) + r.error +
             std::to_string(r.lease_until) + ";";
    }
    auto events = store.ListEvents(0, 1000);
    for (const storage::HubEvent& e : *events) out += std::to_string(e.seq) + e.kind + ";";
    auto audit = store.ListAudit(0, 1000);
    for (const storage::AuditRecord& a : *audit) out += a.hash + ";";
    Result<storage::StatusResource> status =
        store.GetStatus("api", "55555555-5555-4555-8555-555555555551");
    out += status.ok() ? std::to_string(status->success_count) : "no status";
    if (status.ok()) {
      for (const storage::StatusDetail& d : status->successes) out += d.id + "/" + d.version + ";";
    }
    auto org = store.GetSetting(storage::kOrgNameSetting);
    out += org.ok() ? org->value_or("") : "no setting";
    return out;
  }

  std::string root_;
};

TEST_F(StoreCopyTest, SqliteToSqliteKeepsEverything) {
  std::string from = "sqlite:" + root_ + "/a/hub.db";
  std::string expected;
  {
    std::unique_ptr<storage::Store> source = Open(from);
    ASSERT_NE(source, nullptr);
    Populate(*source);
    if (HasFatalFailure()) return;
    expected = Fingerprint(*source);
  }
  Result<CopyReport> report = CopyHub(from, root_ + "/b");
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->audit_entries, 3);
  EXPECT_FALSE(report->audit_head.empty());
  bool saw_objects = false;
  for (const auto& [table, rows] : report->tables) {
    if (table == "objects") {
      EXPECT_EQ(rows, 15);
      saw_objects = true;
    }
  }
  EXPECT_TRUE(saw_objects);
  std::unique_ptr<storage::Store> copy = Open(root_ + "/b");
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(Fingerprint(*copy), expected);
  // The copy keeps working: new audit records chain on, new outbox seqs follow the old ones.
  ASSERT_TRUE(copy->AppendAudit({{0, kNow, "partner", "hub", "", "{}", "", ""}}, kNow).ok());
  Result<std::vector<storage::AuditRecord>> audit = copy->ListAudit(3, 10);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].seq, 4);
  EXPECT_EQ((*audit)[0].prev_hash, report->audit_head);
}

TEST_F(StoreCopyTest, RefusesNonEmptyTarget) {
  std::string from = "sqlite:" + root_ + "/a/hub.db";
  {
    std::unique_ptr<storage::Store> source = Open(from);
    ASSERT_NE(source, nullptr);
    Populate(*source);
    if (HasFatalFailure()) return;
    std::unique_ptr<storage::Store> target = Open(root_ + "/b");
    ASSERT_NE(target, nullptr);
    // Only a user: still not empty.
    storage::User user;
    user.name = "bob";
    ASSERT_TRUE(target->CreateUser(user).ok());
  }
  Result<CopyReport> report = CopyHub(from, root_ + "/b");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("non-empty"), std::string::npos);
  // Same store on both sides.
  EXPECT_EQ(CopyHub(from, root_ + "/a").status().code(), StatusCode::kInvalidArgument);
  // No hub at the source.
  EXPECT_EQ(CopyHub(root_ + "/c", root_ + "/b").status().code(), StatusCode::kNotFound);
}

TEST_F(StoreCopyTest, DetectsBrokenChainInSource) {
  std::string from = "sqlite:" + root_ + "/a/hub.db";
  {
    std::unique_ptr<storage::Store> source = Open(from);
    ASSERT_NE(source, nullptr);
    Populate(*source);
    if (HasFatalFailure()) return;
  }
  // Tamper with an audit record behind the store's back.
  {
    Result<std::unique_ptr<storage::sqlite::SqliteStore>> raw =
        storage::sqlite::SqliteStore::Open(root_ + "/a/hub.db");
    ASSERT_TRUE(raw.ok());
  }
  ASSERT_EQ(
      std::system(("sqlite3 " + root_ +
                   "/a/hub.db \"UPDATE audit SET actor = 'mallory' WHERE seq = 2\" 2>/dev/null")
                      .c_str()),
      0)
      << "needs the sqlite3 command";
  Result<CopyReport> report = CopyHub(from, root_ + "/b");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(report.status().message().find("audit chain"), std::string::npos)
      << report.status().message();
}

// SQLite -> PostgreSQL -> SQLite, when a database is available (LIAISON_TEST_PG_DSN).
TEST_F(StoreCopyTest, SqliteToPostgresAndBack) {
  const char* dsn = std::getenv("LIAISON_TEST_PG_DSN");
  if (dsn == nullptr || *dsn == '\0') GTEST_SKIP() << "LIAISON_TEST_PG_DSN not set";
  // A schema of its own in the test database.
  const std::string schema = "copytest_" + std::to_string(::getpid());
  std::string pg_url = dsn;
  pg_url += (pg_url.find('?') == std::string::npos ? "?" : "&");
  pg_url += "schema=" + schema;
  std::string from = "sqlite:" + root_ + "/a/hub.db";
  std::string expected;
  {
    std::unique_ptr<storage::Store> source = Open(from);
    ASSERT_NE(source, nullptr);
    Populate(*source);
    if (HasFatalFailure()) return;
    expected = Fingerprint(*source);
  }
  Result<CopyReport> there = CopyHub(from, pg_url);
  ASSERT_TRUE(there.ok()) << there.status().message();
  {
    std::unique_ptr<storage::Store> pg = Open(pg_url);
    ASSERT_NE(pg, nullptr);
    EXPECT_EQ(Fingerprint(*pg), expected);
  }
  // Not again into the same (now full) schema.
  EXPECT_EQ(CopyHub(from, pg_url).status().code(), StatusCode::kFailedPrecondition);
  Result<CopyReport> back = CopyHub(pg_url, root_ + "/c");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->audit_head, there->audit_head);
  {
    std::unique_ptr<storage::Store> copy = Open(root_ + "/c");
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(Fingerprint(*copy), expected);
  }
  // The PostgreSQL copy keeps appending to the same chain.
  {
    std::unique_ptr<storage::Store> pg = Open(pg_url);
    ASSERT_TRUE(pg->AppendAudit({{0, kNow, "partner", "hub", "", "{}", "", ""}}, kNow).ok());
    Result<std::vector<storage::AuditRecord>> audit = pg->ListAudit(3, 10);
    ASSERT_TRUE(audit.ok());
    ASSERT_EQ(audit->size(), 1u);
    EXPECT_EQ((*audit)[0].prev_hash, there->audit_head);
    auto* raw = dynamic_cast<storage::postgres::PostgresStore*>(pg.get());
    ASSERT_NE(raw, nullptr);
    EXPECT_TRUE(raw->DropSchema().ok());
  }
}

}  // namespace
}  // namespace liaison::server
