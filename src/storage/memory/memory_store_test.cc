#include "storage/memory/memory_store.h"

#include <gtest/gtest.h>

#include "storage/store_conformance.h"

namespace liaison::storage::memory {
namespace {

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
                         ::testing::Values(StoreFactory{
                             "Memory",
                             [] { return std::unique_ptr<Store>(MemoryStore::Create()); }}),
                         StoreFactoryName);

TEST(MemoryStore, StoresAreIndependent) {
  auto a = MemoryStore::Create();
  auto b = MemoryStore::Create();
  ASSERT_TRUE(a->PutSetting("k", "v").ok());
  auto got = b->GetSetting("k");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

}  // namespace
}  // namespace liaison::storage::memory
