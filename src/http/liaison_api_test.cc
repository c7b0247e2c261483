// Tests of the Liaison API (GET /liaison/v1/...): the event stream through a real http::Server on
// port 0 read by a raw-socket client that decodes the chunked Server-Sent Events body, and the
// receipts/feedback/identity endpoints, over a MemoryStore.

#include "http/liaison_api.h"

#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <sys/socket.h>

#include "auth/api_key.h"
#include "auth/authenticator.h"
#include "common/notifier.h"
#include "http/router.h"
#include "http/server.h"
#include "policy/tlp.h"
#include "storage/memory/memory_store.h"
#include "taxii/service.h"

namespace liaison::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr char kCollA[] = "0b5bb3c6-7a2f-4d3c-9f00-1f1b2c3d4e5a";
constexpr char kCollB[] = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
constexpr char kPartner[] = "identity--8c4ad8d1-1e12-4f37-a1b4-6e0a3b8b5c01";
constexpr int64_t kNow = 1700000000000000;
// Guards against a server that never answers; never reached when the code works.
constexpr auto kGuard = std::chrono::seconds(20);

// One parsed SSE block.
struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
  std::string comment;  // text of a ": ..." line
};

SseEvent ParseBlock(const std::string& block) {
  SseEvent e;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t nl = block.find('\n', pos);
    std::string line = block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? block.size() : nl + 1;
    if (line.rfind(": ", 0) == 0) e.comment = line.substr(2);
    if (line.rfind("id: ", 0) == 0) e.id = line.substr(4);
    if (line.rfind("event: ", 0) == 0) e.event = line.substr(7);
    if (line.rfind("data: ", 0) == 0) e.data = line.substr(6);
  }
  return e;
}

// A raw HTTP/1.1 client for one streamed response: sends the request, reads the header, decodes
// the chunked body and splits it into SSE blocks.
class SseClient {
 public:
  explicit SseClient(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  void Open(const std::string& token, const std::string& last_event_id = "",
            const std::string& target = "/liaison/v1/events", const std::string& version = "1.1") {
    std::string req = "GET " + target + " HTTP/" + version + "\r\nHost: 127.0.0.1\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    req += "Accept: text/event-stream\r\n";
    if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
    req += "\r\n";
    asio::write(socket_, asio::buffer(req));
  }

  // The response header (status line and fields), "" on EOF.
  std::string ReadHeader() {
    for (;;) {
      size_t end = raw_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string header = raw_.substr(0, end + 2);
        raw_.erase(0, end + 4);
        chunked_ = header.find("Transfer-Encoding: chunked") != std::string::npos;
        return header;
      }
      if (!Fill()) return "";
    }
  }

  // The next SSE block, or nullopt when the body ended (or the connection closed).
  std::optional<SseEvent> Next() {
    for (;;) {
      size_t end = body_.find("\n\n");
      if (end != std::string::npos) {
        std::string block = body_.substr(0, end + 1);
        body_.erase(0, end + 2);
        return ParseBlock(block);
      }
      if (last_chunk_) return std::nullopt;
      if (!DecodeChunk()) return std::nullopt;
    }
  }

  // The next block that is not a comment.
  std::optional<SseEvent> NextEvent() {
    for (;;) {
      std::optional<SseEvent> e = Next();
      if (!e || e->comment.empty()) return e;
    }
  }

  // Reads to the end of the connection; true if the body ended with the last chunk.
  bool EndedCleanly() {
    while (!last_chunk_) {
      if (!DecodeChunk()) return false;
    }
    // After the last chunk the server closes the connection.
    while (Fill()) {
    }
    return last_chunk_;
  }

