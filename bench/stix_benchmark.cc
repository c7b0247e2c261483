// STIX ingest hot path: ParseEnvelope over envelopes of typical indicators (~500 bytes each).
//   cmake -B build/bench -DLIAISON_BUILD_BENCHMARKS=ON -DCMAKE_BUILD_TYPE=Release
//   build/bench/bench/stix_benchmark --benchmark_format=json
#include <cstdio>
#include <string>

#include <benchmark/benchmark.h>

#include "stix/canonical.h"
#include "stix/object.h"

namespace {

std::string Indicator(int n) {
  char buf[1024];
  std::snprintf(
      buf, sizeof(buf),
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--%08x-5d4b-4c1e-9a0b-2f1e3d4c5b6a",)"
      R"("created":"2024-01-15T10:20:30.123Z","modified":"2024-01-15T10:20:30.123Z",)"
      R"("created_by_ref":"identity--311b2d2d-f010-4473-83ec-1edf84858f4c",)"
      R"("name":"Malicious IP %d","description":"Command and control server seen in campaign X",)"
      R"("indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.%d.%d']",)"
      R"("pattern_type":"stix","pattern_version":"2.1","valid_from":"2024-01-15T10:20:30Z",)"
      R"("labels":["c2","botnet"],"confidence":85,)"
      R"("object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5a41da"],)"
      R"("kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}]})",
      n, n, (n / 256) % 256, n % 256);
  return buf;
}

std::string Envelope(int count) {
  std::string body = "{\"more\":false,\"objects\":[\n";
  for (int i = 0; i < count; ++i) {
    if (i > 0) body += ",\n";
    body += "  " + Indicator(i);
  }
  body += "\n]}";
  return body;
}

void BM_ParseEnvelope_Indicators(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string body = Envelope(count);
  for (auto _ : state) {
    auto env = liaison::stix::ParseEnvelope(body);
    if (!env.ok() || env->objects.size() != static_cast<size_t>(count) || !env->objects[0].ok()) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(env);
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  state.counters["bytes_per_object"] = static_cast<double>(body.size()) / count;
}
BENCHMARK(BM_ParseEnvelope_Indicators)->Arg(1)->Arg(100)->Arg(1000)->Arg(10000);

void BM_ParseObject_Indicator(benchmark::State& state) {
  const std::string obj = Indicator(7);
  for (auto _ : state) {
    auto r = liaison::stix::ParseObject(obj);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseObject_Indicator);

void BM_Canonicalize_Indicator(benchmark::State& state) {
  const std::string obj = Indicator(7);
  for (auto _ : state) {
    auto r = liaison::stix::Canonicalize(obj);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Canonicalize_Indicator);

}  // namespace

BENCHMARK_MAIN();
