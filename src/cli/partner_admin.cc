#include "cli/partner_admin.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include <boost/json.hpp>

#include "common/json_writer.h"
#include "common/uuid.h"
#include "crypto/hub_keys.h"
#include "policy/tlp.h"
#include "stix/object.h"
#include "stix/timestamp.h"
#include "storage/hub_settings.h"

namespace liaison::cli {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Timestamp(int64_t micros) { return stix::FormatTimestamp(stix::Timestamp{micros}, 3); }

// Names shown to people (organisation and partner names): 1..200 bytes, no control characters.
Status ValidateDisplayName(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > 200) {
    return InvalidArgumentError(std::string(what) + " must have 1 to 200 characters");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError(std::string(what) + " must not contain control characters");
    }
  }
  return Status::Ok();
}

// "identity--<uuid>" (the form STIX identifiers take; the uuid part is checked loosely: 36
// characters of hex digits and dashes).
bool IsIdentifierOfType(std::string_view id, std::string_view type) {
  if (id.size() != type.size() + 2 + 36) return false;
  if (id.substr(0, type.size()) != type || id.substr(type.size(), 2) != "--") return false;
  std::string_view uuid = id.substr(type.size() + 2);
  for (size_t i = 0; i < uuid.size(); ++i) {
    char c = uuid[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Any STIX identifier: "<type>--<uuid>" with a type of [a-z0-9-].
bool IsStixIdentifier(std::string_view id) {
  size_t sep = id.find("--");
  if (sep == std::string_view::npos || sep == 0 || sep > 250) return false;
  for (char c : id.substr(0, sep)) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return IsIdentifierOfType(id, id.substr(0, sep));
}

Result<policy::Tlp> ParseTlpName(std::string_view name) {
  Result<policy::Tlp> tlp = policy::ParseTlp(name);
  if (!tlp.ok()) {
    return InvalidArgumentError("unknown TLP level '" + std::string(name) +
                                "' (use clear, green, amber, amber+strict or red)");
  }
  return tlp;
}

std::string TlpNameOf(int32_t tlp) {
  if (tlp < 0 || tlp > static_cast<int32_t>(policy::Tlp::kRed)) return std::to_string(tlp);
  return std::string(policy::TlpName(static_cast<policy::Tlp>(tlp)));
}

// Appends one administrative audit entry. `detail` is built by the caller with JsonWriter.
Status Audit(storage::Store& store, const Clock& clock, std::string kind, std::string subject,
             std::string detail) {
  storage::AuditRecord record;
  record.kind = std::move(kind);
  record.actor = kCliAuditActor;
  record.subject = std::move(subject);
  record.detail = std::move(detail);
  int64_t now = clock.NowMicros();
  record.time = now;
  return store.AppendAudit({record}, now).status();
}

std::string Detail(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  JsonWriter w;
  w.BeginObject();
  for (const auto& [k, v] : fields) {
    w.Key(k);
    w.String(v);
  }
  w.EndObject();
  return std::move(w).Take();
}

Result<storage::Partner> GetExistingPartner(storage::Store& store, const std::string& id) {
  Result<storage::Partner> p = store.GetPartner(id);
  if (p.status().code() == StatusCode::kNotFound) {
    return NotFoundError("partner '" + id + "' does not exist");
  }
  return p;
}

Status ValidateToken(std::string_view token) {
  if (token.empty()) return InvalidArgumentError("the partner token is empty");
  if (token.size() > 4096)
    return InvalidArgumentError("the partner token is longer than 4096 bytes");
  for (unsigned char c : token) {
    if (c <= 0x20 || c == 0x7f) {
      return InvalidArgumentError(
          "the partner token must not contain spaces or control characters");
    }
  }
  return Status::Ok();
}

// Every collection of every API root.
Result<std::vector<storage::Collection>> AllCollections(storage::Store& store) {
  ASSIGN_OR_RETURN(std::vector<storage::ApiRoot> roots, store.ListApiRoots());
  std::vector<storage::Collection> out;
  for (const storage::ApiRoot& root : roots) {
    ASSIGN_OR_RETURN(std::vector<storage::Collection> cs, store.ListCollections(root.name));
    out.insert(out.end(), cs.begin(), cs.end());
  }
  return out;
}

Status RevokeAllKeys(storage::Store& store, const std::string& user) {
  ASSIGN_OR_RETURN(std::vector<storage::ApiKey> keys, store.ListApiKeys(user));
  for (const storage::ApiKey& k : keys) {
    if (!k.revoked) RETURN_IF_ERROR(store.RevokeApiKey(k.key_id));
  }
  return Status::Ok();
}

Result<int64_t> CountOutbox(storage::Store& store, const std::string& partner,
                            storage::OutboxState state) {
  storage::OutboxQuery q;
  q.partner = partner;
  q.state = state;
  q.limit = 5000;
  int64_t n = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<storage::OutboxRow> rows, store.ListOutbox(q));
    n += static_cast<int64_t>(rows.size());
    if (rows.size() < q.limit) break;
    q.after_seq = rows.back().seq;
  }
  return n;
}

Result<storage::OutboxState> ParseOutboxState(std::string_view name) {
  for (storage::OutboxState s : {storage::OutboxState::kQueued, storage::OutboxState::kDelivered,
                                 storage::OutboxState::kFailed}) {
    if (storage::OutboxStateName(s) == name) return s;
  }
  return InvalidArgumentError("unknown delivery state '" + std::string(name) +
                              "' (use queued, delivered or failed)");
}

Result<storage::ChannelMode> ParseMode(std::string_view mode) {
  Result<storage::ChannelMode> m = storage::ParseChannelMode(mode);
  if (!m.ok()) {
    return InvalidArgumentError("unknown channel mode '" + std::string(mode) +
                                "' (use push or pull)");
  }
  return m;
}

}  // namespace

std::string HubKeyPath(std::string_view data_dir) {
  std::string path(data_dir);
  if (path.empty()) path = ".";
  if (path.back() != '/') path += '/';
  return path + crypto::kHubKeyFile;
}

