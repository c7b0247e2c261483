#pragma once

// The one table that maps a Status to an HTTP response: the status code and the TAXII error body
// (TAXII 2.1 section 3.6.1, "Error Message"), media type application/taxii+json;version=2.1.
//
//   StatusCode            HTTP  notes
//   kInvalidArgument      400
//   kUnauthenticated      401   + WWW-Authenticate: Basic realm="liaison", charset="UTF-8"
//                               and Bearer realm="liaison" (RFC 7235 section 4.1)
//   kPermissionDenied     403
//   kNotFound             404
//   kNotAcceptable        406
//   kAlreadyExists        409
//   kFailedPrecondition   422   the request is well-formed but the hub cannot act on it in its
//                               present state (409 is kept for kAlreadyExists conflicts)
//   kResourceExhausted    413   size bounds (body, max_content_length). Rate limits are not a
//                               Status code of their own: http/ answers throttled authentication
//                               with 429 + Retry-After itself (RateLimitedResponse).
//   kUnsupportedMediaType 415
//   kUnavailable          503
//   kDeadlineExceeded     504
//   kDataLoss, kInternal  500   with a generic description; the detail is logged once, here
//   (anything else)       500
//
// Thread-safe (pure functions).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "taxii/service.h"

namespace liaison::http {

inline constexpr char kRealm[] = "liaison";
// The WWW-Authenticate value sent with every 401.
inline constexpr char kWwwAuthenticate[] =
    "Basic realm=\"liaison\", charset=\"UTF-8\", Bearer realm=\"liaison\"";

// The HTTP status code for a non-OK code (500 for kOk, which is never an error).
int HttpStatusFor(StatusCode code);

// The reason phrase for an HTTP status code ("Not Found"); "Error" for unknown codes.
std::string_view ReasonPhrase(int http_status);

// The TAXII error body for `http_status` with `title` and `description`:
// {"title":..., "description":..., "http_status":"404"}.
std::string TaxiiErrorBody(int http_status, std::string_view title, std::string_view description);

// The full response for an error Status: status code, TAXII error body, WWW-Authenticate for 401.
// For kInternal/kDataLoss (and kOk misuse) the user sees a generic description and `status` is
// logged at error level, with `context` (e.g. "GET /taxii2/").
taxii::Response ErrorResponse(const Status& status, std::string_view context = "");

// A TAXII error response with an explicit HTTP status (e.g. 405, 408, 414, 431).
taxii::Response ErrorResponseWithHttpStatus(int http_status, std::string_view description);

// 429 Too Many Requests with Retry-After: `retry_after_seconds` (at least 1).
taxii::Response RateLimitedResponse(std::string_view description, int64_t retry_after_seconds);

}  // namespace liaison::http
