#include "audit/chain.h"

#include <functional>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "storage/memory/memory_store.h"
#include "storage/store_wrapper.h"

namespace liaison::audit {
namespace {

constexpr int64_t kT0 = 1700000000000000;

// Shows the chain of a real store with an attacker's edits applied on the way out: entries
// altered, removed, or the newest ones cut off. The store itself is untouched.
class TamperedStore : public storage::StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;

  std::map<int64_t, std::function<void(storage::AuditRecord&)>> alter;
  std::set<int64_t> drop;
  int64_t truncate_after = 0;  // 0: keep every entry

  Result<std::vector<storage::AuditRecord>> ListAudit(int64_t after_seq, size_t limit) override {
    ASSIGN_OR_RETURN(std::vector<storage::AuditRecord> page,
                     StoreWrapper::ListAudit(after_seq, limit));
    std::vector<storage::AuditRecord> out;
    for (storage::AuditRecord& r : page) {
      if (truncate_after > 0 && r.seq > truncate_after) break;
      if (drop.count(r.seq) > 0) continue;
      auto edit = alter.find(r.seq);
      if (edit != alter.end()) edit->second(r);
      out.push_back(std::move(r));
    }
    return out;
  }
};

storage::AuditRecord Entry(const std::string& kind, const std::string& subject) {
  storage::AuditRecord r;
  r.kind = kind;
  r.actor = "alice";
  r.subject = subject;
  r.detail = "{\"tlp\":\"amber\"}";
  return r;
}

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<storage::AuditRecord> batch;
    for (int i = 1; i <= 2500; ++i) {  // more than one ListAudit page of VerifyChain
      batch.push_back(Entry(i % 2 ? "publish" : "read-red", "report--" + std::to_string(i)));
    }
    auto appended = store_->AppendAudit(batch, kT0);
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    head_ = appended->back();
  }

  Status Verify(const std::string& expect_head = "") {
    return VerifyChain(tampered_, expect_head).status();
  }

  std::unique_ptr<storage::memory::MemoryStore> store_ = storage::memory::MemoryStore::Create();
  TamperedStore tampered_{*store_};
  storage::AuditRecord head_;
};

TEST(ChainHash, CoversEveryFieldAndIsLengthPrefixed) {
  storage::AuditRecord r = Entry("publish", "report--1");
  r.seq = 1;
  r.time = kT0;
  const std::string h = ChainHash(r);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(ChainHash(r), h);  // deterministic
  std::vector<std::function<void(storage::AuditRecord&)>> edits = {
      [](auto& x) { x.seq = 2; },          [](auto& x) { x.time += 1; },
      [](auto& x) { x.kind = "receive"; }, [](auto& x) { x.actor = "bob"; },
      [](auto& x) { x.subject += "x"; },   [](auto& x) { x.detail = "{}"; },
      [](auto& x) { x.prev_hash = "00"; },
  };
  for (auto& edit : edits) {
    storage::AuditRecord changed = r;
    edit(changed);
    EXPECT_NE(ChainHash(changed), h);
  }
  // Moving bytes between adjacent fields changes the hash ("ab"+"c" vs "a"+"bc").
  storage::AuditRecord a = r;
  a.actor = "ab";
  a.subject = "c";
  storage::AuditRecord b = r;
  b.actor = "a";
  b.subject = "bc";
  EXPECT_NE(ChainHash(a), ChainHash(b));
  // The hash field itself is not an input.
  storage::AuditRecord with_hash = r;
  with_hash.hash = "ff";
  EXPECT_EQ(ChainHash(with_hash), h);
}

TEST_F(ChainTest, IntactChainVerifies) {
  auto report = VerifyChain(tampered_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entries, 2500);
  EXPECT_EQ(report->last_seq, 2500);
  EXPECT_EQ(report->last_hash, head_.hash);
  EXPECT_TRUE(Verify("2500:" + head_.hash).ok());
  EXPECT_TRUE(Verify("1200:" + store_->ListAudit(1199, 1)->front().hash).ok());
}

TEST_F(ChainTest, EmptyChainVerifiesButNotAgainstAHead) {
  auto empty = storage::memory::MemoryStore::Create();
  auto report = VerifyChain(*empty);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->entries, 0);
  EXPECT_EQ(VerifyChain(*empty, "1:" + head_.hash).status().code(), StatusCode::kDataLoss);
}

TEST_F(ChainTest, AlteredFieldIsDetected) {
  tampered_.alter[1700] = [](storage::AuditRecord& r) { r.actor = "mallory"; };
  Status s = Verify();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("1700"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("altered"), std::string::npos) << s.ToString();
}

TEST_F(ChainTest, AlteredEntryWithRecomputedHashBreaksTheNextLink) {
  tampered_.alter[42] = [](storage::AuditRecord& r) {
    r.detail = "{\"tlp\":\"clear\"}";
    r.hash = ChainHash(r);
  };
  Status s = Verify();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("43"), std::string::npos) << s.ToString();
}

TEST_F(ChainTest, DeletedMiddleEntryIsDetected) {
  tampered_.drop.insert(1000);
  Status s = Verify();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("1000"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.ToString();
}

TEST_F(ChainTest, DeletedAndRenumberedEntriesAreDetected) {
  // The attacker removes entry 10 and renumbers the rest: the links no longer match.
  tampered_.drop.insert(10);
  for (int64_t seq = 11; seq <= 2500; ++seq) {
    tampered_.alter[seq] = [](storage::AuditRecord& r) { --r.seq; };
  }
  EXPECT_EQ(Verify().code(), StatusCode::kDataLoss);
}

TEST_F(ChainTest, DeletedNewestEntriesAreDetectedWithTheExpectedHead) {
  tampered_.truncate_after = 2490;
  // Without a remembered head, a cut-off chain is still a valid chain...
  EXPECT_TRUE(Verify().ok());
  // ...but not one that contains the head a previous verify printed.
  Status s = Verify("2500:" + head_.hash);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("newest entries removed"), std::string::npos) << s.ToString();
}

TEST_F(ChainTest, RewrittenChainDiffersFromTheExpectedHead) {
  // A consistent forgery from entry 2400 on (every hash recomputed) still misses the old head.
  std::string prev;
  auto all = store_->ListAudit(0, 5000);
  ASSERT_TRUE(all.ok());
  std::map<int64_t, storage::AuditRecord> forged;
  for (storage::AuditRecord r : *all) {
    if (r.seq >= 2400) {
      r.prev_hash = prev;
      r.detail = "{}";
      r.hash = ChainHash(r);
    }
    prev = r.hash;
    forged[r.seq] = r;
  }
  for (const auto& [seq, r] : forged) {
    tampered_.alter[seq] = [rec = r](storage::AuditRecord& x) { x = rec; };
  }
  EXPECT_TRUE(Verify().ok());  // internally consistent
  Status s = Verify("2500:" + head_.hash);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("expected head"), std::string::npos) << s.ToString();
}

TEST_F(ChainTest, MalformedExpectedHeadIsInvalidArgument) {
  EXPECT_EQ(Verify("no-colon").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Verify(":abc").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Verify("x:abc").code(), StatusCode::kInvalidArgument);
}

TEST_F(ChainTest, StoreErrorsPassThrough) {
  class Failing : public storage::StoreWrapper {
   public:
    using StoreWrapper::StoreWrapper;
    Result<std::vector<storage::AuditRecord>> ListAudit(int64_t, size_t) override {
      return UnavailableError("database is locked");
    }
  };
  Failing failing(*store_);
  EXPECT_EQ(VerifyChain(failing).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace liaison::audit
