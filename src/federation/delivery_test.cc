#include "federation/delivery.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include <boost/json.hpp>

#include "auth/api_key.h"
#include "auth/authenticator.h"
#include "common/clock.h"
#include "common/notifier.h"
#include "common/uuid.h"
#include "crypto/hub_keys.h"
#include "federation/fake_http_server.h"
#include "federation/sharing.h"
#include "federation/taxii_client.h"
#include "http/router.h"
#include "http/server.h"
#include "http/status_mapping.h"
#include "storage/memory/memory_store.h"
#include "taxii/service.h"

namespace liaison::federation {
namespace {

using storage::OutboxRow;
using storage::OutboxState;

constexpr char kApiRoot[] = "api";
constexpr char kGreen[] = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";

// Waits (polling) until `done` holds; false after a generous deadline that only guards against a
// hang: no test asserts how long anything takes.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

std::string Indicator(const std::string& id, const std::string& modified,
                      const std::string& name = "cell messenger account") {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + id +
         R"(","created":"2026-01-01T00:00:00.000Z","modified":")" + modified + R"(","name":")" +
         name +
         R"(","pattern":"[user-account:account_login = 'courier77']","pattern_type":"stix",)"
         R"("valid_from":"2026-01-01T00:00:00Z","object_marking_refs":[")" +
         kGreen + R"("]})";
}

std::string NewIndicatorId() { return "indicator--" + RandomUuidV4(); }

// The hub's RequestHandler for the tests: the real Router, plus a switch that makes the hub answer
// 503 (down for maintenance) and a record of the request targets.
class SwitchableHandler final : public http::RequestHandler {
 public:
  explicit SwitchableHandler(http::RequestHandler& inner) : inner_(inner) {}

  http::Admission Admit(const http::RequestHead& head) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      targets_.push_back(head.method + " " + head.target);
    }
    if (down) {
      http::Admission admission;
      admission.reject =
          http::ErrorResponse(UnavailableError("down for maintenance (test switch)"));
      return admission;
    }
    return inner_.Admit(head);
  }
  taxii::Response Handle(const http::RequestHead& head, const http::Admission& admission,
                         std::string body) override {
    return inner_.Handle(head, admission, std::move(body));
  }
  std::vector<std::string> targets() {
    std::lock_guard<std::mutex> lock(mu_);
    return targets_;
  }

  std::atomic<bool> down{false};

 private:
  http::RequestHandler& inner_;
  std::mutex mu_;
  std::vector<std::string> targets_;
};

