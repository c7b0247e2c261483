#include "federation/taxii_client.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "federation/fake_http_server.h"

namespace liaison::federation {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

using FakeServer = testing::FakeHttpServer;
using testing::Req;
using testing::Res;

Res Json(int status, std::string body) {
  Res res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/taxii+json;version=2.1");
  res.keep_alive(true);
  res.body() = std::move(body);
  return res;
}

constexpr char kDiscovery[] =
    R"({"title":"Test hub","description":"d","contact":"c","default":"http://x/api/",)"
    R"("api_roots":["http://x/api/","/other/"]})";
constexpr char kApiRoot[] = R"({"title":"API","versions":["application/taxii+json;version=2.1"],)"
                            R"("max_content_length":1048576})";
constexpr char kStatus[] =
    R"({"id":"2d086da7-4bdc-4f91-900e-d77486753710","status":"complete","total_count":3,)"
    R"("success_count":2,"failure_count":1,"pending_count":0,)"
    R"("successes":[{"id":"indicator--1","version":"2020-01-01T00:00:00.000Z"}],)"
    R"("failures":[{"id":"malware--2","version":"2020-01-01T00:00:00.000Z",)"
    R"("message":"property 'name': required"}]})";

std::unique_ptr<TaxiiClient> MakeClient(const std::string& url, TaxiiClientOptions options = {}) {
  auto client = TaxiiClient::Create(url, std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

TEST(TaxiiClient, DiscoverySendsTaxiiAcceptAndBasicCredentials) {
  FakeServer server([](const Req&) { return Json(200, kDiscovery); });
  TaxiiClientOptions options;
  options.credentials = Credentials::Basic("alice", "s3cret:pw");
  auto client = MakeClient(server.base() + "/taxii2/", options);
  ASSERT_NE(client, nullptr);
  Result<DiscoveryInfo> d = client->Discovery();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->title, "Test hub");
  EXPECT_EQ(d->default_api_root, "http://x/api/");
  ASSERT_EQ(d->api_roots.size(), 2u);
  EXPECT_EQ(d->api_roots[1], "/other/");

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target(), "/taxii2/");
  EXPECT_EQ(reqs[0][http::field::accept], "application/taxii+json;version=2.1");
  // base64("alice:s3cret:pw")
  EXPECT_EQ(reqs[0][http::field::authorization], "Basic YWxpY2U6czNjcmV0OnB3");
  EXPECT_EQ(reqs[0][http::field::host], "127.0.0.1:" + std::to_string(server.port()));
}

TEST(TaxiiClient, DiscoveryFromApiRootUrlUsesWellKnownPath) {
  FakeServer server([](const Req&) { return Json(200, kDiscovery); });
  auto client = MakeClient(server.base() + "/api/");
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Discovery().ok());
  EXPECT_EQ(server.requests().at(0).target(), "/taxii2/");
}

TEST(TaxiiClient, BearerCredentials) {
  FakeServer server([](const Req&) { return Json(200, kApiRoot); });
  TaxiiClientOptions options;
  options.credentials = Credentials::Bearer("lsk_0123456789abcdef.secret");
  auto client = MakeClient(server.base(), options);
  ASSERT_NE(client, nullptr);
  Result<ApiRootInfo> root = client->GetApiRoot("/api");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(root->max_content_length, 1048576);
  EXPECT_EQ(root->title, "API");
  auto reqs = server.requests();
  EXPECT_EQ(reqs.at(0).target(), "/api/");
  EXPECT_EQ(reqs.at(0)[http::field::authorization], "Bearer lsk_0123456789abcdef.secret");
}

