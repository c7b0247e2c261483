#include "stix/canonical.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "stix/json_codec.h"

namespace liaison::stix {
namespace {

// RFC 8785 section 3.2.3: keys compare as arrays of UTF-16 code units. UTF-8 byte order equals
// code point order, which differs from UTF-16 order only where a supplementary character
// (surrogate pair, 0xD800..0xDBFF) meets a BMP character at or above U+E000; so compare in UTF-16.
std::u16string ToUtf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c >> 5) == 0x6) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c >> 4) == 0xE) {
      cp = c & 0x0F;
      len = 3;
    } else {
      cp = c & 0x07;
      len = 4;
    }
    // The text passed simdjson's UTF-8 validation, so continuation bytes are present.
    for (size_t k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

// RFC 8785 section 3.2.2.2.
void AppendString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

Status Append(std::string& out, JsonValue v) {
  switch (v.type()) {
    case JsonType::kNull:
      out += "null";
      return Status::Ok();
    case JsonType::kBool:
      out += v.bool_value() ? "true" : "false";
      return Status::Ok();
    case JsonType::kInt64:
    case JsonType::kUint64:
    case JsonType::kDouble: {
      const double d = v.number_value();
      if (!std::isfinite(d)) return InvalidArgumentError("number outside the IEEE 754 range");
      out += FormatEcmaScriptNumber(d);
      return Status::Ok();
    }
    case JsonType::kString:
      AppendString(out, v.string_value());
      return Status::Ok();
    case JsonType::kArray: {
      out += '[';
      bool first = true;
      for (JsonValue item : v) {
        if (!first) out += ',';
        first = false;
        RETURN_IF_ERROR(Append(out, item));
      }
      out += ']';
      return Status::Ok();
    }
    case JsonType::kObject: {
      std::vector<std::pair<std::u16string, JsonValue>> members;
      members.reserve(v.size());
      for (JsonValue m : v) members.emplace_back(ToUtf16(m.key()), m);
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      bool first = true;
      for (const auto& [k, m] : members) {
        if (!first) out += ',';
        first = false;
        AppendString(out, m.key());
        out += ':';
        RETURN_IF_ERROR(Append(out, m));
      }
      out += '}';
      return Status::Ok();
    }
  }
  return InternalError("unknown JSON node type");
}

}  // namespace

std::string FormatEcmaScriptNumber(double value) {
  if (value == 0) return "0";  // also -0 (ECMA-262 Number::toString step 2)
  std::string out;
  if (value < 0) {
    out += '-';
    value = -value;
  }
  // Shortest round-trip digits in scientific form: d[.ddd]e(+|-)XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  const int exp10 = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
  // ECMA-262 Number::toString: value = 0.d1d2...dk × 10^n, i.e. n = exp10 + 1.
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

Result<std::string> Canonicalize(std::string_view json) {
  ASSIGN_OR_RETURN(JsonTree tree, ParseJson(json));
  const JsonValue root = tree.root();
  if (std::string_view dup; root.FindDuplicateKey(&dup)) {
    return InvalidArgumentError("duplicate key '" + std::string(dup.substr(0, 64)) +
                                "' (RFC 8785 requires I-JSON)");
  }
  std::string out;
  out.reserve(json.size());
  RETURN_IF_ERROR(Append(out, root));
  return out;
}

}  // namespace liaison::stix
