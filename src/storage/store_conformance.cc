#include "storage/store_conformance.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "storage/store_util.h"

// Every test here checks a clause of the contract in storage/store.h (including the "Details of
// the contract" list there). Nothing here may depend on a particular backend.

namespace liaison::storage {

void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

void StoreConformance::SetUp() {
  store_ = GetParam().make();
  ASSERT_NE(store_, nullptr);
}

void StoreConformance::TearDown() { store_.reset(); }

namespace {

constexpr int64_t kT0 = 1700000000000000;  // 2023-11-14T22:13:20Z in microseconds

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    auto assert_ok_status_ = ::liaison::internal::ToStatus((expr));      \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_.ToString(); \
  } while (false)
#define EXPECT_OK(expr)                                                  \
  do {                                                                   \
    auto expect_ok_status_ = ::liaison::internal::ToStatus((expr));      \
    EXPECT_TRUE(expect_ok_status_.ok()) << expect_ok_status_.ToString(); \
  } while (false)
#define EXPECT_CODE(expr, expected_code)                                                      \
  do {                                                                                        \
    auto expect_code_status_ = ::liaison::internal::ToStatus((expr));                         \
    EXPECT_EQ(expect_code_status_.code(), (expected_code)) << expect_code_status_.ToString(); \
  } while (false)

ApiRoot Root(const std::string& name) {
  ApiRoot r;
  r.name = name;
  r.title = "Title of " + name;
  r.description = "Description of " + name;
  return r;
}

Collection Coll(const std::string& id, const std::string& root = "api1",
                const std::string& alias = "") {
  Collection c;
  c.id = id;
  c.api_root = root;
  c.title = "Collection " + id;
  c.description = "About " + id;
  c.alias = alias;
  return c;
}

// An object with a version; json names id, version and spec_version so round trips are visible.
NewObject Obj(const std::string& id, std::optional<int64_t> version,
              const std::string& type = "indicator", const std::string& spec_version = "2.1",
              const std::string& extra = "") {
  NewObject o;
  o.id = id;
  o.type = type;
  o.spec_version = spec_version;
  o.version = version;
  o.json = "{\"type\":\"" + type + "\",\"id\":\"" + id + "\",\"spec_version\":\"" + spec_version +
           "\",\"v\":" + (version ? std::to_string(*version) : std::string("null")) + extra + "}";
  return o;
}

std::string Id(const std::string& type, int n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s--00000000-0000-4000-8000-%012d", type.c_str(), n);
  return buf;
}

ObjectQuery Query(const std::string& collection = "c1") {
  ObjectQuery q;
  q.collection_id = collection;
  return q;
}

// (id, version) pairs of a page, in order.
std::vector<std::pair<std::string, int64_t>> Keys(const ObjectPage& page) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const StoredObject& o : page.objects) out.emplace_back(o.id, o.version);
  return out;
}

class Fixture {
 public:
  explicit Fixture(Store& store) : store_(store) {}

  Result<AddObjectsResult> Add(const std::string& collection, std::vector<NewObject> objects,
                               int64_t now, const std::string& status_id = "") {
    AddObjectsRequest req;
    req.collection_id = collection;
    req.objects = std::move(objects);
    req.status.id = status_id;
    req.status.api_root = "api1";
    req.status.owner = "alice";
    req.status.request_timestamp = now;
    req.status.total_count = static_cast<int64_t>(req.objects.size());
    return store_.AddObjects(req, now);
  }

 private:
  Store& store_;
};

// Sets up api1 with collection c1 (and c2).
#define SETUP_COLLECTIONS()                        \
  ASSERT_OK(store_->CreateApiRoot(Root("api1")));  \
  ASSERT_OK(store_->CreateCollection(Coll("c1"))); \
  ASSERT_OK(store_->CreateCollection(Coll("c2"))); \
  Fixture fx(*store_)

// ---------------------------------------------------------------------------------------------
// Settings

TEST_P(StoreConformance, SettingsMissingIsEmpty) {
  auto v = store_->GetSetting("org.name");
  ASSERT_OK(v);
  EXPECT_FALSE(v->has_value());
}

TEST_P(StoreConformance, SettingsPutGetOverwrite) {
  ASSERT_OK(store_->PutSetting("org.name", "ACME CERT"));
  ASSERT_OK(store_->PutSetting("other", ""));
  auto v = store_->GetSetting("org.name");
  ASSERT_OK(v);
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "ACME CERT");
  ASSERT_OK(store_->PutSetting("org.name", "ACME CERT 2 \xE2\x9C\x93"));
  v = store_->GetSetting("org.name");
  ASSERT_OK(v);
  EXPECT_EQ(**v, "ACME CERT 2 \xE2\x9C\x93");
  auto empty = store_->GetSetting("other");
  ASSERT_OK(empty);
  ASSERT_TRUE(empty->has_value());
  EXPECT_EQ(**empty, "");
}

TEST_P(StoreConformance, SettingsEmptyKeyIsInvalid) {
  EXPECT_CODE(store_->PutSetting("", "x"), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// API roots

TEST_P(StoreConformance, ApiRootsRoundTripInCreationOrder) {
  ApiRoot b = Root("zeta");
  b.max_content_length = 12345;
  ASSERT_OK(store_->CreateApiRoot(b));
  ASSERT_OK(store_->CreateApiRoot(Root("alpha")));
  auto roots = store_->ListApiRoots();
  ASSERT_OK(roots);
  ASSERT_EQ(roots->size(), 2u);
  EXPECT_EQ((*roots)[0].name, "zeta");
  EXPECT_EQ((*roots)[0].title, "Title of zeta");
  EXPECT_EQ((*roots)[0].description, "Description of zeta");
  EXPECT_EQ((*roots)[0].max_content_length, 12345);
  EXPECT_EQ((*roots)[1].name, "alpha");
  auto got = store_->GetApiRoot("zeta");
  ASSERT_OK(got);
  EXPECT_EQ(got->max_content_length, 12345);
  EXPECT_EQ(got->title, "Title of zeta");
}

TEST_P(StoreConformance, ApiRootErrors) {
  EXPECT_CODE(store_->GetApiRoot("nope"), StatusCode::kNotFound);
  ASSERT_OK(store_->CreateApiRoot(Root("api1")));
  EXPECT_CODE(store_->CreateApiRoot(Root("api1")), StatusCode::kAlreadyExists);
  EXPECT_CODE(store_->CreateApiRoot(Root("")), StatusCode::kInvalidArgument);
  auto roots = store_->ListApiRoots();
  ASSERT_OK(roots);
  EXPECT_EQ(roots->size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Collections

TEST_P(StoreConformance, CollectionsRoundTripByIdAndAlias) {
  ASSERT_OK(store_->CreateApiRoot(Root("api1")));
  Collection c = Coll("91a7b528-80eb-42ed-a74d-c6fbd5a26116", "api1", "high-value");
  c.media_types = {"application/stix+json;version=2.1", "application/stix+json;version=2.0"};
  ASSERT_OK(store_->CreateCollection(c));
  for (const std::string& key : {c.id, std::string("high-value")}) {
    auto got = store_->GetCollection("api1", key);
    ASSERT_OK(got);
    EXPECT_EQ(got->id, c.id);
    EXPECT_EQ(got->api_root, "api1");
    EXPECT_EQ(got->title, c.title);
    EXPECT_EQ(got->description, c.description);
    EXPECT_EQ(got->alias, "high-value");
    EXPECT_EQ(got->media_types, c.media_types);
  }
  Collection no_alias = Coll("c-no-alias");
  no_alias.media_types = {};
  ASSERT_OK(store_->CreateCollection(no_alias));
  auto got = store_->GetCollection("api1", "c-no-alias");
  ASSERT_OK(got);
  EXPECT_EQ(got->alias, "");
  EXPECT_TRUE(got->media_types.empty());
  EXPECT_CODE(store_->GetCollection("api1", ""), StatusCode::kNotFound);
}

TEST_P(StoreConformance, CollectionsListedInCreationOrderPerRoot) {
  ASSERT_OK(store_->CreateApiRoot(Root("api1")));
  ASSERT_OK(store_->CreateApiRoot(Root("api2")));
  ASSERT_OK(store_->CreateCollection(Coll("zz")));
  ASSERT_OK(store_->CreateCollection(Coll("other", "api2")));
  ASSERT_OK(store_->CreateCollection(Coll("aa")));
  auto list = store_->ListCollections("api1");
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "zz");
  EXPECT_EQ((*list)[1].id, "aa");
  auto list2 = store_->ListCollections("api2");
  ASSERT_OK(list2);
  ASSERT_EQ(list2->size(), 1u);
  EXPECT_EQ((*list2)[0].id, "other");
  EXPECT_CODE(store_->ListCollections("api3"), StatusCode::kNotFound);
  // A collection is visible only in its own API root.
  EXPECT_CODE(store_->GetCollection("api2", "zz"), StatusCode::kNotFound);
}

TEST_P(StoreConformance, CollectionErrors) {
  EXPECT_CODE(store_->CreateCollection(Coll("c1")), StatusCode::kNotFound);  // no API root
  ASSERT_OK(store_->CreateApiRoot(Root("api1")));
  ASSERT_OK(store_->CreateApiRoot(Root("api2")));
  ASSERT_OK(store_->CreateCollection(Coll("c1", "api1", "alias1")));
  EXPECT_CODE(store_->CreateCollection(Coll("c1")), StatusCode::kAlreadyExists);
  EXPECT_CODE(store_->CreateCollection(Coll("c1", "api2")), StatusCode::kAlreadyExists);
  EXPECT_CODE(store_->CreateCollection(Coll("c2", "api1", "alias1")), StatusCode::kAlreadyExists);
  // An alias may not shadow another collection's id, nor an id another's alias.
  EXPECT_CODE(store_->CreateCollection(Coll("c3", "api1", "c1")), StatusCode::kAlreadyExists);
  EXPECT_CODE(store_->CreateCollection(Coll("alias1", "api1")), StatusCode::kAlreadyExists);
  // The same alias in another API root is fine.
  EXPECT_OK(store_->CreateCollection(Coll("c4", "api2", "alias1")));
  EXPECT_CODE(store_->CreateCollection(Coll("", "api1")), StatusCode::kInvalidArgument);
  EXPECT_CODE(store_->GetCollection("api1", "c2"), StatusCode::kNotFound);
  auto list = store_->ListCollections("api1");
  ASSERT_OK(list);
  EXPECT_EQ(list->size(), 1u);
}

TEST_P(StoreConformance, DeleteCollectionRemovesObjectsAndGrants) {
  SETUP_COLLECTIONS();
  ASSERT_OK(fx.Add("c1", {Obj(Id("indicator", 1), kT0)}, kT0));
  ASSERT_OK(fx.Add("c2", {Obj(Id("indicator", 1), kT0)}, kT0));
  ASSERT_OK(store_->PutGrant({"c1", "role:reader", true, false}));
  EXPECT_CODE(store_->DeleteCollection("api2", "c1"), StatusCode::kNotFound);
  EXPECT_CODE(store_->DeleteCollection("api1", "nope"), StatusCode::kNotFound);
  ASSERT_OK(store_->DeleteCollection("api1", "c1"));
  EXPECT_CODE(store_->GetCollection("api1", "c1"), StatusCode::kNotFound);
  EXPECT_CODE(store_->QueryObjects(Query("c1")), StatusCode::kNotFound);
  EXPECT_CODE(store_->CountObjects("c1"), StatusCode::kNotFound);
  EXPECT_CODE(store_->DeleteCollection("api1", "c1"), StatusCode::kNotFound);
  // The other collection is untouched.
  auto count = store_->CountObjects("c2");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 1);
  // Re-created with the same id, it starts empty and without grants.
  ASSERT_OK(store_->CreateCollection(Coll("c1")));
  count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 0);
  auto grants = store_->ListGrants("c1");
  ASSERT_OK(grants);
  EXPECT_TRUE(grants->empty());
  auto page = store_->QueryObjects(Query("c1"));
  ASSERT_OK(page);
  EXPECT_TRUE(page->objects.empty());
}

// ---------------------------------------------------------------------------------------------
// Grants

TEST_P(StoreConformance, GrantsPutReplaceListDelete) {
  SETUP_COLLECTIONS();
  ASSERT_OK(store_->PutGrant({"c1", "user:bob", true, true}));
  ASSERT_OK(store_->PutGrant({"c1", "role:reader", true, false}));
  ASSERT_OK(store_->PutGrant({"c2", "role:publisher", true, true}));
  ASSERT_OK(store_->PutGrant({"c1", "user:bob", true, false}));  // replaces
  auto grants = store_->ListGrants("c1");
  ASSERT_OK(grants);
  ASSERT_EQ(grants->size(), 2u);
  EXPECT_EQ((*grants)[0].subject, "role:reader");  // ordered by subject
  EXPECT_EQ((*grants)[0].collection_id, "c1");
  EXPECT_TRUE((*grants)[0].can_read);
  EXPECT_FALSE((*grants)[0].can_write);
  EXPECT_EQ((*grants)[1].subject, "user:bob");
  EXPECT_TRUE((*grants)[1].can_read);
  EXPECT_FALSE((*grants)[1].can_write);
  ASSERT_OK(store_->DeleteGrant("c1", "user:bob"));
  EXPECT_CODE(store_->DeleteGrant("c1", "user:bob"), StatusCode::kNotFound);
  EXPECT_CODE(store_->DeleteGrant("c1", "role:publisher"), StatusCode::kNotFound);
  grants = store_->ListGrants("c1");
  ASSERT_OK(grants);
  ASSERT_EQ(grants->size(), 1u);
  auto grants2 = store_->ListGrants("c2");
  ASSERT_OK(grants2);
  ASSERT_EQ(grants2->size(), 1u);
  EXPECT_TRUE((*grants2)[0].can_write);
}

TEST_P(StoreConformance, GrantErrors) {
  SETUP_COLLECTIONS();
  EXPECT_CODE(store_->PutGrant({"nope", "role:reader", true, false}), StatusCode::kNotFound);
  EXPECT_CODE(store_->ListGrants("nope"), StatusCode::kNotFound);
  EXPECT_CODE(store_->PutGrant({"c1", "", true, false}), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Users and API keys

User MakeUser(const std::string& name, Role role) {
  User u;
  u.name = name;
  u.role = role;
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$" + name;
  u.created = kT0;
  return u;
}

TEST_P(StoreConformance, UsersRoundTrip) {
  ASSERT_OK(store_->CreateUser(MakeUser("zoe", Role::kReader)));
  ASSERT_OK(store_->CreateUser(MakeUser("alice", Role::kAdmin)));
  User no_password = MakeUser("bob", Role::kPublisher);
  no_password.password_hash = "";
  no_password.disabled = true;
  ASSERT_OK(store_->CreateUser(no_password));
  auto alice = store_->GetUser("alice");
  ASSERT_OK(alice);
  EXPECT_EQ(alice->role, Role::kAdmin);
  EXPECT_EQ(alice->password_hash, "$argon2id$v=19$m=65536,t=2,p=1$alice");
  EXPECT_EQ(alice->created, kT0);
  EXPECT_FALSE(alice->disabled);
  auto bob = store_->GetUser("bob");
  ASSERT_OK(bob);
  EXPECT_EQ(bob->role, Role::kPublisher);
  EXPECT_EQ(bob->password_hash, "");
  EXPECT_TRUE(bob->disabled);
  auto users = store_->ListUsers();
  ASSERT_OK(users);
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ((*users)[1].name, "bob");
  EXPECT_EQ((*users)[2].name, "zoe");
}

TEST_P(StoreConformance, UpdateUserReplacesRolePasswordDisabled) {
  ASSERT_OK(store_->CreateUser(MakeUser("alice", Role::kReader)));
  User u = MakeUser("alice", Role::kAdmin);
  u.password_hash = "new-hash";
  u.disabled = true;
  u.created = 42;  // not replaced
  ASSERT_OK(store_->UpdateUser(u));
  auto got = store_->GetUser("alice");
  ASSERT_OK(got);
  EXPECT_EQ(got->role, Role::kAdmin);
  EXPECT_EQ(got->password_hash, "new-hash");
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->created, kT0);
}

TEST_P(StoreConformance, UserErrors) {
  EXPECT_CODE(store_->GetUser("alice"), StatusCode::kNotFound);
  EXPECT_CODE(store_->UpdateUser(MakeUser("alice", Role::kAdmin)), StatusCode::kNotFound);
  ASSERT_OK(store_->CreateUser(MakeUser("alice", Role::kReader)));
  EXPECT_CODE(store_->CreateUser(MakeUser("alice", Role::kAdmin)), StatusCode::kAlreadyExists);
  EXPECT_CODE(store_->CreateUser(MakeUser("", Role::kAdmin)), StatusCode::kInvalidArgument);
  auto got = store_->GetUser("alice");
  ASSERT_OK(got);
  EXPECT_EQ(got->role, Role::kReader);
}

ApiKey MakeKey(const std::string& key_id, const std::string& user) {
  ApiKey k;
  k.key_id = key_id;
  k.user = user;
  k.secret_hash = "hash-of-" + key_id;
  k.description = "key " + key_id;
  k.created = kT0 + 7;
  return k;
}

TEST_P(StoreConformance, ApiKeysRoundTripListRevoke) {
  ASSERT_OK(store_->CreateUser(MakeUser("alice", Role::kAdmin)));
  ASSERT_OK(store_->CreateUser(MakeUser("bob", Role::kReader)));
  ASSERT_OK(store_->CreateApiKey(MakeKey("k2", "alice")));
  ASSERT_OK(store_->CreateApiKey(MakeKey("k1", "alice")));
  ASSERT_OK(store_->CreateApiKey(MakeKey("k3", "bob")));
  auto k = store_->FindApiKey("k1");
  ASSERT_OK(k);
  EXPECT_EQ(k->user, "alice");
  EXPECT_EQ(k->secret_hash, "hash-of-k1");
  EXPECT_EQ(k->description, "key k1");
  EXPECT_EQ(k->created, kT0 + 7);
  EXPECT_FALSE(k->revoked);
  auto list = store_->ListApiKeys("alice");
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].key_id, "k1");
  EXPECT_EQ((*list)[1].key_id, "k2");
  auto none = store_->ListApiKeys("nobody");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  ASSERT_OK(store_->RevokeApiKey("k1"));
  ASSERT_OK(store_->RevokeApiKey("k1"));  // idempotent
  k = store_->FindApiKey("k1");
  ASSERT_OK(k);
  EXPECT_TRUE(k->revoked);
  auto other = store_->FindApiKey("k2");
  ASSERT_OK(other);
  EXPECT_FALSE(other->revoked);
}

