#pragma once

// Hub administration: what `liaison init`, `user`, `apikey`, `collection` and `grant` do, as
// functions over the Store interface so they are tested against MemoryStore and reused by tools
// (e2e fixtures, the server's first-run set-up).
//
//   ASSIGN_OR_RETURN(InitResult hub, InitializeHub(store, clock, {.org_name = "ACME CERT"}));
//   std::cout << hub.admin_password;   // shown once, never stored in clear
//   RETURN_IF_ERROR(AddUser(store, clock, "alice", storage::Role::kPublisher, password));
//
// Errors: kInvalidArgument for malformed names and passwords (the message says the rule),
// kNotFound for unknown users, collections and keys, kAlreadyExists for taken names,
// kFailedPrecondition for operations that would lock every admin out; store errors pass through.
//
// Thread-safe as far as the Store is; the functions keep no state. AddUser and SetUserPassword
// block for an argon2id hash (~70 ms).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/api_key.h"
#include "common/clock.h"
#include "common/status.h"
#include "storage/hub_settings.h"
#include "storage/store.h"

namespace liaison::cli {

inline constexpr char kDefaultApiRoot[] = "api";
inline constexpr char kDefaultCollectionAlias[] = "default";
using storage::kCreatedSetting;
using storage::kOrgNameSetting;
// Passwords chosen by people must have at least this many bytes.
inline constexpr size_t kMinPasswordBytes = 8;

// User names: 1..64 characters of [A-Za-z0-9._@-].
Status ValidateUserName(std::string_view name);
// Passwords: kMinPasswordBytes..auth::kMaxPasswordBytes bytes, no control characters (they would
// not survive being typed or piped as one line).
Status ValidatePassword(std::string_view password);
// API root names (URL path segments) and collection aliases: 1..64 characters of [A-Za-z0-9._-].
Status ValidateSlug(std::string_view what, std::string_view value);

// A random (version 4) UUID in lowercase 8-4-4-4-12 form. kInternal if the OS has no randomness.
Result<std::string> GenerateUuid();
// A random password of 24 characters from a 62-letter alphabet (about 143 bits).
Result<std::string> GeneratePassword();

struct InitOptions {
  std::string org_name = "My Organisation";
  std::string admin_user = "admin";
  std::string api_root = kDefaultApiRoot;
};

struct InitResult {
  std::string api_root;       // the API root's name ("api")
  std::string collection_id;  // the default collection's id
  std::string admin_user;
  std::string admin_password;  // generated; the caller shows it once
};

// Sets up an empty store: settings hub.org_name and hub.created, the API root (title
// "<org> TAXII API root"), the default collection (alias "default", title "Default collection")
// with grants role:admin rw, role:publisher rw, role:reader r, the hub secret for API keys, and an
// admin user with a generated password. kAlreadyExists when the store already holds a hub
// (hub.created is set).
Result<InitResult> InitializeHub(storage::Store& store, const Clock& clock,
                                 const InitOptions& options);

// Users.
Status AddUser(storage::Store& store, const Clock& clock, const std::string& name,
               storage::Role role, std::string_view password);
Status SetUserPassword(storage::Store& store, const std::string& name, std::string_view password);
// Disabling or demoting the last enabled admin is refused with kFailedPrecondition.
Status SetUserDisabled(storage::Store& store, const std::string& name, bool disabled);
Status SetUserRole(storage::Store& store, const std::string& name, storage::Role role);

// API keys. CreateUserApiKey: kNotFound for an unknown user, kFailedPrecondition for a disabled
// one. ListAllApiKeys: every user's keys when `user` is empty, ordered by user then creation.
Result<auth::NewApiKey> CreateUserApiKey(storage::Store& store, const Clock& clock,
                                         const std::string& user, const std::string& description);
Result<std::vector<storage::ApiKey>> ListAllApiKeys(storage::Store& store, const std::string& user);

// Collections.
struct CollectionSpec {
  std::string api_root = kDefaultApiRoot;
  std::string title;
  std::string alias;  // optional
  std::string description;
  // Give roles the default collection's grants (admin rw, publisher rw, reader r); otherwise the
  // collection starts with no grants (only admins may use it).
  bool default_grants = true;
};
Result<storage::Collection> CreateCollection(storage::Store& store, const CollectionSpec& spec);

// Finds a collection by id or alias in `api_root`, or in every API root when `api_root` is empty
// (kInvalidArgument when the alias names collections in several roots).
Result<storage::Collection> ResolveCollection(storage::Store& store, const std::string& api_root,
                                              const std::string& id_or_alias);

// The default grants of a new collection.
std::vector<storage::Grant> DefaultGrants(const std::string& collection_id);

// Grants. GrantSubject: "user:<name>" for an existing user, or "role:<role>" (exactly one of the
// two must be given; kInvalidArgument otherwise, kNotFound for an unknown user).
Result<std::string> GrantSubject(storage::Store& store, const std::string& user,
                                 const std::string& role);
// Sets the grant of `subject` on the collection; an unset `read`/`write` keeps the current value
// (false for a new grant).
Result<storage::Grant> SetGrant(storage::Store& store, const std::string& collection_id,
                                const std::string& subject, std::optional<bool> read,
                                std::optional<bool> write);

}  // namespace liaison::cli
