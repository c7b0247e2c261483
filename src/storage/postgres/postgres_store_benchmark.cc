// Storage benchmarks for the PostgreSQL Store, against the database named by LIAISON_TEST_PG_DSN
// (e.g. scripts/pg-cluster.sh start /tmp/pg 55432), each run in a fresh schema dropped at the end.
// The same workloads as bench/storage_benchmark.cc (SQLite), so the figures compare:
//
//   cmake -S . -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIAISON_BUILD_BENCHMARKS=ON
//   cmake --build build/rel --target postgres_store_benchmark
//   LIAISON_TEST_PG_DSN=postgresql://postgres@127.0.0.1:55432/liaison \
//     build/rel/src/storage/postgres/postgres_store_benchmark
//
// BM_Postgres_AddObjects: AddObjects batches of 1000 new indicators (~500 bytes each) with a
//   status (one transaction, multi-row INSERTs).
// BM_Postgres_Page*: one page of 1000 objects from a random added_after in a 100k collection.
//   With ->Threads(2): `OneNode` threads share one store (one pool), `TwoNodes` threads each use
//   their own store (two pools, as two hub processes would).
// BM_Postgres_GetById: match[id] for one random id.

#include "storage/postgres/postgres_store.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

#include "storage/postgres/pg_connection.h"

