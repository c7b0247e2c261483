#pragma once

// The composition root: picks the concrete Store (SQLite in DATA_DIR/hub.db, or --store URL), the
// real clock, the Authenticator, the TAXII service and the HTTP server, and wires them together.
// With an organisation identity (issue 4: `liaison init`, or `liaison identity init` for older
// hubs) it also loads the hub's keys (DATA_DIR/hub.key), applies federation::Sharing on every TAXII
// path, serves the /liaison/v1 API (events, receipts, feedback, identity) and runs
// federation::Delivery (outbox pushers, pull channels).
//
// A hub without an identity (created before issue 4) still starts: it logs a warning and runs
// without federation (server/local_sharing.h: objects labelled, nothing queued, partners refused
// with a message telling the operator to run `liaison identity init --data DIR`). A hub WITH an
// identity whose key file cannot be loaded does not start (its objects are signed and sealed with
// that key: running without it would silently stop federation).
//
//   server::ServerOptions options;
//   options.data_dir = "./var";
//   options.listen = "127.0.0.1:0";
//   return server::RunServer(options);   // blocks until SIGINT/SIGTERM
//
// RunServer prints exactly one line to stdout once it is listening, then flushes it:
//   liaison: listening on http://127.0.0.1:8080        (https://... with TLS)
// Logs (including the access log) go to stderr.

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "federation/delivery.h"

namespace liaison::server {

struct ServerOptions {
  std::string data_dir;  // holds hub.db (unless `store` is set) and hub.key (unless key_file)
  // The store (server/store_url.h): "" = SQLite in DATA_DIR/hub.db; postgresql://... runs this
  // process as one node of a hub on PostgreSQL (LISTEN/NOTIFY wakes event streams and pushers on
  // every node; outbox rows are leased with SKIP LOCKED).
  std::string store;
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; [IPv6]:PORT; port 0 picks a free one
  std::string tls_cert;                   // PEM files; TLS when both are set
  std::string tls_key;
  int threads = 0;        // 0: max(4, 2 * cores)
  std::string log_level;  // debug|info|warn|error|off; "" keeps info
  std::string key_file;   // the hub's key file; "" = DATA_DIR/hub.key
  // Pushers and pullers (federation/delivery.h): batch size, backoff, lease, TLS trust for
  // partners' URLs.
  federation::DeliveryOptions delivery;
};

struct ListenAddress {
  std::string host;  // without brackets
  uint16_t port = 0;
};

// Parses "HOST:PORT", "[V6]:PORT". kInvalidArgument with a message naming the problem.
Result<ListenAddress> ParseListenAddress(std::string_view listen);

// A running hub (store, services, HTTP server). Start/Stop without signals: for tests and for
// RunServer.
class Hub {
 public:
  // Opens the hub in options.data_dir and starts serving, then starts delivery. Errors: kNotFound
  // "no hub in DIR: run `liaison init --data DIR` first" when DIR/hub.db is missing or was never
  // initialised; kInvalidArgument for bad options (listen address, TLS files, log level, delivery
  // options); the key file's errors (kNotFound, kPermissionDenied, kDataLoss) when the hub has an
  // identity; store errors (kFailedPrecondition, kDataLoss, kUnavailable); kUnavailable when the
  // address cannot be bound.
  static Result<std::unique_ptr<Hub>> Start(const ServerOptions& options);

  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // "http://127.0.0.1:8080" or "https://[::1]:8443": the bound address and port.
  std::string url() const;
  uint16_t port() const;

  // False when the hub runs without federation (no identity: see above).
  bool federated() const;

  // Graceful stop: the HTTP server first (see http::Server::Stop), then delivery (in-flight pushes
  // finish or time out). Idempotent.
  void Stop();

 private:
  struct Parts;
  explicit Hub(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Starts the hub, prints the listening line, serves until SIGINT or SIGTERM, stops gracefully.
// Returns the error Hub::Start returned, or OK after a clean stop. Call from the main thread
// before other threads exist (it blocks SIGINT/SIGTERM so that only it receives them).
Status RunServer(const ServerOptions& options);

}  // namespace liaison::server