TEST(TaxiiClient, AddObjectsPostsEnvelopeAndParsesStatus) {
  FakeServer server([](const Req&) { return Json(202, kStatus); });
  auto client = MakeClient(server.base() + "/api/");
  ASSERT_NE(client, nullptr);
  std::string envelope = R"({"objects":[{"type":"x"}]})";
  Result<StatusInfo> s = client->AddObjects(client->url(), "coll 1", envelope);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->status, "complete");
  EXPECT_EQ(s->total_count, 3);
  EXPECT_EQ(s->success_count, 2);
  EXPECT_EQ(s->failure_count, 1);
  ASSERT_EQ(s->failures.size(), 1u);
  EXPECT_EQ(s->failures[0].id, "malware--2");
  EXPECT_EQ(s->failures[0].message, "property 'name': required");
  ASSERT_EQ(s->successes.size(), 1u);

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method(), http::verb::post);
  EXPECT_EQ(reqs[0].target(), "/api/collections/coll%201/objects/");
  EXPECT_EQ(reqs[0][http::field::content_type], "application/taxii+json;version=2.1");
  EXPECT_EQ(reqs[0].body(), envelope);
}

TEST(TaxiiClient, GetObjectsSendsFiltersAndKeepsObjectBytes) {
  FakeServer server([](const Req&) {
    Res res = Json(200, R"({"more":true,"next":"abc+/=","objects":[)"
                        R"({"type":"indicator","id":"indicator--1","n":1.50},)"
                        R"( {"type":"malware", "x":[1, 2]} ]})");
    res.set("X-TAXII-Date-Added-First", "2020-01-01T00:00:00.000000Z");
    res.set("X-TAXII-Date-Added-Last", "2020-01-02T00:00:00.000000Z");
    return res;
  });
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  GetObjectsOptions opts;
  opts.added_after = "2020-01-01T00:00:00.000Z";
  opts.limit = 2;
  opts.next = "a b&c";
  opts.filters = {{"match[type]", "indicator,malware"}};
  Result<ObjectsPage> page = client->GetObjects("/api/", "c1", opts);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->next, "abc+/=");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0], R"({"type":"indicator","id":"indicator--1","n":1.50})");
  EXPECT_EQ(page->objects[1], R"({"type":"malware", "x":[1, 2]})");
  EXPECT_EQ(page->date_added_first, "2020-01-01T00:00:00.000000Z");
  EXPECT_EQ(page->date_added_last, "2020-01-02T00:00:00.000000Z");

  std::string target = std::string(server.requests().at(0).target());
  EXPECT_EQ(target.rfind("/api/collections/c1/objects/?", 0), 0u) << target;
  EXPECT_NE(target.find("added_after=2020-01-01T00:00:00.000Z"), std::string::npos) << target;
  EXPECT_NE(target.find("limit=2"), std::string::npos) << target;
  EXPECT_NE(target.find("next=a%20b%26c"), std::string::npos) << target;
  EXPECT_NE(target.find("match%5Btype%5D=indicator,malware"), std::string::npos) << target;
}

TEST(TaxiiClient, GetCollectionsAndStatus) {
  FakeServer server([](const Req& req) {
    if (req.target() == "/api/collections/") {
      return Json(200, R"({"collections":[{"id":"c1","title":"One","alias":"one",)"
                       R"("can_read":true,"can_write":false,"media_types":["m"]},)"
                       R"({"id":"c2","title":"Two","can_read":true,"can_write":true}]})");
    }
    if (req.target() == "/empty/collections/") return Json(200, "{}");
    return Json(200, kStatus);
  });
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  Result<std::vector<CollectionInfo>> cs = client->GetCollections("/api/");
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  ASSERT_EQ(cs->size(), 2u);
  EXPECT_EQ((*cs)[0].alias, "one");
  EXPECT_TRUE((*cs)[0].can_read);
  EXPECT_FALSE((*cs)[0].can_write);
  EXPECT_EQ((*cs)[0].media_types, std::vector<std::string>{"m"});
  EXPECT_TRUE((*cs)[1].can_write);
  Result<std::vector<CollectionInfo>> none = client->GetCollections("/empty/");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  Result<StatusInfo> st = client->GetStatus("/api/", "2d086da7-4bdc-4f91-900e-d77486753710");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->failure_count, 1);
  EXPECT_EQ(server.requests().back().target(), "/api/status/2d086da7-4bdc-4f91-900e-d77486753710/");
}

TEST(TaxiiClient, EmptyObjectsResponseIsAnEmptyPage) {
  FakeServer server([](const Req&) { return Json(200, ""); });
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  Result<ObjectsPage> page = client->GetObjects("/api/", "c1");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->more);
}