Result<std::string> NormalizeApiRootUrl(std::string_view url) {
  if (url.size() > 2000) return InvalidArgumentError("URL is longer than 2000 characters");
  std::string lower = Lower(url);
  size_t scheme_end = 0;
  if (lower.rfind("https://", 0) == 0) {
    scheme_end = 8;
  } else if (lower.rfind("http://", 0) == 0) {
    scheme_end = 7;
  } else {
    return InvalidArgumentError("URL '" + std::string(url) +
                                "' must start with http:// or https://");
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return InvalidArgumentError("URL must not contain spaces or control characters");
    }
    if (c == '?' || c == '#') {
      return InvalidArgumentError("URL '" + std::string(url) +
                                  "' must not have a query or fragment (give the API root URL)");
    }
  }
  size_t host_end = url.find('/', scheme_end);
  std::string_view authority =
      url.substr(scheme_end, host_end == std::string_view::npos ? std::string_view::npos
                                                                : host_end - scheme_end);
  if (authority.empty()) return InvalidArgumentError("URL '" + std::string(url) + "' has no host");
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("URL must not carry credentials (user@host)");
  }
  // The scheme in lowercase, the rest as given; API root URLs end with '/'.
  std::string out = lower.substr(0, scheme_end) + std::string(url.substr(scheme_end));
  if (host_end == std::string_view::npos || out.back() != '/') out += '/';
  return out;
}

// ---------------------------------------------------------------------------------------------
// Identity

Result<IdentityResult> CreateHubIdentity(storage::Store& store, const Clock& clock,
                                         const std::string& key_file,
                                         const IdentityOptions& options) {
  ASSIGN_OR_RETURN(std::optional<std::string> existing,
                   store.GetSetting(storage::kIdentityIdSetting));
  if (existing) {
    return AlreadyExistsError("this hub already has an identity (" + *existing + ")");
  }
  std::string org = options.org_name;
  if (org.empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> stored, store.GetSetting(storage::kOrgNameSetting));
    if (!stored || stored->empty()) {
      return FailedPreconditionError("the hub has no organisation name; pass --org NAME");
    }
    org = *stored;
  }
  RETURN_IF_ERROR(ValidateDisplayName("organisation name", org));
  std::string url;
  if (!options.url.empty()) {
    ASSIGN_OR_RETURN(url, NormalizeApiRootUrl(options.url));
  }
  Result<storage::ApiRoot> root = store.GetApiRoot(options.api_root);
  if (root.status().code() == StatusCode::kNotFound) {
    return NotFoundError("API root '" + options.api_root + "' does not exist");
  }
  RETURN_IF_ERROR(root.status());

  // The key file: kept when an earlier, interrupted run wrote it (identity_id is not set yet, so
  // nothing was ever signed or exported with another key).
  crypto::HubKeys keys;
  Result<crypto::HubKeys> loaded = crypto::HubKeys::Load(key_file);
  if (loaded.ok()) {
    keys = std::move(loaded).value();
  } else if (loaded.status().code() == StatusCode::kNotFound) {
    ASSIGN_OR_RETURN(keys, crypto::HubKeys::Generate());
    RETURN_IF_ERROR(keys.Save(key_file));
  } else {
    return loaded.status().WithContext(key_file);
  }

  int64_t now = clock.NowMicros();
  IdentityResult result;
  result.identity_id = "identity--" + RandomUuidV4();
  result.fingerprint = keys.fingerprint();

  // STIX 2.1 section 4.5: identity; identity_class from the identity-class-ov vocabulary.
  JsonWriter w;
  w.BeginObject();
  w.Key("type");
  w.String("identity");
  w.Key("spec_version");
  w.String("2.1");
  w.Key("id");
  w.String(result.identity_id);
  w.Key("created");
  w.String(Timestamp(now));
  w.Key("modified");
  w.String(Timestamp(now));
  w.Key("name");
  w.String(org);
  w.Key("identity_class");
  w.String("organization");
  w.EndObject();
  std::string identity_json = std::move(w).Take();

  Result<storage::Collection> inbox = store.GetCollection(options.api_root, kInboxAlias);
  if (inbox.ok()) {
    result.inbox_id = inbox->id;
  } else if (inbox.status().code() == StatusCode::kNotFound) {
    CollectionSpec spec;
    spec.api_root = options.api_root;
    spec.title = kInboxTitle;
    spec.alias = kInboxAlias;
    spec.description =
        "Objects and feedback partner hubs send to " + org + ". Only partners write here.";
    spec.default_grants = false;
    ASSIGN_OR_RETURN(storage::Collection c, CreateCollection(store, spec));
    result.inbox_id = c.id;
    // The hub's own people read what partners sent; only partner users (user grants added by
    // `partner add`) and admins write.
    RETURN_IF_ERROR(store.PutGrant({c.id, "role:admin", true, true}));
    RETURN_IF_ERROR(store.PutGrant({c.id, "role:publisher", true, false}));
    RETURN_IF_ERROR(store.PutGrant({c.id, "role:reader", true, false}));
  } else {
    return inbox.status();
  }

  RETURN_IF_ERROR(store.PutSetting(storage::kIdentitySetting, identity_json));
  RETURN_IF_ERROR(store.PutSetting(storage::kInboxSetting, result.inbox_id));
  if (!url.empty()) RETURN_IF_ERROR(store.PutSetting(storage::kPublicUrlSetting, url));
  RETURN_IF_ERROR(
      Audit(store, clock, "identity", result.identity_id,
            Detail({{"action", "create"}, {"name", org}, {"fingerprint", result.fingerprint}})));
  // Last: its presence says the identity is complete.
  RETURN_IF_ERROR(store.PutSetting(storage::kIdentityIdSetting, result.identity_id));
  return result;
}

Result<std::string> SetPublicUrl(storage::Store& store, std::string_view url) {
  ASSIGN_OR_RETURN(std::string normalized, NormalizeApiRootUrl(url));
  RETURN_IF_ERROR(store.PutSetting(storage::kPublicUrlSetting, normalized));
  return normalized;
}

Result<std::string> ExportHubIdentity(const federation::HubIdentity& self,
                                      std::string_view url_override) {
  federation::HubIdentity copy = self;
  if (!url_override.empty()) {
    ASSIGN_OR_RETURN(copy.url, NormalizeApiRootUrl(url_override));
  }
  if (copy.url.empty()) {
    return FailedPreconditionError(
        "the hub has no public URL; set it with 'liaison identity set-url' or pass --url");
  }
  return federation::ExportIdentity(copy);
}

