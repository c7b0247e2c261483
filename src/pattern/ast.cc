#include "pattern/ast.h"

namespace liaison::pattern {

const char* StixVersionName(StixVersion v) { return v == StixVersion::k20 ? "2.0" : "2.1"; }

const char* ComparisonOpName(ComparisonOp op) {
  switch (op) {
    case ComparisonOp::kEqual:
      return "=";
    case ComparisonOp::kNotEqual:
      return "!=";
    case ComparisonOp::kLess:
      return "<";
    case ComparisonOp::kGreater:
      return ">";
    case ComparisonOp::kLessEqual:
      return "<=";
    case ComparisonOp::kGreaterEqual:
      return ">=";
    case ComparisonOp::kIn:
      return "IN";
    case ComparisonOp::kLike:
      return "LIKE";
    case ComparisonOp::kMatches:
      return "MATCHES";
    case ComparisonOp::kIsSubset:
      return "ISSUBSET";
    case ComparisonOp::kIsSuperset:
      return "ISSUPERSET";
    case ComparisonOp::kExists:
      return "EXISTS";
  }
  return "?";
}

Constant Constant::String(std::string s) {
  Constant c;
  c.kind = Kind::kString;
  c.string_value = std::move(s);
  return c;
}

Constant Constant::Int(int64_t v) {
  Constant c;
  c.kind = Kind::kInt;
  c.int_value = v;
  return c;
}

Constant Constant::Float(double v) {
  Constant c;
  c.kind = Kind::kFloat;
  c.float_value = v;
  return c;
}

Constant Constant::Bool(bool v) {
  Constant c;
  c.kind = Kind::kBool;
  c.bool_value = v;
  return c;
}

Constant Constant::Hex(std::string bytes) {
  Constant c;
  c.kind = Kind::kHex;
  c.string_value = std::move(bytes);
  return c;
}

Constant Constant::Binary(std::string bytes) {
  Constant c;
  c.kind = Kind::kBinary;
  c.string_value = std::move(bytes);
  return c;
}

Constant Constant::Timestamp(std::string text, int64_t micros) {
  Constant c;
  c.kind = Kind::kTimestamp;
  c.string_value = std::move(text);
  c.timestamp_us = micros;
  return c;
}

bool operator==(const Constant& a, const Constant& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Constant::Kind::kString:
    case Constant::Kind::kHex:
    case Constant::Kind::kBinary:
      return a.string_value == b.string_value;
    case Constant::Kind::kInt:
      return a.int_value == b.int_value;
    case Constant::Kind::kFloat:
      return a.float_value == b.float_value;
    case Constant::Kind::kBool:
      return a.bool_value == b.bool_value;
    case Constant::Kind::kTimestamp:
      return a.timestamp_us == b.timestamp_us && a.string_value == b.string_value;
  }
  return false;
}

}  // namespace liaison::pattern
