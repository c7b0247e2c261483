#include "cli/publish_util.h"

#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "federation/fake_http_server.h"

namespace liaison::cli {
namespace {

using federation::testing::FakeHttpServer;
using federation::testing::Req;
using federation::testing::Res;
using federation::testing::TaxiiJson;

std::vector<PublishObject> MakeObjects(int n, size_t pad = 0) {
  std::vector<PublishObject> out;
  for (int i = 0; i < n; ++i) {
    std::string id = "indicator--00000000-0000-4000-8000-" +
                     std::string(12 - std::to_string(i).size(), '0') + std::to_string(i);
    out.push_back(
        {id, "2024-01-01T00:00:00.000Z",
         R"({"type":"indicator","id":")" + id + R"(","x":")" + std::string(pad, 'a') + R"("})"});
  }
  return out;
}

// The ids in an envelope body, in order (test helper: finds each "id":"..." occurrence).
std::vector<std::string> IdsIn(const std::string& body) {
  std::vector<std::string> ids;
  size_t pos = 0;
  while ((pos = body.find(R"("id":")", pos)) != std::string::npos) {
    pos += 6;
    size_t end = body.find('"', pos);
    ids.push_back(body.substr(pos, end - pos));
    pos = end;
  }
  return ids;
}

std::string StatusJson(size_t n, const std::string& state = "complete", int pending = 0) {
  return R"({"id":"2d086da7-4bdc-4f91-900e-d77486753710","status":")" + state +
         R"(","total_count":)" + std::to_string(n) + R"(,"success_count":)" +
         std::to_string(n - pending) + R"(,"failure_count":0,"pending_count":)" +
         std::to_string(pending) + "}";
}

PublishOptions Options() {
  PublishOptions o;
  o.collection_id = "c1";
  o.sleep = [](std::chrono::milliseconds) {};
  return o;
}

TEST(PackEnvelopes, RespectsByteAndObjectLimitsAndKeepsOrder) {
  std::vector<PublishObject> objects = MakeObjects(50, 20);
  size_t one = EnvelopeBytes(objects, {0});
  size_t limit = one * 3;  // room for a bit less than 3 objects plus commas... exactly 2
  std::vector<size_t> oversized;
  std::vector<EnvelopeBatch> batches = PackEnvelopes(objects, limit, 1000, &oversized);
  EXPECT_TRUE(oversized.empty());
  size_t next = 0;
  for (const EnvelopeBatch& b : batches) {
    EXPECT_LE(EnvelopeBytes(objects, b.indices), limit);
    EXPECT_EQ(EnvelopeJson(objects, b.indices).size(), EnvelopeBytes(objects, b.indices));
    for (size_t i : b.indices) EXPECT_EQ(i, next++);
  }
  EXPECT_EQ(next, objects.size());

  batches = PackEnvelopes(objects, size_t{1} << 30, 7, &oversized);
  ASSERT_EQ(batches.size(), 8u);  // 7 * 7 + 1
  EXPECT_EQ(batches.back().indices.size(), 1u);
}

TEST(PackEnvelopes, OversizedObjectsAreSetAside) {
  std::vector<PublishObject> objects = MakeObjects(3);
  objects[1].json = R"({"type":"indicator","x":")" + std::string(5000, 'b') + R"("})";
  std::vector<size_t> oversized;
  std::vector<EnvelopeBatch> batches = PackEnvelopes(objects, 1000, 100, &oversized);
  ASSERT_EQ(oversized.size(), 1u);
  EXPECT_EQ(oversized[0], 1u);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].indices, (std::vector<size_t>{0, 2}));
}

TEST(EnvelopeJson, IsATaxiiEnvelope) {
  std::vector<PublishObject> objects = {{"a", "", R"({"a":1})"}, {"b", "", R"({"b":2})"}};
  EXPECT_EQ(EnvelopeJson(objects, {0, 1}), R"({"objects":[{"a":1},{"b":2}]})");
  EXPECT_EQ(EnvelopeJson(objects, {}), R"({"objects":[]})");
}

