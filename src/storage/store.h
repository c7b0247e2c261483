#pragma once

// Store: everything the hub persists, behind one interface (after leveldb's Env). Backends:
// storage/sqlite (embedded default), storage/memory (fast fake for tests), storage/postgres
// (later). Every backend passes the conformance suite in storage/store_conformance.h unchanged.
//
// Contract for all implementations:
//  - Thread-safe: any method may be called from any thread concurrently.
//  - Blocking: methods do I/O and may block; call them off latency-critical threads if needed.
//  - Durable: a method that returns OK for a write has committed it durably (it survives kill -9).
//  - Atomic: each write method is one transaction; AddObjects commits objects and status together.
//  - Errors: kNotFound for unknown keys, kAlreadyExists for duplicate keys, kInvalidArgument for
//  bad
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
//  - Sharing (issue 4): for each new version AddObjects also writes, in its transaction, one queued
//    OutboxRow per NewObject::outbox_partners entry (seq order = object order in the request),
//    each NewObject::feedback record (feedback_id/feedback_version/received filled in), one
//    "object" event, and one "feedback" event per feedback record; then the request's audit
//    records (whether or not anything was new). A duplicate version writes none of its extras.
//  - Labels round-trip exactly (recipients in order). A version's label is that of its first add.
//  - Partner tokens, keys and identity_json are stored as given (crypto/ seals the token).
//  - Events: an "object" event's data is {"type","spec_version","date_added"}; a "feedback" event
//    carries the label of the newest stored version of the object it is about, or the feedback
//    object's own label when that object is unknown here; a "receipt" event carries the label of
//    the delivered object version, or (when it was deleted since) TLP:RED (4) with no recipients.
//    Event labels carry what visibility needs and no signature (ObjectLabel::signature is ""):
//    the signature stays with the object version, and copying it into every event doubled the
//    bytes an event writes.
//  - Audit records with an empty kind are kInvalidArgument (in AppendAudit and AddObjects; nothing
//    is committed). ClaimOutbox with lease_micros <= 0 is kInvalidArgument.
//  - DeleteCollection also deletes the collection's channels (outbox rows stay as receipts).
//  - LookupObjects returns each id once, however often it is asked for; an empty id is
//    kInvalidArgument.

#include <compare>
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
  std::string name;  // the URL path segment: /{name}/
  std::string title;
  std::string description;
  int64_t max_content_length = 104857600;  // bytes; TAXII 2.1 section 4.2
};

