#include "pattern/parser.h"

#include <cmath>
#include <limits>

#include "pattern/lexer.h"
#include "pattern/regex.h"
#include "stix/timestamp.h"

namespace liaison::pattern {
namespace {

// Recursive-descent parser over the token vector. Grammar (STIX 2.1 section 9, as the OASIS
// ANTLR grammar writes it), lowest precedence first:
//   pattern          := obs_followedby END
//   obs_followedby   := obs_or ('FOLLOWEDBY' obs_or)*          (left associative)
//   obs_or           := obs_and ('OR' obs_and)*
//   obs_and          := obs_qualified ('AND' obs_qualified)*
//   obs_qualified    := obs_primary qualifier*
//   obs_primary      := '[' cmp_or ']' | '(' obs_followedby ')'
//   cmp_or           := cmp_and ('OR' cmp_and)*
//   cmp_and          := cmp_primary ('AND' cmp_primary)*
//   cmp_primary      := '(' cmp_or ')' | ['NOT'] 'EXISTS' path | path ['NOT'] op constant
// Every recursion goes through Enter(), which bounds the nesting depth.
class Parser {
 public:
  Parser(std::vector<Token> tokens, const ParseOptions& options)
      : tokens_(std::move(tokens)), options_(options) {}

  Result<Pattern> Run() {
    Pattern p;
    p.version = options_.version;
    ASSIGN_OR_RETURN(p.root, ParseFollowedBy());
    if (Cur().kind != TokenKind::kEnd) {
      return Unexpected("'AND', 'OR', 'FOLLOWEDBY' or a qualifier");
    }
    return p;
  }

 private:
  const Token& Cur() const { return tokens_[pos_]; }
  const Token& Advance() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool Accept(TokenKind kind) {
    if (Cur().kind != kind) return false;
    Advance();
    return true;
  }
  Status Unexpected(std::string_view expected) const {
    return SyntaxError(Cur().position, expected, DescribeToken(Cur()));
  }
  Status Expect(TokenKind kind) {
    if (Accept(kind)) return Status::Ok();
    return Unexpected(DescribeTokenKind(kind));
  }

  // RAII depth guard.
  struct DepthGuard {
    explicit DepthGuard(size_t* d) : depth(d) { ++*depth; }
    ~DepthGuard() { --*depth; }
    size_t* depth;
  };
  Status CheckDepth() const {
    if (depth_ > options_.max_depth) {
      return ResourceExhaustedError("at position " + std::to_string(Cur().position) +
                                    ": pattern nested deeper than " +
                                    std::to_string(options_.max_depth) + " levels");
    }
    return Status::Ok();
  }

  static void AppendFlattened(ObservationExpression::Kind kind, ObservationExpression child,
                              std::vector<ObservationExpression>* out) {
    if (child.kind == kind && child.qualifiers.empty()) {
      for (auto& c : child.children) out->push_back(std::move(c));
    } else {
      out->push_back(std::move(child));
    }
  }

  // Parses `sub (op sub)*` into an n-ary node of `kind` (or the single operand).
  template <typename SubParser>
  Result<ObservationExpression> ParseObsList(TokenKind op, ObservationExpression::Kind kind,
                                             SubParser sub) {
    const size_t position = Cur().position;
    ASSIGN_OR_RETURN(ObservationExpression first, (this->*sub)());
    if (Cur().kind != op) return first;
    ObservationExpression node;
    node.kind = kind;
    node.position = position;
    AppendFlattened(kind, std::move(first), &node.children);
    while (Accept(op)) {
      ASSIGN_OR_RETURN(ObservationExpression next, (this->*sub)());
      if (kind == ObservationExpression::Kind::kFollowedBy) {
        // FOLLOWEDBY is left associative and its n-ary form means the left fold, so only the
        // left operand may be flattened; a parenthesised right operand stays nested.
        node.children.push_back(std::move(next));
      } else {
        AppendFlattened(kind, std::move(next), &node.children);
      }
    }
    return node;
  }

