#include "pattern/parser.h"

#include <random>

#include <gtest/gtest.h>

namespace liaison::pattern {
namespace {

TEST(Parser, BuildsTheTree) {
  Result<Pattern> p = Parse(
      "[file:hashes.'SHA-256' = 'ab' AND file:size > 10] FOLLOWEDBY "
      "[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8'] WITHIN 300 SECONDS");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const ObservationExpression& root = p->root;
  ASSERT_EQ(root.kind, ObservationExpression::Kind::kFollowedBy);
  ASSERT_EQ(root.children.size(), 2u);
  const ObservationExpression& first = root.children[0];
  ASSERT_EQ(first.kind, ObservationExpression::Kind::kObservation);
  ASSERT_EQ(first.comparison.kind, ComparisonExpression::Kind::kAnd);
  const Comparison& hash = first.comparison.children[0].comparison;
  EXPECT_EQ(hash.path.object_type, "file");
  ASSERT_EQ(hash.path.steps.size(), 2u);
  EXPECT_EQ(hash.path.steps[1].key, "SHA-256");
  EXPECT_EQ(hash.op, ComparisonOp::kEqual);
  EXPECT_EQ(hash.value, Constant::String("ab"));
  EXPECT_EQ(hash.position, 1u);
  // The qualifier is postfix on the second observation only.
  EXPECT_TRUE(root.qualifiers.empty());
  ASSERT_EQ(root.children[1].qualifiers.size(), 1u);
  EXPECT_EQ(root.children[1].qualifiers[0].kind, Qualifier::Kind::kWithin);
  EXPECT_EQ(root.children[1].qualifiers[0].within_us, 300'000'000);
}

TEST(Parser, PrecedenceOfObservationOperators) {
  Result<Pattern> p = Parse("[a:b = 1] OR [a:b = 2] AND [a:b = 3] FOLLOWEDBY [a:b = 4]");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->root.kind, ObservationExpression::Kind::kFollowedBy);
  ASSERT_EQ(p->root.children[0].kind, ObservationExpression::Kind::kOr);
  EXPECT_EQ(p->root.children[0].children[1].kind, ObservationExpression::Kind::kAnd);
}

TEST(Parser, MatchesIsCompiledAtParseTime) {
  Result<Pattern> p = Parse("[url:value MATCHES '^a+$']");
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->root.comparison.comparison.regex, nullptr);
  Pattern copy = *p;
  copy.root.comparison.comparison.regex = nullptr;
  EXPECT_TRUE(copy == *p);  // the compiled form is not part of equality
  ASSERT_TRUE(CompileRegexes(copy).ok());
  EXPECT_NE(copy.root.comparison.comparison.regex, nullptr);
}

