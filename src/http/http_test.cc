// End-to-end tests of the HTTP server with the real Router, Authenticator and TAXII service over a
// MemoryStore, talking to it with a small synchronous Beast client.

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include "auth/api_key.h"
#include "auth/authenticator.h"
#include "auth/password.h"
#include "http/router.h"
#include "http/server.h"
#include "http/status_mapping.h"
#include "storage/memory/memory_store.h"
#include "taxii/service.h"

namespace liaison::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr char kCollectionId[] = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
constexpr char kPassword[] = "correct horse battery";

std::string Base64(std::string_view s) {
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

// A blocking HTTP/1.1 client over one connection, with a receive timeout so a misbehaving server
// fails the test instead of hanging it.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{10, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void SendRaw(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes)); }

  bhttp::response<bhttp::string_body> Read(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head);
    bhttp::read(socket_, buffer_, parser);
    return parser.release();
  }

  bhttp::response<bhttp::string_body> Send(const std::string& method, const std::string& target,
                                           const std::string& authorization = "",
                                           const std::string& body = "",
                                           const std::string& content_type = "") {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
    req.set(bhttp::field::accept, taxii::kTaxiiMediaType);
    if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(socket_, req);
    return Read(method == "HEAD");
  }

  // True if the server closed the connection (a read returns EOF).
  bool Closed() {
    beast::error_code ec;
    char c;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = storage::memory::MemoryStore::Create();
    storage::ApiRoot root;
    root.name = "api1";
    root.title = "Test root";
    root.max_content_length = 4096;
    ASSERT_TRUE(store_->CreateApiRoot(root).ok());
    storage::Collection collection;
    collection.id = kCollectionId;
    collection.api_root = "api1";
    collection.title = "Default";
    ASSERT_TRUE(store_->CreateCollection(collection).ok());
    Result<std::string> hash = auth::HashPassword(kPassword);
    ASSERT_TRUE(hash.ok());
    storage::User admin;
    admin.name = "admin";
    admin.role = storage::Role::kAdmin;
    admin.password_hash = *hash;
    ASSERT_TRUE(store_->CreateUser(admin).ok());
    Result<std::string> secret = auth::LoadOrCreateHubSecret(*store_);
    ASSERT_TRUE(secret.ok());
    Result<auth::NewApiKey> key = auth::GenerateApiKey("admin", "test", *secret, 1);
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(store_->CreateApiKey(key->record).ok());
    api_token_ = key->token;
    basic_ = "Basic " + Base64(std::string("admin:") + kPassword);

    auth::AuthenticatorOptions auth_options;
    auth_options.max_failures = 5;
    authenticator_ = std::make_unique<auth::Authenticator>(*store_, clock_, auth_options);
    service_ = std::make_unique<taxii::Service>(*store_, clock_, taxii::ServiceOptions{});
    router_ = std::make_unique<Router>(*authenticator_, *service_, *store_);
  }

  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.threads == 0) options.threads = 2;
    Result<std::unique_ptr<Server>> server = Server::Start(options, *router_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string ObjectsPath() const {
    return std::string("/api1/collections/") + kCollectionId + "/objects/";
  }

  FakeClock clock_;
  std::unique_ptr<storage::memory::MemoryStore> store_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<taxii::Service> service_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Server> server_;
  std::string api_token_;
  std::string basic_;
};

TEST_F(HttpServerTest, MissingCredentialsGet401WithChallenge) {
  StartServer();
  Client client(server_->port());
  auto res = client.Send("GET", "/taxii2/");
  EXPECT_EQ(res.result_int(), 401);
  std::string challenge(res[bhttp::field::www_authenticate]);
  EXPECT_NE(challenge.find("Basic realm=\"liaison\""), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("Bearer"), std::string::npos) << challenge;
  EXPECT_EQ(res[bhttp::field::content_type], taxii::kTaxiiMediaType);
  EXPECT_NE(res.body().find("\"http_status\":\"401\""), std::string::npos) << res.body();
  // The connection stays usable after a 401 without a body.
  EXPECT_EQ(client.Send("GET", "/healthz").result_int(), 200);
}

TEST_F(HttpServerTest, WrongCredentialsGet401) {
  StartServer();
  Client client(server_->port());
  EXPECT_EQ(client.Send("GET", "/taxii2/", "Basic " + Base64("admin:wrong")).result_int(), 401);
  EXPECT_EQ(client.Send("GET", "/taxii2/", "Basic " + Base64("nobody:x")).result_int(), 401);
  EXPECT_EQ(client.Send("GET", "/taxii2/", "Bearer lsk_nope").result_int(), 401);
  EXPECT_EQ(client.Send("GET", "/taxii2/", "Negotiate abc").result_int(), 401);
}