  void Close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  // Reads more bytes into raw_; false on EOF, error or the guard timeout.
  bool Fill() {
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(kGuard).count()));
    if (ready <= 0) {
      ADD_FAILURE() << "no data from the server within the guard time";
      return false;
    }
    char buf[4096];
    boost::system::error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (ec || n == 0) return false;
    raw_.append(buf, n);
    return true;
  }

  // Decodes one chunk of raw_ into body_ (RFC 9112 section 7.1).
  bool DecodeChunk() {
    if (!chunked_) {  // HTTP/1.0: the body is whatever comes until the connection closes
      if (raw_.empty() && !Fill()) {
        last_chunk_ = true;
        return false;
      }
      body_ += raw_;
      raw_.clear();
      return true;
    }
    for (;;) {
      size_t line_end = raw_.find("\r\n");
      if (line_end != std::string::npos) {
        size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
        if (size == 0) {
          last_chunk_ = true;
          raw_.erase(0, line_end + 2);
          return true;
        }
        if (raw_.size() >= line_end + 2 + size + 2) {
          body_ += raw_.substr(line_end + 2, size);
          raw_.erase(0, line_end + 2 + size + 2);
          return true;
        }
      }
      if (!Fill()) return false;
    }
  }

  asio::io_context ioc_;
  tcp::socket socket_;
  std::string raw_;   // undecoded bytes
  std::string body_;  // decoded body not yet split into blocks
  bool last_chunk_ = false;
  bool chunked_ = true;
};

// A small blocking client for plain JSON requests.
std::pair<int, std::string> Get(uint16_t port, const std::string& target,
                                const std::string& token) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::string req = "GET " + target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    "Authorization: Bearer " +
                    token + "\r\n\r\n";
  asio::write(socket, asio::buffer(req));
  std::string raw;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    size_t n = socket.read_some(asio::buffer(buf), ec);
    if (ec) break;
    raw.append(buf, n);
  }
  int status = raw.size() > 12 ? std::stoi(raw.substr(9, 3)) : 0;
  size_t body = raw.find("\r\n\r\n");
  return {status, body == std::string::npos ? "" : raw.substr(body + 4)};
}

// Hides TLP:RED objects, and counts the filters it made.
class FakeSharing final : public taxii::SharingHooks {
 public:
  Result<taxii::PreparedAdd> PrepareAdd(const policy::Principal&, const storage::Collection&,
                                        std::vector<stix::ObjectInfo>) override {
    return InternalError("not used");
  }
  void Committed(const storage::Collection&, const storage::AddObjectsResult&) override {}
  std::unique_ptr<taxii::ReadFilter> ForReader(const policy::Principal&,
                                               const storage::Collection& collection) override {
    ++filters;
    collections_seen.push_back(collection.id);
    return std::make_unique<Filter>();
  }

  std::atomic<int> filters{0};
  std::vector<std::string> collections_seen;

 private:
  class Filter final : public taxii::ReadFilter {
   public:
    bool Visible(const storage::StoredObject& object) override {
      return object.label.tlp != static_cast<int32_t>(policy::Tlp::kRed);
    }
    Result<std::string> Present(const storage::StoredObject& object) override {
      return object.json;
    }
  };
};

class LiaisonApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = storage::memory::MemoryStore::Create();
    storage::ApiRoot root;
    root.name = "api1";
    ASSERT_TRUE(store_->CreateApiRoot(root).ok());
    for (const char* id : {kCollA, kCollB}) {
      storage::Collection c;
      c.id = id;
      c.api_root = "api1";
      c.title = id;
      ASSERT_TRUE(store_->CreateCollection(c).ok());
    }
    Result<std::string> secret = auth::LoadOrCreateHubSecret(*store_);
    ASSERT_TRUE(secret.ok());
    for (auto [name, role] :
         {std::pair{"admin", storage::Role::kAdmin}, std::pair{"pub", storage::Role::kPublisher},
          std::pair{"rita", storage::Role::kReader}}) {
      storage::User user;
      user.name = name;
      user.role = role;
      ASSERT_TRUE(store_->CreateUser(user).ok());
      Result<auth::NewApiKey> key = auth::GenerateApiKey(name, "test", *secret, kNow);
      ASSERT_TRUE(key.ok());
      ASSERT_TRUE(store_->CreateApiKey(key->record).ok());
      tokens_[name] = key->token;
    }
    // rita may read collection A only; publishers read both.
    ASSERT_TRUE(store_->PutGrant({kCollA, "user:rita", true, false}).ok());
    ASSERT_TRUE(store_->PutGrant({kCollA, "role:publisher", true, true}).ok());
    ASSERT_TRUE(store_->PutGrant({kCollB, "role:publisher", true, true}).ok());

    storage::Partner partner;
    partner.id = kPartner;
    partner.name = "Agency B";
    partner.user = "agency-b";
    ASSERT_TRUE(store_->CreatePartner(partner).ok());

    authenticator_ =
        std::make_unique<auth::Authenticator>(*store_, clock_, auth::AuthenticatorOptions{});
    service_ = std::make_unique<taxii::Service>(*store_, clock_, taxii::ServiceOptions{});
  }

  void StartServer(LiaisonApiOptions api_options = {}, ServerOptions options = {},
                   taxii::SharingHooks* sharing = nullptr) {
    api_ = std::make_unique<LiaisonApi>(*store_, sharing, events_changed_, api_options);
    router_ = std::make_unique<Router>(*authenticator_, *service_, *store_, api_.get());
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    Result<std::unique_ptr<Server>> server = Server::Start(options, *router_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  // Adds one indicator to `collection` (event "object"), optionally queued for the partner, and
  // wakes the streams. Returns the object id.
  std::string AddObject(const std::string& collection, policy::Tlp tlp = policy::Tlp::kGreen,
                        bool outbox = false, std::vector<storage::FeedbackRecord> feedback = {}) {
    const std::string id = "indicator--00000000-0000-4000-8000-" +
                           std::string(12 - std::to_string(next_).size(), '0') +
                           std::to_string(next_);
    ++next_;
    storage::NewObject object;
    object.id = id;
    object.type = "indicator";
    object.spec_version = "2.1";
    object.version = kNow;
    object.json = R"({"type":"indicator","id":")" + id + R"("})";
    object.label.tlp = static_cast<int32_t>(tlp);
    if (outbox) object.outbox_partners = {kPartner};
    object.feedback = std::move(feedback);
    storage::AddObjectsRequest request;
    request.collection_id = collection;
    request.objects.push_back(std::move(object));
    Result<storage::AddObjectsResult> result = store_->AddObjects(request, kNow + next_);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    events_changed_.Notify();
    return id;
  }

  // Opens an event stream for `user` and checks the response header.
  std::unique_ptr<SseClient> OpenStream(const std::string& user,
                                        const std::string& last_event_id = "") {
    auto client = std::make_unique<SseClient>(server_->port());
    client->Open(tokens_[user], last_event_id);
    std::string header = client->ReadHeader();
    EXPECT_NE(header.find("HTTP/1.1 200"), std::string::npos) << header;
    EXPECT_NE(header.find("Content-Type: text/event-stream"), std::string::npos) << header;
    EXPECT_NE(header.find("Cache-Control: no-store"), std::string::npos) << header;
    EXPECT_NE(header.find("Transfer-Encoding: chunked"), std::string::npos) << header;
    EXPECT_EQ(header.find("Content-Length"), std::string::npos) << header;
    return client;
  }

  FakeClock clock_{kNow};
  Notifier events_changed_;
  std::unique_ptr<storage::memory::MemoryStore> store_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<taxii::Service> service_;
  std::unique_ptr<LiaisonApi> api_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Server> server_;
  std::map<std::string, std::string> tokens_;
  int next_ = 1;
};

// A heartbeat long enough never to come during a test, so that events can only arrive through
// the wake.
LiaisonApiOptions QuietOptions() {
  LiaisonApiOptions options;
  options.heartbeat = std::chrono::hours(1);
  return options;
}

TEST_F(LiaisonApiTest, EventsArriveAfterAddObjectsAndNotify) {
  StartServer(QuietOptions());
  auto client = OpenStream("admin");
  const std::string id = AddObject(kCollA, policy::Tlp::kAmber);
  std::optional<SseEvent> e = client->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "1");
  EXPECT_EQ(e->event, "object");
  EXPECT_EQ(e->data, std::string(R"({"collection":")") + kCollA + R"(","id":")" + id +
                         R"(","type":"indicator","spec_version":"2.1",)"
                         R"("version":"2023-11-14T22:13:20.000Z",)"
                         R"("date_added":"2023-11-14T22:13:20.000002Z","tlp":"amber"})");
  // A second one on the same stream.
  AddObject(kCollB);
  e = client->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "2");
  EXPECT_NE(e->data.find(kCollB), std::string::npos) << e->data;
}

