// Two federated hubs in one process (server::Hub on SQLite, HTTP on loopback): A pushes its report
// collection to B.
//   server_hub_pair_benchmark [LATENCY_SAMPLES=2000] [BULK_OBJECTS=20000]
// prints (1) publish-to-visible-at-B latency of single-object publishes (POST to A until the object
// is in B's store), p50/p90/p99/max; (2) replication throughput: BULK_OBJECTS published to A in
// envelopes of 1000, time until all are stored at B; (3) per-row costs of the sender's steps.
// Both hubs share the process and the machine's cores, so the figures are a lower bound of what two
// hosts would do.
#include <sodium.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "auth/api_key.h"
#include "auth/password.h"
#include "common/log.h"
#include "common/uuid.h"
#include "crypto/hub_keys.h"
#include "federation/sharing.h"
#include "server/server.h"
#include "storage/hub_settings.h"
#include "storage/sqlite/sqlite_store.h"

using namespace liaison;
using namespace liaison::server;

namespace {

[[noreturn]] void Die(const std::string& what, const Status& status) {
  fprintf(stderr, "%s: %s\n", what.c_str(), status.ToString().c_str());
  exit(1);
}
template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return *std::move(r);
}
void MustOk(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}
#define CHECK_OK(expr) MustOk((expr), #expr)
#define VALUE(expr) Must((expr), #expr)
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

struct Conn {
  asio::io_context ioc;
  asio::ip::tcp::socket socket{ioc};
  boost::beast::flat_buffer buffer;
  Conn(uint16_t port) {
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    socket.set_option(asio::ip::tcp::no_delay(true));
  }
  int Post(const std::string& target, const std::string& auth, const std::string& body) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::accept, "application/taxii+json;version=2.1");
    req.set(bhttp::field::authorization, auth);
    req.set(bhttp::field::content_type, "application/taxii+json;version=2.1");
    req.body() = body;
    req.prepare_payload();
    bhttp::write(socket, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket, buffer, res);
    return res.result_int();
  }
};

std::string Ind(const std::string& id) {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + id +
         R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",)"
         R"("name":"courier account","pattern":"[user-account:account_login = 'courier77']",)"
         R"("pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":)"
         R"(["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]})";
}

struct FHub {
  std::filesystem::path dir;
  std::string name, id, identity_json, reports, inbox, admin_token;
  std::unique_ptr<Hub> hub;
  FHub(const std::string& org) : name(org) {
    std::string pattern = (std::filesystem::temp_directory_path() / "fedbench-XXXXXX").string();
    dir = mkdtemp(pattern.data());
    auto store = VALUE(storage::sqlite::SqliteStore::Open((dir / "hub.db").string()));
    id = "identity--" + RandomUuidV4();
    identity_json =
        R"({"type":"identity","spec_version":"2.1","id":")" + id +
        R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":")" +
        org + R"(","identity_class":"organization"})";
    reports = RandomUuidV4();
    inbox = RandomUuidV4();
    CHECK_OK(store->PutSetting(storage::kCreatedSetting, "2026-01-01T00:00:00.000Z"));
    CHECK_OK(store->PutSetting(storage::kOrgNameSetting, org));
    CHECK_OK(store->PutSetting(storage::kIdentityIdSetting, id));
    CHECK_OK(store->PutSetting(storage::kIdentitySetting, identity_json));
    CHECK_OK(store->PutSetting(storage::kInboxSetting, inbox));
    storage::ApiRoot root;
    root.name = "api";
    root.title = org;
    CHECK_OK(store->CreateApiRoot(root));
    for (const std::string& c : {reports, inbox}) {
      storage::Collection col;
      col.id = c;
      col.api_root = "api";
      col.title = c;
      CHECK_OK(store->CreateCollection(col));
    }
    storage::User admin;
    admin.name = "admin";
    admin.role = storage::Role::kAdmin;
    CHECK_OK(store->CreateUser(admin));
    auto secret = VALUE(auth::LoadOrCreateHubSecret(*store));
    auto key = VALUE(auth::GenerateApiKey("admin", "bench", secret, 1));
    CHECK_OK(store->CreateApiKey(key.record));
    admin_token = "Bearer " + key.token;
    auto keys = VALUE(crypto::HubKeys::Generate());
    CHECK_OK(keys.Save((dir / "hub.key").string()));
  }
  std::unique_ptr<storage::sqlite::SqliteStore> Store() {
    return VALUE(storage::sqlite::SqliteStore::Open((dir / "hub.db").string()));
  }
  crypto::HubKeys Keys() { return VALUE(crypto::HubKeys::Load((dir / "hub.key").string())); }
  void Start() {
    ServerOptions options;
    options.data_dir = dir.string();
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.log_level = "warn";
    auto h = Hub::Start(options);
    if (!h.ok()) {
      fprintf(stderr, "%s\n", h.status().ToString().c_str());
      exit(1);
    }
    hub = *std::move(h);
  }
};

