#include "storage/sqlite/sqlite_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "audit/chain.h"
#include "storage/sqlite/sqlite_schema.h"
#include "storage/store_conformance.h"
#include "storage/store_wrapper.h"

namespace liaison::storage::sqlite {
namespace {

constexpr int64_t kT0 = 1700000000000000;

std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "/liaison_sqlite_XXXXXX";
  char* dir = mkdtemp(pattern.data());
  if (dir == nullptr) return "";
  return dir;
}

// A SqliteStore on a fresh file in its own temporary directory, removed with the store.
class TempSqliteStore : public StoreWrapper {
 public:
  TempSqliteStore(std::string dir, std::unique_ptr<SqliteStore> store)
      : StoreWrapper(std::unique_ptr<Store>(std::move(store))), dir_(std::move(dir)) {}
  ~TempSqliteStore() override {
    DestroyTarget();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  std::string dir_;
};

std::unique_ptr<Store> MakeTempStore() {
  std::string dir = MakeTempDir();
  if (dir.empty()) return nullptr;
  auto store = SqliteStore::Open(dir + "/liaison.db");
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::make_unique<TempSqliteStore>(dir, std::move(store).value());
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
                         ::testing::Values(StoreFactory{"Sqlite", MakeTempStore}),
                         StoreFactoryName);

// ---------------------------------------------------------------------------------------------
// SQLite-specific behaviour: files, schema, durability across reopen, several processes.

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/liaison.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static void Populate(Store& store) {
    ApiRoot root;
    root.name = "api1";
    ASSERT_TRUE(store.CreateApiRoot(root).ok());
    Collection c;
    c.id = "c1";
    c.api_root = "api1";
    ASSERT_TRUE(store.CreateCollection(c).ok());
  }

  static Result<AddObjectsResult> AddOne(Store& store, int n, int64_t now) {
    AddObjectsRequest req;
    req.collection_id = "c1";
    NewObject o;
    o.id = "indicator--" + std::to_string(n);
    o.type = "indicator";
    o.spec_version = "2.1";
    o.version = kT0;
    o.json = "{\"id\":\"" + o.id + "\"}";
    req.objects.push_back(o);
    return store.AddObjects(req, now);
  }

  int64_t RawPragma(const std::string& pragma) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db, ("PRAGMA " + pragma).c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, CreatesFileWithWalAndCurrentSchema) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(path_));
  EXPECT_EQ(RawPragma("user_version"), SqliteStore::SchemaVersion());
  EXPECT_GE(SqliteStore::SchemaVersion(), 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, DataAndDateAddedHighWaterMarkSurviveReopen) {
  int64_t last = 0;
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok());
    Populate(**store);
    ASSERT_TRUE((*store)->PutSetting("org", "ACME").ok());
    for (int i = 0; i < 3; ++i) {
      auto r = AddOne(**store, i, kT0 + 1000);
      ASSERT_TRUE(r.ok());
      last = r->last_date_added;
    }
    // Delete the newest object: its date_added must still not be reused after reopening.
    ObjectQuery q;
    q.collection_id = "c1";
    ASSERT_TRUE((*store)->DeleteObject(q, "indicator--2").ok());
  }
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto org = (*store)->GetSetting("org");
  ASSERT_TRUE(org.ok());
  EXPECT_EQ(org->value_or(""), "ACME");
  auto count = (*store)->CountObjects("c1");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
  auto r = AddOne(**store, 9, kT0);  // clock behind
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_date_added, last + 1);
}

TEST_F(SqliteStoreTest, RefusesNewerSchema) {
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  std::string sql = "PRAGMA user_version = " + std::to_string(SqliteStore::SchemaVersion() + 1);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
}

TEST_F(SqliteStoreTest, NotADatabaseIsDataLoss) {
  {
    std::ofstream f(path_, std::ios::binary);
    f << std::string(8192, 'x');
  }
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status().ToString();
}

