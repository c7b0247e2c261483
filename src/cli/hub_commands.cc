// Store administration commands: init, user, apikey, collection, grant. Each opens the hub in
// --data DIR, does one thing through cli/hub_admin.h, prints the result on stdout and errors as one
// line "liaison: <message>" on stderr (exit 1). Secrets (generated passwords, API keys) are
// printed once and never stored in clear. Safe to run while `liaison serve` runs: the store is
// shared through SQLite's locking, and the server re-reads users and grants on every request.

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_util.h"
#include "cli/commands.h"
#include "cli/data_dir_util.h"
#include "cli/hub_admin.h"
#include "cli/partner_admin.h"
#include "cli/table_util.h"
#include "common/clock.h"
#include "server/store_url.h"
#include "stix/timestamp.h"
#include "storage/store.h"

namespace liaison::cli {

namespace {

// Reads a password from stdin when `from_stdin`, else generates one (returned in `generated`).
Result<std::string> ObtainPassword(bool from_stdin, bool* generated) {
  *generated = false;
  if (from_stdin) {
    ASSIGN_OR_RETURN(std::string pw, ReadSecretLine("Password: "));
    RETURN_IF_ERROR(ValidatePassword(pw));
    return pw;
  }
  *generated = true;
  return GeneratePassword();
}

// ---------------------------------------------------------------------------------------------

struct InitArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string org = "My Organisation";
  std::string admin_user = "admin";
  std::string url;
};

int RunInit(const InitArgs& args) {
  std::string url;
  if (!args.url.empty()) {
    Result<std::string> normalized = NormalizeApiRootUrl(args.url);
    if (!normalized.ok()) return Fail(normalized.status());
    url = *normalized;
  }
  if (args.data.empty()) {
    return Fail(InvalidArgumentError(
        "--data DIR is required (it holds hub.key, and hub.db unless --store names a database)"));
  }
  // With --store postgresql://..., DIR holds only the key file; the hub lives in the database.
  const bool remote = IsRemoteStore(args.store);
  if (!args.store.empty() && !remote) {
    return Fail(InvalidArgumentError(
        "init creates a SQLite hub in --data DIR; --store takes a postgresql:// URL here"));
  }
  const std::string key_file = HubKeyPath(args.data);
  std::error_code ec;
  if (std::filesystem::exists(key_file, ec)) {
    return Fail(AlreadyExistsError(key_file + " already exists; remove it or use another --data"));
  }
  std::string warning;
  if (Status s = remote ? ClaimKeyDir(args.data, &warning) : ClaimNewHub(args.data, &warning);
      !s.ok()) {
    return Fail(s);
  }
  if (!warning.empty()) std::cerr << "liaison: warning: " << warning << "\n";
  Result<InitResult> result = InternalError("not run");
  Result<IdentityResult> identity = InternalError("not run");
  {
    Result<std::unique_ptr<storage::Store>> store =
        remote ? OpenNewRemoteHub(args.store) : OpenHub(args.data);
    if (store.ok()) {
      InitOptions options;
      options.org_name = args.org;
      options.admin_user = args.admin_user;
      result = InitializeHub(**store, SystemClock::Default(), options);
      if (result.ok()) {
        IdentityOptions id_options;
        id_options.org_name = args.org;
        id_options.url = url;
        id_options.api_root = result->api_root;
        identity = CreateHubIdentity(**store, SystemClock::Default(), key_file, id_options);
        if (!identity.ok()) result = identity.status();
      }
    } else {
      result = store.status();
    }
  }  // the store is closed here, before its files may be removed
  if (!result.ok()) {
    if (!remote) RemoveHubFiles(args.data);
    std::filesystem::remove(key_file, ec);
    return Fail(result.status());
  }
  std::cout << "hub created in "
            << (remote ? server::RedactStoreUrl(args.store) + " (key in " + args.data + ")"
                       : args.data)
            << " for \"" << args.org << "\"\n"
            << "API root: /" << result->api_root << "/\n"
            << "default collection: " << result->collection_id << " (alias \""
            << kDefaultCollectionAlias << "\")\n"
            << "partner inbox collection: " << identity->inbox_id << " (alias \"" << kInboxAlias
            << "\")\n"
            << "organisation identity: " << identity->identity_id << "\n"
            << "signing key: " << key_file << " (fingerprint " << identity->fingerprint << ")\n";
  if (url.empty()) {
    std::cout << "public URL: not set (set it with: liaison identity set-url --data " << args.data
              << " URL)\n";
  } else {
    std::cout << "public URL: " << url << "\n";
  }
  std::cout << "admin user '" << result->admin_user
            << "' created with password: " << result->admin_password << "\n"
            << "(the password is shown only now; change it with: liaison user passwd "
            << result->admin_user << " --password-stdin --data " << args.data << ")\n";
  return 0;
}

void RegisterInit(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<InitArgs>();
  CLI::App* cmd = app.add_subcommand(
      "init",
      "Create a hub in DIR: the store, API root 'api', a default collection (publishers and admins "
      "write, readers read), the partner inbox, the organisation's STIX identity and signing keys "
      "(DIR/hub.key) and an admin user whose generated password is printed once");
  AddDataOption(cmd, args->data, args->store);
  cmd->add_option("--org", args->org, "Organisation name (identity, hub and API root titles)")
      ->capture_default_str();
  cmd->add_option("--admin-user", args->admin_user, "Name of the first admin user")
      ->capture_default_str();
  cmd->add_option("--url", args->url,
                  "Public API root URL partners call (https://hub.example:8443/api/); settable "
                  "later with 'liaison identity set-url'");
  cmd->callback([args, &ctx] { ctx.exit_code = RunInit(*args); });
}

// ---------------------------------------------------------------------------------------------

struct UserArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string name;
  std::string role;
  bool password_stdin = false;
};

