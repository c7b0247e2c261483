#include "server/server.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>

#include <spdlog/sinks/stdout_color_sinks.h>

#include "auth/api_key.h"
#include "auth/authenticator.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/notifier.h"
#include "crypto/hub_keys.h"
#include "federation/hub_identity.h"
#include "federation/sharing.h"
#include "http/liaison_api.h"
#include "http/router.h"
#include "http/server.h"
#include "server/local_sharing.h"
#include "server/store_url.h"
#include "storage/hub_settings.h"
#include "taxii/service.h"

namespace liaison::server {
namespace {

using storage::kCreatedSetting;
using storage::kHubDbFile;
using storage::kOrgNameSetting;
constexpr uint64_t kDefaultBodyCap = 100ull * 1024 * 1024;
constexpr uint64_t kMaxBodyCap = 1024ull * 1024 * 1024;

Status NoHub(const std::string& data_dir) {
  return NotFoundError("no hub in " + data_dir + ": run `liaison init --data " + data_dir +
                       "` first");
}

Status CheckLogLevel(const std::string& level) {
  if (level.empty() || level == "debug" || level == "info" || level == "warn" || level == "error" ||
      level == "off") {
    return Status::Ok();
  }
  return InvalidArgumentError("unknown log level '" + level +
                              "' (expected debug, info, warn, error or off)");
}

// Logs go to stderr: stdout carries only the listening line, which scripts parse.
void LogToStderr() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = std::make_shared<spdlog::logger>(
        "liaison", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_level(spdlog::get_level());
    spdlog::set_default_logger(std::move(logger));
  });
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view listen) {
  ListenAddress address;
  std::string_view port_text;
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return InvalidArgumentError("bad listen address '" + std::string(listen) +
                                  "' (expected [IPv6]:PORT)");
    }
    address.host = std::string(listen.substr(1, close - 1));
    port_text = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos || listen.find(':') != colon) {
      return InvalidArgumentError("bad listen address '" + std::string(listen) +
                                  "' (expected HOST:PORT, or [IPv6]:PORT)");
    }
    address.host = std::string(listen.substr(0, colon));
    port_text = listen.substr(colon + 1);
  }
  if (address.host.empty()) {
    return InvalidArgumentError("bad listen address '" + std::string(listen) +
                                "': the host is missing (use 0.0.0.0 for every interface)");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return InvalidArgumentError("bad listen address '" + std::string(listen) +
                                "': the port must be a number from 0 to 65535");
  }
  address.port = static_cast<uint16_t>(port);
  return address;
}

struct Hub::Parts {
  // Declared in dependency order: destroyed in reverse (delivery and the server go first).
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<federation::HubIdentity> identity;  // null: no identity, no federation
  Notifier outbox_changed;
  Notifier events_changed;
  // PostgreSQL: wakes both notifiers when any node commits events (null on SQLite). Destroyed
  // before the notifiers and the store it uses.
  std::unique_ptr<StoreListener> listener;
  std::unique_ptr<federation::Sharing> sharing;     // with an identity
  std::unique_ptr<LocalOnlySharing> local_sharing;  // without one
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<taxii::Service> service;
  std::unique_ptr<http::LiaisonApi> api;
  std::unique_ptr<http::Router> router;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<federation::Delivery> delivery;
};

namespace {

// The hub's identity, or null for a hub created before issue 4 (no identity setting).
Result<std::unique_ptr<federation::HubIdentity>> LoadIdentity(storage::Store& store,
                                                              const ServerOptions& options) {
  ASSIGN_OR_RETURN(std::optional<std::string> identity_id,
                   store.GetSetting(storage::kIdentityIdSetting));
  if (!identity_id || identity_id->empty()) {
    LOG_WARN("{}: {}", options.store.empty() ? options.data_dir : RedactStoreUrl(options.store),
             kNoIdentityMessage);
    return std::unique_ptr<federation::HubIdentity>();
  }
  if (options.key_file.empty() && options.data_dir.empty()) {
    return InvalidArgumentError("hub " + *identity_id +
                                " has an identity: give --data DIR (holding hub.key) or --key-file "
                                "FILE");
  }
  const std::string key_file =
      options.key_file.empty()
          ? (std::filesystem::path(options.data_dir) / crypto::kHubKeyFile).string()
          : options.key_file;
  Result<federation::HubIdentity> identity = federation::LoadHubIdentity(store, key_file);
  if (!identity.ok()) {
    // Objects of this hub are signed (and RED ones sealed) with these keys: never run a hub that
    // has an identity without them.
    return identity.status().WithContext("loading the identity of hub " + *identity_id +
                                         " (key file " + key_file + ")");
  }
  return std::make_unique<federation::HubIdentity>(*std::move(identity));
}

}  // namespace

