#pragma once

// The TAXII 2.1 service: every TAXII endpoint as a plain function of (Request, Store, Clock).
// No Beast types: http/ turns HTTP messages into Request, authenticates the principal, and turns
// Response (or an error Status, through its one mapping table) back into HTTP.
//
//   taxii::Service service(store, clock, options);
//   Result<taxii::Response> r = service.Handle(request);
//
// Thread-safe: Handle may be called concurrently; the service holds no per-request state.
//
// What Handle does, in order (each step's failure ends the request):
//   1. Routes the path (TAXII 2.1 section 3.1 endpoint table; the trailing '/' may be omitted):
//      unknown shapes are kNotFound.
//   2. Anonymous principals get kUnauthenticated on every endpoint (http/ adds WWW-Authenticate).
//   3. A method the endpoint does not define gets a Response with status 405, an "Allow" header
//      and a TAXII error body (there is no StatusCode for 405). HEAD is handled as GET; http/
//      drops the body.
//   4. Accept negotiation (taxii/media_type.h): kNotAcceptable.
//   5. The endpoint: API roots and collections the principal may not see are kNotFound, never
//      kPermissionDenied, so their existence does not leak (TAXII 2.1 Appendix B).
//
// Responses to GET objects/manifest/object/versions splice the stored object bytes; they carry
// X-TAXII-Date-Added-First/-Last when they hold at least one result (there is no date to report
// for an empty page). Paging cursors are described in taxii/cursor.h.
//
// With SharingHooks, every path asks them (sharing_hooks.h): POST runs PrepareAdd before the
// store (its refusals join the status failures, its audit records commit with the objects) and
// Committed after; GETs show only what the ReadFilter calls Visible, served as Present() gives it
// (manifest and versions serve no bytes); DELETE deletes only visible versions (none: 404); an
// object with no visible version is 404 on the object and versions endpoints. Paging over hidden
// rows stays exact: the service asks the store again until the page is full or the store has no
// more, scanning at most 20 x limit rows per request; beyond that the page is short (possibly
// empty) with more=true and a `next` that resumes after the last row scanned. The Date-Added
// headers describe the returned objects only, so clients must follow `next` while more is true
// (an added_after taken from the headers of a short page would rescan the hidden rows).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "policy/principal.h"
#include "stix/object.h"
#include "storage/store.h"
#include "taxii/sharing_hooks.h"

namespace liaison::taxii {

inline constexpr char kTaxiiMediaType[] = "application/taxii+json;version=2.1";
inline constexpr char kStixMediaType[] = "application/stix+json;version=2.1";

struct Request {
  std::string method;  // "GET", "HEAD", "POST", "DELETE", ...
  std::string target;  // the path as received, percent-encoded, without the query
  // Decoded query parameters in order of appearance (a key may repeat).
  std::vector<std::pair<std::string, std::string>> query;
  std::string accept;        // the Accept header ("" when absent)
  std::string content_type;  // the Content-Type header ("" when absent)
  std::string body;
  std::string host;  // the Host header, for absolute URLs in discovery
  bool tls = false;  // the request came over TLS (https URLs in discovery)
  policy::Principal principal;
};

// A response body produced over time (Server-Sent Events, GET /liaison/v1/events). http/ writes
// the status and headers (no Content-Length; chunked), then alternates: Poll; when Poll gave
// nothing, wait for the wake callback or a heartbeat interval (it then sends an SSE comment line);
// until Poll returns false, the client goes away or the server stops.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Must not block for long (a store read is fine). Appends what is ready to `out`. Returns false
  // when the stream is over (after `out` is written).
  virtual bool Poll(std::string& out) = 0;
  // `wake` may be called from any thread, any number of times, until the stream is destroyed;
  // it replaces an earlier one. The stream must not call it after its destructor started.
  virtual void SetWake(std::function<void()> wake) = 0;
};

struct Response {
  int status = 200;
  std::string content_type = kTaxiiMediaType;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. X-TAXII-Date-Added-First
  std::string body;
  std::shared_ptr<ResponseStream> stream;  // set: `body` is ignored and the stream is written
};

struct ServiceOptions {
  std::string title = "Liaison";  // discovery title
  std::string description;
  std::string contact;
  size_t default_page_size = 1000;      // when a client sends no limit
  size_t max_page_size = 10000;         // a larger limit is lowered to this
  size_t max_query_params = 64;         // more query parameters: kInvalidArgument
  size_t max_query_bytes = 256 * 1024;  // longer query (keys + values): kInvalidArgument
  size_t max_match_values = 1000;       // values over all match[...] fields: kInvalidArgument
  stix::ParseLimits parse_limits;       // applied to POSTed envelopes
};

class Service {
 public:
  // `sharing` (may be null in unit tests: everything visible, nothing labelled) must outlive the
  // service; the hub always passes federation::Sharing.
  Service(storage::Store& store, Clock& clock, ServiceOptions options,
          SharingHooks* sharing = nullptr);

  // Handles a request whose path starts with /taxii2/ or an API root. Errors carry the code http/
  // maps: kNotFound (404, also for resources the principal may not know about), kPermissionDenied
  // (403), kUnauthenticated (401), kInvalidArgument (400), kNotAcceptable (406),
  // kUnsupportedMediaType (415), kResourceExhausted (413), kUnavailable (503), kInternal (500).
  // Success: 200 (GET, DELETE), 202 (POST objects, with the status resource); 405 as above.
  Result<Response> Handle(const Request& request) const;

  // True if this service owns the path (discovery or an API root that exists).
  bool OwnsPath(const std::string& target) const;

  // The max_content_length (TAXII 2.1 section 4.2.1) of the API root that `target` is under, so
  // http/ can answer 413 from a request's Content-Length before reading its body. kNotFound when
  // the target is not under an existing API root; store errors otherwise. Thread-safe.
  Result<int64_t> MaxContentLength(const std::string& target) const;

 private:
  storage::Store& store_;
  Clock& clock_;
  const ServiceOptions options_;
  SharingHooks* const sharing_;
};

}  // namespace liaison::taxii