TEST_P(StoreConformance, ApiKeyErrors) {
  EXPECT_CODE(store_->CreateApiKey(MakeKey("k1", "ghost")), StatusCode::kNotFound);
  ASSERT_OK(store_->CreateUser(MakeUser("alice", Role::kAdmin)));
  ASSERT_OK(store_->CreateApiKey(MakeKey("k1", "alice")));
  EXPECT_CODE(store_->CreateApiKey(MakeKey("k1", "alice")), StatusCode::kAlreadyExists);
  EXPECT_CODE(store_->CreateApiKey(MakeKey("", "alice")), StatusCode::kInvalidArgument);
  EXPECT_CODE(store_->FindApiKey("k9"), StatusCode::kNotFound);
  EXPECT_CODE(store_->RevokeApiKey("k9"), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// AddObjects and status resources

TEST_P(StoreConformance, AddObjectsStoresBytesAndMetadata) {
  SETUP_COLLECTIONS();
  NewObject o = Obj(Id("indicator", 1), kT0 - 5000, "indicator", "2.1",
                    ",\"name\":\"caf\xC3\xA9 \\u00e9 \\\"q\\\"\",\"n\":[1,2.50,{\"a\":null}]");
  std::string big(200000, 'x');
  NewObject large = Obj(Id("malware", 2), kT0 - 1, "malware", "2.1", ",\"blob\":\"" + big + "\"");
  auto r = fx.Add("c1", {o, large}, kT0, "status-1");
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 2u);
  EXPECT_EQ(r->first_date_added, kT0);
  EXPECT_EQ(r->last_date_added, kT0 + 1);
  ObjectQuery q = Query();
  auto page = store_->QueryObjects(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 2u);
  const StoredObject& s = page->objects[0];
  EXPECT_EQ(s.id, o.id);
  EXPECT_EQ(s.type, "indicator");
  EXPECT_EQ(s.spec_version, "2.1");
  EXPECT_EQ(s.version, kT0 - 5000);
  EXPECT_EQ(s.date_added, kT0);
  EXPECT_EQ(s.json, o.json);
  EXPECT_EQ(page->objects[1].json, large.json);
  EXPECT_EQ(page->objects[1].type, "malware");
  EXPECT_FALSE(page->more);
  auto count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 2);
  count = store_->CountObjects("c2");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 0);
}

TEST_P(StoreConformance, AddObjectsRecordsStatus) {
  SETUP_COLLECTIONS();
  AddObjectsRequest req;
  req.collection_id = "c1";
  req.objects = {Obj(Id("indicator", 1), kT0 - 1000), Obj(Id("indicator", 2), kT0 - 1500)};
  req.status.id = "2d086da7-4bdc-4f91-900e-d77486753710";
  req.status.api_root = "api1";
  req.status.owner = "alice";
  req.status.request_timestamp = kT0 - 3;
  req.status.total_count = 3;
  req.status.failures.push_back({Id("indicator", 3), "2020-01-01T00:00:00.000Z", "bad pattern"});
  auto r = store_->AddObjects(req, kT0);
  ASSERT_OK(r);
  const StatusResource& s = r->status;
  EXPECT_EQ(s.id, req.status.id);
  EXPECT_EQ(s.status, "complete");
  EXPECT_EQ(s.total_count, 3);
  EXPECT_EQ(s.success_count, 2);
  EXPECT_EQ(s.failure_count, 1);
  EXPECT_EQ(s.pending_count, 0);
  ASSERT_EQ(s.successes.size(), 2u);
  EXPECT_EQ(s.successes[0].id, Id("indicator", 1));
  EXPECT_EQ(s.successes[0].version, FormatVersionText(kT0 - 1000));
  EXPECT_EQ(s.successes[1].id, Id("indicator", 2));
  EXPECT_EQ(s.successes[1].version, FormatVersionText(kT0 - 1500));

  auto got = store_->GetStatus("api1", req.status.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->id, req.status.id);
  EXPECT_EQ(got->api_root, "api1");
  EXPECT_EQ(got->owner, "alice");
  EXPECT_EQ(got->status, "complete");
  EXPECT_EQ(got->request_timestamp, kT0 - 3);
  EXPECT_EQ(got->total_count, 3);
  EXPECT_EQ(got->success_count, 2);
  EXPECT_EQ(got->failure_count, 1);
  EXPECT_EQ(got->pending_count, 0);
  ASSERT_EQ(got->successes.size(), 2u);
  EXPECT_EQ(got->successes[1].id, Id("indicator", 2));
  EXPECT_EQ(got->successes[1].version, FormatVersionText(kT0 - 1500));
  ASSERT_EQ(got->failures.size(), 1u);
  EXPECT_EQ(got->failures[0].id, Id("indicator", 3));
  EXPECT_EQ(got->failures[0].version, "2020-01-01T00:00:00.000Z");
  EXPECT_EQ(got->failures[0].message, "bad pattern");
  EXPECT_TRUE(got->pendings.empty());

  EXPECT_CODE(store_->GetStatus("api2", req.status.id), StatusCode::kNotFound);
  EXPECT_CODE(store_->GetStatus("api1", "unknown"), StatusCode::kNotFound);
}

TEST_P(StoreConformance, StatusWithOnlyFailuresAndWithPendings) {
  SETUP_COLLECTIONS();
  AddObjectsRequest req;
  req.collection_id = "c1";
  req.status.id = "s-failures";
  req.status.api_root = "api1";
  req.status.total_count = 0;  // raised to the sum of the lists
  req.status.failures = {{"a--1", "", "no id"}, {"b--2", "", "tab\there\nnewline \xE2\x9C\x93"}};
  auto r = store_->AddObjects(req, kT0);
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 0u);
  EXPECT_EQ(r->first_date_added, 0);
  EXPECT_EQ(r->last_date_added, 0);
  auto got = store_->GetStatus("api1", "s-failures");
  ASSERT_OK(got);
  EXPECT_EQ(got->total_count, 2);
  EXPECT_EQ(got->failure_count, 2);
  EXPECT_EQ(got->success_count, 0);
  ASSERT_EQ(got->failures.size(), 2u);
  EXPECT_EQ(got->failures[1].message, "tab\there\nnewline \xE2\x9C\x93");

  req.status.id = "s-pending";
  req.status.failures.clear();
  req.status.pendings = {{"c--3", "2021-01-01T00:00:00.000Z", ""}};
  req.objects = {Obj(Id("indicator", 9), kT0)};
  r = store_->AddObjects(req, kT0);
  ASSERT_OK(r);
  got = store_->GetStatus("api1", "s-pending");
  ASSERT_OK(got);
  EXPECT_EQ(got->status, "pending");
  EXPECT_EQ(got->pending_count, 1);
  EXPECT_EQ(got->success_count, 1);
  ASSERT_EQ(got->pendings.size(), 1u);
  EXPECT_EQ(got->pendings[0].id, "c--3");
  EXPECT_EQ(got->pendings[0].version, "2021-01-01T00:00:00.000Z");
}

