#include "storage/memory/memory_store.h"

#include <algorithm>
#include <iterator>

#include "audit/chain.h"
#include "storage/store_util.h"

namespace liaison::storage::memory {
namespace {

template <typename T>
bool Contains(const std::vector<T>& values, const T& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

Status UnknownCollection(const std::string& id) {
  return NotFoundError("collection '" + id + "' does not exist");
}

}  // namespace

std::unique_ptr<MemoryStore> MemoryStore::Create() {
  return std::unique_ptr<MemoryStore>(new MemoryStore());
}

// ---------------------------------------------------------------------------------------------
// Settings, API roots, collections, grants

Result<std::optional<std::string>> MemoryStore::GetSetting(const std::string& key) {
  MutexLock lock(&mu_);
  auto it = settings_.find(key);
  if (it == settings_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryStore::PutSetting(const std::string& key, const std::string& value) {
  if (key.empty()) return InvalidArgumentError("setting key is empty");
  MutexLock lock(&mu_);
  settings_[key] = value;
  return Status::Ok();
}

Status MemoryStore::CreateApiRoot(const ApiRoot& root) {
  if (root.name.empty()) return InvalidArgumentError("API root name is empty");
  MutexLock lock(&mu_);
  for (const ApiRoot& r : api_roots_) {
    if (r.name == root.name) return AlreadyExistsError("API root '" + root.name + "' exists");
  }
  api_roots_.push_back(root);
  return Status::Ok();
}

Result<std::vector<ApiRoot>> MemoryStore::ListApiRoots() {
  MutexLock lock(&mu_);
  return api_roots_;
}

Result<ApiRoot> MemoryStore::GetApiRoot(const std::string& name) {
  MutexLock lock(&mu_);
  for (const ApiRoot& r : api_roots_) {
    if (r.name == name) return r;
  }
  return NotFoundError("API root '" + name + "' does not exist");
}

MemoryStore::CollectionState* MemoryStore::FindCollection(const std::string& id) {
  for (auto& c : collections_) {
    if (c->meta.id == id) return c.get();
  }
  return nullptr;
}

Status MemoryStore::CreateCollection(const Collection& collection) {
  if (collection.id.empty()) return InvalidArgumentError("collection id is empty");
  MutexLock lock(&mu_);
  bool root_exists = std::any_of(api_roots_.begin(), api_roots_.end(),
                                 [&](const ApiRoot& r) { return r.name == collection.api_root; });
  if (!root_exists) {
    return NotFoundError("API root '" + collection.api_root + "' does not exist");
  }
  for (const auto& c : collections_) {
    if (c->meta.id == collection.id) {
      return AlreadyExistsError("collection '" + collection.id + "' exists");
    }
    if (c->meta.api_root != collection.api_root) continue;
    if (!collection.alias.empty() &&
        (c->meta.alias == collection.alias || c->meta.id == collection.alias)) {
      return AlreadyExistsError("collection alias '" + collection.alias + "' is taken");
    }
    if (!c->meta.alias.empty() && c->meta.alias == collection.id) {
      return AlreadyExistsError("collection id '" + collection.id + "' is taken as an alias");
    }
  }
  auto state = std::make_unique<CollectionState>();
  state->meta = collection;
  collections_.push_back(std::move(state));
  return Status::Ok();
}

Result<std::vector<Collection>> MemoryStore::ListCollections(const std::string& api_root) {
  MutexLock lock(&mu_);
  bool root_exists = std::any_of(api_roots_.begin(), api_roots_.end(),
                                 [&](const ApiRoot& r) { return r.name == api_root; });
  if (!root_exists) return NotFoundError("API root '" + api_root + "' does not exist");
  std::vector<Collection> out;
  for (const auto& c : collections_) {
    if (c->meta.api_root == api_root) out.push_back(c->meta);
  }
  return out;
}

Result<Collection> MemoryStore::GetCollection(const std::string& api_root,
                                              const std::string& id_or_alias) {
  MutexLock lock(&mu_);
  if (!id_or_alias.empty()) {
    for (const auto& c : collections_) {
      if (c->meta.api_root == api_root && c->meta.id == id_or_alias) return c->meta;
    }
    for (const auto& c : collections_) {
      if (c->meta.api_root == api_root && c->meta.alias == id_or_alias) return c->meta;
    }
  }
  return UnknownCollection(id_or_alias);
}

Status MemoryStore::DeleteCollection(const std::string& api_root, const std::string& id) {
  MutexLock lock(&mu_);
  auto it = std::find_if(collections_.begin(), collections_.end(), [&](const auto& c) {
    return c->meta.api_root == api_root && c->meta.id == id;
  });
  if (it == collections_.end()) return UnknownCollection(id);
  collections_.erase(it);
  for (auto g = grants_.begin(); g != grants_.end();) {
    g = g->first.first == id ? grants_.erase(g) : std::next(g);
  }
  std::erase_if(channels_, [&](const Channel& ch) { return ch.collection_id == id; });
  return Status::Ok();
}

Status MemoryStore::PutGrant(const Grant& grant) {
  if (grant.subject.empty()) return InvalidArgumentError("grant subject is empty");
  MutexLock lock(&mu_);
  if (FindCollection(grant.collection_id) == nullptr) {
    return UnknownCollection(grant.collection_id);
  }
  grants_[{grant.collection_id, grant.subject}] = grant;
  return Status::Ok();
}

Status MemoryStore::DeleteGrant(const std::string& collection_id, const std::string& subject) {
  MutexLock lock(&mu_);
  if (grants_.erase({collection_id, subject}) == 0) {
    return NotFoundError("no grant for '" + subject + "' on collection '" + collection_id + "'");
  }
  return Status::Ok();
}

Result<std::vector<Grant>> MemoryStore::ListGrants(const std::string& collection_id) {
  MutexLock lock(&mu_);
  if (FindCollection(collection_id) == nullptr) return UnknownCollection(collection_id);
  std::vector<Grant> out;
  for (auto it = grants_.lower_bound({collection_id, ""});
       it != grants_.end() && it->first.first == collection_id; ++it) {
    out.push_back(it->second);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Users and API keys

Status MemoryStore::CreateUser(const User& user) {
  if (user.name.empty()) return InvalidArgumentError("user name is empty");
  MutexLock lock(&mu_);
  if (!users_.emplace(user.name, user).second) {
    return AlreadyExistsError("user '" + user.name + "' exists");
  }
  return Status::Ok();
}

Status MemoryStore::UpdateUser(const User& user) {
  MutexLock lock(&mu_);
  auto it = users_.find(user.name);
  if (it == users_.end()) return NotFoundError("user '" + user.name + "' does not exist");
  it->second.role = user.role;
  it->second.password_hash = user.password_hash;
  it->second.disabled = user.disabled;
  it->second.partner = user.partner;
  return Status::Ok();
}

Result<User> MemoryStore::GetUser(const std::string& name) {
  MutexLock lock(&mu_);
  auto it = users_.find(name);
  if (it == users_.end()) return NotFoundError("user '" + name + "' does not exist");
  return it->second;
}

Result<std::vector<User>> MemoryStore::ListUsers() {
  MutexLock lock(&mu_);
  std::vector<User> out;
  for (const auto& [name, user] : users_) out.push_back(user);
  return out;
}

Status MemoryStore::CreateApiKey(const ApiKey& key) {
  if (key.key_id.empty()) return InvalidArgumentError("API key id is empty");
  MutexLock lock(&mu_);
  if (users_.find(key.user) == users_.end()) {
    return NotFoundError("user '" + key.user + "' does not exist");
  }
  if (!api_keys_.emplace(key.key_id, key).second) {
    return AlreadyExistsError("API key '" + key.key_id + "' exists");
  }
  return Status::Ok();
}

Result<ApiKey> MemoryStore::FindApiKey(const std::string& key_id) {
  MutexLock lock(&mu_);
  auto it = api_keys_.find(key_id);
  if (it == api_keys_.end()) return NotFoundError("API key '" + key_id + "' does not exist");
  return it->second;
}

Result<std::vector<ApiKey>> MemoryStore::ListApiKeys(const std::string& user) {
  MutexLock lock(&mu_);
  std::vector<ApiKey> out;
  for (const auto& [id, key] : api_keys_) {
    if (key.user == user) out.push_back(key);
  }
  return out;
}

Status MemoryStore::RevokeApiKey(const std::string& key_id) {
  MutexLock lock(&mu_);
  auto it = api_keys_.find(key_id);
  if (it == api_keys_.end()) return NotFoundError("API key '" + key_id + "' does not exist");
  it->second.revoked = true;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Objects

Result<AddObjectsResult> MemoryStore::AddObjects(const AddObjectsRequest& request,
                                                 int64_t now_micros) {
  RETURN_IF_ERROR(ValidateAddObjectsRequest(request));
  MutexLock lock(&mu_);
  CollectionState* c = FindCollection(request.collection_id);
  if (c == nullptr) return UnknownCollection(request.collection_id);
  if (!request.status.id.empty() && statuses_.count(request.status.id) > 0) {
    return AlreadyExistsError("status '" + request.status.id + "' exists");
  }

  // Work on copies and swap them in at the end, so that the call is all-or-nothing.
  AddObjectsResult result;
  result.status = request.status;
  int64_t last = c->last_date_added;
  std::vector<VersionRow> added;
  std::vector<const NewObject*> added_from;  // the request object of each entry of `added`
  // (id, version) pairs added by this call, to spot duplicates within the batch.
  std::map<std::pair<std::string, int64_t>, size_t> added_index;

  auto find_existing = [&](const std::string& id, int64_t version) -> const VersionRow* {
    auto ids = c->by_id.find(id);
    if (ids != c->by_id.end()) {
      auto v = ids->second.find(version);
      if (v != ids->second.end()) return &c->by_date.at(v->second);
    }
    auto a = added_index.find({id, version});
    return a == added_index.end() ? nullptr : &added[a->second];
  };

  for (const NewObject& o : request.objects) {
    const VersionRow* existing = nullptr;
    int64_t candidate = NextDateAdded(last, now_micros);
    if (o.version) {
      existing = find_existing(o.id, *o.version);
    } else {
      // An object without a version is a duplicate when the same bytes are already stored
      // unversioned under its id (see store.h, "Objects without a version").
      auto ids = c->by_id.find(o.id);
      if (ids != c->by_id.end()) {
        for (const auto& [version, date] : ids->second) {
          const VersionRow& row = c->by_date.at(date);
          if (!row.has_version && row.object.json == o.json) existing = &row;
        }
      }
      for (const VersionRow& row : added) {
        if (row.object.id == o.id && !row.has_version && row.object.json == o.json) {
          existing = &row;
        }
      }
      if (existing == nullptr) existing = find_existing(o.id, candidate);
    }
    if (existing != nullptr) {
      result.status.successes.push_back(
          {existing->object.id, FormatVersionText(existing->object.version), ""});
      continue;
    }
    VersionRow row;
    row.has_version = o.version.has_value();
    row.object.id = o.id;
    row.object.type = o.type;
    row.object.spec_version = o.spec_version;
    row.object.date_added = candidate;
    row.object.version = o.version.value_or(candidate);
    row.object.json = o.json;
    row.object.label = o.label;
    last = candidate;
    if (result.added == 0) result.first_date_added = candidate;
    result.last_date_added = candidate;
    ++result.added;
    result.status.successes.push_back({o.id, FormatVersionText(row.object.version), ""});
    added_index[{o.id, row.object.version}] = added.size();
    added.push_back(std::move(row));
    added_from.push_back(&o);
  }
  FinishStatusCounts(result.status);

  // Nothing below can fail: the call is all-or-nothing. The objects go in first so that feedback
  // events find the label of an object added earlier in the same batch.
  std::vector<std::pair<const NewObject*, StoredObject>> new_versions;  // request object, stored
  for (size_t i = 0; i < added.size(); ++i) {
    VersionRow& row = added[i];
    c->by_id[row.object.id][row.object.version] = row.object.date_added;
    int64_t date = row.object.date_added;
    auto it = c->by_date.emplace(date, std::move(row)).first;
    new_versions.emplace_back(added_from[i], it->second.object);
  }
  c->last_date_added = last;
  if (!result.status.id.empty()) statuses_[result.status.id] = result.status;

  std::vector<AuditRecord> audit = request.audit;  // then each new version's own records
  for (const auto& [o, stored] : new_versions) {
    audit.insert(audit.end(), o->audit.begin(), o->audit.end());
    HubEvent event;
    event.time = now_micros;
    event.kind = "object";
    event.collection_id = request.collection_id;
    event.object_id = stored.id;
    event.version = stored.version;
    event.label = stored.label;
    event.data = ObjectEventData(stored);
    AppendEvent(std::move(event));
    for (const std::string& partner : o->outbox_partners) {
      OutboxRow row;
      row.seq = ++last_outbox_seq_;
      row.partner = partner;
      row.collection_id = request.collection_id;
      row.object_id = stored.id;
      row.version = stored.version;
      row.date_added = stored.date_added;
      row.next_attempt = now_micros;
      row.created = now_micros;
      outbox_.emplace(row.seq, std::move(row));
    }
    for (const FeedbackRecord& given : o->feedback) {
      FeedbackRecord record = given;
      record.feedback_id = stored.id;
      record.feedback_version = stored.version;
      record.received = now_micros;
      const StoredObject* about = Newest(record.about_id);
      HubEvent fb;
      fb.time = now_micros;
      fb.kind = "feedback";
      fb.collection_id = request.collection_id;
      fb.object_id = record.about_id;
      fb.version = stored.version;
      fb.label = about != nullptr ? about->label : stored.label;
      fb.data = FeedbackEventData(record);
      AppendEvent(std::move(fb));
      feedback_.push_back(std::move(record));
    }
  }
  AppendAuditLocked(audit, now_micros);
  return result;
}

std::optional<int64_t> MemoryStore::ExtremeVersion(const CollectionState& c, const std::string& id,
                                                   const std::vector<std::string>& spec_versions,
                                                   bool last) const {
  auto ids = c.by_id.find(id);
  if (ids == c.by_id.end()) return std::nullopt;
  auto matches = [&](const std::pair<const int64_t, int64_t>& entry) {
    return spec_versions.empty() ||
           Contains(spec_versions, c.by_date.at(entry.second).object.spec_version);
  };
  if (last) {
    auto it = std::find_if(ids->second.rbegin(), ids->second.rend(), matches);
    if (it != ids->second.rend()) return it->first;
  } else {
    auto it = std::find_if(ids->second.begin(), ids->second.end(), matches);
    if (it != ids->second.end()) return it->first;
  }
  return std::nullopt;
}

bool MemoryStore::VersionSelected(const CollectionState& c, const VersionRow& row,
                                  const ObjectQuery& query, bool default_last) const {
  const StoredObject& o = row.object;
  if (!query.spec_versions.empty() && !Contains(query.spec_versions, o.spec_version)) return false;
  if (query.version_selectors.empty() && query.versions.empty()) {
    return !default_last || ExtremeVersion(c, o.id, query.spec_versions, true) == o.version;
  }
  for (VersionSelector s : query.version_selectors) {
    switch (s) {
      case VersionSelector::kAll:
        return true;
      case VersionSelector::kLast:
        if (ExtremeVersion(c, o.id, query.spec_versions, true) == o.version) return true;
        break;
      case VersionSelector::kFirst:
        if (ExtremeVersion(c, o.id, query.spec_versions, false) == o.version) return true;
        break;
    }
  }
  return Contains(query.versions, o.version);
}

StoredObject MemoryStore::Project(const StoredObject& object, bool metadata_only) {
  if (!metadata_only) return object;
  StoredObject out;
  out.id = object.id;
  out.type = object.type;
  out.spec_version = object.spec_version;
  out.version = object.version;
  out.date_added = object.date_added;
  out.label = object.label;
  return out;
}

Result<ObjectPage> MemoryStore::QueryObjects(const ObjectQuery& query) {
  RETURN_IF_ERROR(ValidateObjectQuery(query));
  MutexLock lock(&mu_);
  CollectionState* c = FindCollection(query.collection_id);
  if (c == nullptr) return UnknownCollection(query.collection_id);
  ObjectPage page;
  auto it = query.added_after ? c->by_date.upper_bound(*query.added_after) : c->by_date.begin();
  for (; it != c->by_date.end(); ++it) {
    const VersionRow& row = it->second;
    if (!query.ids.empty() && !Contains(query.ids, row.object.id)) continue;
    if (!query.types.empty() && !Contains(query.types, row.object.type)) continue;
    if (!VersionSelected(*c, row, query, /*default_last=*/true)) continue;
    if (page.objects.size() >= query.limit) {
      page.more = true;
      break;
    }
    page.objects.push_back(Project(row.object, query.metadata_only));
  }
  return page;
}

Result<ObjectPage> MemoryStore::QueryVersions(const ObjectQuery& query, const std::string& id) {
  RETURN_IF_ERROR(ValidateObjectQuery(query));
  MutexLock lock(&mu_);
  CollectionState* c = FindCollection(query.collection_id);
  if (c == nullptr) return UnknownCollection(query.collection_id);
  ObjectPage page;
  auto ids = c->by_id.find(id);
  if (ids == c->by_id.end()) return page;
  std::vector<const StoredObject*> rows;
  for (const auto& [version, date] : ids->second) {
    if (query.added_after && date <= *query.added_after) continue;
    const StoredObject& o = c->by_date.at(date).object;
    if (!query.spec_versions.empty() && !Contains(query.spec_versions, o.spec_version)) continue;
    rows.push_back(&o);
  }
  std::sort(rows.begin(), rows.end(), [](const StoredObject* a, const StoredObject* b) {
    return a->date_added < b->date_added;
  });
  for (const StoredObject* o : rows) {
    if (page.objects.size() >= query.limit) {
      page.more = true;
      break;
    }
    page.objects.push_back(Project(*o, query.metadata_only));
  }
  return page;
}

Result<int64_t> MemoryStore::DeleteObject(const ObjectQuery& query, const std::string& id) {
  RETURN_IF_ERROR(ValidateObjectQuery(query));
  MutexLock lock(&mu_);
  CollectionState* c = FindCollection(query.collection_id);
  if (c == nullptr) return UnknownCollection(query.collection_id);
  auto ids = c->by_id.find(id);
  if (ids == c->by_id.end()) {
    return NotFoundError("object '" + id + "' is not in collection '" + query.collection_id + "'");
  }
  // Select first, then delete: "first"/"last" refer to the versions before the deletion.
  std::vector<std::pair<int64_t, int64_t>> doomed;  // (version, date_added)
  for (const auto& [version, date] : ids->second) {
    if (VersionSelected(*c, c->by_date.at(date), query, /*default_last=*/false)) {
      doomed.emplace_back(version, date);
    }
  }
  if (doomed.empty()) {
    return NotFoundError("no version of object '" + id + "' matches the filters");
  }
  for (const auto& [version, date] : doomed) {
    ids->second.erase(version);
    c->by_date.erase(date);
  }
  if (ids->second.empty()) c->by_id.erase(ids);
  return static_cast<int64_t>(doomed.size());
}

Result<StatusResource> MemoryStore::GetStatus(const std::string& api_root,
                                              const std::string& status_id) {
  MutexLock lock(&mu_);
  auto it = statuses_.find(status_id);
  if (it == statuses_.end() || it->second.api_root != api_root) {
    return NotFoundError("status '" + status_id + "' does not exist");
  }
  return it->second;
}

Result<int64_t> MemoryStore::CountObjects(const std::string& collection_id) {
  MutexLock lock(&mu_);
  CollectionState* c = FindCollection(collection_id);
  if (c == nullptr) return UnknownCollection(collection_id);
  return static_cast<int64_t>(c->by_date.size());
}

// ---------------------------------------------------------------------------------------------
// Sharing (issue 4)

const StoredObject* MemoryStore::Newest(const std::string& id) const {
  const StoredObject* best = nullptr;
  for (const auto& c : collections_) {
    auto ids = c->by_id.find(id);
    if (ids == c->by_id.end() || ids->second.empty()) continue;
    const StoredObject& o = c->by_date.at(ids->second.rbegin()->second).object;
    if (best == nullptr || o.version > best->version ||
        (o.version == best->version && o.date_added > best->date_added)) {
      best = &o;
    }
  }
  return best;
}

Result<std::vector<StoredObject>> MemoryStore::LookupObjects(const std::vector<std::string>& ids) {
  RETURN_IF_ERROR(ValidateLookupIds(ids));
  MutexLock lock(&mu_);
  std::vector<StoredObject> out;
  std::vector<std::string> seen;
  for (const std::string& id : ids) {
    if (Contains(seen, id)) continue;
    seen.push_back(id);
    if (const StoredObject* o = Newest(id)) out.push_back(Project(*o, /*metadata_only=*/true));
  }
  return out;
}

Result<StoredObject> MemoryStore::GetObjectVersion(const std::string& collection_id,
                                                   const std::string& id, int64_t version) {
  MutexLock lock(&mu_);
  CollectionState* c = FindCollection(collection_id);
  if (c == nullptr) return UnknownCollection(collection_id);
  auto ids = c->by_id.find(id);
  if (ids != c->by_id.end()) {
    auto v = ids->second.find(version);
    if (v != ids->second.end()) return c->by_date.at(v->second).object;
  }
  return NotFoundError("object '" + id + "' version " + FormatVersionText(version) +
                       " is not in collection '" + collection_id + "'");
}

Result<std::vector<StoredObject>> MemoryStore::GetObjectVersions(
    const std::string& collection_id, const std::vector<ObjectVersionKey>& keys,
    bool metadata_only) {
  ASSIGN_OR_RETURN(std::vector<ObjectVersionKey> unique, UniqueVersionKeys(keys));
  MutexLock lock(&mu_);
  CollectionState* c = FindCollection(collection_id);
  if (c == nullptr) return UnknownCollection(collection_id);
  std::vector<StoredObject> out;
  for (const ObjectVersionKey& key : unique) {
    auto ids = c->by_id.find(key.id);
    if (ids == c->by_id.end()) continue;
    auto v = ids->second.find(key.version);
    if (v != ids->second.end())
      out.push_back(Project(c->by_date.at(v->second).object, metadata_only));
  }
  return out;
}

std::vector<AuditRecord> MemoryStore::AppendAuditLocked(const std::vector<AuditRecord>& records,
                                                        int64_t now_micros) {
  std::vector<AuditRecord> out;
  out.reserve(records.size());
  for (const AuditRecord& given : records) {
    AuditRecord r = given;
    r.seq = static_cast<int64_t>(audit_.size()) + 1;
    if (r.time == 0) r.time = now_micros;
    r.prev_hash = audit_.empty() ? std::string() : audit_.back().hash;
    r.hash = audit::ChainHash(r);
    audit_.push_back(r);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<AuditRecord>> MemoryStore::AppendAudit(const std::vector<AuditRecord>& records,
                                                          int64_t now_micros) {
  RETURN_IF_ERROR(ValidateAuditRecords(records));
  MutexLock lock(&mu_);
  return AppendAuditLocked(records, now_micros);
}

Result<std::vector<AuditRecord>> MemoryStore::ListAudit(int64_t after_seq, size_t limit) {
  MutexLock lock(&mu_);
  std::vector<AuditRecord> out;
  // Entries are stored by seq, but a test may have removed some (see StoreWrapper tampering), so
  // search rather than index.
  auto it = std::upper_bound(audit_.begin(), audit_.end(), after_seq,
                             [](int64_t seq, const AuditRecord& r) { return seq < r.seq; });
  for (; it != audit_.end() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

void MemoryStore::AppendEvent(HubEvent event) {
  event.seq = ++last_event_seq_;
  event.label.signature.clear();  // events keep no signature (store.h)
  events_.push_back(std::move(event));
}

void MemoryStore::AppendReceipt(const OutboxRow& row, int64_t now_micros) {
  HubEvent event;
  event.time = now_micros;
  event.kind = "receipt";
  event.collection_id = row.collection_id;
  event.object_id = row.object_id;
  event.version = row.version;
  event.label = UnknownObjectLabel();
  if (CollectionState* c = FindCollection(row.collection_id)) {
    auto ids = c->by_id.find(row.object_id);
    if (ids != c->by_id.end()) {
      auto v = ids->second.find(row.version);
      if (v != ids->second.end()) event.label = c->by_date.at(v->second).object.label;
    }
  }
  event.data = ReceiptEventData(row);
  AppendEvent(std::move(event));
}

Result<std::vector<HubEvent>> MemoryStore::ListEvents(int64_t after_seq, size_t limit) {
  MutexLock lock(&mu_);
  std::vector<HubEvent> out;
  auto it = std::upper_bound(events_.begin(), events_.end(), after_seq,
                             [](int64_t seq, const HubEvent& e) { return seq < e.seq; });
  for (; it != events_.end() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

Result<int64_t> MemoryStore::LastEventSeq() {
  MutexLock lock(&mu_);
  return last_event_seq_;
}

Status MemoryStore::CreatePartner(const Partner& partner) {
  RETURN_IF_ERROR(ValidatePartner(partner));
  MutexLock lock(&mu_);
  if (!partners_.emplace(partner.id, partner).second) {
    return AlreadyExistsError("partner '" + partner.id + "' exists");
  }
  return Status::Ok();
}

Status MemoryStore::UpdatePartner(const Partner& partner) {
  MutexLock lock(&mu_);
  auto it = partners_.find(partner.id);
  if (it == partners_.end()) return NotFoundError("partner '" + partner.id + "' does not exist");
  const int64_t created = it->second.created;
  it->second = partner;
  it->second.created = created;
  return Status::Ok();
}

Result<Partner> MemoryStore::GetPartner(const std::string& id) {
  MutexLock lock(&mu_);
  auto it = partners_.find(id);
  if (it == partners_.end()) return NotFoundError("partner '" + id + "' does not exist");
  return it->second;
}

Result<std::vector<Partner>> MemoryStore::ListPartners() {
  MutexLock lock(&mu_);
  std::vector<Partner> out;
  for (const auto& [id, p] : partners_) out.push_back(p);
  return out;
}

Status MemoryStore::DeletePartner(const std::string& id) {
  MutexLock lock(&mu_);
  if (partners_.erase(id) == 0) return NotFoundError("partner '" + id + "' does not exist");
  std::erase_if(channels_, [&](const Channel& ch) { return ch.partner == id; });
  std::erase_if(outbox_, [&](const auto& entry) {
    return entry.second.partner == id && entry.second.state == OutboxState::kQueued;
  });
  return Status::Ok();
}

Status MemoryStore::CreateChannel(const Channel& channel) {
  RETURN_IF_ERROR(ValidateChannel(channel));
  MutexLock lock(&mu_);
  if (partners_.count(channel.partner) == 0) {
    return NotFoundError("partner '" + channel.partner + "' does not exist");
  }
  if (FindCollection(channel.collection_id) == nullptr) {
    return UnknownCollection(channel.collection_id);
  }
  for (const Channel& ch : channels_) {
    if (ch.id == channel.id) return AlreadyExistsError("channel '" + channel.id + "' exists");
    if (ch.partner == channel.partner && ch.collection_id == channel.collection_id &&
        ch.mode == channel.mode && ch.remote_collection == channel.remote_collection) {
      return AlreadyExistsError("an identical channel exists ('" + ch.id + "')");
    }
  }
  channels_.push_back(channel);
  return Status::Ok();
}

Result<std::vector<Channel>> MemoryStore::ListChannels(const std::string& partner) {
  MutexLock lock(&mu_);
  std::vector<Channel> out;
  for (const Channel& ch : channels_) {
    if (partner.empty() || ch.partner == partner) out.push_back(ch);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Channel& a, const Channel& b) { return a.created < b.created; });
  return out;
}

Status MemoryStore::DeleteChannel(const std::string& id) {
  MutexLock lock(&mu_);
  if (std::erase_if(channels_, [&](const Channel& ch) { return ch.id == id; }) == 0) {
    return NotFoundError("channel '" + id + "' does not exist");
  }
  return Status::Ok();
}

Status MemoryStore::SetChannelCursor(const std::string& id, const std::string& cursor) {
  MutexLock lock(&mu_);
  for (Channel& ch : channels_) {
    if (ch.id == id) {
      ch.cursor = cursor;
      return Status::Ok();
    }
  }
  return NotFoundError("channel '" + id + "' does not exist");
}

Result<std::vector<OutboxRow>> MemoryStore::ClaimOutbox(const std::string& partner, size_t limit,
                                                        int64_t now_micros, int64_t lease_micros) {
  if (lease_micros <= 0) return InvalidArgumentError("outbox lease must be positive");
  MutexLock lock(&mu_);
  std::vector<OutboxRow> out;
  for (auto& [seq, row] : outbox_) {
    if (out.size() >= limit) break;
    if (row.partner != partner || row.state != OutboxState::kQueued) continue;
    if (row.next_attempt > now_micros) break;  // keeps order per partner
    if (row.lease_until > now_micros) continue;
    row.lease_until = now_micros + lease_micros;
    out.push_back(row);
  }
  return out;
}

Status MemoryStore::MarkOutboxDelivered(const std::vector<int64_t>& seqs, int64_t now_micros) {
  MutexLock lock(&mu_);
  for (int64_t seq : seqs) {
    auto it = outbox_.find(seq);
    if (it == outbox_.end()) continue;
    OutboxRow& row = it->second;
    row.state = OutboxState::kDelivered;
    row.delivered_at = now_micros;
    row.error.clear();
    row.lease_until = 0;
    AppendReceipt(row, now_micros);
  }
  return Status::Ok();
}

Status MemoryStore::MarkOutboxFailed(const std::vector<int64_t>& seqs, const std::string& error,
                                     bool permanent, int64_t next_attempt, int64_t now_micros) {
  MutexLock lock(&mu_);
  for (int64_t seq : seqs) {
    auto it = outbox_.find(seq);
    if (it == outbox_.end()) continue;
    OutboxRow& row = it->second;
    ++row.attempts;
    row.error = error;
    row.lease_until = 0;
    if (permanent) {
      row.state = OutboxState::kFailed;
    } else {
      row.state = OutboxState::kQueued;
      row.next_attempt = next_attempt;
    }
    AppendReceipt(row, now_micros);
  }
  return Status::Ok();
}

Result<std::vector<OutboxRow>> MemoryStore::ListOutbox(const OutboxQuery& query) {
  MutexLock lock(&mu_);
  std::vector<OutboxRow> out;
  for (auto it = outbox_.upper_bound(query.after_seq); it != outbox_.end(); ++it) {
    if (out.size() >= query.limit) break;
    const OutboxRow& row = it->second;
    if (!query.partner.empty() && row.partner != query.partner) continue;
    if (!query.object_id.empty() && row.object_id != query.object_id) continue;
    if (query.state && row.state != *query.state) continue;
    out.push_back(row);
  }
  return out;
}

Result<std::vector<std::string>> MemoryStore::PartnersWithQueuedOutbox() {
  MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [seq, row] : outbox_) {
    if (row.state == OutboxState::kQueued) out.push_back(row.partner);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<FeedbackRecord>> MemoryStore::ListFeedback(const std::string& about_id) {
  MutexLock lock(&mu_);
  std::vector<FeedbackRecord> out;
  for (const FeedbackRecord& r : feedback_) {
    if (about_id.empty() || r.about_id == about_id) out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(), [](const FeedbackRecord& a, const FeedbackRecord& b) {
    return a.received != b.received ? a.received < b.received : a.feedback_id < b.feedback_id;
  });
  return out;
}

}  // namespace liaison::storage::memory