// One hub in the process: MemoryStore, Sharing, TAXII service and HTTP server on 127.0.0.1:0, and
// (on demand) its Delivery.
class TestHub {
 public:
  // max_content_length: the API root's bound on request bodies (0: the store's default).
  TestHub(const std::string& name, Clock& clock, char seed, int64_t max_content_length = 0)
      : name_(name), clock_(clock) {
    store_ = storage::memory::MemoryStore::Create();
    storage::ApiRoot root;
    root.name = kApiRoot;
    root.title = name;
    if (max_content_length > 0) root.max_content_length = max_content_length;
    EXPECT_TRUE(store_->CreateApiRoot(root).ok());
    collection_ = RandomUuidV4();
    inbox_ = RandomUuidV4();
    for (const auto& [id, title] : {std::pair{collection_, "Reports"}, {inbox_, "Partner inbox"}}) {
      storage::Collection c;
      c.id = id;
      c.api_root = kApiRoot;
      c.title = title;
      EXPECT_TRUE(store_->CreateCollection(c).ok());
    }
    Result<crypto::HubKeys> keys = crypto::HubKeys::FromSeed(std::string(32, seed));
    EXPECT_TRUE(keys.ok());
    identity_.id = "identity--" + RandomUuidV4();
    identity_.name = name;
    identity_.identity_json =
        R"({"type":"identity","spec_version":"2.1","id":")" + identity_.id +
        R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",)"
        R"("name":")" +
        name + R"(","identity_class":"organization"})";
    identity_.inbox = inbox_;
    identity_.keys = *std::move(keys);
    Result<std::string> secret = auth::LoadOrCreateHubSecret(*store_);
    EXPECT_TRUE(secret.ok());
    hub_secret_ = *secret;

    sharing_ =
        std::make_unique<Sharing>(*store_, identity_, clock_, outbox_changed_, events_changed_);
    service_ =
        std::make_unique<taxii::Service>(*store_, clock_, taxii::ServiceOptions{}, sharing_.get());
    auth::AuthenticatorOptions auth_options;
    auth_options.hub_secret = hub_secret_;
    authenticator_ = std::make_unique<auth::Authenticator>(*store_, clock_, auth_options);
    router_ = std::make_unique<http::Router>(*authenticator_, *service_, *store_);
    handler_ = std::make_unique<SwitchableHandler>(*router_);
    http::ServerOptions http_options;
    http_options.host = "127.0.0.1";
    http_options.port = 0;
    http_options.threads = 2;
    Result<std::unique_ptr<http::Server>> server = http::Server::Start(http_options, *handler_);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    server_ = *std::move(server);
    identity_.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/" + kApiRoot + "/";
  }

  ~TestHub() {
    StopDelivery();
    server_->Stop();
  }

  // Trusts `other` as a partner: its record here (with the token `other` issued to this hub), a
  // local partner user for it with an API key (returned: the token `other` presents here) and
  // write access to this hub's inbox, read access to this hub's report collection.
  std::string IssueTokenFor(const TestHub& other) {
    storage::User user;
    user.name = "partner-" + other.name_;
    user.role = storage::Role::kPartner;
    user.partner = other.identity_.id;
    EXPECT_TRUE(store_->CreateUser(user).ok());
    Result<auth::NewApiKey> key = auth::GenerateApiKey(user.name, "hub", hub_secret_, 1);
    EXPECT_TRUE(key.ok());
    EXPECT_TRUE(store_->CreateApiKey(key->record).ok());
    storage::Grant inbox{inbox_, "user:" + user.name, /*can_read=*/false, /*can_write=*/true};
    EXPECT_TRUE(store_->PutGrant(inbox).ok());
    storage::Grant reports{collection_, "user:" + user.name, /*can_read=*/true, false};
    EXPECT_TRUE(store_->PutGrant(reports).ok());
    return key->token;
  }

  void AddPartner(const TestHub& other, const std::string& token, const std::string& url = "") {
    storage::Partner p;
    p.id = other.identity_.id;
    p.name = other.name_;
    p.identity_json = other.identity_.identity_json;
    p.url = url.empty() ? other.identity_.url : url;
    p.inbox = other.inbox_;
    p.sign_key = other.identity_.keys.sign_public_b64();
    p.box_key = other.identity_.keys.box_public_b64();
    p.token = identity_.keys.SealSecret(token);
    p.user = "partner-" + other.name_;
    p.created = clock_.NowMicros();
    EXPECT_TRUE(store_->CreatePartner(p).ok());
  }

  void AddChannel(const TestHub& other, storage::ChannelMode mode, const std::string& collection,
                  const std::string& remote = "") {
    storage::Channel c;
    c.id = RandomUuidV4();
    c.partner = other.identity_.id;
    c.collection_id = collection;
    c.mode = mode;
    c.max_tlp = 4;
    c.remote_collection = remote;
    c.created = clock_.NowMicros();
    EXPECT_TRUE(store_->CreateChannel(c).ok());
  }

  // POSTs objects to the report collection as a local administrator (through Sharing).
  void Publish(const std::vector<std::string>& objects) {
    std::string body = "{\"objects\":[";
    for (size_t i = 0; i < objects.size(); ++i) body += (i ? "," : "") + objects[i];
    body += "]}";
    taxii::Request request;
    request.method = "POST";
    request.target = std::string("/") + kApiRoot + "/collections/" + collection_ + "/objects/";
    request.accept = taxii::kTaxiiMediaType;
    request.content_type = taxii::kTaxiiMediaType;
    request.body = body;
    request.principal.user = "analyst";
    request.principal.role = storage::Role::kAdmin;
    request.principal.authenticated = true;
    request.principal.method = "basic";
    Result<taxii::Response> response = service_->Handle(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_EQ(response->status, 202) << response->body;
    ASSERT_NE(response->body.find("\"failure_count\":0"), std::string::npos) << response->body;
  }

  void StartDelivery(DeliveryOptions options) {
    Result<std::unique_ptr<Delivery>> d = Delivery::Start(
        *store_, identity_, *sharing_, clock_, outbox_changed_, events_changed_, options);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    delivery_ = *std::move(d);
  }
  void StopDelivery() {
    if (delivery_) delivery_->Stop();
    delivery_.reset();
  }

  std::vector<OutboxRow> Outbox(const std::string& partner) {
    storage::OutboxQuery q;
    q.partner = partner;
    Result<std::vector<OutboxRow>> rows = store_->ListOutbox(q);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<OutboxRow>{};
  }
  bool AllDelivered(const std::string& partner, size_t n) {
    std::vector<OutboxRow> rows = Outbox(partner);
    if (rows.size() != n) return false;
    for (const OutboxRow& r : rows) {
      if (r.state != OutboxState::kDelivered) return false;
    }
    return true;
  }
  int64_t Count(const std::string& collection) {
    Result<int64_t> n = store_->CountObjects(collection);
    return n.ok() ? *n : -1;
  }
  std::vector<storage::AuditRecord> Audit() {
    Result<std::vector<storage::AuditRecord>> records = store_->ListAudit(0, 100000);
    EXPECT_TRUE(records.ok());
    return records.ok() ? *records : std::vector<storage::AuditRecord>{};
  }

  const std::string& id() const { return identity_.id; }
  const std::string& collection() const { return collection_; }
  const std::string& inbox() const { return inbox_; }
  const std::string& url() const { return identity_.url; }
  storage::memory::MemoryStore& store() { return *store_; }
  const HubIdentity& identity() const { return identity_; }
  SwitchableHandler& handler() { return *handler_; }

 private:
  std::string name_;
  Clock& clock_;
  std::unique_ptr<storage::memory::MemoryStore> store_;
  std::string collection_, inbox_, hub_secret_;
  HubIdentity identity_;
  Notifier outbox_changed_, events_changed_;
  std::unique_ptr<Sharing> sharing_;
  std::unique_ptr<taxii::Service> service_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<SwitchableHandler> handler_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<Delivery> delivery_;
};

