#include "federation/sharing.h"

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

#include "crypto/signature.h"
#include "policy/tlp.h"
#include "stix/json_codec.h"
#include "stix/object.h"
#include "storage/hub_settings.h"
#include "storage/memory/memory_store.h"
#include "storage/store_wrapper.h"
#include "taxii/service.h"

namespace liaison::federation {
namespace {

using policy::Tlp;
using storage::Role;

constexpr char kRoot[] = "api";
constexpr char kShared[] = "11111111-1111-4111-8111-111111111111";
constexpr char kInbox[] = "22222222-2222-4222-8222-222222222222";
constexpr char kIdA[] = "identity--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";  // this hub
constexpr char kIdB[] = "identity--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";  // partner
constexpr char kIdC[] = "identity--cccccccc-cccc-4ccc-8ccc-cccccccccccc";  // partner
constexpr char kIdD[] = "identity--dddddddd-dddd-4ddd-8ddd-dddddddddddd";  // disabled partner
constexpr char kIdX[] = "identity--eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee";  // a stranger

crypto::HubKeys Keys(char seed) {
  Result<crypto::HubKeys> k = crypto::HubKeys::FromSeed(std::string(32, seed));
  EXPECT_TRUE(k.ok());
  return k.ok() ? std::move(k).value() : crypto::HubKeys();
}

std::string Uuid(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-%012x", n, n);
  return buf;
}

std::string IndicatorId(int n) { return "indicator--" + Uuid(n); }

std::string Quoted(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += '"' + v[i] + '"';
  }
  return out + "]";
}

// An indicator (name "secret-<n>") with an optional TLP marking and named recipients.
std::string Indicator(int n, std::optional<Tlp> tlp = std::nullopt,
                      std::vector<std::string> recipients = {},
                      const std::string& modified = "2026-01-01T00:00:00.000Z") {
  std::string json = R"({"type":"indicator","spec_version":"2.1","id":")" + IndicatorId(n) +
                     R"(","created":"2026-01-01T00:00:00.000Z","modified":")" + modified +
                     R"(","name":"secret-)" + std::to_string(n) +
                     R"(","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix",)"
                     R"("valid_from":"2026-01-01T00:00:00Z")";
  if (tlp) json += R"(,"object_marking_refs":[")" + std::string(policy::TlpMarkingId(*tlp)) + "\"]";
  if (!recipients.empty()) json += R"(,"x_liaison_recipients":)" + Quoted(recipients);
  return json + "}";
}

std::string Sighting(int n, const std::string& about, std::optional<Tlp> tlp = std::nullopt,
                     const std::string& feedback = "", std::vector<std::string> recipients = {}) {
  std::string json =
      R"({"type":"sighting","spec_version":"2.1","id":"sighting--)" + Uuid(n) +
      R"(","created":"2026-02-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z",)"
      R"("sighting_of_ref":")" +
      about + R"(","count":3)";
  if (tlp) json += R"(,"object_marking_refs":[")" + std::string(policy::TlpMarkingId(*tlp)) + "\"]";
  if (!recipients.empty()) json += R"(,"x_liaison_recipients":)" + Quoted(recipients);
  if (!feedback.empty()) json += R"(,"x_liaison_feedback":)" + feedback;
  return json + "}";
}

std::string Envelope(const std::vector<std::string>& objects) {
  std::string out = R"({"objects":[)";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i) out += ',';
    out += objects[i];
  }
  return out + "]}";
}

stix::ObjectInfo Info(const std::string& json) {
  Result<stix::ObjectInfo> info = stix::ParseObject(json);
  EXPECT_TRUE(info.ok()) << info.status().ToString() << "\n" << json;
  return info.ok() ? std::move(info).value() : stix::ObjectInfo{};
}

std::string Signed(const std::string& json, const std::string& hub, const crypto::HubKeys& keys) {
  Result<std::string> s = crypto::SignObject(json, hub, keys);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : "";
}

// Signs as `hub` and seals to `to` (identity id -> box key), as an origin hub sends TLP:RED.
std::string SignedAndSealed(const std::string& json, const std::string& hub,
                            const crypto::HubKeys& keys,
                            const std::map<std::string, std::string>& to) {
  stix::ObjectInfo info = Info(json);
  std::string signed_json = Signed(json, hub, keys);
  Result<std::string> w =
      crypto::SealObject(signed_json, info.id, info.type, "2026-01-01T00:00:00.000Z",
                         info.object_marking_refs, info.recipients, to);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? *w : "";
}

policy::Principal Who(std::string user, Role role, std::string partner = "") {
  policy::Principal p;
  p.user = std::move(user);
  p.role = role;
  p.authenticated = true;
  p.method = "basic";
  p.partner = std::move(partner);
  return p;
}

struct StatusView {
  int64_t success = -1, failure = -1;
  std::string body;
};

class SharingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    self_.id = kIdA;
    self_.name = "Agency A";
    self_.keys = Keys('a');
    keys_b_ = Keys('b');
    keys_c_ = Keys('c');
    keys_x_ = Keys('x');

    store_ = storage::memory::MemoryStore::Create();
    storage::ApiRoot root;
    root.name = kRoot;
    ASSERT_TRUE(store_->CreateApiRoot(root).ok());
    for (const char* id : {kShared, kInbox}) {
      storage::Collection c;
      c.id = id;
      c.api_root = kRoot;
      c.title = id;
      ASSERT_TRUE(store_->CreateCollection(c).ok());
    }
    Grant(kShared, "role:publisher", true, true);
    Grant(kShared, "role:reader", true, false);
    Grant(kInbox, "role:publisher", true, true);
    for (const char* user : {"hub-b", "hub-c"}) {
      Grant(kInbox, std::string("user:") + user, false, true);
      Grant(kShared, std::string("user:") + user, true, false);
    }
    AddPartner(kIdB, keys_b_, "hub-b");
    AddPartner(kIdC, keys_c_, "hub-c");
    crypto::HubKeys keys_d = Keys('d');
    AddPartner(kIdD, keys_d, "hub-d", /*disabled=*/true);

    sharing_ = std::make_unique<Sharing>(*store_, self_, clock_, outbox_changed_, events_changed_);
    service_ =
        std::make_unique<taxii::Service>(*store_, clock_, taxii::ServiceOptions{}, sharing_.get());
  }

  void Grant(const std::string& collection, const std::string& subject, bool read, bool write) {
    storage::Grant g;
    g.collection_id = collection;
    g.subject = subject;
    g.can_read = read;
    g.can_write = write;
    ASSERT_TRUE(store_->PutGrant(g).ok());
  }

  void AddPartner(const std::string& id, const crypto::HubKeys& keys, const std::string& user,
                  bool disabled = false) {
    storage::Partner p;
    p.id = id;
    p.name = user;
    p.sign_key = keys.sign_public_b64();
    p.box_key = keys.box_public_b64();
    p.user = user;
    p.disabled = disabled;
    ASSERT_TRUE(store_->CreatePartner(p).ok());
  }

  void Channel(const std::string& partner, Tlp max,
               storage::ChannelMode mode = storage::ChannelMode::kPush) {
    storage::Channel c;
    c.id = Uuid(static_cast<int>(++channels_));
    c.partner = partner;
    c.collection_id = kShared;
    c.mode = mode;
    c.max_tlp = static_cast<int32_t>(max);
    ASSERT_TRUE(store_->CreateChannel(c).ok());
  }

  StatusView Post(const std::string& collection, const policy::Principal& who,
                  const std::vector<std::string>& objects) {
    taxii::Request r;
    r.method = "POST";
    r.target = std::string("/") + kRoot + "/collections/" + collection + "/objects/";
    r.accept = taxii::kTaxiiMediaType;
    r.content_type = taxii::kTaxiiMediaType;
    r.body = Envelope(objects);
    r.principal = who;
    Result<taxii::Response> resp = service_->Handle(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    StatusView v;
    if (!resp.ok()) return v;
    v.body = resp->body;
    Result<stix::JsonTree> tree = stix::ParseJson(resp->body);
    EXPECT_TRUE(tree.ok());
    stix::JsonValue m;
    if (tree->root().Find("success_count", &m)) v.success = m.int_value();
    if (tree->root().Find("failure_count", &m)) v.failure = m.int_value();
    return v;
  }

  Result<taxii::Response> Get(const std::string& collection, const policy::Principal& who,
                              const std::string& object_id = "") {
    taxii::Request r;
    r.method = "GET";
    r.target = std::string("/") + kRoot + "/collections/" + collection + "/objects/";
    if (!object_id.empty()) r.target += object_id + "/";
    r.accept = taxii::kTaxiiMediaType;
    r.principal = who;
    return service_->Handle(r);
  }

  storage::StoredObject Stored(const std::string& collection, const std::string& id) {
    storage::ObjectQuery q;
    q.collection_id = collection;
    q.ids = {id};
    Result<storage::ObjectPage> page = store_->QueryObjects(q);
    EXPECT_TRUE(page.ok());
    if (!page.ok() || page->objects.size() != 1) {
      ADD_FAILURE() << "not stored: " << id;
      return {};
    }
    return page->objects[0];
  }

  std::vector<storage::OutboxRow> Outbox(const std::string& object_id = "") {
    storage::OutboxQuery q;
    q.object_id = object_id;
    Result<std::vector<storage::OutboxRow>> rows = store_->ListOutbox(q);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<storage::OutboxRow>{};
  }

  std::vector<std::string> OutboxPartners(const std::string& object_id) {
    std::vector<std::string> out;
    for (const storage::OutboxRow& r : Outbox(object_id)) out.push_back(r.partner);
    return out;
  }

  std::vector<storage::AuditRecord> Audit(const std::string& kind) {
    Result<std::vector<storage::AuditRecord>> all = store_->ListAudit(0, 100000);
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    std::vector<storage::AuditRecord> out;
    if (!all.ok()) return out;
    for (storage::AuditRecord& r : *all) {
      if (r.kind == kind) out.push_back(std::move(r));
    }
    return out;
  }

  // Pushes objects as partner B into the inbox and returns the status.
  StatusView FromB(const std::vector<std::string>& objects) {
    return Post(kInbox, partner_b_, objects);
  }

  FakeClock clock_;
  Notifier outbox_changed_, events_changed_;
  HubIdentity self_;
  crypto::HubKeys keys_b_, keys_c_, keys_x_;
  std::unique_ptr<storage::memory::MemoryStore> store_;
  std::unique_ptr<Sharing> sharing_;
  std::unique_ptr<taxii::Service> service_;
  int64_t channels_ = 0;
  policy::Principal publisher_ = Who("pat", Role::kPublisher);
  policy::Principal reader_ = Who("rita", Role::kReader);
  policy::Principal partner_b_ = Who("hub-b", Role::kPartner, kIdB);
  policy::Principal partner_c_ = Who("hub-c", Role::kPartner, kIdC);
};

