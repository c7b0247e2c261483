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

  Mutex mu_;
  std::map<std::string, std::string> settings_ GUARDED_BY(mu_);
  std::vector<ApiRoot> api_roots_ GUARDED_BY(mu_);                               // creation order
  std::vector<std::unique_ptr<CollectionState>> collections_ GUARDED_BY(mu_);    // creation order
  std::map<std::pair<std::string, std::string>, Grant> grants_ GUARDED_BY(mu_);  // (coll, subject)
  std::map<std::string, User> users_ GUARDED_BY(mu_);
  std::map<std::string, ApiKey> api_keys_ GUARDED_BY(mu_);
  std::unordered_map<std::string, StatusResource> statuses_ GUARDED_BY(mu_);
};

}  // namespace liaison::storage::memory