class PublishTest : public ::testing::Test {
 protected:
  std::unique_ptr<federation::TaxiiClient> Client(const FakeHttpServer& server) {
    federation::TaxiiClientOptions options;
    auto c = federation::TaxiiClient::Create(server.base() + "/api/", options);
    EXPECT_TRUE(c.ok());
    return std::move(c).value();
  }
};

TEST_F(PublishTest, SplitsIntoEnvelopesWithinMaxContentLength) {
  std::vector<PublishObject> objects = MakeObjects(40, 100);
  size_t limit = EnvelopeBytes(objects, {0, 1, 2, 3, 4}) + 10;
  FakeHttpServer server([&](const Req& req) {
    if (req.body().size() > limit) return TaxiiJson(413, R"({"title":"too large"})");
    return TaxiiJson(202, StatusJson(IdsIn(req.body()).size()));
  });
  auto client = Client(server);
  PublishReport r = PublishObjects(*client, server.base() + "/api/", static_cast<int64_t>(limit),
                                   objects, Options());
  EXPECT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_TRUE(r.all_succeeded());
  EXPECT_EQ(r.succeeded, 40);
  EXPECT_EQ(r.envelopes, 8);
  std::vector<std::string> sent;
  for (const Req& req : server.requests()) {
    EXPECT_EQ(req.target(), "/api/collections/c1/objects/");
    for (auto& id : IdsIn(req.body())) sent.push_back(id);
  }
  ASSERT_EQ(sent.size(), objects.size());
  for (size_t i = 0; i < objects.size(); ++i) EXPECT_EQ(sent[i], objects[i].id);
}

TEST_F(PublishTest, HalvesEnvelopesTheServerRefusesAsTooLarge) {
  std::vector<PublishObject> objects = MakeObjects(16, 50);
  // The server advertises 1 MiB but a proxy in front takes at most ~3 objects.
  size_t real_limit = EnvelopeBytes(objects, {0, 1, 2});
  FakeHttpServer server([&](const Req& req) {
    if (req.body().size() > real_limit) return TaxiiJson(413, R"({"title":"too large"})");
    return TaxiiJson(202, StatusJson(IdsIn(req.body()).size()));
  });
  auto client = Client(server);
  PublishReport r = PublishObjects(*client, server.base() + "/api/", 1 << 20, objects, Options());
  EXPECT_TRUE(r.all_succeeded()) << r.error.ToString();
  EXPECT_EQ(r.succeeded, 16);
}

TEST_F(PublishTest, SingleObjectTooLargeForTheServerIsAFailure) {
  std::vector<PublishObject> objects = MakeObjects(2, 10);
  objects[1].json = R"({"type":"indicator","id":")" + objects[1].id + R"(","x":")" +
                    std::string(3000, 'z') + R"("})";
  FakeHttpServer server([&](const Req& req) {
    if (req.body().size() > 1000) return TaxiiJson(413, R"({"title":"too large"})");
    return TaxiiJson(202, StatusJson(IdsIn(req.body()).size()));
  });
  auto client = Client(server);
  PublishReport r = PublishObjects(*client, server.base() + "/api/", 1 << 20, objects, Options());
  EXPECT_TRUE(r.error.ok());
  EXPECT_EQ(r.succeeded, 1);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].id, objects[1].id);
  EXPECT_NE(r.failures[0].message.find("413"), std::string::npos) << r.failures[0].message;
  EXPECT_FALSE(r.all_succeeded());

  // Locally known to be too large: not even sent.
  PublishReport local = PublishObjects(*client, server.base() + "/api/", 500, objects, Options());
  EXPECT_EQ(local.failed, 1);
  EXPECT_NE(local.failures.at(0).message.find("exceeds the server's envelope limit"),
            std::string::npos);
}