TEST_P(StoreConformance, AddObjectsErrorsCommitNothing) {
  SETUP_COLLECTIONS();
  EXPECT_CODE(fx.Add("nope", {Obj(Id("indicator", 1), kT0)}, kT0, "s0"), StatusCode::kNotFound);
  EXPECT_CODE(store_->GetStatus("api1", "s0"), StatusCode::kNotFound);
  ASSERT_OK(fx.Add("c1", {Obj(Id("indicator", 1), kT0)}, kT0, "s1"));
  // A reused status id fails the whole call.
  EXPECT_CODE(fx.Add("c1", {Obj(Id("indicator", 2), kT0)}, kT0 + 10, "s1"),
              StatusCode::kAlreadyExists);
  // An invalid object fails the whole call.
  NewObject bad = Obj(Id("indicator", 3), kT0);
  bad.id = "";
  EXPECT_CODE(fx.Add("c1", {Obj(Id("indicator", 4), kT0), bad}, kT0 + 20, "s2"),
              StatusCode::kInvalidArgument);
  NewObject no_json = Obj(Id("indicator", 5), kT0);
  no_json.json = "";
  EXPECT_CODE(fx.Add("c1", {no_json}, kT0 + 30, "s3"), StatusCode::kInvalidArgument);
  EXPECT_CODE(store_->GetStatus("api1", "s2"), StatusCode::kNotFound);
  auto count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 1);
  // The failed calls consumed no date_added values that matter: the next one is still greater.
  auto r = fx.Add("c1", {Obj(Id("indicator", 6), kT0)}, kT0);
  ASSERT_OK(r);
  EXPECT_GT(r->first_date_added, kT0);
}

TEST_P(StoreConformance, DuplicateVersionIsNoOpSuccess) {
  SETUP_COLLECTIONS();
  std::string id = Id("indicator", 1);
  ASSERT_OK(fx.Add("c1", {Obj(id, kT0 - 100)}, kT0));
  // Same (id, version) again, alone and twice within one batch, next to a new version.
  auto r =
      fx.Add("c1", {Obj(id, kT0 - 100), Obj(id, kT0 - 50), Obj(id, kT0 - 50)}, kT0 + 10, "s-dup");
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 1u);
  EXPECT_EQ(r->first_date_added, r->last_date_added);
  EXPECT_EQ(r->status.success_count, 3);
  EXPECT_EQ(r->status.failure_count, 0);
  ASSERT_EQ(r->status.successes.size(), 3u);
  EXPECT_EQ(r->status.successes[0].version, FormatVersionText(kT0 - 100));
  EXPECT_EQ(r->status.successes[2].version, FormatVersionText(kT0 - 50));
  auto count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 2);
  // The duplicate kept its original date_added.
  ObjectQuery q = Query();
  q.version_selectors = {VersionSelector::kAll};
  auto page = store_->QueryObjects(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].version, kT0 - 100);
  EXPECT_EQ(page->objects[0].date_added, kT0);
  // A duplicate-only call adds nothing.
  r = fx.Add("c1", {Obj(id, kT0 - 100)}, kT0 + 20);
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 0u);
  EXPECT_EQ(r->first_date_added, 0);
  // The same object in another collection is not a duplicate.
  r = fx.Add("c2", {Obj(id, kT0 - 100)}, kT0 + 30);
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 1u);
}

// ---------------------------------------------------------------------------------------------
// date_added

TEST_P(StoreConformance, DateAddedStrictlyIncreasesWhenClockStallsOrGoesBack) {
  SETUP_COLLECTIONS();
  std::vector<int64_t> clock = {kT0, kT0, kT0 - 1000000, kT0 + 5, kT0 + 5, kT0 + 1000, 1};
  int n = 0;
  int64_t previous = 0;
  for (int64_t now : clock) {
    std::vector<NewObject> batch;
    for (int i = 0; i < 3; ++i) batch.push_back(Obj(Id("indicator", n++), kT0));
    auto r = fx.Add("c1", batch, now);
    ASSERT_OK(r);
    EXPECT_GT(r->first_date_added, previous);
    EXPECT_EQ(r->first_date_added, std::max(now, previous + 1));
    EXPECT_EQ(r->last_date_added, r->first_date_added + 2);
    previous = r->last_date_added;
  }
  ObjectQuery q = Query();
  auto page = store_->QueryObjects(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 21u);
  for (size_t i = 1; i < page->objects.size(); ++i) {
    EXPECT_GT(page->objects[i].date_added, page->objects[i - 1].date_added);
  }
  // Collections are independent: c2 starts from the clock.
  auto r = fx.Add("c2", {Obj(Id("indicator", 1), kT0)}, kT0 - 7);
  ASSERT_OK(r);
  EXPECT_EQ(r->first_date_added, kT0 - 7);
}

TEST_P(StoreConformance, DateAddedNeverReusedAfterDelete) {
  SETUP_COLLECTIONS();
  auto r = fx.Add("c1", {Obj(Id("indicator", 1), kT0), Obj(Id("indicator", 2), kT0)}, kT0);
  ASSERT_OK(r);
  int64_t last = r->last_date_added;
  ASSERT_OK(store_->DeleteObject(Query(), Id("indicator", 2)));
  r = fx.Add("c1", {Obj(Id("indicator", 3), kT0)}, kT0);
  ASSERT_OK(r);
  EXPECT_GT(r->first_date_added, last);
}

// ---------------------------------------------------------------------------------------------
// Paging

TEST_P(StoreConformance, AddedAfterIsExclusiveAndLimitSetsMore) {
  SETUP_COLLECTIONS();
  std::vector<NewObject> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(Obj(Id("indicator", i), kT0));
  ASSERT_OK(fx.Add("c1", batch, kT0 + 100));  // date_added kT0+100 .. kT0+104
  ObjectQuery q = Query();
  q.added_after = kT0 + 101;
  auto page = store_->QueryObjects(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(page->objects[0].date_added, kT0 + 102);
  EXPECT_EQ(page->objects[0].id, Id("indicator", 2));
  EXPECT_FALSE(page->more);
  q.limit = 2;
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_TRUE(page->more);
  q.limit = 3;
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  EXPECT_EQ(page->objects.size(), 3u);
  EXPECT_FALSE(page->more);  // exactly limit left: no more
  q.added_after = kT0 + 104;
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->more);
  q.added_after = 0;
  q.limit = 0;
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->more);
  q.limit = static_cast<size_t>(-1);  // huge limits do not overflow
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  EXPECT_EQ(page->objects.size(), 5u);
  EXPECT_FALSE(page->more);
}

