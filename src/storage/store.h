#pragma once

// Store: everything the hub persists, behind one interface (after leveldb's Env). Backends:
// storage/sqlite (embedded default), storage/memory (fast fake for tests), storage/postgres (later).
// Every backend passes the conformance suite in storage/store_conformance.h unchanged.
//
// Contract for all implementations:
//  - Thread-safe: any method may be called from any thread concurrently.
//  - Blocking: methods do I/O and may block; call them off latency-critical threads if needed.
//  - Durable: a method that returns OK for a write has committed it durably (it survives kill -9).
//  - Atomic: each write method is one transaction; AddObjects commits objects and status together.
//  - Errors: kNotFound for unknown keys, kAlreadyExists for duplicate keys, kInvalidArgument for bad
//    arguments (e.g. an undecodable cursor), kUnavailable for transient backend failures (busy,
//    connection lost), kDataLoss for corruption, kInternal otherwise.
//
// Times (date_added, versions) are microseconds since the Unix epoch (UTC).
//
// Details of the contract, fixed by the storage module (every backend and the conformance suite
// follow them):
//  - Arguments: an empty API root name, collection id, user name, key id, grant subject or
//    setting key, and an object with an empty id, type, spec_version or json, are
//    kInvalidArgument.
//  - Ordering of lists: ListApiRoots and ListCollections in creation order; ListUsers by name;
//    ListApiKeys by key_id; ListGrants by subject.
//  - ListCollections: kNotFound for an unknown API root. GetCollection looks in that API root
//    only, matching the id first, then the alias. An alias may not equal the id or alias of
//    another collection in the same API root (kAlreadyExists). Collection ids are unique across
//    API roots. DeleteCollection takes the id (not the alias).
//  - Grants: PutGrant and ListGrants: kNotFound for an unknown collection; DeleteGrant: kNotFound
//    when there is no such grant.
//  - API keys: CreateApiKey: kNotFound for an unknown user, kAlreadyExists for a taken key_id.
//    ListApiKeys of an unknown user is empty. RevokeApiKey of a revoked key is OK.
//  - AddObjects: the status is stored only when status.id is set (empty: objects only); a status
//    id already used (in any API root) is kAlreadyExists and nothing is committed. Each success
//    records the object's id and version text (FormatVersionText in storage/store_util.h: the
//    STIX timestamp with 3 fractional digits, or 6 when not whole milliseconds); duplicates are
//    recorded with the version already stored. Counters and status ("complete", or "pending"
//    when pendings remain) are computed from the lists; total_count is raised to their sum if
//    lower. date_added for each new version: max(now_micros, previous + 1), where `previous` is
//    the last value ever assigned in the collection (deleting objects never lets a value be
//    reused).
//  - Objects without a version (NewObject::version empty, e.g. SCOs): the new version's version
//    is its date_added. Adding one whose json is byte-identical to a version of the same id
//    already stored without a version is a duplicate (no-op success); different bytes add a
//    version.
//  - Object queries: a filter list with more than 4096 values (storage::kMaxQueryValues) is
//    kInvalidArgument.
//  - QueryObjects: limit 0 returns no objects, with `more` telling whether any match.
//  - QueryVersions: results in date_added order (the paging order), which for most objects is
//    also version order. An id with no versions gives an empty page (not kNotFound).
//  - DeleteObject: ignores added_after, ids and types; with no version filter every version
//    (matching spec_versions) is deleted; "first"/"last" are judged before the deletion.
//    kNotFound (unknown collection, or nothing matched) deletes nothing.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace liaison::storage {

// ---------------------------------------------------------------------------------------------
// Hub metadata, API roots, collections

struct ApiRoot {
  std::string name;         // the URL path segment: /{name}/
  std::string title;
  std::string description;
  int64_t max_content_length = 104857600;  // bytes; TAXII 2.1 section 4.2
};

struct Collection {
  std::string id;           // a UUID (TAXII 2.1 section 5.2: collection ids are identifiers)
  std::string api_root;     // ApiRoot::name
  std::string title;
  std::string description;
  std::string alias;        // optional; unique within the API root when set
  std::vector<std::string> media_types = {"application/stix+json;version=2.1"};
};

