#include "federation/taxii_client.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <openssl/ssl.h>

namespace liaison::federation {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
namespace json = boost::json;
namespace urls = boost::urls;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr char kTaxiiMediaType[] = "application/taxii+json;version=2.1";
constexpr int kMaxAttempts = 2;  // a request on a reused connection is retried once on a new one

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Base64(std::string_view in) {
  std::string out(beast::detail::base64::encoded_size(in.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), in.data(), in.size()));
  return out;
}

// Percent-encodes one path segment (unreserved characters stay as they are).
std::string EncodeSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Percent-encodes a query key or value (RFC 3986 section 3.4); ',' and ':' stay readable.
std::string EncodeQueryComponent(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ',' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ReasonOf(int status) {
  return std::string(http::obsolete_reason(static_cast<http::status>(status)));
}

StatusCode CodeForHttpStatus(int status) {
  switch (status) {
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 406:
      return StatusCode::kNotAcceptable;
    case 408:
      return StatusCode::kDeadlineExceeded;
    case 409:
      return StatusCode::kAlreadyExists;
    case 413:
      return StatusCode::kResourceExhausted;
    case 415:
      return StatusCode::kUnsupportedMediaType;
    case 429:
      return StatusCode::kUnavailable;  // Too Many Requests: retry later
    case 502:
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      break;
  }
  if (status >= 500) return StatusCode::kInternal;
  return StatusCode::kInvalidArgument;
}

// TAXII 2.1 section 3.6.1: the error message resource has title (required), description,
// error_id, error_code, http_status, external_details, details.
std::string DescribeErrorBody(std::string_view body) {
  error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    // Not a TAXII error body: show the start of whatever the server sent, on one line.
    std::string text(body.substr(0, 200));
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
  }
  const json::object& o = v.get_object();
  std::string out;
  if (const json::value* t = o.if_contains("title"); t && t->is_string()) {
    out = std::string(t->get_string());
  }
  if (const json::value* d = o.if_contains("description"); d && d->is_string()) {
    if (!out.empty()) out += ": ";
    out += std::string(d->get_string());
  }
  return out;
}

// Accessors that tolerate absent or mistyped members (a third-party server may be sloppy in what
// it omits; what it does send must have the right type where we rely on it).
std::string GetString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t GetInt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    uint64_t u = v->get_uint64();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(u);
  }
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return 0;
}

bool GetBool(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

std::vector<std::string> GetStrings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const json::value& e : v->get_array()) {
    if (e.is_string()) out.emplace_back(e.get_string());
  }
  return out;
}

Result<json::object> ParseJsonObject(const HttpResult& r, std::string_view what) {
  error_code ec;
  json::parse_options opts;
  opts.max_depth = 64;
  json::value v = json::parse(r.body, ec, {}, opts);
  if (ec) {
    return InvalidArgumentError("the server's " + std::string(what) +
                                " response is not valid JSON: " + ec.message());
  }
  if (!v.is_object()) {
    return InvalidArgumentError("the server's " + std::string(what) +
                                " response is not a JSON object");
  }
  return std::move(v.get_object());
}

std::vector<StatusDetailInfo> GetDetails(const json::object& o, std::string_view key) {
  std::vector<StatusDetailInfo> out;
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const json::value& e : v->get_array()) {
    if (!e.is_object()) continue;
    const json::object& d = e.get_object();
    out.push_back({GetString(d, "id"), GetString(d, "version"), GetString(d, "message")});
  }
  return out;
}

Result<StatusInfo> ParseStatus(const HttpResult& r) {
  ASSIGN_OR_RETURN(json::object o, ParseJsonObject(r, "status"));
  StatusInfo s;
  s.id = GetString(o, "id");
  s.status = GetString(o, "status");
  if (s.id.empty() || s.status.empty()) {
    return InvalidArgumentError(
        "the server's response is not a TAXII status resource (no id or "
        "status)");
  }
  s.request_timestamp = GetString(o, "request_timestamp");
  s.total_count = GetInt(o, "total_count");
  s.success_count = GetInt(o, "success_count");
  s.failure_count = GetInt(o, "failure_count");
  s.pending_count = GetInt(o, "pending_count");
  s.successes = GetDetails(o, "successes");
  s.failures = GetDetails(o, "failures");
  s.pendings = GetDetails(o, "pendings");
  return s;
}

}  // namespace

