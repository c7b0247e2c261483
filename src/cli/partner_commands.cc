// Partnership commands (issue 4): identity, partner, channel, receipts, feedback, audit, config.
// Each opens the hub in --data DIR (and its key file DIR/hub.key when it needs the hub's keys),
// does one thing through cli/partner_admin.h, prints the result on stdout and errors as one line
// "liaison: <message>" on stderr with exit status 1 (2 for usage errors, from CLI11). Secrets
// (API keys for partners) are printed once. Safe to run while `liaison serve` runs.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "audit/chain.h"
#include "cli/command_util.h"
#include "cli/commands.h"
#include "cli/data_dir_util.h"
#include "cli/partner_admin.h"
#include "cli/publish_util.h"
#include "cli/table_util.h"
#include "common/clock.h"
#include "crypto/hub_keys.h"
#include "federation/hub_identity.h"
#include "federation/taxii_client.h"
#include "policy/tlp.h"
#include "stix/object.h"
#include "stix/timestamp.h"
#include "storage/hub_settings.h"
#include "storage/store.h"

namespace liaison::cli {

namespace {

// Runs `body` with the hub and its identity (settings + key file).
template <typename Body>
int WithIdentity(const std::string& data, const std::string& store_url, Body&& body) {
  if (data.empty()) return Fail(InvalidArgumentError("--data DIR (holding hub.key) is required"));
  return WithHub(data, store_url, [&](storage::Store& store) -> Status {
    Result<federation::HubIdentity> self = federation::LoadHubIdentity(store, HubKeyPath(data));
    if (!self.ok()) {
      if (self.status().code() == StatusCode::kFailedPrecondition) {
        return FailedPreconditionError(self.status().message() +
                                       " (create it with: liaison identity init --data " + data +
                                       ")");
      }
      return self.status();
    }
    return body(store, *self);
  });
}

Result<std::string> ReadFileText(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return InvalidArgumentError("cannot read stdin");
    return text;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return InvalidArgumentError("cannot read '" + path + "'");
  return std::move(ss).str();
}

// The token from --token, or one line of stdin with --token-stdin.
Result<std::string> ObtainToken(const std::string& token, bool from_stdin, bool required) {
  if (!token.empty() && from_stdin) {
    return InvalidArgumentError("give either --token or --token-stdin");
  }
  if (from_stdin) return ReadSecretLine("Token: ");
  if (required && token.empty()) {
    return InvalidArgumentError("give the token with --token TOKEN or --token-stdin");
  }
  return token;
}

std::string PartnerName(storage::Store& store, const std::string& id) {
  Result<storage::Partner> p = store.GetPartner(id);
  return p.ok() ? p->name : id;
}

std::string TlpText(int32_t tlp) {
  if (tlp < 0 || tlp > static_cast<int32_t>(policy::Tlp::kRed)) return std::to_string(tlp);
  return std::string(policy::TlpName(static_cast<policy::Tlp>(tlp)));
}

std::string VersionText(int64_t version) {
  return stix::FormatTimestampShortest(stix::Timestamp{version});
}

// Collapses newlines so each table row stays on one line.
std::string OneLine(std::string s, size_t max = 0) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (max > 0 && s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

// ---------------------------------------------------------------------------------------------
// identity

struct IdentityArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string org;
  std::string url;
  std::string output;
};

void RegisterIdentity(CLI::App& app, CommandContext& ctx) {
  CLI::App* identity =
      app.add_subcommand("identity", "This hub's organisation identity and signing keys");
  identity->require_subcommand(1);
  {
    auto a = std::make_shared<IdentityArgs>();
    CLI::App* cmd = identity->add_subcommand(
        "init",
        "Create the identity, keys (DIR/hub.key) and partner inbox of a hub made before "
        "partnerships existed; refused when the hub has one");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("--org", a->org, "Organisation name (default: the hub's)");
    cmd->add_option("--url", a->url, "Public API root URL partners call");
    cmd->callback([a, &ctx] {
      if (a->data.empty()) {
        ctx.exit_code = Fail(InvalidArgumentError("--data DIR (to hold hub.key) is required"));
        return;
      }
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        IdentityOptions options;
        options.org_name = a->org;
        options.url = a->url;
        ASSIGN_OR_RETURN(IdentityResult r, CreateHubIdentity(store, SystemClock::Default(),
                                                             HubKeyPath(a->data), options));
        std::cout << "identity " << r.identity_id << " created\n"
                  << "partner inbox collection: " << r.inbox_id << " (alias \"" << kInboxAlias
                  << "\")\n"
                  << "signing key: " << HubKeyPath(a->data) << " (fingerprint " << r.fingerprint
                  << ")\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<IdentityArgs>();
    CLI::App* cmd = identity->add_subcommand(
        "export",
        "Print the identity file partners need to trust this hub (identity, public keys, URL, "
        "inbox)");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("--url", a->url, "Public API root URL to put in the file (default: the hub's)");
    cmd->add_option("-o,--output", a->output, "Write to FILE instead of stdout");
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithIdentity(
          a->data, a->store, [&](storage::Store&, const federation::HubIdentity& self) -> Status {
            ASSIGN_OR_RETURN(std::string text, ExportHubIdentity(self, a->url));
            if (a->output.empty() || a->output == "-") {
              std::cout << text;
              return Status::Ok();
            }
            std::ofstream out(a->output, std::ios::binary | std::ios::trunc);
            out << text;
            out.close();
            if (!out) return FailedPreconditionError("cannot write '" + a->output + "'");
            std::cerr << "identity file written to " << a->output << "\n";
            return Status::Ok();
          });
    });
  }
  {
    auto a = std::make_shared<IdentityArgs>();
    CLI::App* cmd = identity->add_subcommand("show", "Show this hub's identity");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithIdentity(
          a->data, a->store, [&](storage::Store&, const federation::HubIdentity& self) -> Status {
            PrintTable({{"identity:", self.id},
                        {"name:", self.name},
                        {"url:", self.url.empty() ? "(not set)" : self.url},
                        {"inbox:", self.inbox},
                        {"sign key:", self.keys.sign_public_b64()},
                        {"box key:", self.keys.box_public_b64()},
                        {"fingerprint:", self.keys.fingerprint()}});
            return Status::Ok();
          });
    });
  }
  {
    auto a = std::make_shared<IdentityArgs>();
    CLI::App* cmd = identity->add_subcommand(
        "set-url", "Set the public API root URL partners call (export the identity again after)");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("URL", a->url, "https://hub.example:8443/api/")->required();
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(std::string url, SetPublicUrl(store, a->url));
        std::cout << "public URL set to " << url << "\n";
        return Status::Ok();
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// partner

struct PartnerArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string partner;
  std::string identity_file;
  std::string url;
  std::string name;
  std::string token;
  bool token_stdin = false;
};

void PrintPartner(const PartnerSummary& s) {
  const storage::Partner& p = s.partner;
  std::string fingerprint = "-";
  Result<std::string> sign_key = crypto::Base64Decode(p.sign_key);
  Result<std::string> box_key = crypto::Base64Decode(p.box_key);
  if (sign_key.ok() && box_key.ok()) fingerprint = crypto::KeyFingerprint(*sign_key, *box_key);
  PrintTable({{"partner:", p.id},
              {"name:", p.name},
              {"url:", p.url},
              {"inbox:", p.inbox},
              {"status:", p.disabled ? "disabled" : "enabled"},
              {"user:", p.user},
              {"token:", p.token.empty() ? "not set (liaison partner set-token)" : "set (sealed)"},
              {"fingerprint:", fingerprint},
              {"created:", FormatTime(p.created)},
              {"deliveries:", std::to_string(s.deliveries.queued) + " queued, " +
                                  std::to_string(s.deliveries.delivered) + " delivered, " +
                                  std::to_string(s.deliveries.failed) + " failed"}});
  if (s.channels.empty()) {
    std::cout << "channels: none (add one with: liaison channel add)\n";
    return;
  }
  std::cout << "channels:\n";
  std::vector<std::vector<std::string>> rows = {
      {"  ID", "MODE", "COLLECTION", "MAX_TLP", "REMOTE", "CURSOR"}};
  for (const storage::Channel& c : s.channels) {
    std::string collection = c.collection_id;
    rows.push_back({"  " + c.id, std::string(storage::ChannelModeName(c.mode)), collection,
                    TlpText(c.max_tlp), c.remote_collection.empty() ? "-" : c.remote_collection,
                    c.cursor.empty() ? "-" : c.cursor});
  }
  PrintTable(rows);
}

void RegisterPartner(CLI::App& app, CommandContext& ctx) {
  CLI::App* partner = app.add_subcommand("partner", "Manage trusted partner hubs");
  partner->require_subcommand(1);
  {
    auto a = std::make_shared<PartnerArgs>();
    CLI::App* cmd = partner->add_subcommand(
        "add",
        "Trust a partner hub from its identity file; prints the API key to give the partner "
        "(shown once)");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("--identity", a->identity_file,
                    "The partner's identity file (liaison identity export), or - for stdin")
        ->required();
    cmd->add_option("--url", a->url, "The partner's API root URL (default: the file's)");
    cmd->add_option("--name", a->name, "Name for the partner (default: its organisation name)");
    cmd->add_option("--token", a->token, "The API key the partner gave this hub");
    cmd->add_flag("--token-stdin", a->token_stdin, "Read that API key (one line) from stdin");
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithIdentity(
          a->data, a->store,
          [&](storage::Store& store, const federation::HubIdentity& self) -> Status {
            if (a->token_stdin && a->identity_file == "-") {
              return InvalidArgumentError("--identity cannot be '-' with --token-stdin");
            }
            AddPartnerOptions options;
            ASSIGN_OR_RETURN(options.identity_text, ReadFileText(a->identity_file));
            options.url = a->url;
            options.name = a->name;
            ASSIGN_OR_RETURN(options.token, ObtainToken(a->token, a->token_stdin, false));
            ASSIGN_OR_RETURN(AddPartnerResult r,
                             AddPartner(store, SystemClock::Default(), self, options));
            std::cout << "partner '" << r.partner.name << "' (" << r.partner.id << ") added; it "
                      << "authenticates as user '" << r.user << "'\n"
                      << "give this token to " << r.partner.name << ": " << r.api_token << "\n";
            if (r.partner.token.empty()) {
              std::cout << "(then store the token " << r.partner.name
                        << " gives you with: liaison partner set-token --data " << a->data << " "
                        << r.user << " --token-stdin)\n";
            }
            return Status::Ok();
          });
    });
  }
  {
    auto a = std::make_shared<PartnerArgs>();
    CLI::App* cmd = partner->add_subcommand(
        "set-token", "Store the API key this hub presents to the partner (sealed at rest)");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("PARTNER", a->partner, "Partner id, name or user")->required();
    cmd->add_option("--token", a->token, "The API key the partner gave this hub");
    cmd->add_flag("--token-stdin", a->token_stdin, "Read it (one line) from stdin");
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithIdentity(
          a->data, a->store,
          [&](storage::Store& store, const federation::HubIdentity& self) -> Status {
            ASSIGN_OR_RETURN(storage::Partner p, ResolvePartner(store, a->partner));
            ASSIGN_OR_RETURN(std::string token, ObtainToken(a->token, a->token_stdin, true));
            RETURN_IF_ERROR(SetPartnerToken(store, SystemClock::Default(), self, p.id, token));
            std::cout << "token for partner '" << p.name << "' stored\n";
            return Status::Ok();
          });
    });
  }
  {
    auto a = std::make_shared<PartnerArgs>();
    CLI::App* cmd = partner->add_subcommand("set-url", "Change a partner's API root URL");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("PARTNER", a->partner, "Partner id, name or user")->required();
    cmd->add_option("URL", a->url, "The partner's API root URL")->required();
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Partner p, ResolvePartner(store, a->partner));
        RETURN_IF_ERROR(SetPartnerUrl(store, SystemClock::Default(), p.id, a->url));
        std::cout << "URL of partner '" << p.name << "' set\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<PartnerArgs>();
    CLI::App* cmd = partner->add_subcommand("list", "List partners with channels and deliveries");
    AddDataOption(cmd, a->data, a->store);
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(std::vector<PartnerSummary> all, ListPartnerSummaries(store));
        std::vector<std::vector<std::string>> rows = {
            {"ID", "NAME", "URL", "DISABLED", "CHANNELS", "QUEUED", "DELIVERED", "FAILED"}};
        for (const PartnerSummary& s : all) {
          rows.push_back(
              {s.partner.id, s.partner.name, s.partner.url, s.partner.disabled ? "yes" : "no",
               std::to_string(s.channels.size()), std::to_string(s.deliveries.queued),
               std::to_string(s.deliveries.delivered), std::to_string(s.deliveries.failed)});
        }
        PrintTable(rows);
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<PartnerArgs>();
    CLI::App* cmd = partner->add_subcommand("show", "Show one partner");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("PARTNER", a->partner, "Partner id, name or user")->required();
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Partner p, ResolvePartner(store, a->partner));
        ASSIGN_OR_RETURN(PartnerSummary s, GetPartnerSummary(store, p.id));
        PrintPartner(s);
        return Status::Ok();
      });
    });
  }
  for (bool disable : {true, false}) {
    auto a = std::make_shared<PartnerArgs>();
    CLI::App* cmd = partner->add_subcommand(
        disable ? "disable" : "enable",
        disable ? "Stop all exchange with a partner (pushes, pulls, its inbound calls)"
                : "Resume exchange with a disabled partner");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("PARTNER", a->partner, "Partner id, name or user")->required();
    cmd->callback([a, disable, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Partner p, ResolvePartner(store, a->partner));
        RETURN_IF_ERROR(SetPartnerDisabled(store, SystemClock::Default(), p.id, disable));
        std::cout << "partner '" << p.name << "' " << (disable ? "disabled" : "enabled") << "\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<PartnerArgs>();
    CLI::App* cmd = partner->add_subcommand(
        "remove",
        "Stop trusting a partner: deletes its channels and queued deliveries, revokes its keys "
        "(receipts stay)");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("PARTNER", a->partner, "Partner id, name or user")->required();
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Partner p, ResolvePartner(store, a->partner));
        RETURN_IF_ERROR(RemovePartner(store, SystemClock::Default(), p.id));
        std::cout << "partner '" << p.name << "' removed\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<PartnerArgs>();
    CLI::App* cmd = partner->add_subcommand(
        "rotate-credential",
        "Revoke the partner's API keys and print a new one to give it (shown once)");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("PARTNER", a->partner, "Partner id, name or user")->required();
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Partner p, ResolvePartner(store, a->partner));
        ASSIGN_OR_RETURN(auth::NewApiKey key,
                         RotatePartnerCredential(store, SystemClock::Default(), p.id));
        std::cout << "old keys of partner '" << p.name << "' revoked\n"
                  << "give this token to " << p.name << ": " << key.token << "\n";
        return Status::Ok();
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// channel