  Result<ObservationExpression> ParseFollowedBy() {
    return ParseObsList(TokenKind::kFollowedBy, ObservationExpression::Kind::kFollowedBy,
                        &Parser::ParseObsOr);
  }
  Result<ObservationExpression> ParseObsOr() {
    return ParseObsList(TokenKind::kOr, ObservationExpression::Kind::kOr, &Parser::ParseObsAnd);
  }
  Result<ObservationExpression> ParseObsAnd() {
    return ParseObsList(TokenKind::kAnd, ObservationExpression::Kind::kAnd,
                        &Parser::ParseObsQualified);
  }

  Result<ObservationExpression> ParseObsQualified() {
    ASSIGN_OR_RETURN(ObservationExpression node, ParseObsPrimary());
    while (true) {
      const Token& t = Cur();
      if (t.kind != TokenKind::kWithin && t.kind != TokenKind::kRepeats &&
          t.kind != TokenKind::kStart) {
        break;
      }
      ASSIGN_OR_RETURN(Qualifier q, ParseQualifier());
      node.qualifiers.push_back(std::move(q));
    }
    return node;
  }

  Result<ObservationExpression> ParseObsPrimary() {
    DepthGuard guard(&depth_);
    RETURN_IF_ERROR(CheckDepth());
    const size_t position = Cur().position;
    if (Accept(TokenKind::kLBracket)) {
      ObservationExpression node;
      node.kind = ObservationExpression::Kind::kObservation;
      node.position = position;
      ASSIGN_OR_RETURN(node.comparison, ParseCmpOr());
      if (!Accept(TokenKind::kRBracket)) return Unexpected("'AND', 'OR' or ']'");
      return node;
    }
    if (Accept(TokenKind::kLParen)) {
      ASSIGN_OR_RETURN(ObservationExpression node, ParseFollowedBy());
      if (!Accept(TokenKind::kRParen)) {
        return Unexpected("'AND', 'OR', 'FOLLOWEDBY', a qualifier or ')'");
      }
      return node;
    }
    return Unexpected("'[' or '('");
  }

  Result<Qualifier> ParseQualifier() {
    Qualifier q;
    q.position = Cur().position;
    const Token& kw = Advance();
    if (kw.kind == TokenKind::kWithin) {
      q.kind = Qualifier::Kind::kWithin;
      const Token& n = Cur();
      double seconds = 0;
      if (n.kind == TokenKind::kInt) {
        seconds = static_cast<double>(n.int_value);
      } else if (n.kind == TokenKind::kFloat) {
        seconds = n.float_value;
      } else {
        return Unexpected("a positive number of seconds");
      }
      // STIX 2.1 section 9.7.2: the duration is a positive number of seconds. Kept in
      // microseconds; durations beyond 10^12 s (31,000 years) are rejected as nonsense.
      if (!(seconds > 0) || n.text.front() == '-') {
        return SyntaxError(n.position, "a positive number of seconds", DescribeToken(n));
      }
      if (seconds > 1e12) {
        return SyntaxError(n.position, "at most 1000000000000 seconds", DescribeToken(n));
      }
      q.within_us = static_cast<int64_t>(std::llround(seconds * 1e6));
      if (q.within_us < 1) {
        return SyntaxError(n.position, "at least 0.000001 seconds", DescribeToken(n));
      }
      Advance();
      RETURN_IF_ERROR(Expect(TokenKind::kSeconds));
      return q;
    }
    if (kw.kind == TokenKind::kRepeats) {
      q.kind = Qualifier::Kind::kRepeats;
      const Token& n = Cur();
      if (n.kind != TokenKind::kInt) return Unexpected("a positive integer");
      // STIX 2.1 section 9.7.1: REPEATS takes a positive integer.
      if (n.int_value < 1 || n.text.front() == '-') {
        return SyntaxError(n.position, "a positive integer", DescribeToken(n));
      }
      q.repeats = n.int_value;
      Advance();
      RETURN_IF_ERROR(Expect(TokenKind::kTimes));
      return q;
    }
    // START t'..' STOP t'..' (STIX 2.1 section 9.7.3). The 2.0 grammar writes the two instants as
    // plain strings; both forms are read in 2.0 mode.
    q.kind = Qualifier::Kind::kStartStop;
    ASSIGN_OR_RETURN(q.start, ParseQualifierTimestamp());
    RETURN_IF_ERROR(Expect(TokenKind::kStop));
    ASSIGN_OR_RETURN(q.stop, ParseQualifierTimestamp());
    return q;
  }