DeliveryOptions FastOptions() {
  DeliveryOptions o;
  o.poll_interval = std::chrono::milliseconds(10);
  o.pull_interval = std::chrono::milliseconds(10);
  o.min_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(20);
  o.request_timeout = std::chrono::milliseconds(20000);
  return o;
}

// A and B trust each other; A pushes its report collection to B.
void Partner(TestHub& a, TestHub& b) {
  const std::string token_for_a = b.IssueTokenFor(a);
  const std::string token_for_b = a.IssueTokenFor(b);
  a.AddPartner(b, token_for_a);
  b.AddPartner(a, token_for_b);
}

// `hub` holds `count` versions of `id` in its inbox, and their date_added order (arrival) is
// their version order.
void ExpectArrivedInVersionOrder(TestHub& hub, const std::string& id, size_t count) {
  storage::ObjectQuery q;
  q.collection_id = hub.inbox();
  Result<storage::ObjectPage> versions = hub.store().QueryVersions(q, id);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->objects.size(), count);
  for (size_t i = 1; i < versions->objects.size(); ++i) {
    EXPECT_LT(versions->objects[i - 1].version, versions->objects[i].version);
    EXPECT_LT(versions->objects[i - 1].date_added, versions->objects[i].date_added);
  }
}

TEST(Delivery, PushDeliversAndReceiptsSayDelivered) {
  SystemClock clock;
  TestHub a("a", clock, 'a'), b("b", clock, 'b');
  Partner(a, b);
  a.AddChannel(b, storage::ChannelMode::kPush, a.collection());
  a.StartDelivery(FastOptions());
  const std::string id1 = NewIndicatorId(), id2 = NewIndicatorId();
  a.Publish(
      {Indicator(id1, "2026-01-02T00:00:00.000Z"), Indicator(id2, "2026-01-02T00:00:00.000Z")});

  ASSERT_TRUE(Eventually([&] { return a.AllDelivered(b.id(), 2); }));
  EXPECT_EQ(b.Count(b.inbox()), 2);
  for (const OutboxRow& row : a.Outbox(b.id())) {
    EXPECT_GT(row.delivered_at, 0);
    EXPECT_EQ(row.error, "");
    EXPECT_EQ(row.attempts, 0);
  }
  // Stored at B as received from A, with A as origin, and without the signature property.
  Result<std::vector<storage::StoredObject>> at_b = b.store().LookupObjects({id1});
  ASSERT_TRUE(at_b.ok());
  ASSERT_EQ(at_b->size(), 1u);
  EXPECT_EQ((*at_b)[0].label.origin, a.id());
  EXPECT_EQ((*at_b)[0].label.received_from, a.id());
  EXPECT_FALSE((*at_b)[0].label.signature.empty());
  Result<storage::StoredObject> stored =
      b.store().GetObjectVersion(b.inbox(), id1, (*at_b)[0].version);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->json.find("x_liaison_signature"), std::string::npos);

  // The delivery is audited at A, naming both objects. (The record is appended just after the
  // receipts' commit, so it may come a moment after the rows say delivered.)
  EXPECT_TRUE(Eventually([&] {
    for (const storage::AuditRecord& r : a.Audit()) {
      if (r.kind == "deliver" && r.detail.find(id1) != std::string::npos &&
          r.detail.find(id2) != std::string::npos && r.detail.find(b.id()) != std::string::npos) {
        return true;
      }
    }
    return false;
  }));
}