struct ChannelArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  ChannelSpec spec;
  std::string partner;
  std::string id;
};

void RegisterChannel(CLI::App& app, CommandContext& ctx) {
  CLI::App* channel =
      app.add_subcommand("channel", "Manage what flows to and from partners (push or pull)");
  channel->require_subcommand(1);
  {
    auto a = std::make_shared<ChannelArgs>();
    CLI::App* cmd = channel->add_subcommand(
        "add",
        "Add a channel: push sends what is added to COLLECTION to the partner (up to --max-tlp); "
        "pull polls the partner's --remote-collection into COLLECTION");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("--partner", a->spec.partner, "Partner id, name or user")->required();
    cmd->add_option("--collection", a->spec.collection, "Local collection id or alias")->required();
    cmd->add_option("--api-root", a->spec.api_root, "API root (default: search all)");
    cmd->add_option("--mode", a->spec.mode, "push | pull")
        ->required()
        ->check(CLI::IsMember({"push", "pull"}));
    cmd->add_option("--max-tlp", a->spec.max_tlp,
                    "Highest TLP that may flow: clear, green, amber, amber+strict, red")
        ->capture_default_str();
    cmd->add_option("--remote-collection", a->spec.remote_collection,
                    "Pull: the partner's collection id to poll");
    cmd->add_flag("--allow-pull", a->spec.allow_pull,
                  "Push: also let the partner pull (read) COLLECTION from this hub");
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(storage::Channel c, AddChannel(store, SystemClock::Default(), a->spec));
        std::cout << c.id << "\n";
        std::cerr << storage::ChannelModeName(c.mode) << " channel to partner '"
                  << PartnerName(store, c.partner) << "' on collection " << c.collection_id
                  << " (max " << TlpText(c.max_tlp) << ") added\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<ChannelArgs>();
    CLI::App* cmd = channel->add_subcommand("list", "List channels");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("--partner", a->partner, "Only this partner's (id, name or user)");
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        std::string partner_id;
        if (!a->partner.empty()) {
          ASSIGN_OR_RETURN(storage::Partner p, ResolvePartner(store, a->partner));
          partner_id = p.id;
        }
        ASSIGN_OR_RETURN(std::vector<storage::Channel> channels, store.ListChannels(partner_id));
        std::vector<std::vector<std::string>> rows = {
            {"ID", "PARTNER", "MODE", "COLLECTION", "MAX_TLP", "REMOTE", "CURSOR"}};
        for (const storage::Channel& c : channels) {
          rows.push_back({c.id, PartnerName(store, c.partner),
                          std::string(storage::ChannelModeName(c.mode)), c.collection_id,
                          TlpText(c.max_tlp),
                          c.remote_collection.empty() ? "-" : c.remote_collection,
                          c.cursor.empty() ? "-" : c.cursor});
        }
        PrintTable(rows);
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<ChannelArgs>();
    CLI::App* cmd = channel->add_subcommand(
        "remove", "Remove a channel (queued deliveries stay queued until the partner is removed)");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("ID", a->id, "Channel id")->required();
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        RETURN_IF_ERROR(RemoveChannel(store, SystemClock::Default(), a->id));
        std::cout << "channel " << a->id << " removed\n";
        return Status::Ok();
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// receipts, feedback

struct ReceiptArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  ReceiptQuery query;
};

void RegisterReceipts(CLI::App& app, CommandContext& ctx) {
  auto a = std::make_shared<ReceiptArgs>();
  CLI::App* cmd = app.add_subcommand(
      "receipts", "Delivery receipts: per object and partner, queued / delivered / failed");
  AddDataOption(cmd, a->data, a->store);
  cmd->add_option("--object", a->query.object_id, "Only this object id");
  cmd->add_option("--partner", a->query.partner, "Only this partner (id, name or user)");
  cmd->add_option("--state", a->query.state, "queued | delivered | failed")
      ->check(CLI::IsMember({"queued", "delivered", "failed"}));
  cmd->add_option("--after", a->query.after_seq, "Only rows after this sequence number");
  cmd->add_option("--limit", a->query.limit, "At most this many rows")->capture_default_str();
  cmd->callback([a, &ctx] {
    ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
      ASSIGN_OR_RETURN(std::vector<storage::OutboxRow> rows, ListReceipts(store, a->query));
      std::vector<std::vector<std::string>> table = {
          {"SEQ", "OBJECT", "VERSION", "PARTNER", "STATE", "ATTEMPTS", "DELIVERED", "ERROR"}};
      for (const storage::OutboxRow& r : rows) {
        table.push_back({std::to_string(r.seq), r.object_id, VersionText(r.version),
                         PartnerName(store, r.partner),
                         std::string(storage::OutboxStateName(r.state)), std::to_string(r.attempts),
                         FormatTime(r.delivered_at),
                         r.error.empty() ? "-" : OneLine(r.error, 120)});
      }
      PrintTable(table);
      return Status::Ok();
    });
  });
}

