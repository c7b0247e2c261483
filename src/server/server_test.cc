#include "server/server.h"

#include <sodium.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "auth/password.h"
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

}  // namespace
}  // namespace liaison::server
