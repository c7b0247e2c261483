#pragma once

// HubKeys: a hub's long-term key pairs, created by `liaison init`, kept in a key file outside the
// database (DATA_DIR/hub.key, mode 0600), so that a database dump reveals neither the signing key
// nor what was sealed to this hub.
//   - Ed25519 (crypto_sign): signs every object this hub originates (crypto/signature.h).
//   - X25519 (crypto_box): opens TLP:RED objects sealed to this hub (crypto/sealed.h), and
//     derives the key that seals secrets at rest (partner tokens).
//
//   ASSIGN_OR_RETURN(crypto::HubKeys keys, crypto::HubKeys::Generate());
//   RETURN_IF_ERROR(keys.Save(dir + "/hub.key"));       // fails if the file exists
//   ASSIGN_OR_RETURN(crypto::HubKeys loaded, crypto::HubKeys::Load(dir + "/hub.key"));
//
// Thread-safe once constructed (const methods only).

#include <string>
#include <string_view>

#include "common/status.h"

namespace liaison::crypto {

inline constexpr char kHubKeyFile[] = "hub.key";

class HubKeys {
 public:
  static Result<HubKeys> Generate();
  // kNotFound when missing, kPermissionDenied when readable by group/others (mode must be 0600 or
  // stricter), kDataLoss when malformed. The file is a small JSON document (versioned).
  static Result<HubKeys> Load(const std::string& path);
  // Writes atomically with mode 0600; kAlreadyExists when the file exists.
  Status Save(const std::string& path) const;

  // Public keys, base64 (standard alphabet, padded): what `identity export` publishes.
  std::string sign_public_b64() const;
  std::string box_public_b64() const;

  // Detached Ed25519 signature of `message`, base64.
  std::string Sign(std::string_view message) const;
  // Opens a sealed box addressed to this hub. kPermissionDenied when it was not sealed to us or
  // was altered; kInvalidArgument when not base64 / too short.
  Result<std::string> OpenSealed(std::string_view sealed_b64) const;
  // Secrets at rest (partner tokens): XChaCha20-Poly1305 with a key derived from the box secret
  // key. The output is "v1:" + base64. Unseal: kDataLoss when altered or not ours.
  std::string SealSecret(std::string_view plaintext) const;
  Result<std::string> UnsealSecret(std::string_view sealed) const;

  // Raw key bytes (sizes crypto_sign_PUBLICKEYBYTES etc.).
  const std::string& sign_public() const { return sign_pk_; }
  const std::string& box_public() const { return box_pk_; }

 private:
  std::string sign_pk_, sign_sk_, box_pk_, box_sk_;
};

// Verifies a detached Ed25519 signature (both base64). False on any malformed input.
bool VerifySignature(std::string_view public_key_b64, std::string_view message,
                     std::string_view signature_b64);
// Seals `plaintext` to a recipient's X25519 public key (base64): base64 of the sealed box.
// kInvalidArgument for a malformed key.
Result<std::string> Seal(std::string_view box_public_key_b64, std::string_view plaintext);

// Standard base64 with padding. Decode: kInvalidArgument for malformed input.
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);
// Lowercase hex of BLAKE2b-256 of `bytes` (fingerprints of keys, for display and audit).
std::string Fingerprint(std::string_view bytes);

}  // namespace liaison::crypto
