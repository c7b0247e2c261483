#include "audit/chain.h"

#include <sodium.h>

#include <cstdio>
#include <string_view>

namespace liaison::audit {
namespace {

// Length-prefixed so that no two different records hash the same bytes ("ab"+"c" vs "a"+"bc").
void Feed(crypto_generichash_state& state, std::string_view field) {
  const uint64_t n = field.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  crypto_generichash_update(&state, len, sizeof len);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(field.data()),
                            field.size());
}

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string ChainHash(const storage::AuditRecord& record) {
  // sodium_init is idempotent and thread-safe; BLAKE2b itself needs no initialisation, but call it
  // so this function is safe as the first libsodium use in a process.
  if (sodium_init() < 0) return {};
  crypto_generichash_state state;
  unsigned char out[32];
  crypto_generichash_init(&state, nullptr, 0, sizeof out);
  Feed(state, "liaison-audit-v1");
  Feed(state, std::to_string(record.seq));
  Feed(state, std::to_string(record.time));
  Feed(state, record.kind);
  Feed(state, record.actor);
  Feed(state, record.subject);
  Feed(state, record.detail);
  Feed(state, record.prev_hash);
  crypto_generichash_final(&state, out, sizeof out);
  return Hex(out, sizeof out);
}

Result<VerifyReport> VerifyChain(storage::Store& store, const std::string& expect_head) {
  VerifyReport report;
  int64_t expect_seq = 0;
  std::string expect_hash;
  if (!expect_head.empty()) {
    const size_t colon = expect_head.find(':');
    if (colon == std::string::npos || colon == 0) {
      return InvalidArgumentError(
          "expected head must be SEQ:HASH, as `liaison audit verify` prints");
    }
    try {
      expect_seq = std::stoll(expect_head.substr(0, colon));
    } catch (const std::exception&) {
      return InvalidArgumentError(
          "expected head must be SEQ:HASH, as `liaison audit verify` prints");
    }
    expect_hash = expect_head.substr(colon + 1);
  }
  bool head_seen = expect_head.empty();
  std::string prev_hash;
  int64_t prev_seq = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<storage::AuditRecord> page, store.ListAudit(prev_seq, 1000));
    if (page.empty()) break;
    for (const storage::AuditRecord& r : page) {
      if (r.seq != prev_seq + 1) {
        return DataLossError("audit entry " + std::to_string(prev_seq + 1) + " is missing (after " +
                             std::to_string(prev_seq) + ")");
      }
      if (r.prev_hash != prev_hash) {
        return DataLossError("audit entry " + std::to_string(r.seq) +
                             ": does not link to the entry before it");
      }
      if (ChainHash(r) != r.hash) {
        return DataLossError("audit entry " + std::to_string(r.seq) +
                             ": hash does not match its content (altered)");
      }
      if (!head_seen && r.seq == expect_seq) {
        if (r.hash != expect_hash) {
          return DataLossError("audit entry " + std::to_string(r.seq) +
                               ": differs from the expected head (chain rewritten)");
        }
        head_seen = true;
      }
      prev_hash = r.hash;
      prev_seq = r.seq;
      ++report.entries;
    }
  }
  if (!head_seen) {
    return DataLossError("the chain ends at entry " + std::to_string(prev_seq) +
                         " before the expected head " + std::to_string(expect_seq) +
                         " (newest entries removed)");
  }
  report.last_seq = prev_seq;
  report.last_hash = prev_hash;
  return report;
}

}  // namespace liaison::audit
