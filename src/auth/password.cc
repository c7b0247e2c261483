#include "auth/password.h"

#include <sodium.h>

#include <mutex>

namespace liaison::auth {

Status EnsureSodium() {
  // sodium_init is itself thread-safe and idempotent, but call_once makes the failure sticky and
  // keeps the hot path to one atomic load.
  static std::once_flag once;
  static int rc = -1;
  std::call_once(once, [] { rc = sodium_init(); });
  if (rc < 0) return InternalError("libsodium could not be initialised");
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  if (password.empty()) return InvalidArgumentError("the password is empty");
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgumentError("the password is longer than " + std::to_string(kMaxPasswordBytes) +
                                " bytes");
  }
  RETURN_IF_ERROR(EnsureSodium());
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return InternalError("password hashing failed (out of memory)");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (password.empty() || password.size() > kMaxPasswordBytes) return false;
  if (!EnsureSodium().ok()) return false;
  // crypto_pwhash_str_verify needs a NUL-terminated string.
  char stored[crypto_pwhash_STRBYTES] = {};
  hash.copy(stored, hash.size());
  return crypto_pwhash_str_verify(stored, password.data(), password.size()) == 0;
}

}  // namespace liaison::auth