// ---------------------------------------------------------------------------------------------
// Publishing

TEST_F(SharingTest, PublishLabelsEachLevelWithThisHubAsOrigin) {
  StatusView s = Post(
      kShared, publisher_,
      {Indicator(1, Tlp::kClear), Indicator(2, Tlp::kGreen), Indicator(3, Tlp::kAmber),
       Indicator(4, Tlp::kAmberStrict, {kIdB}), Indicator(5, Tlp::kRed, {kIdB}), Indicator(6)});
  ASSERT_EQ(s.success, 6) << s.body;
  const Tlp expected[] = {Tlp::kClear,       Tlp::kGreen, Tlp::kAmber,
                          Tlp::kAmberStrict, Tlp::kRed,   Tlp::kAmber /* default */};
  for (int i = 1; i <= 6; ++i) {
    storage::StoredObject o = Stored(kShared, IndicatorId(i));
    EXPECT_EQ(o.label.tlp, static_cast<int32_t>(expected[i - 1])) << i;
    EXPECT_EQ(o.label.origin, kIdA);
    EXPECT_EQ(o.label.received_from, "");
    EXPECT_EQ(o.label.sealed, i == 5);
    EXPECT_EQ(o.label.signature, "");
  }
  EXPECT_EQ(Stored(kShared, IndicatorId(4)).label.recipients, std::vector<std::string>{kIdB});
  EXPECT_EQ(Audit("publish").size(), 6u);
  EXPECT_EQ(Audit("publish")[0].actor, "pat");
  EXPECT_EQ(Audit("publish")[0].subject, IndicatorId(1));
}

TEST_F(SharingTest, DefaultLevelComesFromTheSetting) {
  ASSERT_TRUE(store_->PutSetting(storage::kDefaultTlpSetting, "green").ok());
  ASSERT_EQ(Post(kShared, publisher_, {Indicator(1)}).success, 1);
  EXPECT_EQ(Stored(kShared, IndicatorId(1)).label.tlp, static_cast<int32_t>(Tlp::kGreen));

  // A broken setting refuses unmarked objects with a message naming it; marked ones need no
  // default.
  ASSERT_TRUE(store_->PutSetting(storage::kDefaultTlpSetting, "purple").ok());
  StatusView refused = Post(kShared, publisher_, {Indicator(2)});
  EXPECT_EQ(refused.failure, 1);
  EXPECT_NE(refused.body.find("policy.default_tlp holds 'purple'"), std::string::npos)
      << refused.body;
  EXPECT_EQ(Post(kShared, publisher_, {Indicator(3, Tlp::kGreen)}).success, 1);
}

TEST_F(SharingTest, NamedRecipientLevelsNeedKnownPartners) {
  StatusView s =
      Post(kShared, publisher_,
           {Indicator(1, Tlp::kAmberStrict, {kIdB, kIdX}), Indicator(2, Tlp::kRed, {kIdX}),
            Indicator(3, Tlp::kAmber, {kIdX}), Indicator(4, Tlp::kAmberStrict, {kIdC})});
  EXPECT_EQ(s.success, 2) << s.body;
  EXPECT_EQ(s.failure, 2) << s.body;
  EXPECT_NE(
      s.body.find(std::string("x_liaison_recipients names ") + kIdX + " which is not a partner"),
      std::string::npos)
      << s.body;
  EXPECT_EQ(Audit("reject").size(), 2u);
}

TEST_F(SharingTest, LocalPublishersCannotSendSignedOrSealedObjects) {
  std::string signed_json = Signed(Indicator(1, Tlp::kGreen), kIdA, self_.keys);
  std::string wrapper = SignedAndSealed(Indicator(2, Tlp::kRed, {kIdB}), kIdA, self_.keys,
                                        {{kIdA, self_.keys.box_public_b64()}});
  StatusView s = Post(kShared, publisher_, {signed_json, wrapper});
  EXPECT_EQ(s.success, 0) << s.body;
  EXPECT_EQ(s.failure, 2) << s.body;
}