std::string HttpResult::Header(std::string_view name) const {
  std::string want = Lower(name);
  for (const auto& [k, v] : headers) {
    if (Lower(k) == want) return v;
  }
  return "";
}

std::string JoinUrl(std::string_view base, std::string_view relative) {
  std::string out(base);
  if (out.empty() || out.back() != '/') out += '/';
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  out += relative;
  return out;
}

// ---------------------------------------------------------------------------------------------

struct TaxiiClient::State {
  TaxiiClientOptions options;
  bool tls = false;
  std::string host;         // for DNS and certificate checks (no brackets for IPv6)
  std::string port;         // decimal
  std::string host_header;  // Host: value
  std::string origin;       // scheme://authority
  std::string url;          // the URL given to Create, normalised
  std::string authorization;

  asio::io_context ioc;
  std::optional<ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool connected = false;
  size_t connections_opened = 0;

  // Runs one asynchronous operation to completion on `ioc` (the timeouts of beast::tcp_stream
  // only apply to asynchronous operations, so blocking calls are built from them).
  template <typename Initiate>
  error_code Run(Initiate&& initiate) {
    error_code result = asio::error::would_block;
    initiate([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*secure) : *plain; }

  std::string Where() const { return host_header; }

  void Close() {
    if (tls && secure) {
      error_code ignored;
      beast::get_lowest_layer(*secure).socket().close(ignored);
      secure.reset();
    } else if (plain) {
      error_code ignored;
      plain->socket().close(ignored);
      plain.reset();
    }
    buffer.clear();
    connected = false;
  }

  Status Connect() {
    Close();
    tcp::resolver resolver(ioc);
    error_code ec;
    tcp::resolver::results_type endpoints = resolver.resolve(host, port, ec);
    if (ec) {
      return UnavailableError("cannot resolve host '" + host + "': " + ec.message());
    }
    if (tls) {
      secure.emplace(ioc, *ssl_ctx);
    } else {
      plain.emplace(ioc);
    }
    ++connections_opened;
    Lowest().expires_after(options.connect_timeout);
    ec = Run([&](auto handler) { Lowest().async_connect(endpoints, std::move(handler)); });
    if (ec == beast::error::timeout) {
      Close();
      return DeadlineExceededError("timed out connecting to " + Where() + " after " +
                                   std::to_string(options.connect_timeout.count()) + " ms");
    }
    if (ec) {
      Close();
      return UnavailableError("cannot connect to " + Where() + ": " + ec.message());
    }
    if (tls) {
      SSL* native = secure->native_handle();
      error_code addr_ec;
      asio::ip::make_address(host, addr_ec);
      // RFC 6066 section 3: SNI carries host names only, never IP literals.
      if (addr_ec && !SSL_set_tlsext_host_name(native, host.c_str())) {
        Close();
        return InternalError("cannot set the TLS server name for " + host);
      }
      if (!options.insecure) {
        secure->set_verify_callback(ssl::host_name_verification(host));
      }
      ec = Run([&](auto handler) {
        secure->async_handshake(ssl::stream_base::client, std::move(handler));
      });
      if (ec == beast::error::timeout) {
        Close();
        return DeadlineExceededError("timed out in the TLS handshake with " + Where());
      }
      if (ec) {
        std::string msg = "TLS handshake with " + Where() + " failed: " + ec.message();
        if (ec.category() == asio::error::get_ssl_category() &&
            ERR_GET_REASON(ec.value()) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
          msg += " (trust the server's CA with --ca-file, or use --insecure for testing only)";
        }
        Close();
        return UnavailableError(msg);
      }
    }
    Lowest().expires_never();
    connected = true;
    return Status::Ok();
  }

  struct Attempt {
    Result<HttpResult> result = InternalError("no attempt");
    bool retryable = false;  // failed before any response byte on a reused connection
  };

  template <typename Stream>
  Attempt SendReceive(Stream& stream, http::request<http::string_body>& req,
                      const std::string& what) {
    Attempt attempt;
    Lowest().expires_after(options.request_timeout);
    error_code ec = Run([&](auto handler) { http::async_write(stream, req, std::move(handler)); });
    http::response_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(options.max_response_bytes);
    if (!ec) {
      ec = Run([&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
    }
    Lowest().expires_never();
    if (ec) {
      attempt.retryable = !parser.got_some() && ec != beast::error::timeout;
      if (ec == beast::error::timeout) {
        attempt.result =
            DeadlineExceededError(what + ": no complete response within " +
                                  std::to_string(options.request_timeout.count()) + " ms");
      } else if (ec == http::error::body_limit) {
        attempt.result =
            ResourceExhaustedError(what + ": the response is larger than " +
                                   std::to_string(options.max_response_bytes) + " bytes");
      } else if (ec == http::error::header_limit) {
        attempt.result = ResourceExhaustedError(what + ": the response headers are too large");
      } else {
        attempt.result =
            UnavailableError(what + ": connection to " + Where() + " failed: " + ec.message());
      }
      return attempt;
    }
    http::response<http::string_body> res = parser.release();
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.content_type = std::string(res[http::field::content_type]);
    bool keep = res.keep_alive();
    out.body = std::move(res.body());
    if (!keep) Close();
    attempt.result = std::move(out);
    return attempt;
  }
};

TaxiiClient::TaxiiClient(std::unique_ptr<State> state) : state_(std::move(state)) {}
TaxiiClient::~TaxiiClient() {
  if (state_) state_->Close();
}

Result<std::unique_ptr<TaxiiClient>> TaxiiClient::Create(std::string_view url,
                                                         TaxiiClientOptions options) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) {
    return InvalidArgumentError("'" + std::string(url) + "' is not a valid URL");
  }
  urls::url u(*parsed);
  std::string scheme = Lower(u.scheme());
  if (scheme != "http" && scheme != "https") {
    return InvalidArgumentError("'" + std::string(url) +
                                "': only http:// and https:// URLs are "
                                "supported");
  }
  if (!u.has_authority() || u.host_address().empty()) {
    return InvalidArgumentError("'" + std::string(url) + "' names no host");
  }
  if (u.has_userinfo()) {
    return InvalidArgumentError("'" + std::string(url) +
                                "': give credentials with --user and "
                                "--password-stdin, not in the URL");
  }
  auto state = std::make_unique<State>();
  state->tls = scheme == "https";
  state->host = u.host_address();
  uint16_t default_port = state->tls ? 443 : 80;
  uint16_t port = u.has_port() ? u.port_number() : default_port;
  if (u.has_port() && port == 0) {
    return InvalidArgumentError("'" + std::string(url) + "' has an invalid port");
  }
  state->port = std::to_string(port);
  std::string host_text = std::string(u.encoded_host());
  state->host_header = port == default_port ? host_text : host_text + ":" + state->port;
  state->origin = scheme + "://" + state->host_header;
  u.set_scheme(scheme);
  u.remove_fragment();
  if (u.encoded_path().empty()) u.set_path("/");
  state->url = std::string(u.buffer());
  state->options = std::move(options);

  const Credentials& c = state->options.credentials;
  switch (c.kind) {
    case Credentials::Kind::kNone:
      break;
    case Credentials::Kind::kBasic:
      if (c.user.find(':') != std::string::npos) {
        return InvalidArgumentError("a user name for HTTP Basic cannot contain ':'");
      }
      state->authorization = "Basic " + Base64(c.user + ":" + c.secret);
      break;
    case Credentials::Kind::kBearer:
      state->authorization = "Bearer " + c.secret;
      break;
  }
  if (state->authorization.find_first_of("\r\n") != std::string::npos) {
    return InvalidArgumentError("credentials cannot contain line breaks");
  }

  if (state->tls) {
    state->ssl_ctx.emplace(ssl::context::tls_client);
    state->ssl_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                ssl::context::no_tlsv1_1);
    error_code ec;
    if (state->options.insecure) {
      state->ssl_ctx->set_verify_mode(ssl::verify_none, ec);
    } else {
      state->ssl_ctx->set_verify_mode(ssl::verify_peer, ec);
      if (!ec) {
        if (!state->options.ca_file.empty()) {
          std::ifstream probe(state->options.ca_file);
          if (!probe) {
            return InvalidArgumentError("cannot read CA file '" + state->options.ca_file + "'");
          }
          state->ssl_ctx->load_verify_file(state->options.ca_file, ec);
          if (ec) {
            return InvalidArgumentError("CA file '" + state->options.ca_file +
                                        "' holds no usable PEM certificate: " + ec.message());
          }
        } else {
          state->ssl_ctx->set_default_verify_paths(ec);
        }
      }
    }
    if (ec) return InternalError("cannot set up TLS: " + ec.message());
  }
  return std::unique_ptr<TaxiiClient>(new TaxiiClient(std::move(state)));
}

