#pragma once

// RFC 8785 JSON Canonicalization Scheme (JCS): the byte form that signatures are computed over.
//
//   Result<std::string> c = Canonicalize(R"({"b":2,"a":1})");   // -> {"a":1,"b":2}
//
// Pure and thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"

namespace liaison::stix {

// Returns the canonical form of `json`: no whitespace, object members sorted by the UTF-16 code
// units of their keys (RFC 8785 section 3.2.3), numbers serialised as ECMAScript does
// (section 3.2.2.3), strings with the minimal escapes of section 3.2.2.2, literal UTF-8 otherwise.
// Errors (kInvalidArgument): not valid JSON / UTF-8, duplicate keys (I-JSON, RFC 7493), numbers
// outside the IEEE 754 double range; kResourceExhausted: nesting beyond kMaxJsonNesting.
Result<std::string> Canonicalize(std::string_view json);

// ECMAScript Number.prototype.toString for a finite double ("1e+21", "0.000001", "1e-7", "-0" ->
// "0"). Exposed for tests. Precondition: std::isfinite(value).
std::string FormatEcmaScriptNumber(double value);

}  // namespace liaison::stix