struct Collection {
  std::string id;        // a UUID (TAXII 2.1 section 5.2: collection ids are identifiers)
  std::string api_root;  // ApiRoot::name
  std::string title;
  std::string description;
  std::string alias;  // optional; unique within the API root when set
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

// kPartner: the account a partner hub uses to call this one (push into the inbox collection, pull
// what its channels allow). Such a user has User::partner set to the partner's identity id.
enum class Role { kAdmin, kPublisher, kReader, kPartner };

struct User {
  std::string name;
  Role role = Role::kReader;
  std::string password_hash;  // argon2id string (crypto_pwhash_str); empty: no password login
  bool disabled = false;
  int64_t created = 0;
  std::string partner;  // Role::kPartner: the partner's identity id ("identity--..."); else empty
};

struct ApiKey {
  std::string key_id;  // public, short: the part before the '.' in the token
  std::string user;
  std::string secret_hash;  // keyed hash of the secret part, hex
  std::string description;
  int64_t created = 0;
  bool revoked = false;
};

// ---------------------------------------------------------------------------------------------
// Objects

// Feedback about an object (a sighting, opinion or note that refers to it), recorded at the hub
// where the object originated so its publisher can list what its tip led to.
struct FeedbackRecord {
  std::string about_id;     // the object the feedback is about (originated at this hub)
  std::string feedback_id;  // the sighting/opinion/note id (filled in by the caller)
  int64_t feedback_version = 0;
  std::string from;      // identity id of the organisation that gave it
  std::string outcome;   // "seen" | "acted-on" | "false-positive" | "opinion" | "note"
  std::string note;      // free text (e.g. "seven suspects detained"); may be empty
  int64_t count = 0;     // sightings: count (0 when absent)
  int64_t received = 0;  // set by the store: the transaction's now_micros
  friend bool operator==(const FeedbackRecord&, const FeedbackRecord&) = default;
};

// Sharing metadata of an object version, computed by federation/ when the object enters the hub
// (published here or received from a partner) and never changed afterwards. The store keeps it
// beside the object and returns it with every StoredObject (also for metadata-only queries); it
// does not interpret it (policy/sharing.h does).
struct ObjectLabel {
  int32_t tlp = 0;                      // policy::Tlp as an integer
  std::string origin;                   // identity id of the originating hub
  std::string received_from;            // identity id of the partner it came from; "" = local
  std::vector<std::string> recipients;  // named recipient organisations (identity ids)
  bool sealed = false;                  // `json` is an x-liaison-sealed wrapper (TLP:RED at rest)
  std::string signature;                // the origin's signature block (JSON text); "" = none kept
  friend bool operator==(const ObjectLabel&, const ObjectLabel&) = default;
};

// One entry of the append-only, hash-chained audit log. The caller fills time (0: the store's
// now), kind, actor, subject and detail; the store assigns seq (1, 2, ... with no gaps), prev_hash
// (the previous entry's hash; "" for seq 1) and hash = audit::ChainHash(entry), atomically with the
// append, so concurrent appends (also from several processes on one database) form one chain.
struct AuditRecord {
  int64_t seq = 0;
  int64_t time = 0;       // microseconds
  std::string kind;       // "publish" | "receive" | "reject" | "deliver" | "delivery-failed" |
                          // "feedback" | "read-red" | "auth-failure" | "partner" | "channel" | ...
  std::string actor;      // user name, "partner:<identity id>", or "hub"
  std::string subject;    // object id, status id, partner id, ... ("" when none)
  std::string detail;     // a small JSON object with the rest
  std::string prev_hash;  // hex
  std::string hash;       // hex
  friend bool operator==(const AuditRecord&, const AuditRecord&) = default;
};

// A validated object to add (see stix::ObjectInfo). `json` is the minified object, served verbatim.
struct NewObject {
  std::string id;
  std::string type;
  std::string spec_version;
  // The version identity in microseconds (modified, else created). Absent for objects with
  // neither (SCOs): their version is their date_added (TAXII 2.1 section 3.6).
  std::optional<int64_t> version;
  std::string json;
  ObjectLabel label;
  // Written in the same transaction, only when this version is new (not a duplicate):
  std::vector<std::string> outbox_partners;  // one queued OutboxRow per partner identity id
  std::vector<FeedbackRecord> feedback;      // feedback this object gives (see FeedbackRecord)
  // Appended to the audit chain after AddObjectsRequest::audit (in object order): what is
  // recorded about this version only when it is stored (a replay of a held version records
  // nothing).
  std::vector<AuditRecord> audit;
};

// One object version named exactly (GetObjectVersions).
struct ObjectVersionKey {
  std::string id;
  int64_t version = 0;
  friend bool operator==(const ObjectVersionKey&, const ObjectVersionKey&) = default;
  friend auto operator<=>(const ObjectVersionKey&, const ObjectVersionKey&) = default;
};

// One stored object version.
struct StoredObject {
  std::string id;
  std::string type;
  std::string spec_version;
  int64_t version = 0;     // modified/created, or date_added for objects with neither
  int64_t date_added = 0;  // microseconds; unique and strictly increasing within a collection
  std::string json;        // empty when the query asked for metadata only
  ObjectLabel label;
};

enum class VersionSelector { kLast, kFirst, kAll };

// A TAXII object query over one collection. Every list filter is an OR of its values; filters
// combine with AND. Paging: results ordered by date_added ascending; `added_after` is exclusive.
struct ObjectQuery {
  std::string collection_id;
  std::optional<int64_t> added_after;      // exclusive
  std::vector<std::string> ids;            // match[id]
  std::vector<std::string> types;          // match[type]
  std::vector<std::string> spec_versions;  // match[spec_version]; empty: every spec version
  // match[version]: the selectors and/or explicit versions. Default (both empty): kLast.
  // "last"/"first" mean the newest/oldest version of each object in the collection (among those
  // matching spec_versions), whatever added_after says.
  std::vector<VersionSelector> version_selectors;
  std::vector<int64_t> versions;
  size_t limit = 1000;         // at most this many results; the store returns `more` beyond
  bool metadata_only = false;  // leave StoredObject::json empty (manifest, versions)
};

struct ObjectPage {
  std::vector<StoredObject> objects;
  bool more = false;  // more results exist after the last one returned
};

// The outcome of one object of a POST, kept in the status resource.
struct StatusDetail {
  std::string id;
  std::string version;  // STIX timestamp text of the object's version
  std::string message;  // for failures: why
};

// A TAXII status resource (TAXII 2.1 section 4.3.1).
struct StatusResource {
  std::string id;  // UUID
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
  std::string owner;  // user who posted; only they and admins may read it
};

// ---------------------------------------------------------------------------------------------
// Audit chain (audit/chain.h defines the hash), events, partners, channels, outbox

// A hub event for the live stream (GET /liaison/v1/events). Events are appended by the store in
// the transaction that causes them: one "object" event per new object version added by AddObjects,
// one "receipt" event per outbox row state change (MarkOutbox*), one "feedback" event per
// FeedbackRecord written. seq is assigned by the store: unique, strictly increasing, no reuse.
struct HubEvent {
  int64_t seq = 0;
  int64_t time = 0;
  std::string kind;           // "object" | "receipt" | "feedback"
  std::string collection_id;  // object events; feedback: collection of the feedback object
  std::string object_id;  // object: the object; receipt: the object delivered; feedback: about_id
  int64_t version = 0;    // object/receipt: the version; feedback: the feedback version
  ObjectLabel label;      // object events: the object's label (for visibility filtering);
                          // receipt/feedback: label of the object they are about, when known
  std::string data;       // a small JSON object (receipt: partner/state/error; feedback: record)
};

// A trusted partner hub (`liaison partner add`).
struct Partner {
  std::string id;             // the partner's identity id ("identity--...")
  std::string name;           // the organisation name
  std::string identity_json;  // its STIX identity object
  std::string url;            // its API root URL ("https://b.example:8443/api/")
  std::string inbox;          // its inbox collection id (where this hub pushes)
  std::string sign_key;       // Ed25519 public key, base64
  std::string box_key;        // X25519 public key for sealed boxes, base64
  std::string token;          // credential this hub presents to it (sealed at rest by crypto/)
  std::string user;           // local user (Role::kPartner) it authenticates as here
  bool disabled = false;      // no pushes, pulls or inbound calls
  int64_t created = 0;
  friend bool operator==(const Partner&, const Partner&) = default;
};

enum class ChannelMode { kPush, kPull };

// What flows between this hub and a partner. Push: objects added to `collection_id` here are
// queued for the partner (if policy allows, up to max_tlp). Pull: this hub polls the partner's
// `remote_collection` and stores what it gets in `collection_id`; `cursor` is the last
// X-TAXII-Date-Added-Last seen (TAXII timestamp text), persisted after every page.
struct Channel {
  std::string id;             // UUID
  std::string partner;        // Partner::id
  std::string collection_id;  // local collection
  ChannelMode mode = ChannelMode::kPush;
  int32_t max_tlp = 0;            // policy::Tlp as an integer: the highest marking that may flow
  std::string remote_collection;  // pull: the partner's collection id
  std::string cursor;             // pull: persisted added_after
  int64_t created = 0;
  friend bool operator==(const Channel&, const Channel&) = default;
};

enum class OutboxState { kQueued, kDelivered, kFailed };

// "Deliver this object version to that partner": written by AddObjects in the object's
// transaction, claimed and updated by the pusher. Also the delivery receipt the originator reads.
struct OutboxRow {
  int64_t seq = 0;            // assigned by the store; push order
  std::string partner;        // Partner::id
  std::string collection_id;  // where the object is stored here
  std::string object_id;
  int64_t version = 0;  // StoredObject::version
  int64_t date_added = 0;
  OutboxState state = OutboxState::kQueued;
  int32_t attempts = 0;
  int64_t next_attempt = 0;  // microseconds; due when <= now
  int64_t delivered_at = 0;  // kDelivered: when the partner acknowledged it
  std::string error;         // last failure reason; cleared on delivery
  int64_t created = 0;
  int64_t lease_until = 0;  // claimed by a pusher until then (crash recovery)
  friend bool operator==(const OutboxRow&, const OutboxRow&) = default;
};

struct OutboxQuery {
  std::string partner;    // "" = every partner
  std::string object_id;  // "" = every object
  std::optional<OutboxState> state;
  int64_t after_seq = 0;  // exclusive
  size_t limit = 1000;
};

// AddObjects: add validated objects to a collection and record the status, in one transaction.
// An object whose (id, version) is already in the collection is a no-op counted as a success.
struct AddObjectsRequest {
  std::string collection_id;
  std::vector<NewObject> objects;
  // Appended to the audit chain in the same transaction (whatever was added; also when nothing
  // was new). Their `time` is set to now_micros by the store when 0.
  std::vector<AuditRecord> audit;
  StatusResource status;  // id, api_root, owner, request_timestamp, total_count, failures filled
                          // in by the caller; the store adds the successes and counts
};

struct AddObjectsResult {
  StatusResource status;         // as stored
  int64_t first_date_added = 0;  // of the versions newly added (0 when none)
  int64_t last_date_added = 0;
  size_t added = 0;  // new versions (duplicates excluded)
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