const std::string& TaxiiClient::origin() const { return state_->origin; }
const std::string& TaxiiClient::url() const { return state_->url; }
size_t TaxiiClient::connections_opened() const { return state_->connections_opened; }

Result<std::string> TaxiiClient::Resolve(std::string_view reference) const {
  auto ref = urls::parse_uri_reference(reference);
  if (!ref) return InvalidArgumentError("'" + std::string(reference) + "' is not a valid URL");
  urls::url base(urls::parse_uri(state_->url).value());
  urls::url out;
  auto rv = urls::resolve(base, *ref, out);
  if (!rv) return InvalidArgumentError("cannot resolve '" + std::string(reference) + "'");
  out.remove_fragment();
  std::string scheme = Lower(out.scheme());
  uint16_t default_port = scheme == "https" ? 443 : 80;
  uint16_t port = out.has_port() ? out.port_number() : default_port;
  std::string host_text = std::string(out.encoded_host());
  std::string origin =
      scheme + "://" + (port == default_port ? host_text : host_text + ":" + std::to_string(port));
  if (Lower(origin) != Lower(state_->origin)) {
    return InvalidArgumentError("'" + std::string(reference) + "' is on another server than " +
                                state_->origin);
  }
  out.set_scheme(scheme);
  if (out.has_port() && port == default_port) out.remove_port();
  return std::string(out.buffer());
}

