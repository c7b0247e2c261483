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
//    "fingerprint": "<hex BLAKE2b-256 of sign_key bytes>"}   for out-of-band confirmation
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
// `key_file`. kFailedPrecondition "hub has no identity: ..." when init did not create one.
Result<HubIdentity> LoadHubIdentity(storage::Store& store, const std::string& key_file);

// The identity file above, for this hub (pretty-printed JSON, trailing newline).
std::string ExportIdentity(const HubIdentity& identity);

struct PartnerIdentity {
  std::string id, name, identity_json, url, inbox, sign_key, box_key, fingerprint;
};
// Parses and checks an identity file (well-formed STIX identity, keys decode to the right sizes,
// fingerprint matches, url is http(s)). kInvalidArgument naming the problem.
Result<PartnerIdentity> ParseIdentityFile(std::string_view text);

}  // namespace liaison::federation