struct FeedbackArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string object;
  // send
  std::string url;
  std::string collection;
  std::string user;
  bool password_stdin = false;
  bool api_key_stdin = false;
  bool insecure = false;
  std::string ca_file;
  double timeout_seconds = 60;
  FeedbackSpec spec;
  int64_t count = 0;
  bool print_only = false;
};

int RunFeedbackSend(const FeedbackArgs& args) {
  FeedbackSpec spec = args.spec;
  spec.object_id = args.object;
  if (args.count != 0) spec.count = args.count;
  Result<std::string> json = BuildFeedbackObject(spec, SystemClock::Default().NowMicros());
  if (!json.ok()) return Fail(json.status());
  if (args.print_only) {
    std::cout << *json << "\n";
    return 0;
  }
  if (args.url.empty() || args.collection.empty()) {
    return Fail(InvalidArgumentError("--url and --collection are required (or use --print)"));
  }
  if (args.api_key_stdin == (args.password_stdin || !args.user.empty())) {
    return Fail(InvalidArgumentError(
        "authenticate with either --user NAME --password-stdin, or --api-key-stdin"));
  }
  if (!args.user.empty() != args.password_stdin) {
    return Fail(InvalidArgumentError("--user and --password-stdin go together"));
  }
  federation::TaxiiClientOptions options;
  if (args.password_stdin) {
    Result<std::string> pw = ReadSecretLine("Password for " + args.user + ": ");
    if (!pw.ok()) return Fail(pw.status().WithContext("password"));
    options.credentials = federation::Credentials::Basic(args.user, *pw);
  } else {
    Result<std::string> key = ReadSecretLine("API key: ");
    if (!key.ok()) return Fail(key.status().WithContext("API key"));
    options.credentials = federation::Credentials::Bearer(*key);
  }
  options.insecure = args.insecure;
  options.ca_file = args.ca_file;
  if (args.timeout_seconds <= 0) return Fail(InvalidArgumentError("--timeout must be positive"));
  options.request_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(args.timeout_seconds * 1000));
  options.connect_timeout = std::min(options.request_timeout, std::chrono::milliseconds(10'000));
  Result<std::unique_ptr<federation::TaxiiClient>> client =
      federation::TaxiiClient::Create(args.url, options);
  if (!client.ok()) return Fail(client.status());
  Result<federation::TaxiiClient::ResolvedApiRoot> root = (*client)->ResolveApiRoot(args.url);
  if (!root.ok()) return Fail(root.status());

  Result<stix::ObjectInfo> info = stix::ParseObject(*json);
  if (!info.ok()) return Fail(info.status());
  std::optional<stix::Timestamp> version = info->version();
  std::vector<PublishObject> objects = {
      {info->id, version ? stix::FormatTimestampShortest(*version) : "", *json}};
  PublishOptions publish;
  publish.collection_id = args.collection;
  PublishReport report =
      PublishObjects(**client, root->url, root->info.max_content_length, objects, publish);
  if (!report.error.ok()) return Fail(report.error);
  for (const PublishFailure& f : report.failures) {
    return Fail(InvalidArgumentError("the hub refused the feedback: " + f.message));
  }
  if (report.pending > 0) {
    return Fail(DeadlineExceededError("the hub did not finish storing the feedback in time"));
  }
  std::cout << info->id << "\n";
  std::cerr << "feedback '" << spec.outcome << "' about " << spec.object_id << " sent\n";
  return 0;
}

void RegisterFeedback(CLI::App& app, CommandContext& ctx) {
  CLI::App* feedback = app.add_subcommand(
      "feedback", "Feedback on shared objects: list what partners reported, send your own");
  feedback->require_subcommand(1);
  {
    auto a = std::make_shared<FeedbackArgs>();
    CLI::App* cmd = feedback->add_subcommand(
        "list", "Feedback received about objects this hub published (seen, acted on, ...)");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("--object", a->object, "Only feedback about this object id");
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(std::vector<storage::FeedbackRecord> records,
                         store.ListFeedback(a->object));
        std::vector<std::vector<std::string>> rows = {
            {"RECEIVED", "OBJECT", "FROM", "OUTCOME", "COUNT", "FEEDBACK", "NOTE"}};
        for (const storage::FeedbackRecord& f : records) {
          rows.push_back({FormatTime(f.received), f.about_id, PartnerName(store, f.from), f.outcome,
                          f.count > 0 ? std::to_string(f.count) : "-", f.feedback_id,
                          f.note.empty() ? "-" : OneLine(f.note, 200)});
        }
        PrintTable(rows);
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<FeedbackArgs>();
    CLI::App* cmd = feedback->add_subcommand(
        "send",
        "Send feedback about an object to a hub over TAXII (a sighting, or an opinion for "
        "false-positive); the hub routes it back to the object's originator. Prints its id");
    cmd->add_option("--url", a->url, "API root URL of your hub (http://127.0.0.1:8080/api/)");
    cmd->add_option("--collection", a->collection, "Collection id to add the feedback to");
    cmd->add_option("--object", a->object, "The object the feedback is about")->required();
    cmd->add_option("--outcome", a->spec.outcome, "seen | acted-on | false-positive")
        ->required()
        ->check(CLI::IsMember({"seen", "acted-on", "false-positive"}));
    cmd->add_option("--note", a->spec.note, "Free text, e.g. \"seven suspects detained\"");
    cmd->add_option("--count", a->count, "Sightings: how many times it was seen");
    cmd->add_option("--tlp", a->spec.tlp, "Mark the feedback with this TLP level");
    cmd->add_option("--recipient", a->spec.recipients,
                    "Name a recipient organisation (identity id; repeatable)");
    cmd->add_option("--created-by", a->spec.created_by_ref, "Identity id of the author");
    cmd->add_option("--user", a->user, "User name for HTTP Basic authentication");
    cmd->add_flag("--password-stdin", a->password_stdin, "Read the password (one line) from stdin");
    cmd->add_flag("--api-key-stdin", a->api_key_stdin, "Read an API key (one line) from stdin");
    cmd->add_flag("--insecure", a->insecure, "Do not verify the server's TLS certificate");
    cmd->add_option("--ca-file", a->ca_file, "PEM file of CA certificates to trust for https")
        ->check(CLI::ExistingFile);
    cmd->add_option("--timeout", a->timeout_seconds, "Seconds to wait for each response")
        ->capture_default_str();
    cmd->add_flag("--print", a->print_only, "Only print the STIX object; send nothing");
    cmd->callback([a, &ctx] { ctx.exit_code = RunFeedbackSend(*a); });
  }
}

// ---------------------------------------------------------------------------------------------
// audit, config

struct AuditArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string expect_head;
  int64_t after = 0;
  size_t limit = 100;
  std::string kind;
};

