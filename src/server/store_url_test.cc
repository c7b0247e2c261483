#include "server/store_url.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

#include <gtest/gtest.h>

#include "storage/hub_settings.h"
#include "storage/memory/memory_store.h"
#include "storage/postgres/postgres_store.h"

namespace liaison::server {
namespace {

namespace fs = std::filesystem;

class StoreUrlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("liaison_store_url_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

TEST_F(StoreUrlTest, EmptyStoreMeansSqliteInDataDir) {
  Result<StoreLocation> where = ParseStoreUrl("", "/var/hub");
  ASSERT_TRUE(where.ok()) << where.status().message();
  EXPECT_EQ(where->kind, StoreKind::kSqlite);
  EXPECT_EQ(where->target, "/var/hub/hub.db");
}

TEST_F(StoreUrlTest, NeitherDataNorStoreIsAnError) {
  Result<StoreLocation> where = ParseStoreUrl("", "");
  ASSERT_FALSE(where.ok());
  EXPECT_EQ(where.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(where.status().message().find("--store"), std::string::npos);
}

TEST_F(StoreUrlTest, PostgresSchemesSelectPostgres) {
  for (const char* url : {"postgresql://liaison@db:5432/hub", "postgres://u@h/d"}) {
    Result<StoreLocation> where = ParseStoreUrl(url, "");
    ASSERT_TRUE(where.ok()) << url;
    EXPECT_EQ(where->kind, StoreKind::kPostgres);
    EXPECT_EQ(where->target, url);
  }
}

TEST_F(StoreUrlTest, SchemaParameterIsTakenOutOfTheUrl) {
  Result<StoreLocation> where =
      ParseStoreUrl("postgresql://u@h/d?sslmode=require&schema=hub_a&connect_timeout=3", "");
  ASSERT_TRUE(where.ok());
  EXPECT_EQ(where->schema, "hub_a");
  EXPECT_EQ(where->target, "postgresql://u@h/d?sslmode=require&connect_timeout=3");
  Result<StoreLocation> only = ParseStoreUrl("postgresql://u@h/d?schema=b", "");
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->schema, "b");
  EXPECT_EQ(only->target, "postgresql://u@h/d");
  Result<StoreLocation> plain = ParseStoreUrl("postgresql://u@h/d", "");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->schema, "public");
  EXPECT_EQ(ParseStoreUrl("postgresql://u@h/d?schema=", "").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(StoreUrlTest, PasswordsAreRedactedForDisplay) {
  Result<StoreLocation> where = ParseStoreUrl("postgresql://liaison:s3cret@db:5432/hub", "");
  ASSERT_TRUE(where.ok());
  EXPECT_EQ(where->target, "postgresql://liaison:s3cret@db:5432/hub");
  EXPECT_EQ(where->display, "postgresql://liaison:***@db:5432/hub");
  EXPECT_EQ(RedactStoreUrl("postgresql://u@h/d?sslmode=require&password=abc&x=1"),
            "postgresql://u@h/d?sslmode=require&password=***&x=1");
  EXPECT_EQ(RedactStoreUrl("postgresql://u@h/d"), "postgresql://u@h/d");
}

TEST_F(StoreUrlTest, SqlitePrefixAndPlainPaths) {
  Result<StoreLocation> file = ParseStoreUrl("sqlite:" + root_ + "/x.db", "/ignored");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->kind, StoreKind::kSqlite);
  EXPECT_EQ(file->target, root_ + "/x.db");
  // A directory means its hub.db.
  Result<StoreLocation> dir = ParseStoreUrl(root_, "");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->target, (fs::path(root_) / "hub.db").string());
  Result<StoreLocation> url_style = ParseStoreUrl("sqlite://" + root_, "");
  ASSERT_TRUE(url_style.ok());
  EXPECT_EQ(url_style->target, (fs::path(root_) / "hub.db").string());
}

TEST_F(StoreUrlTest, BadFormsAreRejected) {
  EXPECT_EQ(ParseStoreUrl("sqlite:", "").status().code(), StatusCode::kInvalidArgument);
  Result<StoreLocation> mysql = ParseStoreUrl("mysql://root:pw@db/x", "");
  ASSERT_FALSE(mysql.ok());
  EXPECT_EQ(mysql.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(mysql.status().message().find("pw"), std::string::npos) << "password leaked";
}

TEST_F(StoreUrlTest, OpenExistingRefusesMissingOrUninitialisedHub) {
  Result<StoreLocation> where = ParseStoreUrl("", root_);
  ASSERT_TRUE(where.ok());
  Result<std::unique_ptr<storage::Store>> missing = OpenStore(*where, OpenMode::kExisting);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(where->target)) << "kExisting must not create the file";

  {
    Result<std::unique_ptr<storage::Store>> created = OpenStore(*where, OpenMode::kCreate);
    ASSERT_TRUE(created.ok()) << created.status().message();
    Result<bool> empty = StoreIsEmpty(**created);
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(*empty);
  }
  // The file exists but holds no hub.
  Result<std::unique_ptr<storage::Store>> blank = OpenStore(*where, OpenMode::kExisting);
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.status().code(), StatusCode::kNotFound);

