#include "pattern/lexer.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "pattern/binary.h"
#include "stix/timestamp.h"

namespace liaison::pattern {
namespace {

struct Keyword {
  std::string_view text;
  TokenKind kind;
};

constexpr Keyword kKeywords[] = {
    {"AND", TokenKind::kAnd},           {"OR", TokenKind::kOr},
    {"NOT", TokenKind::kNot},           {"FOLLOWEDBY", TokenKind::kFollowedBy},
    {"LIKE", TokenKind::kLike},         {"MATCHES", TokenKind::kMatches},
    {"ISSUBSET", TokenKind::kIsSubset}, {"ISSUPERSET", TokenKind::kIsSuperset},
    {"EXISTS", TokenKind::kExists},     {"IN", TokenKind::kIn},
    {"START", TokenKind::kStart},       {"STOP", TokenKind::kStop},
    {"WITHIN", TokenKind::kWithin},     {"SECONDS", TokenKind::kSeconds},
    {"REPEATS", TokenKind::kRepeats},   {"TIMES", TokenKind::kTimes},
    {"LAST", TokenKind::kLast},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the whitespace sequence at `pos` (0 if none): ASCII whitespace and the Unicode space
// characters the grammar's WS rule lists, in UTF-8.
size_t WhitespaceAt(std::string_view s, size_t pos) {
  unsigned char c = static_cast<unsigned char>(s[pos]);
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return 1;
  auto byte = [&](size_t i) -> int {
    return pos + i < s.size() ? static_cast<unsigned char>(s[pos + i]) : -1;
  };
  if (c == 0xC2 && (byte(1) == 0x85 || byte(1) == 0xA0)) return 2;  // U+0085, U+00A0
  if (c == 0xE1 && byte(1) == 0x9A && byte(2) == 0x80) return 3;    // U+1680
  if (c == 0xE2 && byte(1) == 0x80) {
    int d = byte(2);
    if ((d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF) return 3;
  }
  if (c == 0xE2 && byte(1) == 0x81 && byte(2) == 0x9F) return 3;  // U+205F
  if (c == 0xE3 && byte(1) == 0x80 && byte(2) == 0x80) return 3;  // U+3000
  return 0;
}

// Validates UTF-8 (no overlongs, no surrogates, <= U+10FFFF). Returns the offset of the first bad
// byte, or npos.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + n > s.size()) return i;
    for (size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += n;
  }
  return std::string_view::npos;
}

std::string Shorten(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  for (char c : s.substr(0, kMax)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// 'text' shortened for a message. (Built by appending: GCC 12 warns falsely (-Wrestrict) on
// "'" + std::string + "'" chains.)
std::string QuoteShort(std::string_view s) {
  std::string out;
  out += '\'';
  out += Shorten(s);
  out += '\'';
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view text, StixVersion version) : s_(text), version_(version) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    tokens.reserve(s_.size() / 4 + 4);
    while (true) {
      RETURN_IF_ERROR(SkipSpaceAndComments());
      Token t;
      t.position = pos_;
      if (pos_ >= s_.size()) {
        t.kind = TokenKind::kEnd;
        tokens.push_back(std::move(t));
        return tokens;
      }
      RETURN_IF_ERROR(Next(&t));
      t.text = s_.substr(t.position, pos_ - t.position);
      tokens.push_back(std::move(t));
    }
  }

 private:
  Status SkipSpaceAndComments() {
    while (pos_ < s_.size()) {
      if (size_t n = WhitespaceAt(s_, pos_); n > 0) {
        pos_ += n;
      } else if (s_.compare(pos_, 2, "/*") == 0) {
        size_t end = s_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) {
          return SyntaxError(pos_, "the end of the comment '*/'", "the end of the pattern");
        }
        pos_ = end + 2;
      } else if (s_.compare(pos_, 2, "//") == 0) {
        size_t end = s_.find_first_of("\r\n", pos_);
        pos_ = end == std::string_view::npos ? s_.size() : end;
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  char Peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }

  Status Next(Token* t) {
    const char c = s_[pos_];
    switch (c) {
      case '[':
        return Single(t, TokenKind::kLBracket);
      case ']':
        return Single(t, TokenKind::kRBracket);
      case '(':
        return Single(t, TokenKind::kLParen);
      case ')':
        return Single(t, TokenKind::kRParen);
      case ':':
        return Single(t, TokenKind::kColon);
      case ',':
        return Single(t, TokenKind::kComma);
      case '*':
        return Single(t, TokenKind::kAsterisk);
      case '=':
        t->kind = TokenKind::kEq;
        pos_ += Peek(1) == '=' ? 2 : 1;
        return Status::Ok();
      case '!':
        if (Peek(1) == '=') {
          t->kind = TokenKind::kNeq;
          pos_ += 2;
          return Status::Ok();
        }
        return SyntaxError(pos_, "'!='", "'!'");
      case '<':
        if (Peek(1) == '=') {
          t->kind = TokenKind::kLe;
          pos_ += 2;
        } else if (Peek(1) == '>') {
          t->kind = TokenKind::kNeq;
          pos_ += 2;
        } else {
          t->kind = TokenKind::kLt;
          pos_ += 1;
        }
        return Status::Ok();
      case '>':
        if (Peek(1) == '=') {
          t->kind = TokenKind::kGe;
          pos_ += 2;
        } else {
          t->kind = TokenKind::kGt;
          pos_ += 1;
        }
        return Status::Ok();
      case '\'':
        return QuotedString(t);
      case '.':
        if (IsDigit(Peek(1))) return Number(t);
        return Single(t, TokenKind::kDot);
      case '+':
      case '-':
        if (IsDigit(Peek(1)) || (Peek(1) == '.' && IsDigit(Peek(2)))) return Number(t);
        return SyntaxError(pos_, std::string("a number after '").append(1, c).append("'"),
                           QuoteShort(s_.substr(pos_, 2)));
      default:
        break;
    }
    if (IsDigit(c)) return Number(t);
    if ((c == 'h' || c == 'b' || c == 't') && Peek(1) == '\'') return PrefixedLiteral(t, c);
    if (IsIdentStart(c)) return Word(t);
    // Show the whole (possibly multi-byte) character.
    size_t n = 1;
    while (pos_ + n < s_.size() && (static_cast<unsigned char>(s_[pos_ + n]) & 0xC0) == 0x80 &&
           n < 4) {
      ++n;
    }
    return SyntaxError(pos_, "a token", QuoteShort(s_.substr(pos_, n)));
  }

  Status Single(Token* t, TokenKind kind) {
    t->kind = kind;
    ++pos_;
    return Status::Ok();
  }

  Status Word(Token* t) {
    size_t start = pos_;
    while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
    std::string_view word = s_.substr(start, pos_ - start);
    const bool v20 = version_ == StixVersion::k20;
    for (const Keyword& k : kKeywords) {
      if (word == k.text || (v20 && EqualsIgnoreCase(word, k.text))) {
        t->kind = k.kind;
        return Status::Ok();
      }
    }
    if (word == "true" || word == "false" ||
        (v20 && (EqualsIgnoreCase(word, "true") || EqualsIgnoreCase(word, "false")))) {
      t->kind = TokenKind::kBool;
      t->bool_value = word.size() == 4;
      return Status::Ok();
    }
    t->kind = TokenKind::kIdentifier;
    t->value = std::string(word);
    return Status::Ok();
  }

  // Reads a '...' string starting at pos_ (the quote); sets *out to the unescaped content.
  Status ReadQuoted(std::string* out) {
    const size_t start = pos_;
    ++pos_;
    out->clear();
    while (true) {
      if (pos_ >= s_.size()) {
        return SyntaxError(start, "a closing quote for the string", "the end of the pattern");
      }
      char c = s_[pos_];
      if (c == '\'') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        char e = Peek(1);
        if (e == '\'' || e == '\\') {
          out->push_back(e);
          pos_ += 2;
          continue;
        }
        // STIX 2.1 section 9.2: only \' and \\ are escapes in a string constant.
        return SyntaxError(pos_, "\\' or \\\\ (the only escapes in a string)",
                           QuoteShort(s_.substr(pos_, 2)));
      }
      out->push_back(c);
      ++pos_;
    }
    if (size_t bad = FindInvalidUtf8(*out); bad != std::string_view::npos) {
      return SyntaxError(start, "a string of valid UTF-8", "an invalid byte sequence");
    }
    return Status::Ok();
  }

  Status QuotedString(Token* t) {
    t->kind = TokenKind::kString;
    return ReadQuoted(&t->value);
  }

  Status PrefixedLiteral(Token* t, char prefix) {
    const size_t start = pos_;
    ++pos_;  // the prefix letter
    // Hex, binary and timestamp bodies have no escapes; read up to the next quote.
    size_t close = s_.find('\'', pos_ + 1);
    if (close == std::string_view::npos) {
      return SyntaxError(start, "a closing quote", "the end of the pattern");
    }
    std::string_view body = s_.substr(pos_ + 1, close - pos_ - 1);
    pos_ = close + 1;
    if (prefix == 'h') {
      std::optional<std::string> bytes = HexDecode(body);
      if (!bytes) {
        return SyntaxError(start, "pairs of hex digits in h'...'", QuoteShort(body));
      }
      t->kind = TokenKind::kHex;
      t->value = std::move(*bytes);
    } else if (prefix == 'b') {
      std::optional<std::string> bytes = Base64Decode(body);
      if (!bytes) {
        return SyntaxError(start, "padded base64 in b'...'", QuoteShort(body));
      }
      t->kind = TokenKind::kBinary;
      t->value = std::move(*bytes);
    } else {
      Result<stix::Timestamp> ts = stix::ParseTimestamp(body);
      if (!ts.ok()) {
        return SyntaxError(start, "a timestamp t'YYYY-MM-DDTHH:MM:SS[.s]Z'",
                           QuoteShort(body).append(" (").append(ts.status().message()).append(")"));
      }
      t->kind = TokenKind::kTimestamp;
      t->value = std::string(body);
      t->timestamp_us = ts->micros;
    }
    return Status::Ok();
  }

  Status Number(Token* t) {
    const size_t start = pos_;
    if (s_[pos_] == '+' || s_[pos_] == '-') ++pos_;
    const size_t int_start = pos_;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    const size_t int_digits = pos_ - int_start;
    bool is_float = false;
    if (Peek() == '.' && IsDigit(Peek(1))) {
      is_float = true;
      ++pos_;
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    // A number runs into a following letter or digit-like character: "12abc", "1.2.3".
    if (pos_ < s_.size() && (IsIdentStart(s_[pos_]) || s_[pos_] == '.')) {
      size_t end = pos_;
      while (end < s_.size() && (IsIdentChar(s_[end]) || s_[end] == '.')) ++end;
      return SyntaxError(start, "a number", QuoteShort(s_.substr(start, end - start)));
    }
    std::string_view text = s_.substr(start, pos_ - start);
    if (is_float) {
      double v = 0;
      // from_chars does not take a leading '+'.
      std::string_view digits = text[0] == '+' ? text.substr(1) : text;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec != std::errc() || ptr != digits.data() + digits.size() || !std::isfinite(v)) {
        return SyntaxError(start, "a finite number", QuoteShort(text));
      }
      t->kind = TokenKind::kFloat;
      t->float_value = v;
      return Status::Ok();
    }
    if (int_digits > 1 && s_[int_start] == '0') {
      return SyntaxError(start, "an integer without leading zeros", QuoteShort(text));
    }
    int64_t v = 0;
    std::string_view digits = text[0] == '+' ? text.substr(1) : text;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) {
      return SyntaxError(start, "an integer between -2^63 and 2^63-1", QuoteShort(text));
    }
    t->kind = TokenKind::kInt;
    t->int_value = v;
    return Status::Ok();
  }

  std::string_view s_;
  StixVersion version_;
  size_t pos_ = 0;
};

}  // namespace

Status SyntaxError(size_t position, std::string_view expected, std::string_view found) {
  std::string m = "at position " + std::to_string(position) + ": expected ";
  m += expected;
  m += ", found ";
  m += found;
  return InvalidArgumentError(std::move(m));
}

std::string DescribeTokenKind(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEnd:
      return "the end of the pattern";
    case TokenKind::kLBracket:
      return "'['";
    case TokenKind::kRBracket:
      return "']'";
    case TokenKind::kLParen:
      return "'('";
    case TokenKind::kRParen:
      return "')'";
    case TokenKind::kColon:
      return "':'";
    case TokenKind::kDot:
      return "'.'";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kAsterisk:
      return "'*'";
    case TokenKind::kEq:
      return "'='";
    case TokenKind::kNeq:
      return "'!='";
    case TokenKind::kLt:
      return "'<'";
    case TokenKind::kLe:
      return "'<='";
    case TokenKind::kGt:
      return "'>'";
    case TokenKind::kGe:
      return "'>='";
    case TokenKind::kIdentifier:
      return "a name";
    case TokenKind::kString:
      return "a string";
    case TokenKind::kInt:
      return "an integer";
    case TokenKind::kFloat:
      return "a float";
    case TokenKind::kBool:
      return "a boolean";
    case TokenKind::kHex:
      return "a hex constant";
    case TokenKind::kBinary:
      return "a binary constant";
    case TokenKind::kTimestamp:
      return "a timestamp";
    default:
      break;
  }
  for (const Keyword& k : kKeywords) {
    if (k.kind == kind) return std::string("'").append(k.text).append("'");
  }
  return "a token";
}

std::string DescribeToken(const Token& token) {
  if (token.kind == TokenKind::kEnd) return "the end of the pattern";
  return QuoteShort(token.text);
}

Result<std::vector<Token>> Tokenize(std::string_view text, StixVersion version) {
  return Lexer(text, version).Run();
}

}  // namespace liaison::pattern
