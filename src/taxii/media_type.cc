#include "taxii/media_type.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace liaison::taxii {
namespace {

constexpr char kProduced[] = "application/taxii+json;version=2.1";
constexpr char kTaxiiVersion[] = "2.1";

// One media range (Accept) or media type (Content-Type), RFC 9110 section 8.3.1 / 12.5.1.
struct MediaRange {
  std::string type;                                         // lower-cased
  std::string subtype;                                      // lower-cased
  std::vector<std::pair<std::string, std::string>> params;  // names lower-cased, values unquoted
  int q = 1000;  // weight in thousandths (RFC 9110 section 12.4.2: at most 3 decimals)
};

bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }
  void SkipOws() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool Consume(char c) {
    if (done() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  std::string_view Token() {
    size_t start = i_;
    while (!done() && IsTchar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  // RFC 9110 section 5.6.4: quoted-string with quoted-pair escapes. The opening quote is next.
  std::optional<std::string> QuotedString() {
    if (!Consume('"')) return std::nullopt;
    std::string out;
    while (!done()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (done()) return std::nullopt;
        c = s_[i_++];
      }
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
      out += c;
    }
    return std::nullopt;  // unterminated
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )  (RFC 9110 section 12.4.2)
std::optional<int> ParseQValue(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  int whole = v[0] - '0';
  if (v.size() == 1) return whole * 1000;
  if (v[1] != '.' || v.size() > 5) return std::nullopt;
  int frac = 0;
  int digits = 0;
  for (size_t i = 2; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') return std::nullopt;
    frac = frac * 10 + (v[i] - '0');
    ++digits;
  }
  while (digits < 3) {
    frac *= 10;
    ++digits;
  }
  if (whole == 1 && frac != 0) return std::nullopt;
  return whole * 1000 + frac;
}

// Parses `type "/" subtype *( OWS ";" OWS [ parameter ] )`, with an optional weight when
// `accept_weight`. Parameters after the weight (RFC 7231's accept-ext) are ignored. nullopt when
// malformed.
std::optional<MediaRange> ParseMediaRange(std::string_view text, bool accept_weight) {
  Cursor c(text);
  c.SkipOws();
  MediaRange range;
  std::string_view type = c.Token();
  if (type.empty() || !c.Consume('/')) return std::nullopt;
  std::string_view subtype = c.Token();
  if (subtype.empty()) return std::nullopt;
  range.type = ToLower(type);
  range.subtype = ToLower(subtype);
  if (range.type == "*" && range.subtype != "*") return std::nullopt;

  bool after_weight = false;
  while (true) {
    c.SkipOws();
    if (c.done()) break;
    if (!c.Consume(';')) return std::nullopt;
    c.SkipOws();
    if (c.done() || c.peek() == ';') continue;  // an empty parameter is allowed
    std::string_view name = c.Token();
    if (name.empty() || !c.Consume('=')) return std::nullopt;
    std::string value;
    if (!c.done() && c.peek() == '"') {
      std::optional<std::string> quoted = c.QuotedString();
      if (!quoted) return std::nullopt;
      value = std::move(*quoted);
    } else {
      std::string_view token = c.Token();
      if (token.empty()) return std::nullopt;
      value = std::string(token);
    }
    std::string lname = ToLower(name);
    if (after_weight) continue;
    if (accept_weight && lname == "q") {
      std::optional<int> q = ParseQValue(value);
      if (!q) return std::nullopt;
      range.q = *q;
      after_weight = true;
      continue;
    }
    range.params.emplace_back(std::move(lname), std::move(value));
  }
  return range;
}

// Splits a list header on commas outside quoted strings (RFC 9110 section 5.6.1).
std::vector<std::string_view> SplitList(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (quoted) {
      if (ch == '\\') {
        ++i;
      } else if (ch == '"') {
        quoted = false;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

bool IsBlank(std::string_view s) {
  for (char ch : s) {
    if (ch != ' ' && ch != '\t') return false;
  }
  return true;
}

// Whether the parameters of a range or type agree with ours. `matched` counts those that name
// one of ours (they make a range more specific).
bool ParamsMatch(const MediaRange& range, int* matched) {
  *matched = 0;
  for (const auto& [name, value] : range.params) {
    if (name == "version") {
      if (value != kTaxiiVersion) return false;
      ++*matched;
    } else if (name == "charset") {
      if (!EqualsIgnoreCase(value, "utf-8")) return false;
      ++*matched;
    }
    // Other parameters carry nothing TAXII defines; they neither match nor exclude.
  }
  return true;
}

// The precedence of `range` for our media type (RFC 9110 section 12.5.1: more specific ranges
// override less specific ones), or -1 when it does not match it.
int Precedence(const MediaRange& range) {
  int base;
  if (range.type == "*") {
    base = 0;  // "*/*"
  } else if (range.type != "application") {
    return -1;
  } else if (range.subtype == "*") {
    base = 1;  // "application/*"
  } else if (range.subtype == "taxii+json") {
    base = 2;
  } else {
    return -1;
  }
  int matched = 0;
  if (!ParamsMatch(range, &matched)) return -1;
  return base * 16 + matched;
}

// Client-supplied text for an error message: bounded, printable ASCII only.
std::string Shorten(std::string_view s) {
  constexpr size_t kMax = 100;
  std::string out;
  for (char c : s.substr(0, kMax)) out += (c >= 0x20 && c <= 0x7e) ? c : '?';
  if (s.size() > kMax) out += "...";
  return out;
}

Status NotAcceptable() {
  return {StatusCode::kNotAcceptable,
          std::string("none of the media types in the Accept header can be served; this server "
                      "responds with ") +
              kProduced};
}

}  // namespace

Status NegotiateAccept(std::string_view accept) {
  if (accept.size() > kMaxAcceptBytes) {
    return InvalidArgumentError("the Accept header is longer than " +
                                std::to_string(kMaxAcceptBytes) + " bytes");
  }
  // RFC 9110 section 12.5.1: a request without an Accept header accepts any media type.
  if (IsBlank(accept)) return Status::Ok();

  std::vector<std::string_view> elements = SplitList(accept);
  if (elements.size() > kMaxAcceptRanges) {
    return InvalidArgumentError("the Accept header lists more than " +
                                std::to_string(kMaxAcceptRanges) + " media ranges");
  }
  int best_precedence = -1;
  int best_q = 0;
  for (std::string_view element : elements) {
    if (IsBlank(element)) continue;  // empty list elements are allowed
    std::optional<MediaRange> range = ParseMediaRange(element, /*accept_weight=*/true);
    if (!range) continue;  // robustness: a malformed range cannot make our type acceptable
    int precedence = Precedence(*range);
    if (precedence < 0) continue;
    if (precedence > best_precedence) {
      best_precedence = precedence;
      best_q = range->q;
    } else if (precedence == best_precedence && range->q > best_q) {
      best_q = range->q;
    }
  }
  if (best_precedence < 0 || best_q == 0) return NotAcceptable();
  return Status::Ok();
}

Status CheckRequestContentType(std::string_view content_type) {
  if (IsBlank(content_type)) {
    return {StatusCode::kUnsupportedMediaType,
            std::string("the request has no Content-Type; send ") + kProduced};
  }
  std::optional<MediaRange> type = ParseMediaRange(content_type, /*accept_weight=*/false);
  int matched = 0;
  if (!type || type->type != "application" || type->subtype != "taxii+json" ||
      !ParamsMatch(*type, &matched)) {
    // TAXII 2.1 section 5.5: objects are added in a TAXII envelope; STIX bundles
    // (application/stix+json) are not a TAXII 2.1 request body (section 1.7.1).
    return {StatusCode::kUnsupportedMediaType,
            "Content-Type '" + Shorten(content_type) + "' is not supported; send " + kProduced};
  }
  return Status::Ok();
}

}  // namespace liaison::taxii