TEST(Delivery, PartnerDownRetriesWithBackoffThenDelivers) {
  SystemClock clock;
  TestHub a("a", clock, 'a'), b("b", clock, 'b');
  Partner(a, b);
  a.AddChannel(b, storage::ChannelMode::kPush, a.collection());
  b.handler().down = true;
  a.StartDelivery(FastOptions());
  const std::string id = NewIndicatorId();
  a.Publish({Indicator(id, "2026-01-02T00:00:00.000Z")});

  // Retried, still queued, with the reason kept in the receipt.
  ASSERT_TRUE(Eventually([&] {
    std::vector<OutboxRow> rows = a.Outbox(b.id());
    return rows.size() == 1 && rows[0].attempts >= 3;
  }));
  std::vector<OutboxRow> rows = a.Outbox(b.id());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0].state, OutboxState::kFailed);
  EXPECT_NE(rows[0].error.find("503"), std::string::npos) << rows[0].error;
  EXPECT_EQ(b.Count(b.inbox()), 0);

  b.handler().down = false;
  ASSERT_TRUE(Eventually([&] { return a.AllDelivered(b.id(), 1); }));
  EXPECT_EQ(b.Count(b.inbox()), 1);
  EXPECT_EQ(a.Outbox(b.id())[0].error, "");
  bool failure_audited = false;
  for (const storage::AuditRecord& r : a.Audit()) {
    if (r.kind == "delivery-failed" && r.detail.find(id) != std::string::npos &&
        r.detail.find("\"permanent\":false") != std::string::npos) {
      failure_audited = true;
    }
  }
  EXPECT_TRUE(failure_audited);
}