void RegisterUser(CLI::App& app, CommandContext& ctx) {
  CLI::App* user = app.add_subcommand("user", "Manage hub users");
  user->require_subcommand(1);
  const std::vector<std::string> roles = {"admin", "publisher", "reader"};

  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* cmd = user->add_subcommand(
        "add", "Add a user; without --password-stdin a strong password is generated and printed");
    cmd->add_option("NAME", a->name, "User name: 1-64 of A-Z a-z 0-9 . _ @ -")->required();
    cmd->add_option("--role", a->role, "admin | publisher | reader")
        ->required()
        ->check(CLI::IsMember(roles));
    cmd->add_flag("--password-stdin", a->password_stdin,
                  "Read the password (one line, at least 8 characters) from stdin");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Role role, storage::ParseRole(a->role));
        RETURN_IF_ERROR(ValidateUserName(a->name));
        bool generated = false;
        ASSIGN_OR_RETURN(std::string password, ObtainPassword(a->password_stdin, &generated));
        RETURN_IF_ERROR(AddUser(store, SystemClock::Default(), a->name, role, password));
        if (generated) {
          std::cout << "user '" << a->name << "' created with password: " << password << "\n";
        } else {
          std::cout << "user '" << a->name << "' created (" << a->role << ")\n";
        }
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* cmd = user->add_subcommand("list", "List users");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(std::vector<storage::User> users, store.ListUsers());
        std::sort(users.begin(), users.end(),
                  [](const auto& x, const auto& y) { return x.name < y.name; });
        std::vector<std::vector<std::string>> rows = {{"NAME", "ROLE", "STATUS", "CREATED"}};
        for (const storage::User& u : users) {
          rows.push_back({u.name, std::string(storage::RoleName(u.role)),
                          u.disabled ? "disabled" : "enabled", FormatTime(u.created)});
        }
        PrintTable(rows);
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* cmd = user->add_subcommand(
        "passwd", "Set a user's password; without --password-stdin one is generated and printed");
    cmd->add_option("NAME", a->name, "User name")->required();
    cmd->add_flag("--password-stdin", a->password_stdin,
                  "Read the new password (one line) from stdin");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        Result<storage::User> existing = store.GetUser(a->name);
        if (existing.status().code() == StatusCode::kNotFound) {
          return NotFoundError("user '" + a->name + "' does not exist");
        }
        RETURN_IF_ERROR(existing.status());
        bool generated = false;
        ASSIGN_OR_RETURN(std::string password, ObtainPassword(a->password_stdin, &generated));
        RETURN_IF_ERROR(SetUserPassword(store, a->name, password));
        if (generated) {
          std::cout << "user '" << a->name << "' new password: " << password << "\n";
        } else {
          std::cout << "password of user '" << a->name << "' changed\n";
        }
        return Status::Ok();
      });
    });
  }
  for (bool disable : {true, false}) {
    auto a = std::make_shared<UserArgs>();
    CLI::App* cmd = user->add_subcommand(
        disable ? "disable" : "enable",
        disable ? "Disable a user: their password and API keys stop working at once"
                : "Enable a disabled user");
    cmd->add_option("NAME", a->name, "User name")->required();
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, disable, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        RETURN_IF_ERROR(SetUserDisabled(store, a->name, disable));
        std::cout << "user '" << a->name << "' " << (disable ? "disabled" : "enabled") << "\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* cmd = user->add_subcommand("set-role", "Change a user's role");
    cmd->add_option("NAME", a->name, "User name")->required();
    cmd->add_option("--role", a->role, "admin | publisher | reader")
        ->required()
        ->check(CLI::IsMember(roles));
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Role role, storage::ParseRole(a->role));
        RETURN_IF_ERROR(SetUserRole(store, a->name, role));
        std::cout << "user '" << a->name << "' is now " << a->role << "\n";
        return Status::Ok();
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------