namespace liaison::storage::postgres {
namespace {

constexpr int64_t kT0 = 1700000000000000;
constexpr int kBatch = 1000;
constexpr int kReadCollection = 100000;

std::string Dsn() {
  const char* dsn = std::getenv("LIAISON_TEST_PG_DSN");
  return dsn != nullptr ? dsn : "";
}

std::string Uuid(std::mt19937_64& rng) {
  uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// An indicator of about 500 bytes; every 4th is a "malware" object so type filters have work.
NewObject MakeObject(std::mt19937_64& rng, int n) {
  NewObject o;
  o.type = (n % 4 == 3) ? "malware" : "indicator";
  o.id = o.type + "--" + Uuid(rng);
  o.spec_version = "2.1";
  o.version = kT0 - 1000000 + n;
  char ip[32];
  std::snprintf(ip, sizeof(ip), "10.%d.%d.%d", (n >> 16) & 255, (n >> 8) & 255, n & 255);
  o.json =
      "{\"type\":\"" + o.type + "\",\"spec_version\":\"2.1\",\"id\":\"" + o.id +
      "\",\"created\":\"2023-11-14T22:13:20.000Z\",\"modified\":\"2023-11-14T22:13:20.000Z\","
      "\"name\":\"Malicious IP " +
      ip +
      "\",\"description\":\"Address seen beaconing to known command and control "
      "infrastructure during incident response.\",\"indicator_types\":[\"malicious-activity\"],"
      "\"pattern\":\"[ipv4-addr:value = '" +
      ip +
      "']\",\"pattern_type\":\"stix\",\"valid_from\":\"2023-11-14T22:13:20Z\","
      "\"labels\":[\"botnet\",\"c2\"],\"confidence\":80,\"created_by_ref\":"
      "\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\"}";
  return o;
}

std::string FreshSchema() {
  static int counter = 0;
  return "liaison_bench_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
}

// A store with api1/c1 in a fresh schema, dropped at destruction.
struct BenchStore {
  std::string schema;
  std::unique_ptr<PostgresStore> store;
  std::unique_ptr<PostgresStore> second;  // another pool on the same schema: a second "node"
  std::vector<std::string> ids;
  std::vector<int64_t> dates;
  std::mt19937_64 rng{42};
  int next = 0;
  int64_t now = kT0;

  Status Init() {
    if (Dsn().empty()) return FailedPreconditionError("LIAISON_TEST_PG_DSN is not set");
    schema = FreshSchema();
    PostgresStore::Options options;
    options.schema = schema;
    ASSIGN_OR_RETURN(store, PostgresStore::Open(Dsn(), options));
    ASSIGN_OR_RETURN(second, PostgresStore::Open(Dsn(), options));
    ApiRoot root;
    root.name = "api1";
    Collection c;
    c.id = "c1";
    c.api_root = "api1";
    RETURN_IF_ERROR(store->CreateApiRoot(root));
    return store->CreateCollection(c);
  }

  AddObjectsRequest MakeBatch(bool with_status) {
    AddObjectsRequest req;
    req.collection_id = "c1";
    for (int i = 0; i < kBatch; ++i) req.objects.push_back(MakeObject(rng, next++));
    if (with_status) {
      req.status.id = Uuid(rng);
      req.status.api_root = "api1";
      req.status.total_count = kBatch;
    }
    return req;
  }

  Status Add(const AddObjectsRequest& req) {
    now += 1000;
    auto r = store->AddObjects(req, now);
    if (!r.ok()) return r.status();
    for (size_t i = 0; i < req.objects.size(); ++i) {
      ids.push_back(req.objects[i].id);
      dates.push_back(r->first_date_added + static_cast<int64_t>(i));
    }
    return Status::Ok();
  }

  ~BenchStore() {
    second.reset();
    if (store != nullptr) (void)store->DropSchema();
  }
};

BenchStore* Populated() {
  static std::mutex mu;
  static std::unique_ptr<BenchStore> store;
  std::lock_guard<std::mutex> lock(mu);
  if (store == nullptr) {
    store = std::make_unique<BenchStore>();
    if (!store->Init().ok()) return nullptr;
    while (static_cast<int>(store->ids.size()) < kReadCollection) {
      if (!store->Add(store->MakeBatch(/*with_status=*/false)).ok()) return nullptr;
    }
    // What autovacuum does within a minute of a bulk load: without statistics the planner
    // picks a bitmap scan and a sort for the paging query (~50 ms instead of ~1 ms).
    auto spec = ResolveConnectSpec(Dsn(), 5, "liaison-bench", store->schema);
    if (!spec.ok()) return nullptr;
    auto conn = PgConnection::Connect(*spec);
    if (!conn.ok() || !(*conn)->ExecScript("ANALYZE").ok()) return nullptr;
  }
  return store.get();
}

void BM_Postgres_AddObjects(benchmark::State& state) {
  BenchStore s;
  Status init = s.Init();
  if (!init.ok()) {
    state.SkipWithError(init.ToString().c_str());
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();  // generating the objects is not the store's work
    AddObjectsRequest req = s.MakeBatch(/*with_status=*/true);
    state.ResumeTiming();
    Status st = s.Add(req);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_Postgres_AddObjects)->Unit(benchmark::kMillisecond)->UseRealTime();

void PageRead(benchmark::State& state, bool by_type, bool metadata_only, bool two_nodes) {
  BenchStore* s = Populated();
  if (s == nullptr) {
    state.SkipWithError("cannot populate store (is LIAISON_TEST_PG_DSN set?)");
    return;
  }
  PostgresStore& store = two_nodes && state.thread_index() % 2 == 1 ? *s->second : *s->store;
  std::mt19937_64 rng(7 + state.thread_index());
  size_t returned = 0;
  for (auto _ : state) {
    size_t span = s->dates.size() - (by_type ? 4 * kBatch : kBatch) - 1;
    ObjectQuery q;
    q.collection_id = "c1";
    q.added_after = s->dates[rng() % span];
    q.limit = kBatch;
    q.metadata_only = metadata_only;
    if (by_type) q.types = {"malware"};
    auto page = store.QueryObjects(q);
    if (!page.ok() || page->objects.size() != static_cast<size_t>(kBatch)) {
      state.SkipWithError(page.ok() ? "short page" : page.status().ToString().c_str());
      return;
    }
    returned += page->objects.size();
    benchmark::DoNotOptimize(page->objects.back().json.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(returned));
}

void BM_Postgres_Page(benchmark::State& state) { PageRead(state, false, false, false); }
void BM_Postgres_PageByType(benchmark::State& state) { PageRead(state, true, false, false); }
void BM_Postgres_PageManifest(benchmark::State& state) { PageRead(state, false, true, false); }
void BM_Postgres_Page_OneNode(benchmark::State& state) { PageRead(state, false, false, false); }
void BM_Postgres_Page_TwoNodes(benchmark::State& state) { PageRead(state, false, false, true); }
BENCHMARK(BM_Postgres_Page)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Postgres_PageByType)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Postgres_PageManifest)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Postgres_Page_OneNode)->Threads(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Postgres_Page_TwoNodes)->Threads(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Postgres_GetById(benchmark::State& state) {
  BenchStore* s = Populated();
  if (s == nullptr) {
    state.SkipWithError("cannot populate store (is LIAISON_TEST_PG_DSN set?)");
    return;
  }
  std::mt19937_64 rng(9);
  for (auto _ : state) {
    ObjectQuery q;
    q.collection_id = "c1";
    q.ids = {s->ids[rng() % s->ids.size()]};
    auto page = s->store->QueryObjects(q);
    if (!page.ok() || page->objects.size() != 1) {
      state.SkipWithError("lookup failed");
      return;
    }
    benchmark::DoNotOptimize(page->objects[0].json.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Postgres_GetById)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace liaison::storage::postgres

BENCHMARK_MAIN();