TEST_F(SqliteStoreTest, UnopenablePathIsFailedPrecondition) {
  auto store = SqliteStore::Open(dir_ + "/no/such/dir/liaison.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
  EXPECT_EQ(SqliteStore::Open("").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, WriteLockedByAnotherProcessIsUnavailable) {
  SqliteStore::Options options;
  options.busy_timeout_ms = 50;
  auto store = SqliteStore::Open(path_, options);
  ASSERT_TRUE(store.ok());
  Populate(**store);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto r = AddOne(**store, 1, kT0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  // Reads still work while another writer holds the lock (WAL).
  auto count = (*store)->CountObjects("c1");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 0);
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE(AddOne(**store, 1, kT0).ok());
}

TEST_F(SqliteStoreTest, TwoStoresOnOneFileKeepDateAddedIncreasing) {
  // Two SqliteStore instances on one file behave like two processes: separate connections and
  // locks. The date_added high-water mark is read inside each write transaction.
  auto a = SqliteStore::Open(path_);
  ASSERT_TRUE(a.ok());
  auto b = SqliteStore::Open(path_);
  ASSERT_TRUE(b.ok());
  Populate(**a);
  std::vector<std::thread> threads;
  for (Store* s : {static_cast<Store*>(a->get()), static_cast<Store*>(b->get())}) {
    threads.emplace_back([s, offset = threads.size()] {
      for (int i = 0; i < 100; ++i) {
        auto r = AddOne(*s, static_cast<int>(offset * 1000 + i), kT0);  // a stalled clock
        EXPECT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  ObjectQuery q;
  q.collection_id = "c1";
  q.limit = 7;
  std::set<std::string> ids;
  int64_t previous = 0;
  while (true) {
    auto page = (*b)->QueryObjects(q);
    ASSERT_TRUE(page.ok());
    for (const StoredObject& o : page->objects) {
      EXPECT_GT(o.date_added, previous);
      previous = o.date_added;
      EXPECT_TRUE(ids.insert(o.id).second);
    }
    if (!page->more) break;
    q.added_after = previous;
  }
  EXPECT_EQ(ids.size(), 200u);
}

TEST_F(SqliteStoreTest, PointAndBulkReadersBothSeeEveryCommitAsTheFileGrows) {
  // Point reads (a few ids) and bulk reads (a page of many rows, from a memory-mapped file) run
  // on separate reader connections; one of each at most here. After every commit both must see
  // it, also once the file has grown past what a bulk reader had mapped.
  SqliteStore::Options options;
  options.max_readers = 1;
  auto store = SqliteStore::Open(path_, options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Populate(**store);
  const std::string padding(4000, 'x');  // a few objects a page: the file grows with each batch
  int n = 0;
  for (int round = 1; round <= 30; ++round) {
    AddObjectsRequest req;
    req.collection_id = "c1";
    for (int i = 0; i < 20; ++i, ++n) {
      NewObject o;
      o.id = "indicator--" + std::to_string(n);
      o.type = "indicator";
      o.spec_version = "2.1";
      o.version = kT0;
      o.json = "{\"id\":\"" + o.id + "\",\"pad\":\"" + padding + "\"}";
      req.objects.push_back(o);
    }
    ASSERT_TRUE((*store)->AddObjects(req, kT0 + round).ok());

    ObjectQuery bulk;
    bulk.collection_id = "c1";
    bulk.limit = 1000;
    auto page = (*store)->QueryObjects(bulk);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_EQ(page->objects.size(), static_cast<size_t>(n)) << "round " << round;
    EXPECT_EQ(page->objects.back().id, "indicator--" + std::to_string(n - 1));
    EXPECT_NE(page->objects.back().json.find(padding), std::string::npos);

    ObjectQuery point;
    point.collection_id = "c1";
    point.ids = {"indicator--" + std::to_string(n - 1), "indicator--0"};
    auto found = (*store)->QueryObjects(point);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_EQ(found->objects.size(), 2u) << "round " << round;
  }
}

TEST_F(SqliteStoreTest, AcknowledgedWritesSurviveKill9) {
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok());
    Populate(**store);
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child writes batches forever and reports each one acknowledged; the parent kills it.
    close(fds[0]);
    auto store = SqliteStore::Open(path_);
    if (!store.ok()) _exit(2);
    for (int batch = 0;; ++batch) {
      AddObjectsRequest req;
      req.collection_id = "c1";
      for (int i = 0; i < 10; ++i) {
        NewObject o;
        o.id = "indicator--" + std::to_string(batch * 10 + i);
        o.type = "indicator";
        o.spec_version = "2.1";
        o.version = kT0;
        o.json = "{\"id\":\"" + o.id + "\"}";
        req.objects.push_back(o);
      }
      req.status.id = "status-" + std::to_string(batch);
      req.status.api_root = "api1";
      if (!(*store)->AddObjects(req, kT0).ok()) _exit(3);
      if (write(fds[1], &batch, sizeof(batch)) != sizeof(batch)) _exit(4);
    }
  }
  close(fds[1]);
  int acknowledged = -1;
  int batch = 0;
  while (acknowledged < 30 && read(fds[0], &batch, sizeof(batch)) == sizeof(batch)) {
    acknowledged = batch;
  }
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  // Drain acknowledgements written before the kill.
  while (read(fds[0], &batch, sizeof(batch)) == sizeof(batch)) acknowledged = batch;
  close(fds[0]);
  ASSERT_GE(acknowledged, 30);

  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto count = (*store)->CountObjects("c1");
  ASSERT_TRUE(count.ok());
  EXPECT_GE(*count, (acknowledged + 1) * 10);
  EXPECT_EQ(*count % 10, 0);  // whole batches only
  for (int b = 0; b <= acknowledged; ++b) {
    auto status = (*store)->GetStatus("api1", "status-" + std::to_string(b));
    ASSERT_TRUE(status.ok()) << "batch " << b << ": " << status.status().ToString();
    EXPECT_EQ(status->success_count, 10);
  }
  ObjectQuery q;
  q.collection_id = "c1";
  q.ids = {"indicator--" + std::to_string(acknowledged * 10 + 9)};
  auto page = (*store)->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects.size(), 1u);
}

TEST_F(SqliteStoreTest, ConcurrentOpensOfANewFileBothSucceed) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto s = SqliteStore::Open(path_);
      if (s.ok()) {
        ++ok;
      } else {
        ADD_FAILURE() << s.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(RawPragma("user_version"), SqliteStore::SchemaVersion());
}

// ---------------------------------------------------------------------------------------------
// Schema 2 (issue 4)

TEST_F(SqliteStoreTest, UpgradesASchema1FileInPlace) {
  // A database as the previous release left it: schema 1 with a user and an object.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    std::string v1(Migrations()[0]);
    v1 +=
        "PRAGMA user_version = 1;"
        "INSERT INTO api_roots(name, title, description, max_content_length) "
        "  VALUES ('api1', '', '', 1000);"
        "INSERT INTO collections(id, api_root, title, description, alias, media_types, "
        "  last_date_added) VALUES ('c1', 'api1', '', '', '', '', 1700000000000001);"
        "INSERT INTO users(name, role, password_hash, disabled, created) "
        "  VALUES ('alice', 'admin', 'h', 0, 5);"
        "INSERT INTO objects(coll, date_added, id, type, spec_version, version, has_version, "
        "  is_last, is_first, json) VALUES (1, 1700000000000001, 'indicator--old', 'indicator', "
        "  '2.1', 1700000000000000, 1, 1, 1, '{\"id\":\"indicator--old\"}');";
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_close(db);
  }
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(RawPragma("user_version"), 2);
  EXPECT_EQ(SqliteStore::SchemaVersion(), 2);

  ObjectQuery q;
  q.collection_id = "c1";
  auto page = (*store)->QueryObjects(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  ObjectLabel expected;
  expected.tlp = 2;  // existing objects become TLP:AMBER, local, no recipients
  EXPECT_EQ(page->objects[0].label, expected);
  EXPECT_EQ(page->objects[0].json, "{\"id\":\"indicator--old\"}");
  auto user = (*store)->GetUser("alice");
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->partner, "");
  EXPECT_EQ(user->created, 5);

  // The new tables work on the upgraded file, and date_added continues from the old mark.
  auto added = AddOne(**store, 2, kT0);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->first_date_added, 1700000000000002);
  auto events = (*store)->ListEvents(0, 10);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
  ASSERT_TRUE(
      (*store)->AppendAudit({AuditRecord{0, 0, "upgrade", "hub", "", "{}", "", ""}}, kT0).ok());
  EXPECT_TRUE(audit::VerifyChain(**store).ok());

  // Reopening an upgraded file migrates nothing again.
  store->reset();
  auto again = SqliteStore::Open(path_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto count = (*again)->CountObjects("c1");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
}

TEST_F(SqliteStoreTest, TwoStoresOnOneFileAppendOneAuditChain) {
  auto a = SqliteStore::Open(path_);
  ASSERT_TRUE(a.ok());
  auto b = SqliteStore::Open(path_);
  ASSERT_TRUE(b.ok());
  Populate(**a);
  constexpr int kPerThread = 60;
  std::vector<std::thread> threads;
  int n = 0;
  for (Store* s : {static_cast<Store*>(a->get()), static_cast<Store*>(b->get()),
                   static_cast<Store*>(a->get()), static_cast<Store*>(b->get())}) {
    threads.emplace_back([s, t = n++] {
      for (int i = 0; i < kPerThread; ++i) {
        AuditRecord r;
        r.kind = "read-red";
        r.actor = "t" + std::to_string(t);
        r.subject = std::to_string(i);
        if (i % 3 == 0) {
          AddObjectsRequest req;
          req.collection_id = "c1";
          NewObject o;
          o.id = "indicator--" + std::to_string(t * 1000 + i);
          o.type = "indicator";
          o.spec_version = "2.1";
          o.version = kT0;
          o.json = "{}";
          req.objects.push_back(o);
          req.audit.push_back(r);
          auto added = s->AddObjects(req, kT0 + i);
          EXPECT_TRUE(added.ok()) << added.status().ToString();
        } else {
          auto appended = s->AppendAudit({r}, kT0 + i);
          EXPECT_TRUE(appended.ok()) << appended.status().ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (Store* s : {static_cast<Store*>(a->get()), static_cast<Store*>(b->get())}) {
    auto verified = audit::VerifyChain(*s);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(verified->entries, 4 * kPerThread);
  }
}

TEST_F(SqliteStoreTest, TwoStoresOnOneFileNeverClaimTheSameOutboxRow) {
  auto a = SqliteStore::Open(path_);
  ASSERT_TRUE(a.ok());
  auto b = SqliteStore::Open(path_);
  ASSERT_TRUE(b.ok());
  Populate(**a);
  constexpr int kRows = 300;
  {
    AddObjectsRequest req;
    req.collection_id = "c1";
    for (int i = 0; i < kRows; ++i) {
      NewObject o;
      o.id = "indicator--" + std::to_string(i);
      o.type = "indicator";
      o.spec_version = "2.1";
      o.version = kT0;
      o.json = "{}";
      o.outbox_partners = {"identity--b"};
      req.objects.push_back(o);
    }
    ASSERT_TRUE((*a)->AddObjects(req, kT0).ok());
  }
  // Both stores claim small batches at one instant (so every lease holds) until nothing is left.
  std::mutex mu;
  std::vector<int64_t> claimed;
  std::vector<std::thread> threads;
  for (Store* s : {static_cast<Store*>(a->get()), static_cast<Store*>(b->get())}) {
    threads.emplace_back([&, s] {
      while (true) {
        auto rows = s->ClaimOutbox("identity--b", 7, kT0 + 1, 60000000);
        ASSERT_TRUE(rows.ok()) << rows.status().ToString();
        if (rows->empty()) break;
        std::lock_guard<std::mutex> lock(mu);
        for (const OutboxRow& r : *rows) claimed.push_back(r.seq);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(unique.size(), static_cast<size_t>(kRows));
}

TEST_F(SqliteStoreTest, OutboxSeqsAreNeverReusedAfterDeletingThePartnersRows) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok());
  Populate(**store);
  Partner p;
  p.id = "identity--b";
  ASSERT_TRUE((*store)->CreatePartner(p).ok());
  AddObjectsRequest req;
  req.collection_id = "c1";
  NewObject o;
  o.id = "indicator--1";
  o.type = "indicator";
  o.spec_version = "2.1";
  o.version = kT0;
  o.json = "{}";
  o.outbox_partners = {"identity--b"};
  req.objects.push_back(o);
  ASSERT_TRUE((*store)->AddObjects(req, kT0).ok());
  OutboxQuery q;
  auto before = (*store)->ListOutbox(q);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  ASSERT_TRUE((*store)->DeletePartner("identity--b").ok());  // the queued row goes
  req.objects[0].version = kT0 + 1;
  ASSERT_TRUE((*store)->AddObjects(req, kT0).ok());
  auto after = (*store)->ListOutbox(q);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_GT((*after)[0].seq, (*before)[0].seq);
}

TEST_F(SqliteStoreTest, CorruptRecipientsAreDataLoss) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok());
  Populate(**store);
  ASSERT_TRUE(AddOne(**store, 1, kT0).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE objects SET recipients = 'a\\'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ObjectQuery q;
  q.collection_id = "c1";
  auto page = (*store)->QueryObjects(q);
  EXPECT_EQ(page.status().code(), StatusCode::kDataLoss) << page.status().ToString();
}

TEST_F(SqliteStoreTest, AuditTamperingInTheFileIsDetected) {
  std::string head;
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok());
    std::vector<AuditRecord> batch;
    for (int i = 0; i < 20; ++i) {
      batch.push_back(
          AuditRecord{0, 0, "publish", "alice", "report--" + std::to_string(i), "{}", "", ""});
    }
    auto appended = (*store)->AppendAudit(batch, kT0);
    ASSERT_TRUE(appended.ok());
    head = "20:" + appended->back().hash;
    ASSERT_TRUE(audit::VerifyChain(**store, head).ok());
  }
  auto tamper = [&](const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  };
  auto verify = [&](const std::string& expect_head) {
    auto store = SqliteStore::Open(path_);
    EXPECT_TRUE(store.ok());
    return store.ok() ? audit::VerifyChain(**store, expect_head).status() : store.status();
  };
  tamper("DELETE FROM audit WHERE seq > 18");  // the newest entries
  EXPECT_TRUE(verify("").ok());
  EXPECT_EQ(verify(head).code(), StatusCode::kDataLoss);
  tamper("DELETE FROM audit WHERE seq = 9");  // a middle entry
  EXPECT_EQ(verify("").code(), StatusCode::kDataLoss);
  tamper("UPDATE audit SET seq = seq - 1 WHERE seq > 9");  // renumbered to hide the gap
  EXPECT_EQ(verify("").code(), StatusCode::kDataLoss);
  tamper("UPDATE audit SET actor = 'mallory' WHERE seq = 3");  // an altered field
  Status altered = verify("");
  EXPECT_EQ(altered.code(), StatusCode::kDataLoss);
  EXPECT_NE(altered.message().find("entry 3"), std::string::npos) << altered.ToString();
}

}  // namespace
}  // namespace liaison::storage::sqlite