// ---------------------------------------------------------------------------------------------
// Partners

std::string PartnerUserName(std::string_view partner_name) {
  std::string slug;
  bool dash = false;
  for (unsigned char c : partner_name) {
    if (std::isalnum(c) && c < 0x80) {
      if (dash && !slug.empty()) slug += '-';
      dash = false;
      slug += static_cast<char>(std::tolower(c));
    } else {
      dash = true;
    }
    if (slug.size() >= 48) break;
  }
  if (slug.size() > 48) slug.resize(48);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.empty()) slug = "hub";
  return kPartnerUserPrefix + slug;
}

Result<storage::Partner> ResolvePartner(storage::Store& store, std::string_view id_or_name) {
  if (id_or_name.empty()) return InvalidArgumentError("no partner given");
  if (id_or_name.rfind("identity--", 0) == 0) {
    return GetExistingPartner(store, std::string(id_or_name));
  }
  ASSIGN_OR_RETURN(std::vector<storage::Partner> partners, store.ListPartners());
  std::string wanted = Lower(id_or_name);
  std::vector<storage::Partner> found;
  for (storage::Partner& p : partners) {
    if (Lower(p.name) == wanted || p.user == id_or_name) found.push_back(std::move(p));
  }
  if (found.empty()) {
    return NotFoundError("partner '" + std::string(id_or_name) + "' does not exist");
  }
  if (found.size() > 1) {
    return InvalidArgumentError("'" + std::string(id_or_name) +
                                "' names several partners; use the partner's identity id");
  }
  return found.front();
}

Result<AddPartnerResult> AddPartner(storage::Store& store, const Clock& clock,
                                    const federation::HubIdentity& self,
                                    const AddPartnerOptions& options) {
  Result<federation::PartnerIdentity> parsed = federation::ParseIdentityFile(options.identity_text);
  if (!parsed.ok()) {
    std::string m = parsed.status().message();
    return InvalidArgumentError(m.rfind("identity file", 0) == 0 ? m : "identity file: " + m);
  }
  const federation::PartnerIdentity& id = *parsed;
  if (id.id == self.id || id.sign_key == self.keys.sign_public_b64()) {
    return InvalidArgumentError("that identity file is this hub's own identity");
  }
  std::string name = options.name.empty() ? id.name : options.name;
  RETURN_IF_ERROR(ValidateDisplayName("partner name", name));
  std::string url = id.url;
  if (!options.url.empty()) {
    ASSIGN_OR_RETURN(url, NormalizeApiRootUrl(options.url));
  }
  if (!options.token.empty()) RETURN_IF_ERROR(ValidateToken(options.token));
  if (self.inbox.empty()) {
    return FailedPreconditionError("this hub has no inbox collection; run 'liaison identity init'");
  }

  ASSIGN_OR_RETURN(std::vector<storage::Partner> partners, store.ListPartners());
  for (const storage::Partner& p : partners) {
    if (p.id == id.id) {
      return AlreadyExistsError("partner '" + p.name + "' (" + p.id +
                                ") is already trusted; remove it first to add it again");
    }
    if (Lower(p.name) == Lower(name)) {
      return AlreadyExistsError("a partner named '" + p.name + "' already exists (" + p.id +
                                "); choose another name with --name");
    }
  }

  // The local user: reuse the one a removed partner with this id left behind (disabled, keys
  // revoked), else take "partner-<short name>", else that plus the start of the identity's uuid.
  std::string short_uuid = id.id.substr(std::string_view("identity--").size(), 8);
  std::vector<std::string> candidates = {PartnerUserName(name),
                                         PartnerUserName(name) + "-" + short_uuid};
  std::string user_name;
  bool reuse = false;
  for (const std::string& candidate : candidates) {
    Result<storage::User> u = store.GetUser(candidate);
    if (u.status().code() == StatusCode::kNotFound) {
      user_name = candidate;
      break;
    }
    RETURN_IF_ERROR(u.status());
    if (u->role == storage::Role::kPartner && u->partner == id.id) {
      user_name = candidate;
      reuse = true;
      break;
    }
  }
  if (user_name.empty()) {
    return AlreadyExistsError("the user names " + candidates[0] + " and " + candidates[1] +
                              " are taken; choose another partner name with --name");
  }
  if (reuse) {
    ASSIGN_OR_RETURN(storage::User u, store.GetUser(user_name));
    RETURN_IF_ERROR(RevokeAllKeys(store, user_name));
    u.disabled = false;
    RETURN_IF_ERROR(store.UpdateUser(u));
  } else {
    storage::User u;
    u.name = user_name;
    u.role = storage::Role::kPartner;
    u.created = clock.NowMicros();
    u.partner = id.id;  // no password: partners authenticate with API keys only
    RETURN_IF_ERROR(store.CreateUser(u));
  }
  RETURN_IF_ERROR(SetGrant(store, self.inbox, "user:" + user_name, std::nullopt, true).status());
  ASSIGN_OR_RETURN(auth::NewApiKey key,
                   CreateUserApiKey(store, clock, user_name, "partner hub " + name));

  AddPartnerResult result;
  storage::Partner& p = result.partner;
  p.id = id.id;
  p.name = name;
  p.identity_json = id.identity_json;
  p.url = url;
  p.inbox = id.inbox;
  p.sign_key = id.sign_key;
  p.box_key = id.box_key;
  if (!options.token.empty()) p.token = self.keys.SealSecret(options.token);
  p.user = user_name;
  p.created = clock.NowMicros();
  Status created = store.CreatePartner(p);
  if (created.code() == StatusCode::kAlreadyExists) {
    (void)RevokeAllKeys(store, user_name);
    return AlreadyExistsError("partner " + p.id + " is already trusted");
  }
  RETURN_IF_ERROR(created);
  RETURN_IF_ERROR(Audit(store, clock, "partner", p.id,
                        Detail({{"action", "add"},
                                {"name", p.name},
                                {"url", p.url},
                                {"user", user_name},
                                {"fingerprint", id.fingerprint}})));
  result.user = user_name;
  result.api_token = key.token;
  return result;
}

