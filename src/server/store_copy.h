#pragma once

// `liaison store copy --from URL --to URL`: moves a whole hub between stores (SQLite <->
// PostgreSQL, or SQLite -> SQLite), every table row by row as stored: settings, API roots,
// collections, grants, users, API keys, objects with every version (date_added and label kept),
// statuses, partners, channels with their cursors, outbox rows with their states, events and the
// audit chain (sequence numbers and hashes kept), feedback. Then verifies the target: row counts
// per table equal the source's, audit::VerifyChain passes and its head equals the source's.
//
//   ASSIGN_OR_RETURN(CopyReport report, CopyHub("sqlite:/var/hub/hub.db",
//                                               "postgresql://liaison@db/liaison"));
//
// The source should not be written during the copy (stop its hub): each table is read from its
// own snapshot. Blocks; not thread-safe with respect to the two stores.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace liaison::server {

struct CopyReport {
  std::string from;  // display forms (passwords redacted)
  std::string to;
  std::vector<std::pair<std::string, int64_t>> tables;  // table -> rows copied (= target count)
  int64_t audit_entries = 0;
  std::string audit_head;  // hash of the last audit record ("" for an empty chain)
};

// Errors: kInvalidArgument (bad URL, same store on both sides); kNotFound (no hub at `from`);
// kFailedPrecondition (the target already holds data: "refusing to copy into a non-empty store");
// kDataLoss (verification failed: counts differ, the chain is broken or its head differs: the
// message names the table or the audit seq); the stores' errors (kUnavailable, ...). After a
// failure the target may hold part of the hub: drop it before retrying.
Result<CopyReport> CopyHub(const std::string& from, const std::string& to);

}  // namespace liaison::server
