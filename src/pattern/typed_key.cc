#include "pattern/typed_key.h"

#include <array>
#include <cmath>
#include <cstring>

#include "pattern/ip_address.h"

namespace liaison::pattern {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendU64(uint64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::optional<uint32_t> ParseIpv4(std::string_view text) {
  uint32_t addr = 0;
  size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
    size_t start = i;
    unsigned value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    size_t digits = i - start;
    if (digits == 0 || value > 255) return std::nullopt;
    if (digits > 1 && text[start] == '0') return std::nullopt;  // no leading zeros (octal-looking)
    addr = (addr << 8) | value;
  }
  if (i != text.size()) return std::nullopt;
  return addr;
}

std::optional<Ip128> ParseIpv6(std::string_view text) {
  if (text.size() < 2 || text.size() > 45) return std::nullopt;
  std::array<uint16_t, 8> groups{};
  int count = 0;         // groups written so far
  int compress_at = -1;  // index in groups where "::" was
  size_t i = 0;
  if (text.substr(0, 2) == "::") {
    compress_at = 0;
    i = 2;
    if (i == text.size()) return Ip128{};
  } else if (text[0] == ':') {
    return std::nullopt;
  }
  while (i < text.size()) {
    // An embedded IPv4 in the last 32 bits.
    size_t end = text.find(':', i);
    std::string_view token =
        text.substr(i, end == std::string_view::npos ? text.size() - i : end - i);
    if (end == std::string_view::npos && token.find('.') != std::string_view::npos) {
      std::optional<uint32_t> v4 = ParseIpv4(token);
      if (!v4 || count > 6) return std::nullopt;
      groups[count++] = static_cast<uint16_t>(*v4 >> 16);
      groups[count++] = static_cast<uint16_t>(*v4 & 0xffff);
      i = text.size();
      break;
    }
    if (token.empty() || token.size() > 4 || count >= 8) return std::nullopt;
    unsigned value = 0;
    for (char c : token) {
      int d = HexDigit(c);
      if (d < 0) return std::nullopt;
      value = value * 16 + static_cast<unsigned>(d);
    }
    groups[count++] = static_cast<uint16_t>(value);
    if (end == std::string_view::npos) {
      i = text.size();
      break;
    }
    i = end + 1;
    if (i < text.size() && text[i] == ':') {
      if (compress_at >= 0) return std::nullopt;  // a second "::"
      compress_at = count;
      ++i;
      if (i == text.size()) break;
    } else if (i == text.size()) {
      return std::nullopt;  // trailing single ':'
    }
  }
  std::array<uint16_t, 8> full{};
  if (compress_at >= 0) {
    if (count > 7) return std::nullopt;  // "::" must stand for at least one group
    int tail = count - compress_at;
    for (int k = 0; k < compress_at; ++k) full[k] = groups[k];
    for (int k = 0; k < tail; ++k) full[8 - tail + k] = groups[compress_at + k];
  } else {
    if (count != 8) return std::nullopt;
    full = groups;
  }
  Ip128 out;
  for (int k = 0; k < 4; ++k) out.hi = (out.hi << 16) | full[k];
  for (int k = 4; k < 8; ++k) out.lo = (out.lo << 16) | full[k];
  return out;
}

std::string FormatIpv4(uint32_t addr) {
  return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 0xff) + "." +
         std::to_string((addr >> 8) & 0xff) + "." + std::to_string(addr & 0xff);
}

namespace {

// Writes the RFC 5952 text of `addr` into `buf` (at least 46 bytes); returns its length.
size_t FormatIpv6To(Ip128 addr, char* buf) {
  std::array<uint16_t, 8> g{};
  for (int k = 0; k < 4; ++k) g[k] = static_cast<uint16_t>(addr.hi >> (48 - 16 * k));
  for (int k = 0; k < 4; ++k) g[4 + k] = static_cast<uint16_t>(addr.lo >> (48 - 16 * k));
  size_t n = 0;
  // RFC 5952 section 5: IPv4-mapped addresses are written with the dotted quad.
  if (addr.hi == 0 && (addr.lo >> 32) == 0xffff) {
    std::memcpy(buf, "::ffff:", 7);
    n = 7;
    uint32_t v4 = static_cast<uint32_t>(addr.lo);
    for (int shift = 24; shift >= 0; shift -= 8) {
      unsigned octet = (v4 >> shift) & 0xff;
      if (octet >= 100) buf[n++] = static_cast<char>('0' + octet / 100);
      if (octet >= 10) buf[n++] = static_cast<char>('0' + octet / 10 % 10);
      buf[n++] = static_cast<char>('0' + octet % 10);
      if (shift > 0) buf[n++] = '.';
    }
    return n;
  }
  // RFC 5952 section 4.2: compress the longest run (>= 2) of zero groups, the first on ties.
  int best_start = -1, best_len = 0;
  for (int k = 0; k < 8;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    int start = k;
    while (k < 8 && g[k] == 0) ++k;
    if (k - start > best_len) {
      best_len = k - start;
      best_start = start;
    }
  }
  if (best_len < 2) best_start = -1;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int k = 0; k < 8; ++k) {
    if (k == best_start) {
      buf[n++] = ':';
      buf[n++] = ':';
      k += best_len - 1;
      continue;
    }
    if (n > 0 && buf[n - 1] != ':') buf[n++] = ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int d = (g[k] >> shift) & 0xf;
      if (d != 0 || started || shift == 0) {
        buf[n++] = kHex[d];
        started = true;
      }
    }
  }
  return n;
}

}  // namespace

