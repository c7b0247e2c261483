#pragma once

// Sharing: the hub's taxii::SharingHooks. Applies policy/sharing.h and crypto/ on every TAXII
// write and read:
//
// Write by this hub's own people (publish): label = {tlp from object_marking_refs (policy/tlp.h;
// unmarked: policy.default_tlp), origin = this hub, recipients = x_liaison_recipients (each must
// be a known partner for AMBER+STRICT/RED: else the object is refused), received_from = ""}.
// TLP:RED objects are signed and sealed (crypto/signature.h wrapper) to this hub and every
// recipient before they are stored. Outbox rows: one per partner with a push channel on the
// collection whose Disclose() allows it (Audience kPartner, channel_max). Feedback: a sighting
// (sighting_of_ref), opinion or note (object_refs) about an object another hub originated is also
// queued to that origin (when it is a partner and Disclose allows it: named-recipient levels must
// name it), whatever the channels say: that is the reverse channel.
//
// Write by a partner (its inbox): every object must carry a valid x_liaison_signature (or be a
// sealed wrapper holding one for this hub); the key must be the one trusted for the origin when
// the origin is a partner; policy::Accept must allow it; then the signature is stripped (kept in
// the label) and the object stored like a publish but with origin = signer, received_from =
// sender, and outbox rows only for onward levels. Refusals are status failures with a clear
// message plus an audit "reject" record. A feedback object about an object this hub originated
// becomes a FeedbackRecord (outcome from x_liaison_feedback {"outcome","note"} when present;
// else sighting -> "seen", opinion -> "opinion", note -> "note").
//
// Read: local users see every object of collections they may read (RED unsealed; each RED read
// audited "read-red"); partner principals see what Disclose allows given the pull channel on the
// collection, in wire form (signed, RED as wrapper); anonymous readers of public collections only
// CLEAR.
//
// Details:
//  - Partners, channels and policy.default_tlp are read from the store for every request (the CLI
//    changes them while the hub runs). A default_tlp that is not a level refuses unmarked objects
//    with a message naming the setting.
//  - Local publishers may not send x_liaison_signature or x-liaison-sealed objects (the hub makes
//    them). TLP:RED needs a created/modified timestamp (sealed per version; an SCO is refused).
//  - Inbound: the origin is the signer (x_liaison_signature.hub). When it is a partner, the block's
//    key must equal Partner::sign_key; an origin this hub does not know (a partner's partner) is
//    checked against its own block only. An object signed by this hub is refused (loop). RED
//    must arrive sealed and sealed to this hub; a wrapper's markings and recipients must equal the
//    signed object's (they are outside the signature). Versions already held are acknowledged
//    (success, the store makes them no-ops) without audit entries. Refused objects: a status
//    failure and an audit "reject" {collection, version, reason}; accepted: "receive"; local:
//    "publish"; feedback records: "feedback" (subject: the object it is about).
//  - Feedback records are made for feedback (local or received) about objects this hub originated
//    (label.origin this hub or ""); from = the feedback's origin. The note of sealed feedback is
//    left out of the record (it would be plaintext at rest).
//  - A partner reader's channel_max is the highest max_tlp of its push channels on the collection
//    (a partner pulls what this hub would push; `channel add --allow-pull` grants the read); no
//    such channel: CLEAR only. Disabled or unknown partners, or a store error: nothing visible.
//  - Store failures (kUnavailable, kInternal, kDataLoss, ...) fail the whole PrepareAdd; policy
//    refusals fail single objects.
//  - Local objects queued to a partner keep this hub's signature block in label.signature
//    (computed once at publish; WireForm attaches it instead of signing on every push). Local
//    objects without one are signed by WireForm when read by a partner.
//  - Committed() wakes the pushers after every commit that added a version (a superset of those
//    that queued rows; a pusher with nothing due goes back to sleep after one read).
//
// Thread-safe.

#include <memory>

#include "common/clock.h"
#include "common/notifier.h"
#include "federation/hub_identity.h"
#include "storage/store.h"
#include "taxii/sharing_hooks.h"

namespace liaison::federation {

// Wire form of a stored object for a partner: the sealed wrapper as stored; else the object with
// its kept origin signature block (label.signature) attached; else, for this hub's own objects,
// signed now with this hub's key. kInvalidArgument when `object` has no bytes; kFailedPrecondition
// for a received object without a kept signature.
Result<std::string> WireForm(const storage::StoredObject& object, const HubIdentity& self);

class Sharing final : public taxii::SharingHooks {
 public:
  // `outbox_changed` is notified after a commit that queued outbox rows; `events_changed` after
  // every commit that wrote events. All references must outlive the object.
  Sharing(storage::Store& store, const HubIdentity& self, Clock& clock, Notifier& outbox_changed,
          Notifier& events_changed);

  Result<taxii::PreparedAdd> PrepareAdd(const policy::Principal& principal,
                                        const storage::Collection& collection,
                                        std::vector<stix::ObjectInfo> objects) override;
  void Committed(const storage::Collection& collection,
                 const storage::AddObjectsResult& result) override;
  std::unique_ptr<taxii::ReadFilter> ForReader(const policy::Principal& principal,
                                               const storage::Collection& collection) override;

 private:
  storage::Store& store_;
  const HubIdentity& self_;
  Clock& clock_;
  Notifier& outbox_changed_;
  Notifier& events_changed_;
};

}  // namespace liaison::federation
