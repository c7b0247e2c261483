#include "server/server.h"

#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "auth/api_key.h"
#include "auth/password.h"
#include "common/uuid.h"
#include "crypto/hub_keys.h"
#include "server/store_url.h"
#include "storage/hub_settings.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace liaison::server {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "liaison-server-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::filesystem::path path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(ParseListenAddress, RejectsMalformed) {
  for (const char* bad : {"", "8080", ":8080", "host:", "host:port", "host:65536", "host:-1",
                          "::1:8080", "[::1]", "[::1]8080", "[::1]:", "host:80x"}) {
    Result<ListenAddress> a = ParseListenAddress(bad);
    EXPECT_FALSE(a.ok()) << bad;
    if (!a.ok()) {
      EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(ParseListenAddress, AcceptsHostPortAndBracketedIpv6) {
  Result<ListenAddress> a = ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 0);
  Result<ListenAddress> b = ParseListenAddress("[::1]:8443");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 8443);
  Result<ListenAddress> c = ParseListenAddress("localhost:65535");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 65535);
}

TEST(Hub, MissingHubIsAClearError) {
  TempDir dir;
  ServerOptions options;
  options.data_dir = (dir.path() / "nothing-here").string();
  options.listen = "127.0.0.1:0";
  Result<std::unique_ptr<Hub>> hub = Hub::Start(options);
  ASSERT_FALSE(hub.ok());
  EXPECT_EQ(hub.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(hub.status().message(), "no hub in " + options.data_dir +
                                        ": run `liaison init --data " + options.data_dir +
                                        "` first");
  // Nothing was created.
  EXPECT_FALSE(std::filesystem::exists(options.data_dir));
}

TEST(Hub, UninitialisedDatabaseIsNoHub) {
  TempDir dir;
  {
    auto store = storage::sqlite::SqliteStore::Open((dir.path() / "hub.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  ServerOptions options;
  options.data_dir = dir.str();
  options.listen = "127.0.0.1:0";
  Result<std::unique_ptr<Hub>> hub = Hub::Start(options);
  ASSERT_FALSE(hub.ok());
  EXPECT_EQ(hub.status().code(), StatusCode::kNotFound);
}

TEST(Hub, NotADatabaseFails) {
  TempDir dir;
  std::ofstream(dir.path() / "hub.db")
      << "this is not sqlite, this is a text file of some length" << std::string(4096, 'x');
  ServerOptions options;
  options.data_dir = dir.str();
  options.listen = "127.0.0.1:0";
  Result<std::unique_ptr<Hub>> hub = Hub::Start(options);
  ASSERT_FALSE(hub.ok());
  EXPECT_NE(hub.status().message().find("hub.db"), std::string::npos) << hub.status().ToString();
}

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::sqlite::SqliteStore::Open((dir_.path() / "hub.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->PutSetting("hub.created", "2024-01-01T00:00:00.000Z").ok());
    ASSERT_TRUE((*store)->PutSetting("hub.org_name", "Example CERT").ok());
    storage::ApiRoot root;
    root.name = "api";
    root.title = "Example CERT";
    ASSERT_TRUE((*store)->CreateApiRoot(root).ok());
    storage::User admin;
    admin.name = "admin";
    admin.role = storage::Role::kAdmin;
    Result<std::string> hash = auth::HashPassword("pw");
    ASSERT_TRUE(hash.ok());
    admin.password_hash = *hash;
    ASSERT_TRUE((*store)->CreateUser(admin).ok());
  }

  ServerOptions Options() const {
    ServerOptions options;
    options.data_dir = dir_.str();
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    return options;
  }

  TempDir dir_;
};

TEST_F(HubTest, BadOptionsFail) {
  ServerOptions options = Options();
  options.listen = "127.0.0.1";
  EXPECT_EQ(Hub::Start(options).status().code(), StatusCode::kInvalidArgument);
  options = Options();
  options.log_level = "chatty";
  EXPECT_EQ(Hub::Start(options).status().code(), StatusCode::kInvalidArgument);
  options = Options();
  options.tls_cert = "/x.pem";
  EXPECT_EQ(Hub::Start(options).status().code(), StatusCode::kInvalidArgument);
  options.tls_key = "/y.pem";
  Result<std::unique_ptr<Hub>> hub = Hub::Start(options);
  ASSERT_FALSE(hub.ok());
  EXPECT_NE(hub.status().message().find("/x.pem"), std::string::npos);
}

TEST_F(HubTest, ServesDiscoveryWithTheOrganisationAsTitle) {
  Result<std::unique_ptr<Hub>> hub = Hub::Start(Options());
  ASSERT_TRUE(hub.ok()) << hub.status().ToString();
  EXPECT_EQ((*hub)->url(), "http://127.0.0.1:" + std::to_string((*hub)->port()));

  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), (*hub)->port()});
  bhttp::request<bhttp::string_body> req{bhttp::verb::get, "/taxii2/", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::accept, "application/taxii+json;version=2.1");
  req.set(bhttp::field::authorization, "Basic YWRtaW46cHc=");  // admin:pw
  bhttp::write(socket, req);
  boost::beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_NE(res.body().find("Example CERT"), std::string::npos) << res.body();
  EXPECT_NE(res.body().find("/api/"), std::string::npos) << res.body();
  (*hub)->Stop();
  (*hub)->Stop();
}

// One HTTP exchange with a running hub; returns {status, body}.
std::pair<int, std::string> Exchange(uint16_t port, bhttp::verb method, const std::string& target,
                                     const std::string& authorization,
                                     const std::string& body = "") {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  bhttp::request<bhttp::string_body> req{method, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::accept, "application/taxii+json;version=2.1");
  req.set(bhttp::field::authorization, authorization);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/taxii+json;version=2.1");
    req.body() = body;
    req.prepare_payload();
  }
  bhttp::write(socket, req);
  boost::beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  return {res.result_int(), res.body()};
}