Status SetPartnerToken(storage::Store& store, const Clock& clock,
                       const federation::HubIdentity& self, const std::string& partner_id,
                       std::string_view token) {
  RETURN_IF_ERROR(ValidateToken(token));
  ASSIGN_OR_RETURN(storage::Partner p, GetExistingPartner(store, partner_id));
  p.token = self.keys.SealSecret(token);
  RETURN_IF_ERROR(store.UpdatePartner(p));
  return Audit(store, clock, "partner", p.id, Detail({{"action", "set-token"}}));
}

Status SetPartnerUrl(storage::Store& store, const Clock& clock, const std::string& partner_id,
                     std::string_view url) {
  ASSIGN_OR_RETURN(std::string normalized, NormalizeApiRootUrl(url));
  ASSIGN_OR_RETURN(storage::Partner p, GetExistingPartner(store, partner_id));
  if (p.url == normalized) return Status::Ok();
  p.url = normalized;
  RETURN_IF_ERROR(store.UpdatePartner(p));
  return Audit(store, clock, "partner", p.id, Detail({{"action", "set-url"}, {"url", p.url}}));
}

Status SetPartnerDisabled(storage::Store& store, const Clock& clock, const std::string& partner_id,
                          bool disabled) {
  ASSIGN_OR_RETURN(storage::Partner p, GetExistingPartner(store, partner_id));
  if (!p.user.empty()) {
    Result<storage::User> u = store.GetUser(p.user);
    if (u.ok() && u->disabled != disabled) {
      u->disabled = disabled;
      RETURN_IF_ERROR(store.UpdateUser(*u));
    } else if (!u.ok() && u.status().code() != StatusCode::kNotFound) {
      return u.status();
    }
  }
  if (p.disabled == disabled) return Status::Ok();
  p.disabled = disabled;
  RETURN_IF_ERROR(store.UpdatePartner(p));
  return Audit(store, clock, "partner", p.id,
               Detail({{"action", disabled ? "disable" : "enable"}}));
}

Status RemovePartner(storage::Store& store, const Clock& clock, const std::string& partner_id) {
  ASSIGN_OR_RETURN(storage::Partner p, GetExistingPartner(store, partner_id));
  // Inbound access ends first.
  if (!p.user.empty()) {
    Result<storage::User> u = store.GetUser(p.user);
    if (u.ok()) {
      RETURN_IF_ERROR(RevokeAllKeys(store, p.user));
      if (!u->disabled) {
        u->disabled = true;
        RETURN_IF_ERROR(store.UpdateUser(*u));
      }
      ASSIGN_OR_RETURN(std::vector<storage::Collection> collections, AllCollections(store));
      std::string subject = "user:" + p.user;
      for (const storage::Collection& c : collections) {
        ASSIGN_OR_RETURN(std::vector<storage::Grant> grants, store.ListGrants(c.id));
        for (const storage::Grant& g : grants) {
          if (g.subject == subject) RETURN_IF_ERROR(store.DeleteGrant(c.id, subject));
        }
      }
    } else if (u.status().code() != StatusCode::kNotFound) {
      return u.status();
    }
  }
  RETURN_IF_ERROR(store.DeletePartner(p.id));
  return Audit(store, clock, "partner", p.id, Detail({{"action", "remove"}, {"name", p.name}}));
}

Result<auth::NewApiKey> RotatePartnerCredential(storage::Store& store, const Clock& clock,
                                                const std::string& partner_id) {
  ASSIGN_OR_RETURN(storage::Partner p, GetExistingPartner(store, partner_id));
  if (p.disabled) {
    return FailedPreconditionError("partner '" + p.name +
                                   "' is disabled; enable it first (liaison partner enable)");
  }
  if (p.user.empty()) {
    return FailedPreconditionError("partner '" + p.name + "' has no local user");
  }
  RETURN_IF_ERROR(RevokeAllKeys(store, p.user));
  ASSIGN_OR_RETURN(auth::NewApiKey key,
                   CreateUserApiKey(store, clock, p.user, "partner hub " + p.name));
  RETURN_IF_ERROR(Audit(store, clock, "partner", p.id,
                        Detail({{"action", "rotate-credential"}, {"key_id", key.record.key_id}})));
  return key;
}

Result<PartnerSummary> GetPartnerSummary(storage::Store& store, const std::string& partner_id) {
  PartnerSummary s;
  ASSIGN_OR_RETURN(s.partner, GetExistingPartner(store, partner_id));
  ASSIGN_OR_RETURN(s.channels, store.ListChannels(s.partner.id));
  ASSIGN_OR_RETURN(s.deliveries.queued,
                   CountOutbox(store, s.partner.id, storage::OutboxState::kQueued));
  ASSIGN_OR_RETURN(s.deliveries.delivered,
                   CountOutbox(store, s.partner.id, storage::OutboxState::kDelivered));
  ASSIGN_OR_RETURN(s.deliveries.failed,
                   CountOutbox(store, s.partner.id, storage::OutboxState::kFailed));
  return s;
}