void RegisterAudit(CLI::App& app, CommandContext& ctx) {
  CLI::App* audit_cmd = app.add_subcommand("audit", "The hash-chained audit log");
  audit_cmd->require_subcommand(1);
  {
    auto a = std::make_shared<AuditArgs>();
    CLI::App* cmd = audit_cmd->add_subcommand(
        "verify",
        "Check every entry's hash and link; exit 1 naming the first altered or missing entry");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("--expect-head", a->expect_head,
                    "SEQ:HASH printed by an earlier verify: must still be in the chain (detects "
                    "removal of the newest entries)");
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(audit::VerifyReport r, audit::VerifyChain(store, a->expect_head));
        std::cout << "audit chain OK: " << r.entries << " entries, head " << r.last_seq << ":"
                  << r.last_hash << "\n";
        return Status::Ok();
      });
    });
  }
  {
    auto a = std::make_shared<AuditArgs>();
    CLI::App* cmd = audit_cmd->add_subcommand("list", "List audit entries, oldest first");
    AddDataOption(cmd, a->data, a->store);
    cmd->add_option("--after", a->after, "Only entries after this sequence number");
    cmd->add_option("--limit", a->limit, "At most this many entries")->capture_default_str();
    cmd->add_option("--kind", a->kind,
                    "Only this kind: publish, receive, reject, deliver, delivery-failed, "
                    "feedback, read-red, auth-failure, partner, channel, identity");
    cmd->callback([a, &ctx] {
      ctx.exit_code = WithHub(a->data, a->store, [&](storage::Store& store) -> Status {
        ASSIGN_OR_RETURN(std::vector<storage::AuditRecord> entries,
                         ListAuditEntries(store, a->after, a->limit, a->kind));
        std::vector<std::vector<std::string>> rows = {
            {"SEQ", "TIME", "KIND", "ACTOR", "SUBJECT", "DETAIL"}};
        for (const storage::AuditRecord& e : entries) {
          rows.push_back({std::to_string(e.seq), FormatTime(e.time), e.kind, e.actor,
                          e.subject.empty() ? "-" : e.subject,
                          e.detail.empty() ? "-" : OneLine(e.detail, 300)});
        }
        PrintTable(rows);
        return Status::Ok();
      });
    });
  }
}

