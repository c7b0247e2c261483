#pragma once

// MemoryStore: a complete in-memory Store, for tests and tools that need no persistence. It obeys
// every clause of the Store contract (storage/store.h) except durability: nothing survives the
// process. It passes the conformance suite (storage/store_conformance.h).
//
//   std::unique_ptr<storage::memory::MemoryStore> store = storage::memory::MemoryStore::Create();
//   RETURN_IF_ERROR(store->CreateApiRoot(root));
//
// Thread-safe: one mutex guards all state, so calls are serialised. Queries scan the collection in
// date_added order (fine for a fake; the SQLite backend is the one with page-sized costs).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "storage/store.h"

namespace liaison::storage::memory {

class MemoryStore final : public Store {
 public:
  // An empty store. Never fails.
  static std::unique_ptr<MemoryStore> Create();

  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;
  ~MemoryStore() override = default;

  Result<std::optional<std::string>> GetSetting(const std::string& key) override;
  Status PutSetting(const std::string& key, const std::string& value) override;

  Status CreateApiRoot(const ApiRoot& root) override;
  Result<std::vector<ApiRoot>> ListApiRoots() override;
  Result<ApiRoot> GetApiRoot(const std::string& name) override;

  Status CreateCollection(const Collection& collection) override;
  Result<std::vector<Collection>> ListCollections(const std::string& api_root) override;
  Result<Collection> GetCollection(const std::string& api_root,
                                   const std::string& id_or_alias) override;
  Status DeleteCollection(const std::string& api_root, const std::string& id) override;

  Status PutGrant(const Grant& grant) override;
  Status DeleteGrant(const std::string& collection_id, const std::string& subject) override;
  Result<std::vector<Grant>> ListGrants(const std::string& collection_id) override;

  Status CreateUser(const User& user) override;
  Status UpdateUser(const User& user) override;
  Result<User> GetUser(const std::string& name) override;
  Result<std::vector<User>> ListUsers() override;

  Status CreateApiKey(const ApiKey& key) override;
  Result<ApiKey> FindApiKey(const std::string& key_id) override;
  Result<std::vector<ApiKey>> ListApiKeys(const std::string& user) override;
  Status RevokeApiKey(const std::string& key_id) override;

  Result<AddObjectsResult> AddObjects(const AddObjectsRequest& request,
                                      int64_t now_micros) override;
  Result<ObjectPage> QueryObjects(const ObjectQuery& query) override;
  Result<ObjectPage> QueryVersions(const ObjectQuery& query, const std::string& id) override;
  Result<int64_t> DeleteObject(const ObjectQuery& query, const std::string& id) override;

  Result<StatusResource> GetStatus(const std::string& api_root,
                                   const std::string& status_id) override;
  Result<int64_t> CountObjects(const std::string& collection_id) override;

  Result<std::vector<StoredObject>> LookupObjects(const std::vector<std::string>& ids) override;
  Result<StoredObject> GetObjectVersion(const std::string& collection_id, const std::string& id,
                                        int64_t version) override;
  Result<std::vector<StoredObject>> GetObjectVersions(const std::string& collection_id,
                                                      const std::vector<ObjectVersionKey>& keys,
                                                      bool metadata_only) override;

  Result<std::vector<AuditRecord>> AppendAudit(const std::vector<AuditRecord>& records,
                                               int64_t now_micros) override;
  Result<std::vector<AuditRecord>> ListAudit(int64_t after_seq, size_t limit) override;

  Result<std::vector<HubEvent>> ListEvents(int64_t after_seq, size_t limit) override;
  Result<int64_t> LastEventSeq() override;

  Status CreatePartner(const Partner& partner) override;
  Status UpdatePartner(const Partner& partner) override;
  Result<Partner> GetPartner(const std::string& id) override;
  Result<std::vector<Partner>> ListPartners() override;
  Status DeletePartner(const std::string& id) override;

