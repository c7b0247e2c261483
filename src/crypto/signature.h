#pragma once

// Provenance: every object a hub sends carries its originating hub's signature over the object's
// canonical form (RFC 8785, stix/canonical.h), in the custom property
//
//   "x_liaison_signature": {"hub": "identity--<origin>", "key": "<Ed25519 public key, base64>",
//                           "alg": "ed25519", "sig": "<base64 signature>"}
//
// The signed message is the canonical form of the object WITHOUT its x_liaison_signature
// property. Any hub can verify it again; the receiving hub also checks that `key` is the key it
// trusts for `hub` when it knows that hub (partners), and rejects the object otherwise.
//
// Sealed (TLP:RED) objects travel as a wrapper object instead of their plaintext:
//
//   {"type": "x-liaison-sealed", "spec_version": "2.1", "id": "x-liaison-sealed--<uuid v5 of
//    sealed_ref + sealed_version>", "created": <sealed object's version>, "modified": <same>,
//    "sealed_ref": "<object id>", "sealed_type": "<object type>",
//    "object_marking_refs": [<the object's markings>], "x_liaison_recipients": [...],
//    "sealed": {"identity--<recipient>": "<base64 sealed box of the signed plaintext>", ...}}
//
// where the signed plaintext is the object WITH its x_liaison_signature. Every hub stores the
// wrapper (the row keeps the object's id, type and version), so the database holds no plaintext.
//
// Thread-safe: pure functions.

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "crypto/hub_keys.h"

namespace liaison::crypto {

inline constexpr char kSignatureProperty[] = "x_liaison_signature";
inline constexpr char kSealedType[] = "x-liaison-sealed";

struct SignatureBlock {
  std::string hub;  // identity id of the signer (the origin)
  std::string key;  // base64 Ed25519 public key
  std::string sig;  // base64
};

// `json` is a minified STIX object without x_liaison_signature (as stored). Returns the object
// with the signature block appended as its last property (the rest byte for byte).
// kInvalidArgument when json is not an object or already carries a signature.
Result<std::string> SignObject(std::string_view json, std::string_view hub_identity_id,
                               const HubKeys& keys);
// The block as JSON text (what storage::ObjectLabel::signature keeps) and back.
std::string SignatureBlockJson(const SignatureBlock& block);
Result<SignatureBlock> ParseSignatureBlock(std::string_view json);
// Computes the block for `json` (without signature) without attaching it.
Result<SignatureBlock> ComputeSignature(std::string_view json, std::string_view hub_identity_id,
                                        const HubKeys& keys);
// Attaches a block (as SignatureBlockJson) as the last property of a minified object.
Result<std::string> AttachSignature(std::string_view json, std::string_view block_json);

struct VerifiedObject {
  SignatureBlock signature;
  std::string json;  // the object without x_liaison_signature, minified (what the hub stores)
};
// Splits off and checks the signature of a received object (kPermissionDenied: missing,
// malformed, or not matching the canonical form; kInvalidArgument: not a JSON object).
Result<VerifiedObject> VerifyObject(std::string_view json);

// Builds the wrapper above: `signed_json` is the object with its signature; `object_id`,
// `object_type`, `version_text` and `marking_refs` come from the object; one sealed box per
// recipient public key (identity id -> box key base64).
Result<std::string> SealObject(std::string_view signed_json, std::string_view object_id,
                               std::string_view object_type, std::string_view version_text,
                               const std::vector<std::string>& marking_refs,
                               const std::vector<std::string>& recipients,
                               const std::map<std::string, std::string>& box_keys);
// Opens this hub's box of a wrapper: the signed plaintext. kPermissionDenied when the wrapper has
// no box for `self` or it does not open; kInvalidArgument when not a wrapper.
Result<std::string> OpenSealedObject(std::string_view wrapper_json, std::string_view self,
                                     const HubKeys& keys);

}  // namespace liaison::crypto
