#pragma once

// Hex and base64 codecs for binary constants (h'..', b'..') and binary properties (`*_hex`,
// `*_bin`). Pure functions, thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace liaison::pattern {

// Decodes pairs of hex digits (either case). nullopt on an odd length or a non-hex character.
std::optional<std::string> HexDecode(std::string_view hex);
// Lower-case hex.
std::string HexEncode(std::string_view bytes);

// Decodes canonical standard base64 (RFC 4648 section 4: length a multiple of 4, '=' padding only
// at the end, zero pad bits). nullopt otherwise.
std::optional<std::string> Base64Decode(std::string_view b64);
// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);

}  // namespace liaison::pattern