TEST_P(StoreConformance, PagingThroughThousandsNeverSkipsOrRepeats) {
  SETUP_COLLECTIONS();
  // 4000 objects in batches of 250, with a clock that stalls and jumps back, and every 10th
  // object getting a second version later (so version=all has 4400 rows).
  int64_t now = kT0;
  std::set<std::pair<std::string, int64_t>> expected_all;
  std::set<std::string> expected_ids;
  for (int b = 0; b < 16; ++b) {
    std::vector<NewObject> batch;
    for (int i = 0; i < 250; ++i) {
      int n = b * 250 + i;
      batch.push_back(Obj(Id("indicator", n), kT0 - n));
      expected_all.insert({Id("indicator", n), kT0 - n});
      expected_ids.insert(Id("indicator", n));
    }
    if (b == 8) {
      for (int n = 0; n < 2000; n += 5) {
        batch.push_back(Obj(Id("indicator", n), kT0 + 1));
        expected_all.insert({Id("indicator", n), kT0 + 1});
      }
    }
    ASSERT_OK(fx.Add("c1", batch, now));
    now = (b % 3 == 0) ? now - 500 : now + 100;  // may go back below the last date_added
  }
  auto count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, static_cast<int64_t>(expected_all.size()));

  for (bool all : {true, false}) {
    std::set<std::pair<std::string, int64_t>> seen;
    std::set<std::string> seen_ids;
    ObjectQuery q = Query();
    q.limit = 333;
    q.metadata_only = true;
    if (all) q.version_selectors = {VersionSelector::kAll};
    int64_t previous = 0;
    int pages = 0;
    while (true) {
      auto page = store_->QueryObjects(q);
      ASSERT_OK(page);
      ++pages;
      for (const StoredObject& o : page->objects) {
        EXPECT_GT(o.date_added, previous);
        previous = o.date_added;
        EXPECT_TRUE(seen.insert({o.id, o.version}).second) << "repeated " << o.id;
        seen_ids.insert(o.id);
        EXPECT_TRUE(o.json.empty());
      }
      if (!page->more) break;
      ASSERT_FALSE(page->objects.empty());
      q.added_after = page->objects.back().date_added;
      ASSERT_LT(pages, 100);
    }
    if (all) {
      EXPECT_EQ(seen, expected_all);
    } else {
      EXPECT_EQ(seen.size(), expected_ids.size());
      EXPECT_EQ(seen_ids, expected_ids);
      // Each object appears with its newest version.
      for (const auto& [id, version] : seen) {
        int n = std::stoi(id.substr(id.size() - 12));
        EXPECT_EQ(version, (n < 2000 && n % 5 == 0) ? kT0 + 1 : kT0 - n) << id;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Match filters

class Catalogue {
 public:
  // c1 holds:
  //   indicator 1: versions kT0-300 (2.1), kT0-200 (2.1), kT0-100 (2.0)   [added in that order]
  //   malware 2:   version kT0-50 (2.1)
  //   indicator 3: versions kT0-10 (2.1), then an OLDER version kT0-20 (2.1) added later
  //   tool 4:      version kT0-5 (2.0)
  static void Load(Store& store, Fixture& fx) {
    (void)store;
    ASSERT_OK(fx.Add("c1", {Obj(Id("indicator", 1), kT0 - 300)}, kT0 + 1));
    ASSERT_OK(fx.Add(
        "c1", {Obj(Id("indicator", 1), kT0 - 200), Obj(Id("malware", 2), kT0 - 50, "malware")},
        kT0 + 2));
    ASSERT_OK(fx.Add("c1", {Obj(Id("indicator", 1), kT0 - 100, "indicator", "2.0")}, kT0 + 4));
    ASSERT_OK(fx.Add("c1", {Obj(Id("indicator", 3), kT0 - 10)}, kT0 + 5));
    ASSERT_OK(fx.Add("c1", {Obj(Id("indicator", 3), kT0 - 20)}, kT0 + 6));
    ASSERT_OK(fx.Add("c1", {Obj(Id("tool", 4), kT0 - 5, "tool", "2.0")}, kT0 + 7));
  }
};

using KeyList = std::vector<std::pair<std::string, int64_t>>;

KeyList RunQuery(Store& store, ObjectQuery q) {
  auto page = store.QueryObjects(q);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  if (!page.ok()) return {};
  return Keys(*page);
}

TEST_P(StoreConformance, DefaultVersionIsLastInDateAddedOrder) {
  SETUP_COLLECTIONS();
  Catalogue::Load(*store_, fx);
  ObjectQuery q = Query();
  KeyList expected = {{Id("malware", 2), kT0 - 50},
                      {Id("indicator", 1), kT0 - 100},
                      {Id("indicator", 3), kT0 - 10},
                      {Id("tool", 4), kT0 - 5}};
  EXPECT_EQ(RunQuery(*store_, q), expected);
  q.version_selectors = {VersionSelector::kLast};
  EXPECT_EQ(RunQuery(*store_, q), expected);
}

TEST_P(StoreConformance, VersionFirstAllAndExplicit) {
  SETUP_COLLECTIONS();
  Catalogue::Load(*store_, fx);
  ObjectQuery q = Query();
  q.version_selectors = {VersionSelector::kFirst};
  EXPECT_EQ(RunQuery(*store_, q), (KeyList{{Id("indicator", 1), kT0 - 300},
                                           {Id("malware", 2), kT0 - 50},
                                           {Id("indicator", 3), kT0 - 20},
                                           {Id("tool", 4), kT0 - 5}}));
  q.version_selectors = {VersionSelector::kAll};
  EXPECT_EQ(RunQuery(*store_, q).size(), 7u);
  q.version_selectors = {VersionSelector::kFirst, VersionSelector::kLast};
  EXPECT_EQ(RunQuery(*store_, q), (KeyList{{Id("indicator", 1), kT0 - 300},
                                           {Id("malware", 2), kT0 - 50},
                                           {Id("indicator", 1), kT0 - 100},
                                           {Id("indicator", 3), kT0 - 10},
                                           {Id("indicator", 3), kT0 - 20},
                                           {Id("tool", 4), kT0 - 5}}));
  q.version_selectors = {};
  q.versions = {kT0 - 200, kT0 - 5, kT0 - 999};
  EXPECT_EQ(RunQuery(*store_, q),
            (KeyList{{Id("indicator", 1), kT0 - 200}, {Id("tool", 4), kT0 - 5}}));
  q.version_selectors = {VersionSelector::kFirst};
  q.versions = {kT0 - 200};
  EXPECT_EQ(RunQuery(*store_, q), (KeyList{{Id("indicator", 1), kT0 - 300},
                                           {Id("indicator", 1), kT0 - 200},
                                           {Id("malware", 2), kT0 - 50},
                                           {Id("indicator", 3), kT0 - 20},
                                           {Id("tool", 4), kT0 - 5}}));
  q.version_selectors = {VersionSelector::kAll};
  q.versions = {kT0 - 200};
  EXPECT_EQ(RunQuery(*store_, q).size(), 7u);
}

TEST_P(StoreConformance, LastAndFirstIgnoreAddedAfter) {
  SETUP_COLLECTIONS();
  Catalogue::Load(*store_, fx);
  ObjectQuery q = Query();
  // After kT0+5, c1 holds indicator 3's older version (kT0+6) and tool 4 (kT0+7). "last" of
  // indicator 3 is kT0-10 (added at kT0+5, not after), so indicator 3 does not appear.
  q.added_after = kT0 + 5;
  EXPECT_EQ(RunQuery(*store_, q), (KeyList{{Id("tool", 4), kT0 - 5}}));
  q.version_selectors = {VersionSelector::kFirst};
  EXPECT_EQ(RunQuery(*store_, q),
            (KeyList{{Id("indicator", 3), kT0 - 20}, {Id("tool", 4), kT0 - 5}}));
  // indicator 1's first version was added at kT0+1, so after kT0+1 "first" does not show it.
  q.added_after = kT0 + 1;
  EXPECT_EQ(RunQuery(*store_, q), (KeyList{{Id("malware", 2), kT0 - 50},
                                           {Id("indicator", 3), kT0 - 20},
                                           {Id("tool", 4), kT0 - 5}}));
}

TEST_P(StoreConformance, FiltersByIdTypeSpecVersionAndCombinations) {
  SETUP_COLLECTIONS();
  Catalogue::Load(*store_, fx);
  ObjectQuery q = Query();
  q.ids = {Id("indicator", 1), Id("tool", 4), Id("nothing", 9)};
  EXPECT_EQ(RunQuery(*store_, q),
            (KeyList{{Id("indicator", 1), kT0 - 100}, {Id("tool", 4), kT0 - 5}}));
  q.ids = {};
  q.types = {"malware", "tool"};
  EXPECT_EQ(RunQuery(*store_, q),
            (KeyList{{Id("malware", 2), kT0 - 50}, {Id("tool", 4), kT0 - 5}}));
  q.types = {"indicator"};
  q.version_selectors = {VersionSelector::kAll};
  EXPECT_EQ(RunQuery(*store_, q).size(), 5u);
  q.ids = {Id("indicator", 3), Id("malware", 2)};  // AND with types
  EXPECT_EQ(RunQuery(*store_, q),
            (KeyList{{Id("indicator", 3), kT0 - 10}, {Id("indicator", 3), kT0 - 20}}));
  q.ids = {};
  q.types = {};
  q.version_selectors = {};
  // "last" among the matching spec versions: indicator 1's newest 2.1 version is kT0-200.
  q.spec_versions = {"2.1"};
  EXPECT_EQ(RunQuery(*store_, q), (KeyList{{Id("indicator", 1), kT0 - 200},
                                           {Id("malware", 2), kT0 - 50},
                                           {Id("indicator", 3), kT0 - 10}}));
  q.spec_versions = {"2.0"};
  EXPECT_EQ(RunQuery(*store_, q),
            (KeyList{{Id("indicator", 1), kT0 - 100}, {Id("tool", 4), kT0 - 5}}));
  q.spec_versions = {"2.0", "2.1"};
  EXPECT_EQ(RunQuery(*store_, q).size(), 4u);
  q.spec_versions = {"2.1"};
  q.version_selectors = {VersionSelector::kFirst};
  q.types = {"indicator"};
  q.ids = {Id("indicator", 1)};
  EXPECT_EQ(RunQuery(*store_, q), (KeyList{{Id("indicator", 1), kT0 - 300}}));
  q.types = {"malware"};
  EXPECT_TRUE(RunQuery(*store_, q).empty());
  // Filters with paging: limit applies after filtering.
  q = Query();
  q.types = {"indicator"};
  q.version_selectors = {VersionSelector::kAll};
  q.limit = 2;
  auto page = store_->QueryObjects(q);
  ASSERT_OK(page);
  EXPECT_EQ(Keys(*page),
            (KeyList{{Id("indicator", 1), kT0 - 300}, {Id("indicator", 1), kT0 - 200}}));
  EXPECT_TRUE(page->more);
  q.added_after = page->objects.back().date_added;
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  EXPECT_EQ(Keys(*page),
            (KeyList{{Id("indicator", 1), kT0 - 100}, {Id("indicator", 3), kT0 - 10}}));
  EXPECT_TRUE(page->more);
  q.added_after = page->objects.back().date_added;
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  EXPECT_EQ(Keys(*page), (KeyList{{Id("indicator", 3), kT0 - 20}}));
  EXPECT_FALSE(page->more);
}

TEST_P(StoreConformance, TooManyFilterValuesIsInvalidArgument) {
  SETUP_COLLECTIONS();
  ObjectQuery q = Query();
  for (size_t i = 0; i <= kMaxQueryValues; ++i) q.ids.push_back(Id("indicator", int(i)));
  EXPECT_CODE(store_->QueryObjects(q), StatusCode::kInvalidArgument);
  q.ids.pop_back();
  EXPECT_OK(store_->QueryObjects(q));
  ObjectQuery v = Query();
  for (size_t i = 0; i <= kMaxQueryValues; ++i) v.versions.push_back(kT0 + int64_t(i));
  EXPECT_CODE(store_->QueryVersions(v, Id("indicator", 1)), StatusCode::kInvalidArgument);
  EXPECT_CODE(store_->DeleteObject(v, Id("indicator", 1)), StatusCode::kInvalidArgument);
}

TEST_P(StoreConformance, QueryUnknownCollectionIsNotFound) {
  SETUP_COLLECTIONS();
  EXPECT_CODE(store_->QueryObjects(Query("nope")), StatusCode::kNotFound);
  EXPECT_CODE(store_->QueryVersions(Query("nope"), "x--1"), StatusCode::kNotFound);
  EXPECT_CODE(store_->DeleteObject(Query("nope"), "x--1"), StatusCode::kNotFound);
  EXPECT_CODE(store_->CountObjects("nope"), StatusCode::kNotFound);
}

TEST_P(StoreConformance, MetadataOnlyLeavesJsonEmpty) {
  SETUP_COLLECTIONS();
  Catalogue::Load(*store_, fx);
  ObjectQuery q = Query();
  q.metadata_only = true;
  auto page = store_->QueryObjects(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 4u);
  for (const StoredObject& o : page->objects) {
    EXPECT_TRUE(o.json.empty());
    EXPECT_FALSE(o.id.empty());
    EXPECT_FALSE(o.type.empty());
    EXPECT_FALSE(o.spec_version.empty());
    EXPECT_GT(o.date_added, 0);
  }
  q.metadata_only = false;
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  for (const StoredObject& o : page->objects) EXPECT_NE(o.json.find(o.id), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Objects without a version (SCOs)

TEST_P(StoreConformance, ObjectsWithoutVersionAreVersionedByDateAdded) {
  SETUP_COLLECTIONS();
  std::string ip = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd";
  NewObject sco = Obj(ip, std::nullopt, "ipv4-addr");
  auto r = fx.Add("c1", {sco}, kT0, "s1");
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 1u);
  ASSERT_EQ(r->status.successes.size(), 1u);
  EXPECT_EQ(r->status.successes[0].version, FormatVersionText(kT0));
  // The same bytes again: a duplicate.
  r = fx.Add("c1", {sco}, kT0 + 10, "s2");
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 0u);
  EXPECT_EQ(r->status.success_count, 1);
  EXPECT_EQ(r->status.successes[0].version, FormatVersionText(kT0));
  // Different bytes: a new version, versioned by its date_added.
  NewObject changed = Obj(ip, std::nullopt, "ipv4-addr", "2.1", ",\"value\":\"198.51.100.3\"");
  r = fx.Add("c1", {changed, changed}, kT0 + 20);
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 1u);
  ObjectQuery q = Query();
  q.version_selectors = {VersionSelector::kAll};
  auto page = store_->QueryObjects(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].version, page->objects[0].date_added);
  EXPECT_EQ(page->objects[0].version, kT0);
  EXPECT_EQ(page->objects[1].version, kT0 + 20);
  EXPECT_EQ(page->objects[1].json, changed.json);
  q.version_selectors = {};
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].version, kT0 + 20);
  q.versions = {kT0};
  page = store_->QueryObjects(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].json, sco.json);
}

// ---------------------------------------------------------------------------------------------
// QueryVersions

TEST_P(StoreConformance, QueryVersionsInDateAddedOrderWithPaging) {
  SETUP_COLLECTIONS();
  Catalogue::Load(*store_, fx);
  ObjectQuery q = Query();
  q.metadata_only = true;
  q.types = {"malware"};                           // ignored
  q.version_selectors = {VersionSelector::kLast};  // ignored
  auto page = store_->QueryVersions(q, Id("indicator", 1));
  ASSERT_OK(page);
  EXPECT_EQ(Keys(*page), (KeyList{{Id("indicator", 1), kT0 - 300},
                                  {Id("indicator", 1), kT0 - 200},
                                  {Id("indicator", 1), kT0 - 100}}));
  EXPECT_FALSE(page->more);
  EXPECT_TRUE(page->objects[0].json.empty());
  q.spec_versions = {"2.1"};
  page = store_->QueryVersions(q, Id("indicator", 1));
  ASSERT_OK(page);
  EXPECT_EQ(page->objects.size(), 2u);
  q.spec_versions = {};
  q.limit = 1;
  page = store_->QueryVersions(q, Id("indicator", 1));
  ASSERT_OK(page);
  EXPECT_EQ(Keys(*page), (KeyList{{Id("indicator", 1), kT0 - 300}}));
  EXPECT_TRUE(page->more);
  q.added_after = page->objects[0].date_added;
  q.limit = 5;
  page = store_->QueryVersions(q, Id("indicator", 1));
  ASSERT_OK(page);
  EXPECT_EQ(Keys(*page),
            (KeyList{{Id("indicator", 1), kT0 - 200}, {Id("indicator", 1), kT0 - 100}}));
  EXPECT_FALSE(page->more);
  // Date-added order, not version order.
  q = Query();
  page = store_->QueryVersions(q, Id("indicator", 3));
  ASSERT_OK(page);
  EXPECT_EQ(Keys(*page), (KeyList{{Id("indicator", 3), kT0 - 10}, {Id("indicator", 3), kT0 - 20}}));
  EXPECT_FALSE(page->objects[0].json.empty());
  page = store_->QueryVersions(q, Id("indicator", 99));
  ASSERT_OK(page);
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->more);
}

// ---------------------------------------------------------------------------------------------
// DeleteObject

TEST_P(StoreConformance, DeleteObjectAllVersions) {
  SETUP_COLLECTIONS();
  Catalogue::Load(*store_, fx);
  ObjectQuery q = Query();
  q.added_after = kT0 + 1000;  // ignored
  q.types = {"malware"};       // ignored
  auto n = store_->DeleteObject(q, Id("indicator", 1));
  ASSERT_OK(n);
  EXPECT_EQ(*n, 3);
  auto count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 4);
  EXPECT_CODE(store_->DeleteObject(Query(), Id("indicator", 1)), StatusCode::kNotFound);
  ObjectQuery all = Query();
  all.ids = {Id("indicator", 1)};
  all.version_selectors = {VersionSelector::kAll};
  EXPECT_TRUE(RunQuery(*store_, all).empty());
}