Result<HttpResult> TaxiiClient::Exchange(std::string_view method, std::string_view url,
                                         std::string_view body) {
  ASSIGN_OR_RETURN(std::string absolute, Resolve(url));
  urls::url_view u = urls::parse_uri(absolute).value();
  std::string target = std::string(u.encoded_path());
  if (target.empty()) target = "/";
  if (u.has_query()) target += "?" + std::string(u.encoded_query());

  http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    return InvalidArgumentError("unknown HTTP method '" + std::string(method) + "'");
  }
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, state_->host_header);
  req.set(http::field::user_agent, state_->options.user_agent);
  req.set(http::field::accept, kTaxiiMediaType);
  if (!state_->authorization.empty()) req.set(http::field::authorization, state_->authorization);
  if (!body.empty() || verb == http::verb::post || verb == http::verb::put) {
    req.set(http::field::content_type, kTaxiiMediaType);
    req.body() = std::string(body);
  }
  req.keep_alive(true);
  req.prepare_payload();

  std::string what = std::string(method) + " " + absolute;
  State& s = *state_;
  for (int attempt_no = 1;; ++attempt_no) {
    bool reused = s.connected;
    if (!s.connected) RETURN_IF_ERROR(s.Connect());
    State::Attempt attempt =
        s.tls ? s.SendReceive(*s.secure, req, what) : s.SendReceive(*s.plain, req, what);
    if (attempt.result.ok()) return std::move(attempt.result);
    s.Close();
    // A server may close an idle keep-alive connection just as we reuse it; that shows as a
    // failure before any byte of the response. Retrying on a fresh connection is safe: GETs are
    // idempotent, and a TAXII POST of the same object versions again is a no-op (TAXII 2.1
    // section 5.5: a duplicate version is not an error).
    if (!(reused && attempt.retryable) || attempt_no >= kMaxAttempts) {
      return attempt.result.status();
    }
  }
}

Result<HttpResult> TaxiiClient::Call(std::string_view method, std::string_view url,
                                     std::string_view body) {
  ASSIGN_OR_RETURN(HttpResult r, Exchange(method, url, body));
  if (r.status >= 200 && r.status < 300) return r;
  std::string absolute = Resolve(url).value_or(std::string(url));
  std::string msg = std::string(method) + " " + absolute + ": HTTP " + std::to_string(r.status);
  std::string reason = ReasonOf(r.status);
  if (!reason.empty() && reason != "<unknown-status>") msg += " " + reason;
  if (r.status >= 300 && r.status < 400) {
    std::string location = r.Header("Location");
    msg += location.empty() ? " (redirects are not followed)"
                            : " (redirected to " + location + "; use that URL)";
    return InvalidArgumentError(msg);
  }
  std::string detail = DescribeErrorBody(r.body);
  // Servers often repeat the reason phrase as the error title: say it once.
  if (!reason.empty() && detail.rfind(reason, 0) == 0) {
    detail = detail.substr(reason.size());
    if (detail.rfind(": ", 0) == 0) detail = detail.substr(2);
  }
  if (!detail.empty()) msg += ": " + detail;
  return Status(CodeForHttpStatus(r.status), msg);
}