TEST_F(LiaisonApiTest, WithoutLastEventIdTheStreamStartsAtTheEnd) {
  AddObject(kCollA);
  AddObject(kCollA);
  StartServer(QuietOptions());
  auto client = OpenStream("admin");
  AddObject(kCollA);
  std::optional<SseEvent> e = client->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "3");
}

TEST_F(LiaisonApiTest, LastEventIdReplaysExactlyTheMissedEvents) {
  for (int i = 0; i < 4; ++i) AddObject(kCollA);
  StartServer(QuietOptions());
  auto client = OpenStream("admin", "2");
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    std::optional<SseEvent> e = client->NextEvent();
    ASSERT_TRUE(e.has_value());
    ids.push_back(e->id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"3", "4"}));
  AddObject(kCollA);
  std::optional<SseEvent> e = client->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "5");

  // The query parameter works as well (EventSource cannot set headers on the first request).
  SseClient by_query(server_->port());
  by_query.Open(tokens_["admin"], "", "/liaison/v1/events?last_event_id=4");
  EXPECT_NE(by_query.ReadHeader().find("200"), std::string::npos);
  e = by_query.NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "5");
}

TEST_F(LiaisonApiTest, ReplaySpanningManyPagesKeepsOrder) {
  for (int i = 0; i < 40; ++i) AddObject(i % 2 == 0 ? kCollA : kCollB);
  LiaisonApiOptions options = QuietOptions();
  options.event_page_size = 3;
  StartServer(options);
  auto client = OpenStream("rita", "0");  // rita sees collection A only: events 1, 3, 5, ...
  for (int want = 1; want < 40; want += 2) {
    std::optional<SseEvent> e = client->NextEvent();
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->id, std::to_string(want));
  }
}

TEST_F(LiaisonApiTest, LongRunsOfHiddenEventsDoNotStallTheStream) {
  for (int i = 0; i < 50; ++i) AddObject(kCollB);  // hidden from rita: 25 full pages
  AddObject(kCollA);                               // 51
  LiaisonApiOptions options = QuietOptions();
  options.event_page_size = 2;
  StartServer(options);
  auto client = OpenStream("rita", "0");
  std::optional<SseEvent> e = client->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "51");
}

TEST_F(LiaisonApiTest, EventsOfCollectionsTheReaderCannotReadAreNotShown) {
  StartServer(QuietOptions());
  auto rita = OpenStream("rita");
  auto admin = OpenStream("admin");
  AddObject(kCollB);                             // 1: hidden from rita
  AddObject(kCollA, policy::Tlp::kGreen, true);  // 2: object, queued for the partner
  Result<std::vector<storage::OutboxRow>> rows = store_->ListOutbox({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  ASSERT_TRUE(store_->MarkOutboxDelivered({(*rows)[0].seq}, kNow + 1000).ok());  // 3: receipt
  events_changed_.Notify();
  AddObject(kCollA);  // 4

  std::vector<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    std::optional<SseEvent> e = rita->NextEvent();
    ASSERT_TRUE(e.has_value());
    seen.push_back(e->id + ":" + e->event);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"2:object", "4:object"}));

  seen.clear();
  std::string receipt;
  for (int i = 0; i < 4; ++i) {
    std::optional<SseEvent> e = admin->NextEvent();
    ASSERT_TRUE(e.has_value());
    seen.push_back(e->id + ":" + e->event);
    if (e->event == "receipt") receipt = e->data;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1:object", "2:object", "3:receipt", "4:object"}));
  EXPECT_NE(receipt.find(std::string(R"("partner":")") + kPartner), std::string::npos) << receipt;
  EXPECT_NE(receipt.find(R"("state":"delivered")"), std::string::npos) << receipt;
  EXPECT_NE(receipt.find(R"("delivered_at":"2023-11-14T22:13:20.001000Z")"), std::string::npos)
      << receipt;
}

TEST_F(LiaisonApiTest, ObjectEventsPassTheCollectionsReadFilter) {
  FakeSharing sharing;
  StartServer(QuietOptions(), {}, &sharing);
  auto client = OpenStream("pub");
  AddObject(kCollA, policy::Tlp::kRed);    // 1: hidden by the filter
  AddObject(kCollA, policy::Tlp::kGreen);  // 2
  AddObject(kCollB, policy::Tlp::kRed);    // 3: hidden
  AddObject(kCollA, policy::Tlp::kClear);  // 4
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    std::optional<SseEvent> e = client->NextEvent();
    ASSERT_TRUE(e.has_value());
    ids.push_back(e->id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"2", "4"}));
  // One filter per collection for the stream's life.
  EXPECT_EQ(sharing.filters.load(), 2);
}

