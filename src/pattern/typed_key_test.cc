#include "pattern/typed_key.h"

#include <cmath>
#include <string>

#include "gtest/gtest.h"

#include "pattern/typed_key_table.h"

namespace liaison::pattern {
namespace {

std::string StringKey(std::string_view s) {
  std::string k;
  AppendStringKey(s, &k);
  return k;
}

TEST(TypedKey, ParsesStrictIpv4) {
  EXPECT_EQ(ParseIpv4("198.51.100.7"), 0xc6336407u);
  EXPECT_EQ(ParseIpv4("0.0.0.0"), 0u);
  EXPECT_EQ(ParseIpv4("255.255.255.255"), 0xffffffffu);
  EXPECT_FALSE(ParseIpv4("256.1.1.1"));
  EXPECT_FALSE(ParseIpv4("1.2.3"));
  EXPECT_FALSE(ParseIpv4("1.2.3.4.5"));
  EXPECT_FALSE(ParseIpv4("01.2.3.4"));
  EXPECT_FALSE(ParseIpv4("1.2.3.4 "));
  EXPECT_FALSE(ParseIpv4(""));
  EXPECT_FALSE(ParseIpv4("1..3.4"));
}

TEST(TypedKey, ParsesIpv6Forms) {
  auto a = ParseIpv6("2001:db8::1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->hi, 0x20010db800000000ULL);
  EXPECT_EQ(a->lo, 1u);
  EXPECT_EQ(ParseIpv6("::"), (Ip128{0, 0}));
  EXPECT_EQ(ParseIpv6("::1"), (Ip128{0, 1}));
  EXPECT_EQ(ParseIpv6("1::"), (Ip128{0x0001000000000000ULL, 0}));
  EXPECT_EQ(ParseIpv6("::ffff:1.2.3.4"), (Ip128{0, 0x0000ffff01020304ULL}));
  EXPECT_EQ(ParseIpv6("1:2:3:4:5:6:7:8"), (Ip128{0x0001000200030004ULL, 0x0005000600070008ULL}));
  EXPECT_FALSE(ParseIpv6("1:2:3:4:5:6:7:8:9"));
  EXPECT_FALSE(ParseIpv6("1::2::3"));
  EXPECT_FALSE(ParseIpv6("12345::"));
  EXPECT_FALSE(ParseIpv6(":1:2"));
  EXPECT_FALSE(ParseIpv6("1:2:"));
  EXPECT_FALSE(ParseIpv6("g::1"));
  EXPECT_FALSE(ParseIpv6("1:2:3:4:5:6:7::8"));  // "::" must stand for at least one group
}

TEST(TypedKey, FormatsIpv6Canonically) {
  EXPECT_EQ(FormatIpv6(*ParseIpv6("2001:0db8:0000:0000:0000:0000:0000:0001")), "2001:db8::1");
  EXPECT_EQ(FormatIpv6(*ParseIpv6("2001:db8:0:1:1:1:1:1")), "2001:db8:0:1:1:1:1:1");
  EXPECT_EQ(FormatIpv6(*ParseIpv6("2001:0:0:1:0:0:0:1")), "2001:0:0:1::1");
  EXPECT_EQ(FormatIpv6(*ParseIpv6("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  EXPECT_EQ(FormatIpv6(Ip128{}), "::");
  EXPECT_EQ(FormatIpv6(*ParseIpv6("::ffff:10.0.0.1")), "::ffff:10.0.0.1");
}

TEST(TypedKey, ParsesCidrAndClearsHostBits) {
  Result<CidrBlock> p = ParseCidr("10.1.2.3/8");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->v6);
  EXPECT_EQ(p->length, 8);
  EXPECT_EQ(p->addr.lo, 0x0a000000u);
  Result<CidrBlock> host = ParseCidr("10.1.2.3");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->length, 32);
  Result<CidrBlock> v6 = ParseCidr("2001:db8::ff/32");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->addr, (Ip128{0x20010db800000000ULL, 0}));
  EXPECT_EQ(ParseCidr("10.0.0.0/33").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCidr("::/129").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCidr("10.0.0.0/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCidr("10.0.0.0/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCidr("example.com").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ParseCidr("0.0.0.0/0").ok());
}

TEST(TypedKey, PrefixContainment) {
  CidrBlock net = *ParseCidr("198.51.100.0/24");
  EXPECT_TRUE(PrefixContains(net, *ParseCidr("198.51.100.7")));
  EXPECT_TRUE(PrefixContains(net, *ParseCidr("198.51.100.128/25")));
  EXPECT_TRUE(PrefixContains(net, net));
  EXPECT_FALSE(PrefixContains(net, *ParseCidr("198.51.0.0/16")));
  EXPECT_FALSE(PrefixContains(net, *ParseCidr("198.51.101.1")));
  EXPECT_FALSE(PrefixContains(net, *ParseCidr("::1")));
  EXPECT_TRUE(PrefixContains(*ParseCidr("0.0.0.0/0"), *ParseCidr("1.2.3.4")));
  EXPECT_TRUE(PrefixContains(*ParseCidr("2001:db8::/32"), *ParseCidr("2001:db8:1::1")));
  EXPECT_FALSE(PrefixContains(*ParseCidr("2001:db8::/33"), *ParseCidr("2001:db8:8000::1")));
}

TEST(TypedKey, StringKeysAreInjective) {
  // Typed forms are compact...
  EXPECT_EQ(StringKey("10.0.0.1").size(), 5u);
  EXPECT_EQ(StringKey("2001:db8::1").size(), 17u);
  EXPECT_EQ(StringKey(std::string(64, 'a')).size(), 33u);
  // ...but two texts of the same address stay distinct, as string equality demands.
  EXPECT_NE(StringKey("::1"), StringKey("0::1"));
  EXPECT_NE(StringKey("2001:DB8::1"), StringKey("2001:db8::1"));
  EXPECT_NE(StringKey("deadbeef"), StringKey("DEADBEEF"));
  EXPECT_NE(StringKey("0a.0.0.1"), StringKey("10.0.0.1"));
  EXPECT_NE(StringKey("12345678"), StringKey("\x04\x12\x34\x56\x78"));
  EXPECT_EQ(StringKey("example.com"), std::string("\x01") + "example.com");
  EXPECT_EQ(StringKey(""), std::string("\x01"));
  // Mixed-case hex is an ordinary string.
  EXPECT_EQ(StringKey("DeadBeef")[0], static_cast<char>(KeyKind::kString));
}

TEST(TypedKey, NumbersCompareByValue) {
  std::string i, f, g, h;
  AppendIntegerKey(5, &i);
  ASSERT_TRUE(AppendFloatKey(5.0, &f));
  EXPECT_EQ(i, f);
  ASSERT_TRUE(AppendFloatKey(5.5, &g));
  EXPECT_NE(g, i);
  EXPECT_FALSE(AppendFloatKey(std::nan(""), &h));
  std::string zero, negzero;
  ASSERT_TRUE(AppendFloatKey(0.0, &zero));
  ASSERT_TRUE(AppendFloatKey(-0.0, &negzero));
  EXPECT_EQ(zero, negzero);
  std::string t, s;
  AppendBoolKey(true, &t);
  AppendStringKey("true", &s);
  EXPECT_NE(t, s);
}

TEST(TypedKeyTable, InsertFindErase) {
  TypedKeyTable table;
  for (uint32_t i = 0; i < 10000; ++i) {
    bool inserted = false;
    Result<uint32_t*> slot = table.FindOrInsert("key" + std::to_string(i), i, &inserted);
    ASSERT_TRUE(slot.ok());
    EXPECT_TRUE(inserted);
  }
  EXPECT_EQ(table.size(), 10000u);
  for (uint32_t i = 0; i < 10000; ++i) {
    const uint32_t* v = table.Find("key" + std::to_string(i));
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(*v, i);
  }
  EXPECT_EQ(table.Find("key10000"), nullptr);
  bool inserted = true;
  Result<uint32_t*> again = table.FindOrInsert("key7", 99, &inserted);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(inserted);
  EXPECT_EQ(**again, 7u);
  for (uint32_t i = 0; i < 10000; i += 2) EXPECT_TRUE(table.Erase("key" + std::to_string(i)));
  EXPECT_FALSE(table.Erase("key0"));
  EXPECT_EQ(table.size(), 5000u);
  for (uint32_t i = 0; i < 10000; ++i) {
    const uint32_t* v = table.Find("key" + std::to_string(i));
    if (i % 2 == 0) {
      EXPECT_EQ(v, nullptr) << i;
    } else {
      ASSERT_NE(v, nullptr) << i;
      EXPECT_EQ(*v, i);
    }
  }
  size_t visited = 0;
  table.ForEach([&](std::string_view key, uint32_t value) {
    EXPECT_EQ(key, "key" + std::to_string(value));
    ++visited;
  });
  EXPECT_EQ(visited, 5000u);
}

TEST(TypedKeyTable, ChurnKeepsMemoryBounded) {
  TypedKeyTable table;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(
          table.FindOrInsert("r" + std::to_string(round) + "-" + std::to_string(i), 1).ok());
    }
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(table.Erase("r" + std::to_string(round) + "-" + std::to_string(i)));
    }
  }
  EXPECT_EQ(table.size(), 0u);
  EXPECT_LT(table.MemoryBytes(), 200u * 1024);
}

TEST(TypedKeyTable, BinaryKeysWithNulBytes) {
  TypedKeyTable table;
  std::string a("\0\0\x01", 3), b("\0\0\x02", 3), long_key(300, '\0');
  ASSERT_TRUE(table.FindOrInsert(a, 1).ok());
  ASSERT_TRUE(table.FindOrInsert(b, 2).ok());
  ASSERT_TRUE(table.FindOrInsert(long_key, 3).ok());
  EXPECT_EQ(*table.Find(a), 1u);
  EXPECT_EQ(*table.Find(b), 2u);
  EXPECT_EQ(*table.Find(long_key), 3u);
  EXPECT_EQ(table.Find(std::string(299, '\0')), nullptr);
}

}  // namespace
}  // namespace liaison::pattern