  Result<Constant> ParseQualifierTimestamp() {
    const Token& t = Cur();
    if (t.kind == TokenKind::kTimestamp) {
      Advance();
      return Constant::Timestamp(t.value, t.timestamp_us);
    }
    if (options_.version == StixVersion::k20 && t.kind == TokenKind::kString) {
      Result<stix::Timestamp> ts = stix::ParseTimestamp(t.value);
      if (!ts.ok()) {
        return SyntaxError(t.position, "a timestamp string",
                           DescribeToken(t) + " (" + ts.status().message() + ")");
      }
      Advance();
      return Constant::Timestamp(t.value, ts->micros);
    }
    return Unexpected(options_.version == StixVersion::k20 ? "a timestamp" : "a timestamp t'...'");
  }

  static void AppendFlattened(ComparisonExpression::Kind kind, ComparisonExpression child,
                              std::vector<ComparisonExpression>* out) {
    if (child.kind == kind) {
      for (auto& c : child.children) out->push_back(std::move(c));
    } else {
      out->push_back(std::move(child));
    }
  }

  template <typename SubParser>
  Result<ComparisonExpression> ParseCmpList(ComparisonExpression::Kind kind, SubParser sub) {
    ASSIGN_OR_RETURN(ComparisonExpression first, (this->*sub)());
    const TokenKind op =
        kind == ComparisonExpression::Kind::kAnd ? TokenKind::kAnd : TokenKind::kOr;
    if (Cur().kind != op) return first;
    ComparisonExpression node;
    node.kind = kind;
    AppendFlattened(kind, std::move(first), &node.children);
    while (Accept(op)) {
      ASSIGN_OR_RETURN(ComparisonExpression next, (this->*sub)());
      AppendFlattened(kind, std::move(next), &node.children);
    }
    return node;
  }

  Result<ComparisonExpression> ParseCmpOr() {
    return ParseCmpList(ComparisonExpression::Kind::kOr, &Parser::ParseCmpAnd);
  }
  Result<ComparisonExpression> ParseCmpAnd() {
    return ParseCmpList(ComparisonExpression::Kind::kAnd, &Parser::ParseCmpPrimary);
  }