TEST_F(LiaisonApiTest, FeedbackEventsGoToAdminsAndPublishersOnly) {
  StartServer(QuietOptions());
  auto rita = OpenStream("rita");
  auto pub = OpenStream("pub");
  storage::FeedbackRecord fb;
  fb.about_id = "indicator--11111111-1111-4111-8111-111111111111";
  fb.feedback_id = "sighting--22222222-2222-4222-8222-222222222222";
  fb.feedback_version = kNow;
  fb.from = kPartner;
  fb.outcome = "acted-on";
  fb.note = "seven suspects detained";
  fb.count = 7;
  AddObject(kCollA, policy::Tlp::kGreen, false, {fb});  // 1: object, 2: feedback
  AddObject(kCollA);                                    // 3

  std::optional<SseEvent> e = pub->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->event, "object");
  e = pub->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "2");
  EXPECT_EQ(e->event, "feedback");
  EXPECT_NE(e->data.find(R"("outcome":"acted-on","note":"seven suspects detained","count":7)"),
            std::string::npos)
      << e->data;
  EXPECT_NE(e->data.find(std::string(R"("about":")") + fb.about_id), std::string::npos) << e->data;

  e = rita->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "1");
  e = rita->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "3");
}

TEST_F(LiaisonApiTest, HeartbeatIsSentWhenNothingHappens) {
  LiaisonApiOptions options;
  options.heartbeat = std::chrono::milliseconds(20);
  StartServer(options);
  auto client = OpenStream("rita");
  for (int i = 0; i < 2; ++i) {
    std::optional<SseEvent> e = client->Next();
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->comment, "keepalive");
    EXPECT_TRUE(e->id.empty());
  }
  // Events still come between heartbeats.
  AddObject(kCollA);
  std::optional<SseEvent> e = client->NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "1");
}

TEST_F(LiaisonApiTest, StopWithAnOpenStreamEndsItPromptly) {
  ServerOptions options;
  // If Stop waited for the stream as for a busy request, the test would wait this long.
  options.shutdown_grace = std::chrono::hours(1);
  StartServer(QuietOptions(), options);
  auto client = OpenStream("admin");
  auto second = OpenStream("rita");
  EXPECT_EQ(server_->open_connections(), 2u);
  std::future<void> stopped = std::async(std::launch::async, [&] { server_->Stop(); });
  ASSERT_EQ(stopped.wait_for(kGuard), std::future_status::ready);
  EXPECT_EQ(server_->open_connections(), 0u);
  // The stream ended with the last chunk, not a reset.
  EXPECT_TRUE(client->EndedCleanly());
  EXPECT_TRUE(second->EndedCleanly());
}

TEST_F(LiaisonApiTest, Http10ClientsGetTheStreamWithoutChunks) {
  StartServer(QuietOptions());
  SseClient client(server_->port());
  client.Open(tokens_["admin"], "", "/liaison/v1/events", "1.0");
  std::string header = client.ReadHeader();
  EXPECT_NE(header.find("HTTP/1.0 200"), std::string::npos) << header;
  EXPECT_EQ(header.find("Transfer-Encoding"), std::string::npos) << header;
  EXPECT_EQ(header.find("Content-Length"), std::string::npos) << header;
  AddObject(kCollA);
  std::optional<SseEvent> e = client.NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "1");
  EXPECT_EQ(e->event, "object");
}