struct ConfigArgs {
  std::string data;
  std::string store;  // --store URL ("": SQLite in --data)
  std::string file;
};

void RegisterConfig(CLI::App& app, CommandContext& ctx) {
  CLI::App* config = app.add_subcommand("config", "Declarative partner set-up");
  config->require_subcommand(1);
  auto a = std::make_shared<ConfigArgs>();
  CLI::App* cmd = config->add_subcommand(
      "apply",
      "Apply a JSON file of partners and channels (see README, 'Partners'); idempotent: "
      "re-applying changes nothing");
  AddDataOption(cmd, a->data, a->store);
  cmd->add_option("FILE", a->file, "The configuration file")->required();
  cmd->callback([a, &ctx] {
    ctx.exit_code = WithIdentity(
        a->data, a->store,
        [&](storage::Store& store, const federation::HubIdentity& self) -> Status {
          ASSIGN_OR_RETURN(std::string text, ReadFileText(a->file));
          std::string base_dir = std::filesystem::path(a->file).parent_path().string();
          ASSIGN_OR_RETURN(ApplyReport report,
                           ApplyConfig(store, SystemClock::Default(), self, text, base_dir));
          for (const std::string& line : report.changes) std::cout << line << "\n";
          for (const auto& [name, token] : report.new_tokens) {
            std::cout << "give this token to " << name << ": " << token << "\n";
          }
          if (report.changes.empty()) std::cout << "nothing to change\n";
          return Status::Ok();
        });
  });
}

}  // namespace

void RegisterPartnerCommands(CLI::App& app, CommandContext& ctx) {
  RegisterIdentity(app, ctx);
  RegisterPartner(app, ctx);
  RegisterChannel(app, ctx);
  RegisterReceipts(app, ctx);
  RegisterFeedback(app, ctx);
  RegisterAudit(app, ctx);
  RegisterConfig(app, ctx);
}

}  // namespace liaison::cli
