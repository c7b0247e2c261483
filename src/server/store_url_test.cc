#include "server/store_url.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "storage/hub_settings.h"
#include "storage/memory/memory_store.h"

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

}  // namespace
}  // namespace liaison::server