namespace {

Result<DiscoveryInfo> DiscoveryFromJson(const json::object& o) {
  DiscoveryInfo d;
  d.title = GetString(o, "title");
  if (d.title.empty()) {
    return InvalidArgumentError(
        "the server's response is not a TAXII discovery resource (no "
        "title)");
  }
  d.description = GetString(o, "description");
  d.contact = GetString(o, "contact");
  d.default_api_root = GetString(o, "default");
  d.api_roots = GetStrings(o, "api_roots");
  return d;
}

Result<ApiRootInfo> ApiRootFromJson(const json::object& o) {
  ApiRootInfo a;
  a.title = GetString(o, "title");
  a.description = GetString(o, "description");
  a.versions = GetStrings(o, "versions");
  a.max_content_length = GetInt(o, "max_content_length");
  if (a.title.empty() || !o.contains("max_content_length")) {
    return InvalidArgumentError(
        "the server's response is not a TAXII API root resource (no "
        "title or max_content_length)");
  }
  return a;
}

}  // namespace

Result<DiscoveryInfo> TaxiiClient::Discovery() {
  urls::url_view u = urls::parse_uri(state_->url).value();
  std::string path = std::string(u.encoded_path());
  std::string target = path.size() >= 8 && path.ends_with("/taxii2/") ? path : "/taxii2/";
  ASSIGN_OR_RETURN(HttpResult r, Call("GET", target, {}));
  ASSIGN_OR_RETURN(json::object o, ParseJsonObject(r, "discovery"));
  return DiscoveryFromJson(o);
}

Result<ApiRootInfo> TaxiiClient::GetApiRoot(std::string_view api_root_url) {
  ASSIGN_OR_RETURN(HttpResult r, Call("GET", JoinUrl(api_root_url, ""), {}));
  ASSIGN_OR_RETURN(json::object o, ParseJsonObject(r, "API root"));
  return ApiRootFromJson(o);
}

Result<TaxiiClient::ResolvedApiRoot> TaxiiClient::ResolveApiRoot(std::string_view url) {
  ASSIGN_OR_RETURN(std::string absolute, Resolve(JoinUrl(url, "")));
  ASSIGN_OR_RETURN(HttpResult r, Call("GET", absolute, {}));
  ASSIGN_OR_RETURN(json::object o, ParseJsonObject(r, "API root or discovery"));
  // TAXII 2.1 sections 4.1.1 and 4.2.1: discovery has api_roots/default, an API root has
  // versions and max_content_length.
  if (o.contains("max_content_length") || o.contains("versions")) {
    ASSIGN_OR_RETURN(ApiRootInfo info, ApiRootFromJson(o));
    return ResolvedApiRoot{absolute, std::move(info)};
  }
  if (!o.contains("api_roots") && !o.contains("default")) {
    return InvalidArgumentError(absolute + " is neither a TAXII API root nor a discovery resource");
  }
  ASSIGN_OR_RETURN(DiscoveryInfo d, DiscoveryFromJson(o));
  std::string root = d.default_api_root;
  if (root.empty()) {
    if (d.api_roots.size() != 1) {
      std::string list;
      for (const std::string& a : d.api_roots) list += (list.empty() ? "" : ", ") + a;
      return InvalidArgumentError(
          absolute + " names no default API root" +
          (list.empty() ? std::string(" and no API roots") : "; give one of: " + list));
    }
    root = d.api_roots.front();
  }
  ASSIGN_OR_RETURN(std::string root_url, Resolve(JoinUrl(root, "")));
  ASSIGN_OR_RETURN(ApiRootInfo info, GetApiRoot(root_url));
  return ResolvedApiRoot{root_url, std::move(info)};
}

