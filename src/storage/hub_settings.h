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

}  // namespace liaison::storage