TEST(Delivery, UnreachablePartnerIsRetriedUntilItsAddressWorks) {
  SystemClock clock;
  TestHub a("a", clock, 'a'), b("b", clock, 'b');
  // A port nobody listens on: bind one, then close it.
  uint16_t closed_port = 0;
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    closed_port = acceptor.local_endpoint().port();
  }
  const std::string token_for_a = b.IssueTokenFor(a);
  b.AddPartner(a, a.IssueTokenFor(b));
  a.AddPartner(b, token_for_a, "http://127.0.0.1:" + std::to_string(closed_port) + "/api/");
  a.AddChannel(b, storage::ChannelMode::kPush, a.collection());
  a.StartDelivery(FastOptions());
  a.Publish({Indicator(NewIndicatorId(), "2026-01-02T00:00:00.000Z")});
  ASSERT_TRUE(Eventually([&] {
    std::vector<OutboxRow> rows = a.Outbox(b.id());
    return rows.size() == 1 && rows[0].attempts >= 2;
  }));
  EXPECT_NE(a.Outbox(b.id())[0].error.find("127.0.0.1:" + std::to_string(closed_port)),
            std::string::npos)
      << a.Outbox(b.id())[0].error;

  Result<storage::Partner> partner = a.store().GetPartner(b.id());
  ASSERT_TRUE(partner.ok());
  partner->url = b.url();
  ASSERT_TRUE(a.store().UpdatePartner(*partner).ok());
  ASSERT_TRUE(Eventually([&] { return a.AllDelivered(b.id(), 1); }));
  EXPECT_EQ(b.Count(b.inbox()), 1);
}

TEST(Delivery, PermanentPerObjectFailureKeepsThePartnersMessage) {
  SystemClock clock;
  TestHub a("a", clock, 'a'), b("b", clock, 'b');
  Partner(a, b);
  a.AddChannel(b, storage::ChannelMode::kPush, a.collection());
  const std::string refused = NewIndicatorId(), accepted = NewIndicatorId();
  // A partner (another vendor's server) that refuses one object and takes the other.
  std::atomic<int> posts{0};
  testing::FakeHttpServer fake([&](const testing::Req& req) {
    ++posts;
    boost::json::value body = boost::json::parse(req.body());
    boost::json::array successes, failures;
    for (const boost::json::value& o : body.at("objects").as_array()) {
      boost::json::object detail;
      detail["id"] = o.at("id");
      detail["version"] = o.at("modified");
      if (o.at("id").as_string() == refused) {
        detail["message"] = "indicators from this source are not accepted here";
        failures.push_back(detail);
      } else {
        successes.push_back(detail);
      }
    }
    boost::json::object status{{"id", RandomUuidV4()},
                               {"status", "complete"},
                               {"total_count", successes.size() + failures.size()},
                               {"success_count", successes.size()},
                               {"failure_count", failures.size()},
                               {"pending_count", 0},
                               {"successes", successes},
                               {"failures", failures}};
    return testing::TaxiiJson(202, boost::json::serialize(status));
  });
  Result<storage::Partner> partner = a.store().GetPartner(b.id());
  ASSERT_TRUE(partner.ok());
  partner->url = fake.base() + "/api/";
  ASSERT_TRUE(a.store().UpdatePartner(*partner).ok());

  a.StartDelivery(FastOptions());
  a.Publish({Indicator(refused, "2026-01-02T00:00:00.000Z"),
             Indicator(accepted, "2026-01-02T00:00:00.000Z")});
  ASSERT_TRUE(Eventually([&] {
    std::vector<OutboxRow> rows = a.Outbox(b.id());
    return rows.size() == 2 && rows[0].state != OutboxState::kQueued &&
           rows[1].state != OutboxState::kQueued;
  }));
  for (const OutboxRow& row : a.Outbox(b.id())) {
    if (row.object_id == refused) {
      EXPECT_EQ(row.state, OutboxState::kFailed);
      EXPECT_EQ(row.error, "indicators from this source are not accepted here");
      EXPECT_EQ(row.delivered_at, 0);
    } else {
      EXPECT_EQ(row.state, OutboxState::kDelivered);
    }
  }
  // Audited just after the receipts' commit (so possibly a moment after the rows changed).
  EXPECT_TRUE(Eventually([&] {
    for (const storage::AuditRecord& r : a.Audit()) {
      if (r.kind == "delivery-failed" && r.detail.find(refused) != std::string::npos &&
          r.detail.find("not accepted here") != std::string::npos &&
          r.detail.find("\"permanent\":true") != std::string::npos) {
        return true;
      }
    }
    return false;
  }));
  a.StopDelivery();            // closes the kept-alive connection before the fake server goes
  EXPECT_EQ(posts.load(), 1);  // a permanent failure is not retried
  // What went out was signed by A.
  std::vector<testing::Req> requests = fake.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_NE(requests[0].body().find("x_liaison_signature"), std::string::npos);
  EXPECT_EQ(requests[0][boost::beast::http::field::authorization].substr(0, 7), "Bearer ");
}

