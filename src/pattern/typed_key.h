#pragma once

// Typed keys for the pattern index: IP address and CIDR parsing, and an injective byte encoding of
// comparison values so that equality of encodings is exactly equality of the values.
//
// The index hashes one key per observed property value. Strings that have a compact typed form
// (a canonical dotted-quad IPv4 address, a canonical RFC 5952 IPv6 address, a hex digest) are
// encoded in that form: 4, 16 or len/2 bytes instead of the text. The encoding is injective over
// strings (each string has exactly one encoding, and the kind byte tells the forms apart), so two
// strings have equal keys if and only if they are equal byte for byte, which is the STIX
// Patterning rule for `=` on strings (STIX 2.1 Patterning section 9.x: string comparisons are
// case-sensitive and exact).
//
// Thread-safe: all functions are pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace liaison::pattern {

// An IPv6 address (or an IPv4 address in the low 32 bits of `lo` when used as such), big-endian
// halves: hi holds bits 127..64, lo bits 63..0.
struct Ip128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend auto operator<=>(const Ip128&, const Ip128&) = default;
};

// Strict dotted quad "a.b.c.d": four decimal octets 0..255, no leading zeros (except "0"),
// no whitespace. Returns the address in host order.
std::optional<uint32_t> ParseIpv4(std::string_view text);

// RFC 4291 section 2.2 text forms: eight hex groups, "::" compression, and an embedded dotted quad
// in the last 32 bits ("::ffff:1.2.3.4"). No zone ids, no brackets.
std::optional<Ip128> ParseIpv6(std::string_view text);

// RFC 5952 canonical text (lower case, longest run of two or more zero groups compressed as "::",
// the first one on ties, no leading zeros in a group). IPv4-mapped addresses print in the
// "::ffff:a.b.c.d" form.
std::string FormatIpv6(Ip128 addr);
std::string FormatIpv4(uint32_t addr);

struct IpPrefix;  // ip_address.h: the evaluator's parsed address block

// An address block. For IPv4 the address lives in the low 32 bits of addr.lo and length <= 32;
// for IPv6 length <= 128. Bits beyond `length` are zero (ParseCidr clears them).
struct CidrBlock {
  bool v6 = false;
  Ip128 addr;
  uint8_t length = 0;
  friend auto operator<=>(const CidrBlock&, const CidrBlock&) = default;
};

// Parses "a.b.c.d", "a.b.c.d/n" (0..32), an IPv6 address or "v6/n" (0..128). A bare address is a
// full-length prefix. Host bits set beyond the prefix length are cleared ("10.1.2.3/8" is
// 10.0.0.0/8), as STIX 2.1 Patterning section 9.x ISSUBSET treats the constant as a network.
// Errors: kInvalidArgument naming the text.
Result<CidrBlock> ParseCidr(std::string_view text);

// The same block as the evaluator's IpPrefix (ip_address.h). The index parses constants and
// observed values with ParseIpPrefix, the evaluator's own parser, so it accepts exactly the texts
// the evaluator accepts, then converts them for the CidrSet.
CidrBlock ToCidrBlock(const IpPrefix& prefix);

// True when `inner` is contained in (or equal to) `outer`: same family, outer.length <=
// inner.length, and the first outer.length bits agree.
bool PrefixContains(const CidrBlock& outer, const CidrBlock& inner);

// Returns `addr` with every bit after the first `length` cleared (length 0..128; for IPv4 pass the
// address in lo and length 96 + n, or use MaskIpv4).
Ip128 MaskIp128(Ip128 addr, unsigned length);
uint32_t MaskIpv4(uint32_t addr, unsigned length);

// Kind byte of an encoded key.
enum class KeyKind : uint8_t {
  kString = 1,    // UTF-8 bytes as they are
  kIpv4 = 2,      // canonical dotted quad -> 4 bytes big-endian
  kIpv6 = 3,      // RFC 5952 canonical text -> 16 bytes
  kHexLower = 4,  // even-length [0-9a-f]{8,} -> bytes
  kHexUpper = 5,  // even-length [0-9A-F]{8,} containing a letter -> bytes
  kInteger = 6,   // numbers with an integral value that fits int64 -> 8 bytes
  kFloat = 7,     // other finite numbers -> IEEE bits
  kBool = 8,      // 1 byte
  kBinary = 9,    // binary constants (b'..', h'..') -> bytes
};

// Appends the encoding of a string value to `out` (kind byte + payload). Injective over strings.
void AppendStringKey(std::string_view s, std::string* out);
// Numbers: integral values (whether written 5 or 5.0) encode as kInteger, others as kFloat, so the
// key of 5 equals the key of 5.0, matching numeric equality. NaN never equals anything: callers
// must not index NaN (AppendFloatKey returns false for it).
void AppendIntegerKey(int64_t v, std::string* out);
bool AppendFloatKey(double v, std::string* out);
void AppendBoolKey(bool v, std::string* out);
void AppendBinaryKey(std::string_view bytes, std::string* out);

// A 64-bit hash of a byte string (multiply-xorshift over 8-byte words, splitmix64 finaliser).
// Not keyed: the index's keys come from indicators, and probe lengths are bounded by the load
// factor, not by the hash's secrecy.
uint64_t HashBytes(std::string_view bytes);

}  // namespace liaison::pattern
