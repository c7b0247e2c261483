#include "storage/memory/memory_store.h"

#include <gtest/gtest.h>

namespace liaison::storage::memory {
namespace {

TEST(MemoryStore, AddAndQueryRoundTrip) {
  auto store = MemoryStore::Create();
  ApiRoot root;
  root.name = "api1";
  ASSERT_TRUE(store->CreateApiRoot(root).ok());
  Collection c;
  c.id = "c1";
  c.api_root = "api1";
  ASSERT_TRUE(store->CreateCollection(c).ok());
  AddObjectsRequest req;
  req.collection_id = "c1";
  req.objects.push_back({"indicator--1", "indicator", "2.1", 1000, R"({"a":1})"});
  req.status.id = "s1";
  req.status.api_root = "api1";
  auto added = store->AddObjects(req, 5000);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->added, 1u);
  EXPECT_EQ(added->first_date_added, 5000);
  ObjectQuery q;
  q.collection_id = "c1";
  auto page = store->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].json, R"({"a":1})");
  auto status = store->GetStatus("api1", "s1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->success_count, 1);
}

}  // namespace
}  // namespace liaison::storage::memory