Result<std::vector<PartnerSummary>> ListPartnerSummaries(storage::Store& store) {
  ASSIGN_OR_RETURN(std::vector<storage::Partner> partners, store.ListPartners());
  std::sort(partners.begin(), partners.end(),
            [](const storage::Partner& a, const storage::Partner& b) { return a.id < b.id; });
  std::vector<PartnerSummary> out;
  for (const storage::Partner& p : partners) {
    ASSIGN_OR_RETURN(PartnerSummary s, GetPartnerSummary(store, p.id));
    out.push_back(std::move(s));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Channels

Result<storage::Channel> AddChannel(storage::Store& store, const Clock& clock,
                                    const ChannelSpec& spec) {
  ASSIGN_OR_RETURN(storage::ChannelMode mode, ParseMode(spec.mode));
  ASSIGN_OR_RETURN(policy::Tlp max_tlp, ParseTlpName(spec.max_tlp));
  if (mode == storage::ChannelMode::kPull) {
    if (spec.remote_collection.empty()) {
      return InvalidArgumentError(
          "a pull channel needs --remote-collection (the partner's collection id to poll)");
    }
    RETURN_IF_ERROR(ValidateSlug("remote collection", spec.remote_collection));
    if (spec.allow_pull) {
      return InvalidArgumentError(
          "--allow-pull applies to push channels (it lets the partner pull from this hub)");
    }
  } else if (!spec.remote_collection.empty()) {
    return InvalidArgumentError(
        "--remote-collection applies to pull channels only (push goes to the partner's inbox)");
  }
  ASSIGN_OR_RETURN(storage::Partner partner, ResolvePartner(store, spec.partner));
  ASSIGN_OR_RETURN(storage::Collection collection,
                   ResolveCollection(store, spec.api_root, spec.collection));
  ASSIGN_OR_RETURN(std::vector<storage::Channel> existing, store.ListChannels(partner.id));
  for (const storage::Channel& c : existing) {
    if (c.collection_id == collection.id && c.mode == mode &&
        c.remote_collection == spec.remote_collection) {
      return AlreadyExistsError("partner '" + partner.name + "' already has a " +
                                std::string(storage::ChannelModeName(mode)) +
                                " channel on collection " + collection.id + " (channel " + c.id +
                                ")");
    }
  }
  storage::Channel channel;
  channel.id = RandomUuidV4();
  channel.partner = partner.id;
  channel.collection_id = collection.id;
  channel.mode = mode;
  channel.max_tlp = static_cast<int32_t>(max_tlp);
  channel.remote_collection = spec.remote_collection;
  channel.created = clock.NowMicros();
  Status s = store.CreateChannel(channel);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("an identical channel already exists for partner '" + partner.name +
                              "'");
  }
  RETURN_IF_ERROR(s);
  if (spec.allow_pull) {
    if (partner.user.empty()) {
      return FailedPreconditionError("partner '" + partner.name + "' has no local user to grant");
    }
    RETURN_IF_ERROR(
        SetGrant(store, collection.id, "user:" + partner.user, true, std::nullopt).status());
  }
  RETURN_IF_ERROR(Audit(store, clock, "channel", channel.id,
                        Detail({{"action", "add"},
                                {"partner", partner.id},
                                {"collection", collection.id},
                                {"mode", storage::ChannelModeName(mode)},
                                {"max_tlp", policy::TlpName(max_tlp)},
                                {"remote_collection", channel.remote_collection},
                                {"allow_pull", spec.allow_pull ? "true" : "false"}})));
  return channel;
}

Status RemoveChannel(storage::Store& store, const Clock& clock, const std::string& channel_id) {
  ASSIGN_OR_RETURN(std::vector<storage::Channel> all, store.ListChannels(""));
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const storage::Channel& c) { return c.id == channel_id; });
  if (it == all.end()) return NotFoundError("channel '" + channel_id + "' does not exist");
  storage::Channel channel = *it;
  RETURN_IF_ERROR(store.DeleteChannel(channel.id));
  if (channel.mode == storage::ChannelMode::kPush) {
    bool other_push = std::any_of(all.begin(), all.end(), [&](const storage::Channel& c) {
      return c.id != channel.id && c.partner == channel.partner &&
             c.collection_id == channel.collection_id && c.mode == storage::ChannelMode::kPush;
    });
    Result<storage::Partner> partner = store.GetPartner(channel.partner);
    if (!other_push && partner.ok() && !partner->user.empty()) {
      std::string subject = "user:" + partner->user;
      Result<std::vector<storage::Grant>> grants = store.ListGrants(channel.collection_id);
      if (grants.ok()) {
        for (storage::Grant g : *grants) {
          if (g.subject != subject || !g.can_read) continue;
          if (g.can_write) {
            g.can_read = false;
            RETURN_IF_ERROR(store.PutGrant(g));
          } else {
            RETURN_IF_ERROR(store.DeleteGrant(g.collection_id, g.subject));
          }
        }
      } else if (grants.status().code() != StatusCode::kNotFound) {
        return grants.status();
      }
    }
  }
  return Audit(store, clock, "channel", channel.id,
               Detail({{"action", "remove"},
                       {"partner", channel.partner},
                       {"collection", channel.collection_id}}));
}

// ---------------------------------------------------------------------------------------------
// Receipts, feedback, audit

Result<std::vector<storage::OutboxRow>> ListReceipts(storage::Store& store,
                                                     const ReceiptQuery& query) {
  storage::OutboxQuery q;
  q.object_id = query.object_id;
  q.after_seq = query.after_seq;
  q.limit = query.limit;
  if (!query.partner.empty()) {
    ASSIGN_OR_RETURN(storage::Partner p, ResolvePartner(store, query.partner));
    q.partner = p.id;
  }
  if (!query.state.empty()) {
    ASSIGN_OR_RETURN(q.state, ParseOutboxState(query.state));
  }
  return store.ListOutbox(q);
}

