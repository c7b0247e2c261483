// libFuzzer target for the pattern language: Parse must never crash, hang or grow without bound
// on any input; whatever parses must print to text that parses back to the same tree, must check,
// and must evaluate (within small bounds) against a fixed set of observations.

#include "pattern/parser.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "pattern/evaluator.h"
#include "pattern/observation.h"

namespace {

const std::vector<liaison::pattern::Observation>& Observations() {
  static const std::vector<liaison::pattern::Observation> kObservations = [] {
    auto r = liaison::pattern::LoadObservations(R"([
      {"type": "observed-data", "first_observed": "2020-01-01T00:00:00Z",
       "last_observed": "2020-01-01T00:00:05Z", "number_observed": 3,
       "objects": {"0": {"type": "ipv4-addr", "value": "10.0.0.1"},
                   "1": {"type": "network-traffic", "src_ref": "0", "dst_port": 443,
                         "protocols": ["tcp", "tls"]},
                   "2": {"type": "file", "name": "a.exe", "size": 1024,
                         "hashes": {"SHA-256": "ab"}, "magic_number_hex": "4d5a",
                         "mtime": "2020-01-01T00:00:00Z"}}},
      {"type": "observed-data", "first_observed": "2020-01-01T00:01:00Z",
       "last_observed": "2020-01-01T00:01:00Z", "number_observed": 1,
       "objects": {"0": {"type": "url", "value": "http://evil.example/x"},
                   "1": {"type": "artifact", "payload_bin": "TVqQAA=="}}}])");
    if (!r.ok()) std::abort();
    return *r;
  }();
  return kObservations;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace liaison::pattern;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (StixVersion version : {StixVersion::k21, StixVersion::k20}) {
    ParseOptions options;
    options.version = version;
    options.max_length = 64 * 1024;
    liaison::Result<Pattern> p = Parse(text, options);
    if (!p.ok()) continue;
    std::string printed = Print(*p);
    liaison::Result<Pattern> again = Parse(printed, options);
    // The printer's contract: what it writes parses back to the same tree.
    if (!again.ok() || !(*again == *p)) std::abort();
    (void)Check(*p);
    MatchOptions match_options;
    match_options.max_steps = 10'000;
    match_options.max_bindings = 1'000;
    (void)Match(*p, Observations(), match_options);
  }
  return 0;
}