  Result<ComparisonExpression> ParseCmpPrimary() {
    DepthGuard guard(&depth_);
    RETURN_IF_ERROR(CheckDepth());
    if (Accept(TokenKind::kLParen)) {
      ASSIGN_OR_RETURN(ComparisonExpression inner, ParseCmpOr());
      if (!Accept(TokenKind::kRParen)) return Unexpected("'AND', 'OR' or ')'");
      return inner;
    }
    if (++comparisons_ > options_.max_comparisons) {
      return ResourceExhaustedError("at position " + std::to_string(Cur().position) +
                                    ": more than " + std::to_string(options_.max_comparisons) +
                                    " comparisons in one pattern");
    }
    ComparisonExpression node;
    node.kind = ComparisonExpression::Kind::kComparison;
    Comparison& c = node.comparison;
    c.position = Cur().position;

    // [NOT] EXISTS path (STIX 2.1 section 9.6; not part of the 2.0 grammar).
    if (Cur().kind == TokenKind::kExists ||
        (Cur().kind == TokenKind::kNot && tokens_[pos_ + 1].kind == TokenKind::kExists)) {
      if (options_.version == StixVersion::k20) {
        return SyntaxError(Cur().position, "an object path (EXISTS is STIX 2.1 only)",
                           DescribeToken(Cur()));
      }
      c.negated = Accept(TokenKind::kNot);
      Advance();  // EXISTS
      c.op = ComparisonOp::kExists;
      ASSIGN_OR_RETURN(c.path, ParsePath());
      return node;
    }

    ASSIGN_OR_RETURN(c.path, ParsePath());
    c.negated = Accept(TokenKind::kNot);
    const Token& op = Cur();
    switch (op.kind) {
      case TokenKind::kEq:
      case TokenKind::kNeq: {
        c.op = op.kind == TokenKind::kEq ? ComparisonOp::kEqual : ComparisonOp::kNotEqual;
        Advance();
        ASSIGN_OR_RETURN(c.value, ParseConstant(/*allow_bool=*/true));
        return node;
      }
      case TokenKind::kLt:
      case TokenKind::kLe:
      case TokenKind::kGt:
      case TokenKind::kGe: {
        c.op = op.kind == TokenKind::kLt   ? ComparisonOp::kLess
               : op.kind == TokenKind::kLe ? ComparisonOp::kLessEqual
               : op.kind == TokenKind::kGt ? ComparisonOp::kGreater
                                           : ComparisonOp::kGreaterEqual;
        Advance();
        ASSIGN_OR_RETURN(c.value, ParseConstant(/*allow_bool=*/false));
        return node;
      }
      case TokenKind::kIn: {
        c.op = ComparisonOp::kIn;
        Advance();
        RETURN_IF_ERROR(Expect(TokenKind::kLParen));
        if (Accept(TokenKind::kRParen)) return node;  // IN (): the empty set
        while (true) {
          ASSIGN_OR_RETURN(Constant member, ParseConstant(/*allow_bool=*/true));
          c.set.push_back(std::move(member));
          if (Accept(TokenKind::kComma)) continue;
          if (Accept(TokenKind::kRParen)) break;
          return Unexpected("',' or ')'");
        }
        return node;
      }
      case TokenKind::kLike:
      case TokenKind::kMatches:
      case TokenKind::kIsSubset:
      case TokenKind::kIsSuperset: {
        c.op = op.kind == TokenKind::kLike       ? ComparisonOp::kLike
               : op.kind == TokenKind::kMatches  ? ComparisonOp::kMatches
               : op.kind == TokenKind::kIsSubset ? ComparisonOp::kIsSubset
                                                 : ComparisonOp::kIsSuperset;
        Advance();
        const Token& s = Cur();
        if (s.kind != TokenKind::kString) {
          return Unexpected(std::string("a string after ") + ComparisonOpName(c.op));
        }
        c.value = Constant::String(std::move(tokens_[pos_].value));
        Advance();
        if (c.op == ComparisonOp::kMatches) {
          Result<std::shared_ptr<const Regex>> re = Regex::Compile(c.value.string_value);
          if (!re.ok()) {
            return InvalidArgumentError("at position " + std::to_string(s.position) + ": " +
                                        re.status().message());
          }
          c.regex = *re;
        }
        return node;
      }
      default:
        return Unexpected(c.negated ? "a comparison operator after NOT"
                                    : "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, "
                                      "MATCHES, ISSUBSET, ISSUPERSET)");
    }
  }

  Result<Constant> ParseConstant(bool allow_bool) {
    // Each token is consumed once: its decoded value is moved into the tree, not copied.
    Token& t = tokens_[pos_];
    Constant c;
    switch (t.kind) {
      case TokenKind::kString:
        c = Constant::String(std::move(t.value));
        break;
      case TokenKind::kInt:
        c = Constant::Int(t.int_value);
        break;
      case TokenKind::kFloat:
        c = Constant::Float(t.float_value);
        break;
      case TokenKind::kHex:
        c = Constant::Hex(std::move(t.value));
        break;
      case TokenKind::kBinary:
        c = Constant::Binary(std::move(t.value));
        break;
      case TokenKind::kTimestamp:
        c = Constant::Timestamp(std::move(t.value), t.timestamp_us);
        break;
      case TokenKind::kBool:
        if (!allow_bool) {
          return Unexpected("an orderable constant (booleans only compare with = and !=)");
        }
        c = Constant::Bool(t.bool_value);
        break;
      default:
        return Unexpected("a constant");
    }
    Advance();
    return c;
  }