TEST_F(SharingTest, OutboxRowsFollowChannelMaximumAndLevel) {
  Channel(kIdB, Tlp::kRed);
  Channel(kIdC, Tlp::kGreen);
  Channel(kIdD, Tlp::kRed);                               // disabled partner: never
  Channel(kIdC, Tlp::kRed, storage::ChannelMode::kPull);  // pull: not a push channel
  ASSERT_EQ(Post(kShared, publisher_,
                 {Indicator(1, Tlp::kClear), Indicator(2, Tlp::kGreen), Indicator(3, Tlp::kAmber),
                  Indicator(4, Tlp::kAmber, {kIdC}), Indicator(5, Tlp::kAmberStrict, {kIdB}),
                  Indicator(6, Tlp::kAmberStrict, {kIdC}), Indicator(7, Tlp::kRed, {kIdB}),
                  Indicator(8, Tlp::kAmberStrict)})
                .success,
            8);
  using V = std::vector<std::string>;
  EXPECT_EQ(OutboxPartners(IndicatorId(1)), (V{kIdB, kIdC}));
  EXPECT_EQ(OutboxPartners(IndicatorId(2)), (V{kIdB, kIdC}));
  EXPECT_EQ(OutboxPartners(IndicatorId(3)), (V{kIdB}));  // C's channel stops at GREEN
  EXPECT_EQ(OutboxPartners(IndicatorId(4)), (V{}));      // names C only, above C's channel
  EXPECT_EQ(OutboxPartners(IndicatorId(5)), (V{kIdB}));
  EXPECT_EQ(OutboxPartners(IndicatorId(6)), (V{}));
  EXPECT_EQ(OutboxPartners(IndicatorId(7)), (V{kIdB}));
  EXPECT_EQ(OutboxPartners(IndicatorId(8)), (V{}));  // AMBER+STRICT naming nobody stays home
  for (const storage::OutboxRow& row : Outbox()) {
    EXPECT_EQ(row.state, storage::OutboxState::kQueued);
    EXPECT_EQ(row.collection_id, kShared);
  }
  // Queued objects keep this hub's signature block, computed once; the wire form attaches it and
  // is what signing at push time would give. Objects going nowhere are not signed.
  storage::StoredObject queued = Stored(kShared, IndicatorId(3));
  ASSERT_FALSE(queued.label.signature.empty());
  EXPECT_EQ(crypto::ParseSignatureBlock(queued.label.signature).value().hub, kIdA);
  Result<std::string> wire = WireForm(queued, self_);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(*wire, Signed(queued.json, kIdA, self_.keys));
  EXPECT_TRUE(crypto::VerifyObject(*wire).ok());
  EXPECT_EQ(Stored(kShared, IndicatorId(8)).label.signature, "");
  EXPECT_EQ(Stored(kShared, IndicatorId(7)).label.signature, "");  // sealed: signed inside
}

TEST_F(SharingTest, CommittedWakesPushersAndEventStreamsOnlyWhenSomethingWasAdded) {
  Channel(kIdB, Tlp::kAmber);
  const uint64_t outbox0 = outbox_changed_.generation();
  const uint64_t events0 = events_changed_.generation();
  ASSERT_EQ(Post(kShared, publisher_, {Indicator(1, Tlp::kGreen)}).success, 1);
  EXPECT_GT(outbox_changed_.generation(), outbox0);
  EXPECT_GT(events_changed_.generation(), events0);
  const uint64_t outbox1 = outbox_changed_.generation();
  const uint64_t events1 = events_changed_.generation();
  ASSERT_EQ(Post(kShared, publisher_, {Indicator(1, Tlp::kGreen)}).success, 1);  // duplicate
  EXPECT_EQ(outbox_changed_.generation(), outbox1);
  EXPECT_EQ(events_changed_.generation(), events1);
}

TEST_F(SharingTest, RedIsStoredSealedAndReadInPlaintextWithAnAuditEntry) {
  Channel(kIdB, Tlp::kRed);
  ASSERT_EQ(Post(kShared, publisher_, {Indicator(7, Tlp::kRed, {kIdB})}).success, 1);
  storage::StoredObject o = Stored(kShared, IndicatorId(7));
  EXPECT_TRUE(o.label.sealed);
  EXPECT_EQ(o.type, "indicator");
  EXPECT_EQ(o.json.find("secret-7"), std::string::npos) << o.json;
  EXPECT_EQ(o.json.find("198.51.100.7"), std::string::npos) << o.json;
  EXPECT_NE(o.json.find(crypto::kSealedType), std::string::npos);

  // B (a named recipient) can open its box; what it holds is A's signed object.
  Result<std::string> opened = crypto::OpenSealedObject(o.json, kIdB, keys_b_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Result<crypto::VerifiedObject> verified = crypto::VerifyObject(*opened);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->signature.hub, kIdA);
  EXPECT_EQ(verified->signature.key, self_.keys.sign_public_b64());
  EXPECT_FALSE(crypto::OpenSealedObject(o.json, kIdC, keys_c_).ok());

  // This hub's people read the plaintext; the read is audited with the reader and the object.
  Result<taxii::Response> read = Get(kShared, reader_);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_NE(read->body.find("secret-7"), std::string::npos) << read->body;
  EXPECT_EQ(read->body.find(crypto::kSignatureProperty), std::string::npos);
  std::vector<storage::AuditRecord> red_reads = Audit("read-red");
  ASSERT_EQ(red_reads.size(), 1u);
  EXPECT_EQ(red_reads[0].actor, "rita");
  EXPECT_EQ(red_reads[0].subject, IndicatorId(7));

  // B, named and with a RED channel, gets the wrapper; C sees nothing.
  Result<taxii::Response> by_b = Get(kShared, partner_b_);
  ASSERT_TRUE(by_b.ok());
  EXPECT_NE(by_b->body.find(crypto::kSealedType), std::string::npos);
  EXPECT_EQ(by_b->body.find("secret-7"), std::string::npos);
  Result<taxii::Response> by_c = Get(kShared, partner_c_);
  ASSERT_TRUE(by_c.ok());
  EXPECT_EQ(by_c->body, "{}");
  EXPECT_EQ(Audit("read-red").size(), 1u);  // partners get ciphertext: no plaintext read
}

TEST_F(SharingTest, RedWithoutAVersionIsRefused) {
  std::string ip = R"({"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--)" + Uuid(9) +
                   R"(","value":"198.51.100.9","object_marking_refs":[")" +
                   std::string(policy::TlpMarkingId(Tlp::kRed)) + R"("]})";
  StatusView s = Post(kShared, publisher_, {ip});
  EXPECT_EQ(s.failure, 1) << s.body;
  EXPECT_NE(s.body.find("sealed per version"), std::string::npos) << s.body;
}

