#pragma once

// API keys: bearer tokens for scripts and TAXII clients, of the form
//
//   lsk_<key_id>.<secret>      e.g. lsk_3f9a0c1b2d4e5f60.Zm9v...   (64 characters)
//
// key_id is 16 lowercase hex characters (8 random bytes), public, and the lookup key in the Store;
// secret is 32 random bytes in unpadded base64url (43 characters). Only a keyed BLAKE2b hash of the
// secret is stored (ApiKey::secret_hash, hex), keyed with the hub secret, so a leaked database
// alone does not yield usable keys. API key secrets are high-entropy, so a fast keyed hash is as
// strong as a slow password hash here.
//
//   ASSIGN_OR_RETURN(std::string hub_secret, auth::LoadOrCreateHubSecret(store));
//   ASSIGN_OR_RETURN(auth::NewApiKey key,
//                    auth::GenerateApiKey("alice", "feed sync", hub_secret, clock.NowMicros()));
//   RETURN_IF_ERROR(store.CreateApiKey(key.record));
//   std::cout << key.token << "\n";  // shown once; never stored
//
// Thread-safe (stateless apart from libsodium's one-time initialisation).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/store.h"

namespace liaison::auth {

inline constexpr char kApiKeyPrefix[] = "lsk_";
inline constexpr size_t kApiKeyIdChars = 16;
inline constexpr size_t kApiKeySecretChars = 43;
// The Store setting that holds the hub secret, as 64 lowercase hex characters.
inline constexpr char kHubSecretSetting[] = "auth.hub_secret";

struct NewApiKey {
  std::string token;       // the full bearer token; give it to the user once
  storage::ApiKey record;  // key_id, user, secret_hash, description, created; revoked = false
};

// Makes a new random key for `user`. `hub_secret` is the value LoadOrCreateHubSecret returned.
// `now` is microseconds since the epoch (ApiKey::created). Does not touch the store: the caller
// saves `record` with Store::CreateApiKey. kInvalidArgument for an empty user or hub secret;
// kInternal if libsodium is unusable.
Result<NewApiKey> GenerateApiKey(const std::string& user, const std::string& description,
                                 std::string_view hub_secret, int64_t now);

// The stored form of a key secret: keyed BLAKE2b-256 of `secret` under `hub_secret`, 64 lowercase
// hex characters. Deterministic.
std::string HashApiKeySecret(std::string_view secret, std::string_view hub_secret);

struct ParsedApiKey {
  std::string key_id;
  std::string secret;
};

// Splits a token into key_id and secret, checking the prefix, lengths and alphabets.
// kInvalidArgument (without echoing the token) when it is not a well-formed Liaison API key.
Result<ParsedApiKey> ParseApiKey(std::string_view token);

// Returns the hub secret (32 raw bytes) kept in the store setting kHubSecretSetting, creating and
// saving a random one first if there is none. kDataLoss when the stored value is not 64 hex
// characters; store errors are passed through.
Result<std::string> LoadOrCreateHubSecret(storage::Store& store);

}  // namespace liaison::auth
