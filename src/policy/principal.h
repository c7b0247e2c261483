#pragma once

// Principal: who is making a request, as established by auth/ and checked by policy/.

#include <string>

#include "storage/store.h"

namespace liaison::policy {

struct Principal {
  std::string user;  // user name; empty when anonymous
  storage::Role role = storage::Role::kReader;
  bool authenticated = false;
  std::string method;      // "basic" | "api-key" | "" (anonymous)
  std::string api_key_id;  // when method == "api-key"
  // Role::kPartner: the partner organisation's identity id (storage::User::partner). Empty for
  // this hub's own people.
  std::string partner;

  bool is_admin() const { return authenticated && role == storage::Role::kAdmin; }
  bool is_partner() const { return authenticated && role == storage::Role::kPartner; }
};

}  // namespace liaison::policy