constexpr char kAdminBasic[] = "Basic YWRtaW46cHc=";  // admin:pw

std::string GreenIndicator(const std::string& id) {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + id +
         R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",)"
         R"("name":"courier account","pattern":"[user-account:account_login = 'courier77']",)"
         R"("pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":)"
         R"(["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]})";
}

TEST_F(HubTest, HubWithoutIdentityRunsWithoutFederation) {
  // A hub created before partnership support: no identity, no key file.
  Result<std::unique_ptr<Hub>> hub = Hub::Start(Options());
  ASSERT_TRUE(hub.ok()) << hub.status().ToString();
  EXPECT_FALSE((*hub)->federated());
  storage::Collection c;
  {
    auto store = storage::sqlite::SqliteStore::Open((dir_.path() / "hub.db").string());
    ASSERT_TRUE(store.ok());
    c.id = RandomUuidV4();
    c.api_root = "api";
    c.title = "Reports";
    ASSERT_TRUE((*store)->CreateCollection(c).ok());
  }
  const std::string id = "indicator--" + RandomUuidV4();
  auto [status, body] =
      Exchange((*hub)->port(), bhttp::verb::post, "/api/collections/" + c.id + "/objects/",
               kAdminBasic, "{\"objects\":[" + GreenIndicator(id) + "]}");
  EXPECT_EQ(status, 202) << body;
  EXPECT_NE(body.find("\"success_count\":1"), std::string::npos) << body;
  auto [get_status, get_body] = Exchange((*hub)->port(), bhttp::verb::get,
                                         "/api/collections/" + c.id + "/objects/", kAdminBasic);
  EXPECT_EQ(get_status, 200);
  EXPECT_NE(get_body.find(id), std::string::npos) << get_body;
  (*hub)->Stop();
}

// Two stateless nodes on one PostgreSQL database behave as one hub: what is published through
// node 2 is read through node 1. Runs when LIAISON_TEST_PG_DSN names a database.
TEST(PostgresNodes, PublishOnOneNodeReadOnTheOther) {
  const char* dsn = std::getenv("LIAISON_TEST_PG_DSN");
  if (dsn == nullptr || *dsn == '\0') GTEST_SKIP() << "LIAISON_TEST_PG_DSN not set";
  std::string url = dsn;
  url += (url.find('?') == std::string::npos ? "?" : "&");
  url += "schema=nodestest_" + std::to_string(::getpid());
  storage::Collection c;
  c.id = RandomUuidV4();
  c.api_root = "api";
  c.title = "Reports";
  {
    Result<StoreLocation> where = ParseStoreUrl(url, "");
    ASSERT_TRUE(where.ok());
    Result<std::unique_ptr<storage::Store>> store = OpenStore(*where, OpenMode::kCreate);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->PutSetting("hub.created", "2024-01-01T00:00:00.000Z").ok());
    storage::ApiRoot root;
    root.name = "api";
    ASSERT_TRUE((*store)->CreateApiRoot(root).ok());
    ASSERT_TRUE((*store)->CreateCollection(c).ok());
    storage::User admin;
    admin.name = "admin";
    admin.role = storage::Role::kAdmin;
    Result<std::string> hash = auth::HashPassword("pw");
    ASSERT_TRUE(hash.ok());
    admin.password_hash = *hash;
    ASSERT_TRUE((*store)->CreateUser(admin).ok());
  }
  ServerOptions options;
  options.store = url;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  Result<std::unique_ptr<Hub>> node1 = Hub::Start(options);
  ASSERT_TRUE(node1.ok()) << node1.status().ToString();
  Result<std::unique_ptr<Hub>> node2 = Hub::Start(options);
  ASSERT_TRUE(node2.ok()) << node2.status().ToString();

  const std::string id = "indicator--" + RandomUuidV4();
  auto [status, body] =
      Exchange((*node2)->port(), bhttp::verb::post, "/api/collections/" + c.id + "/objects/",
               kAdminBasic, "{\"objects\":[" + GreenIndicator(id) + "]}");
  EXPECT_EQ(status, 202) << body;
  auto [get_status, get_body] = Exchange((*node1)->port(), bhttp::verb::get,
                                         "/api/collections/" + c.id + "/objects/", kAdminBasic);
  EXPECT_EQ(get_status, 200);
  EXPECT_NE(get_body.find(id), std::string::npos) << get_body;
  (*node1)->Stop();
  (*node2)->Stop();
  node1->reset();
  node2->reset();
  storage::postgres::PostgresStore::Options pg_options;
  pg_options.schema = "nodestest_" + std::to_string(::getpid());
  auto pg = storage::postgres::PostgresStore::Open(dsn, pg_options);
  ASSERT_TRUE(pg.ok());
  EXPECT_TRUE((*pg)->DropSchema().ok());
}