TEST_P(StoreConformance, DeleteObjectWithVersionFilters) {
  SETUP_COLLECTIONS();
  Catalogue::Load(*store_, fx);
  std::string id = Id("indicator", 1);
  ObjectQuery q = Query();
  q.version_selectors = {VersionSelector::kLast};
  auto n = store_->DeleteObject(q, id);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);
  // The previous version becomes the last one.
  ObjectQuery last = Query();
  last.ids = {id};
  EXPECT_EQ(RunQuery(*store_, last), (KeyList{{id, kT0 - 200}}));
  // Delete the first: the next becomes first.
  q.version_selectors = {VersionSelector::kFirst};
  n = store_->DeleteObject(q, id);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);
  ObjectQuery first = last;
  first.version_selectors = {VersionSelector::kFirst};
  EXPECT_EQ(RunQuery(*store_, first), (KeyList{{id, kT0 - 200}}));
  // Explicit versions: one that is absent deletes nothing.
  q.version_selectors = {};
  q.versions = {kT0 - 999};
  EXPECT_CODE(store_->DeleteObject(q, id), StatusCode::kNotFound);
  q.versions = {kT0 - 200};
  n = store_->DeleteObject(q, id);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);
  EXPECT_TRUE(RunQuery(*store_, last).empty());
  // spec_version filter: tool 4 is 2.0 only.
  ObjectQuery sv = Query();
  sv.spec_versions = {"2.1"};
  EXPECT_CODE(store_->DeleteObject(sv, Id("tool", 4)), StatusCode::kNotFound);
  sv.spec_versions = {"2.0"};
  n = store_->DeleteObject(sv, Id("tool", 4));
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);
  // Explicit version plus first/last, both on indicator 3.
  ObjectQuery both = Query();
  both.version_selectors = {VersionSelector::kLast};
  both.versions = {kT0 - 20};
  n = store_->DeleteObject(both, Id("indicator", 3));
  ASSERT_OK(n);
  EXPECT_EQ(*n, 2);
  auto count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 1);  // malware 2
  EXPECT_CODE(store_->DeleteObject(Query(), Id("indicator", 42)), StatusCode::kNotFound);
}

TEST_P(StoreConformance, DeleteThenReAddBecomesNewVersion) {
  SETUP_COLLECTIONS();
  std::string id = Id("indicator", 1);
  ASSERT_OK(fx.Add("c1", {Obj(id, kT0 - 10), Obj(id, kT0 - 5)}, kT0));
  ObjectQuery q = Query();
  q.versions = {kT0 - 5};
  ASSERT_OK(store_->DeleteObject(q, id));
  auto r = fx.Add("c1", {Obj(id, kT0 - 5)}, kT0);
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 1u);
  EXPECT_GT(r->first_date_added, kT0 + 1);
  ObjectQuery last = Query();
  EXPECT_EQ(RunQuery(*store_, last), (KeyList{{id, kT0 - 5}}));
  ObjectQuery first = Query();
  first.version_selectors = {VersionSelector::kFirst};
  EXPECT_EQ(RunQuery(*store_, first), (KeyList{{id, kT0 - 10}}));
}

// ---------------------------------------------------------------------------------------------
// Concurrency

TEST_P(StoreConformance, ConcurrentWritersAndReaders) {
  SETUP_COLLECTIONS();
  ASSERT_OK(store_->CreateUser(MakeUser("alice", Role::kAdmin)));
  constexpr int kWriters = 4;
  constexpr int kBatches = 25;
  constexpr int kBatchSize = 20;
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<NewObject> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          batch.push_back(Obj(Id("indicator", (w * kBatches + b) * kBatchSize + i), kT0));
        }
        AddObjectsRequest req;
        req.collection_id = (b % 5 == 4) ? "c2" : "c1";
        req.objects = std::move(batch);
        req.status.id = "s-" + std::to_string(w) + "-" + std::to_string(b);
        req.status.api_root = "api1";
        // A clock that every writer reads the same way: many equal values.
        auto r = store_->AddObjects(req, kT0 + b);
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          ++errors;
        }
        if (b % 10 == 0) {
          if (!store_->PutSetting("k" + std::to_string(w), std::to_string(b)).ok()) ++errors;
        }
      }
    });
  }
  for (int rd = 0; rd < 2; ++rd) {
    threads.emplace_back([&] {
      while (!done.load()) {
        ObjectQuery q = Query();
        q.limit = 50;
        int64_t previous = 0;
        while (true) {
          auto page = store_->QueryObjects(q);
          if (!page.ok()) {
            ADD_FAILURE() << page.status().ToString();
            ++errors;
            return;
          }
          for (const StoredObject& o : page->objects) {
            if (o.date_added <= previous) ++errors;
            previous = o.date_added;
          }
          if (!page->more) break;
          q.added_after = previous;
        }
        if (!store_->GetUser("alice").ok()) ++errors;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(errors.load(), 0);

  int64_t c1_expected = kWriters * (kBatches - kBatches / 5) * kBatchSize;
  int64_t c2_expected = kWriters * (kBatches / 5) * kBatchSize;
  auto count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, c1_expected);
  count = store_->CountObjects("c2");
  ASSERT_OK(count);
  EXPECT_EQ(*count, c2_expected);
  // Every object exactly once, date_added unique and increasing.
  ObjectQuery q = Query();
  q.limit = 97;
  std::set<std::string> ids;
  int64_t previous = 0;
  while (true) {
    auto page = store_->QueryObjects(q);
    ASSERT_OK(page);
    for (const StoredObject& o : page->objects) {
      EXPECT_GT(o.date_added, previous);
      previous = o.date_added;
      EXPECT_TRUE(ids.insert(o.id).second);
    }
    if (!page->more) break;
    q.added_after = previous;
  }
  EXPECT_EQ(static_cast<int64_t>(ids.size()), c1_expected);
  for (int w = 0; w < kWriters; ++w) {
    for (int b = 0; b < kBatches; ++b) {
      auto s = store_->GetStatus("api1", "s-" + std::to_string(w) + "-" + std::to_string(b));
      ASSERT_OK(s);
      EXPECT_EQ(s->success_count, kBatchSize);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sharing (issue 4): labels, outbox, partners, channels, audit, events, feedback

constexpr char kPartnerB[] = "identity--00000000-0000-4000-8000-00000000000b";
constexpr char kPartnerC[] = "identity--00000000-0000-4000-8000-00000000000c";
constexpr char kOrigin[] = "identity--00000000-0000-4000-8000-00000000000a";

ObjectLabel Label(int32_t tlp, std::vector<std::string> recipients = {}) {
  ObjectLabel l;
  l.tlp = tlp;
  l.origin = kOrigin;
  l.received_from = kPartnerC;
  l.recipients = std::move(recipients);
  l.sealed = tlp == 4;
  l.signature = "{\"alg\":\"ed25519\",\"sig\":\"c2lnbmF0dXJl\"}";
  return l;
}

// A label as events carry it (no signature).
ObjectLabel Unsigned(ObjectLabel label) {
  label.signature.clear();
  return label;
}

NewObject Labeled(const std::string& id, int64_t version, ObjectLabel label,
                  std::vector<std::string> outbox = {}) {
  NewObject o = Obj(id, version);
  o.label = std::move(label);
  o.outbox_partners = std::move(outbox);
  return o;
}

Partner MakePartner(const std::string& id, const std::string& name) {
  Partner p;
  p.id = id;
  p.name = name;
  p.identity_json = "{\"type\":\"identity\",\"id\":\"" + id + "\",\"name\":\"" + name + "\"}";
  p.url = "https://" + name + ".example:8443/api1/";
  p.inbox = "inbox-" + name;
  p.sign_key = "c2lnbi1" + name;
  p.box_key = "Ym94LW" + name;
  p.token = "sealed-token-" + name;
  p.user = "partner-" + name;
  p.created = kT0;
  return p;
}

Channel MakeChannel(const std::string& id, const std::string& partner,
                    const std::string& collection, ChannelMode mode = ChannelMode::kPush,
                    int64_t created = kT0) {
  Channel ch;
  ch.id = id;
  ch.partner = partner;
  ch.collection_id = collection;
  ch.mode = mode;
  ch.max_tlp = 2;
  ch.remote_collection = mode == ChannelMode::kPull ? "remote-" + collection : "";
  ch.created = created;
  return ch;
}

AuditRecord Audit(const std::string& kind, const std::string& subject, int64_t time = 0) {
  AuditRecord r;
  r.time = time;
  r.kind = kind;
  r.actor = "alice";
  r.subject = subject;
  r.detail = "{\"n\":1}";
  return r;
}

std::vector<int64_t> Seqs(const std::vector<OutboxRow>& rows) {
  std::vector<int64_t> out;
  for (const OutboxRow& r : rows) out.push_back(r.seq);
  return out;
}

std::vector<HubEvent> AllEvents(Store& store) {
  auto events = store.ListEvents(0, 100000);
  EXPECT_TRUE(events.ok()) << events.status().ToString();
  return events.ok() ? *events : std::vector<HubEvent>{};
}

std::vector<OutboxRow> AllOutbox(Store& store, const std::string& partner = "") {
  OutboxQuery q;
  q.partner = partner;
  q.limit = 100000;
  auto rows = store.ListOutbox(q);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? *rows : std::vector<OutboxRow>{};
}

TEST_P(StoreConformance, LabelsRoundTripOnEveryReadPath) {
  SETUP_COLLECTIONS();
  const std::string a = Id("indicator", 1);
  const std::string b = Id("report", 2);
  ObjectLabel amber = Label(2, {kPartnerC, kPartnerB, kOrigin});  // order kept, not sorted
  ObjectLabel red = Label(4, {kPartnerB});
  ObjectLabel clear;  // the default label: every field empty
  ASSERT_OK(fx.Add("c1", {Labeled(a, kT0, amber), Labeled(b, kT0 + 1, red)}, kT0));
  NewObject scos = Obj(Id("ipv4-addr", 3), std::nullopt, "ipv4-addr");
  scos.label = clear;
  ASSERT_OK(fx.Add("c1", {scos}, kT0 + 10));

  for (bool metadata_only : {false, true}) {
    ObjectQuery q = Query();
    q.metadata_only = metadata_only;
    auto page = store_->QueryObjects(q);
    ASSERT_OK(page);
    ASSERT_EQ(page->objects.size(), 3u);
    EXPECT_EQ(page->objects[0].label, amber);
    EXPECT_EQ(page->objects[1].label, red);
    EXPECT_EQ(page->objects[2].label, clear);
    EXPECT_EQ(page->objects[0].json.empty(), metadata_only);
    auto versions = store_->QueryVersions(q, b);
    ASSERT_OK(versions);
    ASSERT_EQ(versions->objects.size(), 1u);
    EXPECT_EQ(versions->objects[0].label, red);
  }
  auto got = store_->GetObjectVersion("c1", a, kT0);
  ASSERT_OK(got);
  EXPECT_EQ(got->label, amber);
  auto looked = store_->LookupObjects({b, a});
  ASSERT_OK(looked);
  ASSERT_EQ(looked->size(), 2u);
  for (const StoredObject& o : *looked) EXPECT_EQ(o.label, o.id == a ? amber : red);

  // A version's label is that of its first add: a re-add with another label changes nothing.
  ASSERT_OK(fx.Add("c1", {Labeled(a, kT0, Label(0))}, kT0 + 20));
  got = store_->GetObjectVersion("c1", a, kT0);
  ASSERT_OK(got);
  EXPECT_EQ(got->label, amber);
}

TEST_P(StoreConformance, RecipientsWithSeparatorsAndEmptyIdsRoundTrip) {
  SETUP_COLLECTIONS();
  // Hostile recipient ids (they can come from a partner) must not break the stored encoding.
  ObjectLabel odd = Label(3, {"a,b", "c\\", "", "\\,d", "e"});
  ObjectLabel one_empty = Label(3, {""});
  ASSERT_OK(fx.Add(
      "c1", {Labeled(Id("indicator", 1), kT0, odd), Labeled(Id("indicator", 2), kT0, one_empty)},
      kT0));
  auto page = store_->QueryObjects(Query());
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].label, odd);
  EXPECT_EQ(page->objects[1].label, one_empty);
}

TEST_P(StoreConformance, AddObjectsWritesOutboxRowsInObjectOrder) {
  SETUP_COLLECTIONS();
  const std::string a = Id("indicator", 1);
  const std::string b = Id("indicator", 2);
  auto r = fx.Add("c1",
                  {Labeled(a, kT0, Label(2), {kPartnerB, kPartnerC}),
                   Labeled(b, kT0 + 5, Label(1), {kPartnerB})},
                  kT0 + 100);
  ASSERT_OK(r);
  std::vector<OutboxRow> rows = AllOutbox(*store_);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_LT(rows[0].seq, rows[1].seq);
  EXPECT_LT(rows[1].seq, rows[2].seq);
  EXPECT_EQ(rows[0].partner, kPartnerB);
  EXPECT_EQ(rows[0].object_id, a);
  EXPECT_EQ(rows[1].partner, kPartnerC);
  EXPECT_EQ(rows[1].object_id, a);
  EXPECT_EQ(rows[2].partner, kPartnerB);
  EXPECT_EQ(rows[2].object_id, b);
  for (const OutboxRow& row : rows) {
    EXPECT_EQ(row.collection_id, "c1");
    EXPECT_EQ(row.state, OutboxState::kQueued);
    EXPECT_EQ(row.attempts, 0);
    EXPECT_EQ(row.next_attempt, kT0 + 100);  // due at once
    EXPECT_EQ(row.created, kT0 + 100);
    EXPECT_EQ(row.delivered_at, 0);
    EXPECT_EQ(row.lease_until, 0);
    EXPECT_EQ(row.error, "");
  }
  EXPECT_EQ(rows[0].version, kT0);
  EXPECT_EQ(rows[0].date_added, r->first_date_added);
  EXPECT_EQ(rows[2].version, kT0 + 5);
  EXPECT_EQ(rows[2].date_added, r->last_date_added);
}

TEST_P(StoreConformance, DuplicatesWriteNoExtrasButAuditIsAlwaysAppended) {
  SETUP_COLLECTIONS();
  const std::string a = Id("indicator", 1);
  const std::string s = Id("sighting", 2);
  NewObject sighting = Labeled(s, kT0, Label(2), {kPartnerB});
  FeedbackRecord fb;
  fb.about_id = a;
  fb.from = kPartnerB;
  fb.outcome = "seen";
  sighting.feedback = {fb};
  auto add = [&](int64_t now) {
    AddObjectsRequest req;
    req.collection_id = "c1";
    req.objects = {Labeled(a, kT0, Label(2), {kPartnerB, kPartnerC}), sighting};
    req.audit = {Audit("publish", a)};
    return store_->AddObjects(req, now);
  };
  ASSERT_OK(add(kT0));
  const size_t events = AllEvents(*store_).size();
  EXPECT_EQ(events, 3u);  // two object events, one feedback event
  EXPECT_EQ(AllOutbox(*store_).size(), 3u);
  auto r = add(kT0 + 50);
  ASSERT_OK(r);
  EXPECT_EQ(r->added, 0u);
  EXPECT_EQ(AllEvents(*store_).size(), events);
  EXPECT_EQ(AllOutbox(*store_).size(), 3u);
  auto feedback = store_->ListFeedback(a);
  ASSERT_OK(feedback);
  EXPECT_EQ(feedback->size(), 1u);
  auto audit = store_->ListAudit(0, 100);
  ASSERT_OK(audit);
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].time, kT0);
  EXPECT_EQ((*audit)[1].time, kT0 + 50);
  ASSERT_OK(audit::VerifyChain(*store_));

  // A duplicate within one request writes its extras once.
  const std::string c = Id("indicator", 3);
  ASSERT_OK(fx.Add("c2",
                   {Labeled(c, kT0, Label(2), {kPartnerC}), Labeled(c, kT0, Label(2), {kPartnerC})},
                   kT0 + 60));
  OutboxQuery q;
  q.object_id = c;
  auto rows = store_->ListOutbox(q);
  ASSERT_OK(rows);
  EXPECT_EQ(rows->size(), 1u);
}

TEST_P(StoreConformance, PerObjectAuditRecordsOnlyForNewVersions) {
  SETUP_COLLECTIONS();
  const std::string a = Id("indicator", 1);
  const std::string b = Id("indicator", 2);
  NewObject oa = Labeled(a, kT0, Label(2));
  oa.audit = {Audit("receive", a)};
  NewObject ob = Labeled(b, kT0, Label(2));
  ob.audit = {Audit("receive", b), Audit("feedback", b)};
  AddObjectsRequest req;
  req.collection_id = "c1";
  req.objects = {oa};
  req.audit = {Audit("reject", "x")};
  ASSERT_OK(store_->AddObjects(req, kT0));
  // A replays, B is new: only B's records follow the request's own.
  req.objects = {oa, ob, ob};
  ASSERT_OK(store_->AddObjects(req, kT0 + 10));
  auto audit = store_->ListAudit(0, 100);
  ASSERT_OK(audit);
  std::vector<std::pair<std::string, std::string>> got;
  for (const AuditRecord& r : *audit) got.emplace_back(r.kind, r.subject);
  std::vector<std::pair<std::string, std::string>> want = {
      {"reject", "x"}, {"receive", a}, {"reject", "x"}, {"receive", b}, {"feedback", b}};
  EXPECT_EQ(got, want);
  ASSERT_OK(audit::VerifyChain(*store_));

  // A per-object record with no kind is refused like a request's, and nothing is committed.
  NewObject bad = Labeled(Id("indicator", 3), kT0, Label(2));
  bad.audit = {Audit("", "y")};
  req.objects = {bad};
  req.audit.clear();
  EXPECT_CODE(store_->AddObjects(req, kT0 + 20), StatusCode::kInvalidArgument);
  auto count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 2);
}