Result<std::string> BuildFeedbackObject(const FeedbackSpec& spec, int64_t now_micros) {
  if (!IsStixIdentifier(spec.object_id)) {
    return InvalidArgumentError("'" + spec.object_id +
                                "' is not a STIX identifier (type--uuid) of the object");
  }
  bool sighting;
  if (spec.outcome == "seen" || spec.outcome == "acted-on") {
    sighting = true;
  } else if (spec.outcome == "false-positive") {
    sighting = false;
  } else {
    return InvalidArgumentError("unknown outcome '" + spec.outcome +
                                "' (use seen, acted-on or false-positive)");
  }
  if (spec.note.size() > 10000) return InvalidArgumentError("the note is longer than 10000 bytes");
  if (spec.count) {
    if (!sighting) return InvalidArgumentError("--count applies to seen and acted-on only");
    // STIX 2.1 section 5.2: count is 0..999,999,999.
    if (*spec.count < 1 || *spec.count > 999999999) {
      return InvalidArgumentError("count must be between 1 and 999999999");
    }
  }
  std::string marking;
  if (!spec.tlp.empty()) {
    ASSIGN_OR_RETURN(policy::Tlp tlp, ParseTlpName(spec.tlp));
    marking = std::string(policy::TlpMarkingId(tlp));
  }
  for (const std::string& r : spec.recipients) {
    if (!IsIdentifierOfType(r, "identity")) {
      return InvalidArgumentError("recipient '" + r + "' is not an identity id (identity--uuid)");
    }
  }
  if (!spec.created_by_ref.empty() && !IsIdentifierOfType(spec.created_by_ref, "identity")) {
    return InvalidArgumentError("'" + spec.created_by_ref + "' is not an identity id");
  }

  std::string type = sighting ? "sighting" : "opinion";
  std::string ts = Timestamp(now_micros);
  JsonWriter w;
  w.BeginObject();
  w.Key("type");
  w.String(type);
  w.Key("spec_version");
  w.String("2.1");
  w.Key("id");
  w.String(type + "--" + RandomUuidV4());
  w.Key("created");
  w.String(ts);
  w.Key("modified");
  w.String(ts);
  if (!spec.created_by_ref.empty()) {
    w.Key("created_by_ref");
    w.String(spec.created_by_ref);
  }
  if (sighting) {
    // STIX 2.1 section 5.2: sighting_of_ref (required), count (optional).
    w.Key("sighting_of_ref");
    w.String(spec.object_id);
    if (spec.count) {
      w.Key("count");
      w.Int(*spec.count);
    }
  } else {
    // STIX 2.1 section 4.14: opinion (required, opinion-enum), object_refs (required),
    // explanation (optional).
    if (!spec.note.empty()) {
      w.Key("explanation");
      w.String(spec.note);
    }
    w.Key("opinion");
    w.String("strongly-disagree");
    w.Key("object_refs");
    w.BeginArray();
    w.String(spec.object_id);
    w.EndArray();
  }
  if (!marking.empty()) {
    w.Key("object_marking_refs");
    w.BeginArray();
    w.String(marking);
    w.EndArray();
  }
  if (!spec.recipients.empty()) {
    w.Key("x_liaison_recipients");
    w.BeginArray();
    for (const std::string& r : spec.recipients) w.String(r);
    w.EndArray();
  }
  w.Key("x_liaison_feedback");
  w.BeginObject();
  w.Key("outcome");
  w.String(spec.outcome);
  if (!spec.note.empty()) {
    w.Key("note");
    w.String(spec.note);
  }
  w.EndObject();
  w.EndObject();
  std::string json = std::move(w).Take();
  Result<stix::ObjectInfo> info = stix::ParseObject(json);
  if (!info.ok()) return InvalidArgumentError("feedback object: " + info.status().message());
  return json;
}

Result<std::vector<storage::AuditRecord>> ListAuditEntries(storage::Store& store, int64_t after_seq,
                                                           size_t limit, const std::string& kind) {
  std::vector<storage::AuditRecord> out;
  constexpr size_t kPage = 1000;
  while (out.size() < limit) {
    ASSIGN_OR_RETURN(std::vector<storage::AuditRecord> page, store.ListAudit(after_seq, kPage));
    for (storage::AuditRecord& r : page) {
      if (out.size() >= limit) break;
      if (kind.empty() || r.kind == kind) out.push_back(std::move(r));
    }
    if (page.size() < kPage) break;
    after_seq = page.back().seq;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Configuration files

namespace {

namespace json = boost::json;

struct PartnerEntry {
  std::string where;  // "partners[0]"
  federation::PartnerIdentity identity;
  std::string identity_text;
  std::string url;  // normalised; "" = the file's
  std::string name;
  std::optional<std::string> token;
  std::optional<bool> disabled;
};

struct ChannelEntry {
  std::string where;
  std::string partner;
  std::string collection;
  std::string api_root;
  std::string mode;
  std::string max_tlp = kDefaultChannelMaxTlp;
  std::string remote_collection;
  bool allow_pull = false;
};

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return InvalidArgumentError("cannot read '" + path + "'");
  return std::move(ss).str();
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).string();
}

Status CheckKeys(const json::object& obj, const std::string& where,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : obj) {
    std::string_view key(kv.key().data(), kv.key().size());
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return InvalidArgumentError(where + ": unknown key \"" + std::string(key) + "\"");
    }
  }
  return Status::Ok();
}

Result<std::string> GetString(const json::object& obj, const std::string& where,
                              std::string_view key, bool required) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) {
    if (required) {
      return InvalidArgumentError(where + ": \"" + std::string(key) + "\" is required");
    }
    return std::string();
  }
  if (!v->is_string()) {
    return InvalidArgumentError(where + ": \"" + std::string(key) + "\" must be a string");
  }
  return std::string(v->get_string().data(), v->get_string().size());
}

Result<std::optional<bool>> GetBool(const json::object& obj, const std::string& where,
                                    std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) {
    return InvalidArgumentError(where + ": \"" + std::string(key) + "\" must be true or false");
  }
  return std::optional<bool>(v->get_bool());
}

Result<const json::array*> GetArray(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return static_cast<const json::array*>(nullptr);
  if (!v->is_array()) return InvalidArgumentError("\"" + std::string(key) + "\" must be an array");
  return &v->get_array();
}

Result<PartnerEntry> ParsePartnerEntry(const json::value& v, const std::string& where,
                                       const std::string& base_dir) {
  if (!v.is_object()) return InvalidArgumentError(where + ": must be an object");
  const json::object& obj = v.get_object();
  RETURN_IF_ERROR(
      CheckKeys(obj, where, {"identity_file", "url", "name", "token", "token_file", "disabled"}));
  PartnerEntry e;
  e.where = where;
  ASSIGN_OR_RETURN(std::string file, GetString(obj, where, "identity_file", true));
  Result<std::string> text = ReadTextFile(ResolvePath(base_dir, file));
  if (!text.ok()) return InvalidArgumentError(where + ": " + text.status().message());
  e.identity_text = *text;
  Result<federation::PartnerIdentity> identity = federation::ParseIdentityFile(e.identity_text);
  if (!identity.ok()) {
    return InvalidArgumentError(where + ": '" + file + "': " + identity.status().message());
  }
  e.identity = *identity;
  ASSIGN_OR_RETURN(std::string url, GetString(obj, where, "url", false));
  if (!url.empty()) {
    Result<std::string> normalized = NormalizeApiRootUrl(url);
    if (!normalized.ok()) return normalized.status().WithContext(where);
    e.url = *normalized;
  }
  ASSIGN_OR_RETURN(e.name, GetString(obj, where, "name", false));
  if (!e.name.empty())
    RETURN_IF_ERROR(ValidateDisplayName("partner name", e.name).WithContext(where));
  ASSIGN_OR_RETURN(std::string token, GetString(obj, where, "token", false));
  ASSIGN_OR_RETURN(std::string token_file, GetString(obj, where, "token_file", false));
  if (!token.empty() && !token_file.empty()) {
    return InvalidArgumentError(where + ": give either \"token\" or \"token_file\"");
  }
  if (!token_file.empty()) {
    Result<std::string> t = ReadTextFile(ResolvePath(base_dir, token_file));
    if (!t.ok()) return InvalidArgumentError(where + ": " + t.status().message());
    token = *t;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  }
  if (!token.empty() || obj.contains("token") || !token_file.empty()) {
    Status s = ValidateToken(token);
    if (!s.ok()) return s.WithContext(where);
    e.token = token;
  }
  ASSIGN_OR_RETURN(e.disabled, GetBool(obj, where, "disabled"));
  return e;
}