void Trust(FHub& from, FHub& to) {
  auto to_store = to.Store();
  storage::User user;
  user.name = "partner-" + from.name;
  user.role = storage::Role::kPartner;
  user.partner = from.id;
  CHECK_OK(to_store->CreateUser(user));
  auto secret = VALUE(auth::LoadOrCreateHubSecret(*to_store));
  auto key = VALUE(auth::GenerateApiKey(user.name, "hub", secret, 1));
  CHECK_OK(to_store->CreateApiKey(key.record));
  CHECK_OK(to_store->PutGrant({to.inbox, "user:" + user.name, false, true}));
  auto to_keys = to.Keys();
  auto from_keys = from.Keys();
  storage::Partner p;
  p.id = to.id;
  p.name = to.name;
  p.identity_json = to.identity_json;
  p.url = to.hub->url() + "/api/";
  p.inbox = to.inbox;
  p.sign_key = to_keys.sign_public_b64();
  p.box_key = to_keys.box_public_b64();
  p.token = from_keys.SealSecret(key.token);
  p.user = "partner-" + to.name;
  CHECK_OK(from.Store()->CreatePartner(p));
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  int bulk = argc > 2 ? atoi(argv[2]) : 20000;
  FHub a("a"), b("b");
  a.Start();
  b.Start();
  Trust(a, b);
  Trust(b, a);
  {
    storage::Channel ch;
    ch.id = RandomUuidV4();
    ch.partner = b.id;
    ch.collection_id = a.reports;
    ch.mode = storage::ChannelMode::kPush;
    ch.max_tlp = 2;
    CHECK_OK(a.Store()->CreateChannel(ch));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // supervisor picks up the partner
  auto b_store = b.Store();
  Conn conn(a.hub->port());
  const std::string target = "/api/collections/" + a.reports + "/objects/";
  std::vector<double> lat, publish;
  for (int i = 0; i < n; ++i) {
    std::string id = "indicator--" + RandomUuidV4();
    auto t0 = std::chrono::steady_clock::now();
    if (conn.Post(target, a.admin_token, "{\"objects\":[" + Ind(id) + "]}") != 202) {
      fprintf(stderr, "post failed\n");
      return 1;
    }
    publish.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    for (;;) {
      auto r = b_store->LookupObjects({id});
      if (r.ok() && !r->empty()) break;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    lat.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(lat.begin(), lat.end());
  std::sort(publish.begin(), publish.end());
  printf("publish at A (POST answered) p50=%.2fms p99=%.2fms\n", publish[n / 2],
         publish[n * 99 / 100]);
  printf("latency n=%d p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n", n, lat[n / 2],
         lat[n * 9 / 10], lat[n * 99 / 100], lat.back());
  int64_t base = VALUE(b_store->CountObjects(b.inbox));
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < bulk; i += 1000) {
    std::string body = "{\"objects\":[";
    for (int j = 0; j < 1000; ++j) body += (j ? "," : "") + Ind("indicator--" + RandomUuidV4());
    body += "]}";
    if (conn.Post(target, a.admin_token, body) != 202) {
      fprintf(stderr, "bulk post failed\n");
      return 1;
    }
  }
  auto t1 = std::chrono::steady_clock::now();
  while (VALUE(b_store->CountObjects(b.inbox)) < base + bulk)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto t2 = std::chrono::steady_clock::now();
  double total = std::chrono::duration<double>(t2 - t0).count();
  printf(
      "throughput: %d objects published in %.2fs, all at B after %.2fs: %.0f objects/s end to "
      "end\n",
      bulk, std::chrono::duration<double>(t1 - t0).count(), total, bulk / total);
  {
    auto a_store = a.Store();
    storage::OutboxQuery q;
    q.limit = 5000;
    auto rows = VALUE(a_store->ListOutbox(q));
    federation::HubIdentity self;
    self.id = a.id;
    self.keys = a.Keys();
    auto c0 = std::chrono::steady_clock::now();
    std::vector<storage::StoredObject> objs;
    for (auto& r : rows)
      objs.push_back(VALUE(a_store->GetObjectVersion(r.collection_id, r.object_id, r.version)));
    auto c1 = std::chrono::steady_clock::now();
    size_t bytes = 0;
    for (auto& o : objs) bytes += VALUE(federation::WireForm(o, self)).size();
    auto c2 = std::chrono::steady_clock::now();
    {
      auto q0 = std::chrono::steady_clock::now();
      size_t got = 0;
      for (size_t off = 0; off + 500 <= rows.size(); off += 500) {
        storage::ObjectQuery oq;
        oq.collection_id = rows[0].collection_id;
        std::set<int64_t> vs;
        for (size_t k = off; k < off + 500; ++k) {
          oq.ids.push_back(rows[k].object_id);
          vs.insert(rows[k].version);
        }
        oq.versions.assign(vs.begin(), vs.end());
        oq.limit = 5000;
        got += VALUE(a_store->QueryObjects(oq)).objects.size();
      }
      auto q1 = std::chrono::steady_clock::now();
      printf("batched QueryObjects: %zu rows, %.1f us/row\n", got,
             std::chrono::duration<double, std::micro>(q1 - q0).count() / got);
    }
    std::vector<int64_t> seqs;
    for (auto& r : rows) seqs.push_back(r.seq);
    CHECK_OK(a_store->MarkOutboxDelivered(seqs, 1));
    auto c3 = std::chrono::steady_clock::now();
    printf(
        "(%zu wire bytes) %zu rows: GetObjectVersion %.1f us/row, WireForm %.1f us/row, "
        "MarkOutboxDelivered %.1f us/row\n",
        bytes, rows.size(),
        std::chrono::duration<double, std::micro>(c1 - c0).count() / rows.size(),
        std::chrono::duration<double, std::micro>(c2 - c1).count() / rows.size(),
        std::chrono::duration<double, std::micro>(c3 - c2).count() / rows.size());
  }
  a.hub->Stop();
  b.hub->Stop();
  std::filesystem::remove_all(a.dir);
  std::filesystem::remove_all(b.dir);
}
