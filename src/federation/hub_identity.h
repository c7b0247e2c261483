#pragma once

// HubIdentity: who this hub is (its organisation's STIX identity and key pairs) and the document
// partners exchange to trust each other.
//
// The identity file (`liaison identity export`, read by `liaison partner add --identity FILE`):
//   {"liaison_identity": 1,
//    "identity": {STIX identity object of the organisation},
//    "url": "https://hub.a.example:8443/api/",     the API root URL partners call
//    "inbox": "<collection id>",                    where partners push
//    "sign_key": "<Ed25519 public key, base64>",
//    "box_key": "<X25519 public key, base64>",
//    "fingerprint": "<crypto::KeyFingerprint: hex BLAKE2b-256 of the sign_key bytes followed by
//                    the box_key bytes>"}             for out-of-band confirmation of both keys
//
// Thread-safe once loaded (immutable).

#include <string>
#include <string_view>

#include "common/status.h"
#include "crypto/hub_keys.h"
#include "storage/store.h"

namespace liaison::federation {

struct HubIdentity {
  std::string id;             // "identity--<uuid>"
  std::string name;           // organisation name
  std::string identity_json;  // STIX identity object
  std::string url;            // public API root URL ("" until set with `identity set-url`)
  std::string inbox;          // inbox collection id
  crypto::HubKeys keys;
};

// Loads the identity settings from the store (storage/hub_settings.h) and the keys from
// `key_file`. kFailedPrecondition "hub has no identity: ..." when init did not create one (no
// identity settings, or no key file); kDataLoss when the stored identity is not the STIX identity
// its id setting names; HubKeys::Load's errors for an unreadable, insecure or malformed key file;
// the store's errors. url and inbox are "" when not set.
Result<HubIdentity> LoadHubIdentity(storage::Store& store, const std::string& key_file);

// The identity file above, for this hub (pretty-printed JSON, trailing newline; public keys only).
std::string ExportIdentity(const HubIdentity& identity);

struct PartnerIdentity {
  std::string id, name, identity_json, url, inbox, sign_key, box_key, fingerprint;
};
// Parses and checks an identity file strictly: JSON object with exactly the members above, none
// repeated; version 1; a valid STIX identity with a name (identity_json keeps its minified bytes);
// url "" or an absolute http(s) URL with a host and no user info or fragment; inbox "" or a
// collection id of URL-safe characters; both keys 32 bytes of base64 and the box key usable;
// fingerprint 64 lowercase hex digits equal to KeyFingerprint of the keys. kInvalidArgument
// "identity file: <the problem>".
Result<PartnerIdentity> ParseIdentityFile(std::string_view text);

}  // namespace liaison::federation