std::string FormatIpv6(Ip128 addr) {
  char buf[64];
  return std::string(buf, FormatIpv6To(addr, buf));
}

Ip128 MaskIp128(Ip128 addr, unsigned length) {
  if (length >= 128) return addr;
  if (length == 0) return Ip128{};
  if (length <= 64) {
    uint64_t mask = length == 64 ? ~0ULL : ~0ULL << (64 - length);
    return Ip128{addr.hi & mask, 0};
  }
  uint64_t mask = ~0ULL << (128 - length);
  return Ip128{addr.hi, addr.lo & mask};
}

uint32_t MaskIpv4(uint32_t addr, unsigned length) {
  if (length >= 32) return addr;
  if (length == 0) return 0;
  return addr & (~0U << (32 - length));
}

Result<CidrBlock> ParseCidr(std::string_view text) {
  std::string_view addr_text = text;
  std::optional<unsigned> length;
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    addr_text = text.substr(0, slash);
    std::string_view len_text = text.substr(slash + 1);
    if (len_text.empty() || len_text.size() > 3) {
      return InvalidArgumentError("'" + std::string(text) +
                                  "' is not a CIDR block: bad prefix length");
    }
    unsigned v = 0;
    for (char c : len_text) {
      if (c < '0' || c > '9') {
        return InvalidArgumentError("'" + std::string(text) +
                                    "' is not a CIDR block: bad prefix length");
      }
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    length = v;
  }
  CidrBlock p;
  if (std::optional<uint32_t> v4 = ParseIpv4(addr_text)) {
    unsigned len = length.value_or(32);
    if (len > 32) {
      return InvalidArgumentError("'" + std::string(text) +
                                  "' is not a CIDR block: IPv4 prefix length above 32");
    }
    p.v6 = false;
    p.length = static_cast<uint8_t>(len);
    p.addr.lo = MaskIpv4(*v4, len);
    return p;
  }
  if (std::optional<Ip128> v6 = ParseIpv6(addr_text)) {
    unsigned len = length.value_or(128);
    if (len > 128) {
      return InvalidArgumentError("'" + std::string(text) +
                                  "' is not a CIDR block: IPv6 prefix length above 128");
    }
    p.v6 = true;
    p.length = static_cast<uint8_t>(len);
    p.addr = MaskIp128(*v6, len);
    return p;
  }
  return InvalidArgumentError("'" + std::string(text) + "' is not an IP address or CIDR block");
}

CidrBlock ToCidrBlock(const IpPrefix& prefix) {
  CidrBlock b;
  b.v6 = prefix.v6;
  b.length = static_cast<uint8_t>(prefix.length);
  if (!prefix.v6) {
    b.addr.lo = (uint32_t{prefix.bytes[0]} << 24) | (uint32_t{prefix.bytes[1]} << 16) |
                (uint32_t{prefix.bytes[2]} << 8) | uint32_t{prefix.bytes[3]};
    b.addr.lo = MaskIpv4(static_cast<uint32_t>(b.addr.lo), b.length);
    return b;
  }
  for (int k = 0; k < 8; ++k) b.addr.hi = (b.addr.hi << 8) | prefix.bytes[k];
  for (int k = 8; k < 16; ++k) b.addr.lo = (b.addr.lo << 8) | prefix.bytes[k];
  b.addr = MaskIp128(b.addr, b.length);
  return b;
}