TEST(Delivery, VersionsOfAnObjectArriveInOrder) {
  SystemClock clock;
  TestHub a("a", clock, 'a'), b("b", clock, 'b');
  Partner(a, b);
  a.AddChannel(b, storage::ChannelMode::kPush, a.collection());
  const std::string id = NewIndicatorId();
  // Queued while no pusher runs, then sent one per POST.
  a.Publish({Indicator(id, "2026-01-02T00:00:00.000Z", "v1")});
  a.Publish({Indicator(id, "2026-01-03T00:00:00.000Z", "v2")});
  a.Publish({Indicator(id, "2026-01-04T00:00:00.000Z", "v3")});
  DeliveryOptions options = FastOptions();
  options.batch_size = 1;
  a.StartDelivery(options);
  ASSERT_TRUE(Eventually([&] { return a.AllDelivered(b.id(), 3); }));

  ExpectArrivedInVersionOrder(b, id, 3);
  std::vector<OutboxRow> rows = a.Outbox(b.id());
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_LE(rows[i - 1].delivered_at, rows[i].delivered_at);
  }
}

TEST(Delivery, BatchesNamingTheSameObjectNeverTravelTogether) {
  using Ids = std::vector<std::vector<std::string_view>>;
  EXPECT_EQ(BatchesThatMayTravelTogether(Ids{}), 0u);
  EXPECT_EQ(BatchesThatMayTravelTogether(Ids{{"a", "b"}}), 1u);
  EXPECT_EQ(BatchesThatMayTravelTogether(Ids{{"a", "b"}, {"c"}, {"d", "e"}}), 3u);
  // The second batch names "b" again: only the first goes.
  EXPECT_EQ(BatchesThatMayTravelTogether(Ids{{"a", "b"}, {"c", "b"}, {"d"}}), 1u);
  // The third names an object of the first: the prefix stops before it, even though later
  // batches would be disjoint (they must not overtake it).
  EXPECT_EQ(BatchesThatMayTravelTogether(Ids{{"a"}, {"c"}, {"a"}, {"z"}}), 2u);
  // Two versions of one object inside one batch travel together in that batch's order.
  EXPECT_EQ(BatchesThatMayTravelTogether(Ids{{"a", "a"}, {"b"}}), 2u);
}

TEST(Delivery, BacklogInSeveralBatchesAtOnceKeepsTheOrderOfEachObject) {
  SystemClock clock;
  TestHub a("a", clock, 'a'), b("b", clock, 'b');
  Partner(a, b);
  a.AddChannel(b, storage::ChannelMode::kPush, a.collection());
  // A backlog of 60 rows in batches of 4, up to 3 at once: three objects get a new version every
  // few publishes, so consecutive batches often name the same object and must not travel
  // together.
  const std::vector<std::string> versioned = {NewIndicatorId(), NewIndicatorId(), NewIndicatorId()};
  size_t rows = 0;
  for (int i = 0; i < 12; ++i) {
    std::vector<std::string> batch;
    for (int j = 0; j < 4; ++j)
      batch.push_back(Indicator(NewIndicatorId(), "2026-01-02T00:00:00.000Z"));
    a.Publish(batch);
    const std::string day = std::string("2026-02-") + (i < 9 ? "0" : "") + std::to_string(i + 1);
    a.Publish({Indicator(versioned[i % 3], day + "T00:00:00.000Z", "v" + std::to_string(i))});
    rows += 5;
  }
  DeliveryOptions options = FastOptions();
  options.batch_size = 4;
  options.max_in_flight = 3;
  a.StartDelivery(options);
  ASSERT_TRUE(Eventually([&] { return a.AllDelivered(b.id(), rows); }));

  Result<int64_t> count = b.store().CountObjects(b.inbox());
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, static_cast<int64_t>(rows));  // each version once
  for (const std::string& id : versioned) ExpectArrivedInVersionOrder(b, id, 4);
}