TEST_P(StoreConformance, AddObjectsWithBadAuditRecordCommitsNothing) {
  SETUP_COLLECTIONS();
  AddObjectsRequest req;
  req.collection_id = "c1";
  req.objects = {Labeled(Id("indicator", 1), kT0, Label(2), {kPartnerB})};
  req.audit = {Audit("publish", "x"), Audit("", "y")};
  req.status.id = "s1";
  req.status.api_root = "api1";
  EXPECT_CODE(store_->AddObjects(req, kT0), StatusCode::kInvalidArgument);
  auto count = store_->CountObjects("c1");
  ASSERT_OK(count);
  EXPECT_EQ(*count, 0);
  EXPECT_TRUE(AllOutbox(*store_).empty());
  EXPECT_TRUE(AllEvents(*store_).empty());
  auto audit = store_->ListAudit(0, 10);
  ASSERT_OK(audit);
  EXPECT_TRUE(audit->empty());
  EXPECT_CODE(store_->GetStatus("api1", "s1"), StatusCode::kNotFound);
}

TEST_P(StoreConformance, ClaimOutboxLeasesRowsInSeqOrder) {
  SETUP_COLLECTIONS();
  std::vector<NewObject> objects;
  for (int i = 0; i < 5; ++i) {
    objects.push_back(Labeled(Id("indicator", i), kT0, Label(1), {kPartnerB, kPartnerC}));
  }
  ASSERT_OK(fx.Add("c1", objects, kT0));
  const std::vector<OutboxRow> all_b = AllOutbox(*store_, kPartnerB);
  ASSERT_EQ(all_b.size(), 5u);
  constexpr int64_t kLease = 30000000;
  const int64_t now = kT0 + 1000;

  auto first = store_->ClaimOutbox(kPartnerB, 2, now, kLease);
  ASSERT_OK(first);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ(Seqs(*first), (std::vector<int64_t>{all_b[0].seq, all_b[1].seq}));
  for (const OutboxRow& row : *first) {
    EXPECT_EQ(row.partner, kPartnerB);
    EXPECT_EQ(row.lease_until, now + kLease);
  }
  // While the lease holds, another claimer gets the rows after them, never the same ones.
  auto second = store_->ClaimOutbox(kPartnerB, 10, now + 1, kLease);
  ASSERT_OK(second);
  EXPECT_EQ(Seqs(*second), (std::vector<int64_t>{all_b[2].seq, all_b[3].seq, all_b[4].seq}));
  auto third = store_->ClaimOutbox(kPartnerB, 10, now + 2, kLease);
  ASSERT_OK(third);
  EXPECT_TRUE(third->empty());
  // The lease is visible in the listing; C's rows were untouched.
  for (const OutboxRow& row : AllOutbox(*store_, kPartnerC)) EXPECT_EQ(row.lease_until, 0);
  // A crashed pusher's rows come back once its lease has run out.
  auto again = store_->ClaimOutbox(kPartnerB, 10, now + kLease, kLease);
  ASSERT_OK(again);
  EXPECT_EQ(Seqs(*again).size(), 2u);
  EXPECT_EQ(Seqs(*again), (std::vector<int64_t>{all_b[0].seq, all_b[1].seq}));
  // limit 0, an unknown partner, a non-positive lease.
  auto none = store_->ClaimOutbox(kPartnerC, 0, now, kLease);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  auto unknown = store_->ClaimOutbox("identity--nobody", 10, now, kLease);
  ASSERT_OK(unknown);
  EXPECT_TRUE(unknown->empty());
  EXPECT_CODE(store_->ClaimOutbox(kPartnerC, 10, now, 0), StatusCode::kInvalidArgument);
}

TEST_P(StoreConformance, FailedDeliveryBacksOffAndKeepsOrder) {
  SETUP_COLLECTIONS();
  ASSERT_OK(fx.Add("c1",
                   {Labeled(Id("indicator", 1), kT0, Label(2), {kPartnerB}),
                    Labeled(Id("indicator", 2), kT0, Label(2), {kPartnerB})},
                   kT0));
  constexpr int64_t kLease = 1000000;
  auto claimed = store_->ClaimOutbox(kPartnerB, 1, kT0 + 1, kLease);
  ASSERT_OK(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  const int64_t first = (*claimed)[0].seq;
  const int64_t retry_at = kT0 + 5000000;
  ASSERT_OK(store_->MarkOutboxFailed({first}, "connection refused", false, retry_at, kT0 + 2));
  std::vector<OutboxRow> rows = AllOutbox(*store_);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, OutboxState::kQueued);
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[0].error, "connection refused");
  EXPECT_EQ(rows[0].next_attempt, retry_at);
  EXPECT_EQ(rows[0].lease_until, 0);
  // The first row is not due: nothing after it is handed out either (order per partner).
  auto early = store_->ClaimOutbox(kPartnerB, 10, kT0 + 3, kLease);
  ASSERT_OK(early);
  EXPECT_TRUE(early->empty());
  auto due = store_->ClaimOutbox(kPartnerB, 10, retry_at, kLease);
  ASSERT_OK(due);
  EXPECT_EQ(due->size(), 2u);
  // A permanent failure ends the row; delivery of the other one.
  ASSERT_OK(store_->MarkOutboxFailed({first}, "rejected: 403", true, 0, retry_at + 1));
  ASSERT_OK(store_->MarkOutboxDelivered({rows[1].seq}, retry_at + 2));
  rows = AllOutbox(*store_);
  EXPECT_EQ(rows[0].state, OutboxState::kFailed);
  EXPECT_EQ(rows[0].attempts, 2);
  EXPECT_EQ(rows[0].error, "rejected: 403");
  EXPECT_EQ(rows[1].state, OutboxState::kDelivered);
  EXPECT_EQ(rows[1].delivered_at, retry_at + 2);
  EXPECT_EQ(rows[1].error, "");
  EXPECT_EQ(rows[1].lease_until, 0);
  auto after = store_->ClaimOutbox(kPartnerB, 10, retry_at + kLease * 10, kLease);
  ASSERT_OK(after);
  EXPECT_TRUE(after->empty());
  auto partners = store_->PartnersWithQueuedOutbox();
  ASSERT_OK(partners);
  EXPECT_TRUE(partners->empty());
}

TEST_P(StoreConformance, OutboxChangesWriteReceiptEvents) {
  SETUP_COLLECTIONS();
  const std::string a = Id("indicator", 1);
  ObjectLabel label = Label(3, {kPartnerB});
  ASSERT_OK(fx.Add("c1", {Labeled(a, kT0, label, {kPartnerB, kPartnerC})}, kT0));
  std::vector<OutboxRow> rows = AllOutbox(*store_);
  ASSERT_EQ(rows.size(), 2u);
  auto last = store_->LastEventSeq();
  ASSERT_OK(last);
  const int64_t before = *last;

  ASSERT_OK(store_->MarkOutboxDelivered({rows[0].seq, 999999}, kT0 + 10));  // unknown: ignored
  ASSERT_OK(store_->MarkOutboxFailed({rows[1].seq}, "timeout", false, kT0 + 99, kT0 + 11));
  auto events = store_->ListEvents(before, 100);
  ASSERT_OK(events);
  ASSERT_EQ(events->size(), 2u);
  const HubEvent& delivered = (*events)[0];
  EXPECT_EQ(delivered.kind, "receipt");
  EXPECT_EQ(delivered.time, kT0 + 10);
  EXPECT_EQ(delivered.collection_id, "c1");
  EXPECT_EQ(delivered.object_id, a);
  EXPECT_EQ(delivered.version, kT0);
  EXPECT_EQ(delivered.label, Unsigned(label));
  EXPECT_EQ(delivered.data, std::string("{\"partner\":\"") + kPartnerB +
                                "\",\"state\":\"delivered\",\"attempts\":0,\"delivered_at\":" +
                                std::to_string(kT0 + 10) + ",\"error\":\"\"}");
  const HubEvent& failed = (*events)[1];
  EXPECT_EQ(failed.kind, "receipt");
  EXPECT_EQ(failed.label, Unsigned(label));
  EXPECT_EQ(failed.data, std::string("{\"partner\":\"") + kPartnerC +
                             "\",\"state\":\"queued\",\"attempts\":1,\"delivered_at\":0,"
                             "\"error\":\"timeout\"}");
  // Marking nothing, or only unknown rows, writes nothing.
  ASSERT_OK(store_->MarkOutboxDelivered({}, kT0 + 12));
  ASSERT_OK(store_->MarkOutboxFailed({424242}, "x", true, 0, kT0 + 12));
  last = store_->LastEventSeq();
  ASSERT_OK(last);
  EXPECT_EQ(*last, before + 2);
}

