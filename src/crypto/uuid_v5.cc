#include "crypto/uuid_v5.h"

#include <array>
#include <cstdint>
#include <string>

#include <openssl/evp.h>

#include "common/status.h"

namespace liaison::crypto {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into 16 bytes; false when malformed.
bool ParseUuid(std::string_view text, std::array<uint8_t, 16>* out) {
  if (text.size() != 36) return false;
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      ++i;
      continue;
    }
    const int hi = HexValue(text[i]);
    const int lo = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
    if (hi < 0 || lo < 0) return false;
    (*out)[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return byte == 16;
}

}  // namespace

std::string UuidV5(std::string_view namespace_uuid, std::string_view name) {
  std::array<uint8_t, 16> ns{};
  // The namespace is one of our constants (kLiaisonUuidNamespace), never input.
  LIAISON_CHECK(ParseUuid(namespace_uuid, &ns));

  // RFC 4122 section 4.3: SHA-1 over the namespace bytes (network order) then the name.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  // Allocation and SHA-1 with the default provider cannot fail short of memory exhaustion.
  LIAISON_CHECK(ctx != nullptr);
  const bool ok = EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, ns.data(), ns.size()) == 1 &&
                  EVP_DigestUpdate(ctx, name.data(), name.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1;
  EVP_MD_CTX_free(ctx);
  LIAISON_CHECK(ok && digest_len >= 16);

  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

}  // namespace liaison::crypto