Result<ChannelEntry> ParseChannelEntry(const json::value& v, const std::string& where) {
  if (!v.is_object()) return InvalidArgumentError(where + ": must be an object");
  const json::object& obj = v.get_object();
  RETURN_IF_ERROR(CheckKeys(
      obj, where,
      {"partner", "collection", "api_root", "mode", "max_tlp", "remote_collection", "allow_pull"}));
  ChannelEntry e;
  e.where = where;
  ASSIGN_OR_RETURN(e.partner, GetString(obj, where, "partner", true));
  ASSIGN_OR_RETURN(e.collection, GetString(obj, where, "collection", true));
  ASSIGN_OR_RETURN(e.api_root, GetString(obj, where, "api_root", false));
  ASSIGN_OR_RETURN(e.mode, GetString(obj, where, "mode", true));
  ASSIGN_OR_RETURN(std::string max_tlp, GetString(obj, where, "max_tlp", false));
  if (!max_tlp.empty()) e.max_tlp = max_tlp;
  ASSIGN_OR_RETURN(e.remote_collection, GetString(obj, where, "remote_collection", false));
  ASSIGN_OR_RETURN(std::optional<bool> allow_pull, GetBool(obj, where, "allow_pull"));
  e.allow_pull = allow_pull.value_or(false);
  // The checks AddChannel makes, done before anything changes.
  Result<storage::ChannelMode> mode = ParseMode(e.mode);
  if (!mode.ok()) return mode.status().WithContext(where);
  Result<policy::Tlp> tlp = ParseTlpName(e.max_tlp);
  if (!tlp.ok()) return tlp.status().WithContext(where);
  if (*mode == storage::ChannelMode::kPull && e.remote_collection.empty()) {
    return InvalidArgumentError(where + ": a pull channel needs \"remote_collection\"");
  }
  if (*mode == storage::ChannelMode::kPush && !e.remote_collection.empty()) {
    return InvalidArgumentError(where + ": \"remote_collection\" applies to pull channels only");
  }
  if (*mode == storage::ChannelMode::kPull && e.allow_pull) {
    return InvalidArgumentError(where + ": \"allow_pull\" applies to push channels only");
  }
  return e;
}

}  // namespace

