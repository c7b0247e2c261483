// Storage benchmarks for the SQLite Store (synchronous=FULL, WAL, on a file under $TMPDIR).
//
//   cmake -S . -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIAISON_BUILD_BENCHMARKS=ON
//   cmake --build build/rel --target storage_benchmark && build/rel/bench/storage_benchmark
//
// BM_Sqlite_AddObjects: AddObjects batches of 1000 new indicators (~500 bytes each) with a status.
// BM_Sqlite_Page*: one page of 1000 objects (version=last; with match[type]) from a random
//   added_after, in collections of 10k and 200k objects: the page cost should not depend on size.
// BM_Sqlite_GetById: match[id] for one random id (the TAXII object endpoint).
// BM_Sqlite_PublishToPartner: what a hub with one partner writes when its people publish a batch
//   of 1000 (each object labelled and signed, an outbox row per object, a publish audit record
//   per object; arg 0 leaves the audit records out, to show their share).
// BM_Sqlite_DeliveryCycle: the pusher's store work for a batch of 1000 rows: ClaimOutbox, read the
//   versions (GetObjectVersions) and record the receipts (MarkOutboxDelivered).
// Figures are per object; CPU time is the thread's own (robust when the machine is shared).

#include <stdlib.h>
#include <time.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

#include "storage/sqlite/sqlite_store.h"

namespace liaison::storage::sqlite {
namespace {

constexpr int64_t kT0 = 1700000000000000;
constexpr int kBatch = 1000;

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

std::string TempDir() {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/liaison_bench_XXXXXX";
  char* dir = mkdtemp(pattern.data());
  return dir == nullptr ? "" : dir;
}

// A store with api1/c1, in a fresh directory removed at destruction.
struct BenchStore {
  std::string dir;
  std::unique_ptr<SqliteStore> store;
  std::vector<std::string> ids;
  std::vector<int64_t> dates;  // date_added of each object, ascending
  std::mt19937_64 rng{42};
  int next = 0;
  int64_t now = kT0;

