#include "taxii/cursor.h"

#include <array>

namespace liaison::taxii {
namespace {

constexpr uint8_t kCursorFormat = 1;
constexpr size_t kRawBytes = 17;      // format, date_added (8), fingerprint (8)
constexpr size_t kEncodedChars = 23;  // ceil(17 * 4 / 3), unpadded

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// RFC 4648 section 5, without padding.
std::string Base64UrlEncode(const uint8_t* data, size_t size) {
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size - i == 1) {
    uint32_t v = uint32_t{data[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (size - i == 2) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

// Decodes exactly kEncodedChars characters into kRawBytes bytes; false on any other input,
// including non-canonical trailing bits.
bool DecodeRaw(std::string_view text, std::array<uint8_t, kRawBytes>& out) {
  if (text.size() != kEncodedChars) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    int v = DecodeChar(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == kRawBytes) return false;
      out[n++] = static_cast<uint8_t>((acc >> bits) & 0xff);
    }
  }
  // 23 chars = 138 bits = 17 bytes + 2 leftover bits, which must be zero.
  return n == kRawBytes && (acc & ((1u << bits) - 1)) == 0;
}

Status BadCursor() {
  return InvalidArgumentError(
      "next is not a paging cursor for this query; repeat the query's filters unchanged with the "
      "next value of the previous response, or start again without next");
}

}  // namespace

uint64_t Fingerprint(std::string_view scope) {
  uint64_t h = 14695981039346656037ull;
  for (char c : scope) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string EncodeCursor(int64_t last_date_added, std::string_view scope) {
  std::array<uint8_t, kRawBytes> raw{};
  raw[0] = kCursorFormat;
  uint64_t date = static_cast<uint64_t>(last_date_added);
  uint64_t fp = Fingerprint(scope);
  for (int i = 0; i < 8; ++i) {
    raw[1 + i] = static_cast<uint8_t>(date >> (56 - 8 * i));
    raw[9 + i] = static_cast<uint8_t>(fp >> (56 - 8 * i));
  }
  return Base64UrlEncode(raw.data(), raw.size());
}

Result<int64_t> DecodeCursor(std::string_view next, std::string_view scope) {
  std::array<uint8_t, kRawBytes> raw{};
  if (!DecodeRaw(next, raw) || raw[0] != kCursorFormat) return BadCursor();
  uint64_t date = 0;
  uint64_t fp = 0;
  for (int i = 0; i < 8; ++i) {
    date = (date << 8) | raw[1 + i];
    fp = (fp << 8) | raw[9 + i];
  }
  if (fp != Fingerprint(scope)) return BadCursor();
  int64_t date_added = static_cast<int64_t>(date);
  if (date_added < 0) return BadCursor();
  return date_added;
}

}  // namespace liaison::taxii