Result<std::unique_ptr<Hub>> Hub::Start(const ServerOptions& options) {
  RETURN_IF_ERROR(CheckLogLevel(options.log_level));
  LogToStderr();
  if (!options.log_level.empty()) SetLogLevel(options.log_level.c_str());
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  if (options.threads < 0) return InvalidArgumentError("--threads must not be negative");
  ASSIGN_OR_RETURN(ListenAddress listen, ParseListenAddress(options.listen));
  ASSIGN_OR_RETURN(StoreLocation where, ParseStoreUrl(options.store, options.data_dir));

  // Never create a hub here: SqliteStore::Open would make an empty database. OpenStore applies
  // pending migrations (PostgreSQL under an advisory lock: nodes starting at once are safe) and
  // refuses a store without an initialised hub.
  if (where.kind == StoreKind::kSqlite) {
    std::error_code fs_error;
    if (!std::filesystem::is_regular_file(where.target, fs_error)) {
      return NoHub(options.store.empty() ? options.data_dir : where.display);
    }
  }
  auto parts = std::make_unique<Parts>();
  Result<std::unique_ptr<storage::Store>> store = OpenStore(where, OpenMode::kExisting);
  if (!store.ok()) {
    if (store.status().code() == StatusCode::kNotFound && where.kind == StoreKind::kSqlite) {
      return NoHub(options.store.empty() ? options.data_dir : where.display);
    }
    return store.status();
  }
  parts->store = std::move(store).value();
  // Several nodes on one database: a commit on any node wakes this node's event streams and
  // outbox pushers (SQLite has one writer process, which notifies itself).
  Parts* raw = parts.get();
  ASSIGN_OR_RETURN(parts->listener, ListenForChanges(*parts->store, [raw] {
                     raw->events_changed.Notify();
                     raw->outbox_changed.Notify();
                   }));

  ASSIGN_OR_RETURN(std::optional<std::string> org, parts->store->GetSetting(kOrgNameSetting));
  ASSIGN_OR_RETURN(std::string hub_secret, auth::LoadOrCreateHubSecret(*parts->store));
  ASSIGN_OR_RETURN(std::vector<storage::ApiRoot> roots, parts->store->ListApiRoots());
  ASSIGN_OR_RETURN(parts->identity, LoadIdentity(*parts->store, options));

  Clock& clock = SystemClock::Default();
  auth::AuthenticatorOptions auth_options;
  auth_options.hub_secret = std::move(hub_secret);
  // Authentication failures reach the audit chain (rate-limited per client address).
  auth_options.audit_store = parts->store.get();
  parts->authenticator =
      std::make_unique<auth::Authenticator>(*parts->store, clock, std::move(auth_options));

  taxii::SharingHooks* hooks = nullptr;
  if (parts->identity) {
    parts->sharing = std::make_unique<federation::Sharing>(
        *parts->store, *parts->identity, clock, parts->outbox_changed, parts->events_changed);
    hooks = parts->sharing.get();
  } else {
    parts->local_sharing = std::make_unique<LocalOnlySharing>(*parts->store, parts->events_changed);
    hooks = parts->local_sharing.get();
  }

  taxii::ServiceOptions service_options;
  service_options.title = org && !org->empty() ? *org : "Liaison";
  service_options.description = "Liaison threat-intelligence hub (STIX 2.1, TAXII 2.1)";
  parts->service = std::make_unique<taxii::Service>(*parts->store, clock, service_options, hooks);

  http::LiaisonApiOptions api_options;
  if (parts->identity)
    api_options.identity_file_json = federation::ExportIdentity(*parts->identity);
  parts->api = std::make_unique<http::LiaisonApi>(*parts->store, hooks, parts->events_changed,
                                                  std::move(api_options));

  // Bodies: each API root's max_content_length applies (the router looks it up per request);
  // the transport cap is the largest of them, within bounds.
  uint64_t cap = kDefaultBodyCap;
  for (const storage::ApiRoot& root : roots) {
    if (root.max_content_length > 0) {
      cap = std::max(cap, static_cast<uint64_t>(root.max_content_length));
    }
  }
  cap = std::min(cap, kMaxBodyCap);
  http::RouterOptions router_options;
  router_options.max_body_bytes = cap;
  parts->router = std::make_unique<http::Router>(*parts->authenticator, *parts->service,
                                                 *parts->store, parts->api.get(), router_options);

  http::ServerOptions http_options;
  http_options.host = listen.host;
  http_options.port = listen.port;
  http_options.tls_cert_file = options.tls_cert;
  http_options.tls_key_file = options.tls_key;
  http_options.threads = options.threads;
  http_options.max_body_bytes = cap;
  ASSIGN_OR_RETURN(parts->server, http::Server::Start(http_options, *parts->router));

  if (parts->identity) {
    Result<std::unique_ptr<federation::Delivery>> delivery =
        federation::Delivery::Start(*parts->store, *parts->identity, *parts->sharing, clock,
                                    parts->outbox_changed, parts->events_changed, options.delivery);
    if (!delivery.ok()) {
      parts->server->Stop();
      return delivery.status();
    }
    parts->delivery = std::move(delivery).value();
  }
  LOG_INFO("serving the hub in {} on {}{}", where.display,
           (parts->server->tls() ? "https://" : "http://") + listen.host + ":" +
               std::to_string(parts->server->port()),
           parts->identity ? " as " + parts->identity->id : " (no federation)");
  return std::unique_ptr<Hub>(new Hub(std::move(parts)));
}

Hub::Hub(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Hub::~Hub() { Stop(); }

std::string Hub::url() const {
  std::string host = parts_->server->host();
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(parts_->server->tls() ? "https://" : "http://") + host + ":" +
         std::to_string(parts_->server->port());
}

uint16_t Hub::port() const { return parts_->server->port(); }

bool Hub::federated() const { return parts_->identity != nullptr; }

void Hub::Stop() {
  if (!parts_) return;
  if (parts_->server) parts_->server->Stop();
  if (parts_->delivery) parts_->delivery->Stop();
}

Status RunServer(const ServerOptions& options) {
  // Block the stop signals before any thread starts, so every worker inherits the mask and only
  // sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);
  // Writes to a closed peer must be errors, not process death.
  signal(SIGPIPE, SIG_IGN);

  Result<std::unique_ptr<Hub>> hub = Hub::Start(options);
  if (!hub.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return hub.status();
  }
  std::printf("liaison: listening on %s\n", (*hub)->url().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LOG_INFO("received {}; stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  (*hub)->Stop();
  hub->reset();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  LOG_INFO("stopped");
  return Status::Ok();
}

}  // namespace liaison::server