  {
    Result<std::unique_ptr<storage::Store>> created = OpenStore(*where, OpenMode::kCreate);
    ASSERT_TRUE(created.ok());
    ASSERT_TRUE((*created)->PutSetting(storage::kCreatedSetting, "2026-01-01T00:00:00Z").ok());
    Result<bool> empty = StoreIsEmpty(**created);
    ASSERT_TRUE(empty.ok());
    EXPECT_FALSE(*empty);
  }
  Result<std::unique_ptr<storage::Store>> hub = OpenStore(*where, OpenMode::kExisting);
  EXPECT_TRUE(hub.ok()) << hub.status().message();
}

TEST_F(StoreUrlTest, UnreachablePostgresFailsQuicklyWithUnavailable) {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  Result<StoreLocation> where = ParseStoreUrl("postgresql://nobody:pw@127.0.0.1:1/none", "");
  ASSERT_TRUE(where.ok());
  Result<std::unique_ptr<storage::Store>> store = OpenStore(*where, OpenMode::kExisting);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store.status().message().find(":pw@"), std::string::npos) << "password leaked";
}

TEST_F(StoreUrlTest, SqliteHasNoListener) {
  std::unique_ptr<storage::memory::MemoryStore> memory = storage::memory::MemoryStore::Create();
  Result<std::unique_ptr<StoreListener>> listener = ListenForChanges(*memory, [] {});
  ASSERT_TRUE(listener.ok());
  EXPECT_EQ(*listener, nullptr);
}

// Two nodes on one database: a write through one store wakes the other's listener
// (LISTEN/NOTIFY), which is what makes event streams and pushers on every node see every write.
TEST_F(StoreUrlTest, PostgresWriteOnOneNodeWakesTheOther) {
  const char* dsn = std::getenv("LIAISON_TEST_PG_DSN");
  if (dsn == nullptr || *dsn == '\0') GTEST_SKIP() << "LIAISON_TEST_PG_DSN not set";
  std::string url = dsn;
  url += (url.find('?') == std::string::npos ? "?" : "&");
  url += "schema=listentest_" + std::to_string(::getpid());
  Result<StoreLocation> where = ParseStoreUrl(url, "");
  ASSERT_TRUE(where.ok());
  Result<std::unique_ptr<storage::Store>> node1 = OpenStore(*where, OpenMode::kCreate);
  ASSERT_TRUE(node1.ok()) << node1.status().message();
  Result<std::unique_ptr<storage::Store>> node2 = OpenStore(*where, OpenMode::kCreate);
  ASSERT_TRUE(node2.ok()) << node2.status().message();

  std::mutex mu;
  std::condition_variable cv;
  int wakes = 0;
  Result<std::unique_ptr<StoreListener>> listener = ListenForChanges(**node1, [&] {
    std::lock_guard<std::mutex> lock(mu);
    ++wakes;
    cv.notify_all();
  });
  ASSERT_TRUE(listener.ok()) << listener.status().message();
  ASSERT_NE(*listener, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu);
    wakes = 0;  // a wake at connection time is allowed; count the ones after the write
  }

  storage::ApiRoot root;
  root.name = "api";
  ASSERT_TRUE((*node2)->CreateApiRoot(root).ok());
  storage::Collection c;
  c.id = "11111111-1111-4111-8111-111111111111";
  c.api_root = "api";
  ASSERT_TRUE((*node2)->CreateCollection(c).ok());
  storage::AddObjectsRequest request;
  request.collection_id = c.id;
  storage::NewObject object;
  object.id = "indicator--44444444-4444-4444-8444-444444444444";
  object.type = "indicator";
  object.spec_version = "2.1";
  object.version = 1'700'000'000'000'000;
  object.json = "{}";
  request.objects.push_back(object);
  request.status.id = "55555555-5555-4555-8555-555555555555";
  request.status.api_root = "api";
  request.status.total_count = 1;
  ASSERT_TRUE((*node2)->AddObjects(request, 1'700'000'000'000'000).ok());

  {
    std::unique_lock<std::mutex> lock(mu);
    // Generous bound: only guards against hanging forever if NOTIFY never arrives.
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return wakes > 0; });
    EXPECT_GT(wakes, 0) << "node 1 did not hear node 2's commit";
  }
  Result<int64_t> last = (*node1)->LastEventSeq();
  ASSERT_TRUE(last.ok());
  EXPECT_GE(*last, 1);
  listener->reset();
  auto* pg = dynamic_cast<storage::postgres::PostgresStore*>(node1->get());
  ASSERT_NE(pg, nullptr);
  EXPECT_TRUE(pg->DropSchema().ok());
}

}  // namespace
}  // namespace liaison::server
