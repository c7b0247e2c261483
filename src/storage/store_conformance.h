#pragma once

// The Store conformance suite: one parameterised GoogleTest suite that every backend passes
// unchanged. It tests only the contract written in storage/store.h.
//
// A backend's test file instantiates it with a factory that makes a fresh, empty Store:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
//                            ::testing::Values(StoreFactory{"Memory", [] {
//                              return std::unique_ptr<Store>(memory::MemoryStore::Create());
//                            }}),
//                            StoreFactoryName);
//
// The suite lives in the liaison_storage_conformance object library (its tests register at static
// initialisation, so it must be linked as objects, not from an archive).

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "storage/store.h"

namespace liaison::storage {

struct StoreFactory {
  std::string name;  // used as the instantiation's parameter name: letters, digits, '_'
  // Makes a fresh, empty store. Called once per test; the store is destroyed at the end of the
  // test (a backend may release its resources, e.g. a temporary file, in the destructor).
  std::function<std::unique_ptr<Store>()> make;
};

void PrintTo(const StoreFactory& factory, std::ostream* os);

// For INSTANTIATE_TEST_SUITE_P's name generator.
std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info);

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::unique_ptr<Store> store_;
};

}  // namespace liaison::storage