TEST(Delivery, APartnerThatRefusesLargeEnvelopesGetsSmallerOnesFromThenOn) {
  // One batch at a time, and a window of three (the batches in flight learn the bound too).
  for (size_t in_flight : {1, 3}) {
    SCOPED_TRACE("max_in_flight " + std::to_string(in_flight));
    SystemClock clock;
    // B takes request bodies of at most 8 KB: a handful of signed indicators, far fewer than a
    // batch of 32.
    TestHub a("a", clock, 'a'), b("b", clock, 'b', 8 * 1024);
    Partner(a, b);
    a.AddChannel(b, storage::ChannelMode::kPush, a.collection());
    const size_t rows = 160;
    for (size_t i = 0; i < rows / 20; ++i) {
      std::vector<std::string> batch;
      for (int j = 0; j < 20; ++j) {
        batch.push_back(Indicator(NewIndicatorId(), "2026-01-02T00:00:00.000Z"));
      }
      a.Publish(batch);
    }
    DeliveryOptions options = FastOptions();
    options.batch_size = 32;
    options.max_in_flight = in_flight;
    a.StartDelivery(options);
    ASSERT_TRUE(Eventually([&] { return a.AllDelivered(b.id(), rows); }));
    EXPECT_EQ(b.Count(b.inbox()), static_cast<int64_t>(rows));

    // Only the first batches were refused (32, then 16, ... objects) while A learned B's bound;
    // everything after them went through at the first attempt. (Going back to full batches after
    // each success had every row refused once.)
    size_t refused = 0;
    for (const OutboxRow& row : a.Outbox(b.id())) {
      EXPECT_EQ(row.state, OutboxState::kDelivered);
      if (row.attempts > 0) ++refused;
    }
    EXPECT_GT(refused, 0u) << "B's bound was never hit: the test proves nothing";
    EXPECT_LE(refused, 64u);
  }
}

TEST(Delivery, ExpiredLeaseOfACrashedPusherIsDeliveredAgainIdempotently) {
  FakeClock clock(SystemClock().NowMicros());
  TestHub a("a", clock, 'a'), b("b", clock, 'b');
  Partner(a, b);
  a.AddChannel(b, storage::ChannelMode::kPush, a.collection());
  const std::string id1 = NewIndicatorId(), id2 = NewIndicatorId();
  a.Publish(
      {Indicator(id1, "2026-01-02T00:00:00.000Z"), Indicator(id2, "2026-01-02T00:00:00.000Z")});

  // A pusher claims the rows, sends them, and dies before recording the receipts.
  const int64_t lease = 30'000'000;
  Result<std::vector<OutboxRow>> claimed =
      a.store().ClaimOutbox(b.id(), 10, clock.NowMicros(), lease);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 2u);
  std::string envelope = "{\"objects\":[";
  for (size_t i = 0; i < claimed->size(); ++i) {
    const OutboxRow& row = (*claimed)[i];
    Result<storage::StoredObject> o =
        a.store().GetObjectVersion(row.collection_id, row.object_id, row.version);
    ASSERT_TRUE(o.ok());
    Result<std::string> wire = WireForm(*o, a.identity());
    ASSERT_TRUE(wire.ok()) << wire.status().ToString();
    envelope += (i ? "," : "") + *wire;
  }
  envelope += "]}";
  {
    Result<storage::Partner> partner = a.store().GetPartner(b.id());
    ASSERT_TRUE(partner.ok());
    Result<std::string> token = a.identity().keys.UnsealSecret(partner->token);
    ASSERT_TRUE(token.ok());
    TaxiiClientOptions client_options;
    client_options.credentials = Credentials::Bearer(*token);
    Result<std::unique_ptr<TaxiiClient>> client = TaxiiClient::Create(b.url(), client_options);
    ASSERT_TRUE(client.ok());
    Result<StatusInfo> status = (*client)->AddObjects(b.url(), b.inbox(), envelope);
    ASSERT_TRUE(status.ok()) << status.status().ToString();
    EXPECT_EQ(status->success_count, 2);
  }
  ASSERT_EQ(b.Count(b.inbox()), 2);

  // A new pusher may not take the leased rows while the lease holds (the clock does not move).
  a.StartDelivery(FastOptions());
  for (const OutboxRow& row : a.Outbox(b.id())) EXPECT_EQ(row.state, OutboxState::kQueued);

  clock.Advance(lease + 1'000'000);
  ASSERT_TRUE(Eventually([&] { return a.AllDelivered(b.id(), 2); }));
  // B took the second delivery as the no-op it is: one version of each object.
  EXPECT_EQ(b.Count(b.inbox()), 2);
}

