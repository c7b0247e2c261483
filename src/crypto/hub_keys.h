#pragma once

// HubKeys: a hub's long-term key pairs, created by `liaison init`, kept in a key file outside the
// database (DATA_DIR/hub.key, mode 0600), so that a database dump reveals neither the signing key
// nor what was sealed to this hub.
//   - Ed25519 (crypto_sign): signs every object this hub originates (crypto/signature.h).
//   - X25519 (crypto_box): opens TLP:RED objects sealed to this hub (crypto/signature.h,
//     SealObject/OpenSealedObject), and derives the key that seals secrets at rest (partner
//     tokens).
//
//   ASSIGN_OR_RETURN(crypto::HubKeys keys, crypto::HubKeys::Generate());
//   RETURN_IF_ERROR(keys.Save(dir + "/hub.key"));       // fails if the file exists
//   ASSIGN_OR_RETURN(crypto::HubKeys loaded, crypto::HubKeys::Load(dir + "/hub.key"));
//
// The key file (version 1) is a small JSON document, all values standard padded base64:
//   {"liaison_hub_key":1,"sign_public":"<32 bytes>","sign_secret":"<64 bytes>",
//    "box_public":"<32 bytes>","box_secret":"<32 bytes>"}
// Load checks that each public key is the one its secret key derives.
//
// Thread-safe once constructed (const methods only). Secret key bytes are wiped when a HubKeys is
// destroyed.

#include <string>
#include <string_view>

#include "common/status.h"

namespace liaison::crypto {

inline constexpr char kHubKeyFile[] = "hub.key";

class HubKeys {
 public:
  // Fresh random key pairs. Fails (kInternal) only if libsodium cannot initialise.
  static Result<HubKeys> Generate();
  // Deterministic key pairs from a 32-byte seed (each pair's seed is BLAKE2b keyed with `seed`
  // over a distinct label). For tests, fuzz targets and benchmarks; a hub uses Generate().
  // kInvalidArgument when the seed is not 32 bytes.
  static Result<HubKeys> FromSeed(std::string_view seed);
  // kNotFound when missing, kPermissionDenied when readable or writable by group/others (mode must
  // be 0600 or stricter) or not readable by us, kDataLoss when malformed (not the JSON above, keys
  // of the wrong size, a public key that does not match its secret key), kFailedPrecondition when
  // the path is not a regular file. The file is a small JSON document (versioned).
  static Result<HubKeys> Load(const std::string& path);
  // Writes atomically with mode 0600 (a temporary file in the same directory, fsync, then a rename
  // that never replaces an existing file, then fsync of the directory); kAlreadyExists when the
  // file exists, kNotFound when the directory does not, kPermissionDenied when we may not write
  // there, kInternal for other I/O failures. Never leaves a partial key file behind.
  Status Save(const std::string& path) const;

  // An empty HubKeys (no keys): only a placeholder to assign to (e.g. a default-constructed
  // federation::HubIdentity). Sign, OpenSealed, SealSecret and UnsealSecret require keys
  // (LIAISON_CHECK: using empty keys is a programming error, never caused by input).
  HubKeys() = default;
  bool empty() const { return sign_sk_.empty(); }

  HubKeys(const HubKeys&) = default;
  HubKeys& operator=(const HubKeys&) = default;
  HubKeys(HubKeys&&) = default;
  HubKeys& operator=(HubKeys&&) = default;
  ~HubKeys();

  // Public keys, base64 (standard alphabet, padded): what `identity export` publishes.
  std::string sign_public_b64() const;
  std::string box_public_b64() const;
  // KeyFingerprint(sign_public(), box_public()): what operators compare out of band.
  std::string fingerprint() const;

  // Detached Ed25519 signature of `message`, base64.
  std::string Sign(std::string_view message) const;
  // Opens a sealed box addressed to this hub. kPermissionDenied when it was not sealed to us or
  // was altered; kInvalidArgument when not base64 / too short.
  Result<std::string> OpenSealed(std::string_view sealed_b64) const;
  // Secrets at rest (partner tokens): XChaCha20-Poly1305 (IETF AEAD, random 192-bit nonce) with a
  // key derived from the box secret key by crypto_kdf (BLAKE2b, context "lsecret1", subkey 1).
  // The output is "v1:" + base64(nonce || ciphertext || tag). Unseal: kDataLoss when altered,
  // malformed or not ours.
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
// Seals `plaintext` to a recipient's X25519 public key (base64): base64 of the sealed box
// (crypto_box_seal: anonymous sender, so authenticity must come from a signature inside).
// kInvalidArgument for a malformed key.
Result<std::string> Seal(std::string_view box_public_key_b64, std::string_view plaintext);

// Standard base64 with padding. Decode is strict (kInvalidArgument): no whitespace, padding
// required, unused trailing bits must be zero, so every byte string has exactly one encoding.
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);
// Lowercase hex of BLAKE2b-256 of `bytes` (fingerprints of keys, for display and audit).
std::string Fingerprint(std::string_view bytes);
// The fingerprint of a hub's public keys: Fingerprint(sign_public || box_public) (raw bytes), so
// that confirming it out of band authenticates both keys of an identity file.
std::string KeyFingerprint(std::string_view sign_public, std::string_view box_public);

}  // namespace liaison::crypto
