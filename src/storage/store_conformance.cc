#include "storage/store_conformance.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

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

}  // namespace
}  // namespace liaison::storage
