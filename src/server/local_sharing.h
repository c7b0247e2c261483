#pragma once

// LocalOnlySharing: the SharingHooks of a hub that has no organisation identity yet (created
// before partnership support, issue 4). Such a hub still serves its own people, but it cannot
// sign, seal or verify, so it takes part in no federation:
//   - Publishes by local users are labelled as federation::Sharing would label them (TLP from
//     object_marking_refs, else the policy.default_tlp setting, else AMBER; origin "" like objects
//     stored before issue 4), with no outbox rows, so nothing is queued for anyone.
//   - Partner principals are refused on every path (writes: kFailedPrecondition telling the
//     operator to run `liaison identity init`; reads: nothing visible).
//   - Local readers see every object of the collections they may read. Sealed objects (which only
//     a hub with keys can have written) are withheld with kFailedPrecondition.
// Once `liaison identity init --data DIR` has run, restarting the hub switches to
// federation::Sharing, which treats the labels written here like those of pre-issue-4 objects.
//
// Thread-safe.

#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/notifier.h"
#include "storage/store.h"
#include "taxii/sharing_hooks.h"

namespace liaison::server {

class LocalOnlySharing final : public taxii::SharingHooks {
 public:
  // `events_changed` is notified after commits that added objects. References must outlive this.
  LocalOnlySharing(storage::Store& store, Notifier& events_changed);

  Result<taxii::PreparedAdd> PrepareAdd(const policy::Principal& principal,
                                        const storage::Collection& collection,
                                        std::vector<stix::ObjectInfo> objects) override;
  void Committed(const storage::Collection& collection,
                 const storage::AddObjectsResult& result) override;
  std::unique_ptr<taxii::ReadFilter> ForReader(const policy::Principal& principal,
                                               const storage::Collection& collection) override;

 private:
  storage::Store& store_;
  Notifier& events_changed_;
};

// The message every refused federation operation of such a hub carries.
inline constexpr char kNoIdentityMessage[] =
    "this hub has no organisation identity, so it takes part in no federation: run `liaison "
    "identity init --data DIR`, then restart the hub";

}  // namespace liaison::server
