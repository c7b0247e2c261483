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
// sends? Refused when a named-recipient level does not name `self`, when AMBER with no named
// recipients comes from someone other than its origin, or when the origin is `self` (a loop).
Decision Accept(const storage::ObjectLabel& label, std::string_view sender, std::string_view self);

}  // namespace liaison::policy
