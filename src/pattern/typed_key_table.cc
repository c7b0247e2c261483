#include "pattern/typed_key_table.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "pattern/typed_key.h"

namespace liaison::pattern {
namespace {

constexpr size_t kNpos = static_cast<size_t>(-1);
constexpr size_t kMaxKeyBytes = 16u << 20;
constexpr size_t kMaxArenaBytes = 0xffffffffu;

size_t VarintSize(size_t n) {
  size_t s = 1;
  while (n >= 0x80) {
    n >>= 7;
    ++s;
  }
  return s;
}

}  // namespace

uint64_t TypedKeyTable::Hash(std::string_view key) { return HashBytes(key); }

std::string_view TypedKeyTable::KeyAt(uint32_t offset) const {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(arena_.data()) + offset;
  size_t len = 0;
  int shift = 0;
  while (*p & 0x80) {
    len |= static_cast<size_t>(*p & 0x7f) << shift;
    shift += 7;
    ++p;
  }
  len |= static_cast<size_t>(*p) << shift;
  ++p;
  return std::string_view(reinterpret_cast<const char*>(p), len);
}

size_t TypedKeyTable::EntryBytes(uint32_t offset) const {
  std::string_view k = KeyAt(offset);
  return VarintSize(k.size()) + k.size();
}

size_t TypedKeyTable::SlotFor(std::string_view key, uint64_t hash) const {
  if (slots_.empty()) return kNpos;
  size_t mask = slots_.size() - 1;
  uint32_t tag = TagOf(hash);
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.tag == kEmpty) return kNpos;
    if (s.tag == tag && KeyAt(s.offset) == key) return i;
  }
}

// Blocked Bloom filter: one 64-byte block per key, three bits in it. With about 8 bits per key it
// rejects ~97% of absent keys from a cache-resident array, so a miss (the common case when
// matching observations) rarely touches the slot array in DRAM.
namespace {
inline uint64_t BloomMix(uint64_t hash) { return (hash ^ (hash >> 29)) * 0x9e3779b97f4a7c15ULL; }
}  // namespace

void TypedKeyTable::BloomAdd(uint64_t hash) {
  uint64_t h = BloomMix(hash);
  uint64_t* block = bloom_.data() + (((h >> 40) & bloom_block_mask_) * 8);
  block[(h >> 0) & 7] |= 1ULL << ((h >> 3) & 63);
  block[(h >> 9) & 7] |= 1ULL << ((h >> 12) & 63);
  block[(h >> 18) & 7] |= 1ULL << ((h >> 21) & 63);
}

bool TypedKeyTable::BloomMayContain(uint64_t hash) const {
  uint64_t h = BloomMix(hash);
  const uint64_t* block = bloom_.data() + (((h >> 40) & bloom_block_mask_) * 8);
  return (block[(h >> 0) & 7] >> ((h >> 3) & 63) & 1) &&
         (block[(h >> 9) & 7] >> ((h >> 12) & 63) & 1) &&
         (block[(h >> 18) & 7] >> ((h >> 21) & 63) & 1);
}

void TypedKeyTable::Prefetch(uint64_t hash) const {
  if (bloom_.empty()) return;
  uint64_t h = BloomMix(hash);
  const uint64_t* block = bloom_.data() + (((h >> 40) & bloom_block_mask_) * 8);
  __builtin_prefetch(block);
  __builtin_prefetch(block + 7);  // the block may straddle two cache lines
}

const uint32_t* TypedKeyTable::Find(std::string_view key, uint64_t hash) const {
  if (bloom_.empty() || !BloomMayContain(hash)) return nullptr;
  size_t i = SlotFor(key, hash);
  return i == kNpos ? nullptr : &slots_[i].value;
}

