#pragma once

// The sharing policy: may this audience see this object, may it go to that partner? One function,
// Disclose(), that every read path (TAXII objects, object, versions, manifest, the event stream,
// exports) and every outbound push and every inbound acceptance calls. No path bypasses it.
//
// TLP 2.0 (FIRST, https://www.first.org/tlp/) as STIX 2.1 marking-definitions (policy/tlp.h):
//   CLEAR        anyone the hub serves, including unauthenticated readers of a public collection.
//   GREEN        the partner community: this hub's own people and its partners (onward too).
//   AMBER        the named recipient organisations (default when none are named: every partner of
//                the channel, decided at the origin), and their own people. Only the origin hub
//                sends AMBER to other organisations; a receiving hub never pushes it onward.
//   AMBER+STRICT the named recipient organisations only, never onward. None named: stays home.
//   RED          named recipients only; sealed to each recipient (crypto/sealed.h).
// Recipients are named by the publisher in the object itself, with the custom property
//   "x_liaison_recipients": ["identity--<uuid of a partner organisation>", ...]
// so they are covered by the origin's signature and travel with the object.
// Unmarked objects get the hub's default level (setting policy.default_tlp, AMBER unless set).
// Objects are never disclosed back to their origin or to the partner they came from (no loops).
//
// The decision table (label.tlp outside 0..4 counts as RED; an empty label.origin means this hub):
//   kPublic   CLEAR only.
//   kLocal    everything whose origin is this hub. Received: CLEAR, GREEN; AMBER when nobody is
//             named or this hub is named; AMBER+STRICT and RED when this hub is named.
//   kPartner  refused first when the organisation is empty, is this hub, is the origin, is the
//             partner the object came from, or when the level is above channel_max. Then CLEAR
//             and GREEN; AMBER at its origin when nobody is named or the partner is named;
//             AMBER+STRICT and RED at their origin when the partner is named. A hub that received
//             AMBER, AMBER+STRICT or RED never discloses it to another organisation.
// Accept (mirror of the partner rules, seen from the receiver): refused when the sender or origin
// is empty, the origin is this hub, or the sender is this hub; CLEAR and GREEN from anyone;
// AMBER, AMBER+STRICT and RED only from their origin, and (AMBER with names, AMBER+STRICT, RED)
// only when this hub is named.
//
// Decision::reason starts with the level when the level decides ("TLP:RED: not a named
// recipient"), so receipts and audit entries read well.
//
// Thread-safe: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/tlp.h"
#include "storage/store.h"

namespace liaison::policy {

// Who would see the object.
struct Audience {
  enum class Kind {
    kLocal,    // an authenticated user of this hub's own organisation (any role but partner)
    kPartner,  // a partner organisation: a partner principal reading, or a push/pull target
    kPublic,   // an unauthenticated reader of a public collection
  };
  Kind kind = Kind::kPublic;
  std::string organization;  // kPartner: the partner's identity id
  // kPartner: the highest level the channel carrying the object allows (push: the push channel
  // of the object's collection; pull reads: the pull channel granted on the collection).
  Tlp channel_max = Tlp::kClear;
};

struct Decision {
  bool allowed = false;
  std::string reason;  // why not, for receipts and logs ("AMBER+STRICT: not a named recipient")
};

// `self` is this hub's identity id.
Decision Disclose(const storage::ObjectLabel& label, const Audience& audience,
                  std::string_view self);

// Inbound acceptance: may this hub (`self`) hold an object with `label` that partner `sender`
// sends? Refused when a named-recipient level does not name `self`, when AMBER (named or not),
// AMBER+STRICT or RED comes from someone other than its origin (never onward), or when the origin
// is `self` (a loop). See the table above.
Decision Accept(const storage::ObjectLabel& label, std::string_view sender, std::string_view self);

}  // namespace liaison::policy
