#pragma once

// The hub's data directory: DIR/hub.db (SQLite, with its -wal and -shm files), created by
// `liaison init` with mode 0700 and files 0600. Shared by every command that takes --data DIR.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, OpenHub(data_dir));
//
// Not thread-safe where noted (umask is per process).

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/hub_settings.h"
#include "storage/store.h"

namespace liaison::cli {

using storage::kHubDbFile;

// DIR/hub.db.
std::string HubDbPath(std::string_view data_dir);

// Opens the hub in `data_dir`. kNotFound ("no hub in 'DIR' (create one with: liaison init --data
// DIR)") when DIR/hub.db does not exist; store errors otherwise (kFailedPrecondition, kDataLoss,
// kUnavailable), with the path in the message.
Result<std::unique_ptr<storage::Store>> OpenHub(const std::string& data_dir);

// Opens the hub named by `--store URL` (server/store_url.h: postgresql://..., sqlite:PATH, a data
// directory), or DATA_DIR/hub.db when `store` is empty. A PostgreSQL database must hold an
// initialised hub (kNotFound otherwise, saying how to create one); kUnavailable (within seconds)
// when it cannot be reached; kInvalidArgument for a bad URL or when both are empty.
Result<std::unique_ptr<storage::Store>> OpenHub(const std::string& data_dir,
                                                const std::string& store);

// For `init --store postgresql://...`: opens (creating the schema) the database and checks it holds
// no hub yet (kAlreadyExists "... already holds a hub" otherwise).
Result<std::unique_ptr<storage::Store>> OpenNewRemoteHub(const std::string& store);

// True when `store` names a database server rather than a file (postgresql:// or postgres://).
bool IsRemoteStore(const std::string& store);

// Creates `data_dir` (mode 0700) when missing, to hold hub.key for a hub whose store is a database
// server. kFailedPrecondition when it cannot be created or is not a directory; `warning` as for
// ClaimNewHub.
Status ClaimKeyDir(const std::string& data_dir, std::string* warning);

// For `init`: creates `data_dir` (and parents) with mode 0700 when missing, then creates
// DIR/hub.db exclusively (O_EXCL), so two inits cannot both proceed. kAlreadyExists when DIR
// already holds a hub; kFailedPrecondition when DIR cannot be created or written. Sets the process
// umask to 077 so the database files are private. `warning` receives a note when an existing DIR
// is readable by others (empty otherwise).
Status ClaimNewHub(const std::string& data_dir, std::string* warning);

// Removes DIR/hub.db and its -wal/-shm/-journal files (after a failed init). Best effort.
void RemoveHubFiles(const std::string& data_dir);

// Reads one line from stdin (without the line break; a trailing '\r' is dropped too). When stdin
// is a terminal, writes `prompt` to stderr and turns echo off while reading. kInvalidArgument on
// end of input before any character, or for an empty line.
Result<std::string> ReadSecretLine(std::string_view prompt);

}  // namespace liaison::cli