Result<uint32_t*> TypedKeyTable::FindOrInsert(std::string_view key, uint32_t initial,
                                              bool* inserted) {
  if (key.size() > kMaxKeyBytes) {
    return ResourceExhaustedError("index key longer than 16 MiB");
  }
  uint64_t hash = Hash(key);
  if (size_t i = SlotFor(key, hash); i != kNpos) {
    if (inserted) *inserted = false;
    return &slots_[i].value;
  }
  // Keep (live + tombstones) <= 3/4 of capacity: grow when live entries alone pass 1/2 after a
  // rebuild would still be crowded, else just sweep the tombstones.
  if (slots_.empty() || (size_ + tombstones_ + 1) * 4 > slots_.size() * 3) {
    size_t capacity = slots_.empty() ? 16 : slots_.size();
    while ((size_ + 1) * 2 > capacity) capacity *= 2;
    Rebuild(capacity);
  }
  size_t entry = VarintSize(key.size()) + key.size();
  if (arena_.size() + entry > kMaxArenaBytes) {
    return ResourceExhaustedError("index key arena is full (4 GiB)");
  }
  uint32_t offset = static_cast<uint32_t>(arena_.size());
  size_t n = key.size();
  while (n >= 0x80) {
    arena_.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  arena_.push_back(static_cast<char>(n));
  arena_.insert(arena_.end(), key.begin(), key.end());

  size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i].tag >= kFirstTag) i = (i + 1) & mask;
  if (slots_[i].tag == kTombstone) --tombstones_;
  slots_[i] = Slot{TagOf(hash), offset, initial};
  BloomAdd(hash);
  ++size_;
  if (inserted) *inserted = true;
  return &slots_[i].value;
}

bool TypedKeyTable::Erase(std::string_view key) {
  size_t i = SlotFor(key, Hash(key));
  if (i == kNpos) return false;
  dead_bytes_ += EntryBytes(slots_[i].offset);
  slots_[i].tag = kTombstone;
  --size_;
  ++tombstones_;
  // Reclaim the arena once dead keys outweigh live ones (amortised O(1) per erase).
  if (dead_bytes_ > 4096 && dead_bytes_ > arena_.size() / 2) Compact();
  return true;
}

void TypedKeyTable::Compact() {
  size_t capacity = 16;
  while ((size_ + 1) * 2 > capacity) capacity *= 2;
  Rebuild(capacity);
  arena_.shrink_to_fit();
}

void TypedKeyTable::Rebuild(size_t capacity) {
  // capacity / 2 bytes of filter: 4 bits per slot, 5.3..10.7 bits per key at our load factors.
  size_t blocks = std::max<size_t>(1, capacity / 128);
  bloom_.assign(blocks * 8, 0);
  bloom_block_mask_ = blocks - 1;
  std::vector<Slot> old_slots(capacity);
  old_slots.swap(slots_);
  std::vector<char> old_arena;
  old_arena.swap(arena_);
  arena_.reserve(old_arena.size() - dead_bytes_ + 64);
  size_t mask = capacity - 1;
  for (const Slot& s : old_slots) {
    if (s.tag < kFirstTag) continue;
    const char* start = old_arena.data() + s.offset;
    // Decode the entry length from the old arena.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(start);
    size_t len = 0;
    int shift = 0;
    size_t header = 1;
    while (*p & 0x80) {
      len |= static_cast<size_t>(*p & 0x7f) << shift;
      shift += 7;
      ++p;
      ++header;
    }
    len |= static_cast<size_t>(*p) << shift;
    std::string_view key(start + header, len);
    uint64_t hash = Hash(key);
    uint32_t offset = static_cast<uint32_t>(arena_.size());
    arena_.insert(arena_.end(), start, start + header + len);
    size_t i = hash & mask;
    while (slots_[i].tag != kEmpty) i = (i + 1) & mask;
    slots_[i] = Slot{TagOf(hash), offset, s.value};
    BloomAdd(hash);
  }
  tombstones_ = 0;
  dead_bytes_ = 0;
}

size_t TypedKeyTable::MemoryBytes() const {
  return slots_.capacity() * sizeof(Slot) + arena_.capacity() + bloom_.capacity() * 8;
}

}  // namespace liaison::pattern
