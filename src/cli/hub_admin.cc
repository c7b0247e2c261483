#include "cli/hub_admin.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <sys/random.h>

#include "auth/password.h"
#include "common/uuid.h"
#include "stix/timestamp.h"

namespace liaison::cli {

namespace {

bool IsNameChar(char c, bool allow_at) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || (allow_at && c == '@');
}

Status RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return InternalError(std::string("no randomness from the OS: ") + std::strerror(errno));
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
  return Status::Ok();
}

// Enabled admins other than `except`.
Result<int> OtherEnabledAdmins(storage::Store& store, const std::string& except) {
  ASSIGN_OR_RETURN(std::vector<storage::User> users, store.ListUsers());
  int n = 0;
  for (const storage::User& u : users) {
    if (u.name != except && u.role == storage::Role::kAdmin && !u.disabled) ++n;
  }
  return n;
}

}  // namespace

Status ValidateUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgumentError("user name must have 1 to 64 characters");
  }
  for (char c : name) {
    if (!IsNameChar(c, /*allow_at=*/true)) {
      return InvalidArgumentError("user name '" + std::string(name) +
                                  "' may only contain letters, digits and . _ @ -");
    }
  }
  return Status::Ok();
}

Status ValidatePassword(std::string_view password) {
  if (password.size() < kMinPasswordBytes) {
    return InvalidArgumentError("password must have at least " + std::to_string(kMinPasswordBytes) +
                                " characters");
  }
  if (password.size() > auth::kMaxPasswordBytes) {
    return InvalidArgumentError("password must have at most " +
                                std::to_string(auth::kMaxPasswordBytes) + " bytes");
  }
  for (unsigned char c : password) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError("password must not contain control characters");
    }
  }
  return Status::Ok();
}

Status ValidateSlug(std::string_view what, std::string_view value) {
  if (value.empty() || value.size() > 64) {
    return InvalidArgumentError(std::string(what) + " must have 1 to 64 characters");
  }
  for (char c : value) {
    if (!IsNameChar(c, /*allow_at=*/false)) {
      return InvalidArgumentError(std::string(what) + " '" + std::string(value) +
                                  "' may only contain letters, digits and . _ -");
    }
  }
  return Status::Ok();
}

Result<std::string> GenerateUuid() { return RandomUuidV4(); }

Result<std::string> GeneratePassword() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  constexpr unsigned kSize = sizeof(kAlphabet) - 1;  // 62
  // Rejection sampling: bytes >= 248 (= 4 * 62) would bias the first letters.
  constexpr unsigned kLimit = 256 - (256 % kSize);
  std::string out;
  while (out.size() < 24) {
    unsigned char buf[32];
    RETURN_IF_ERROR(RandomBytes(buf, sizeof buf));
    for (unsigned char c : buf) {
      if (c < kLimit && out.size() < 24) out += kAlphabet[c % kSize];
    }
  }
  return out;
}

std::vector<storage::Grant> DefaultGrants(const std::string& collection_id) {
  return {
      {collection_id, "role:admin", true, true},
      {collection_id, "role:publisher", true, true},
      {collection_id, "role:reader", true, false},
  };
}

Result<InitResult> InitializeHub(storage::Store& store, const Clock& clock,
                                 const InitOptions& options) {
  RETURN_IF_ERROR(ValidateUserName(options.admin_user));
  RETURN_IF_ERROR(ValidateSlug("API root name", options.api_root));
  if (options.org_name.empty() || options.org_name.size() > 200) {
    return InvalidArgumentError("organisation name must have 1 to 200 characters");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> created, store.GetSetting(kCreatedSetting));
  if (created) {
    return AlreadyExistsError("this store already holds a hub (created " + *created + ")");
  }
  int64_t now = clock.NowMicros();
  InitResult result;
  result.api_root = options.api_root;
  result.admin_user = options.admin_user;

  RETURN_IF_ERROR(store.PutSetting(kOrgNameSetting, options.org_name));
  storage::ApiRoot root;
  root.name = options.api_root;
  root.title = options.org_name + " TAXII API root";
  root.description = "Threat intelligence shared by " + options.org_name;
  RETURN_IF_ERROR(store.CreateApiRoot(root));

  CollectionSpec spec;
  spec.api_root = options.api_root;
  spec.title = "Default collection";
  spec.alias = kDefaultCollectionAlias;
  spec.description = "Publishers and admins write here; readers read.";
  ASSIGN_OR_RETURN(storage::Collection collection, CreateCollection(store, spec));
  result.collection_id = collection.id;

  // Created now so the first API key does not race the server for it.
  RETURN_IF_ERROR(auth::LoadOrCreateHubSecret(store).status());

  ASSIGN_OR_RETURN(result.admin_password, GeneratePassword());
  RETURN_IF_ERROR(
      AddUser(store, clock, options.admin_user, storage::Role::kAdmin, result.admin_password));
  // Last: a store with hub.created set is a complete hub.
  RETURN_IF_ERROR(
      store.PutSetting(kCreatedSetting, stix::FormatTimestamp(stix::Timestamp{now}, 3)));
  return result;
}