TEST_P(StoreConformance, ListOutboxFiltersAndPages) {
  SETUP_COLLECTIONS();
  const std::string a = Id("indicator", 1);
  const std::string b = Id("indicator", 2);
  ASSERT_OK(fx.Add(
      "c1",
      {Labeled(a, kT0, Label(1), {kPartnerB, kPartnerC}), Labeled(b, kT0, Label(1), {kPartnerB})},
      kT0));
  std::vector<OutboxRow> all = AllOutbox(*store_);
  ASSERT_EQ(all.size(), 3u);
  ASSERT_OK(store_->MarkOutboxDelivered({all[0].seq}, kT0 + 1));

  OutboxQuery q;
  q.object_id = a;
  auto rows = store_->ListOutbox(q);
  ASSERT_OK(rows);
  EXPECT_EQ(Seqs(*rows), (std::vector<int64_t>{all[0].seq, all[1].seq}));
  q = OutboxQuery();
  q.partner = kPartnerB;
  q.state = OutboxState::kQueued;
  rows = store_->ListOutbox(q);
  ASSERT_OK(rows);
  EXPECT_EQ(Seqs(*rows), (std::vector<int64_t>{all[2].seq}));
  q = OutboxQuery();
  q.state = OutboxState::kDelivered;
  rows = store_->ListOutbox(q);
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].delivered_at, kT0 + 1);
  q = OutboxQuery();
  q.limit = 2;
  rows = store_->ListOutbox(q);
  ASSERT_OK(rows);
  EXPECT_EQ(Seqs(*rows), (std::vector<int64_t>{all[0].seq, all[1].seq}));
  q.after_seq = all[1].seq;
  rows = store_->ListOutbox(q);
  ASSERT_OK(rows);
  EXPECT_EQ(Seqs(*rows), (std::vector<int64_t>{all[2].seq}));

  auto partners = store_->PartnersWithQueuedOutbox();
  ASSERT_OK(partners);
  EXPECT_EQ(*partners, (std::vector<std::string>{kPartnerB, kPartnerC}));
}

TEST_P(StoreConformance, PartnersRoundTripUpdateAndErrors) {
  Partner c = MakePartner(kPartnerC, "charlie");
  Partner b = MakePartner(kPartnerB, "bravo");
  c.disabled = true;
  ASSERT_OK(store_->CreatePartner(c));
  ASSERT_OK(store_->CreatePartner(b));
  auto list = store_->ListPartners();
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], b);  // by id
  EXPECT_EQ((*list)[1], c);
  auto got = store_->GetPartner(kPartnerC);
  ASSERT_OK(got);
  EXPECT_EQ(*got, c);

  Partner changed = MakePartner(kPartnerB, "bravo-renamed");
  changed.created = kT0 + 999;  // ignored: created is kept
  changed.disabled = true;
  changed.token = "";
  ASSERT_OK(store_->UpdatePartner(changed));
  got = store_->GetPartner(kPartnerB);
  ASSERT_OK(got);
  changed.created = kT0;
  EXPECT_EQ(*got, changed);

  EXPECT_CODE(store_->CreatePartner(b), StatusCode::kAlreadyExists);
  EXPECT_CODE(store_->CreatePartner(MakePartner("", "x")), StatusCode::kInvalidArgument);
  EXPECT_CODE(store_->GetPartner("identity--nobody"), StatusCode::kNotFound);
  EXPECT_CODE(store_->UpdatePartner(MakePartner("identity--nobody", "x")), StatusCode::kNotFound);
  EXPECT_CODE(store_->DeletePartner("identity--nobody"), StatusCode::kNotFound);
  ASSERT_OK(store_->DeletePartner(kPartnerC));
  EXPECT_CODE(store_->GetPartner(kPartnerC), StatusCode::kNotFound);
  list = store_->ListPartners();
  ASSERT_OK(list);
  EXPECT_EQ(list->size(), 1u);
}

TEST_P(StoreConformance, DeletePartnerCascadesToChannelsAndQueuedRows) {
  SETUP_COLLECTIONS();
  ASSERT_OK(store_->CreatePartner(MakePartner(kPartnerB, "bravo")));
  ASSERT_OK(store_->CreatePartner(MakePartner(kPartnerC, "charlie")));
  ASSERT_OK(store_->CreateChannel(MakeChannel("ch-b", kPartnerB, "c1")));
  ASSERT_OK(store_->CreateChannel(MakeChannel("ch-c", kPartnerC, "c1")));
  std::vector<NewObject> objects;
  for (int i = 0; i < 3; ++i) {
    objects.push_back(Labeled(Id("indicator", i), kT0, Label(1), {kPartnerB, kPartnerC}));
  }
  ASSERT_OK(fx.Add("c1", objects, kT0));
  std::vector<OutboxRow> b_rows = AllOutbox(*store_, kPartnerB);
  ASSERT_EQ(b_rows.size(), 3u);
  ASSERT_OK(store_->MarkOutboxDelivered({b_rows[0].seq}, kT0 + 1));
  ASSERT_OK(store_->MarkOutboxFailed({b_rows[1].seq}, "gone", true, 0, kT0 + 2));

  ASSERT_OK(store_->DeletePartner(kPartnerB));
  std::vector<OutboxRow> left = AllOutbox(*store_, kPartnerB);  // the receipts stay
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].state, OutboxState::kDelivered);
  EXPECT_EQ(left[1].state, OutboxState::kFailed);
  EXPECT_EQ(AllOutbox(*store_, kPartnerC).size(), 3u);
  auto channels = store_->ListChannels("");
  ASSERT_OK(channels);
  ASSERT_EQ(channels->size(), 1u);
  EXPECT_EQ((*channels)[0].id, "ch-c");
  auto partners = store_->PartnersWithQueuedOutbox();
  ASSERT_OK(partners);
  EXPECT_EQ(*partners, (std::vector<std::string>{kPartnerC}));
}

TEST_P(StoreConformance, ChannelsUniquenessListingAndCursor) {
  SETUP_COLLECTIONS();
  ASSERT_OK(store_->CreatePartner(MakePartner(kPartnerB, "bravo")));
  ASSERT_OK(store_->CreatePartner(MakePartner(kPartnerC, "charlie")));
  Channel push_b = MakeChannel("ch-1", kPartnerB, "c1", ChannelMode::kPush, kT0 + 2);
  Channel pull_b = MakeChannel("ch-2", kPartnerB, "c1", ChannelMode::kPull, kT0 + 1);
  Channel push_c = MakeChannel("ch-3", kPartnerC, "c2", ChannelMode::kPush, kT0 + 3);
  ASSERT_OK(store_->CreateChannel(push_b));
  ASSERT_OK(store_->CreateChannel(pull_b));
  ASSERT_OK(store_->CreateChannel(push_c));

  auto all = store_->ListChannels("");
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0], pull_b);  // by created
  EXPECT_EQ((*all)[1], push_b);
  EXPECT_EQ((*all)[2], push_c);
  auto of_b = store_->ListChannels(kPartnerB);
  ASSERT_OK(of_b);
  EXPECT_EQ(of_b->size(), 2u);
  auto of_nobody = store_->ListChannels("identity--nobody");
  ASSERT_OK(of_nobody);
  EXPECT_TRUE(of_nobody->empty());

  Channel same_id = push_c;
  same_id.collection_id = "c1";
  EXPECT_CODE(store_->CreateChannel(same_id), StatusCode::kAlreadyExists);
  Channel identical = push_b;
  identical.id = "ch-9";
  identical.max_tlp = 4;
  EXPECT_CODE(store_->CreateChannel(identical), StatusCode::kAlreadyExists);
  Channel other_remote = pull_b;  // a second pull from another remote collection is fine
  other_remote.id = "ch-4";
  other_remote.remote_collection = "another";
  other_remote.created = kT0 + 4;
  ASSERT_OK(store_->CreateChannel(other_remote));
  EXPECT_CODE(store_->CreateChannel(MakeChannel("ch-5", "identity--nobody", "c1")),
              StatusCode::kNotFound);
  EXPECT_CODE(store_->CreateChannel(MakeChannel("ch-6", kPartnerB, "no-such-collection")),
              StatusCode::kNotFound);
  EXPECT_CODE(store_->CreateChannel(MakeChannel("", kPartnerB, "c1")),
              StatusCode::kInvalidArgument);

  ASSERT_OK(store_->SetChannelCursor("ch-2", "2023-11-14T22:13:20.123456Z"));
  ASSERT_OK(store_->SetChannelCursor("ch-2", "2023-11-14T22:13:21.000Z"));
  of_b = store_->ListChannels(kPartnerB);
  ASSERT_OK(of_b);
  ASSERT_EQ(of_b->size(), 3u);
  EXPECT_EQ((*of_b)[0].cursor, "2023-11-14T22:13:21.000Z");
  EXPECT_CODE(store_->SetChannelCursor("ch-nope", "x"), StatusCode::kNotFound);

  ASSERT_OK(store_->DeleteChannel("ch-1"));
  EXPECT_CODE(store_->DeleteChannel("ch-1"), StatusCode::kNotFound);
  // After deletion the same (partner, collection, mode) may be created again.
  ASSERT_OK(store_->CreateChannel(MakeChannel("ch-7", kPartnerB, "c1")));
  // Deleting a collection deletes its channels.
  ASSERT_OK(store_->DeleteCollection("api1", "c2"));
  all = store_->ListChannels("");
  ASSERT_OK(all);
  for (const Channel& ch : *all) EXPECT_NE(ch.collection_id, "c2");
}

TEST_P(StoreConformance, AuditAppendChainsAndLists) {
  auto empty = store_->ListAudit(0, 10);
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
  auto verified = audit::VerifyChain(*store_);
  ASSERT_OK(verified);
  EXPECT_EQ(verified->entries, 0);

  auto first =
      store_->AppendAudit({Audit("partner", kPartnerB), Audit("auth-failure", "", 77)}, kT0);
  ASSERT_OK(first);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].seq, 1);
  EXPECT_EQ((*first)[0].time, kT0);  // 0: the store's now
  EXPECT_EQ((*first)[0].prev_hash, "");
  EXPECT_EQ((*first)[0].hash, audit::ChainHash((*first)[0]));
  EXPECT_EQ((*first)[1].seq, 2);
  EXPECT_EQ((*first)[1].time, 77);  // given: kept
  EXPECT_EQ((*first)[1].prev_hash, (*first)[0].hash);
  EXPECT_EQ((*first)[1].hash, audit::ChainHash((*first)[1]));
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(store_->AppendAudit({Audit("read-red", Id("report", i))}, kT0 + i));
  }
  auto none = store_->AppendAudit({}, kT0);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  EXPECT_CODE(store_->AppendAudit({Audit("x", ""), Audit("", "")}, kT0),
              StatusCode::kInvalidArgument);

  auto all = store_->ListAudit(0, 100);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 7u);  // the rejected batch added nothing
  EXPECT_EQ((*all)[0], (*first)[0]);
  EXPECT_EQ((*all)[1], (*first)[1]);
  EXPECT_EQ((*all)[6].subject, Id("report", 4));
  auto page = store_->ListAudit(2, 3);
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].seq, 3);
  EXPECT_EQ((*page)[2].seq, 5);
  verified = audit::VerifyChain(*store_);
  ASSERT_OK(verified);
  EXPECT_EQ(verified->entries, 7);
  EXPECT_EQ(verified->last_seq, 7);
  EXPECT_EQ(verified->last_hash, (*all)[6].hash);
  ASSERT_OK(audit::VerifyChain(*store_, "7:" + (*all)[6].hash));
  EXPECT_CODE(audit::VerifyChain(*store_, "8:" + (*all)[6].hash), StatusCode::kDataLoss);
}