// ---------------------------------------------------------------------------------------------
// Partner inbound

TEST_F(SharingTest, SignedObjectFromAPartnerIsAcceptedAndLabelled) {
  Channel(kIdC, Tlp::kRed);
  std::string json = Indicator(1, Tlp::kGreen);
  StatusView s =
      FromB({Signed(json, kIdB, keys_b_), Signed(Indicator(2, Tlp::kAmber), kIdB, keys_b_)});
  ASSERT_EQ(s.success, 2) << s.body;
  storage::StoredObject o = Stored(kInbox, IndicatorId(1));
  EXPECT_EQ(o.label.origin, kIdB);
  EXPECT_EQ(o.label.received_from, kIdB);
  EXPECT_EQ(o.label.tlp, static_cast<int32_t>(Tlp::kGreen));
  EXPECT_FALSE(o.label.sealed);
  Result<crypto::SignatureBlock> block = crypto::ParseSignatureBlock(o.label.signature);
  ASSERT_TRUE(block.ok()) << o.label.signature;
  EXPECT_EQ(block->hub, kIdB);
  EXPECT_EQ(block->key, keys_b_.sign_public_b64());
  // Stored without the signature, as received otherwise.
  EXPECT_EQ(o.json, json);
  std::vector<storage::AuditRecord> received = Audit("receive");
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].actor, std::string("partner:") + kIdB);
  // The inbox has no push channels: nothing goes onward.
  EXPECT_TRUE(Outbox().empty());

  // The wire form for another hub carries B's original signature, which still verifies.
  Result<std::string> wire = WireForm(o, self_);
  ASSERT_TRUE(wire.ok());
  Result<crypto::VerifiedObject> v = crypto::VerifyObject(*wire);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->signature.hub, kIdB);
}

TEST_F(SharingTest, GreenReceivedGoesOnwardButAmberDoesNot) {
  // Objects B pushes into the shared collection, which has a push channel to C.
  Channel(kIdC, Tlp::kRed);
  Grant(kShared, "user:hub-b", true, true);
  StatusView s = Post(kShared, partner_b_,
                      {Signed(Indicator(1, Tlp::kGreen), kIdB, keys_b_),
                       Signed(Indicator(2, Tlp::kAmber), kIdB, keys_b_),
                       Signed(Indicator(3, Tlp::kAmberStrict, {kIdA, kIdC}), kIdB, keys_b_)});
  ASSERT_EQ(s.success, 3) << s.body;
  EXPECT_EQ(OutboxPartners(IndicatorId(1)), std::vector<std::string>{kIdC});
  EXPECT_TRUE(OutboxPartners(IndicatorId(2)).empty());
  EXPECT_TRUE(OutboxPartners(IndicatorId(3)).empty());
}

TEST_F(SharingTest, BadPartnerObjectsAreRefusedWithAuditEntries) {
  // Tampered: signed, then a byte of the content changed.
  std::string tampered = Signed(Indicator(1, Tlp::kGreen), kIdB, keys_b_);
  tampered.replace(tampered.find("secret-1"), 8, "secret-9");
  // Forged: claims to come from B but is signed with another key (its own, consistent block).
  std::string forged = Signed(Indicator(2, Tlp::kGreen), kIdB, keys_x_);
  // Wrong key: the block names B's trusted key but the signature was made with another.
  std::string wrong_key = forged;
  wrong_key.replace(wrong_key.find(keys_x_.sign_public_b64()), keys_x_.sign_public_b64().size(),
                    keys_b_.sign_public_b64());
  std::string unsigned_json = Indicator(4, Tlp::kGreen);
  // Not a recipient: AMBER+STRICT naming C only.
  std::string not_for_us = Signed(Indicator(5, Tlp::kAmberStrict, {kIdC}), kIdB, keys_b_);
  // Loop: an object this hub originated, sent back.
  std::string loop = Signed(Indicator(6, Tlp::kGreen), kIdA, self_.keys);
  // RED that is not sealed.
  std::string red_plain = Signed(Indicator(7, Tlp::kRed, {kIdA}), kIdB, keys_b_);
  // RED sealed to C only.
  std::string red_not_ours = SignedAndSealed(Indicator(8, Tlp::kRed, {kIdC}), kIdB, keys_b_,
                                             {{kIdC, keys_c_.box_public_b64()}});

  StatusView s = FromB(
      {tampered, forged, wrong_key, unsigned_json, not_for_us, loop, red_plain, red_not_ours});
  EXPECT_EQ(s.success, 0) << s.body;
  EXPECT_EQ(s.failure, 8) << s.body;
  EXPECT_NE(s.body.find(std::string("signature by ") + kIdB + " does not match its trusted key"),
            std::string::npos)
      << s.body;
  EXPECT_NE(s.body.find("not signed"), std::string::npos) << s.body;
  EXPECT_NE(s.body.find("must arrive sealed"), std::string::npos) << s.body;
  EXPECT_NE(s.body.find("not sealed to this hub"), std::string::npos) << s.body;
  EXPECT_EQ(store_->CountObjects(kInbox).value_or(-1), 0);
  std::vector<storage::AuditRecord> rejects = Audit("reject");
  ASSERT_EQ(rejects.size(), 8u);
  for (const storage::AuditRecord& r : rejects) {
    EXPECT_EQ(r.actor, std::string("partner:") + kIdB);
    EXPECT_NE(r.detail.find("reason"), std::string::npos);
  }
  EXPECT_EQ(rejects[0].subject, IndicatorId(1));
  EXPECT_EQ(rejects[5].subject, IndicatorId(6));
  EXPECT_TRUE(Audit("receive").empty());
}