Status AddUser(storage::Store& store, const Clock& clock, const std::string& name,
               storage::Role role, std::string_view password) {
  RETURN_IF_ERROR(ValidateUserName(name));
  RETURN_IF_ERROR(ValidatePassword(password));
  storage::User user;
  user.name = name;
  user.role = role;
  user.created = clock.NowMicros();
  ASSIGN_OR_RETURN(user.password_hash, auth::HashPassword(password));
  Status s = store.CreateUser(user);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("user '" + name + "' already exists");
  }
  return s;
}

namespace {
Result<storage::User> GetExistingUser(storage::Store& store, const std::string& name) {
  RETURN_IF_ERROR(ValidateUserName(name));
  Result<storage::User> user = store.GetUser(name);
  if (user.status().code() == StatusCode::kNotFound) {
    return NotFoundError("user '" + name + "' does not exist");
  }
  return user;
}
}  // namespace

Status SetUserPassword(storage::Store& store, const std::string& name, std::string_view password) {
  ASSIGN_OR_RETURN(storage::User user, GetExistingUser(store, name));
  RETURN_IF_ERROR(ValidatePassword(password));
  ASSIGN_OR_RETURN(user.password_hash, auth::HashPassword(password));
  return store.UpdateUser(user);
}

Status SetUserDisabled(storage::Store& store, const std::string& name, bool disabled) {
  ASSIGN_OR_RETURN(storage::User user, GetExistingUser(store, name));
  if (disabled && user.role == storage::Role::kAdmin && !user.disabled) {
    ASSIGN_OR_RETURN(int others, OtherEnabledAdmins(store, name));
    if (others == 0) {
      return FailedPreconditionError("'" + name +
                                     "' is the last enabled admin; add another admin first");
    }
  }
  if (user.disabled == disabled) return Status::Ok();
  user.disabled = disabled;
  return store.UpdateUser(user);
}

Status SetUserRole(storage::Store& store, const std::string& name, storage::Role role) {
  ASSIGN_OR_RETURN(storage::User user, GetExistingUser(store, name));
  if (user.role == storage::Role::kAdmin && role != storage::Role::kAdmin && !user.disabled) {
    ASSIGN_OR_RETURN(int others, OtherEnabledAdmins(store, name));
    if (others == 0) {
      return FailedPreconditionError("'" + name +
                                     "' is the last enabled admin; add another admin first");
    }
  }
  if (user.role == role) return Status::Ok();
  user.role = role;
  return store.UpdateUser(user);
}

Result<auth::NewApiKey> CreateUserApiKey(storage::Store& store, const Clock& clock,
                                         const std::string& user_name,
                                         const std::string& description) {
  ASSIGN_OR_RETURN(storage::User user, GetExistingUser(store, user_name));
  if (user.disabled) {
    return FailedPreconditionError("user '" + user_name + "' is disabled");
  }
  if (description.size() > 500) {
    return InvalidArgumentError("description must have at most 500 characters");
  }
  ASSIGN_OR_RETURN(std::string hub_secret, auth::LoadOrCreateHubSecret(store));
  ASSIGN_OR_RETURN(auth::NewApiKey key,
                   auth::GenerateApiKey(user_name, description, hub_secret, clock.NowMicros()));
  RETURN_IF_ERROR(store.CreateApiKey(key.record));
  return key;
}

