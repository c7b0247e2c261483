#pragma once

// Partnership administration (issue 4): what `liaison identity`, `partner`, `channel`,
// `receipts`, `feedback`, `audit` and `config apply` do, as functions over the Store interface so
// they are unit-tested and reusable (e2e fixtures, scripts). The commands in partner_commands.cc
// only parse flags, call these and print.
//
//   ASSIGN_OR_RETURN(IdentityResult id, CreateHubIdentity(store, clock, HubKeyPath(dir),
//                                                         {.org_name = "Agency A"}));
//   ASSIGN_OR_RETURN(federation::HubIdentity self, federation::LoadHubIdentity(store, key_path));
//   ASSIGN_OR_RETURN(AddPartnerResult p, AddPartner(store, clock, self, {.identity_text = text}));
//   std::cout << "give this token to " << p.partner.name << ": " << p.api_token << "\n";
//   ASSIGN_OR_RETURN(storage::Channel c, AddChannel(store, clock, {.partner = p.partner.id,
//                                                                  .collection = "default",
//                                                                  .mode = "push"}));
//
// Errors: kInvalidArgument for malformed input (bad identity file, URL, TLP name, mode, option
// combination; the message names the problem), kNotFound for unknown partners, collections and
// channels, kAlreadyExists for duplicates (partner already trusted, identical channel, identity
// already created), kFailedPrecondition when the hub lacks something the operation needs (no
// identity, no public URL); store and crypto errors pass through.
//
// Administrative changes (partners, channels, credentials) are appended to the audit chain with
// kind "partner" or "channel" and actor "cli".
//
// Thread-safe as far as the Store is; the functions keep no state. Nothing here blocks except on
// the store (and the key file in CreateHubIdentity).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/api_key.h"
#include "cli/hub_admin.h"
#include "common/clock.h"
#include "common/status.h"
#include "federation/hub_identity.h"
#include "storage/store.h"

