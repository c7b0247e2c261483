#pragma once

// RequestHandler: the seam between the HTTP transport (http::Server: sockets, TLS, parsing, limits,
// timeouts) and the application (http::Router: authentication, routing to TAXII). Handling is in
// two steps so that a request can be refused — unauthenticated, too large — before its body is
// read: the transport never buffers a body it was going to refuse.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "policy/principal.h"
#include "taxii/service.h"

namespace liaison::http {

// What the transport knows once a request's header has been read.
struct RequestHead {
  std::string method;         // "GET", "POST", ... (as received, case-sensitive: RFC 9110 9.1)
  std::string target;         // origin-form path and query, as received (percent-encoded)
  std::string authorization;  // the Authorization header ("" when absent)
  std::string accept;         // the Accept header(s), joined with ", "
  std::string content_type;
  std::string host;
  std::string last_event_id;   // the Last-Event-ID header ("" when absent; Server-Sent Events)
  std::string client_address;  // the peer's IP address
  bool tls = false;
  std::optional<uint64_t> content_length;  // absent for chunked bodies or no body
  bool has_body = false;                   // a body follows (Content-Length > 0 or chunked)
};

// The handler's decision after the header.
struct Admission {
  // Set: answer this and do not read the body (the connection is closed if a body was announced).
  std::optional<taxii::Response> reject;
  // Otherwise: read at most this many body bytes; a larger body is answered 413.
  uint64_t body_limit = 0;
  // Who is asking (authenticated == false for public paths).
  policy::Principal principal;
};

// Optional second interface of a taxii::ResponseStream (a Server-Sent Events body): how long
// http::Server lets the stream stay silent before it writes the comment line ": keepalive\n\n",
// so that proxies and clients do not take a quiet stream for a dead one. Streams without it get
// ServerOptions::stream_heartbeat.
class StreamHeartbeat {
 public:
  virtual ~StreamHeartbeat() = default;
  virtual std::chrono::milliseconds heartbeat() const = 0;
};

// Implementations must be thread-safe: both methods are called concurrently from the server's
// worker threads, and may block (store lookups, password hashing). They must not throw.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual Admission Admit(const RequestHead& head) = 0;
  // Called only for admitted requests, with the complete body.
  virtual taxii::Response Handle(const RequestHead& head, const Admission& admission,
                                 std::string body) = 0;
};

}  // namespace liaison::http