TEST(Parser, CompileRegexesReportsBadExpressions) {
  Result<Pattern> p = Parse("[url:value MATCHES 'x']");
  ASSERT_TRUE(p.ok());
  p->root.comparison.comparison.value = Constant::String("(");
  Status s = CompileRegexes(*p);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(Parser, LimitsAreEnforced) {
  std::string deep(200, '(');
  deep += "[a:b = 1]";
  deep += std::string(200, ')');
  Result<Pattern> p = Parse(deep);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(p.status().message().find("nested deeper than 100"), std::string::npos);

  std::string deep_cmp = "[" + std::string(150, '(') + "a:b = 1" + std::string(150, ')') + "]";
  EXPECT_EQ(Parse(deep_cmp).status().code(), StatusCode::kResourceExhausted);

  EXPECT_EQ(Parse("[a:b = 1]", {.max_length = 5}).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Parse("[a:b = 1 OR a:b = 2 OR a:b = 3]", {.max_comparisons = 2}).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(Parse(std::string(50, '(') + "[a:b = 1]" + std::string(50, ')')).ok());
}

TEST(Parser, ErrorsNamePositionExpectationAndFinding) {
  EXPECT_EQ(Parse("[file:name = ]").status().message(),
            "at position 13: expected a constant, found ']'");
  EXPECT_EQ(Parse("[file:name 'x']").status().message(),
            "at position 11: expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, "
            "MATCHES, ISSUBSET, ISSUPERSET), found ''x''");
  EXPECT_EQ(Parse("[file:name NOT 'x']").status().message(),
            "at position 15: expected a comparison operator after NOT, found ''x''");
  EXPECT_EQ(Parse("[a:b = 1] [a:b = 2]").status().message(),
            "at position 10: expected 'AND', 'OR', 'FOLLOWEDBY' or a qualifier, found '['");
  EXPECT_EQ(Parse("[a:b = 1] REPEATS 2").status().message(),
            "at position 19: expected 'TIMES', found the end of the pattern");
  EXPECT_EQ(Parse("file:name = 'x'").status().code(), StatusCode::kInvalidArgument);
}

// Random pattern generator for the round-trip property.
class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  Pattern Make(StixVersion v) {
    Pattern p;
    p.version = v;
    p.root = Obs(0, v);
    return p;
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string Key() {
    static const char* kKeys[] = {"name", "value", "SHA-256", "x_y",     "a b", "it's",
                                  "AND",  "0x",    "_ref",    "src_ref", "h",   "ünï"};
    return kKeys[Pick(12)];
  }

  Constant Const(bool allow_bool) {
    switch (Pick(allow_bool ? 7 : 6)) {
      case 0:
        return Constant::String(Pick(2) ? "plain" : "quote ' and \\ and ☃");
      case 1:
        return Constant::Int(Pick(2) ? -static_cast<int64_t>(Pick(1000)) : Pick(1000000));
      case 2:
        return Constant::Float(Pick(2) ? 0.1 * Pick(100) : -1e-7 * Pick(5) + 123456.789);
      case 3:
        return Constant::Hex(std::string("\x00\xff\x10", 3).substr(0, Pick(4)));
      case 4:
        return Constant::Binary(std::string("abcde").substr(0, Pick(6)));
      case 5:
        return Pick(2) ? Constant::Timestamp("2020-01-01T00:00:00Z", 1577836800000000)
                       : Constant::Timestamp("2020-01-01T00:00:00.250Z", 1577836800250000);
      default:
        return Constant::Bool(Pick(2) == 1);
    }
  }

  ComparisonExpression Cmp(int depth, StixVersion v) {
    ComparisonExpression e;
    if (depth < 3 && Pick(3) == 0) {
      e.kind = Pick(2) ? ComparisonExpression::Kind::kAnd : ComparisonExpression::Kind::kOr;
      int n = 2 + Pick(2);
      for (int i = 0; i < n; ++i) {
        ComparisonExpression child = Cmp(depth + 1, v);
        // The parser flattens nested nodes of the same kind; generate what it produces.
        if (child.kind == e.kind) {
          for (auto& c : child.children) e.children.push_back(c);
        } else {
          e.children.push_back(child);
        }
      }
      return e;
    }
    Comparison& c = e.comparison;
    c.path.object_type = Pick(2) ? "file" : "x-custom-type";
    c.path.steps.push_back(PathStep::Key(Key()));
    for (int i = Pick(3); i > 0; --i) {
      switch (Pick(3)) {
        case 0:
          c.path.steps.push_back(PathStep::Key(Key()));
          break;
        case 1:
          c.path.steps.push_back(PathStep::Index(Pick(5) - 2));
          break;
        default:
          c.path.steps.push_back(PathStep::AnyIndex());
      }
    }
    c.negated = Pick(3) == 0;
    int op = Pick(v == StixVersion::k21 ? 12 : 11);
    c.op = static_cast<ComparisonOp>(op);
    switch (c.op) {
      case ComparisonOp::kEqual:
      case ComparisonOp::kNotEqual:
        c.value = Const(true);
        break;
      case ComparisonOp::kIn:
        for (int i = Pick(3); i > 0; --i) c.set.push_back(Const(true));
        break;
      case ComparisonOp::kLike:
      case ComparisonOp::kMatches:
      case ComparisonOp::kIsSubset:
      case ComparisonOp::kIsSuperset:
        c.value = Constant::String(Pick(2) ? "10.0.0.0/8" : "a.*b\\\\");
        break;
      case ComparisonOp::kExists:
        break;
      default:
        c.value = Const(false);
    }
    return e;
  }

  ObservationExpression Obs(int depth, StixVersion v) {
    ObservationExpression e;
    if (depth < 3 && Pick(2) == 0) {
      int k = Pick(3);
      e.kind = k == 0   ? ObservationExpression::Kind::kAnd
               : k == 1 ? ObservationExpression::Kind::kOr
                        : ObservationExpression::Kind::kFollowedBy;
      int n = 2 + Pick(2);
      for (int i = 0; i < n; ++i) {
        ObservationExpression child = Obs(depth + 1, v);
        bool flatten = child.kind == e.kind && child.qualifiers.empty() &&
                       (e.kind != ObservationExpression::Kind::kFollowedBy || i == 0);
        if (flatten) {
          for (auto& c : child.children) e.children.push_back(c);
        } else {
          e.children.push_back(child);
        }
      }
    } else {
      e.comparison = Cmp(0, v);
    }
    for (int i = Pick(4) == 0 ? 1 + Pick(2) : 0; i > 0; --i) {
      Qualifier q;
      switch (Pick(3)) {
        case 0:
          q.kind = Qualifier::Kind::kWithin;
          q.within_us = Pick(2) ? 1'500'000 : 300'000'000;
          break;
        case 1:
          q.kind = Qualifier::Kind::kRepeats;
          q.repeats = 1 + Pick(5);
          break;
        default:
          q.kind = Qualifier::Kind::kStartStop;
          q.start = Constant::Timestamp("2020-01-01T00:00:00Z", 1577836800000000);
          q.stop = Constant::Timestamp("2020-01-02T00:00:00.5Z", 1577923200500000);
      }
      e.qualifiers.push_back(q);
    }
    return e;
  }

  std::mt19937 rng_;
};

TEST(Printer, RoundTripsRandomPatterns) {
  for (StixVersion v : {StixVersion::k21, StixVersion::k20}) {
    Generator gen(v == StixVersion::k21 ? 1 : 2);
    for (int i = 0; i < 3000; ++i) {
      Pattern p = gen.Make(v);
      std::string text = Print(p);
      Result<Pattern> again = Parse(text, {.version = v});
      ASSERT_TRUE(again.ok()) << text << "\n" << again.status().ToString();
      ASSERT_TRUE(*again == p) << text << "\nreprinted: " << Print(*again);
      ASSERT_EQ(Print(*again), text);
    }
  }
}

TEST(Printer, CanonicalForms) {
  auto canon = [](std::string_view text) {
    Result<Pattern> p = Parse(text);
    return p.ok() ? Print(*p) : p.status().ToString();
  };
  EXPECT_EQ(canon("[ file : name = 'a' ]"), "[file:name = 'a']");
  EXPECT_EQ(canon("[x:'plain'.'with space'[ * ][-1] = 1.50]"),
            "[x:plain.'with space'[*][-1] = 1.5]");
  EXPECT_EQ(canon("[x:y = 100000000000000000000.0]"), "[x:y = 100000000000000000000.0]");
  EXPECT_EQ(canon("[x:y = 0.000001]"), "[x:y = 0.000001]");
  EXPECT_EQ(canon("([a:b = 1]) WITHIN 2.000 SECONDS"), "[a:b = 1] WITHIN 2 SECONDS");
  EXPECT_EQ(canon("[a:b = 1] WITHIN 0.000001 SECONDS"), "[a:b = 1] WITHIN 0.000001 SECONDS");
  EXPECT_EQ(canon("[a:b NOT IN (1,2)]"), "[a:b NOT IN (1, 2)]");
  EXPECT_EQ(canon("[a:b = b'/w==']"), "[a:b = b'/w==']");
}

TEST(Printer, PrintsSubtrees) {
  Result<Pattern> p = Parse("[x:y[0] = 't' OR x:z != 2]");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Print(p->root.comparison), "x:y[0] = 't' OR x:z != 2");
  EXPECT_EQ(Print(p->root.comparison.children[0].comparison), "x:y[0] = 't'");
  EXPECT_EQ(Print(p->root.comparison.children[0].comparison.path), "x:y[0]");
  EXPECT_EQ(Print(Constant::Float(-2)), "-2.0");
  EXPECT_EQ(Print(Constant::Bool(false)), "false");
}

}  // namespace
}  // namespace liaison::pattern