TEST(PostgresNodes, UnreachableDatabaseIsAClearErrorAtStart) {
  ServerOptions options;
  options.store = "postgresql://liaison@127.0.0.1:1/liaison";
  options.listen = "127.0.0.1:0";
  Result<std::unique_ptr<Hub>> hub = Hub::Start(options);
  ASSERT_FALSE(hub.ok());
  EXPECT_EQ(hub.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(hub.status().message().find("cannot reach PostgreSQL"), std::string::npos)
      << hub.status().ToString();
}

TEST_F(HubTest, HubWithIdentityButNoKeyFileDoesNotStart) {
  {
    auto store = storage::sqlite::SqliteStore::Open((dir_.path() / "hub.db").string());
    ASSERT_TRUE(store.ok());
    const std::string id = "identity--" + RandomUuidV4();
    ASSERT_TRUE((*store)->PutSetting(storage::kIdentityIdSetting, id).ok());
    ASSERT_TRUE((*store)
                    ->PutSetting(storage::kIdentitySetting,
                                 R"({"type":"identity","spec_version":"2.1","id":")" + id +
                                     R"(","created":"2026-01-01T00:00:00.000Z","modified":)"
                                     R"("2026-01-01T00:00:00.000Z","name":"Example CERT",)"
                                     R"("identity_class":"organization"})")
                    .ok());
  }
  Result<std::unique_ptr<Hub>> hub = Hub::Start(Options());
  ASSERT_FALSE(hub.ok());
  EXPECT_NE(hub.status().message().find("hub.key"), std::string::npos) << hub.status().ToString();
}

// A hub as `liaison init` makes it: organisation identity, key file, report and inbox collections.
struct FederatedHub {
  TempDir dir;
  std::string name, id, identity_json, reports, inbox;
  std::unique_ptr<Hub> hub;

  explicit FederatedHub(const std::string& org) : name(org) {
    auto store = storage::sqlite::SqliteStore::Open((dir.path() / "hub.db").string());
    EXPECT_TRUE(store.ok());
    id = "identity--" + RandomUuidV4();
    identity_json = R"({"type":"identity","spec_version":"2.1","id":")" + id +
                    R"(","created":"2026-01-01T00:00:00.000Z","modified":)"
                    R"("2026-01-01T00:00:00.000Z","name":")" +
                    org + R"(","identity_class":"organization"})";
    reports = RandomUuidV4();
    inbox = RandomUuidV4();
    storage::Store& s = **store;
    EXPECT_TRUE(s.PutSetting(storage::kCreatedSetting, "2026-01-01T00:00:00.000Z").ok());
    EXPECT_TRUE(s.PutSetting(storage::kOrgNameSetting, org).ok());
    EXPECT_TRUE(s.PutSetting(storage::kIdentityIdSetting, id).ok());
    EXPECT_TRUE(s.PutSetting(storage::kIdentitySetting, identity_json).ok());
    EXPECT_TRUE(s.PutSetting(storage::kInboxSetting, inbox).ok());
    storage::ApiRoot root;
    root.name = "api";
    root.title = org;
    EXPECT_TRUE(s.CreateApiRoot(root).ok());
    for (const std::string& c : {reports, inbox}) {
      storage::Collection collection;
      collection.id = c;
      collection.api_root = "api";
      collection.title = c == inbox ? "Partner inbox" : "Reports";
      EXPECT_TRUE(s.CreateCollection(collection).ok());
    }
    storage::User admin;
    admin.name = "admin";
    admin.role = storage::Role::kAdmin;
    Result<std::string> hash = auth::HashPassword("pw");
    EXPECT_TRUE(hash.ok());
    admin.password_hash = *hash;
    EXPECT_TRUE(s.CreateUser(admin).ok());
    Result<crypto::HubKeys> keys = crypto::HubKeys::Generate();
    EXPECT_TRUE(keys.ok());
    EXPECT_TRUE(keys->Save((dir.path() / crypto::kHubKeyFile).string()).ok());
  }

  std::unique_ptr<storage::sqlite::SqliteStore> Store() {
    auto store = storage::sqlite::SqliteStore::Open((dir.path() / "hub.db").string());
    EXPECT_TRUE(store.ok());
    return std::move(store).value();
  }
  crypto::HubKeys Keys() {
    Result<crypto::HubKeys> keys =
        crypto::HubKeys::Load((dir.path() / crypto::kHubKeyFile).string());
    EXPECT_TRUE(keys.ok());
    return *std::move(keys);
  }
  void Start() {
    ServerOptions options;
    options.data_dir = dir.str();
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.delivery.poll_interval = std::chrono::milliseconds(10);
    options.delivery.pull_interval = std::chrono::milliseconds(10);
    options.delivery.min_backoff = std::chrono::milliseconds(1);
    options.delivery.max_backoff = std::chrono::milliseconds(50);
    Result<std::unique_ptr<Hub>> started = Hub::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    hub = *std::move(started);
    EXPECT_TRUE(hub->federated());
  }
};

