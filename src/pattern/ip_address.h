#pragma once

// IPv4/IPv6 addresses and CIDR blocks, for ISSUBSET / ISSUPERSET (STIX 2.1 section 9.6) and the
// checker. Pure functions, thread-safe.
//
//   std::optional<IpPrefix> net = ParseIpPrefix("198.51.100.0/24");
//   std::optional<IpPrefix> ip = ParseIpPrefix("198.51.100.7");    // a /32
//   bool in = ip && net && IsSubset(*ip, *net);                      // true

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace liaison::pattern {

struct IpPrefix {
  bool v6 = false;
  // The address in network byte order (IPv4 uses the first 4 bytes), host bits beyond `length`
  // cleared.
  std::array<uint8_t, 16> bytes{};
  int length = 0;  // prefix length: 0..32 (IPv4) or 0..128 (IPv6); a plain address is full length

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// Parses "a.b.c.d", "a.b.c.d/n", an IPv6 address (any RFC 4291 text form, including embedded
// IPv4) or "addr/n". Host bits after the prefix are ignored (cleared). nullopt if malformed.
std::optional<IpPrefix> ParseIpPrefix(std::string_view text);

// True when every address of `inner` lies in `outer` (same family, inner.length >= outer.length,
// equal first outer.length bits).
bool IsSubset(const IpPrefix& inner, const IpPrefix& outer);

}  // namespace liaison::pattern
