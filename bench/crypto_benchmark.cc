// Provenance on the delivery path: every object a hub sends is signed once (SignObject) and
// verified by every hub that receives it (VerifyObject); TLP:RED objects are also sealed to each
// recipient and opened by each. Items per second are objects per second on one core.
//   cmake -B build/bench -DLIAISON_BUILD_BENCHMARKS=ON -DCMAKE_BUILD_TYPE=Release
//   cmake --build build/bench --target crypto_benchmark
//   build/bench/bench/crypto_benchmark --benchmark_format=json
#include <cstdlib>
#include <map>
#include <string>

#include <benchmark/benchmark.h>

#include "crypto/hub_keys.h"
#include "crypto/signature.h"

namespace {

using liaison::crypto::HubKeys;

constexpr char kHubA[] = "identity--a1a1a1a1-0000-4000-8000-000000000001";
constexpr char kHubB[] = "identity--b2b2b2b2-0000-4000-8000-000000000002";
constexpr char kId[] = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

// A minified indicator of about 700 bytes (as the hub stores it).
std::string Indicator() {
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + kId +
         R"(","created":"2024-01-15T10:20:30.123Z","modified":"2024-01-15T10:20:30.123Z",)"
         R"("name":"Cell messenger account","description":"Account used by the cell to )"
         R"(coordinate; seen in intercepted traffic",)"
         R"("indicator_types":["malicious-activity"],)"
         R"("pattern":"[user-account:account_login = 'night_owl_77' OR phone-number:value = )"
         R"('+15555550123']",)"
         R"("pattern_type":"stix","pattern_version":"2.1","valid_from":"2024-01-15T10:20:30Z",)"
         R"("labels":["messenger","cell"],"confidence":85,)"
         R"("object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],)"
         R"("kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}]})";
}

HubKeys Keys(char fill) { return HubKeys::FromSeed(std::string(32, fill)).value(); }

void BM_Crypto_SignObject(benchmark::State& state) {
  const HubKeys keys = Keys('a');
  const std::string object = Indicator();
  for (auto _ : state) {
    auto signed_json = liaison::crypto::SignObject(object, kHubA, keys);
    if (!signed_json.ok()) std::abort();
    benchmark::DoNotOptimize(signed_json);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(object.size()));
  state.counters["object_bytes"] = static_cast<double>(object.size());
}
BENCHMARK(BM_Crypto_SignObject);

void BM_Crypto_VerifyObject(benchmark::State& state) {
  const std::string signed_json =
      liaison::crypto::SignObject(Indicator(), kHubA, Keys('a')).value();
  for (auto _ : state) {
    auto verified = liaison::crypto::VerifyObject(signed_json);
    if (!verified.ok()) std::abort();
    benchmark::DoNotOptimize(verified);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(signed_json.size()));
  state.counters["object_bytes"] = static_cast<double>(signed_json.size());
}
BENCHMARK(BM_Crypto_VerifyObject);

// Baselines: the bare Ed25519 operations over a message of the same size, so the cost of the
// JSON work around them (parse, minify, canonicalise) shows as the difference.
void BM_Crypto_Ed25519SignBaseline(benchmark::State& state) {
  const HubKeys keys = Keys('a');
  const std::string message = Indicator();
  for (auto _ : state) benchmark::DoNotOptimize(keys.Sign(message));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Crypto_Ed25519SignBaseline);

void BM_Crypto_Ed25519VerifyBaseline(benchmark::State& state) {
  const HubKeys keys = Keys('a');
  const std::string message = Indicator();
  const std::string sig = keys.Sign(message);
  const std::string key = keys.sign_public_b64();
  for (auto _ : state) {
    if (!liaison::crypto::VerifySignature(key, message, sig)) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Crypto_Ed25519VerifyBaseline);

// The RED path at the origin: sign, then seal to two recipients (the origin and one partner).
void BM_Crypto_SignAndSealTwo(benchmark::State& state) {
  const HubKeys a = Keys('a'), b = Keys('b');
  const std::string object = Indicator();
  const std::map<std::string, std::string> box_keys = {{kHubA, a.box_public_b64()},
                                                       {kHubB, b.box_public_b64()}};
  for (auto _ : state) {
    auto signed_json = liaison::crypto::SignObject(object, kHubA, a);
    auto wrapper = liaison::crypto::SealObject(*signed_json, kId, "indicator",
                                               "2024-01-15T10:20:30.123Z", {}, {kHubB}, box_keys);
    if (!wrapper.ok()) std::abort();
    benchmark::DoNotOptimize(wrapper);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Crypto_SignAndSealTwo);

// The RED path at a recipient: open its box, then verify the origin's signature.
void BM_Crypto_OpenAndVerify(benchmark::State& state) {
  const HubKeys a = Keys('a'), b = Keys('b');
  const std::string signed_json = liaison::crypto::SignObject(Indicator(), kHubA, a).value();
  const std::string wrapper =
      liaison::crypto::SealObject(signed_json, kId, "indicator", "2024-01-15T10:20:30.123Z", {},
                                  {kHubB}, {{kHubB, b.box_public_b64()}})
          .value();
  for (auto _ : state) {
    auto opened = liaison::crypto::OpenSealedObject(wrapper, kHubB, b);
    auto verified = liaison::crypto::VerifyObject(*opened);
    if (!verified.ok()) std::abort();
    benchmark::DoNotOptimize(verified);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Crypto_OpenAndVerify);

}  // namespace

BENCHMARK_MAIN();
