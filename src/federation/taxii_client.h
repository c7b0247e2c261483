#pragma once

// TaxiiClient: a TAXII 2.1 client for any TAXII 2.1 server (our hub or another vendor's), over
// HTTP/1.1 or HTTPS with keep-alive connection reuse. Used by `liaison publish` and, later, by the
// hub-to-hub transport.
//
//   TaxiiClientOptions options;
//   options.credentials = Credentials::Basic("alice", password);
//   ASSIGN_OR_RETURN(auto client, TaxiiClient::Create("https://hub.example/api/", options));
//   ASSIGN_OR_RETURN(ApiRootInfo root, client->GetApiRoot("/api/"));
//   ASSIGN_OR_RETURN(StatusInfo status, client->AddObjects("/api/", collection_id, envelope));
//
// URLs passed to the methods may be absolute ("https://hub.example/api/") or absolute paths
// ("/api/"); an absolute URL must name the same scheme, host and port as the client
// (kInvalidArgument otherwise: one client talks to one server, so credentials never leak to
// another host). Redirects are not followed.
//
// Errors (Status codes):
//  - kInvalidArgument: a malformed URL; a response that is not valid TAXII JSON; HTTP 3xx
//    (redirects are reported, not followed) and 4xx other than those below.
//  - kUnavailable: DNS failure, connection refused or reset (the message names host:port), a
//    failed TLS handshake (certificate verification included), HTTP 429, 502, 503.
//  - kDeadlineExceeded: a connect or request timeout, HTTP 408 and 504.
//  - kUnauthenticated 401, kPermissionDenied 403, kNotFound 404, kNotAcceptable 406,
//    kAlreadyExists 409, kResourceExhausted 413 (and a response beyond max_response_bytes),
//    kUnsupportedMediaType 415, kInternal other 5xx.
// HTTP error messages carry the method, URL, HTTP status and the TAXII error body's title and
// description: "POST http://h/api/collections/x/objects/: HTTP 403: Forbidden: no write access".
//
// Thread safety: a TaxiiClient is NOT thread-safe (it owns one connection); use one per thread.
// All methods block until the response arrives or a timeout fires.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace liaison::federation {

struct Credentials {
  enum class Kind { kNone, kBasic, kBearer };
  Kind kind = Kind::kNone;
  std::string user;    // kBasic
  std::string secret;  // kBasic: the password; kBearer: the token

  static Credentials None() { return {}; }
  static Credentials Basic(std::string user, std::string password) {
    return {Kind::kBasic, std::move(user), std::move(password)};
  }
  static Credentials Bearer(std::string token) { return {Kind::kBearer, "", std::move(token)}; }
};

struct TaxiiClientOptions {
  Credentials credentials;
  // TLS: the server certificate is verified against the system trust store (or `ca_file` when
  // set) and the host name, unless `insecure` (for tests and lab set-ups only).
  bool insecure = false;
  std::string ca_file;  // PEM file of trusted CA certificates
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{120'000};  // send request + receive whole response
  size_t max_response_bytes = size_t{256} << 20;
  std::string user_agent = "liaison/0.1";
};

// TAXII 2.1 section 4.1.1: discovery resource. URLs as the server wrote them.
struct DiscoveryInfo {
  std::string title;
  std::string description;
  std::string contact;
  std::string default_api_root;  // "" when the server names none
  std::vector<std::string> api_roots;
};

// TAXII 2.1 section 4.2.1: API root resource.
struct ApiRootInfo {
  std::string title;
  std::string description;
  std::vector<std::string> versions;
  int64_t max_content_length = 0;
};

// TAXII 2.1 section 5.2.1: collection resource.
struct CollectionInfo {
  std::string id;
  std::string title;
  std::string description;
  std::string alias;
  bool can_read = false;
  bool can_write = false;
  std::vector<std::string> media_types;
};

struct StatusDetailInfo {
  std::string id;
  std::string version;
  std::string message;
};

// TAXII 2.1 section 4.3.1: status resource.
struct StatusInfo {
  std::string id;
  std::string status;  // "complete" | "pending"
  std::string request_timestamp;
  int64_t total_count = 0;
  int64_t success_count = 0;
  int64_t failure_count = 0;
  int64_t pending_count = 0;
  std::vector<StatusDetailInfo> successes;
  std::vector<StatusDetailInfo> failures;
  std::vector<StatusDetailInfo> pendings;
};

// One page of GET .../objects/ (TAXII 2.1 section 5.4).
struct ObjectsPage {
  std::vector<std::string> objects;  // each object's JSON exactly as the server sent it
  bool more = false;
  std::string next;              // "" when absent
  std::string date_added_first;  // X-TAXII-Date-Added-First ("" when absent)
  std::string date_added_last;   // X-TAXII-Date-Added-Last
};

struct GetObjectsOptions {
  std::string added_after;  // STIX timestamp; "" for none
  std::optional<size_t> limit;
  std::string next;  // the `next` of the previous page
  // Further filters, e.g. {"match[type]", "indicator"}, {"match[version]", "all"}.
  std::vector<std::pair<std::string, std::string>> filters;
};

// A raw HTTP exchange, for callers that need a resource this class has no method for.
struct HttpResult {
  int status = 0;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The value of the first header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

class TaxiiClient {
 public:
  // `url`: http:// or https:// URL of the server (any path: the path is kept as the default for
  // Discovery when it ends in "/taxii2/"). kInvalidArgument for a malformed URL or another scheme,
  // or an unreadable ca_file. Does not connect.
  static Result<std::unique_ptr<TaxiiClient>> Create(std::string_view url,
                                                     TaxiiClientOptions options);
  ~TaxiiClient();
  TaxiiClient(const TaxiiClient&) = delete;
  TaxiiClient& operator=(const TaxiiClient&) = delete;