  static bool HasHyphen(const Token& t) { return t.value.find('-') != std::string::npos; }

  // object-type ':' first-key ( '.' key | '[' index ']' )*
  Result<ObjectPath> ParsePath() {
    ObjectPath path;
    Token& type = tokens_[pos_];
    if (type.kind != TokenKind::kIdentifier) {
      return Unexpected("an object path (type:property)");
    }
    path.object_type = std::move(type.value);
    Advance();
    RETURN_IF_ERROR(Expect(TokenKind::kColon));
    ASSIGN_OR_RETURN(std::string first, ParseKey());
    path.steps.push_back(PathStep::Key(std::move(first)));
    while (true) {
      if (Accept(TokenKind::kDot)) {
        ASSIGN_OR_RETURN(std::string key, ParseKey());
        path.steps.push_back(PathStep::Key(std::move(key)));
      } else if (Cur().kind == TokenKind::kLBracket) {
        Advance();
        const Token& idx = Cur();
        if (idx.kind == TokenKind::kAsterisk) {
          path.steps.push_back(PathStep::AnyIndex());
        } else if (idx.kind == TokenKind::kInt) {
          path.steps.push_back(PathStep::Index(idx.int_value));
        } else {
          return Unexpected("a list index (an integer or '*')");
        }
        Advance();
        RETURN_IF_ERROR(Expect(TokenKind::kRBracket));
      } else {
        return path;
      }
    }
  }

  // A property name: an identifier without '-', or a quoted string.
  Result<std::string> ParseKey() {
    Token& t = tokens_[pos_];
    if (t.kind == TokenKind::kString) {
      Advance();
      return std::move(t.value);
    }
    if (t.kind == TokenKind::kIdentifier) {
      if (HasHyphen(t)) {
        return SyntaxError(t.position,
                           "a property name (quote names containing '-': '" + t.value + "')",
                           DescribeToken(t));
      }
      Advance();
      return std::move(t.value);
    }
    // Keywords are valid names when quoted only.
    return Unexpected("a property name");
  }

  std::vector<Token> tokens_;
  const ParseOptions& options_;
  size_t pos_ = 0;
  size_t depth_ = 0;
  size_t comparisons_ = 0;
};

void CompileIn(ComparisonExpression& e, Status* status) {
  if (!status->ok()) return;
  if (e.kind == ComparisonExpression::Kind::kComparison) {
    Comparison& c = e.comparison;
    if (c.op == ComparisonOp::kMatches && c.value.kind == Constant::Kind::kString) {
      Result<std::shared_ptr<const Regex>> re = Regex::Compile(c.value.string_value);
      if (!re.ok()) {
        *status = re.status();
        return;
      }
      c.regex = *re;
    }
    return;
  }
  for (auto& child : e.children) CompileIn(child, status);
}

void CompileIn(ObservationExpression& e, Status* status) {
  if (e.kind == ObservationExpression::Kind::kObservation) {
    CompileIn(e.comparison, status);
    return;
  }
  for (auto& child : e.children) CompileIn(child, status);
}

}  // namespace

Result<Pattern> Parse(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_length) {
    return ResourceExhaustedError("pattern is " + std::to_string(text.size()) +
                                  " bytes long, more than the limit of " +
                                  std::to_string(options.max_length));
  }
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text, options.version));
  return Parser(std::move(tokens), options).Run();
}

Status CompileRegexes(Pattern& pattern) {
  Status status;
  CompileIn(pattern.root, &status);
  return status;
}

}  // namespace liaison::pattern