Result<ApplyReport> ApplyConfig(storage::Store& store, const Clock& clock,
                                const federation::HubIdentity& self, std::string_view config_text,
                                const std::string& base_dir) {
  boost::system::error_code ec;
  json::value root;
  try {
    root = json::parse(config_text, ec);
  } catch (const std::exception& e) {  // bad_alloc and the like: parse reports syntax via ec
    return InvalidArgumentError(std::string("config: ") + e.what());
  }
  if (ec) return InvalidArgumentError("config is not valid JSON: " + ec.message());
  if (!root.is_object()) return InvalidArgumentError("config must be a JSON object");
  const json::object& top = root.get_object();
  RETURN_IF_ERROR(CheckKeys(top, "config", {"partners", "channels"}));
  ASSIGN_OR_RETURN(const json::array* partners_json, GetArray(top, "partners"));
  ASSIGN_OR_RETURN(const json::array* channels_json, GetArray(top, "channels"));

  // 1. Check everything.
  std::vector<PartnerEntry> partners;
  if (partners_json != nullptr) {
    std::set<std::string> seen;
    for (size_t i = 0; i < partners_json->size(); ++i) {
      std::string where = "partners[" + std::to_string(i) + "]";
      ASSIGN_OR_RETURN(PartnerEntry e, ParsePartnerEntry((*partners_json)[i], where, base_dir));
      if (e.identity.id == self.id) {
        return InvalidArgumentError(where + ": that identity file is this hub's own identity");
      }
      if (!seen.insert(e.identity.id).second) {
        return InvalidArgumentError(where + ": partner " + e.identity.id + " is listed twice");
      }
      partners.push_back(std::move(e));
    }
  }
  std::vector<ChannelEntry> channels;
  if (channels_json != nullptr) {
    ASSIGN_OR_RETURN(std::vector<storage::Partner> existing, store.ListPartners());
    for (size_t i = 0; i < channels_json->size(); ++i) {
      std::string where = "channels[" + std::to_string(i) + "]";
      ASSIGN_OR_RETURN(ChannelEntry e, ParseChannelEntry((*channels_json)[i], where));
      // The partner must exist now or be added by this file.
      bool known = false;
      std::string wanted = Lower(e.partner);
      for (const PartnerEntry& p : partners) {
        std::string name = p.name.empty() ? p.identity.name : p.name;
        if (p.identity.id == e.partner || Lower(name) == wanted) known = true;
      }
      for (const storage::Partner& p : existing) {
        if (p.id == e.partner || Lower(p.name) == wanted || p.user == e.partner) known = true;
      }
      if (!known) {
        return NotFoundError(where + ": partner '" + e.partner +
                             "' is neither trusted yet nor listed in \"partners\"");
      }
      Result<storage::Collection> c = ResolveCollection(store, e.api_root, e.collection);
      if (!c.ok()) return c.status().WithContext(where);
      channels.push_back(std::move(e));
    }
  }

  // 2. Partners.
  ApplyReport report;
  for (const PartnerEntry& e : partners) {
    Result<storage::Partner> existing = store.GetPartner(e.identity.id);
    if (existing.status().code() == StatusCode::kNotFound) {
      AddPartnerOptions options;
      options.identity_text = e.identity_text;
      options.url = e.url;
      options.name = e.name;
      options.token = e.token.value_or("");
      Result<AddPartnerResult> added = AddPartner(store, clock, self, options);
      if (!added.ok()) return added.status().WithContext(e.where);
      report.changes.push_back("partner " + added->partner.name + ": added (user " + added->user +
                               ")");
      report.new_tokens.emplace_back(added->partner.name, added->api_token);
      if (e.disabled.value_or(false)) {
        RETURN_IF_ERROR(SetPartnerDisabled(store, clock, added->partner.id, true));
        report.changes.push_back("partner " + added->partner.name + ": disabled");
      }
      continue;
    }
    RETURN_IF_ERROR(existing.status());
    storage::Partner p = *existing;
    std::vector<std::string> changed;
    std::string name = e.name.empty() ? e.identity.name : e.name;
    std::string url = e.url.empty() ? e.identity.url : e.url;
    if (p.name != name) {
      p.name = name;
      changed.push_back("name");
    }
    if (p.url != url) {
      p.url = url;
      changed.push_back("url");
    }
    if (p.inbox != e.identity.inbox) {
      p.inbox = e.identity.inbox;
      changed.push_back("inbox");
    }
    if (p.sign_key != e.identity.sign_key || p.box_key != e.identity.box_key) {
      p.sign_key = e.identity.sign_key;
      p.box_key = e.identity.box_key;
      changed.push_back("keys (fingerprint " + e.identity.fingerprint + ")");
    }
    if (p.identity_json != e.identity.identity_json) {
      p.identity_json = e.identity.identity_json;
      if (changed.empty()) changed.push_back("identity");
    }
    if (e.token) {
      Result<std::string> current =
          p.token.empty() ? Result<std::string>(std::string()) : self.keys.UnsealSecret(p.token);
      if (!current.ok() || *current != *e.token) {
        p.token = self.keys.SealSecret(*e.token);
        changed.push_back("token");
      }
    }
    if (!changed.empty()) {
      RETURN_IF_ERROR(store.UpdatePartner(p).WithContext(e.where));
      std::string what;
      for (const std::string& c : changed) what += (what.empty() ? "" : ", ") + c;
      RETURN_IF_ERROR(
          Audit(store, clock, "partner", p.id, Detail({{"action", "update"}, {"changed", what}})));
      report.changes.push_back("partner " + p.name + ": updated " + what);
    }
    if (e.disabled && *e.disabled != p.disabled) {
      RETURN_IF_ERROR(SetPartnerDisabled(store, clock, p.id, *e.disabled));
      report.changes.push_back("partner " + p.name + ": " + (*e.disabled ? "disabled" : "enabled"));
    }
  }

  // 3. Channels.
  for (const ChannelEntry& e : channels) {
    ASSIGN_OR_RETURN(storage::Partner partner, ResolvePartner(store, e.partner));
    ASSIGN_OR_RETURN(storage::Collection collection,
                     ResolveCollection(store, e.api_root, e.collection));
    ASSIGN_OR_RETURN(storage::ChannelMode mode, ParseMode(e.mode));
    ASSIGN_OR_RETURN(policy::Tlp tlp, ParseTlpName(e.max_tlp));
    ASSIGN_OR_RETURN(std::vector<storage::Channel> existing, store.ListChannels(partner.id));
    const storage::Channel* match = nullptr;
    for (const storage::Channel& c : existing) {
      if (c.collection_id == collection.id && c.mode == mode &&
          c.remote_collection == e.remote_collection) {
        match = &c;
      }
    }
    std::string label = std::string(storage::ChannelModeName(mode)) + " channel " + partner.name +
                        " / " + (collection.alias.empty() ? collection.id : collection.alias);
    if (match == nullptr) {
      ChannelSpec spec;
      spec.partner = partner.id;
      spec.collection = collection.id;
      spec.api_root = collection.api_root;
      spec.mode = e.mode;
      spec.max_tlp = e.max_tlp;
      spec.remote_collection = e.remote_collection;
      spec.allow_pull = e.allow_pull;
      Result<storage::Channel> added = AddChannel(store, clock, spec);
      if (!added.ok()) return added.status().WithContext(e.where);
      report.changes.push_back(label + ": added (" + added->id + ")");
      continue;
    }
    if (match->max_tlp != static_cast<int32_t>(tlp)) {
      // No UpdateChannel in the Store: replace it, keeping id, creation time and pull cursor.
      storage::Channel replacement = *match;
      replacement.max_tlp = static_cast<int32_t>(tlp);
      RETURN_IF_ERROR(store.DeleteChannel(match->id));
      RETURN_IF_ERROR(store.CreateChannel(replacement));
      if (!replacement.cursor.empty()) {
        RETURN_IF_ERROR(store.SetChannelCursor(replacement.id, replacement.cursor));
      }
      RETURN_IF_ERROR(Audit(store, clock, "channel", replacement.id,
                            Detail({{"action", "update"},
                                    {"max_tlp", policy::TlpName(tlp)},
                                    {"was", TlpNameOf(match->max_tlp)}})));
      report.changes.push_back(label + ": max TLP " + TlpNameOf(match->max_tlp) + " -> " +
                               std::string(policy::TlpName(tlp)));
    }
    if (e.allow_pull && !partner.user.empty()) {
      std::string subject = "user:" + partner.user;
      ASSIGN_OR_RETURN(std::vector<storage::Grant> grants, store.ListGrants(collection.id));
      bool can_read = std::any_of(grants.begin(), grants.end(), [&](const storage::Grant& g) {
        return g.subject == subject && g.can_read;
      });
      if (!can_read) {
        RETURN_IF_ERROR(SetGrant(store, collection.id, subject, true, std::nullopt).status());
        report.changes.push_back(label + ": partner may pull");
      }
    }
  }
  return report;
}

}  // namespace liaison::cli
