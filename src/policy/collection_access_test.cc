#include "policy/collection_access.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

#include "storage/memory/memory_store.h"

namespace liaison::policy {
namespace {

using storage::Grant;
using storage::Role;

constexpr char kCollection[] = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

Principal User(std::string name, Role role) {
  Principal p;
  p.user = std::move(name);
  p.role = role;
  p.authenticated = true;
  p.method = "basic";
  return p;
}

Grant MakeGrant(std::string subject, bool read, bool write, std::string collection = kCollection) {
  Grant g;
  g.collection_id = std::move(collection);
  g.subject = std::move(subject);
  g.can_read = read;
  g.can_write = write;
  return g;
}

constexpr CollectionAccess kNone{};
constexpr CollectionAccess kReadOnly{.can_read = true, .can_write = false};
constexpr CollectionAccess kWriteOnly{.can_read = false, .can_write = true};
constexpr CollectionAccess kReadWrite{.can_read = true, .can_write = true};

// ----- Denials first.

TEST(CollectionAccess, AnonymousGetsNothingEvenWithGrantsForEveryone) {
  Principal anonymous;  // not authenticated
  std::vector<Grant> grants = {MakeGrant("role:reader", true, true),
                               MakeGrant("role:admin", true, true), MakeGrant("user:", true, true)};
  EXPECT_EQ(DecideCollectionAccess(anonymous, kCollection, grants), kNone);
}

TEST(CollectionAccess, UnauthenticatedAdminRoleGetsNothing) {
  Principal p = User("root", Role::kAdmin);
  p.authenticated = false;
  EXPECT_EQ(DecideCollectionAccess(p, kCollection, {}), kNone);
}

TEST(CollectionAccess, NoGrantsMeansNothing) {
  EXPECT_EQ(DecideCollectionAccess(User("alice", Role::kPublisher), kCollection, {}), kNone);
}

TEST(CollectionAccess, GrantsForOtherSubjectsDoNotApply) {
  std::vector<Grant> grants = {MakeGrant("role:publisher", true, true),
                               MakeGrant("user:bob", true, true),
                               MakeGrant("user:alicex", true, true)};
  EXPECT_EQ(DecideCollectionAccess(User("alice", Role::kReader), kCollection, grants), kNone);
}

TEST(CollectionAccess, GrantsForOtherCollectionsDoNotApply) {
  std::vector<Grant> grants = {MakeGrant("user:alice", true, true, "other-collection"),
                               MakeGrant("role:reader", true, true, "other-collection")};
  EXPECT_EQ(DecideCollectionAccess(User("alice", Role::kReader), kCollection, grants), kNone);
}

TEST(CollectionAccess, UserGrantDenyingBeatsRoleGrantAllowing) {
  std::vector<Grant> grants = {MakeGrant("role:publisher", true, true),
                               MakeGrant("user:mallory", false, false)};
  EXPECT_EQ(DecideCollectionAccess(User("mallory", Role::kPublisher), kCollection, grants), kNone);
}

TEST(CollectionAccess, UserGrantNarrowerThanRoleGrantWins) {
  std::vector<Grant> grants = {MakeGrant("user:alice", true, false),
                               MakeGrant("role:publisher", true, true)};
  EXPECT_EQ(DecideCollectionAccess(User("alice", Role::kPublisher), kCollection, grants),
            kReadOnly);
}

TEST(CollectionAccess, EmptyUserNameDoesNotMatchBareUserSubject) {
  std::vector<Grant> grants = {MakeGrant("user:", true, true)};
  EXPECT_EQ(DecideCollectionAccess(User("", Role::kReader), kCollection, grants), kNone);
}

TEST(CollectionAccess, StoreIsNotConsultedForAnonymous) {
  auto store = storage::memory::MemoryStore::Create();
  // The collection does not exist: a lookup would fail with kNotFound.
  Result<CollectionAccess> access = GetCollectionAccess(*store, Principal{}, "nope");
  ASSERT_TRUE(access.ok()) << access.status().ToString();
  EXPECT_EQ(*access, kNone);
}

TEST(CollectionAccess, UnknownCollectionIsNotFoundForNonAdmins) {
  auto store = storage::memory::MemoryStore::Create();
  Result<CollectionAccess> access =
      GetCollectionAccess(*store, User("alice", Role::kReader), "nope");
  ASSERT_FALSE(access.ok());
  EXPECT_EQ(access.status().code(), StatusCode::kNotFound);
}

// ----- Grants that allow.

TEST(CollectionAccess, AdminMayDoEverythingWithoutGrants) {
  EXPECT_EQ(DecideCollectionAccess(User("root", Role::kAdmin), kCollection, {}), kReadWrite);
}

TEST(CollectionAccess, AdminIsNotLimitedByAUserGrant) {
  std::vector<Grant> grants = {MakeGrant("user:root", false, false)};
  EXPECT_EQ(DecideCollectionAccess(User("root", Role::kAdmin), kCollection, grants), kReadWrite);
}

TEST(CollectionAccess, RoleGrantApplies) {
  std::vector<Grant> grants = {MakeGrant("role:reader", true, false),
                               MakeGrant("role:publisher", true, true)};
  EXPECT_EQ(DecideCollectionAccess(User("r", Role::kReader), kCollection, grants), kReadOnly);
  EXPECT_EQ(DecideCollectionAccess(User("p", Role::kPublisher), kCollection, grants), kReadWrite);
}

TEST(CollectionAccess, UserGrantWiderThanRoleGrantWins) {
  std::vector<Grant> grants = {MakeGrant("role:reader", true, false),
                               MakeGrant("user:feeder", false, true)};
  EXPECT_EQ(DecideCollectionAccess(User("feeder", Role::kReader), kCollection, grants), kWriteOnly);
}

TEST(CollectionAccess, DuplicateSubjectsCombine) {
  std::vector<Grant> grants = {MakeGrant("user:alice", true, false),
                               MakeGrant("user:alice", false, true)};
  EXPECT_EQ(DecideCollectionAccess(User("alice", Role::kReader), kCollection, grants), kReadWrite);
}

TEST(CollectionAccess, SubjectsAreBuiltFromNames) {
  EXPECT_EQ(UserSubject("alice"), "user:alice");
  EXPECT_EQ(RoleSubject(Role::kAdmin), "role:admin");
  EXPECT_EQ(RoleSubject(Role::kPublisher), "role:publisher");
  EXPECT_EQ(RoleSubject(Role::kReader), "role:reader");
}

TEST(CollectionAccess, LooksGrantsUpInTheStore) {
  auto store = storage::memory::MemoryStore::Create();
  storage::ApiRoot root;
  root.name = "api";
  root.title = "API";
  ASSERT_TRUE(store->CreateApiRoot(root).ok());
  storage::Collection collection;
  collection.id = kCollection;
  collection.api_root = "api";
  collection.title = "Default";
  ASSERT_TRUE(store->CreateCollection(collection).ok());
  ASSERT_TRUE(store->PutGrant(MakeGrant("role:reader", true, false)).ok());
  ASSERT_TRUE(store->PutGrant(MakeGrant("user:bob", true, true)).ok());

  Result<CollectionAccess> reader =
      GetCollectionAccess(*store, User("r", Role::kReader), kCollection);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(*reader, kReadOnly);

  Result<CollectionAccess> bob =
      GetCollectionAccess(*store, User("bob", Role::kReader), kCollection);
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(*bob, kReadWrite);

  Result<CollectionAccess> publisher =
      GetCollectionAccess(*store, User("p", Role::kPublisher), kCollection);
  ASSERT_TRUE(publisher.ok());
  EXPECT_EQ(*publisher, kNone);
}

// ----- Partner accounts (issue 4): user grants only.

Principal PartnerUser(std::string name) {
  Principal p = User(std::move(name), Role::kPartner);
  p.partner = "identity--bbbbbbbb-0000-4000-8000-000000000002";
  return p;
}

TEST(CollectionAccess, PartnerHasNoGrantByDefault) {
  EXPECT_EQ(DecideCollectionAccess(PartnerUser("partner-b"), kCollection, {}), kNone);
  // What the hub's own people are granted does not reach partners.
  std::vector<Grant> grants = {MakeGrant("role:reader", true, false),
                               MakeGrant("role:publisher", true, true),
                               MakeGrant("role:admin", true, true)};
  EXPECT_EQ(DecideCollectionAccess(PartnerUser("partner-b"), kCollection, grants), kNone);
}

TEST(CollectionAccess, RolePartnerGrantIsIgnored) {
  std::vector<Grant> grants = {MakeGrant("role:partner", true, true)};
  EXPECT_EQ(DecideCollectionAccess(PartnerUser("partner-b"), kCollection, grants), kNone);
  EXPECT_EQ(RoleSubject(Role::kPartner), "role:partner");
  // Nor does it reach anyone else.
  EXPECT_EQ(DecideCollectionAccess(User("r", Role::kReader), kCollection, grants), kNone);
}

TEST(CollectionAccess, PartnerGetsExactlyItsUserGrant) {
  std::vector<Grant> grants = {MakeGrant("role:partner", true, true),
                               MakeGrant("user:partner-b", false, true),
                               MakeGrant("user:partner-c", true, false)};
  EXPECT_EQ(DecideCollectionAccess(PartnerUser("partner-b"), kCollection, grants), kWriteOnly);
  EXPECT_EQ(DecideCollectionAccess(PartnerUser("partner-c"), kCollection, grants), kReadOnly);
  EXPECT_EQ(DecideCollectionAccess(PartnerUser("partner-d"), kCollection, grants), kNone);
}

TEST(CollectionAccess, UnauthenticatedPartnerGetsNothing) {
  Principal p = PartnerUser("partner-b");
  p.authenticated = false;
  EXPECT_EQ(DecideCollectionAccess(p, kCollection, {MakeGrant("user:partner-b", true, true)}),
            kNone);
}

TEST(CollectionAccess, PartnerUserGrantLookedUpInTheStore) {
  auto store = storage::memory::MemoryStore::Create();
  storage::ApiRoot root;
  root.name = "api";
  root.title = "API";
  ASSERT_TRUE(store->CreateApiRoot(root).ok());
  storage::Collection collection;
  collection.id = kCollection;
  collection.api_root = "api";
  collection.title = "Inbox";
  ASSERT_TRUE(store->CreateCollection(collection).ok());
  ASSERT_TRUE(store->PutGrant(MakeGrant("role:reader", true, false)).ok());
  ASSERT_TRUE(store->PutGrant(MakeGrant("user:partner-b", false, true)).ok());
  Result<CollectionAccess> b = GetCollectionAccess(*store, PartnerUser("partner-b"), kCollection);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(*b, kWriteOnly);
  Result<CollectionAccess> c = GetCollectionAccess(*store, PartnerUser("partner-c"), kCollection);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, kNone);
}

}  // namespace
}  // namespace liaison::policy