TEST_F(PublishTest, ReportsServerFailures) {
  std::vector<PublishObject> objects = MakeObjects(3);
  FakeHttpServer server([&](const Req&) {
    return TaxiiJson(202, R"({"id":"s1","status":"complete","total_count":3,"success_count":2,)"
                          R"("failure_count":1,"pending_count":0,"failures":[{"id":")" +
                              objects[2].id + R"(","version":"v","message":"duplicate id"}]})");
  });
  auto client = Client(server);
  PublishReport r = PublishObjects(*client, server.base() + "/api/", 1 << 20, objects, Options());
  EXPECT_TRUE(r.error.ok());
  EXPECT_EQ(r.succeeded, 2);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].message, "duplicate id");
  EXPECT_FALSE(r.all_succeeded());
}

TEST_F(PublishTest, PollsPendingStatusUntilComplete) {
  std::vector<PublishObject> objects = MakeObjects(4);
  std::atomic<int> polls{0};
  FakeHttpServer server([&](const Req& req) {
    if (req.method() == boost::beast::http::verb::post) {
      return TaxiiJson(202, StatusJson(4, "pending", 4));
    }
    EXPECT_EQ(req.target(), "/api/status/2d086da7-4bdc-4f91-900e-d77486753710/");
    return TaxiiJson(200, ++polls < 3 ? StatusJson(4, "pending", 2) : StatusJson(4));
  });
  auto client = Client(server);
  PublishReport r = PublishObjects(*client, server.base() + "/api/", 1 << 20, objects, Options());
  EXPECT_TRUE(r.all_succeeded()) << r.error.ToString();
  EXPECT_EQ(r.succeeded, 4);
  EXPECT_EQ(polls.load(), 3);
}

TEST_F(PublishTest, StillPendingAfterTheWaitIsReported) {
  std::vector<PublishObject> objects = MakeObjects(2);
  FakeHttpServer server([&](const Req&) { return TaxiiJson(202, StatusJson(2, "pending", 2)); });
  auto client = Client(server);
  PublishOptions o = Options();
  o.status_wait = std::chrono::milliseconds(2000);
  PublishReport r = PublishObjects(*client, server.base() + "/api/", 1 << 20, objects, o);
  EXPECT_TRUE(r.error.ok());
  EXPECT_EQ(r.pending, 2);
  EXPECT_FALSE(r.all_succeeded());
}

TEST_F(PublishTest, RetriesTransientErrors) {
  std::vector<PublishObject> objects = MakeObjects(2);
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const Req& req) {
    if (++calls < 3) return TaxiiJson(503, R"({"title":"busy"})");
    return TaxiiJson(202, StatusJson(IdsIn(req.body()).size()));
  });
  auto client = Client(server);
  std::vector<std::chrono::milliseconds> sleeps;
  PublishOptions o = Options();
  o.sleep = [&](std::chrono::milliseconds d) { sleeps.push_back(d); };
  PublishReport r = PublishObjects(*client, server.base() + "/api/", 1 << 20, objects, o);
  EXPECT_TRUE(r.all_succeeded()) << r.error.ToString();
  EXPECT_EQ(calls.load(), 3);
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_EQ(sleeps[1], sleeps[0] * 2);
}

TEST_F(PublishTest, StopsAtAFatalErrorAndCountsWhatWasNotSent) {
  std::vector<PublishObject> objects = MakeObjects(10, 50);
  size_t limit = EnvelopeBytes(objects, {0, 1});
  FakeHttpServer server([&](const Req&) {
    return TaxiiJson(403, R"({"title":"Forbidden","description":"no write access"})");
  });
  auto client = Client(server);
  PublishReport r = PublishObjects(*client, server.base() + "/api/", static_cast<int64_t>(limit),
                                   objects, Options());
  EXPECT_EQ(r.error.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.error.message().find("no write access"), std::string::npos);
  EXPECT_EQ(r.not_sent, 10);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_FALSE(r.all_succeeded());
}

}  // namespace
}  // namespace liaison::cli
