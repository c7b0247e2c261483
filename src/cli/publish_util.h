#pragma once

// The core of `liaison publish`: pack validated objects into TAXII envelopes no larger than the
// server accepts, POST them with a TaxiiClient, wait for pending status resources, and tally what
// the server reported. Works against any TAXII 2.1 server.
//
//   std::vector<PublishObject> objects = ...;   // validated, minified (stix::ObjectInfo::json)
//   PublishReport report = PublishObjects(*client, api_root.url, api_root.info.max_content_length,
//                                         objects, options);
//
// Not thread-safe (drives one TaxiiClient); blocks on the network.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "federation/taxii_client.h"

namespace liaison::cli {

// One object to publish: its JSON bytes (sent as they are) and, for messages, id and version.
struct PublishObject {
  std::string id;
  std::string version;
  std::string json;
};

// A TAXII envelope ready to POST and which objects (indices into the input) it carries.
struct EnvelopeBatch {
  std::vector<size_t> indices;
};

// Serialises the objects `indices` as {"objects":[...]}.
std::string EnvelopeJson(const std::vector<PublishObject>& objects,
                         const std::vector<size_t>& indices);

// The size in bytes of EnvelopeJson for these objects, without building it.
size_t EnvelopeBytes(const std::vector<PublishObject>& objects, const std::vector<size_t>& indices);

// Packs objects, in input order, into batches whose envelope is at most `max_bytes` bytes and
// holds at most `max_objects` objects. An object too large for an envelope of its own goes to
// `oversized` (its index) instead.
std::vector<EnvelopeBatch> PackEnvelopes(const std::vector<PublishObject>& objects,
                                         size_t max_bytes, size_t max_objects,
                                         std::vector<size_t>* oversized);

struct PublishOptions {
  std::string collection_id;
  // Envelope size limit; 0: the API root's max_content_length (kDefaultEnvelopeBytes when the
  // server gives none). A smaller value wins over the server's.
  size_t max_envelope_bytes = 0;
  size_t max_objects_per_envelope = 10000;
  // How long to wait for a "pending" status to complete, in all.
  std::chrono::milliseconds status_wait{60'000};
  // Attempts for a POST that fails transiently (kUnavailable, kDeadlineExceeded): resending is
  // safe because a version the server already has is a no-op (TAXII 2.1 section 5.5).
  int max_attempts = 3;
  std::chrono::milliseconds retry_backoff{1000};  // doubled after each attempt
  // Injected for tests; default: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
};

inline constexpr size_t kDefaultEnvelopeBytes = size_t{10} << 20;

struct PublishFailure {
  std::string id;
  std::string version;
  std::string message;
};

struct PublishReport {
  int64_t succeeded = 0;  // objects the server reported as successes (duplicates included)
  int64_t failed = 0;     // reported failures plus objects refused locally (too large)
  int64_t pending = 0;    // still pending when status_wait ran out
  int64_t not_sent = 0;   // objects never accepted because publishing stopped (see `error`)
  int envelopes = 0;      // envelopes the server accepted
  std::vector<PublishFailure> failures;
  std::vector<PublishFailure> pendings;
  Status error;  // the error that stopped publishing (auth, unknown collection, unreachable)

  bool all_succeeded() const { return error.ok() && failed == 0 && pending == 0 && not_sent == 0; }
};

// Publishes `objects` to collection options.collection_id of the API root at `api_root_url`.
// Never fails as a whole: what happened is in the report. An envelope the server refuses as too
// large (HTTP 413) is split in two and retried; a single object it refuses so is a failure.
PublishReport PublishObjects(federation::TaxiiClient& client, const std::string& api_root_url,
                             int64_t max_content_length, const std::vector<PublishObject>& objects,
                             const PublishOptions& options);

}  // namespace liaison::cli
