#pragma once

// Names shared by whatever creates a hub (`liaison init`, cli/) and whatever opens one (server/):
// the database file inside the data directory and the settings keys that `init` writes.

namespace liaison::storage {

// DATA_DIR/hub.db is the embedded SQLite store.
inline constexpr char kHubDbFile[] = "hub.db";
// The organisation name, shown as the TAXII discovery title.
inline constexpr char kOrgNameSetting[] = "hub.org_name";
// When the hub was initialised (STIX timestamp); its presence says `init` completed.
inline constexpr char kCreatedSetting[] = "hub.created";

// The hub's organisation identity: its id ("identity--<uuid>") and the STIX identity object (JSON)
// that `init` creates; the hub's public API root URL and inbox collection (`identity export`).
inline constexpr char kIdentityIdSetting[] = "hub.identity_id";
inline constexpr char kIdentitySetting[] = "hub.identity";
inline constexpr char kPublicUrlSetting[] = "hub.url";
inline constexpr char kInboxSetting[] = "hub.inbox";
// The default TLP level of unmarked objects ("amber" unless set): policy/tlp.h names.
inline constexpr char kDefaultTlpSetting[] = "policy.default_tlp";

}  // namespace liaison::storage