TEST_F(SharingTest, ObjectFromAPartnersPartnerVerifiesAgainstItsOwnBlock) {
  // C's GREEN object relayed by B: C is a partner, so its key is checked; a stranger's is not
  // known and its self-consistent signature is accepted for GREEN.
  StatusView s = FromB({Signed(Indicator(1, Tlp::kGreen), kIdC, keys_c_),
                        Signed(Indicator(2, Tlp::kGreen), kIdX, keys_x_),
                        Signed(Indicator(3, Tlp::kGreen), kIdC, keys_x_),
                        Signed(Indicator(4, Tlp::kAmber), kIdC, keys_c_)});
  EXPECT_EQ(s.success, 2) << s.body;
  EXPECT_EQ(Stored(kInbox, IndicatorId(1)).label.origin, kIdC);
  EXPECT_EQ(Stored(kInbox, IndicatorId(1)).label.received_from, kIdB);
  EXPECT_EQ(Stored(kInbox, IndicatorId(2)).label.origin, kIdX);
}

TEST_F(SharingTest, ReplayIsANoOp) {
  std::string obj = Signed(Indicator(1, Tlp::kGreen), kIdB, keys_b_);
  ASSERT_EQ(FromB({obj}).success, 1);
  Result<int64_t> events = store_->LastEventSeq();
  ASSERT_TRUE(events.ok());
  const size_t audit_before = store_->ListAudit(0, 100000).value().size();
  clock_.Advance(5000000);
  StatusView again = FromB({obj});
  EXPECT_EQ(again.success, 1) << again.body;  // acknowledged, so the sender marks it delivered
  EXPECT_EQ(store_->CountObjects(kInbox).value_or(-1), 1);
  EXPECT_EQ(store_->LastEventSeq().value_or(-1), *events);
  EXPECT_EQ(store_->ListAudit(0, 100000).value().size(), audit_before);
}

TEST_F(SharingTest, SealedRedFromAPartnerIsStoredSealedAndOpenedForLocalReaders) {
  std::string wrapper =
      SignedAndSealed(Indicator(3, Tlp::kRed, {kIdA}), kIdB, keys_b_,
                      {{kIdA, self_.keys.box_public_b64()}, {kIdB, keys_b_.box_public_b64()}});
  StatusView s = FromB({wrapper});
  ASSERT_EQ(s.success, 1) << s.body;
  storage::StoredObject o = Stored(kInbox, IndicatorId(3));
  EXPECT_TRUE(o.label.sealed);
  EXPECT_EQ(o.label.origin, kIdB);
  EXPECT_EQ(o.label.tlp, static_cast<int32_t>(Tlp::kRed));
  EXPECT_EQ(o.json, wrapper);
  EXPECT_EQ(o.json.find("secret-3"), std::string::npos);
  EXPECT_FALSE(o.label.signature.empty());

  Result<taxii::Response> read = Get(kInbox, publisher_, IndicatorId(3));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_NE(read->body.find("secret-3"), std::string::npos);
  EXPECT_EQ(Audit("read-red").size(), 1u);
}

TEST_F(SharingTest, SealedWrapperWhoseOuterLabelDiffersFromTheSignedObjectIsRefused) {
  // Built for RED naming A, then the unsigned outer recipients are changed.
  std::string wrapper = SignedAndSealed(Indicator(3, Tlp::kRed, {kIdA}), kIdB, keys_b_,
                                        {{kIdA, self_.keys.box_public_b64()}});
  const std::string from = std::string("\"x_liaison_recipients\":[\"") + kIdA + "\"]";
  size_t at = wrapper.find(from);
  ASSERT_NE(at, std::string::npos) << wrapper;
  wrapper.replace(at, from.size(),
                  std::string("\"x_liaison_recipients\":[\"") + kIdA + "\",\"" + kIdC + "\"]");
  StatusView s = FromB({wrapper});
  EXPECT_EQ(s.failure, 1) << s.body;
  EXPECT_EQ(store_->CountObjects(kInbox).value_or(-1), 0);
}

TEST_F(SharingTest, UnknownOrDisabledPartnerAccountsCannotPush) {
  taxii::Request r;
  r.method = "POST";
  r.target = std::string("/") + kRoot + "/collections/" + kInbox + "/objects/";
  r.accept = r.content_type = taxii::kTaxiiMediaType;
  r.body = Envelope({Signed(Indicator(1, Tlp::kGreen), kIdB, keys_b_)});
  Grant(kInbox, "user:hub-d", false, true);
  Grant(kInbox, "user:hub-x", false, true);
  r.principal = Who("hub-d", Role::kPartner, kIdD);
  Result<taxii::Response> disabled = service_->Handle(r);
  ASSERT_FALSE(disabled.ok());
  EXPECT_EQ(disabled.status().code(), StatusCode::kPermissionDenied);
  r.principal = Who("hub-x", Role::kPartner, kIdX);
  Result<taxii::Response> unknown = service_->Handle(r);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->CountObjects(kInbox).value_or(-1), 0);
}