// Who may read or write a collection. A grant names either a role ("role:reader") or a user
// ("user:alice"). Admins may do everything without grants.
struct Grant {
  std::string collection_id;
  std::string subject;  // "role:<role>" or "user:<name>"
  bool can_read = false;
  bool can_write = false;
};

// ---------------------------------------------------------------------------------------------
// Users and API keys

enum class Role { kAdmin, kPublisher, kReader };

struct User {
  std::string name;
  Role role = Role::kReader;
  std::string password_hash;  // argon2id string (crypto_pwhash_str); empty: no password login
  bool disabled = false;
  int64_t created = 0;
};

struct ApiKey {
  std::string key_id;      // public, short: the part before the '.' in the token
  std::string user;
  std::string secret_hash;  // keyed hash of the secret part, hex
  std::string description;
  int64_t created = 0;
  bool revoked = false;
};

// ---------------------------------------------------------------------------------------------
// Objects

// A validated object to add (see stix::ObjectInfo). `json` is the minified object, served verbatim.
struct NewObject {
  std::string id;
  std::string type;
  std::string spec_version;
  // The version identity in microseconds (modified, else created). Absent for objects with
  // neither (SCOs): their version is their date_added (TAXII 2.1 section 3.6).
  std::optional<int64_t> version;
  std::string json;
};

// One stored object version.
struct StoredObject {
  std::string id;
  std::string type;
  std::string spec_version;
  int64_t version = 0;      // modified/created, or date_added for objects with neither
  int64_t date_added = 0;   // microseconds; unique and strictly increasing within a collection
  std::string json;         // empty when the query asked for metadata only
};

enum class VersionSelector { kLast, kFirst, kAll };

// A TAXII object query over one collection. Every list filter is an OR of its values; filters
// combine with AND. Paging: results ordered by date_added ascending; `added_after` is exclusive.
struct ObjectQuery {
  std::string collection_id;
  std::optional<int64_t> added_after;       // exclusive
  std::vector<std::string> ids;             // match[id]
  std::vector<std::string> types;           // match[type]
  std::vector<std::string> spec_versions;   // match[spec_version]; empty: every spec version
  // match[version]: the selectors and/or explicit versions. Default (both empty): kLast.
  // "last"/"first" mean the newest/oldest version of each object in the collection (among those
  // matching spec_versions), whatever added_after says.
  std::vector<VersionSelector> version_selectors;
  std::vector<int64_t> versions;
  size_t limit = 1000;           // at most this many results; the store returns `more` beyond
  bool metadata_only = false;    // leave StoredObject::json empty (manifest, versions)
};

struct ObjectPage {
  std::vector<StoredObject> objects;
  bool more = false;  // more results exist after the last one returned
};

// The outcome of one object of a POST, kept in the status resource.
struct StatusDetail {
  std::string id;
  std::string version;   // STIX timestamp text of the object's version
  std::string message;   // for failures: why
};

// A TAXII status resource (TAXII 2.1 section 4.3.1).
struct StatusResource {
  std::string id;               // UUID
  std::string api_root;
  std::string status = "complete";  // "pending" | "complete"
  int64_t request_timestamp = 0;
  int64_t total_count = 0;
  int64_t success_count = 0;
  int64_t failure_count = 0;
  int64_t pending_count = 0;
  std::vector<StatusDetail> successes;
  std::vector<StatusDetail> failures;
  std::vector<StatusDetail> pendings;
  std::string owner;            // user who posted; only they and admins may read it
};

// AddObjects: add validated objects to a collection and record the status, in one transaction.
// An object whose (id, version) is already in the collection is a no-op counted as a success.
struct AddObjectsRequest {
  std::string collection_id;
  std::vector<NewObject> objects;
  StatusResource status;  // id, api_root, owner, request_timestamp, total_count, failures filled
                          // in by the caller; the store adds the successes and counts
};

struct AddObjectsResult {
  StatusResource status;          // as stored
  int64_t first_date_added = 0;   // of the versions newly added (0 when none)
  int64_t last_date_added = 0;
  size_t added = 0;               // new versions (duplicates excluded)
};