TEST_F(LiaisonApiTest, StreamsOverTlsAndEndsCleanlyOnStop) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("liaison_api_tls_" + std::to_string(::getpid()) + "_" + std::to_string(next_));
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string();
  const std::string key = (dir / "key.pem").string();
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  StartServer(QuietOptions(), options);

  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(cert);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<tcp::socket> stream(ioc, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  timeval tv{20, 0};
  setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  stream.handshake(asio::ssl::stream_base::client);
  const std::string req =
      "GET /liaison/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
      tokens_["admin"] + "\r\n\r\n";
  asio::write(stream, asio::buffer(req));

  std::string raw;
  auto read_until = [&](std::string_view what) {
    char buf[4096];
    boost::system::error_code ec;
    while (raw.find(what) == std::string::npos) {
      size_t n = stream.read_some(asio::buffer(buf), ec);
      if (ec) return false;
      raw.append(buf, n);
    }
    return true;
  };
  ASSERT_TRUE(read_until("\r\n\r\n"));
  EXPECT_NE(raw.find("HTTP/1.1 200"), std::string::npos) << raw;
  AddObject(kCollA);
  ASSERT_TRUE(read_until("event: object"));

  std::future<void> stopped = std::async(std::launch::async, [&] { server_->Stop(); });
  EXPECT_TRUE(read_until("\r\n0\r\n\r\n")) << raw;  // the last chunk
  boost::system::error_code ec;
  stream.shutdown(ec);  // answers the server's close_notify
  ASSERT_EQ(stopped.wait_for(kGuard), std::future_status::ready);
  EXPECT_EQ(server_->open_connections(), 0u);
  std::filesystem::remove_all(dir);
}

