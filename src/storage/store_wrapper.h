#pragma once

// StoreWrapper: a Store that forwards every call to another Store (after leveldb's EnvWrapper).
// Subclass it and override the methods to intercept: tests inject faults ("the next AddObjects
// fails with kUnavailable"), count calls, or add latency, without touching the backend.
//
//   class FailingAdds : public StoreWrapper {
//    public:
//     using StoreWrapper::StoreWrapper;
//     Result<AddObjectsResult> AddObjects(const AddObjectsRequest&, int64_t) override {
//       return UnavailableError("injected");
//     }
//   };
//
// Thread safety: as the target's (the wrapper itself has no state besides the target).

#include <memory>
#include <utility>

#include "storage/store.h"

namespace liaison::storage {

class StoreWrapper : public Store {
 public:
  // Forwards to `target`, which must outlive the wrapper.
  explicit StoreWrapper(Store& target) : target_(&target) {}
  // Forwards to `target` and owns it.
  explicit StoreWrapper(std::unique_ptr<Store> target)
      : owned_(std::move(target)), target_(owned_.get()) {}
  ~StoreWrapper() override = default;

  Store* target() const { return target_; }

  Result<std::optional<std::string>> GetSetting(const std::string& key) override {
    return target_->GetSetting(key);
  }
  Status PutSetting(const std::string& key, const std::string& value) override {
    return target_->PutSetting(key, value);
  }
  Status CreateApiRoot(const ApiRoot& root) override { return target_->CreateApiRoot(root); }
  Result<std::vector<ApiRoot>> ListApiRoots() override { return target_->ListApiRoots(); }
  Result<ApiRoot> GetApiRoot(const std::string& name) override { return target_->GetApiRoot(name); }
  Status CreateCollection(const Collection& collection) override {
    return target_->CreateCollection(collection);
  }
  Result<std::vector<Collection>> ListCollections(const std::string& api_root) override {
    return target_->ListCollections(api_root);
  }
  Result<Collection> GetCollection(const std::string& api_root,
                                   const std::string& id_or_alias) override {
    return target_->GetCollection(api_root, id_or_alias);
  }
  Status DeleteCollection(const std::string& api_root, const std::string& id) override {
    return target_->DeleteCollection(api_root, id);
  }
  Status PutGrant(const Grant& grant) override { return target_->PutGrant(grant); }
  Status DeleteGrant(const std::string& collection_id, const std::string& subject) override {
    return target_->DeleteGrant(collection_id, subject);
  }
  Result<std::vector<Grant>> ListGrants(const std::string& collection_id) override {
    return target_->ListGrants(collection_id);
  }
  Status CreateUser(const User& user) override { return target_->CreateUser(user); }
  Status UpdateUser(const User& user) override { return target_->UpdateUser(user); }
  Result<User> GetUser(const std::string& name) override { return target_->GetUser(name); }
  Result<std::vector<User>> ListUsers() override { return target_->ListUsers(); }
  Status CreateApiKey(const ApiKey& key) override { return target_->CreateApiKey(key); }
  Result<ApiKey> FindApiKey(const std::string& key_id) override {
    return target_->FindApiKey(key_id);
  }
  Result<std::vector<ApiKey>> ListApiKeys(const std::string& user) override {
    return target_->ListApiKeys(user);
  }
  Status RevokeApiKey(const std::string& key_id) override { return target_->RevokeApiKey(key_id); }
  Result<AddObjectsResult> AddObjects(const AddObjectsRequest& request,
                                      int64_t now_micros) override {
    return target_->AddObjects(request, now_micros);
  }
  Result<ObjectPage> QueryObjects(const ObjectQuery& query) override {
    return target_->QueryObjects(query);
  }
  Result<ObjectPage> QueryVersions(const ObjectQuery& query, const std::string& id) override {
    return target_->QueryVersions(query, id);
  }
  Result<int64_t> DeleteObject(const ObjectQuery& query, const std::string& id) override {
    return target_->DeleteObject(query, id);
  }
  Result<StatusResource> GetStatus(const std::string& api_root,
                                   const std::string& status_id) override {
    return target_->GetStatus(api_root, status_id);
  }
  Result<int64_t> CountObjects(const std::string& collection_id) override {
    return target_->CountObjects(collection_id);
  }

 protected:
  // Destroys an owned target early (e.g. to close files before a subclass deletes them). The
  // wrapper must not be called afterwards.
  void DestroyTarget() {
    owned_.reset();
    target_ = nullptr;
  }

 private:
  std::unique_ptr<Store> owned_;
  Store* target_;
};

}  // namespace liaison::storage
