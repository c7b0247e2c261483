#include "policy/collection_access.h"

#include <utility>

namespace liaison::policy {

std::string UserSubject(std::string_view user) {
  std::string subject = "user:";
  subject += user;
  return subject;
}

std::string RoleSubject(storage::Role role) {
  std::string subject = "role:";
  subject += storage::RoleName(role);
  return subject;
}

CollectionAccess DecideCollectionAccess(const Principal& principal,
                                        const std::string& collection_id,
                                        const std::vector<storage::Grant>& grants) {
  if (!principal.authenticated) return {};
  if (principal.is_admin()) return {.can_read = true, .can_write = true};

  // An empty user name would make "user:" match a grant for nobody in particular: skip it.
  const std::string user_subject = principal.user.empty() ? "" : UserSubject(principal.user);
  // Rule 4: partner accounts have no role grant; only user grants speak for them.
  const std::string role_subject =
      principal.role == storage::Role::kPartner ? "" : RoleSubject(principal.role);

  bool have_user_grant = false;
  CollectionAccess by_user;
  bool have_role_grant = false;
  CollectionAccess by_role;
  for (const storage::Grant& grant : grants) {
    if (grant.collection_id != collection_id) continue;
    if (!user_subject.empty() && grant.subject == user_subject) {
      have_user_grant = true;
      by_user.can_read = by_user.can_read || grant.can_read;
      by_user.can_write = by_user.can_write || grant.can_write;
    } else if (!role_subject.empty() && grant.subject == role_subject) {
      have_role_grant = true;
      by_role.can_read = by_role.can_read || grant.can_read;
      by_role.can_write = by_role.can_write || grant.can_write;
    }
  }
  if (have_user_grant) return by_user;
  if (have_role_grant) return by_role;
  return {};
}

Result<CollectionAccess> GetCollectionAccess(storage::Store& store, const Principal& principal,
                                             const std::string& collection_id) {
  if (!principal.authenticated) return CollectionAccess{};
  if (principal.is_admin()) return CollectionAccess{.can_read = true, .can_write = true};
  ASSIGN_OR_RETURN(std::vector<storage::Grant> grants, store.ListGrants(collection_id));
  return DecideCollectionAccess(principal, collection_id, grants);
}

}  // namespace liaison::policy