Result<std::vector<storage::ApiKey>> ListAllApiKeys(storage::Store& store,
                                                    const std::string& user) {
  std::vector<std::string> names;
  if (!user.empty()) {
    ASSIGN_OR_RETURN(storage::User u, GetExistingUser(store, user));
    names.push_back(u.name);
  } else {
    ASSIGN_OR_RETURN(std::vector<storage::User> users, store.ListUsers());
    for (const storage::User& u : users) names.push_back(u.name);
    std::sort(names.begin(), names.end());
  }
  std::vector<storage::ApiKey> out;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(std::vector<storage::ApiKey> keys, store.ListApiKeys(name));
    std::sort(keys.begin(), keys.end(), [](const storage::ApiKey& a, const storage::ApiKey& b) {
      return a.created != b.created ? a.created < b.created : a.key_id < b.key_id;
    });
    out.insert(out.end(), keys.begin(), keys.end());
  }
  return out;
}

Result<storage::Collection> CreateCollection(storage::Store& store, const CollectionSpec& spec) {
  RETURN_IF_ERROR(ValidateSlug("API root name", spec.api_root));
  if (spec.title.empty() || spec.title.size() > 200) {
    return InvalidArgumentError("collection title must have 1 to 200 characters");
  }
  if (spec.description.size() > 2000) {
    return InvalidArgumentError("collection description must have at most 2000 characters");
  }
  if (!spec.alias.empty()) RETURN_IF_ERROR(ValidateSlug("collection alias", spec.alias));
  Result<storage::ApiRoot> root = store.GetApiRoot(spec.api_root);
  if (root.status().code() == StatusCode::kNotFound) {
    return NotFoundError("API root '" + spec.api_root + "' does not exist");
  }
  RETURN_IF_ERROR(root.status());
  storage::Collection c;
  ASSIGN_OR_RETURN(c.id, GenerateUuid());
  c.api_root = spec.api_root;
  c.title = spec.title;
  c.description = spec.description;
  c.alias = spec.alias;
  Status s = store.CreateCollection(c);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("API root '" + spec.api_root + "' already has a collection '" +
                              (spec.alias.empty() ? c.id : spec.alias) + "'");
  }
  RETURN_IF_ERROR(s);
  if (spec.default_grants) {
    for (const storage::Grant& g : DefaultGrants(c.id)) RETURN_IF_ERROR(store.PutGrant(g));
  }
  return c;
}

Result<storage::Collection> ResolveCollection(storage::Store& store, const std::string& api_root,
                                              const std::string& id_or_alias) {
  if (id_or_alias.empty()) return InvalidArgumentError("no collection given");
  std::vector<std::string> roots;
  if (!api_root.empty()) {
    roots.push_back(api_root);
  } else {
    ASSIGN_OR_RETURN(std::vector<storage::ApiRoot> all, store.ListApiRoots());
    for (const storage::ApiRoot& r : all) roots.push_back(r.name);
  }
  std::vector<storage::Collection> found;
  for (const std::string& root : roots) {
    Result<storage::Collection> c = store.GetCollection(root, id_or_alias);
    if (c.ok()) {
      found.push_back(std::move(c).value());
    } else if (c.status().code() != StatusCode::kNotFound) {
      return c.status();
    }
  }
  if (found.empty()) {
    return NotFoundError("collection '" + id_or_alias + "' does not exist" +
                         (api_root.empty() ? "" : " in API root '" + api_root + "'"));
  }
  if (found.size() > 1) {
    return InvalidArgumentError("'" + id_or_alias +
                                "' names collections in several API roots; add --api-root");
  }
  return found.front();
}

Result<std::string> GrantSubject(storage::Store& store, const std::string& user,
                                 const std::string& role) {
  if (user.empty() == role.empty()) {
    return InvalidArgumentError("give exactly one of --user NAME or --role ROLE");
  }
  if (!user.empty()) {
    ASSIGN_OR_RETURN(storage::User u, GetExistingUser(store, user));
    return "user:" + u.name;
  }
  ASSIGN_OR_RETURN(storage::Role r, storage::ParseRole(role));
  return "role:" + std::string(storage::RoleName(r));
}

Result<storage::Grant> SetGrant(storage::Store& store, const std::string& collection_id,
                                const std::string& subject, std::optional<bool> read,
                                std::optional<bool> write) {
  storage::Grant grant{collection_id, subject, false, false};
  ASSIGN_OR_RETURN(std::vector<storage::Grant> grants, store.ListGrants(collection_id));
  for (const storage::Grant& g : grants) {
    if (g.subject == subject) grant = g;
  }
  if (read) grant.can_read = *read;
  if (write) grant.can_write = *write;
  RETURN_IF_ERROR(store.PutGrant(grant));
  return grant;
}

}  // namespace liaison::cli