  Status CreateChannel(const Channel& channel) override;
  Result<std::vector<Channel>> ListChannels(const std::string& partner) override;
  Status DeleteChannel(const std::string& id) override;
  Status SetChannelCursor(const std::string& id, const std::string& cursor) override;

  Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& partner, size_t limit,
                                             int64_t now_micros, int64_t lease_micros) override;
  Status MarkOutboxDelivered(const std::vector<int64_t>& seqs, int64_t now_micros) override;
  Status MarkOutboxFailed(const std::vector<int64_t>& seqs, const std::string& error,
                          bool permanent, int64_t next_attempt, int64_t now_micros) override;
  Result<std::vector<OutboxRow>> ListOutbox(const OutboxQuery& query) override;
  Result<std::vector<std::string>> PartnersWithQueuedOutbox() override;

  Result<std::vector<FeedbackRecord>> ListFeedback(const std::string& about_id) override;

 private:
  struct VersionRow {
    StoredObject object;
    bool has_version = false;  // false: an object without modified/created, versioned by date_added
  };
  struct CollectionState {
    Collection meta;
    int64_t last_date_added = 0;            // never decreases, even when objects are deleted
    std::map<int64_t, VersionRow> by_date;  // date_added -> version
    // id -> (version -> date_added)
    std::unordered_map<std::string, std::map<int64_t, int64_t>> by_id;
  };

  MemoryStore() = default;

  CollectionState* FindCollection(const std::string& id) REQUIRES(mu_);
  // Whether `row` is chosen by the query's spec_version and version filters (`default_last`: what
  // empty version filters mean: kLast for queries, every version for DeleteObject).
  bool VersionSelected(const CollectionState& c, const VersionRow& row, const ObjectQuery& query,
                       bool default_last) const REQUIRES(mu_);
  // The newest (last=true) or oldest version of `id` among those matching `spec_versions`.
  std::optional<int64_t> ExtremeVersion(const CollectionState& c, const std::string& id,
                                        const std::vector<std::string>& spec_versions,
                                        bool last) const REQUIRES(mu_);
  static StoredObject Project(const StoredObject& object, bool metadata_only);
  // The newest version (highest version, then latest date_added) of `id` in any collection.
  const StoredObject* Newest(const std::string& id) const REQUIRES(mu_);
  // Appends records to the chain (seq, prev_hash, hash assigned); returns them as stored.
  std::vector<AuditRecord> AppendAuditLocked(const std::vector<AuditRecord>& records,
                                             int64_t now_micros) REQUIRES(mu_);
  void AppendEvent(HubEvent event) REQUIRES(mu_);
  // A receipt event for `row`'s current state.
  void AppendReceipt(const OutboxRow& row, int64_t now_micros) REQUIRES(mu_);

  Mutex mu_;
  std::map<std::string, std::string> settings_ GUARDED_BY(mu_);
  std::vector<ApiRoot> api_roots_ GUARDED_BY(mu_);                               // creation order
  std::vector<std::unique_ptr<CollectionState>> collections_ GUARDED_BY(mu_);    // creation order
  std::map<std::pair<std::string, std::string>, Grant> grants_ GUARDED_BY(mu_);  // (coll, subject)
  std::map<std::string, User> users_ GUARDED_BY(mu_);
  std::map<std::string, ApiKey> api_keys_ GUARDED_BY(mu_);
  std::unordered_map<std::string, StatusResource> statuses_ GUARDED_BY(mu_);
  std::vector<AuditRecord> audit_ GUARDED_BY(mu_);  // seq i+1 at index i
  std::vector<HubEvent> events_ GUARDED_BY(mu_);    // seq order
  int64_t last_event_seq_ GUARDED_BY(mu_) = 0;
  std::map<std::string, Partner> partners_ GUARDED_BY(mu_);
  std::vector<Channel> channels_ GUARDED_BY(mu_);        // creation order
  std::map<int64_t, OutboxRow> outbox_ GUARDED_BY(mu_);  // by seq
  int64_t last_outbox_seq_ GUARDED_BY(mu_) = 0;
  std::vector<FeedbackRecord> feedback_ GUARDED_BY(mu_);  // received order
};

}  // namespace liaison::storage::memory