// ---------------------------------------------------------------------------------------------
// Feedback

TEST_F(SharingTest, FeedbackFromAPartnerBecomesARecordAtTheOrigin) {
  ASSERT_EQ(Post(kShared, publisher_, {Indicator(1, Tlp::kAmberStrict, {kIdB})}).success, 1);
  std::string sighting = Sighting(50, IndicatorId(1), Tlp::kAmber,
                                  R"({"outcome":"acted-on","note":"seven suspects detained"})");
  ASSERT_EQ(FromB({Signed(sighting, kIdB, keys_b_)}).success, 1);
  Result<std::vector<storage::FeedbackRecord>> records = store_->ListFeedback(IndicatorId(1));
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 1u);
  const storage::FeedbackRecord& r = (*records)[0];
  EXPECT_EQ(r.from, kIdB);
  EXPECT_EQ(r.outcome, "acted-on");
  EXPECT_EQ(r.note, "seven suspects detained");
  EXPECT_EQ(r.count, 3);
  EXPECT_EQ(r.feedback_id, "sighting--" + Uuid(50));
  ASSERT_EQ(Audit("feedback").size(), 1u);
  EXPECT_EQ(Audit("feedback")[0].subject, IndicatorId(1));
  // Not sent back anywhere: B is where it came from, and A is the origin of what it is about.
  EXPECT_TRUE(Outbox().empty());

  // A plain sighting without x_liaison_feedback is "seen".
  ASSERT_EQ(FromB({Signed(Sighting(51, IndicatorId(1), Tlp::kGreen), kIdB, keys_b_)}).success, 1);
  records = store_->ListFeedback(IndicatorId(1));
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].outcome, "seen");
}

TEST_F(SharingTest, FeedbackAboutAPartnersObjectIsQueuedBackToItsOrigin) {
  // B's indicator arrived in the inbox; A's analysts sight it.
  ASSERT_EQ(FromB({Signed(Indicator(1, Tlp::kAmber), kIdB, keys_b_)}).success, 1);
  ASSERT_EQ(Post(kShared, publisher_,
                 {Sighting(60, IndicatorId(1), Tlp::kAmber, R"({"outcome":"false-positive"})"),
                  Sighting(61, IndicatorId(1), Tlp::kAmberStrict),              // names nobody
                  Sighting(62, IndicatorId(1), Tlp::kAmberStrict, "", {kIdB}),  // names B
                  Sighting(63, IndicatorId(1), Tlp::kRed, "", {kIdC})})         // names C only
                .success,
            4);
  EXPECT_EQ(OutboxPartners("sighting--" + Uuid(60)), std::vector<std::string>{kIdB});
  EXPECT_TRUE(OutboxPartners("sighting--" + Uuid(61)).empty());
  EXPECT_EQ(OutboxPartners("sighting--" + Uuid(62)), std::vector<std::string>{kIdB});
  EXPECT_TRUE(OutboxPartners("sighting--" + Uuid(63)).empty());
  // A did not originate the indicator: no record here.
  EXPECT_TRUE(store_->ListFeedback(IndicatorId(1)).value().empty());
}

TEST_F(SharingTest, SealedFeedbackKeepsItsNoteOutOfTheRecord) {
  ASSERT_EQ(Post(kShared, publisher_, {Indicator(1, Tlp::kAmber)}).success, 1);
  std::string sighting = Sighting(70, IndicatorId(1), Tlp::kRed,
                                  R"({"outcome":"acted-on","note":"names of informants"})", {kIdA});
  // Sealed with the sighting's own version text.
  stix::ObjectInfo info = Info(sighting);
  Result<std::string> w = crypto::SealObject(
      Signed(sighting, kIdB, keys_b_), info.id, info.type, "2026-02-01T00:00:00.000Z",
      info.object_marking_refs, info.recipients, {{kIdA, self_.keys.box_public_b64()}});
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(FromB({*w}).success, 1);
  Result<std::vector<storage::FeedbackRecord>> records = store_->ListFeedback(IndicatorId(1));
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].outcome, "acted-on");
  EXPECT_EQ((*records)[0].note, "");
}

// ---------------------------------------------------------------------------------------------
// Reads

