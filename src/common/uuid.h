#pragma once

// RFC 4122 version-4 (random) UUIDs, the form STIX identifiers and TAXII ids use.

#include <array>
#include <cstdint>
#include <string>

namespace liaison {

// Formats 16 random bytes as a version-4 UUID ("xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx",
// lower-case), setting the version and variant bits (RFC 4122 section 4.4).
std::string FormatUuidV4(std::array<uint8_t, 16> random_bytes);

// A version-4 UUID from the kernel's CSPRNG (getrandom). Thread-safe; aborts only if the kernel
// cannot supply randomness at all, which would make every id unsafe.
std::string RandomUuidV4();

}  // namespace liaison