bool PrefixContains(const CidrBlock& outer, const CidrBlock& inner) {
  if (outer.v6 != inner.v6 || outer.length > inner.length) return false;
  if (!outer.v6) {
    return MaskIpv4(static_cast<uint32_t>(inner.addr.lo), outer.length) ==
           static_cast<uint32_t>(outer.addr.lo);
  }
  return MaskIp128(inner.addr, outer.length) == outer.addr;
}

void AppendStringKey(std::string_view s, std::string* out) {
  // Typed forms first; each is tried only when the text is the canonical form of its value, so that
  // the encoding stays injective (two texts of one address, e.g. "::1" and "0::1", stay distinct).
  if (s.size() >= 7 && s.size() <= 15) {
    std::optional<uint32_t> v4 =
        s[0] >= '0' && s[0] <= '9' ? ParseIpv4(s) : std::optional<uint32_t>();
    if (v4) {
      out->push_back(static_cast<char>(KeyKind::kIpv4));
      for (int shift = 24; shift >= 0; shift -= 8) {
        out->push_back(static_cast<char>((*v4 >> shift) & 0xff));
      }
      return;
    }
  }
  // RFC 5952 text starts with a hex digit or ':' (checked first: it spares URLs, domains and
  // names the search for a colon).
  if (s.size() >= 2 && s.size() <= 45 &&
      ((s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'f') || s[0] == ':') &&
      s.find(':') != std::string_view::npos) {
    char buf[64];
    std::optional<Ip128> v6 = ParseIpv6(s);
    if (v6 && std::string_view(buf, FormatIpv6To(*v6, buf)) == s) {
      out->push_back(static_cast<char>(KeyKind::kIpv6));
      AppendU64(v6->hi, out);
      AppendU64(v6->lo, out);
      return;
    }
  }
  if (s.size() >= 8 && s.size() % 2 == 0) {
    // kHexClass bits: 1 = [0-9a-f], 2 = [0-9A-F], 4 = a letter.
    static constexpr auto kHexClass = [] {
      std::array<uint8_t, 256> t{};
      for (int c = '0'; c <= '9'; ++c) t[c] = 3;
      for (int c = 'a'; c <= 'f'; ++c) t[c] = 1 | 4;
      for (int c = 'A'; c <= 'F'; ++c) t[c] = 2 | 4;
      return t;
    }();
    unsigned all = 3, letters = 0;
    for (char ch : s) {
      uint8_t cls = kHexClass[static_cast<unsigned char>(ch)];
      all &= cls;
      letters |= cls;
      if ((all & 3) == 0) break;
    }
    bool lower = (all & 1) != 0;
    bool upper = (all & 2) != 0 && (letters & 4) != 0;
    // All-digit strings are "lower"; an upper form needs a letter so the two never overlap.
    if (lower || upper) {
      size_t pos = out->size();
      out->resize(pos + 1 + s.size() / 2);
      char* d = out->data() + pos;
      *d++ = static_cast<char>(lower ? KeyKind::kHexLower : KeyKind::kHexUpper);
      for (size_t k = 0; k < s.size(); k += 2) {
        *d++ = static_cast<char>(HexDigit(s[k]) * 16 + HexDigit(s[k + 1]));
      }
      return;
    }
  }
  out->push_back(static_cast<char>(KeyKind::kString));
  out->append(s);
}

void AppendIntegerKey(int64_t v, std::string* out) {
  out->push_back(static_cast<char>(KeyKind::kInteger));
  AppendU64(static_cast<uint64_t>(v), out);
}

bool AppendFloatKey(double v, std::string* out) {
  if (std::isnan(v)) return false;
  // Integral values in int64 range share the integer key so that 5 = 5.0.
  if (std::isfinite(v) && v == std::trunc(v) && v >= -9223372036854775808.0 &&
      v < 9223372036854775808.0) {
    AppendIntegerKey(static_cast<int64_t>(v), out);
    return true;
  }
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  out->push_back(static_cast<char>(KeyKind::kFloat));
  AppendU64(bits, out);
  return true;
}

void AppendBoolKey(bool v, std::string* out) {
  out->push_back(static_cast<char>(KeyKind::kBool));
  out->push_back(v ? 1 : 0);
}

void AppendBinaryKey(std::string_view bytes, std::string* out) {
  out->push_back(static_cast<char>(KeyKind::kBinary));
  out->append(bytes);
}

uint64_t HashBytes(std::string_view bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
  while (n >= 8) {
    h = (h ^ Load64(p)) * 0xc2b2ae3d27d4eb4fULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = (h ^ tail) * 0x165667b19e3779f9ULL;
    h ^= h >> 32;
  }
  return Mix(h);
}

}  // namespace liaison::pattern