namespace liaison::cli {

// The collection partners push into, created by `init` / `identity init`.
inline constexpr char kInboxAlias[] = "inbox";
inline constexpr char kInboxTitle[] = "Partner inbox";
// Prefix of the local user a partner hub authenticates as.
inline constexpr char kPartnerUserPrefix[] = "partner-";
// Default highest TLP level of a new channel (named-recipient levels still need the publisher to
// name the partner; RED must be allowed explicitly).
inline constexpr char kDefaultChannelMaxTlp[] = "amber+strict";
// The audit actor of changes made here.
inline constexpr char kCliAuditActor[] = "cli";

// DIR/hub.key (crypto::kHubKeyFile).
std::string HubKeyPath(std::string_view data_dir);

// A public API root URL: http:// or https://, a host, no query or fragment, at most 2000
// characters. Returns it with a trailing '/' added when missing. kInvalidArgument otherwise.
Result<std::string> NormalizeApiRootUrl(std::string_view url);

// ---------------------------------------------------------------------------------------------
// The hub's own identity

struct IdentityOptions {
  std::string org_name;  // empty: the hub.org_name setting
  std::string url;       // public API root URL; may be empty (set later with SetPublicUrl)
  std::string api_root = kDefaultApiRoot;  // where the inbox collection is created
};

struct IdentityResult {
  std::string identity_id;  // "identity--<uuid>"
  std::string inbox_id;     // the inbox collection's id
  std::string fingerprint;  // of the public keys (HubKeys::fingerprint), for out-of-band checks
};

// Creates the hub's organisation identity: the key file `key_file` (crypto::HubKeys::Generate +
// Save, mode 0600; an existing key file is loaded and kept, so an interrupted run can be
// repeated), the STIX identity (identity_class "organization", name org_name), the inbox
// collection (alias "inbox", title "Partner inbox", read for the hub's own roles, written only by
// partners through user grants; an existing "inbox" collection is reused) and the settings
// hub.identity_id, hub.identity, hub.inbox, hub.url (storage/hub_settings.h). hub.identity_id is
// written last: its presence says the identity is complete.
// kAlreadyExists when the hub already has an identity; kInvalidArgument for a bad URL or name.
Result<IdentityResult> CreateHubIdentity(storage::Store& store, const Clock& clock,
                                         const std::string& key_file,
                                         const IdentityOptions& options);

// Sets hub.url (NormalizeApiRootUrl). Returns the stored form.
Result<std::string> SetPublicUrl(storage::Store& store, std::string_view url);

// The identity file for partners (federation::ExportIdentity). `url_override`, when not empty,
// replaces the stored URL in this export only. kFailedPrecondition when the result would have no
// URL (partners could not reach the hub).
Result<std::string> ExportHubIdentity(const federation::HubIdentity& self,
                                      std::string_view url_override);

// ---------------------------------------------------------------------------------------------
// Partners

struct AddPartnerOptions {
  std::string identity_text;  // contents of the partner's identity file
  std::string url;            // overrides the file's URL when not empty
  std::string name;           // overrides the identity's name when not empty
  std::string token;          // credential this hub presents to the partner (optional)
};

struct AddPartnerResult {
  storage::Partner partner;  // as stored (token sealed)
  std::string user;          // the local user the partner authenticates as
  std::string api_token;     // that user's new API key: give it to the partner once
};

// Trusts a partner hub: stores the Partner (its token sealed with self.keys.SealSecret), creates
// or re-enables the local user "partner-<short name>" (Role::kPartner, User::partner = its id, no
// password), an API key for it, and a write grant for it on this hub's inbox. kInvalidArgument for
// a bad identity file (message starts "identity file: ") or this hub's own identity;
// kAlreadyExists when the partner is already trusted.
Result<AddPartnerResult> AddPartner(storage::Store& store, const Clock& clock,
                                    const federation::HubIdentity& self,
                                    const AddPartnerOptions& options);

// Finds a partner by identity id, by name (case-insensitive) or by its user's name. kNotFound
// when none matches; kInvalidArgument when a name matches several.
Result<storage::Partner> ResolvePartner(storage::Store& store, std::string_view id_or_name);

// The local user name for a partner name: "partner-" + lowercase letters and digits of the name,
// other runs of characters as '-', at most 48 characters after the prefix ("partner-hub" when the
// name has no letters or digits).
std::string PartnerUserName(std::string_view partner_name);

// Stores the token this hub presents to the partner, sealed. kInvalidArgument for an empty token,
// one longer than 4096 bytes or with whitespace or control characters.
Status SetPartnerToken(storage::Store& store, const Clock& clock,
                       const federation::HubIdentity& self, const std::string& partner_id,
                       std::string_view token);

// Updates the partner's URL (NormalizeApiRootUrl).
Status SetPartnerUrl(storage::Store& store, const Clock& clock, const std::string& partner_id,
                     std::string_view url);

// Disables or enables the partner (no pushes, pulls or inbound calls) and its local user.
Status SetPartnerDisabled(storage::Store& store, const Clock& clock, const std::string& partner_id,
                          bool disabled);

// Removes the partner: its channels and queued deliveries (Store::DeletePartner; receipts of
// delivered and failed rows stay), disables its user, revokes the user's API keys and deletes the
// user's grants. The user itself stays (users are never deleted, so audit entries keep meaning).
Status RemovePartner(storage::Store& store, const Clock& clock, const std::string& partner_id);

// Revokes every API key of the partner's user and creates a new one (returned once).
Result<auth::NewApiKey> RotatePartnerCredential(storage::Store& store, const Clock& clock,
                                                const std::string& partner_id);

struct DeliveryCounts {
  int64_t queued = 0;
  int64_t delivered = 0;
  int64_t failed = 0;
};

struct PartnerSummary {
  storage::Partner partner;
  std::vector<storage::Channel> channels;
  DeliveryCounts deliveries;
};

// Every partner (by id) with its channels and outbox counts.
Result<std::vector<PartnerSummary>> ListPartnerSummaries(storage::Store& store);
Result<PartnerSummary> GetPartnerSummary(storage::Store& store, const std::string& partner_id);

// ---------------------------------------------------------------------------------------------
// Channels

struct ChannelSpec {
  std::string partner;                          // id or name (ResolvePartner)
  std::string collection;                       // local collection id or alias
  std::string api_root;                         // "" = search every API root
  std::string mode;                             // "push" | "pull"
  std::string max_tlp = kDefaultChannelMaxTlp;  // policy::ParseTlp names
  std::string remote_collection;                // pull: the partner's collection id (required)
  // Push only: also let the partner pull (read) the collection: a read grant for its user.
  bool allow_pull = false;
};

// Creates a channel. kInvalidArgument for a bad mode or TLP, a pull channel without
// remote_collection, a push channel with one, allow_pull on a pull channel; kNotFound for an
// unknown partner or collection; kAlreadyExists for an identical channel.
Result<storage::Channel> AddChannel(storage::Store& store, const Clock& clock,
                                    const ChannelSpec& spec);

// Deletes a channel. When it was the partner's last push channel on its collection, the read
// grant of the partner's user there (--allow-pull) is removed too (write access is kept).
Status RemoveChannel(storage::Store& store, const Clock& clock, const std::string& channel_id);

// ---------------------------------------------------------------------------------------------
// Receipts, feedback, audit

struct ReceiptQuery {
  std::string object_id;  // "" = every object
  std::string partner;    // id or name; "" = every partner
  std::string state;      // "queued" | "delivered" | "failed" | "" = any
  int64_t after_seq = 0;
  size_t limit = 1000;
};
Result<std::vector<storage::OutboxRow>> ListReceipts(storage::Store& store,
                                                     const ReceiptQuery& query);

// Feedback objects a partner hub sends about one of our objects.
struct FeedbackSpec {
  std::string object_id;                // the object the feedback is about ("type--uuid")
  std::string outcome;                  // "seen" | "acted-on" | "false-positive"
  std::string note;                     // optional free text (at most 10,000 bytes)
  std::optional<int64_t> count;         // sightings: how many times seen (>= 1)
  std::string tlp;                      // optional TLP marking (policy::ParseTlp)
  std::vector<std::string> recipients;  // x_liaison_recipients (identity ids)
  std::string created_by_ref;           // optional identity id of the author
};

// Builds the STIX object for `spec` at time `now_micros`: a sighting (sighting_of_ref, count when
// given) for "seen" and "acted-on", an opinion ("strongly-disagree", object_refs, explanation =
// note) for "false-positive"; both carry "x_liaison_feedback": {"outcome", "note"}. The result is
// minified JSON that stix::ParseObject accepts. kInvalidArgument for a bad spec.
Result<std::string> BuildFeedbackObject(const FeedbackSpec& spec, int64_t now_micros);

// Audit entries with seq > after_seq, in order; with `kind` set only those of that kind; at most
// `limit` of them (paging through the chain as needed).
Result<std::vector<storage::AuditRecord>> ListAuditEntries(storage::Store& store, int64_t after_seq,
                                                           size_t limit, const std::string& kind);

// ---------------------------------------------------------------------------------------------
// Configuration files (`liaison config apply`)
//
//   {"partners": [{"identity_file": "b.identity.json",   required; relative to the config file
//                  "url": "https://b.example/api/",       optional: overrides the file's URL
//                  "name": "Agency B",                    optional: overrides the identity's name
//                  "token": "lsk_...",                    optional: what we present to B
//                  "token_file": "b.token",               optional, instead of "token"
//                  "disabled": false}],                   optional
//    "channels": [{"partner": "Agency B",                 id or name
//                  "collection": "default",               local id or alias
//                  "api_root": "api",                     optional
//                  "mode": "push",                        "push" | "pull"
//                  "max_tlp": "amber+strict",             optional (default amber+strict)
//                  "remote_collection": "<id>",           pull only
//                  "allow_pull": true}]}                  push only, optional
//
// Applied idempotently: partners are matched by identity id, channels by (partner, collection,
// mode, remote_collection); what matches and is equal is left alone, what differs is updated (a
// channel's max_tlp is changed keeping its id and cursor), what is missing is created. Nothing is
// ever removed. The whole file is checked before anything changes (unknown keys are errors).

struct ApplyReport {
  std::vector<std::string> changes;  // one line per change, e.g. "partner Agency B: added"
  // Partners added: (name, API token to give them).
  std::vector<std::pair<std::string, std::string>> new_tokens;
};

// `base_dir` resolves relative file names in the config.
Result<ApplyReport> ApplyConfig(storage::Store& store, const Clock& clock,
                                const federation::HubIdentity& self, std::string_view config_text,
                                const std::string& base_dir);

}  // namespace liaison::cli
