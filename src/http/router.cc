#include "http/router.h"

#include <algorithm>

#include "http/status_mapping.h"

namespace liaison::http {
namespace {

constexpr char kHealthPath[] = "/healthz";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) {
      return InvalidArgumentError("malformed percent-escape in the query string");
    }
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0)
      return InvalidArgumentError("malformed percent-escape in the query string");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool IsHealthPath(std::string_view path) { return path == kHealthPath; }

// The first path segment (percent-decoded), which names the API root for TAXII paths.
std::string FirstSegment(std::string_view path) {
  if (path.empty() || path[0] != '/') return "";
  path.remove_prefix(1);
  std::string_view segment = path.substr(0, path.find('/'));
  Result<std::string> decoded = PercentDecode(segment);
  return decoded.ok() ? *decoded : "";
}

}  // namespace

Result<SplitTarget> ParseTarget(std::string_view target) {
  SplitTarget split;
  size_t q = target.find('?');
  split.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return split;
  std::string_view query = target.substr(q + 1);
  // A fragment is never sent by clients (RFC 9112 section 3.2); ignore one defensively.
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    ASSIGN_OR_RETURN(std::string key, PercentDecode(pair.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1)));
    }
    split.query.emplace_back(std::move(key), std::move(value));
  }
  return split;
}

Router::Router(auth::Authenticator& authenticator, const taxii::Service& service,
               storage::Store& store, LiaisonApi* api, RouterOptions options)
    : authenticator_(authenticator),
      service_(service),
      store_(store),
      api_(api),
      options_(options) {}

Router::Router(auth::Authenticator& authenticator, const taxii::Service& service,
               storage::Store& store, RouterOptions options)
    : Router(authenticator, service, store, nullptr, options) {}

Admission Router::Admit(const RequestHead& head) {
  Admission admission;
  const std::string_view path = std::string_view(head.target).substr(0, head.target.find('?'));
  if (IsHealthPath(path) && (head.method == "GET" || head.method == "HEAD")) {
    admission.body_limit = 0;
    return admission;
  }

  Result<policy::Principal> principal =
      authenticator_.Authenticate(head.authorization, head.client_address);
  if (!principal.ok()) {
    const Status& status = principal.status();
    if (status.code() == StatusCode::kResourceExhausted) {
      // Throttled authentication is a rate limit (429), not a size bound (413).
      admission.reject = RateLimitedResponse(status.message(),
                                             authenticator_.RetryAfterSeconds(head.client_address));
    } else {
      admission.reject = ErrorResponse(status, head.method + " " + std::string(path));
    }
    return admission;
  }
  admission.principal = std::move(*principal);

  admission.body_limit = std::min(options_.default_body_limit, options_.max_body_bytes);
  if (head.has_body) {
    const std::string root_name = FirstSegment(path);
    const bool api_path = api_ != nullptr && LiaisonApi::OwnsPath(path);
    if (!root_name.empty() && root_name != "taxii2" && !api_path) {
      Result<storage::ApiRoot> root = store_.GetApiRoot(root_name);
      if (root.ok()) {
        admission.body_limit =
            root->max_content_length > 0
                ? std::min<uint64_t>(static_cast<uint64_t>(root->max_content_length),
                                     options_.max_body_bytes)
                : options_.max_body_bytes;
      } else if (root.status().code() != StatusCode::kNotFound) {
        admission.reject = ErrorResponse(root.status(), head.method + " " + std::string(path));
      }
    }
  }
  return admission;
}

taxii::Response Router::Handle(const RequestHead& head, const Admission& admission,
                               std::string body) {
  Result<SplitTarget> split = ParseTarget(head.target);
  if (!split.ok()) return ErrorResponse(split.status());

  if (IsHealthPath(split->path)) {
    if (head.method != "GET" && head.method != "HEAD") {
      taxii::Response r = ErrorResponseWithHttpStatus(405, "use GET");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    taxii::Response r;
    r.content_type = "application/json";
    r.body = "{\"status\":\"ok\"}";
    return r;
  }

  if (api_ != nullptr && LiaisonApi::OwnsPath(split->path)) {
    Result<taxii::Response> response = api_->Handle(head.method, split->path, split->query,
                                                    head.last_event_id, admission.principal);
    if (!response.ok()) {
      return ErrorResponse(response.status(), head.method + " " + split->path);
    }
    return std::move(response).value();
  }

  if (!service_.OwnsPath(split->path)) {
    return ErrorResponseWithHttpStatus(404, "no such resource");
  }
  taxii::Request request;
  request.method = head.method;
  request.target = std::move(split->path);
  request.query = std::move(split->query);
  request.accept = head.accept;
  request.content_type = head.content_type;
  request.body = std::move(body);
  request.host = head.host;
  request.tls = head.tls;
  request.principal = admission.principal;
  Result<taxii::Response> response = service_.Handle(request);
  if (!response.ok()) {
    return ErrorResponse(response.status(), request.method + " " + request.target);
  }
  return std::move(response).value();
}

}  // namespace liaison::http
