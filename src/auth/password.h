#pragma once

// Password hashing for hub users: argon2id (libsodium crypto_pwhash_str) at the "interactive"
// cost (about 70 ms and 64 MiB per hash or verify on this class of machine).
//
//   ASSIGN_OR_RETURN(std::string hash, auth::HashPassword(password));
//   user.password_hash = hash;                       // store the self-describing string
//   bool ok = auth::VerifyPassword(user.password_hash, attempt);
//
// Thread-safe. Both functions block for the duration of the hash (CPU and memory bound).

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace liaison::auth {

// Longest password accepted, in bytes. Bounds the work an attacker can request.
inline constexpr size_t kMaxPasswordBytes = 1024;

// Initialises libsodium once per process (idempotent, thread-safe). kInternal if libsodium cannot
// initialise (no usable randomness source). Every function in auth/ calls it; call it yourself
// only before using libsodium directly.
Status EnsureSodium();

// Returns the argon2id hash string ("$argon2id$v=19$m=...") of `password`, with a fresh random
// salt. kInvalidArgument when the password is empty or longer than kMaxPasswordBytes; kInternal
// when hashing fails (out of memory).
Result<std::string> HashPassword(std::string_view password);

// True if `password` matches `hash` (a string made by HashPassword). False for a wrong password, a
// malformed or empty hash, an empty password or one longer than kMaxPasswordBytes.
bool VerifyPassword(std::string_view hash, std::string_view password);

}  // namespace liaison::auth