  // "http://host:port" (scheme and authority the client talks to).
  const std::string& origin() const;
  // The URL given to Create, normalised (absolute).
  const std::string& url() const;
  // Resolves a possibly relative reference (e.g. a discovery api_roots entry) against url().
  // kInvalidArgument when it is malformed or points at another server.
  Result<std::string> Resolve(std::string_view reference) const;

  // GET the discovery resource: url() when its path ends in "/taxii2/", else "/taxii2/".
  Result<DiscoveryInfo> Discovery();
  // GET an API root resource.
  Result<ApiRootInfo> GetApiRoot(std::string_view api_root_url);

  struct ResolvedApiRoot {
    std::string url;  // absolute, ending in '/'
    ApiRootInfo info;
  };
  // For a URL a user typed: GETs `url`; an API root resource is used as it is, a discovery
  // resource leads to its default API root (or its only one). kInvalidArgument when the resource
  // is neither, or when discovery names no default and several API roots (the message lists
  // them); HTTP and transport errors as above.
  Result<ResolvedApiRoot> ResolveApiRoot(std::string_view url);
  // GET {api_root}/collections/. An API root with no collections yields an empty vector.
  Result<std::vector<CollectionInfo>> GetCollections(std::string_view api_root_url);
  // POST {api_root}/collections/{id}/objects/ with `envelope_json` (a TAXII envelope; sent as is).
  // Returns the status resource the server answered with (HTTP 202).
  Result<StatusInfo> AddObjects(std::string_view api_root_url, std::string_view collection_id,
                                std::string_view envelope_json);
  // GET {api_root}/status/{id}/.
  Result<StatusInfo> GetStatus(std::string_view api_root_url, std::string_view status_id);
  // GET {api_root}/collections/{id}/objects/ with the given filters.
  Result<ObjectsPage> GetObjects(std::string_view api_root_url, std::string_view collection_id,
                                 const GetObjectsOptions& options = {});

  // One request with the TAXII Accept header and the client's credentials; the response is
  // returned whatever its HTTP status (errors only for transport failures). `body` non-empty on
  // POST/PUT is sent with Content-Type: application/taxii+json;version=2.1.
  Result<HttpResult> Exchange(std::string_view method, std::string_view url,
                              std::string_view body = {});

  // Number of TCP connections opened so far (keep-alive reuse keeps it at 1 for a healthy server).
  size_t connections_opened() const;

 private:
  struct State;
  explicit TaxiiClient(std::unique_ptr<State> state);
  // Exchange, then turn HTTP >= 300 into a Status.
  Result<HttpResult> Call(std::string_view method, std::string_view url, std::string_view body);
  std::unique_ptr<State> state_;
};

// Joins an API root URL and a relative path: ("/api", "collections/") -> "/api/collections/".
std::string JoinUrl(std::string_view base, std::string_view relative);

}  // namespace liaison::federation
