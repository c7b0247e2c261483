#pragma once

// Collection access: may this principal read (GET objects, manifest, versions) or write (POST
// objects) this collection? The answer feeds the TAXII collection resource's can_read/can_write
// (TAXII 2.1 section 5.2.1) and every endpoint's 403/404 decision.
//
// Rules, in order:
//   1. An unauthenticated principal may do nothing.
//   2. An admin may do everything, with or without grants.
//   3. A grant for the user ("user:<name>") decides when there is one, even when it grants less
//      than the user's role grant would: it is the more specific statement.
//   4. Otherwise the grant for the user's role ("role:<role>") decides, except for partner
//      accounts (Role::kPartner): they get access only through "user:<name>" grants, and a
//      "role:partner" grant is ignored, so opening a collection to one partner never opens it to
//      every partner (issue 4: what flows to a partner is decided per partner, by its channels).
//   5. Otherwise nothing.
//
//   ASSIGN_OR_RETURN(policy::CollectionAccess access,
//                    policy::GetCollectionAccess(store, principal, collection.id));
//   if (!access.can_read) ...
//
// Thread-safe: the functions are pure apart from the store lookup.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/principal.h"
#include "storage/store.h"

namespace liaison::policy {

struct CollectionAccess {
  bool can_read = false;
  bool can_write = false;

  // The principal may know the collection exists (it may read or write it).
  bool visible() const { return can_read || can_write; }

  friend bool operator==(const CollectionAccess&, const CollectionAccess&) = default;
};

// The grant subject naming one user: "user:<name>".
std::string UserSubject(std::string_view user);
// The grant subject naming a role: "role:admin" | "role:publisher" | "role:reader" |
// "role:partner" (the last is never honoured, see rule 4).
std::string RoleSubject(storage::Role role);

// Applies the rules above to the grants of one collection (as returned by Store::ListGrants).
// Grants for other collections in `grants` are ignored. If a subject appears more than once (a
// backend should not allow it), its grants are combined.
CollectionAccess DecideCollectionAccess(const Principal& principal,
                                        const std::string& collection_id,
                                        const std::vector<storage::Grant>& grants);

// Looks the collection's grants up and decides. Does not consult the store for unauthenticated
// principals or admins. Errors: those of Store::ListGrants (kNotFound for an unknown collection,
// kUnavailable, ...).
Result<CollectionAccess> GetCollectionAccess(storage::Store& store, const Principal& principal,
                                             const std::string& collection_id);

}  // namespace liaison::policy
