#include "auth/api_key.h"

#include <sodium.h>

#include <array>

#include "auth/password.h"

namespace liaison::auth {
namespace {

constexpr size_t kHubSecretBytes = 32;
constexpr size_t kSecretBytes = 32;
constexpr size_t kKeyIdBytes = kApiKeyIdChars / 2;

std::string ToHex(const unsigned char* data, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.pop_back();
  return hex;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsBase64Url(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string HashApiKeySecret(std::string_view secret, std::string_view hub_secret) {
  // Whatever the caller passes, key BLAKE2b with a key of a length it accepts: a 32-byte hub
  // secret is used as is; anything else is first condensed to 32 bytes.
  std::array<unsigned char, 32> key{};
  std::string_view k = hub_secret;
  if (k.size() < crypto_generichash_KEYBYTES_MIN || k.size() > crypto_generichash_KEYBYTES_MAX) {
    crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(k.data()),
                       k.size(), nullptr, 0);
    k = std::string_view(reinterpret_cast<const char*>(key.data()), key.size());
  }
  std::array<unsigned char, 32> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                     reinterpret_cast<const unsigned char*>(k.data()), k.size());
  sodium_memzero(key.data(), key.size());
  return ToHex(digest.data(), digest.size());
}

Result<NewApiKey> GenerateApiKey(const std::string& user, const std::string& description,
                                 std::string_view hub_secret, int64_t now) {
  if (user.empty()) return InvalidArgumentError("an API key needs a user");
  if (hub_secret.empty()) return InvalidArgumentError("the hub secret is empty");
  RETURN_IF_ERROR(EnsureSodium());
  std::array<unsigned char, kKeyIdBytes> id_bytes{};
  std::array<unsigned char, kSecretBytes> secret_bytes{};
  randombytes_buf(id_bytes.data(), id_bytes.size());
  randombytes_buf(secret_bytes.data(), secret_bytes.size());

  std::string secret(
      sodium_base64_ENCODED_LEN(kSecretBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(secret.data(), secret.size(), secret_bytes.data(), secret_bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  secret.resize(kApiKeySecretChars);  // drop the terminating NUL
  sodium_memzero(secret_bytes.data(), secret_bytes.size());

  NewApiKey key;
  key.record.key_id = ToHex(id_bytes.data(), id_bytes.size());
  key.record.user = user;
  key.record.secret_hash = HashApiKeySecret(secret, hub_secret);
  key.record.description = description;
  key.record.created = now;
  key.record.revoked = false;
  key.token = std::string(kApiKeyPrefix) + key.record.key_id + "." + secret;
  sodium_memzero(secret.data(), secret.size());
  return key;
}

Result<ParsedApiKey> ParseApiKey(std::string_view token) {
  constexpr std::string_view kPrefix = kApiKeyPrefix;
  constexpr size_t kLength = kPrefix.size() + kApiKeyIdChars + 1 + kApiKeySecretChars;
  if (token.size() != kLength || token.substr(0, kPrefix.size()) != kPrefix ||
      token[kPrefix.size() + kApiKeyIdChars] != '.') {
    return InvalidArgumentError("not a Liaison API key");
  }
  std::string_view id = token.substr(kPrefix.size(), kApiKeyIdChars);
  std::string_view secret = token.substr(kPrefix.size() + kApiKeyIdChars + 1);
  if (!IsLowerHex(id) || !IsBase64Url(secret)) return InvalidArgumentError("not a Liaison API key");
  return ParsedApiKey{std::string(id), std::string(secret)};
}

Result<std::string> LoadOrCreateHubSecret(storage::Store& store) {
  RETURN_IF_ERROR(EnsureSodium());
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store.GetSetting(kHubSecretSetting));
  if (!stored) {
    std::array<unsigned char, kHubSecretBytes> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    RETURN_IF_ERROR(store.PutSetting(kHubSecretSetting, ToHex(bytes.data(), bytes.size())));
    sodium_memzero(bytes.data(), bytes.size());
    // Read back: if two processes raced to create it, both end up with the stored one.
    ASSIGN_OR_RETURN(stored, store.GetSetting(kHubSecretSetting));
    if (!stored) return InternalError("the hub secret was saved but cannot be read back");
  }
  if (stored->size() != kHubSecretBytes * 2 || !IsLowerHex(*stored)) {
    return DataLossError(std::string("the store setting ") + kHubSecretSetting +
                         " is corrupt (expected 64 hex characters)");
  }
  std::string secret(kHubSecretBytes, '\0');
  size_t len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(secret.data()), secret.size(), stored->data(),
                     stored->size(), nullptr, &len, nullptr) != 0 ||
      len != kHubSecretBytes) {
    return DataLossError(std::string("the store setting ") + kHubSecretSetting + " is corrupt");
  }
  return secret;
}

}  // namespace liaison::auth
