#include "pattern/cidr_set.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace liaison::pattern {
namespace {

std::vector<uint32_t> Containing(const CidrSet& s, std::string_view q) {
  std::vector<uint32_t> out;
  s.ForEachContaining(*ParseCidr(q), [&](uint32_t v) { out.push_back(v); });
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> ContainedIn(const CidrSet& s, std::string_view q) {
  std::vector<uint32_t> out;
  s.ForEachContainedIn(*ParseCidr(q), [&](uint32_t v) { out.push_back(v); });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CidrSet, ContainingFindsEveryEnclosingBlock) {
  CidrSet s;
  s.Add(*ParseCidr("10.0.0.0/8"), 1);
  s.Add(*ParseCidr("10.1.0.0/16"), 2);
  s.Add(*ParseCidr("10.1.2.3"), 3);
  s.Add(*ParseCidr("0.0.0.0/0"), 4);
  s.Add(*ParseCidr("2001:db8::/32"), 5);
  s.Add(*ParseCidr("11.0.0.0/8"), 6);
  EXPECT_EQ(Containing(s, "10.1.2.3"), (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(Containing(s, "10.1.9.9"), (std::vector<uint32_t>{1, 2, 4}));
  EXPECT_EQ(Containing(s, "10.1.0.0/16"), (std::vector<uint32_t>{1, 2, 4}));
  EXPECT_EQ(Containing(s, "10.0.0.0/7"), (std::vector<uint32_t>{4}));
  EXPECT_EQ(Containing(s, "2001:db8:1::1"), (std::vector<uint32_t>{5}));
  EXPECT_EQ(Containing(s, "2001:db9::1"), (std::vector<uint32_t>{}));
  EXPECT_EQ(s.size(), 6u);
}

TEST(CidrSet, ContainedInFindsNarrowerBlocks) {
  CidrSet s;
  s.Add(*ParseCidr("10.0.0.0/8"), 1);
  s.Add(*ParseCidr("10.1.0.0/16"), 2);
  s.Add(*ParseCidr("10.1.2.3"), 3);
  s.Add(*ParseCidr("10.2.0.0/16"), 4);
  s.Add(*ParseCidr("::1"), 5);
  EXPECT_EQ(ContainedIn(s, "10.1.0.0/16"), (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(ContainedIn(s, "10.0.0.0/8"), (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(ContainedIn(s, "0.0.0.0/0"), (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(ContainedIn(s, "10.1.2.3"), (std::vector<uint32_t>{3}));
  EXPECT_EQ(ContainedIn(s, "::/0"), (std::vector<uint32_t>{5}));
  EXPECT_EQ(ContainedIn(s, "255.255.255.255"), (std::vector<uint32_t>{}));
}

TEST(CidrSet, RemoveAndRemoveIf) {
  CidrSet s;
  s.Add(*ParseCidr("10.0.0.0/8"), 1);
  s.Add(*ParseCidr("10.0.0.0/8"), 2);
  s.Add(*ParseCidr("192.168.0.0/16"), 3);
  EXPECT_TRUE(s.Remove(*ParseCidr("10.0.0.0/8"), 1));
  EXPECT_FALSE(s.Remove(*ParseCidr("10.0.0.0/8"), 1));
  EXPECT_FALSE(s.Remove(*ParseCidr("10.0.0.0/9"), 2));
  EXPECT_EQ(Containing(s, "10.9.9.9"), (std::vector<uint32_t>{2}));
  EXPECT_EQ(s.RemoveIf([](uint32_t v) { return v == 3; }), 1u);
  EXPECT_EQ(Containing(s, "192.168.1.1"), (std::vector<uint32_t>{}));
  EXPECT_EQ(ContainedIn(s, "0.0.0.0/0"), (std::vector<uint32_t>{2}));
  EXPECT_EQ(s.size(), 1u);
}

// Brute force agreement on random prefixes of both families.
TEST(CidrSet, AgreesWithBruteForce) {
  std::mt19937_64 rng(7);
  auto random_prefix = [&](bool v6) {
    CidrBlock p;
    p.v6 = v6;
    // Few distinct high bits so containment actually happens.
    if (v6) {
      p.addr = Ip128{(rng() & 0x3) << 62 | (rng() & 0xff), rng() & 0xf};
      p.length = static_cast<uint8_t>(rng() % 129);
      p.addr = MaskIp128(p.addr, p.length);
    } else {
      p.addr.lo = static_cast<uint32_t>(((rng() & 0x3) << 30) | (rng() & 0xff));
      p.length = static_cast<uint8_t>(rng() % 33);
      p.addr.lo = MaskIpv4(static_cast<uint32_t>(p.addr.lo), p.length);
    }
    return p;
  };
  std::vector<CidrBlock> stored;
  CidrSet s;
  for (uint32_t i = 0; i < 400; ++i) {
    stored.push_back(random_prefix(i % 2 == 0));
    s.Add(stored.back(), i);
  }
  for (int q = 0; q < 400; ++q) {
    CidrBlock query = random_prefix(q % 2 == 0);
    std::vector<uint32_t> want_in, want_out, got_in, got_out;
    for (uint32_t i = 0; i < stored.size(); ++i) {
      if (PrefixContains(stored[i], query)) want_in.push_back(i);
      if (PrefixContains(query, stored[i])) want_out.push_back(i);
    }
    s.ForEachContaining(query, [&](uint32_t v) { got_in.push_back(v); });
    s.ForEachContainedIn(query, [&](uint32_t v) { got_out.push_back(v); });
    std::sort(got_in.begin(), got_in.end());
    std::sort(got_out.begin(), got_out.end());
    EXPECT_EQ(got_in, want_in);
    EXPECT_EQ(got_out, want_out);
  }
}

}  // namespace
}  // namespace liaison::pattern