// ---------------------------------------------------------------------------------------------

class Store {
 public:
  virtual ~Store() = default;

  // Hub settings: small key/value pairs (organisation name, identity, schema facts).
  virtual Result<std::optional<std::string>> GetSetting(const std::string& key) = 0;
  virtual Status PutSetting(const std::string& key, const std::string& value) = 0;

  // API roots. CreateApiRoot: kAlreadyExists when the name is taken.
  virtual Status CreateApiRoot(const ApiRoot& root) = 0;
  virtual Result<std::vector<ApiRoot>> ListApiRoots() = 0;
  virtual Result<ApiRoot> GetApiRoot(const std::string& name) = 0;

  // Collections. CreateCollection: kNotFound for an unknown API root, kAlreadyExists for a taken
  // id or alias. GetCollection accepts the id or the alias.
  virtual Status CreateCollection(const Collection& collection) = 0;
  virtual Result<std::vector<Collection>> ListCollections(const std::string& api_root) = 0;
  virtual Result<Collection> GetCollection(const std::string& api_root,
                                           const std::string& id_or_alias) = 0;
  // Deletes the collection, its objects and grants. kNotFound when unknown.
  virtual Status DeleteCollection(const std::string& api_root, const std::string& id) = 0;

  // Grants: PutGrant replaces the grant for (collection, subject).
  virtual Status PutGrant(const Grant& grant) = 0;
  virtual Status DeleteGrant(const std::string& collection_id, const std::string& subject) = 0;
  virtual Result<std::vector<Grant>> ListGrants(const std::string& collection_id) = 0;

  // Users. CreateUser: kAlreadyExists. UpdateUser replaces role/password_hash/disabled: kNotFound.
  virtual Status CreateUser(const User& user) = 0;
  virtual Status UpdateUser(const User& user) = 0;
  virtual Result<User> GetUser(const std::string& name) = 0;
  virtual Result<std::vector<User>> ListUsers() = 0;

  // API keys. FindApiKey looks up by key_id (kNotFound when unknown).
  virtual Status CreateApiKey(const ApiKey& key) = 0;
  virtual Result<ApiKey> FindApiKey(const std::string& key_id) = 0;
  virtual Result<std::vector<ApiKey>> ListApiKeys(const std::string& user) = 0;
  virtual Status RevokeApiKey(const std::string& key_id) = 0;

  // Objects. AddObjects: kNotFound for an unknown collection. Assigns date_added values that are
  // unique and strictly greater than every earlier one in the collection (so `added_after` paging
  // never skips or repeats), using `now_micros` when it is larger than the last one.
  virtual Result<AddObjectsResult> AddObjects(const AddObjectsRequest& request,
                                              int64_t now_micros) = 0;

  // One indexed query; cost proportional to the page returned (plus skipped non-matching rows of
  // selective filters), never to the collection size. kNotFound for an unknown collection.
  virtual Result<ObjectPage> QueryObjects(const ObjectQuery& query) = 0;

  // The versions of one object, oldest first, paged like QueryObjects (date_added, exclusive
  // added_after). Honors spec_versions; ignores ids/types/version filters.
  virtual Result<ObjectPage> QueryVersions(const ObjectQuery& query, const std::string& id) = 0;

  // Deletes the versions of `id` in the collection selected by the query's version and
  // spec_version filters (all versions when none). Returns how many were deleted; kNotFound when
  // none matched.
  virtual Result<int64_t> DeleteObject(const ObjectQuery& query, const std::string& id) = 0;

  // Status resources: kNotFound when unknown in that API root.
  virtual Result<StatusResource> GetStatus(const std::string& api_root,
                                           const std::string& status_id) = 0;

  // Number of object versions in a collection (for admin output and tests).
  virtual Result<int64_t> CountObjects(const std::string& collection_id) = 0;
};

std::string_view RoleName(Role role);  // "admin" | "publisher" | "reader"
Result<Role> ParseRole(std::string_view name);

}  // namespace liaison::storage
