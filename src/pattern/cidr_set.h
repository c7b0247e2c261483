#pragma once

// CidrSet: a multiset of (IP prefix, uint32 value) answering the two questions behind the pattern
// index's ISSUBSET and ISSUPERSET comparisons (STIX 2.1 Patterning section 9.5, table of
// comparison operators):
//
//   `ipv4-addr:value ISSUBSET '198.51.100.0/24'` holds when the observed value lies inside the
//   constant block: ForEachContaining(observed, fn) visits every stored prefix that contains
//   `observed` (equal included).
//   `ipv4-addr:value ISSUPERSET '198.51.100.7'` holds when the observed block covers the constant:
//   ForEachContainedIn(observed, fn) visits every stored prefix inside `observed`.
//
// Structure: for each family, one hash table per prefix length present (masked address -> values)
// plus a bit set of the lengths in use, so a containment query costs one probe per length in use
// (at most 33 or 129, typically a handful). The "contained in" query walks an ordered map over
// [first address of the block, last address of the block].
//
//   CidrSet s;
//   s.Add(*ParseCidr("10.0.0.0/8"), 7);
//   s.ForEachContaining(*ParseCidr("10.1.2.3"), [](uint32_t v) { ... });   // visits 7
//
// Not thread-safe: concurrent const calls are safe; mutation needs exclusive access.

#include <bitset>
#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <vector>

#include "pattern/typed_key.h"

namespace liaison::pattern {

class CidrSet {
 public:
  void Add(const CidrBlock& prefix, uint32_t value);
  // Removes one (prefix, value) entry; returns whether it was present.
  bool Remove(const CidrBlock& prefix, uint32_t value);
  // Removes every entry whose value satisfies `pred`; returns how many.
  size_t RemoveIf(const std::function<bool(uint32_t)>& pred);

  // Visits the value of every stored prefix p with PrefixContains(p, query).
  void ForEachContaining(const CidrBlock& query, const std::function<void(uint32_t)>& fn) const;
  // Visits the value of every stored prefix p with PrefixContains(query, p).
  void ForEachContainedIn(const CidrBlock& query, const std::function<void(uint32_t)>& fn) const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct IpHash {
    size_t operator()(const Ip128& a) const {
      return static_cast<size_t>((a.hi * 0x9e3779b97f4a7c15ULL) ^ (a.lo * 0xc2b2ae3d27d4eb4fULL) ^
                                 (a.lo >> 29));
    }
  };
  using LengthTable = std::unordered_map<Ip128, std::vector<uint32_t>, IpHash>;
  struct Family {
    std::vector<LengthTable> by_length;  // index = prefix length
    std::bitset<129> lengths;            // lengths with at least one entry
    // (address, length) -> values, ordered by address for ForEachContainedIn.
    std::map<std::pair<Ip128, uint8_t>, std::vector<uint32_t>> ordered;
  };
  Family& FamilyOf(bool v6) { return v6 ? v6_ : v4_; }
  const Family& FamilyOf(bool v6) const { return v6 ? v6_ : v4_; }

  Family v4_;
  Family v6_;
  size_t size_ = 0;
};

}  // namespace liaison::pattern
