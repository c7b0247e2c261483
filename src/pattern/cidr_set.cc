#include "pattern/cidr_set.h"

#include <algorithm>

namespace liaison::pattern {
namespace {

// The address as a 128-bit value masked to `length` bits of its family.
Ip128 Masked(const CidrBlock& p, unsigned length) {
  if (!p.v6) return Ip128{0, MaskIpv4(static_cast<uint32_t>(p.addr.lo), length)};
  return MaskIp128(p.addr, length);
}

// The last address of the block `p` (all host bits set).
Ip128 LastAddress(const CidrBlock& p) {
  if (!p.v6) {
    uint32_t host = p.length >= 32 ? 0 : (p.length == 0 ? ~0U : (~0U >> p.length));
    return Ip128{0, static_cast<uint32_t>(p.addr.lo) | host};
  }
  Ip128 last = p.addr;
  if (p.length < 64) {
    last.hi |= p.length == 0 ? ~0ULL : (~0ULL >> p.length);
    last.lo = ~0ULL;
  } else if (p.length < 128) {
    last.lo |= ~0ULL >> (p.length - 64);
  }
  return last;
}

}  // namespace

void CidrSet::Add(const CidrBlock& prefix, uint32_t value) {
  Family& f = FamilyOf(prefix.v6);
  if (f.by_length.empty()) f.by_length.resize(prefix.v6 ? 129 : 33);
  Ip128 key = Masked(prefix, prefix.length);
  f.by_length[prefix.length][key].push_back(value);
  f.lengths.set(prefix.length);
  f.ordered[{key, prefix.length}].push_back(value);
  ++size_;
}

bool CidrSet::Remove(const CidrBlock& prefix, uint32_t value) {
  Family& f = FamilyOf(prefix.v6);
  if (f.by_length.empty()) return false;
  Ip128 key = Masked(prefix, prefix.length);
  LengthTable& table = f.by_length[prefix.length];
  auto it = table.find(key);
  if (it == table.end()) return false;
  auto pos = std::find(it->second.begin(), it->second.end(), value);
  if (pos == it->second.end()) return false;
  it->second.erase(pos);
  if (it->second.empty()) table.erase(it);
  if (table.empty()) f.lengths.reset(prefix.length);
  auto oit = f.ordered.find({key, prefix.length});
  if (oit != f.ordered.end()) {
    auto opos = std::find(oit->second.begin(), oit->second.end(), value);
    if (opos != oit->second.end()) oit->second.erase(opos);
    if (oit->second.empty()) f.ordered.erase(oit);
  }
  --size_;
  return true;
}

size_t CidrSet::RemoveIf(const std::function<bool(uint32_t)>& pred) {
  size_t removed = 0;
  for (Family* f : {&v4_, &v6_}) {
    for (size_t len = 0; len < f->by_length.size(); ++len) {
      LengthTable& table = f->by_length[len];
      for (auto it = table.begin(); it != table.end();) {
        auto& values = it->second;
        size_t before = values.size();
        values.erase(std::remove_if(values.begin(), values.end(), pred), values.end());
        removed += before - values.size();
        it = values.empty() ? table.erase(it) : std::next(it);
      }
      if (table.empty()) f->lengths.reset(len);
    }
    for (auto it = f->ordered.begin(); it != f->ordered.end();) {
      auto& values = it->second;
      values.erase(std::remove_if(values.begin(), values.end(), pred), values.end());
      it = values.empty() ? f->ordered.erase(it) : std::next(it);
    }
  }
  size_ -= removed;
  return removed;
}

void CidrSet::ForEachContaining(const CidrBlock& query,
                                const std::function<void(uint32_t)>& fn) const {
  const Family& f = FamilyOf(query.v6);
  if (f.by_length.empty()) return;
  // Only the lengths in use (usually one or two), found with the bitset's word scan.
  for (size_t len = f.lengths._Find_first(); len <= query.length && len < f.by_length.size();
       len = f.lengths._Find_next(len)) {
    const LengthTable& table = f.by_length[len];
    auto it = table.find(Masked(query, len));
    if (it == table.end()) continue;
    for (uint32_t v : it->second) fn(v);
  }
}

void CidrSet::ForEachContainedIn(const CidrBlock& query,
                                 const std::function<void(uint32_t)>& fn) const {
  const Family& f = FamilyOf(query.v6);
  Ip128 first = Masked(query, query.length);
  Ip128 last = LastAddress(CidrBlock{query.v6, first, query.length});
  for (auto it = f.ordered.lower_bound({first, 0});
       it != f.ordered.end() && it->first.first <= last; ++it) {
    if (it->first.second < query.length) continue;  // a wider block is not inside the query
    for (uint32_t v : it->second) fn(v);
  }
}

}  // namespace liaison::pattern