TEST_F(HttpServerTest, UnknownPathsAreHiddenUntilAuthenticated) {
  StartServer();
  Client client(server_->port());
  EXPECT_EQ(client.Send("GET", "/nowhere/").result_int(), 401);
  EXPECT_EQ(client.Send("GET", "/nowhere/", basic_).result_int(), 404);
  EXPECT_EQ(client.Send("GET", "/healthz/extra", basic_).result_int(), 404);
}

TEST_F(HttpServerTest, RepeatedFailuresGet429WithRetryAfter) {
  StartServer();
  Client client(server_->port());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(client.Send("GET", "/taxii2/", "Basic " + Base64("admin:guess")).result_int(), 401);
  }
  auto res = client.Send("GET", "/taxii2/", basic_);
  EXPECT_EQ(res.result_int(), 429);
  EXPECT_FALSE(res[bhttp::field::retry_after].empty());
  // Health checks are never throttled.
  EXPECT_EQ(client.Send("GET", "/healthz").result_int(), 200);
}

TEST_F(HttpServerTest, HealthzIsPublic) {
  StartServer();
  Client client(server_->port());
  auto res = client.Send("GET", "/healthz");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "{\"status\":\"ok\"}");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  auto head = client.Send("HEAD", "/healthz");
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[bhttp::field::content_length], "15");
  // Other methods on /healthz are not public.
  EXPECT_EQ(client.Send("POST", "/healthz", "", "x").result_int(), 401);
  EXPECT_EQ(Client(server_->port()).Send("DELETE", "/healthz", basic_).result_int(), 405);
}

TEST_F(HttpServerTest, DiscoveryWithBasicAndBearer) {
  StartServer();
  Client client(server_->port());
  auto res = client.Send("GET", "/taxii2/", basic_);
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res[bhttp::field::content_type], taxii::kTaxiiMediaType);
  EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
  EXPECT_NE(res.body().find("api1"), std::string::npos) << res.body();
  auto bearer = client.Send("GET", "/api1/collections/", "Bearer " + api_token_);
  EXPECT_EQ(bearer.result_int(), 200) << bearer.body();
  EXPECT_NE(bearer.body().find(kCollectionId), std::string::npos) << bearer.body();
}

TEST_F(HttpServerTest, PostObjectsAndReadThemBackWithDecodedQuery) {
  StartServer();
  Client client(server_->port());
  const std::string envelope =
      R"({"objects":[{"type":"indicator","spec_version":"2.1",)"
      R"("id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",)"
      R"("created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)"
      R"("pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix",)"
      R"("valid_from":"2024-01-01T00:00:00Z"}]})";
  auto post = client.Send("POST", ObjectsPath(), basic_, envelope, taxii::kTaxiiMediaType);
  EXPECT_EQ(post.result_int(), 202) << post.body();
  EXPECT_NE(post.body().find("\"success_count\":1"), std::string::npos) << post.body();
  // match[type] percent-encoded, and with literal brackets as curl -g sends it.
  for (const std::string query : {"?match%5Btype%5D=indicator", "?match[type]=indicator"}) {
    auto get = client.Send("GET", ObjectsPath() + query, basic_);
    EXPECT_EQ(get.result_int(), 200) << get.body();
    EXPECT_NE(get.body().find("indicator--8e2e2d2b"), std::string::npos) << get.body();
  }
  auto none = client.Send("GET", ObjectsPath() + "?match%5Btype%5D=malware", basic_);
  EXPECT_EQ(none.result_int(), 200) << none.body();
  EXPECT_EQ(none.body().find("indicator--8e2e2d2b"), std::string::npos) << none.body();
  EXPECT_EQ(client.Send("GET", ObjectsPath() + "?match%ZZtype", basic_).result_int(), 400);
}

