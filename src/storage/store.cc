#include "storage/store.h"

namespace liaison::storage {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kPublisher: return "publisher";
    case Role::kReader: return "reader";
  }
  return "reader";
}

Result<Role> ParseRole(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "publisher") return Role::kPublisher;
  if (name == "reader") return Role::kReader;
  return InvalidArgumentError("unknown role '" + std::string(name) +
                              "' (expected admin, publisher or reader)");
}

}  // namespace liaison::storage