TEST(TaxiiClient, ReusesOneKeepAliveConnection) {
  FakeServer server([](const Req&) { return Json(200, kApiRoot); });
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->GetApiRoot("/api/").ok());
  EXPECT_EQ(client->connections_opened(), 1u);
  client.reset();
  EXPECT_EQ(server.connections(), 1);
}

TEST(TaxiiClient, ReconnectsWhenServerDropsIdleConnection) {
  FakeServer::Options options;
  options.drop_after_response = true;
  FakeServer server([](const Req&) { return Json(200, kApiRoot); }, options);
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    Result<ApiRootInfo> r = client->GetApiRoot("/api/");
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_GE(client->connections_opened(), 3u);
}

TEST(TaxiiClient, ReconnectsAfterConnectionClose) {
  FakeServer server([](const Req&) {
    Res res = Json(200, kApiRoot);
    res.keep_alive(false);
    return res;
  });
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->GetApiRoot("/api/").ok());
  ASSERT_TRUE(client->GetApiRoot("/api/").ok());
  EXPECT_EQ(client->connections_opened(), 2u);
}

TEST(TaxiiClient, HttpErrorCarriesTaxiiErrorTitleAndDescription) {
  FakeServer server([](const Req&) {
    return Json(403, R"({"title":"Forbidden","description":"no write access to collection c1",)"
                     R"("http_status":"403"})");
  });
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  Result<StatusInfo> s = client->AddObjects("/api/", "c1", R"({"objects":[]})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.status().message().find("HTTP 403"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("Forbidden: no write access to collection c1"),
            std::string::npos)
      << s.status().message();
  EXPECT_NE(s.status().message().find("POST " + server.base() + "/api/collections/c1/objects/"),
            std::string::npos)
      << s.status().message();
}

TEST(TaxiiClient, HttpStatusesMapToCodes) {
  struct Case {
    int http;
    StatusCode code;
  };
  for (Case c :
       {Case{401, StatusCode::kUnauthenticated}, Case{404, StatusCode::kNotFound},
        Case{406, StatusCode::kNotAcceptable}, Case{413, StatusCode::kResourceExhausted},
        Case{415, StatusCode::kUnsupportedMediaType}, Case{400, StatusCode::kInvalidArgument},
        Case{503, StatusCode::kUnavailable}, Case{500, StatusCode::kInternal}}) {
    FakeServer server([&](const Req&) { return Json(c.http, "plain text\nerror"); });
    auto client = MakeClient(server.base());
    ASSERT_NE(client, nullptr);
    Result<ApiRootInfo> r = client->GetApiRoot("/api/");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << c.http << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find("plain text error"), std::string::npos)
        << r.status().message();
  }
}

TEST(TaxiiClient, RedirectIsReportedNotFollowed) {
  FakeServer server([](const Req&) {
    Res res = Json(301, "");
    res.set(http::field::location, "/api/");
    return res;
  });
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  Result<ApiRootInfo> r = client->GetApiRoot("/api");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("redirected to /api/"), std::string::npos)
      << r.status().message();
}

TEST(TaxiiClient, MalformedResponsesAreInvalidArgument) {
  for (std::string body : {"{not json", "[1,2]", R"({"title":"x"})"}) {
    FakeServer server([&](const Req&) { return Json(200, body); });
    auto client = MakeClient(server.base());
    ASSERT_NE(client, nullptr);
    Result<ApiRootInfo> r = client->GetApiRoot("/api/");
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    Result<StatusInfo> s = client->AddObjects("/api/", "c", "{}");
    ASSERT_FALSE(s.ok()) << body;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().ToString();
  }
  FakeServer server([](const Req&) { return Json(200, R"({"objects":[1]})"); });
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  Result<ObjectsPage> p = client->GetObjects("/api/", "c");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
}

