#pragma once

// Provenance: every object a hub sends carries its originating hub's signature over the object's
// canonical form (RFC 8785, stix/canonical.h), in the custom property
//
//   "x_liaison_signature": {"hub": "identity--<origin>", "key": "<Ed25519 public key, base64>",
//                           "alg": "ed25519", "sig": "<base64 signature>"}
//
// The signed message is the RFC 8785 canonical form of the object whose x_liaison_signature
// holds the block WITHOUT its "sig" member ({"alg":"ed25519","hub":...,"key":...}): the rest of
// the object, the signer's identity and its key are all covered, so neither can be swapped
// without breaking the signature. Any hub can verify it again; the receiving hub also checks that
// `key` is the key it trusts for `hub` when it knows that hub (partners: compare
// SignatureBlock::key with storage::Partner::sign_key; base64 here is canonical, so string
// equality is key equality), and rejects the object otherwise.
//
// Removing and appending the property never re-serialises the object: the object is parsed with
// stix::ParseJson (simdjson, the stix module's JSON door) to find the member, and the member's
// byte range is located in the minified text with stix::RawChildren; everything else is kept byte
// for byte.
//
// Sealed (TLP:RED) objects travel as a wrapper object instead of their plaintext:
//
//   {"type": "x-liaison-sealed", "spec_version": "2.1", "id": "x-liaison-sealed--<uuid v5, see
//    SealedWrapperId>", "created": <sealed object's version>, "modified": <same>,
//    "sealed_ref": "<object id>", "sealed_type": "<object type>",
//    "object_marking_refs": [<the object's markings>], "x_liaison_recipients": [...],
//    "sealed": {"identity--<recipient>": "<base64 sealed box of the signed plaintext>", ...}}
//
// where the signed plaintext is the object WITH its x_liaison_signature. Every hub stores the
// wrapper (the row keeps the object's id, type and version), so the database holds no plaintext.
// The originating hub includes itself among the boxes so that it can read its own RED objects.
// object_marking_refs and x_liaison_recipients are omitted when empty (STIX 2.1 forbids empty
// lists). Sealed boxes are anonymous: the plaintext's own signature is what proves its origin, so
// a receiver runs VerifyObject on what OpenSealedObject returns. The wrapper itself may be signed
// with SignObject like any object (OpenSealedObject ignores its x_liaison_signature).
//
// Usage (origin, then receiver):
//   ASSIGN_OR_RETURN(std::string wire, crypto::SignObject(stored_json, self.id, self.keys));
//   ASSIGN_OR_RETURN(crypto::VerifiedObject v, crypto::VerifyObject(received));
//   if (v.signature.hub == partner.id && v.signature.key != partner.sign_key) reject(...);
//   store(v.json, crypto::SignatureBlockJson(v.signature));   // bytes and block kept apart
//
// Thread-safe: pure functions.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/hub_keys.h"

namespace liaison::crypto {

inline constexpr char kSignatureProperty[] = "x_liaison_signature";
inline constexpr char kSealedType[] = "x-liaison-sealed";

inline constexpr char kSignatureAlgorithm[] = "ed25519";

struct SignatureBlock {
  std::string hub;  // identity id of the signer (the origin)
  std::string key;  // base64 Ed25519 public key
  std::string sig;  // base64
  friend bool operator==(const SignatureBlock&, const SignatureBlock&) = default;
};

// `json` is a minified STIX object without x_liaison_signature (as stored). Returns the object
// with the signature block appended as its last property (the rest byte for byte).
// kInvalidArgument when json is not a JSON object (or not I-JSON: duplicate keys, numbers out of
// range), already carries a signature, or hub_identity_id is not an "identity--<uuid>".
Result<std::string> SignObject(std::string_view json, std::string_view hub_identity_id,
                               const HubKeys& keys);
// The block as JSON text (what storage::ObjectLabel::signature keeps) and back. Parse is strict
// (kInvalidArgument): exactly the members hub, key, alg ("ed25519") and sig, all strings, hub an
// identity id, key 32 and sig 64 bytes of base64.
std::string SignatureBlockJson(const SignatureBlock& block);
Result<SignatureBlock> ParseSignatureBlock(std::string_view json);
// Computes the block for `json` (without signature) without attaching it.
Result<SignatureBlock> ComputeSignature(std::string_view json, std::string_view hub_identity_id,
                                        const HubKeys& keys);
// Attaches a block (as SignatureBlockJson) as the last property of a minified object, without
// checking it (the receiver's VerifyObject does). kInvalidArgument when json is not a JSON object,
// already carries a signature, or block_json is not a JSON object.
Result<std::string> AttachSignature(std::string_view json, std::string_view block_json);

struct VerifiedObject {
  SignatureBlock signature;
  std::string json;  // the object without x_liaison_signature, minified (what the hub stores)
};
// Splits off and checks the signature of a received object, which may carry whitespace
// (kPermissionDenied: missing, repeated, malformed, or not matching the canonical form, i.e.
// altered or forged; kInvalidArgument: not a JSON object, or not I-JSON such as duplicate keys).
// It checks the signature against the block's own key only: whether that key belongs to
// the block's hub is the caller's check (see above).
Result<VerifiedObject> VerifyObject(std::string_view json);

// "x-liaison-sealed--" + crypto::UuidV5(kLiaisonUuidNamespace, object_id + "@" + the version as
// a timestamp with microseconds). kInvalidArgument when version_text is not a STIX timestamp.
Result<std::string> SealedWrapperId(std::string_view object_id, std::string_view version_text);

// A wrapper's fields (ParseSealedWrapper).
struct SealedWrapper {
  std::string id;           // x-liaison-sealed--<uuid>
  std::string sealed_ref;   // the sealed object's id
  std::string sealed_type;  // its type
  std::string version;      // its version (the wrapper's "modified" text)
  std::vector<std::string> marking_refs;
  std::vector<std::string> recipients;       // x_liaison_recipients
  std::map<std::string, std::string> boxes;  // identity id -> base64 sealed box
};
// Reads a wrapper without opening it (kInvalidArgument naming the problem when `json` is not a
// well-formed wrapper: type, id, sealed_ref/sealed_type consistent with each other, version a
// timestamp, sealed a non-empty object of identity id -> string).
Result<SealedWrapper> ParseSealedWrapper(std::string_view json);

// Builds the wrapper above: `signed_json` is the object with its signature; `object_id`,
// `object_type`, `version_text` and `marking_refs` come from the object; one sealed box per
// recipient public key (identity id -> box key base64). kInvalidArgument when object_id,
// object_type or version_text is malformed, signed_json is not a JSON object with that id and
// type, box_keys is empty, or a box key is not a usable public key or its id not an identity id.
Result<std::string> SealObject(std::string_view signed_json, std::string_view object_id,
                               std::string_view object_type, std::string_view version_text,
                               const std::vector<std::string>& marking_refs,
                               const std::vector<std::string>& recipients,
                               const std::map<std::string, std::string>& box_keys);
// Opens this hub's box of a wrapper: the signed plaintext. kPermissionDenied when the wrapper has
// no box for `self`, the box does not open (altered, or sealed to another key), or what it holds
// is not a JSON object whose id, type and version are the wrapper's sealed_ref, sealed_type and
// version (a box moved from another wrapper); kInvalidArgument when not a wrapper (as
// ParseSealedWrapper).
Result<std::string> OpenSealedObject(std::string_view wrapper_json, std::string_view self,
                                     const HubKeys& keys);

}  // namespace liaison::crypto
