#pragma once

// Router: the application side of the HTTP server (a RequestHandler).
//
//   Admit:  GET/HEAD /healthz is public. Every other request must authenticate (auth::
//           Authenticator) before anything else is revealed, even whether the path exists:
//           401 + WWW-Authenticate when missing or wrong, 429 + Retry-After when the client
//           address is throttled. The body limit is the API root's max_content_length (TAXII 2.1
//           section 4.2) capped by RouterOptions::max_body_bytes; paths outside any API root get
//           RouterOptions::default_body_limit.
//   Handle: /healthz -> {"status":"ok"}; paths under /liaison/v1 -> LiaisonApi::Handle (when the
//           router has one); paths taxii::Service::OwnsPath -> Service::Handle, with the query
//           percent-decoded; anything else 404. Errors become TAXII error bodies through
//           the one mapping table (status_mapping.h).
//
// Thread-safe (the Authenticator, Service and Store are).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/authenticator.h"
#include "common/status.h"
#include "http/handler.h"
#include "http/liaison_api.h"
#include "storage/store.h"
#include "taxii/service.h"

namespace liaison::http {

struct RouterOptions {
  uint64_t max_body_bytes = 100 * 1024 * 1024;  // whatever an API root allows
  uint64_t default_body_limit = 64 * 1024;      // bodies sent anywhere else
};

class Router final : public RequestHandler {
 public:
  // All references (and `api`) must outlive the router. `api` null: no /liaison/v1 paths (404).
  Router(auth::Authenticator& authenticator, const taxii::Service& service, storage::Store& store,
         LiaisonApi* api, RouterOptions options = {});
  // Without the Liaison API (the TAXII server alone).
  Router(auth::Authenticator& authenticator, const taxii::Service& service, storage::Store& store,
         RouterOptions options = {});

  Admission Admit(const RequestHead& head) override;
  taxii::Response Handle(const RequestHead& head, const Admission& admission,
                         std::string body) override;

 private:
  auth::Authenticator& authenticator_;
  const taxii::Service& service_;
  storage::Store& store_;
  LiaisonApi* const api_;
  const RouterOptions options_;
};

// Splits an origin-form target into its path (still percent-encoded) and its query parameters,
// percent-decoded, in order (a key may repeat; "a" and "a=" both give an empty value). '+' is kept
// as is (RFC 3986 gives it no meaning; TAXII values never contain spaces). '[' and ']' are accepted
// unescaped, as curl sends "match[type]". kInvalidArgument for a malformed percent-escape.
struct SplitTarget {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
};
Result<SplitTarget> ParseTarget(std::string_view target);

}  // namespace liaison::http
