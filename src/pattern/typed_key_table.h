#pragma once

// TypedKeyTable: a compact open-addressing hash map from encoded typed keys (byte strings, see
// typed_key.h) to a uint32 value, built for the pattern index's million-entry equality tables.
//
// Layout: 12-byte slots {32-bit hash tag, arena offset, value} with linear probing, one arena
// holding every key once as <varint length><bytes>, and a blocked Bloom filter (half a byte per
// slot) checked first, so that looking up an absent key, the common case, usually stays in cache.
// At the maximum load factor of 3/4 a table of n keys takes between 16n and 32n bytes of slots plus
// the key bytes. Erase leaves a tombstone and dead arena bytes; both are reclaimed by an automatic
// rebuild once they outweigh the live data.
//
//   TypedKeyTable t;
//   std::string key; AppendStringKey("198.51.100.7", &key);
//   *t.FindOrInsert(key) = 42;
//   if (const uint32_t* v = t.Find(key)) ...
//
// Not thread-safe: concurrent Find calls are safe with each other, but any mutation needs
// exclusive access (the Index guards it with its shared mutex).

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace liaison::pattern {

class TypedKeyTable {
 public:
  TypedKeyTable() = default;

  // Returns the value of `key`, or nullptr. The pointer is valid until the next mutation.
  const uint32_t* Find(std::string_view key) const { return Find(key, Hash(key)); }
  const uint32_t* Find(std::string_view key, uint64_t hash) const;

  // Hints the CPU to load the memory a later Find(key, hash) reads first (its Bloom filter
  // block), so that several lookups can overlap their cache misses. No effect on the contents.
  void Prefetch(uint64_t hash) const;
  // False when a key of this hash is certainly absent (the Bloom filter Find consults first).
  bool MayContain(uint64_t hash) const { return !bloom_.empty() && BloomMayContain(hash); }
  // Hints the CPU to load the first slot Find(key, hash) reads after the Bloom filter.
  void PrefetchSlot(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
  }

  // Returns the value slot of `key`, inserting it with `initial` when absent (*inserted says
  // which). Errors: kResourceExhausted when the key arena would pass 4 GiB or a key is longer
  // than 16 MiB.
  Result<uint32_t*> FindOrInsert(std::string_view key, uint32_t initial, bool* inserted = nullptr);

  // Removes `key`; returns whether it was present.
  bool Erase(std::string_view key);

  size_t size() const { return size_; }
  // Bytes held by slots and arena (capacity, not just use).
  size_t MemoryBytes() const;

  // Calls fn(key, value) for every entry (order unspecified).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.tag >= kFirstTag) fn(KeyAt(s.offset), s.value);
    }
  }

  // Calls fn(key, value&) for every entry; fn may change the value, and returns true to erase the
  // entry. Returns the number erased.
  template <typename Fn>
  size_t RemoveIf(Fn&& fn) {
    size_t erased = 0;
    for (Slot& s : slots_) {
      if (s.tag < kFirstTag) continue;
      if (fn(KeyAt(s.offset), s.value)) {
        dead_bytes_ += EntryBytes(s.offset);
        s.tag = kTombstone;
        --size_;
        ++tombstones_;
        ++erased;
      }
    }
    if (dead_bytes_ > 4096 && dead_bytes_ > arena_.size() / 2) Compact();
    return erased;
  }

  static uint64_t Hash(std::string_view key);

 private:
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kTombstone = 1;
  static constexpr uint32_t kFirstTag = 2;

  struct Slot {
    uint32_t tag = kEmpty;  // upper hash bits, >= kFirstTag when occupied
    uint32_t offset = 0;    // of the key in arena_
    uint32_t value = 0;
  };

  static uint32_t TagOf(uint64_t hash) {
    uint32_t t = static_cast<uint32_t>(hash >> 32);
    return t < kFirstTag ? t + kFirstTag : t;
  }
  std::string_view KeyAt(uint32_t offset) const;
  size_t EntryBytes(uint32_t offset) const;
  // Rebuilds into `capacity` slots (a power of two), copying live keys into a fresh arena.
  void Rebuild(size_t capacity);
  // Rebuilds at the smallest capacity that keeps the load factor <= 1/2.
  void Compact();
  size_t SlotFor(std::string_view key, uint64_t hash) const;  // occupied slot or npos
  void BloomAdd(uint64_t hash);
  bool BloomMayContain(uint64_t hash) const;

  std::vector<Slot> slots_;
  std::vector<char> arena_;
  // A blocked Bloom filter over the keys (rebuilt with the slots; erased keys stay set until then).
  std::vector<uint64_t> bloom_;
  uint64_t bloom_block_mask_ = 0;
  size_t size_ = 0;
  size_t tombstones_ = 0;
  size_t dead_bytes_ = 0;
};

}  // namespace liaison::pattern