Result<std::vector<CollectionInfo>> TaxiiClient::GetCollections(std::string_view api_root_url) {
  ASSIGN_OR_RETURN(HttpResult r, Call("GET", JoinUrl(api_root_url, "collections/"), {}));
  std::vector<CollectionInfo> out;
  // TAXII 2.1 section 5.1: an API root without collections may answer with an empty body... or
  // an empty object; both mean "none".
  if (r.body.empty()) return out;
  ASSIGN_OR_RETURN(json::object o, ParseJsonObject(r, "collections"));
  const json::value* list = o.if_contains("collections");
  if (!list) return out;
  if (!list->is_array()) {
    return InvalidArgumentError("the server's collections response has no collections array");
  }
  for (const json::value& e : list->get_array()) {
    if (!e.is_object()) continue;
    const json::object& c = e.get_object();
    CollectionInfo info;
    info.id = GetString(c, "id");
    info.title = GetString(c, "title");
    info.description = GetString(c, "description");
    info.alias = GetString(c, "alias");
    info.can_read = GetBool(c, "can_read");
    info.can_write = GetBool(c, "can_write");
    info.media_types = GetStrings(c, "media_types");
    out.push_back(std::move(info));
  }
  return out;
}

Result<StatusInfo> TaxiiClient::AddObjects(std::string_view api_root_url,
                                           std::string_view collection_id,
                                           std::string_view envelope_json) {
  if (collection_id.empty()) return InvalidArgumentError("no collection id given");
  std::string url =
      JoinUrl(api_root_url, "collections/" + EncodeSegment(collection_id) + "/objects/");
  ASSIGN_OR_RETURN(HttpResult r, Call("POST", url, envelope_json));
  return ParseStatus(r);
}

Result<StatusInfo> TaxiiClient::GetStatus(std::string_view api_root_url,
                                          std::string_view status_id) {
  if (status_id.empty()) return InvalidArgumentError("no status id given");
  ASSIGN_OR_RETURN(
      HttpResult r,
      Call("GET", JoinUrl(api_root_url, "status/" + EncodeSegment(status_id) + "/"), {}));
  return ParseStatus(r);
}

Result<ObjectsPage> TaxiiClient::GetObjects(std::string_view api_root_url,
                                            std::string_view collection_id,
                                            const GetObjectsOptions& options) {
  if (collection_id.empty()) return InvalidArgumentError("no collection id given");
  ASSIGN_OR_RETURN(
      std::string base,
      Resolve(JoinUrl(api_root_url, "collections/" + EncodeSegment(collection_id) + "/objects/")));
  std::vector<std::pair<std::string, std::string>> params;
  if (!options.added_after.empty()) params.emplace_back("added_after", options.added_after);
  if (options.limit) params.emplace_back("limit", std::to_string(*options.limit));
  if (!options.next.empty()) params.emplace_back("next", options.next);
  for (const auto& kv : options.filters) params.push_back(kv);
  std::string url = base;
  char sep = '?';
  for (const auto& [k, v] : params) {
    url += sep;
    url += EncodeQueryComponent(k) + "=" + EncodeQueryComponent(v);
    sep = '&';
  }
  ASSIGN_OR_RETURN(HttpResult r, Call("GET", url, {}));

  ObjectsPage page;
  page.date_added_first = r.Header("X-TAXII-Date-Added-First");
  page.date_added_last = r.Header("X-TAXII-Date-Added-Last");
  if (r.body.empty()) return page;  // TAXII 2.1 section 5.4: an empty response means no objects
  // simdjson so each object's bytes can be kept exactly as the server sent them.
  try {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(r.body);
    simdjson::ondemand::document doc = parser.iterate(padded);
    simdjson::ondemand::object root = doc.get_object();
    for (auto field : root) {
      std::string_view key = field.unescaped_key();
      if (key == "more") {
        page.more = field.value().get_bool();
      } else if (key == "next") {
        page.next = std::string(std::string_view(field.value().get_string()));
      } else if (key == "objects") {
        for (auto element : field.value().get_array()) {
          simdjson::ondemand::object object = element.get_object();
          std::string_view raw = object.raw_json();
          while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back()))) {
            raw.remove_suffix(1);  // raw_json() includes the whitespace before the next token
          }
          page.objects.emplace_back(raw);
        }
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    return InvalidArgumentError("the server's objects response is not a valid TAXII envelope: " +
                                std::string(e.what()));
  }
  return page;
}

}  // namespace liaison::federation