TEST_F(LiaisonApiTest, ClientDisconnectEndsTheStream) {
  StartServer(QuietOptions());
  auto client = OpenStream("admin");
  EXPECT_EQ(server_->open_connections(), 1u);
  client->Close();
  const auto deadline = std::chrono::steady_clock::now() + kGuard;
  while (server_->open_connections() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(LiaisonApiTest, EventStreamErrors) {
  StartServer(QuietOptions());
  {
    SseClient anonymous(server_->port());
    anonymous.Open("");
    EXPECT_NE(anonymous.ReadHeader().find("HTTP/1.1 401"), std::string::npos);
  }
  {
    SseClient bad(server_->port());
    bad.Open(tokens_["admin"], "twelve");
    EXPECT_NE(bad.ReadHeader().find("HTTP/1.1 400"), std::string::npos);
  }
  EXPECT_EQ(Get(server_->port(), "/liaison/v1/events?since=1", tokens_["admin"]).first, 400);
  EXPECT_EQ(Get(server_->port(), "/liaison/v1/nothing", tokens_["admin"]).first, 404);

  policy::Principal admin;
  admin.user = "admin";
  admin.role = storage::Role::kAdmin;
  admin.authenticated = true;
  Result<taxii::Response> post = api_->Handle("POST", "/liaison/v1/events", {}, "", admin);
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  Result<taxii::Response> anon = api_->Handle("GET", "/liaison/v1/events", {}, "", {});
  EXPECT_EQ(anon.status().code(), StatusCode::kUnauthenticated);
  Result<taxii::Response> negative = api_->Handle("GET", "/liaison/v1/events", {}, "-1", admin);
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LiaisonApiTest, ReceiptsAndFeedbackAreForbiddenToReaders) {
  StartServer(QuietOptions());
  auto [status, body] = Get(server_->port(), "/liaison/v1/receipts", tokens_["rita"]);
  EXPECT_EQ(status, 403);
  EXPECT_NE(body.find("\"http_status\":\"403\""), std::string::npos) << body;
  EXPECT_EQ(Get(server_->port(), "/liaison/v1/feedback", tokens_["rita"]).first, 403);
  EXPECT_EQ(Get(server_->port(), "/liaison/v1/receipts", tokens_["pub"]).first, 200);
  EXPECT_EQ(Get(server_->port(), "/liaison/v1/feedback/", tokens_["pub"]).first, 200);
}

TEST_F(LiaisonApiTest, ReceiptsListTheOutboxWithPaging) {
  StartServer(QuietOptions());
  const std::string first = AddObject(kCollA, policy::Tlp::kGreen, true);
  const std::string second = AddObject(kCollA, policy::Tlp::kGreen, true);
  Result<std::vector<storage::OutboxRow>> rows = store_->ListOutbox({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  ASSERT_TRUE(store_->MarkOutboxDelivered({(*rows)[0].seq}, kNow + 5000).ok());
  ASSERT_TRUE(
      store_->MarkOutboxFailed({(*rows)[1].seq}, "partner down", false, kNow + 9000, kNow).ok());

  auto [status, body] = Get(server_->port(), "/liaison/v1/receipts", tokens_["admin"]);
  ASSERT_EQ(status, 200) << body;
  EXPECT_NE(body.find(R"("object":")" + first), std::string::npos) << body;
  EXPECT_NE(body.find(R"("partner_name":"Agency B","state":"delivered","attempts":)"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("delivered_at":"2023-11-14T22:13:20.005000Z")"), std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("state":"queued","attempts":1)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("error":"partner down")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("more":false)"), std::string::npos) << body;

  auto page = Get(server_->port(), "/liaison/v1/receipts?limit=1", tokens_["admin"]);
  EXPECT_NE(page.second.find(first), std::string::npos) << page.second;
  EXPECT_EQ(page.second.find(second), std::string::npos) << page.second;
  EXPECT_NE(page.second.find(R"("more":true)"), std::string::npos) << page.second;
  auto next =
      Get(server_->port(), "/liaison/v1/receipts?limit=1&after=" + std::to_string((*rows)[0].seq),
          tokens_["admin"]);
  EXPECT_NE(next.second.find(second), std::string::npos) << next.second;

  auto delivered = Get(server_->port(), "/liaison/v1/receipts?state=delivered", tokens_["pub"]);
  EXPECT_NE(delivered.second.find(first), std::string::npos);
  EXPECT_EQ(delivered.second.find(second), std::string::npos);
  auto by_object = Get(server_->port(), "/liaison/v1/receipts?object=" + second, tokens_["pub"]);
  EXPECT_EQ(by_object.second.find(first), std::string::npos);
  EXPECT_NE(by_object.second.find(second), std::string::npos);

  for (const char* bad :
       {"?state=lost", "?limit=0", "?limit=10001", "?after=x", "?limit=1&limit=2", "?colour=red"}) {
    EXPECT_EQ(
        Get(server_->port(), std::string("/liaison/v1/receipts") + bad, tokens_["admin"]).first,
        400)
        << bad;
  }
}

TEST_F(LiaisonApiTest, FeedbackListsTheRecordsWithTheSenderName) {
  StartServer(QuietOptions());
  storage::FeedbackRecord fb;
  fb.about_id = "indicator--11111111-1111-4111-8111-111111111111";
  fb.feedback_id = "sighting--22222222-2222-4222-8222-222222222222";
  fb.feedback_version = kNow;
  fb.from = kPartner;
  fb.outcome = "acted-on";
  fb.note = "seven suspects detained";
  AddObject(kCollA, policy::Tlp::kGreen, false, {fb});
  auto [status, body] =
      Get(server_->port(), "/liaison/v1/feedback?object=" + fb.about_id, tokens_["admin"]);
  ASSERT_EQ(status, 200) << body;
  EXPECT_NE(body.find(R"("from_name":"Agency B","outcome":"acted-on")"), std::string::npos) << body;
  auto none = Get(server_->port(),
                  "/liaison/v1/feedback?object=indicator--99999999-9999-4999-8999-999999999999",
                  tokens_["admin"]);
  EXPECT_EQ(none.second, R"({"feedback":[]})");
}

TEST_F(LiaisonApiTest, IdentityIsServedWhenSet) {
  StartServer(QuietOptions());
  EXPECT_EQ(Get(server_->port(), "/liaison/v1/identity", tokens_["rita"]).first, 404);
  server_->Stop();
  server_.reset();
  LiaisonApiOptions options = QuietOptions();
  options.identity_file_json = R"({"identity":{"type":"identity"}})";
  StartServer(options);
  auto [status, body] = Get(server_->port(), "/liaison/v1/identity", tokens_["rita"]);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, options.identity_file_json);
}

TEST(LiaisonApiPaths, OwnsOnlyItsPrefix) {
  EXPECT_TRUE(LiaisonApi::OwnsPath("/liaison/v1"));
  EXPECT_TRUE(LiaisonApi::OwnsPath("/liaison/v1/events"));
  EXPECT_FALSE(LiaisonApi::OwnsPath("/liaison/v10/events"));
  EXPECT_FALSE(LiaisonApi::OwnsPath("/liaison/"));
  EXPECT_FALSE(LiaisonApi::OwnsPath("/taxii2/"));
}

}  // namespace
}  // namespace liaison::http