  // Users. CreateUser: kAlreadyExists. UpdateUser replaces role/password_hash/disabled/partner:
  // kNotFound.
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

  // --- Sharing (issue 4)
  // The newest stored version (any collection) of each of `ids`, metadata only plus label;
  // unknown ids are absent from the result. At most kMaxQueryValues ids (kInvalidArgument).
  virtual Result<std::vector<StoredObject>> LookupObjects(const std::vector<std::string>& ids) = 0;

  // One object version with its bytes and label: kNotFound when absent from the collection.
  virtual Result<StoredObject> GetObjectVersion(const std::string& collection_id,
                                                const std::string& id, int64_t version) = 0;

  // The stored versions among `keys` (exact id and version) in one collection, with their bytes
  // unless `metadata_only`, and labels; keys not stored are absent from the result, which is in
  // no particular order and holds each version once however often its key is given. One
  // indexed probe per key (no cross product of ids and versions). At most kMaxQueryValues keys
  // (kInvalidArgument); kNotFound for an unknown collection.
  virtual Result<std::vector<StoredObject>> GetObjectVersions(
      const std::string& collection_id, const std::vector<ObjectVersionKey>& keys,
      bool metadata_only) = 0;

  // --- Audit chain. AppendAudit: one transaction; returns the records as stored (seq, hashes).
  virtual Result<std::vector<AuditRecord>> AppendAudit(const std::vector<AuditRecord>& records,
                                                       int64_t now_micros) = 0;
  // Entries with seq > after_seq in seq order, at most limit.
  virtual Result<std::vector<AuditRecord>> ListAudit(int64_t after_seq, size_t limit) = 0;