  bool Init() {
    dir = TempDir();
    auto s = SqliteStore::Open(dir + "/bench.db");
    if (!s.ok()) return false;
    store = std::move(s).value();
    ApiRoot root;
    root.name = "api1";
    Collection c;
    c.id = "c1";
    c.api_root = "api1";
    return store->CreateApiRoot(root).ok() && store->CreateCollection(c).ok();
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
    store.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

// Collections of a given size, built once per process and shared by the read benchmarks.
BenchStore* Populated(int size) {
  static std::map<int, std::unique_ptr<BenchStore>> stores;
  auto& slot = stores[size];
  if (slot == nullptr) {
    slot = std::make_unique<BenchStore>();
    if (!slot->Init()) return nullptr;
    while (static_cast<int>(slot->ids.size()) < size) {
      if (!slot->Add(slot->MakeBatch(/*with_status=*/false)).ok()) return nullptr;
    }
  }
  return slot.get();
}

void BM_Sqlite_AddObjects(benchmark::State& state) {
  BenchStore s;
  if (!s.Init()) {
    state.SkipWithError("cannot open store");
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
  state.counters["collection_size"] = static_cast<double>(s.ids.size());
}
BENCHMARK(BM_Sqlite_AddObjects)->Unit(benchmark::kMillisecond)->UseRealTime();

void PageRead(benchmark::State& state, bool by_type, bool metadata_only) {
  BenchStore* s = Populated(static_cast<int>(state.range(0)));
  if (s == nullptr) {
    state.SkipWithError("cannot populate store");
    return;
  }
  std::mt19937_64 rng(7);
  size_t returned = 0;
  for (auto _ : state) {
    // A random starting point, leaving room for a full page.
    size_t span = s->dates.size() - (by_type ? 4 * kBatch : kBatch) - 1;
    ObjectQuery q;
    q.collection_id = "c1";
    q.added_after = s->dates[rng() % span];
    q.limit = kBatch;
    q.metadata_only = metadata_only;
    if (by_type) q.types = {"malware"};
    auto page = s->store->QueryObjects(q);
    if (!page.ok() || page->objects.size() != static_cast<size_t>(kBatch)) {
      state.SkipWithError(page.ok() ? "short page" : page.status().ToString().c_str());
      return;
    }
    returned += page->objects.size();
    benchmark::DoNotOptimize(page->objects.back().json.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(returned));
}

void BM_Sqlite_Page(benchmark::State& state) { PageRead(state, false, false); }
void BM_Sqlite_PageByType(benchmark::State& state) { PageRead(state, true, false); }
void BM_Sqlite_PageManifest(benchmark::State& state) { PageRead(state, false, true); }
BENCHMARK(BM_Sqlite_Page)->Arg(10000)->Arg(200000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Sqlite_PageByType)
    ->Arg(10000)
    ->Arg(200000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_Sqlite_PageManifest)
    ->Arg(10000)
    ->Arg(200000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_Sqlite_GetById(benchmark::State& state) {
  BenchStore* s = Populated(static_cast<int>(state.range(0)));
  if (s == nullptr) {
    state.SkipWithError("cannot populate store");
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
BENCHMARK(BM_Sqlite_GetById)->Arg(10000)->Arg(200000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A store with a partner "identity--p1" and one publish-ready batch generator.
struct PartnerStore : BenchStore {
  bool InitPartner() {
    if (!Init()) return false;
    Partner p;
    p.id = "identity--00000000-0000-4000-8000-000000000001";
    p.name = "partner";
    p.identity_json = "{}";
    p.url = "https://127.0.0.1:1/api/";
    p.inbox = "inbox";
    p.created = kT0;
    return store->CreatePartner(p).ok();
  }
  AddObjectsRequest MakePublish(bool audit) {
    AddObjectsRequest req = MakeBatch(/*with_status=*/true);
    for (NewObject& o : req.objects) {
      o.label.tlp = 2;
      o.label.origin = "identity--00000000-0000-4000-8000-000000000002";
      o.label.signature =
          "{\"hub\":\"identity--00000000-0000-4000-8000-000000000002\",\"key\":"
          "\"q1w2e3r4t5y6u7i8o9p0q1w2e3r4t5y6u7i8o9p0aaa=\",\"alg\":\"Ed25519\",\"sig\":"
          "\"c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0"
          "dXJlc2lnbmF0dXJlc2lnbg==\"}";
      o.outbox_partners = {"identity--00000000-0000-4000-8000-000000000001"};
      if (audit) {
        AuditRecord r;
        r.kind = "publish";
        r.actor = "analyst";
        r.subject = o.id;
        r.detail =
            "{\"collection\":\"c1\",\"version\":\"2023-11-14T22:13:20.000Z\",\"origin\":"
            "\"identity--00000000-0000-4000-8000-000000000002\",\"tlp\":\"amber\"}";
        req.audit.push_back(std::move(r));
      }
    }
    return req;
  }
};

void BM_Sqlite_PublishToPartner(benchmark::State& state) {
  PartnerStore s;
  if (!s.InitPartner()) {
    state.SkipWithError("cannot open store");
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    AddObjectsRequest req = s.MakePublish(state.range(0) != 0);
    state.ResumeTiming();
    Status st = s.Add(req);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_Sqlite_PublishToPartner)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_Sqlite_DeliveryCycle(benchmark::State& state) {
  PartnerStore s;
  if (!s.InitPartner()) {
    state.SkipWithError("cannot open store");
    return;
  }
  const std::string partner = "identity--00000000-0000-4000-8000-000000000001";
  int64_t now = kT0 + 1000000000;
  double claim_us = 0, read_us = 0, mark_us = 0;
  auto cpu_us = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
  };
  for (auto _ : state) {
    state.PauseTiming();
    Status st = s.Add(s.MakePublish(true));
    state.ResumeTiming();
    now += 1000;
    double t0 = cpu_us();
    auto rows = s.store->ClaimOutbox(partner, kBatch, now, 60000000);
    double t1 = cpu_us();
    if (!st.ok() || !rows.ok() || rows->size() != static_cast<size_t>(kBatch)) {
      state.SkipWithError(!st.ok() ? st.ToString().c_str() : "claim failed");
      return;
    }
    std::vector<ObjectVersionKey> keys;
    std::vector<int64_t> seqs;
    for (const OutboxRow& r : *rows) {
      keys.push_back({r.object_id, r.version});
      seqs.push_back(r.seq);
    }
    double t2 = cpu_us();
    auto objects = s.store->GetObjectVersions("c1", keys, false);
    double t3 = cpu_us();
    Status marked = s.store->MarkOutboxDelivered(seqs, now);
    double t4 = cpu_us();
    claim_us += t1 - t0;
    read_us += t3 - t2;
    mark_us += t4 - t3;
    if (!objects.ok() || objects->size() != keys.size() || !marked.ok()) {
      state.SkipWithError("read or mark failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  const double n = static_cast<double>(state.iterations()) * kBatch;
  state.counters["claim_cpu_us"] = claim_us / n;
  state.counters["read_cpu_us"] = read_us / n;
  state.counters["mark_cpu_us"] = mark_us / n;
}
BENCHMARK(BM_Sqlite_DeliveryCycle)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace liaison::storage::sqlite

BENCHMARK_MAIN();