TEST_F(HttpServerTest, BodyOverTheApiRootLimitGets413BeforeItIsSent) {
  StartServer();
  Client client(server_->port());
  // Only the header: the server must answer without waiting for 200 MB.
  client.SendRaw("POST " + ObjectsPath() + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic_ +
                 "\r\nContent-Type: application/taxii+json;version=2.1\r\n"
                 "Content-Length: 200000000\r\n\r\n");
  auto res = client.Read();
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_NE(res.body().find("\"http_status\":\"413\""), std::string::npos) << res.body();
  EXPECT_FALSE(res.keep_alive());
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitGets413WhileReading) {
  StartServer();
  Client client(server_->port());
  std::string chunk(3000, 'x');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  client.SendRaw("POST " + ObjectsPath() + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic_ +
                 "\r\nContent-Type: application/taxii+json;version=2.1\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n" +
                 size + "\r\n" + chunk + "\r\n" + size + "\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 413);
}

TEST_F(HttpServerTest, UnauthenticatedBodyIsNeverRead) {
  StartServer();
  Client client(server_->port());
  client.SendRaw("POST " + ObjectsPath() + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
  auto res = client.Read();
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_FALSE(res.keep_alive());
}

TEST_F(HttpServerTest, ExpectContinueGetsInterimResponse) {
  StartServer();
  Client client(server_->port());
  client.SendRaw("POST " + ObjectsPath() + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic_ +
                 "\r\nContent-Type: application/taxii+json;version=2.1\r\n"
                 "Expect: 100-continue\r\nContent-Length: 14\r\n\r\n");
  auto cont = client.Read(/*head=*/true);
  EXPECT_EQ(cont.result_int(), 100);
  client.SendRaw(R"({"objects":[]})");
  auto res = client.Read();
  EXPECT_NE(res.result_int(), 100);
  EXPECT_LT(res.result_int(), 500) << res.body();
}

TEST_F(HttpServerTest, OversizedHeaderGets431) {
  StartServer();
  Client client(server_->port());
  client.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
                 "\r\n\r\n");
  auto res = client.Read();
  EXPECT_EQ(res.result_int(), 431);
  EXPECT_TRUE(client.Closed());
}

TEST_F(HttpServerTest, OverlongTargetGets414) {
  StartServer();
  Client client(server_->port());
  client.SendRaw("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 414);
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndTheServerKeepsServing) {
  StartServer();
  for (const std::string& bad : {
           std::string("GARBAGE\r\n\r\n"),
           std::string("GET / HTTP/9.9\r\n\r\n"),
           std::string("GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"),
           std::string("GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"),
           std::string("GET http://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n"),
           std::string("POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
           std::string("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
       }) {
    SCOPED_TRACE(bad.substr(0, 40));
    Client client(server_->port());
    client.SendRaw(bad);
    auto res = client.Read();
    EXPECT_EQ(res.result_int(), 400) << res.body();
  }
  EXPECT_EQ(Client(server_->port()).Send("GET", "/healthz").result_int(), 200);
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  Client client(server_->port());
  for (int i = 0; i < 20; ++i) {
    auto res = client.Send("GET", i % 2 ? "/healthz" : "/taxii2/", basic_);
    ASSERT_EQ(res.result_int(), 200) << i;
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client client(server_->port());
  client.SendRaw(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: " +
      basic_ +
      "\r\n\r\n"
      "GET /taxii2/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 200);
  EXPECT_EQ(client.Read().result_int(), 404);
  EXPECT_EQ(client.Read().result_int(), 401);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  Client client(server_->port());
  client.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto res = client.Read();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(client.Closed());
}

TEST_F(HttpServerTest, IdleConnectionsTimeOut) {
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  options.header_timeout = std::chrono::milliseconds(200);
  StartServer(options);
  Client client(server_->port());
  EXPECT_EQ(client.Send("GET", "/healthz").result_int(), 200);
  EXPECT_TRUE(client.Closed());  // blocks until the server gives up on the idle connection
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreRefused) {
  ServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  Client a(server_->port());
  Client b(server_->port());
  EXPECT_EQ(a.Send("GET", "/healthz").result_int(), 200);
  EXPECT_EQ(b.Send("GET", "/healthz").result_int(), 200);
  Client c(server_->port());
  EXPECT_EQ(c.Read().result_int(), 503);
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(a.Send("GET", "/healthz").result_int(), 200);
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsAndIsIdempotent) {
  StartServer();
  Client client(server_->port());
  EXPECT_EQ(client.Send("GET", "/healthz").result_int(), 200);
  server_->Stop();
  EXPECT_TRUE(client.Closed());
  EXPECT_EQ(server_->open_connections(), 0u);
  server_->Stop();
  boost::system::error_code ec;
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()), ec);
  EXPECT_TRUE(ec) << "the listener still accepts after Stop";
}

TEST_F(HttpServerTest, BadListenAddressesFail) {
  ServerOptions options;
  options.host = "no-such-host.invalid";
  options.port = 0;
  EXPECT_FALSE(Server::Start(options, *router_).ok());
  StartServer();
  ServerOptions taken;
  taken.host = "127.0.0.1";
  taken.port = server_->port();
  Result<std::unique_ptr<Server>> second = Server::Start(taken, *router_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "liaison-http-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST_F(HttpServerTest, MissingTlsFilesFailWithTheFileName) {
  ServerOptions options;
  options.port = 0;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  Result<std::unique_ptr<Server>> server = Server::Start(options, *router_);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("/nonexistent/cert.pem"), std::string::npos);
  options.tls_key_file.clear();
  EXPECT_FALSE(Server::Start(options, *router_).ok());
}

TEST_F(HttpServerTest, ServesOverTls) {
  TempDir dir;
  const std::string cert = (dir.path() / "cert.pem").string();
  const std::string key = (dir.path() / "key.pem").string();
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  StartServer(options);
  EXPECT_TRUE(server_->tls());

  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(cert);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<tcp::socket> stream(ioc, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  stream.handshake(asio::ssl::stream_base::client);
  EXPECT_GE(SSL_version(stream.native_handle()), TLS1_2_VERSION);
  for (const char* target : {"/healthz", "/taxii2/"}) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "localhost");
    req.set(bhttp::field::authorization, basic_);
    req.set(bhttp::field::accept, taxii::kTaxiiMediaType);
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res);
    EXPECT_EQ(res.result_int(), 200) << target << " " << res.body();
    if (std::string_view(target) == "/taxii2/") {
      // Discovery over TLS advertises https URLs.
      EXPECT_NE(res.body().find("https://"), std::string::npos) << res.body();
    }
  }

  // A plain-text client gets no HTTP answer from a TLS port.
  Client plain(server_->port());
  plain.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(plain.Closed());
}

TEST(StatusMapping, EveryCodeHasAStatusAndTaxiiBody) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotAcceptable), 406);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnsupportedMediaType), 415);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 422);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);

  taxii::Response unauth = ErrorResponse(UnauthenticatedError("authentication required"));
  EXPECT_EQ(unauth.status, 401);
  ASSERT_EQ(unauth.headers.size(), 1u);
  EXPECT_EQ(unauth.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(unauth.content_type, taxii::kTaxiiMediaType);
  EXPECT_EQ(unauth.body, R"({"title":"Unauthorized","description":"authentication required",)"
                         R"("http_status":"401"})");

  taxii::Response internal = ErrorResponse(InternalError("SQL error at /var/secret/hub.db"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("secret"), std::string::npos) << internal.body;

  taxii::Response limited = RateLimitedResponse("slow down", 0);
  EXPECT_EQ(limited.status, 429);
  ASSERT_EQ(limited.headers.size(), 1u);
  EXPECT_EQ(limited.headers[0], std::make_pair(std::string("Retry-After"), std::string("1")));

  // Quotes and control characters in messages stay valid JSON.
  taxii::Response quoted = ErrorResponse(InvalidArgumentError("bad \"x\"\n"));
  EXPECT_NE(quoted.body.find(R"(bad \"x\"\n)"), std::string::npos) << quoted.body;
}

TEST(ParseTarget, DecodesQueryParameters) {
  Result<SplitTarget> t = ParseTarget(
      "/api1/collections/x/objects/?match%5Btype%5D=indicator,malware&limit=10"
      "&match[id]=a%2Bb+c&flag&&empty=");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/api1/collections/x/objects/");
  ASSERT_EQ(t->query.size(), 5u);
  EXPECT_EQ(t->query[0],
            std::make_pair(std::string("match[type]"), std::string("indicator,malware")));
  EXPECT_EQ(t->query[1], std::make_pair(std::string("limit"), std::string("10")));
  EXPECT_EQ(t->query[2], std::make_pair(std::string("match[id]"), std::string("a+b+c")));
  EXPECT_EQ(t->query[3], std::make_pair(std::string("flag"), std::string("")));
  EXPECT_EQ(t->query[4], std::make_pair(std::string("empty"), std::string("")));

  EXPECT_FALSE(ParseTarget("/x?a=%").ok());
  EXPECT_FALSE(ParseTarget("/x?a=%4").ok());
  EXPECT_FALSE(ParseTarget("/x?a=%G0").ok());
  EXPECT_TRUE(ParseTarget("/x?a=%41").ok());
  EXPECT_EQ(ParseTarget("/x?a=%41")->query[0].second, "A");
  EXPECT_TRUE(ParseTarget("/x")->query.empty());
}

}  // namespace
}  // namespace liaison::http
