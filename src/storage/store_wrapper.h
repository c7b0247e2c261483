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
  Result<std::vector<StoredObject>> LookupObjects(const std::vector<std::string>& ids) override {
    return target_->LookupObjects(ids);
  }
  Result<StoredObject> GetObjectVersion(const std::string& collection_id, const std::string& id,
                                        int64_t version) override {
    return target_->GetObjectVersion(collection_id, id, version);
  }
  Result<std::vector<StoredObject>> GetObjectVersions(const std::string& collection_id,
                                                      const std::vector<ObjectVersionKey>& keys,
                                                      bool metadata_only) override {
    return target_->GetObjectVersions(collection_id, keys, metadata_only);
  }
  Result<std::vector<AuditRecord>> AppendAudit(const std::vector<AuditRecord>& records,
                                               int64_t now_micros) override {
    return target_->AppendAudit(records, now_micros);
  }
  Result<std::vector<AuditRecord>> ListAudit(int64_t after_seq, size_t limit) override {
    return target_->ListAudit(after_seq, limit);
  }
  Result<std::vector<HubEvent>> ListEvents(int64_t after_seq, size_t limit) override {
    return target_->ListEvents(after_seq, limit);
  }
  Result<int64_t> LastEventSeq() override { return target_->LastEventSeq(); }
  Status CreatePartner(const Partner& partner) override { return target_->CreatePartner(partner); }
  Status UpdatePartner(const Partner& partner) override { return target_->UpdatePartner(partner); }
  Result<Partner> GetPartner(const std::string& id) override { return target_->GetPartner(id); }
  Result<std::vector<Partner>> ListPartners() override { return target_->ListPartners(); }
  Status DeletePartner(const std::string& id) override { return target_->DeletePartner(id); }
  Status CreateChannel(const Channel& channel) override { return target_->CreateChannel(channel); }
  Result<std::vector<Channel>> ListChannels(const std::string& partner) override {
    return target_->ListChannels(partner);
  }
  Status DeleteChannel(const std::string& id) override { return target_->DeleteChannel(id); }
  Status SetChannelCursor(const std::string& id, const std::string& cursor) override {
    return target_->SetChannelCursor(id, cursor);
  }
  Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& partner, size_t limit,
                                             int64_t now_micros, int64_t lease_micros) override {
    return target_->ClaimOutbox(partner, limit, now_micros, lease_micros);
  }
  Status MarkOutboxDelivered(const std::vector<int64_t>& seqs, int64_t now_micros) override {
    return target_->MarkOutboxDelivered(seqs, now_micros);
  }
  Status MarkOutboxFailed(const std::vector<int64_t>& seqs, const std::string& error,
                          bool permanent, int64_t next_attempt, int64_t now_micros) override {
    return target_->MarkOutboxFailed(seqs, error, permanent, next_attempt, now_micros);
  }
  Result<std::vector<OutboxRow>> ListOutbox(const OutboxQuery& query) override {
    return target_->ListOutbox(query);
  }
  Result<std::vector<std::string>> PartnersWithQueuedOutbox() override {
    return target_->PartnersWithQueuedOutbox();
  }
  Result<std::vector<FeedbackRecord>> ListFeedback(const std::string& about_id) override {
    return target_->ListFeedback(about_id);
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
