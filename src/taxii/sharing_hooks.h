#pragma once

// SharingHooks: the seam through which the TAXII service applies the sharing policy and
// federation's provenance on every write and every read. The hub's implementation is
// federation::Sharing; the service calls it on every path:
//   - POST objects: PrepareAdd labels each validated object (TLP, origin, recipients), checks and
//     strips partner signatures, seals TLP:RED, decides the outbox rows and feedback records, and
//     may refuse single objects (reported as status failures). After the commit, Committed()
//     wakes pushers and event streams.
//   - GET objects / object / versions / manifest: ForReader() gives a ReadFilter; the service
//     shows only objects it calls Visible (paging over hidden ones: a page may hold fewer than
//     `limit` objects while `more` is true), and serves Present()'s bytes (unsealed for this hub's
//     own people, signed wire form for partners).
//   - DELETE: only objects Visible to the principal are deleted.
//
// Implementations are thread-safe. Errors from PrepareAdd fail the whole request.

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "policy/principal.h"
#include "stix/object.h"
#include "storage/store.h"

namespace liaison::taxii {

struct PreparedAdd {
  std::vector<storage::NewObject> objects;      // to store, in request order
  std::vector<storage::StatusDetail> failures;  // refused by sharing (id, version, message)
  std::vector<storage::AuditRecord> audit;      // committed with the objects
};

class ReadFilter {
 public:
  virtual ~ReadFilter() = default;
  // Decides from the label alone (works on metadata-only rows).
  virtual bool Visible(const storage::StoredObject& object) = 0;
  // The bytes to serve for a visible object (StoredObject::json filled). kInternal/kDataLoss when
  // a sealed object cannot be opened. May append audit (reads of RED objects).
  virtual Result<std::string> Present(const storage::StoredObject& object) = 0;
};

class SharingHooks {
 public:
  virtual ~SharingHooks() = default;
  virtual Result<PreparedAdd> PrepareAdd(const policy::Principal& principal,
                                         const storage::Collection& collection,
                                         std::vector<stix::ObjectInfo> objects) = 0;
  virtual void Committed(const storage::Collection& collection,
                         const storage::AddObjectsResult& result) = 0;
  virtual std::unique_ptr<ReadFilter> ForReader(const policy::Principal& principal,
                                                const storage::Collection& collection) = 0;
};

}  // namespace liaison::taxii
