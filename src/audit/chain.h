#pragma once

// The audit chain's hash: each entry's hash covers its predecessor's hash and every field of the
// entry, so altering, inserting or removing an entry breaks every later link. The store appends
// (storage::Store::AppendAudit) and computes hashes with this function; `liaison audit verify`
// walks the chain with VerifyChain.
//
// hash = hex(BLAKE2b-256(length-prefixed fields: "liaison-audit-v1", seq, time, kind, actor,
//                         subject, detail, prev_hash))
//
// Thread-safe: pure functions.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/store.h"

namespace liaison::audit {

std::string ChainHash(const storage::AuditRecord& record);

struct VerifyReport {
  int64_t entries = 0;  // entries checked
  int64_t last_seq = 0;
  std::string last_hash;
};

// Verifies every entry of the store's chain in order (paging with ListAudit): seq contiguity from
// 1, prev_hash links, hashes. kDataLoss naming the first bad seq and what is wrong ("entry 42:
// hash does not match its content", "entry 43 missing (after 41)"). `expect_head` ("SEQ:HASH", as
// printed by a previous verify), when given, must be in the chain: detects removal of the newest
// entries.
Result<VerifyReport> VerifyChain(storage::Store& store, const std::string& expect_head = "");

}  // namespace liaison::audit