TEST(TaxiiClient, ResponseLargerThanLimitIsResourceExhausted) {
  FakeServer server([](const Req&) { return Json(200, std::string(10000, ' ') + kApiRoot); });
  TaxiiClientOptions options;
  options.max_response_bytes = 1000;
  auto client = MakeClient(server.base(), options);
  ASSERT_NE(client, nullptr);
  Result<ApiRootInfo> r = client->GetApiRoot("/api/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
}

TEST(TaxiiClient, ConnectionRefusedIsUnavailableWithAddress) {
  uint16_t port;
  {
    // Find a port nobody listens on: bind, note it, close.
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  auto client = MakeClient("http://127.0.0.1:" + std::to_string(port) + "/api/");
  ASSERT_NE(client, nullptr);
  Result<ApiRootInfo> r = client->GetApiRoot(client->url());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.status().message();
}

TEST(TaxiiClient, SilentServerTimesOut) {
  // A listening socket that never accepts: the kernel completes the TCP handshake, nobody answers.
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  TaxiiClientOptions options;
  options.request_timeout = std::chrono::milliseconds(200);
  auto client =
      MakeClient("http://127.0.0.1:" + std::to_string(a.local_endpoint().port()), options);
  ASSERT_NE(client, nullptr);
  Result<ApiRootInfo> r = client->GetApiRoot("/api/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
}

TEST(TaxiiClient, TlsHandshakeWithPlainServerFails) {
  FakeServer server([](const Req&) { return Json(200, kApiRoot); });
  TaxiiClientOptions options;
  options.insecure = true;
  options.request_timeout = std::chrono::milliseconds(2000);
  options.connect_timeout = std::chrono::milliseconds(2000);
  auto client = MakeClient("https://127.0.0.1:" + std::to_string(server.port()), options);
  ASSERT_NE(client, nullptr);
  Result<ApiRootInfo> r = client->GetApiRoot("/api/");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("TLS"), std::string::npos) << r.status().ToString();
  client.reset();
}

TEST(TaxiiClient, CreateRejectsBadUrlsAndOptions) {
  EXPECT_EQ(TaxiiClient::Create("not a url", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TaxiiClient::Create("ftp://host/", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TaxiiClient::Create("http://user:pw@host/", {}).status().code(),
            StatusCode::kInvalidArgument);
  TaxiiClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  Result<std::unique_ptr<TaxiiClient>> c = TaxiiClient::Create("https://host/", options);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/ca.pem"), std::string::npos);
  options = {};
  options.credentials = Credentials::Basic("a:b", "pw");
  EXPECT_EQ(TaxiiClient::Create("http://host/", options).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TaxiiClient, ResolveStaysOnTheSameServer) {
  auto client = MakeClient("HTTP://Example.org:80/taxii2/");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->origin(), "http://Example.org");
  EXPECT_EQ(client->Resolve("/api/").value_or(""), "http://Example.org/api/");
  EXPECT_EQ(client->Resolve("http://example.org/api2/").value_or(""), "http://example.org/api2/");
  EXPECT_EQ(client->Resolve("../api/").value_or(""), "http://Example.org/api/");
  EXPECT_FALSE(client->Resolve("http://evil.example/api/").ok());
  EXPECT_FALSE(client->Resolve("https://example.org/api/").ok());
  EXPECT_FALSE(client->Resolve("http://example.org:8080/api/").ok());
}

TEST(TaxiiClient, ResolveApiRootFollowsDiscoveryDefault) {
  FakeServer server([](const Req& req) {
    if (req.target() == "/taxii2/") {
      return Json(200, R"({"title":"T","default":"/api1/","api_roots":["/api1/","/api2/"]})");
    }
    if (req.target() == "/api1/") return Json(200, kApiRoot);
    return Json(404, R"({"title":"Not found"})");
  });
  auto client = MakeClient(server.base() + "/taxii2/");
  ASSERT_NE(client, nullptr);
  Result<TaxiiClient::ResolvedApiRoot> r = client->ResolveApiRoot(client->url());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->url, server.base() + "/api1/");
  EXPECT_EQ(r->info.max_content_length, 1048576);
  // An API root URL is used as it is (and a missing trailing slash is added).
  r = client->ResolveApiRoot(server.base() + "/api1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->url, server.base() + "/api1/");
}

TEST(TaxiiClient, ResolveApiRootNeedsADefaultOrASingleRoot) {
  FakeServer server([](const Req& req) {
    if (req.target() == "/one/taxii2/") {
      return Json(200, R"({"title":"T","api_roots":["/api1/"]})");
    }
    if (req.target() == "/two/taxii2/") {
      return Json(200, R"({"title":"T","api_roots":["/api1/","/api2/"]})");
    }
    if (req.target() == "/api1/") return Json(200, kApiRoot);
    return Json(200, R"({"hello":"world"})");
  });
  auto client = MakeClient(server.base());
  ASSERT_NE(client, nullptr);
  Result<TaxiiClient::ResolvedApiRoot> r = client->ResolveApiRoot("/one/taxii2/");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->url, server.base() + "/api1/");
  r = client->ResolveApiRoot("/two/taxii2/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("/api1/, /api2/"), std::string::npos) << r.status().message();
  r = client->ResolveApiRoot("/other/");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("neither"), std::string::npos) << r.status().message();
}

// A self-signed certificate (usable as its own CA) for `san` ("IP:127.0.0.1", "DNS:x.example").
struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

TestCert MakeSelfSignedCert(const std::string& san) {
  TestCert out;
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("liaison test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, san},
                            {NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, pkey, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  out.cert_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  n = BIO_get_mem_data(bio, &data);
  out.key_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return out;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/liaison_tls_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
  std::string dir_;
};

TEST_F(TlsTest, VerifiesTheServerAgainstTheCaFile) {
  TestCert cert = MakeSelfSignedCert("IP:127.0.0.1");
  FakeServer::Options so;
  so.tls_cert_pem = cert.cert_pem;
  so.tls_key_pem = cert.key_pem;
  FakeServer server([](const Req&) { return Json(200, kApiRoot); }, so);
  ASSERT_EQ(server.base().rfind("https://", 0), 0u);

  TaxiiClientOptions trusted;
  trusted.ca_file = WriteFile("ca.pem", cert.cert_pem);
  auto client = MakeClient(server.base(), trusted);
  ASSERT_NE(client, nullptr);
  Result<ApiRootInfo> r = client->GetApiRoot("/api/");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(client->GetApiRoot("/api/").ok());
  EXPECT_EQ(client->connections_opened(), 1u);  // keep-alive over TLS too
  client.reset();                               // the fake server serves one connection at a time

  // The system trust store does not know this certificate.
  auto untrusted = MakeClient(server.base());
  ASSERT_NE(untrusted, nullptr);
  r = untrusted->GetApiRoot("/api/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("certificate verify failed"), std::string::npos)
      << r.status().message();
  untrusted.reset();

  // --insecure skips verification.
  TaxiiClientOptions insecure;
  insecure.insecure = true;
  auto lax = MakeClient(server.base(), insecure);
  ASSERT_NE(lax, nullptr);
  EXPECT_TRUE(lax->GetApiRoot("/api/").ok());
}

TEST_F(TlsTest, RejectsACertificateForAnotherHost) {
  TestCert cert = MakeSelfSignedCert("DNS:other.example");
  FakeServer::Options so;
  so.tls_cert_pem = cert.cert_pem;
  so.tls_key_pem = cert.key_pem;
  FakeServer server([](const Req&) { return Json(200, kApiRoot); }, so);
  TaxiiClientOptions trusted;
  trusted.ca_file = WriteFile("ca.pem", cert.cert_pem);
  auto client = MakeClient(server.base(), trusted);
  ASSERT_NE(client, nullptr);
  Result<ApiRootInfo> r = client->GetApiRoot("/api/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("certificate verify failed"), std::string::npos)
      << r.status().message();
}

TEST(JoinUrl, AddsExactlyOneSlash) {
  EXPECT_EQ(JoinUrl("/api", "collections/"), "/api/collections/");
  EXPECT_EQ(JoinUrl("/api/", "/collections/"), "/api/collections/");
  EXPECT_EQ(JoinUrl("http://h/api/", ""), "http://h/api/");
}

}  // namespace
}  // namespace liaison::federation