TEST_P(StoreConformance, AuditChainStaysContiguousUnderConcurrentAppends) {
  SETUP_COLLECTIONS();
  constexpr int kThreads = 4;
  constexpr int kRounds = 40;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const std::string subject = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (i % 4 == 3) {
          AddObjectsRequest req;
          req.collection_id = "c1";
          req.objects = {Obj(Id("indicator", t * 1000 + i), kT0)};
          req.audit = {Audit("publish", subject), Audit("publish", subject + "b")};
          if (!store_->AddObjects(req, kT0 + i).ok()) ++errors;
        } else if (!store_->AppendAudit({Audit("read-red", subject)}, kT0 + i).ok()) {
          ++errors;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(errors.load(), 0);
  auto verified = audit::VerifyChain(*store_);
  ASSERT_OK(verified);
  EXPECT_EQ(verified->entries, kThreads * (kRounds + kRounds / 4));
  std::set<std::string> subjects;
  auto all = store_->ListAudit(0, 100000);
  ASSERT_OK(all);
  for (const AuditRecord& r : *all) EXPECT_TRUE(subjects.insert(r.subject).second) << r.subject;
}

TEST_P(StoreConformance, EventsAreSequencedAndPaged) {
  SETUP_COLLECTIONS();
  auto last = store_->LastEventSeq();
  ASSERT_OK(last);
  EXPECT_EQ(*last, 0);
  auto none = store_->ListEvents(0, 10);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  const std::string a = Id("indicator", 1);
  ObjectLabel label = Label(2, {kPartnerB});
  ASSERT_OK(fx.Add("c1", {Labeled(a, kT0, label)}, kT0 + 7));
  std::vector<NewObject> more;
  for (int i = 2; i < 12; ++i) more.push_back(Obj(Id("indicator", i), kT0));
  ASSERT_OK(fx.Add("c2", more, kT0 + 8));
  std::vector<HubEvent> events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 11u);
  const HubEvent& first = events[0];
  EXPECT_EQ(first.kind, "object");
  EXPECT_EQ(first.time, kT0 + 7);
  EXPECT_EQ(first.collection_id, "c1");
  EXPECT_EQ(first.object_id, a);
  EXPECT_EQ(first.version, kT0);
  EXPECT_EQ(first.label, Unsigned(label));
  EXPECT_TRUE(first.label.signature.empty());
  EXPECT_FALSE(label.signature.empty());
  EXPECT_FALSE(first.data.empty());
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].seq, events[i - 1].seq);
    EXPECT_EQ(events[i].collection_id, "c2");
  }
  last = store_->LastEventSeq();
  ASSERT_OK(last);
  EXPECT_EQ(*last, events.back().seq);

  // Paging with after_seq (exclusive) and limit visits every event once.
  std::vector<int64_t> seen;
  int64_t after = 0;
  for (;;) {
    auto page = store_->ListEvents(after, 3);
    ASSERT_OK(page);
    if (page->empty()) break;
    EXPECT_LE(page->size(), 3u);
    for (const HubEvent& e : *page) seen.push_back(e.seq);
    after = page->back().seq;
  }
  ASSERT_EQ(seen.size(), events.size());
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], events[i].seq);
  auto zero = store_->ListEvents(0, 0);
  ASSERT_OK(zero);
  EXPECT_TRUE(zero->empty());

  // Deleting objects never lets a seq be reused.
  ASSERT_OK(store_->DeleteObject(Query("c1"), a));
  ASSERT_OK(fx.Add("c1", {Labeled(a, kT0, label)}, kT0 + 9));
  auto tail = store_->ListEvents(events.back().seq, 10);
  ASSERT_OK(tail);
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_GT((*tail)[0].seq, events.back().seq);
}

TEST_P(StoreConformance, LookupObjectsFindsTheNewestVersionAcrossCollections) {
  SETUP_COLLECTIONS();
  const std::string a = Id("indicator", 1);
  const std::string b = Id("indicator", 2);
  ASSERT_OK(fx.Add("c1", {Labeled(a, kT0 + 5, Label(1)), Labeled(b, kT0, Label(0))}, kT0));
  ASSERT_OK(fx.Add("c2", {Labeled(a, kT0 + 9, Label(3)), Labeled(a, kT0 + 1, Label(2))}, kT0 + 10));
  auto found = store_->LookupObjects({a, "indicator--unknown", b, a});
  ASSERT_OK(found);
  ASSERT_EQ(found->size(), 2u);
  std::map<std::string, StoredObject> by_id;
  for (const StoredObject& o : *found) by_id[o.id] = o;
  ASSERT_EQ(by_id.count(a), 1u);
  EXPECT_EQ(by_id[a].version, kT0 + 9);
  EXPECT_EQ(by_id[a].label, Label(3));
  EXPECT_EQ(by_id[a].type, "indicator");
  EXPECT_TRUE(by_id[a].json.empty());  // metadata only
  EXPECT_EQ(by_id[b].version, kT0);
  EXPECT_EQ(by_id[b].label, Label(0));
  auto nothing = store_->LookupObjects({});
  ASSERT_OK(nothing);
  EXPECT_TRUE(nothing->empty());
  std::vector<std::string> too_many(kMaxQueryValues + 1, a);
  EXPECT_CODE(store_->LookupObjects(too_many), StatusCode::kInvalidArgument);
}

TEST_P(StoreConformance, GetObjectVersionReturnsBytesAndLabel) {
  SETUP_COLLECTIONS();
  const std::string a = Id("indicator", 1);
  NewObject v1 = Labeled(a, kT0, Label(2, {kPartnerB}));
  NewObject v2 = Labeled(a, kT0 + 1, Label(1));
  ASSERT_OK(fx.Add("c1", {v1, v2}, kT0));
  auto got = store_->GetObjectVersion("c1", a, kT0);
  ASSERT_OK(got);
  EXPECT_EQ(got->id, a);
  EXPECT_EQ(got->type, "indicator");
  EXPECT_EQ(got->spec_version, "2.1");
  EXPECT_EQ(got->version, kT0);
  EXPECT_EQ(got->json, v1.json);
  EXPECT_EQ(got->label, v1.label);
  EXPECT_GT(got->date_added, 0);
  got = store_->GetObjectVersion("c1", a, kT0 + 1);
  ASSERT_OK(got);
  EXPECT_EQ(got->json, v2.json);
  EXPECT_CODE(store_->GetObjectVersion("c1", a, kT0 + 2), StatusCode::kNotFound);
  EXPECT_CODE(store_->GetObjectVersion("c2", a, kT0), StatusCode::kNotFound);
  EXPECT_CODE(store_->GetObjectVersion("c1", Id("indicator", 2), kT0), StatusCode::kNotFound);
  EXPECT_CODE(store_->GetObjectVersion("nope", a, kT0), StatusCode::kNotFound);
}

TEST_P(StoreConformance, GetObjectVersionsProbesExactKeys) {
  SETUP_COLLECTIONS();
  const std::string a = Id("indicator", 1);
  const std::string b = Id("indicator", 2);
  NewObject a1 = Labeled(a, kT0, Label(2, {kPartnerB}));
  NewObject a2 = Labeled(a, kT0 + 1, Label(1));
  NewObject b1 = Labeled(b, kT0 + 5, Label(3));
  ASSERT_OK(fx.Add("c1", {a1, a2, b1}, kT0));
  ASSERT_OK(fx.Add("c2", {Labeled(b, kT0, Label(1))}, kT0));

  // (a, kT0+5) and (b, kT0) pair an id with another object's version: not stored in c1.
  std::vector<ObjectVersionKey> keys = {{b, kT0 + 5}, {a, kT0}, {a, kT0 + 5},
                                        {b, kT0},     {a, kT0}, {Id("indicator", 3), kT0}};
  auto got = store_->GetObjectVersions("c1", keys, /*metadata_only=*/false);
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), 2u);
  std::map<ObjectVersionKey, StoredObject> by_key;
  for (const StoredObject& o : *got) by_key[{o.id, o.version}] = o;
  const ObjectVersionKey ka{a, kT0}, kb{b, kT0 + 5};
  ASSERT_EQ(by_key.count(ka), 1u);
  ASSERT_EQ(by_key.count(kb), 1u);
  EXPECT_EQ(by_key[ka].json, a1.json);
  EXPECT_EQ(by_key[ka].label, a1.label);
  EXPECT_EQ(by_key[kb].json, b1.json);
  EXPECT_EQ(by_key[kb].label, b1.label);
  EXPECT_GT(by_key[kb].date_added, 0);

  auto meta = store_->GetObjectVersions("c1", {{a, kT0 + 1}}, /*metadata_only=*/true);
  ASSERT_OK(meta);
  ASSERT_EQ(meta->size(), 1u);
  EXPECT_EQ((*meta)[0].json, "");
  EXPECT_EQ((*meta)[0].label, a2.label);

  auto none = store_->GetObjectVersions("c1", {}, false);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  EXPECT_CODE(store_->GetObjectVersions("nope", {{a, kT0}}, false), StatusCode::kNotFound);
  EXPECT_CODE(store_->GetObjectVersions("c1", {{"", kT0}}, false), StatusCode::kInvalidArgument);
  std::vector<ObjectVersionKey> too_many(kMaxQueryValues + 1, ObjectVersionKey{a, kT0});
  EXPECT_CODE(store_->GetObjectVersions("c1", too_many, false), StatusCode::kInvalidArgument);
}

TEST_P(StoreConformance, FeedbackIsRecordedListedAndAnnounced) {
  SETUP_COLLECTIONS();
  const std::string tip = Id("indicator", 1);
  ObjectLabel tip_label = Label(3, {kPartnerB});
  ASSERT_OK(fx.Add("c1", {Labeled(tip, kT0, tip_label)}, kT0));

  const std::string s1 = Id("sighting", 2);
  const std::string s2 = Id("note", 3);
  NewObject sighting = Labeled(s1, kT0 + 1, Label(2));
  FeedbackRecord seen;
  seen.about_id = tip;
  seen.from = kPartnerB;
  seen.outcome = "acted-on";
  seen.note = "seven suspects detained";
  seen.count = 7;
  sighting.feedback = {seen};
  NewObject note = Labeled(s2, kT0 + 2, Label(2));
  FeedbackRecord fp;
  fp.about_id = tip;
  fp.from = kPartnerC;
  fp.outcome = "false-positive";
  FeedbackRecord elsewhere;
  elsewhere.about_id = "indicator--not-here";
  elsewhere.from = kPartnerC;
  elsewhere.outcome = "note";
  note.feedback = {fp, elsewhere};
  auto last = store_->LastEventSeq();
  ASSERT_OK(last);
  const int64_t before = *last;
  ASSERT_OK(fx.Add("c2", {note}, kT0 + 100));
  ASSERT_OK(fx.Add("c2", {sighting}, kT0 + 50));  // received order follows the store's clock

  auto listed = store_->ListFeedback(tip);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  FeedbackRecord expect_fp = fp;
  expect_fp.feedback_id = s2;
  expect_fp.feedback_version = kT0 + 2;
  expect_fp.received = kT0 + 100;
  FeedbackRecord expect_seen = seen;
  expect_seen.feedback_id = s1;
  expect_seen.feedback_version = kT0 + 1;
  expect_seen.received = kT0 + 50;
  EXPECT_EQ((*listed)[0], expect_seen);
  EXPECT_EQ((*listed)[1], expect_fp);
  auto all = store_->ListFeedback("");
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 3u);
  auto unknown = store_->ListFeedback("indicator--nothing");
  ASSERT_OK(unknown);
  EXPECT_TRUE(unknown->empty());

  // Events: object, feedback, feedback (note); then object, feedback (sighting).
  auto events = store_->ListEvents(before, 100);
  ASSERT_OK(events);
  ASSERT_EQ(events->size(), 5u);
  EXPECT_EQ((*events)[0].kind, "object");
  EXPECT_EQ((*events)[1].kind, "feedback");
  EXPECT_EQ((*events)[1].object_id, tip);
  EXPECT_EQ((*events)[1].collection_id, "c2");
  EXPECT_EQ((*events)[1].version, kT0 + 2);
  EXPECT_EQ((*events)[1].label, Unsigned(tip_label));  // the label of the object it is about
  EXPECT_EQ((*events)[1].data, FeedbackEventData(expect_fp));
  EXPECT_EQ((*events)[2].kind, "feedback");
  EXPECT_EQ((*events)[2].object_id, "indicator--not-here");
  EXPECT_EQ((*events)[2].label, Unsigned(note.label));  // unknown object: the feedback's own label
  EXPECT_EQ((*events)[4].kind, "feedback");
  EXPECT_EQ((*events)[4].data, FeedbackEventData(expect_seen));
}

TEST_P(StoreConformance, UsersCarryTheirPartner) {
  User partner = MakeUser("hub-b", Role::kPartner);
  partner.partner = kPartnerB;
  ASSERT_OK(store_->CreateUser(partner));
  ASSERT_OK(store_->CreateUser(MakeUser("alice", Role::kPublisher)));
  auto got = store_->GetUser("hub-b");
  ASSERT_OK(got);
  EXPECT_EQ(got->role, Role::kPartner);
  EXPECT_EQ(got->partner, kPartnerB);
  auto list = store_->ListUsers();
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].partner, "");
  EXPECT_EQ((*list)[1].partner, kPartnerB);
  partner.partner = kPartnerC;
  ASSERT_OK(store_->UpdateUser(partner));
  got = store_->GetUser("hub-b");
  ASSERT_OK(got);
  EXPECT_EQ(got->partner, kPartnerC);
}

}  // namespace
}  // namespace liaison::storage