TEST(Delivery, PullChannelPersistsItsCursorAndResumes) {
  SystemClock clock;
  TestHub a("a", clock, 'a'), b("b", clock, 'b');
  Partner(a, b);
  // A lets B read its reports; B polls them into its inbox.
  a.AddChannel(b, storage::ChannelMode::kPush, a.collection());
  b.AddChannel(a, storage::ChannelMode::kPull, b.inbox(), a.collection());
  a.Publish({Indicator(NewIndicatorId(), "2026-01-02T00:00:00.000Z"),
             Indicator(NewIndicatorId(), "2026-01-02T00:00:00.000Z"),
             Indicator(NewIndicatorId(), "2026-01-02T00:00:00.000Z")});
  b.StartDelivery(FastOptions());
  ASSERT_TRUE(Eventually([&] { return b.Count(b.inbox()) == 3; }));
  std::string cursor;
  ASSERT_TRUE(Eventually([&] {
    Result<std::vector<storage::Channel>> channels = b.store().ListChannels(a.id());
    if (!channels.ok() || channels->size() != 1) return false;
    cursor = (*channels)[0].cursor;
    return !cursor.empty();
  }));
  b.StopDelivery();

  a.Publish({Indicator(NewIndicatorId(), "2026-01-05T00:00:00.000Z"),
             Indicator(NewIndicatorId(), "2026-01-05T00:00:00.000Z")});
  const size_t before = a.handler().targets().size();
  b.StartDelivery(FastOptions());
  ASSERT_TRUE(Eventually([&] { return b.Count(b.inbox()) == 5; }));
  b.StopDelivery();
  // The restarted puller asked only for what was added after the persisted cursor.
  std::vector<std::string> targets = a.handler().targets();
  ASSERT_GT(targets.size(), before);
  EXPECT_NE(targets[before].find("added_after=" + cursor), std::string::npos)
      << targets[before] << " cursor " << cursor;
  Result<std::vector<storage::Channel>> channels = b.store().ListChannels(a.id());
  ASSERT_TRUE(channels.ok());
  ASSERT_EQ(channels->size(), 1u);
  EXPECT_GT((*channels)[0].cursor, cursor);
}

TEST(Delivery, StartRejectsBadOptionsAndStopIsIdempotent) {
  SystemClock clock;
  TestHub a("a", clock, 'a');
  storage::memory::MemoryStore& store = a.store();
  Notifier outbox, events;
  Sharing sharing(store, a.identity(), clock, outbox, events);
  DeliveryOptions bad;
  bad.lease = std::chrono::milliseconds(0);
  Result<std::unique_ptr<Delivery>> d =
      Delivery::Start(store, a.identity(), sharing, clock, outbox, events, bad);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);

  d = Delivery::Start(store, a.identity(), sharing, clock, outbox, events, FastOptions());
  ASSERT_TRUE(d.ok());
  (*d)->Stop();
  (*d)->Stop();
}

}  // namespace
}  // namespace liaison::federation
