#include "common/uuid.h"

#include <cerrno>

#include <sys/random.h>

#include "common/status.h"

namespace liaison {

std::string FormatUuidV4(std::array<uint8_t, 16> b) {
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

std::string RandomUuidV4() {
  std::array<uint8_t, 16> b;
  size_t got = 0;
  while (got < b.size()) {
    ssize_t n = getrandom(b.data() + got, b.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    // getrandom on a 16-byte request only fails if the syscall is unavailable (Linux < 3.17).
    LIAISON_CHECK(n > 0);
    got += static_cast<size_t>(n);
  }
  return FormatUuidV4(b);
}

}  // namespace liaison
