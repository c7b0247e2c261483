// Benchmarks of the TAXII service over MemoryStore: the cost the service itself adds to a page
// read (routing, access check, filters, splicing stored bytes) and to an ingest (envelope parse
// and validation, status). Build with -DLIAISON_BUILD_BENCHMARKS=ON in Release and run
//   taxii_service_benchmark --benchmark_format=json

#include "taxii/service.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

#include "storage/memory/memory_store.h"

namespace liaison::taxii {
namespace {

constexpr char kCollection[] = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

std::string Indicator(int n) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--%08x-0000-4000-8000-%012x", n, n);
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + id +
         R"(","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"benchmark indicator )" +
         std::to_string(n) +
         R"(","description":"A typical indicator of a few hundred bytes, as feeds publish them.","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z","labels":["malicious-activity"]})";
}

std::string Envelope(int first, int count) {
  std::string out = R"({"objects":[)";
  for (int i = 0; i < count; ++i) {
    if (i) out += ',';
    out += Indicator(first + i);
  }
  return out + "]}";
}

struct Hub {
  Hub() : store(storage::memory::MemoryStore::Create()) {
    storage::ApiRoot root;
    root.name = "api";
    root.title = "API";
    (void)store->CreateApiRoot(root);
    storage::Collection c;
    c.id = kCollection;
    c.api_root = "api";
    c.title = "Default";
    (void)store->CreateCollection(c);
    storage::Grant g;
    g.collection_id = kCollection;
    g.subject = "role:publisher";
    g.can_read = true;
    g.can_write = true;
    (void)store->PutGrant(g);
    service = std::make_unique<Service>(*store, clock, ServiceOptions{});
    publisher.user = "pub";
    publisher.role = storage::Role::kPublisher;
    publisher.authenticated = true;
  }

  Request Make(const std::string& method) const {
    Request r;
    r.method = method;
    r.target = std::string("/api/collections/") + kCollection + "/objects/";
    r.accept = kTaxiiMediaType;
    r.content_type = kTaxiiMediaType;
    r.principal = publisher;
    return r;
  }

  FakeClock clock;
  std::unique_ptr<storage::memory::MemoryStore> store;
  std::unique_ptr<Service> service;
  policy::Principal publisher;
};

void BM_Taxii_GetObjectsPage(benchmark::State& state) {
  const int page = static_cast<int>(state.range(0));
  Hub hub;
  for (int b = 0; b < 10; ++b) {
    Request post = hub.Make("POST");
    post.body = Envelope(b * 1000, 1000);
    if (!hub.service->Handle(post).ok()) state.SkipWithError("seeding failed");
  }
  Request get = hub.Make("GET");
  get.query = {{"limit", std::to_string(page)}, {"match[type]", "indicator"}};
  size_t bytes = 0;
  for (auto _ : state) {
    Result<Response> r = hub.service->Handle(get);
    if (!r.ok()) state.SkipWithError("GET failed");
    bytes += r->body.size();
    benchmark::DoNotOptimize(r->body.data());
  }
  state.SetItemsProcessed(state.iterations() * page);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Taxii_GetObjectsPage)->Arg(100)->Arg(1000);

void BM_Taxii_PostEnvelope(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  Hub hub;
  int next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Request post = hub.Make("POST");
    post.body = Envelope(next, batch);
    next += batch;
    state.ResumeTiming();
    Result<Response> r = hub.service->Handle(post);
    if (!r.ok() || r->status != 202) state.SkipWithError("POST failed");
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_Taxii_PostEnvelope)->Arg(1000);

}  // namespace
}  // namespace liaison::taxii

BENCHMARK_MAIN();
