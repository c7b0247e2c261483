#include "pattern/ip_address.h"

#include <string>

#include <arpa/inet.h>

namespace liaison::pattern {
namespace {

bool ParseLength(std::string_view s, int max, int* out) {
  if (s.empty() || s.size() > 3) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (s.size() > 1 && s[0] == '0') return false;
  if (v > max) return false;
  *out = v;
  return true;
}

bool ParseV4(std::string_view s, uint8_t* out) {
  int part = 0;
  size_t i = 0;
  while (part < 4) {
    if (i >= s.size()) return false;
    int v = 0;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      ++i;
      if (++digits > 3) return false;
    }
    if (digits == 0 || v > 255) return false;
    out[part++] = static_cast<uint8_t>(v);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

void ClearHostBits(IpPrefix* p) {
  const int total = p->v6 ? 16 : 4;
  for (int byte = 0; byte < total; ++byte) {
    int bits_kept = p->length - byte * 8;
    if (bits_kept >= 8) continue;
    if (bits_kept <= 0) {
      p->bytes[byte] = 0;
    } else {
      p->bytes[byte] &= static_cast<uint8_t>(0xFF << (8 - bits_kept));
    }
  }
}

}  // namespace

std::optional<IpPrefix> ParseIpPrefix(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string_view addr = text;
  std::string_view len;
  bool has_len = false;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    len = text.substr(slash + 1);
    has_len = true;
  }
  IpPrefix p;
  if (addr.find(':') == std::string_view::npos) {
    if (!ParseV4(addr, p.bytes.data())) return std::nullopt;
    p.length = 32;
    if (has_len && !ParseLength(len, 32, &p.length)) return std::nullopt;
  } else {
    std::string copy(addr);  // inet_pton needs a terminated string
    in6_addr a6;
    if (inet_pton(AF_INET6, copy.c_str(), &a6) != 1) return std::nullopt;
    p.v6 = true;
    for (int i = 0; i < 16; ++i) p.bytes[i] = a6.s6_addr[i];
    p.length = 128;
    if (has_len && !ParseLength(len, 128, &p.length)) return std::nullopt;
  }
  ClearHostBits(&p);
  return p;
}

bool IsSubset(const IpPrefix& inner, const IpPrefix& outer) {
  if (inner.v6 != outer.v6 || inner.length < outer.length) return false;
  IpPrefix masked = inner;
  masked.length = outer.length;
  ClearHostBits(&masked);
  return masked.bytes == outer.bytes;
}

}  // namespace liaison::pattern