  // --- Events: seq > after_seq in order, at most limit. LastEventSeq: 0 when none.
  virtual Result<std::vector<HubEvent>> ListEvents(int64_t after_seq, size_t limit) = 0;
  virtual Result<int64_t> LastEventSeq() = 0;

  // --- Partners. CreatePartner: kAlreadyExists for a known id. UpdatePartner replaces every field
  // but id/created: kNotFound. DeletePartner also deletes its channels and queued outbox rows
  // (delivered/failed rows stay as receipts): kNotFound.
  virtual Status CreatePartner(const Partner& partner) = 0;
  virtual Status UpdatePartner(const Partner& partner) = 0;
  virtual Result<Partner> GetPartner(const std::string& id) = 0;
  virtual Result<std::vector<Partner>> ListPartners() = 0;  // ordered by id
  virtual Status DeletePartner(const std::string& id) = 0;

  // --- Channels. CreateChannel: kNotFound for an unknown partner or collection, kAlreadyExists
  // for a taken id or an identical (partner, collection, mode, remote_collection).
  virtual Status CreateChannel(const Channel& channel) = 0;
  // ListChannels: the partner's channels ("" = every channel), by created.
  virtual Result<std::vector<Channel>> ListChannels(const std::string& partner) = 0;
  // DeleteChannel: kNotFound when unknown.
  virtual Status DeleteChannel(const std::string& id) = 0;
  // Pull channels: persists the cursor (kNotFound for an unknown channel).
  virtual Status SetChannelCursor(const std::string& id, const std::string& cursor) = 0;

  // --- Outbox. ClaimOutbox: up to `limit` queued rows of `partner` that are due (next_attempt <=
  // now) and not leased (lease_until <= now), in seq order, stopping at the first queued row of
  // the partner that is not due (so order per partner, and hence per object, is kept); marks them
  // leased until now + lease_micros and returns them. Two processes never get the same row while
  // its lease holds.
  virtual Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& partner, size_t limit,
                                                     int64_t now_micros, int64_t lease_micros) = 0;
  // Delivered: state kDelivered, delivered_at = now, error cleared, lease released; one "receipt"
  // event and nothing else per row. Unknown seqs are ignored.
  virtual Status MarkOutboxDelivered(const std::vector<int64_t>& seqs, int64_t now_micros) = 0;
  // A failed attempt: attempts + 1, error set, lease released; `permanent` makes it kFailed, else
  // it stays kQueued with next_attempt. One "receipt" event per row.
  virtual Status MarkOutboxFailed(const std::vector<int64_t>& seqs, const std::string& error,
                                  bool permanent, int64_t next_attempt, int64_t now_micros) = 0;
  // The rows matching every set filter of `query`, in seq order, at most query.limit.
  virtual Result<std::vector<OutboxRow>> ListOutbox(const OutboxQuery& query) = 0;
  // Partners with queued rows (for pushers to start), by id.
  virtual Result<std::vector<std::string>> PartnersWithQueuedOutbox() = 0;

  // --- Feedback: the records about `about_id` ("" = all), in received order (then feedback_id).
  virtual Result<std::vector<FeedbackRecord>> ListFeedback(const std::string& about_id) = 0;
};

std::string_view RoleName(Role role);  // "admin" | "publisher" | "reader" | "partner"
std::string_view OutboxStateName(OutboxState state);  // "queued" | "delivered" | "failed"
std::string_view ChannelModeName(ChannelMode mode);   // "push" | "pull"
Result<ChannelMode> ParseChannelMode(std::string_view name);
Result<Role> ParseRole(std::string_view name);

}  // namespace liaison::storage
