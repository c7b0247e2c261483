#pragma once

// TAXII content negotiation (TAXII 2.1 section 1.6.8, RFC 9110 sections 8.3 and 12.5.1).
//
// The service produces one media type, application/taxii+json;version=2.1, and accepts request
// bodies of that type. "application/taxii+json" without a version means the latest version the
// server supports (TAXII 2.1 section 1.6.8.2), which is 2.1.
//
//   RETURN_IF_ERROR(taxii::NegotiateAccept(request.accept));          // else 406
//   RETURN_IF_ERROR(taxii::CheckRequestContentType(request.content_type));  // else 415
//
// Thread-safe: pure functions.

#include <string_view>

#include "common/status.h"

namespace liaison::taxii {

// Accept headers longer than this, or with more media ranges, are refused (kInvalidArgument).
inline constexpr size_t kMaxAcceptBytes = 8192;
inline constexpr size_t kMaxAcceptRanges = 64;

// Decides whether a response of type application/taxii+json;version=2.1 is acceptable to a client
// that sent `accept` (the Accept header; empty when absent, which accepts anything).
//
// Follows RFC 9110 section 12.5.1: media ranges are matched with wildcards ("*/*",
// "application/*"); parameters of a range must match ours (version=2.1; charset=utf-8 also
// matches; other parameters are ignored); the most specific matching range decides, and a q-value
// of 0 means "not acceptable". Ranges that cannot be parsed are ignored.
//
// Returns OK when acceptable; kNotAcceptable (406) when not, naming the type the server can
// produce; kInvalidArgument (400) for a header beyond the limits above.
Status NegotiateAccept(std::string_view accept);

// Checks the Content-Type of a request body sent to the Add Objects endpoint (TAXII 2.1 section
// 5.5): application/taxii+json with version 2.1 or no version (and charset utf-8 or none).
// Returns kUnsupportedMediaType (415) otherwise, including when the header is missing.
Status CheckRequestContentType(std::string_view content_type);

}  // namespace liaison::taxii
