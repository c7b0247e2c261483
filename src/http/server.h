#pragma once

// http::Server: the HTTP/1.1 listener (Boost.Beast), plain or TLS, that reads requests within
// bounds and hands them to a RequestHandler.
//
//   http::ServerOptions options;
//   options.host = "127.0.0.1";
//   options.port = 0;                       // any free port; see port()
//   ASSIGN_OR_RETURN(std::unique_ptr<http::Server> server, http::Server::Start(options, router));
//   std::cout << server->port();
//   ...
//   server->Stop();                         // graceful; also done by the destructor
//
// Behaviour:
//  - HTTP/1.1 keep-alive; requests on one connection are handled one at a time in order, so
//    pipelined requests are answered in order.
//  - Bounds: header bytes (431), target length (414), body bytes (413, checked against
//    Content-Length before reading and enforced while reading chunked bodies), header/body/idle/
//    write timeouts (the connection is closed), concurrent connections
//    (beyond max_connections new connections get 503 and are closed).
//  - A malformed request gets 400 and the connection is closed.
//  - Streamed responses (taxii::Response::stream, Server-Sent Events): the header without
//    Content-Length, HTTP/1.1 chunked, Cache-Control: no-store, Connection: close; then Poll,
//    write what it gave, and when it gave nothing wait for its wake callback or the heartbeat
//    (StreamHeartbeat in http/handler.h, else stream_heartbeat) and write ": keepalive\n\n".
//    The stream ends when Poll returns false, the client closes the connection (a read stays
//    pending to notice it at once), a write times out, or Stop() is called: Stop() does not wait
//    for streams, it ends them (with the last chunk) and closes their connections.
//  - TLS 1.2 or newer only, when tls_cert_file/tls_key_file are set (PEM).
//  - One access-log line per request at info level: client, method, path, status, bytes, ms, user.
//    Never credentials.
//
// Thread-safe: port(), tls() and Stop() may be called from any thread except a handler's (Stop
// joins the worker threads).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/handler.h"

namespace liaison::http {

struct ServerOptions {
  std::string host = "127.0.0.1";  // an IP address or a resolvable name
  uint16_t port = 8080;            // 0: pick a free port
  std::string tls_cert_file;       // PEM certificate chain; TLS when set (with tls_key_file)
  std::string tls_key_file;        // PEM private key
  int threads = 0;                 // worker threads; 0: max(4, 2 * hardware threads)

  size_t max_header_bytes = 16 * 1024;
  size_t max_target_bytes = 8 * 1024;
  uint64_t max_body_bytes = 100 * 1024 * 1024;  // cap whatever the handler allows
  size_t max_connections = 1024;

  std::chrono::milliseconds header_timeout{30'000};  // to receive a request's header
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds body_timeout{120'000};   // to receive a request's body
  std::chrono::milliseconds write_timeout{60'000};   // to send a response
  std::chrono::milliseconds shutdown_grace{5'000};   // Stop() waits this long for requests
  // Silence after which a streamed response without its own StreamHeartbeat gets ": keepalive".
  std::chrono::milliseconds stream_heartbeat{15'000};
};

class Server {
 public:
  // Binds, listens and starts the worker threads. kInvalidArgument for a bad host or unreadable
  // TLS files (the message names the file), kUnavailable when the address cannot be bound (in
  // use, permission). `handler` must outlive the server.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                               RequestHandler& handler);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the real one when options.port was 0).
  uint16_t port() const;
  // The bound address as text ("127.0.0.1", "::1").
  std::string host() const;
  bool tls() const;

  // Stops accepting, lets requests in progress finish (up to shutdown_grace), closes idle
  // connections and joins the worker threads. Idempotent. Blocks.
  void Stop();

  // Connections open right now (for tests and metrics).
  size_t open_connections() const;

 private:
  class Listener;
  explicit Server(std::shared_ptr<Listener> listener);
  std::shared_ptr<Listener> listener_;
};

}  // namespace liaison::http
