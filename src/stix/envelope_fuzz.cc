// libFuzzer target: ParseEnvelope (and, on the same bytes, ParseObject and Canonicalize) over
// arbitrary input. Any crash, sanitizer report or broken invariant is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "stix/canonical.h"
#include "stix/object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  liaison::stix::ParseLimits limits;
  limits.max_objects = 1000;
  limits.max_depth = 32;
  std::vector<liaison::stix::Warning> warnings;
  auto env = liaison::stix::ParseEnvelope(input, limits, &warnings);
  if (env.ok()) {
    for (const auto& r : env->objects) {
      // A valid object's stored bytes must themselves parse to the same identity.
      if (r.ok()) {
        auto again = liaison::stix::ParseObject(r.info.json, limits);
        if (!again.ok() || again->id != r.info.id || again->json != r.info.json) std::abort();
      }
    }
  }
  (void)liaison::stix::ParseObject(input, limits);
  auto canonical = liaison::stix::Canonicalize(input);
  if (canonical.ok()) {
    // Canonical form is a fixed point.
    auto twice = liaison::stix::Canonicalize(*canonical);
    if (!twice.ok() || *twice != *canonical) std::abort();
  }
  return 0;
}
