// Print(): the canonical text of a pattern (see parser.h for the guarantees).

#include <charconv>
#include <cstdio>

#include "pattern/binary.h"
#include "pattern/parser.h"

namespace liaison::pattern {
namespace {

bool IsPlainIdentifier(std::string_view s) {
  if (s.empty()) return false;
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!start(s[0])) return false;
  for (char c : s) {
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  }
  // A key spelled like a keyword or boolean (in any case, for the case-insensitive 2.0 lexer)
  // would lex as that keyword: quote it.
  static constexpr std::string_view kReserved[] = {
      "AND",        "OR",     "NOT",  "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUBSET",
      "ISSUPERSET", "EXISTS", "IN",   "START",      "STOP", "WITHIN",  "SECONDS",
      "REPEATS",    "TIMES",  "LAST", "TRUE",       "FALSE"};
  for (std::string_view r : kReserved) {
    if (r.size() != s.size()) continue;
    bool same = true;
    for (size_t i = 0; i < s.size() && same; ++i) {
      char c = s[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      same = c == r[i];
    }
    if (same) return false;
  }
  // h, b and t directly followed by a quote would start a literal, but a key is never followed by
  // a quote, so they are safe as plain names.
  return true;
}

void AppendQuoted(std::string& out, std::string_view s) {
  out += '\'';
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

void AppendKey(std::string& out, const std::string& key) {
  if (IsPlainIdentifier(key)) {
    out += key;
  } else {
    AppendQuoted(out, key);
  }
}

void AppendFloat(std::string& out, double v) {
  // The grammar has no exponent form: shortest round-trip fixed notation, always with a '.'.
  char buf[400];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  std::string s = ec == std::errc() ? std::string(buf, ptr) : std::to_string(v);
  if (s.find('.') == std::string::npos) s += ".0";
  out += s;
}

void AppendConstant(std::string& out, const Constant& c) {
  switch (c.kind) {
    case Constant::Kind::kString:
      AppendQuoted(out, c.string_value);
      return;
    case Constant::Kind::kInt:
      out += std::to_string(c.int_value);
      return;
    case Constant::Kind::kFloat:
      AppendFloat(out, c.float_value);
      return;
    case Constant::Kind::kBool:
      out += c.bool_value ? "true" : "false";
      return;
    case Constant::Kind::kHex:
      out += "h'";
      out += HexEncode(c.string_value);
      out += '\'';
      return;
    case Constant::Kind::kBinary:
      out += "b'";
      out += Base64Encode(c.string_value);
      out += '\'';
      return;
    case Constant::Kind::kTimestamp:
      out += "t'";
      out += c.string_value;
      out += '\'';
      return;
  }
}

void AppendPath(std::string& out, const ObjectPath& p) {
  out += p.object_type;
  out += ':';
  bool first = true;
  for (const PathStep& s : p.steps) {
    switch (s.kind) {
      case PathStep::Kind::kKey:
        if (!first) out += '.';
        AppendKey(out, s.key);
        break;
      case PathStep::Kind::kIndex:
        out += '[';
        out += std::to_string(s.index);
        out += ']';
        break;
      case PathStep::Kind::kAnyIndex:
        out += "[*]";
        break;
    }
    first = false;
  }
}

void AppendComparison(std::string& out, const Comparison& c) {
  if (c.op == ComparisonOp::kExists) {
    if (c.negated) out += "NOT ";
    out += "EXISTS ";
    AppendPath(out, c.path);
    return;
  }
  AppendPath(out, c.path);
  out += ' ';
  if (c.negated) out += "NOT ";
  out += ComparisonOpName(c.op);
  out += ' ';
  if (c.op == ComparisonOp::kIn) {
    out += '(';
    for (size_t i = 0; i < c.set.size(); ++i) {
      if (i > 0) out += ", ";
      AppendConstant(out, c.set[i]);
    }
    out += ')';
    return;
  }
  AppendConstant(out, c.value);
}

void AppendComparisonExpression(std::string& out, const ComparisonExpression& e) {
  if (e.kind == ComparisonExpression::Kind::kComparison) {
    AppendComparison(out, e.comparison);
    return;
  }
  const char* op = e.kind == ComparisonExpression::Kind::kAnd ? " AND " : " OR ";
  for (size_t i = 0; i < e.children.size(); ++i) {
    if (i > 0) out += op;
    const ComparisonExpression& child = e.children[i];
    // AND binds tighter than OR: an OR inside an AND needs parentheses; so does a nested node of
    // the parent's own kind (the parser flattens those, a hand-built tree may not).
    bool parens = child.kind != ComparisonExpression::Kind::kComparison &&
                  (child.kind == e.kind || child.kind == ComparisonExpression::Kind::kOr);
    if (parens) out += '(';
    AppendComparisonExpression(out, child);
    if (parens) out += ')';
  }
}

int Precedence(ObservationExpression::Kind k) {
  switch (k) {
    case ObservationExpression::Kind::kFollowedBy:
      return 1;
    case ObservationExpression::Kind::kOr:
      return 2;
    case ObservationExpression::Kind::kAnd:
      return 3;
    case ObservationExpression::Kind::kObservation:
      return 4;
  }
  return 4;
}

std::string FormatSeconds(int64_t micros) {
  std::string s = std::to_string(micros / 1'000'000);
  int64_t frac = micros % 1'000'000;
  if (frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "%06lld", static_cast<long long>(frac));
    std::string f(buf);
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += '.';
    s += f;
  }
  return s;
}

void AppendQualifier(std::string& out, const Qualifier& q, StixVersion version) {
  switch (q.kind) {
    case Qualifier::Kind::kWithin:
      out += " WITHIN ";
      out += FormatSeconds(q.within_us);
      out += " SECONDS";
      return;
    case Qualifier::Kind::kRepeats:
      out += " REPEATS ";
      out += std::to_string(q.repeats);
      out += " TIMES";
      return;
    case Qualifier::Kind::kStartStop:
      // The 2.0 grammar writes the instants as plain strings, 2.1 as timestamp constants.
      out += " START ";
      if (version == StixVersion::k20) {
        AppendQuoted(out, q.start.string_value);
        out += " STOP ";
        AppendQuoted(out, q.stop.string_value);
      } else {
        AppendConstant(out, q.start);
        out += " STOP ";
        AppendConstant(out, q.stop);
      }
      return;
  }
}

void AppendObservation(std::string& out, const ObservationExpression& e, StixVersion version) {
  if (e.kind == ObservationExpression::Kind::kObservation) {
    out += '[';
    AppendComparisonExpression(out, e.comparison);
    out += ']';
  } else {
    const bool wrap = !e.qualifiers.empty();
    if (wrap) out += '(';
    const char* op = e.kind == ObservationExpression::Kind::kAnd  ? " AND "
                     : e.kind == ObservationExpression::Kind::kOr ? " OR "
                                                                  : " FOLLOWEDBY ";
    for (size_t i = 0; i < e.children.size(); ++i) {
      if (i > 0) out += op;
      const ObservationExpression& child = e.children[i];
      bool parens = child.kind != ObservationExpression::Kind::kObservation &&
                    child.qualifiers.empty() && Precedence(child.kind) <= Precedence(e.kind);
      if (parens) out += '(';
      AppendObservation(out, child, version);
      if (parens) out += ')';
    }
    if (wrap) out += ')';
  }
  for (const Qualifier& q : e.qualifiers) AppendQualifier(out, q, version);
}

}  // namespace

std::string Print(const Pattern& pattern) {
  std::string out;
  AppendObservation(out, pattern.root, pattern.version);
  return out;
}

std::string Print(const ObservationExpression& expr) {
  std::string out;
  AppendObservation(out, expr, StixVersion::k21);
  return out;
}

std::string Print(const ComparisonExpression& expr) {
  std::string out;
  AppendComparisonExpression(out, expr);
  return out;
}

std::string Print(const Comparison& comparison) {
  std::string out;
  AppendComparison(out, comparison);
  return out;
}

std::string Print(const ObjectPath& path) {
  std::string out;
  AppendPath(out, path);
  return out;
}

std::string Print(const Constant& constant) {
  std::string out;
  AppendConstant(out, constant);
  return out;
}

}  // namespace liaison::pattern