struct ApiKeyArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string user;
  std::string description;
  std::string key_id;
};

void RegisterApiKey(CLI::App& app, CommandContext& ctx) {
  CLI::App* apikey = app.add_subcommand("apikey", "Manage API keys (Authorization: Bearer)");
  apikey->require_subcommand(1);
  {
    auto a = std::make_shared<ApiKeyArgs>();
    CLI::App* cmd = apikey->add_subcommand(
        "create", "Create an API key for a user; the token is printed once on stdout");
    cmd->add_option("--user", a->user, "The user the key acts as")->required();
    cmd->add_option("--description", a->description, "What the key is for");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(auth::NewApiKey key,
                         CreateUserApiKey(store, SystemClock::Default(), a->user, a->description));
        std::cout << key.token << "\n";
        std::cerr << "API key " << key.record.key_id << " created for user '" << a->user
                  << "'; the token above is shown only now\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<ApiKeyArgs>();
    CLI::App* cmd = apikey->add_subcommand("list", "List API keys (never their secrets)");
    cmd->add_option("--user", a->user, "Only this user's keys");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(std::vector<storage::ApiKey> keys, ListAllApiKeys(store, a->user));
        std::vector<std::vector<std::string>> rows = {
            {"KEY_ID", "USER", "STATUS", "CREATED", "DESCRIPTION"}};
        for (const storage::ApiKey& k : keys) {
          rows.push_back({k.key_id, k.user, k.revoked ? "revoked" : "active", FormatTime(k.created),
                          k.description});
        }
        PrintTable(rows);
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<ApiKeyArgs>();
    CLI::App* cmd = apikey->add_subcommand("revoke", "Revoke an API key (takes effect at once)");
    cmd->add_option("KEY_ID", a->key_id, "The key id (the part after lsk_ and before the '.')")
        ->required();
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        std::string id = a->key_id;
        // Accept the whole token or "lsk_<id>" too, so a leaked token can be pasted as is.
        if (id.rfind(auth::kApiKeyPrefix, 0) == 0)
          id = id.substr(std::string(auth::kApiKeyPrefix).size());
        if (size_t dot = id.find('.'); dot != std::string::npos) id.resize(dot);
        Status s = store.RevokeApiKey(id);
        if (s.code() == StatusCode::kNotFound) {
          return NotFoundError("API key '" + id + "' does not exist");
        }
        RETURN_IF_ERROR(s);
        std::cout << "API key " << id << " revoked\n";
        return Status::Ok();
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------

struct CollectionArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string api_root;
  std::string title;
  std::string alias;
  std::string description;
  std::string id;
  bool no_grants = false;
  bool force = false;
};

void RegisterCollection(CLI::App& app, CommandContext& ctx) {
  CLI::App* collection = app.add_subcommand("collection", "Manage TAXII collections");
  collection->require_subcommand(1);
  {
    auto a = std::make_shared<CollectionArgs>();
    a->api_root = kDefaultApiRoot;
    CLI::App* cmd = collection->add_subcommand(
        "create",
        "Create a collection (prints its id); by default admins and publishers may write it and "
        "readers read it");
    cmd->add_option("--title", a->title, "Title")->required();
    cmd->add_option("--alias", a->alias, "Alias, unique in the API root: A-Z a-z 0-9 . _ -");
    cmd->add_option("--description", a->description, "Description");
    cmd->add_option("--api-root", a->api_root, "API root name")->capture_default_str();
    cmd->add_flag("--no-grants", a->no_grants,
                  "Start with no grants (only admins); add them with 'liaison grant set'");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        CollectionSpec spec;
        spec.api_root = a->api_root;
        spec.title = a->title;
        spec.alias = a->alias;
        spec.description = a->description;
        spec.default_grants = !a->no_grants;
        ASSIGN_OR_RETURN(storage::Collection c, CreateCollection(store, spec));
        std::cout << c.id << "\n";
        std::cerr << "collection '" << c.title << "' created in API root '" << c.api_root << "': /"
                  << c.api_root << "/collections/" << c.id << "/\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<CollectionArgs>();
    CLI::App* cmd = collection->add_subcommand("list", "List collections");
    cmd->add_option("--api-root", a->api_root, "Only this API root");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        std::vector<std::string> roots;
        if (!a->api_root.empty()) {
          ASSIGN_OR_RETURN(storage::ApiRoot r, store.GetApiRoot(a->api_root));
          roots.push_back(r.name);
        } else {
          ASSIGN_OR_RETURN(std::vector<storage::ApiRoot> all, store.ListApiRoots());
          for (const auto& r : all) roots.push_back(r.name);
        }
        std::vector<std::vector<std::string>> rows = {
            {"ID", "API_ROOT", "ALIAS", "OBJECTS", "TITLE"}};
        for (const std::string& root : roots) {
          ASSIGN_OR_RETURN(std::vector<storage::Collection> cs, store.ListCollections(root));
          for (const storage::Collection& c : cs) {
            ASSIGN_OR_RETURN(int64_t n, store.CountObjects(c.id));
            rows.push_back(
                {c.id, c.api_root, c.alias.empty() ? "-" : c.alias, std::to_string(n), c.title});
          }
        }
        PrintTable(rows);
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<CollectionArgs>();
    CLI::App* cmd =
        collection->add_subcommand("delete", "Delete a collection with its objects and grants");
    cmd->add_option("ID", a->id, "Collection id or alias")->required();
    cmd->add_option("--api-root", a->api_root, "API root (default: search all)");
    cmd->add_flag("--force", a->force, "Delete even if the collection holds objects");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Collection c, ResolveCollection(store, a->api_root, a->id));
        ASSIGN_OR_RETURN(int64_t n, store.CountObjects(c.id));
        if (n > 0 && !a->force) {
          return FailedPreconditionError("collection " + c.id + " holds " + std::to_string(n) +
                                         " object versions; add --force to delete them too");
        }
        RETURN_IF_ERROR(store.DeleteCollection(c.api_root, c.id));
        std::cout << "collection " << c.id << " deleted (" << n << " object versions)\n";
        return Status::Ok();
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------

struct GrantArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string collection;
  std::string api_root;
  std::string user;
  std::string role;
  bool read = false;
  bool no_read = false;
  bool write = false;
  bool no_write = false;
};

void AddGrantTarget(CLI::App* cmd, GrantArgs& a, bool subject) {
  cmd->add_option("--collection", a.collection, "Collection id or alias")->required();
  cmd->add_option("--api-root", a.api_root, "API root (default: search all)");
  if (subject) {
    auto* u = cmd->add_option("--user", a.user, "Grant to this user");
    auto* r = cmd->add_option("--role", a.role, "Grant to every user with this role")
                  ->check(CLI::IsMember({"admin", "publisher", "reader"}));
    u->excludes(r);
  }
  AddDataOption(cmd, a.data, a.store);
}

void RegisterGrant(CLI::App& app, CommandContext& ctx) {
  CLI::App* grant =
      app.add_subcommand("grant", "Manage who may read or write a collection (admins always may)");
  grant->require_subcommand(1);
  {
    auto a = std::make_shared<GrantArgs>();
    CLI::App* cmd = grant->add_subcommand(
        "set", "Set a user's or a role's access; access not mentioned is kept as it is");
    AddGrantTarget(cmd, *a, true);
    auto* r = cmd->add_flag("--read", a->read, "May read objects");
    auto* nr = cmd->add_flag("--no-read", a->no_read, "May not read objects");
    auto* w = cmd->add_flag("--write", a->write, "May add objects");
    auto* nw = cmd->add_flag("--no-write", a->no_write, "May not add objects");
    r->excludes(nr);
    w->excludes(nw);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Collection c,
                         ResolveCollection(store, a->api_root, a->collection));
        ASSIGN_OR_RETURN(std::string subject, GrantSubject(store, a->user, a->role));
        std::optional<bool> read, write;
        if (a->read || a->no_read) read = a->read;
        if (a->write || a->no_write) write = a->write;
        if (!read && !write) {
          return InvalidArgumentError("say what to grant: --read/--no-read, --write/--no-write");
        }
        ASSIGN_OR_RETURN(storage::Grant g, SetGrant(store, c.id, subject, read, write));
        std::cout << subject << " on " << c.id << ": " << (g.can_read ? "read" : "no read") << ", "
                  << (g.can_write ? "write" : "no write") << "\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<GrantArgs>();
    CLI::App* cmd = grant->add_subcommand("revoke", "Remove a user's or a role's grant");
    AddGrantTarget(cmd, *a, true);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Collection c,
                         ResolveCollection(store, a->api_root, a->collection));
        ASSIGN_OR_RETURN(std::string subject, GrantSubject(store, a->user, a->role));
        Status s = store.DeleteGrant(c.id, subject);
        if (s.code() == StatusCode::kNotFound) {
          return NotFoundError(subject + " has no grant on collection " + c.id);
        }
        RETURN_IF_ERROR(s);
        std::cout << "grant of " << subject << " on " << c.id << " revoked\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<GrantArgs>();
    CLI::App* cmd = grant->add_subcommand("list", "List a collection's grants");
    AddGrantTarget(cmd, *a, false);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Collection c,
                         ResolveCollection(store, a->api_root, a->collection));
        ASSIGN_OR_RETURN(std::vector<storage::Grant> grants, store.ListGrants(c.id));
        std::sort(grants.begin(), grants.end(),
                  [](const auto& x, const auto& y) { return x.subject < y.subject; });
        std::vector<std::vector<std::string>> rows = {{"SUBJECT", "READ", "WRITE"}};
        for (const storage::Grant& g : grants) {
          rows.push_back({g.subject, g.can_read ? "yes" : "no", g.can_write ? "yes" : "no"});
        }
        PrintTable(rows);
        return Status::Ok();
      });
    });
  }
}

}  // namespace

void RegisterHubCommands(CLI::App& app, CommandContext& ctx) {
  RegisterInit(app, ctx);
  RegisterUser(app, ctx);
  RegisterApiKey(app, ctx);
  RegisterCollection(app, ctx);
  RegisterGrant(app, ctx);
}

}  // namespace liaison::cli