TEST_F(SharingTest, ReadsAreFilteredForLocalPartnerAndAnonymousReaders) {
  Channel(kIdB, Tlp::kAmber);
  ASSERT_EQ(Post(kShared, publisher_,
                 {Indicator(1, Tlp::kClear), Indicator(2, Tlp::kGreen), Indicator(3, Tlp::kAmber),
                  Indicator(4, Tlp::kAmberStrict, {kIdB}), Indicator(5, Tlp::kRed, {kIdB})})
                .success,
            5);
  storage::Collection shared;
  shared.id = kShared;
  storage::ObjectQuery q;
  q.collection_id = kShared;
  Result<storage::ObjectPage> page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 5u);
  auto visible = [&](const policy::Principal& who) {
    std::unique_ptr<taxii::ReadFilter> f = sharing_->ForReader(who, shared);
    std::vector<int> out;
    for (size_t i = 0; i < page->objects.size(); ++i) {
      if (f->Visible(page->objects[i])) out.push_back(static_cast<int>(i) + 1);
    }
    return out;
  };
  EXPECT_EQ(visible(reader_), (std::vector<int>{1, 2, 3, 4, 5}));
  // B's channel carries up to AMBER: named or not, nothing above it.
  EXPECT_EQ(visible(partner_b_), (std::vector<int>{1, 2, 3}));
  // C has no channel on the collection: CLEAR only.
  EXPECT_EQ(visible(partner_c_), (std::vector<int>{1}));
  EXPECT_EQ(visible(policy::Principal{}), (std::vector<int>{1}));
  // A disabled partner sees nothing.
  EXPECT_EQ(visible(Who("hub-d", Role::kPartner, kIdD)), (std::vector<int>{}));

  // Partners get the signed wire form, which verifies as this hub's.
  Result<taxii::Response> by_b = Get(kShared, partner_b_);
  ASSERT_TRUE(by_b.ok()) << by_b.status().ToString();
  Result<stix::JsonTree> tree = stix::ParseJson(by_b->body);
  ASSERT_TRUE(tree.ok());
  stix::JsonValue objects;
  ASSERT_TRUE(tree->root().Find("objects", &objects));
  std::vector<std::string_view> raw = stix::RawChildren(stix::RawChildren(by_b->body).back());
  ASSERT_EQ(raw.size(), 3u) << by_b->body;
  for (std::string_view o : raw) {
    Result<crypto::VerifiedObject> v = crypto::VerifyObject(o);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->signature.hub, kIdA);
    EXPECT_EQ(v->signature.key, self_.keys.sign_public_b64());
  }
  // Local readers get the object as published, unsigned.
  Result<taxii::Response> local = Get(kShared, reader_, IndicatorId(2));
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->body.find(crypto::kSignatureProperty), std::string::npos);
  // Hidden objects do not exist for the reader.
  Result<taxii::Response> hidden = Get(kShared, partner_b_, IndicatorId(4));
  ASSERT_FALSE(hidden.ok());
  EXPECT_EQ(hidden.status().code(), StatusCode::kNotFound);
}

TEST_F(SharingTest, WireFormOfEachKindOfStoredObject) {
  storage::StoredObject local;
  local.id = IndicatorId(1);
  local.json = Indicator(1, Tlp::kGreen);
  local.label.origin = kIdA;
  Result<std::string> signed_local = WireForm(local, self_);
  ASSERT_TRUE(signed_local.ok());
  EXPECT_EQ(crypto::VerifyObject(*signed_local).value().signature.hub, kIdA);
  // Objects stored before issue 4 (no origin) are this hub's.
  local.label.origin = "";
  ASSERT_TRUE(WireForm(local, self_).ok());

  storage::StoredObject relayed = local;
  relayed.label.origin = kIdC;
  relayed.label.received_from = kIdC;
  Result<crypto::SignatureBlock> block = crypto::ComputeSignature(relayed.json, kIdC, keys_c_);
  ASSERT_TRUE(block.ok());
  relayed.label.signature = crypto::SignatureBlockJson(*block);
  Result<std::string> wire = WireForm(relayed, self_);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(crypto::VerifyObject(*wire).value().signature.hub, kIdC);
  relayed.label.signature.clear();
  EXPECT_EQ(WireForm(relayed, self_).status().code(), StatusCode::kFailedPrecondition);

  storage::StoredObject sealed = local;
  sealed.label.sealed = true;
  sealed.json = "{\"type\":\"x-liaison-sealed\"}";
  EXPECT_EQ(WireForm(sealed, self_).value(), sealed.json);

  storage::StoredObject metadata_only = local;
  metadata_only.json.clear();
  EXPECT_EQ(WireForm(metadata_only, self_).status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Store failures

class FailingStore final : public storage::StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  Result<std::vector<storage::StoredObject>> LookupObjects(
      const std::vector<std::string>&) override {
    return UnavailableError("injected: database busy");
  }
  Result<std::vector<storage::Channel>> ListChannels(const std::string& partner) override {
    if (fail_channels) return UnavailableError("injected: database busy");
    return StoreWrapper::ListChannels(partner);
  }
  bool fail_channels = false;
};

TEST_F(SharingTest, StoreFailuresFailTheRequestAndHideEverythingFromPartners) {
  FailingStore failing(*store_);
  Sharing sharing(failing, self_, clock_, outbox_changed_, events_changed_);
  storage::Collection shared;
  shared.id = kShared;
  shared.api_root = kRoot;
  Result<taxii::PreparedAdd> prepared =
      sharing.PrepareAdd(publisher_, shared, {Info(Sighting(1, IndicatorId(1)))});
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().code(), StatusCode::kUnavailable);

  // Objects that refer to nothing need no lookup.
  prepared = sharing.PrepareAdd(publisher_, shared, {Info(Indicator(1, Tlp::kGreen))});
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  ASSERT_EQ(prepared->objects.size(), 1u);

  failing.fail_channels = true;
  prepared = sharing.PrepareAdd(publisher_, shared, {Info(Indicator(1, Tlp::kGreen))});
  EXPECT_EQ(prepared.status().code(), StatusCode::kUnavailable);
  storage::StoredObject clear;
  clear.id = IndicatorId(1);
  clear.label.origin = kIdA;
  EXPECT_FALSE(sharing.ForReader(partner_b_, shared)->Visible(clear));
  EXPECT_TRUE(sharing.ForReader(reader_, shared)->Visible(clear));
}

}  // namespace
}  // namespace liaison::federation
