#pragma once

// The one door between the stix module and the JSON library (simdjson). Everything else in stix
// works on the small types declared here.
//
//   Result<JsonTree> tree = ParseJson(text);          // strict: UTF-8, syntax, no duplicate keys
//   JsonValue root = tree->root();
//   if (auto id = root.Find("id"); id && id->is_string()) use(id->string_value());
//   std::string bytes = Minify(text);                 // whitespace removed, nothing else changed
//
// A JsonTree is a flat, read-only, pre-order array of nodes. It owns copies of its (unescaped)
// strings; JsonValue is a cheap handle that is valid while its tree lives. Thread-safe for
// concurrent reads; the free functions are pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace liaison::stix {

enum class JsonType : uint8_t { kNull, kBool, kInt64, kUint64, kDouble, kString, kArray, kObject };

class JsonTree;

// One node of a JsonTree (an implementation detail; use JsonValue).
struct JsonNode {
  JsonType type = JsonType::kNull;
  bool b = false;
  bool dup_below = false;  // this subtree holds an object with a repeated key
  bool dup_here = false;   // this object repeats a key (held in `str`)
  uint32_t end = 0;        // index one past this node's subtree
  uint32_t size = 0;
  uint32_t height = 0;
  std::string_view key;
  std::string_view str;  // string value; for an object with a repeated key: that key
  union {
    int64_t i;
    uint64_t u;
    double d;
  } num = {0};
};

class JsonValue {
 public:
  JsonType type() const { return node().type; }
  bool is_null() const { return type() == JsonType::kNull; }
  bool is_bool() const { return type() == JsonType::kBool; }
  bool is_string() const { return type() == JsonType::kString; }
  bool is_array() const { return type() == JsonType::kArray; }
  bool is_object() const { return type() == JsonType::kObject; }
  // A JSON number written as an integer literal that fits 64 bits.
  bool is_integer() const { return type() == JsonType::kInt64 || type() == JsonType::kUint64; }
  bool is_number() const { return is_integer() || type() == JsonType::kDouble; }

  // Preconditions: the matching is_*() holds.
  bool bool_value() const { return node().b; }
  std::string_view string_value() const { return node().str; }
  // For is_integer(): the value; kUint64 values above INT64_MAX saturate.
  int64_t int_value() const;
  // For is_number(): the value as a double (integers round to nearest).
  double number_value() const;

  // Members of an object or items of an array.
  size_t size() const { return node().size; }
  // For members of an object: the (unescaped) key.
  std::string_view key() const { return node().key; }
  // Nesting depth of containers in this subtree: 0 for scalars, 1 for [] or {}, ...
  uint32_t height() const { return node().height; }
  // True when some object of this subtree repeats a key; `*key` is then the first such key.
  bool FindDuplicateKey(std::string_view* key) const;

  // True when this object itself (not a nested one) repeats a key.
  bool RepeatsKey() const { return node().dup_here; }

  // Object member by key (linear scan; objects are small). Not found or not an object: false.
  bool Find(std::string_view key, JsonValue* out) const;
  bool Has(std::string_view key) const {
    JsonValue ignored;
    return Find(key, &ignored);
  }

  class Iterator {
   public:
    JsonValue operator*() const { return JsonValue(tree_, index_); }
    Iterator& operator++();
    bool operator!=(const Iterator& o) const { return index_ != o.index_; }
    bool operator==(const Iterator& o) const { return index_ == o.index_; }

   private:
    friend class JsonValue;
    Iterator(const JsonTree* tree, uint32_t index) : tree_(tree), index_(index) {}
    const JsonTree* tree_;
    uint32_t index_;
  };
  // Children (array items or object members, in document order); empty for scalars.
  Iterator begin() const;
  Iterator end() const;

  JsonValue() = default;

 private:
  friend class JsonTree;
  using Node = JsonNode;
  JsonValue(const JsonTree* tree, uint32_t index) : tree_(tree), index_(index) {}
  const Node& node() const;

  const JsonTree* tree_ = nullptr;
  uint32_t index_ = 0;
};

class JsonTree {
 public:
  JsonTree() = default;
  JsonTree(JsonTree&&) = default;
  JsonTree& operator=(JsonTree&&) = default;
  JsonTree(const JsonTree&) = delete;
  JsonTree& operator=(const JsonTree&) = delete;

  // Precondition: the tree came from ParseJson.
  JsonValue root() const { return JsonValue(this, 0); }

 private:
  friend class JsonValue;
  friend class JsonTreeBuilder;
  friend Result<JsonTree> ParseJson(std::string_view text);
  std::vector<JsonNode> nodes_;
  std::string strings_;  // reserved up front so views into it stay valid
};

// Nesting beyond this is refused by ParseJson whatever the caller's own limit (it bounds
// recursion).
inline constexpr size_t kMaxJsonNesting = 1024;

// Parses one complete JSON document strictly (RFC 8259 syntax, valid UTF-8, nesting up to
// kMaxJsonNesting). Repeated keys are not an error here: FindDuplicateKey() reports them, so a
// caller can reject one object of an envelope and keep the rest. Errors: kInvalidArgument with the
// reason ("invalid JSON: ..."); kResourceExhausted when nesting exceeds kMaxJsonNesting.
Result<JsonTree> ParseJson(std::string_view text);

// Removes insignificant whitespace from `valid_json` (which must have passed ParseJson); every
// other byte (number spelling, escapes, key order) is kept.
std::string Minify(std::string_view valid_json);

// For `valid_json` that is (after whitespace) an object or an array: the exact text of each
// member's value / each item, in document order. Empty for a scalar.
std::vector<std::string_view> RawChildren(std::string_view valid_json);

inline const JsonValue::Node& JsonValue::node() const { return tree_->nodes_[index_]; }
inline JsonValue::Iterator& JsonValue::Iterator::operator++() {
  index_ = tree_->nodes_[index_].end;
  return *this;
}
inline JsonValue::Iterator JsonValue::begin() const {
  const Node& n = node();
  return Iterator(tree_,
                  n.type == JsonType::kArray || n.type == JsonType::kObject ? index_ + 1 : n.end);
}
inline JsonValue::Iterator JsonValue::end() const { return Iterator(tree_, node().end); }

}  // namespace liaison::stix