// `to` issues a credential for `from` (a partner user with write access to its inbox); `from`
// records `to` as its partner with that credential, sealed.
void Trust(FederatedHub& from, FederatedHub& to) {
  auto to_store = to.Store();
  storage::User user;
  user.name = "partner-" + from.name;
  user.role = storage::Role::kPartner;
  user.partner = from.id;
  ASSERT_TRUE(to_store->CreateUser(user).ok());
  Result<std::string> secret = auth::LoadOrCreateHubSecret(*to_store);
  ASSERT_TRUE(secret.ok());
  Result<auth::NewApiKey> key = auth::GenerateApiKey(user.name, "hub", *secret, 1);
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(to_store->CreateApiKey(key->record).ok());
  ASSERT_TRUE(to_store->PutGrant({to.inbox, "user:" + user.name, false, true}).ok());

  crypto::HubKeys to_keys = to.Keys();
  crypto::HubKeys from_keys = from.Keys();
  storage::Partner partner;
  partner.id = to.id;
  partner.name = to.name;
  partner.identity_json = to.identity_json;
  partner.url = to.hub->url() + "/api/";
  partner.inbox = to.inbox;
  partner.sign_key = to_keys.sign_public_b64();
  partner.box_key = to_keys.box_public_b64();
  partner.token = from_keys.SealSecret(key->token);
  partner.user = "partner-" + to.name;
  ASSERT_TRUE(from.Store()->CreatePartner(partner).ok());
}

TEST(FederatedHubs, PublishAtOneHubIsDeliveredToItsPartner) {
  FederatedHub a("agency-a"), b("agency-b");
  a.Start();
  b.Start();
  Trust(a, b);
  Trust(b, a);
  {
    auto store = a.Store();
    storage::Channel channel;
    channel.id = RandomUuidV4();
    channel.partner = b.id;
    channel.collection_id = a.reports;
    channel.mode = storage::ChannelMode::kPush;
    channel.max_tlp = 2;
    ASSERT_TRUE(store->CreateChannel(channel).ok());
  }
  const std::string id = "indicator--" + RandomUuidV4();
  auto [status, body] =
      Exchange(a.hub->port(), bhttp::verb::post, "/api/collections/" + a.reports + "/objects/",
               kAdminBasic, "{\"objects\":[" + GreenIndicator(id) + "]}");
  ASSERT_EQ(status, 202) << body;

  auto a_store = a.Store();
  auto b_store = b.Store();
  bool delivered = false;
  for (int i = 0; i < 6000 && !delivered; ++i) {
    Result<std::vector<storage::OutboxRow>> rows = a_store->ListOutbox({});
    delivered =
        rows.ok() && rows->size() == 1 && (*rows)[0].state == storage::OutboxState::kDelivered;
    if (!delivered) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(delivered);
  Result<int64_t> count = b_store->CountObjects(b.inbox);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
  Result<std::vector<storage::StoredObject>> at_b = b_store->LookupObjects({id});
  ASSERT_TRUE(at_b.ok());
  ASSERT_EQ(at_b->size(), 1u);
  EXPECT_EQ((*at_b)[0].label.origin, a.id);
  // Stop order: HTTP, then delivery; a second Stop does nothing.
  a.hub->Stop();
  b.hub->Stop();
  a.hub->Stop();
}

}  // namespace
}  // namespace liaison::server
