#include "stix/json_codec.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "simdjson.h"

namespace liaison::stix {

class JsonTreeBuilder {
 public:
  explicit JsonTreeBuilder(JsonTree* tree) : tree_(tree) {}

  // Appends `e` and its subtree; returns the new node's index. Recursion depth is bounded by the
  // parser's max_depth (kMaxJsonNesting), which simdjson enforced while parsing.
  uint32_t Add(simdjson::dom::element e, std::string_view key) {
    auto& nodes = tree_->nodes_;
    const uint32_t index = static_cast<uint32_t>(nodes.size());
    nodes.emplace_back();
    nodes[index].key = key;
    switch (e.type()) {
      case simdjson::dom::element_type::ARRAY: {
        simdjson::dom::array arr = e.get_array().value_unsafe();
        uint32_t count = 0, height = 0;
        bool dup = false;
        for (simdjson::dom::element item : arr) {
          uint32_t child = Add(item, {});
          height = std::max(height, nodes[child].height);
          dup = dup || nodes[child].dup_below;
          ++count;
        }
        JsonNode& n = nodes[index];
        n.type = JsonType::kArray;
        n.size = count;
        n.height = height + 1;
        n.dup_below = dup;
        break;
      }
      case simdjson::dom::element_type::OBJECT: {
        simdjson::dom::object obj = e.get_object().value_unsafe();
        uint32_t count = 0, height = 0;
        bool dup = false;
        const size_t keys_start = keys_.size();
        for (simdjson::dom::key_value_pair field : obj) {
          std::string_view k = Copy(field.key);
          keys_.push_back(k);
          uint32_t child = Add(field.value, k);
          height = std::max(height, nodes[child].height);
          dup = dup || nodes[child].dup_below;
          ++count;
        }
        bool repeats = false;
        std::string_view repeated = RepeatedKey(keys_start, &repeats);
        keys_.resize(keys_start);
        JsonNode& n = nodes[index];
        n.type = JsonType::kObject;
        n.size = count;
        n.height = height + 1;
        n.dup_below = dup || repeats;
        n.dup_here = repeats;
        n.str = repeated;
        break;
      }
      case simdjson::dom::element_type::INT64:
        nodes[index].type = JsonType::kInt64;
        nodes[index].num.i = e.get_int64().value_unsafe();
        break;
      case simdjson::dom::element_type::UINT64:
        nodes[index].type = JsonType::kUint64;
        nodes[index].num.u = e.get_uint64().value_unsafe();
        break;
      case simdjson::dom::element_type::DOUBLE:
        nodes[index].type = JsonType::kDouble;
        nodes[index].num.d = e.get_double().value_unsafe();
        break;
      case simdjson::dom::element_type::STRING:
        nodes[index].type = JsonType::kString;
        nodes[index].str = Copy(e.get_string().value_unsafe());
        break;
      case simdjson::dom::element_type::BOOL:
        nodes[index].type = JsonType::kBool;
        nodes[index].b = e.get_bool().value_unsafe();
        break;
      case simdjson::dom::element_type::NULL_VALUE:
        nodes[index].type = JsonType::kNull;
        break;
    }
    nodes[index].end = static_cast<uint32_t>(nodes.size());
    return index;
  }

 private:
  // The arena was reserved for the whole input (unescaped text is never longer than escaped), so
  // appending never reallocates and earlier views stay valid.
  std::string_view Copy(std::string_view s) {
    std::string& arena = tree_->strings_;
    LIAISON_CHECK(arena.size() + s.size() <= arena.capacity());
    const size_t at = arena.size();
    arena.append(s);
    return std::string_view(arena.data() + at, s.size());
  }

  std::string_view RepeatedKey(size_t start, bool* repeats) {
    const size_t n = keys_.size() - start;
    if (n < 2) return {};
    if (n <= 24) {
      for (size_t i = start; i < keys_.size(); ++i) {
        for (size_t j = i + 1; j < keys_.size(); ++j) {
          if (keys_[i] == keys_[j]) {
            *repeats = true;
            return keys_[i];
          }
        }
      }
      return {};
    }
    std::vector<std::string_view> sorted(keys_.begin() + static_cast<ptrdiff_t>(start),
                                         keys_.end());
    std::sort(sorted.begin(), sorted.end());
    auto it = std::adjacent_find(sorted.begin(), sorted.end());
    if (it == sorted.end()) return {};
    *repeats = true;
    return *it;
  }

  JsonTree* tree_;
  std::vector<std::string_view> keys_;  // keys of the objects being built, innermost last
};

int64_t JsonValue::int_value() const {
  const Node& n = node();
  if (n.type == JsonType::kUint64) {
    return n.num.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(n.num.u);
  }
  return n.num.i;
}

double JsonValue::number_value() const {
  const Node& n = node();
  switch (n.type) {
    case JsonType::kInt64:
      return static_cast<double>(n.num.i);
    case JsonType::kUint64:
      return static_cast<double>(n.num.u);
    default:
      return n.num.d;
  }
}

bool JsonValue::FindDuplicateKey(std::string_view* key) const {
  const Node& n = node();
  if (!n.dup_below) return false;
  for (uint32_t i = index_; i < n.end; ++i) {
    const Node& c = tree_->nodes_[i];
    if (c.dup_here) {
      *key = c.str;
      return true;
    }
  }
  return false;
}

bool JsonValue::Find(std::string_view key, JsonValue* out) const {
  if (!is_object()) return false;
  for (JsonValue member : *this) {
    if (member.key() == key) {
      *out = member;
      return true;
    }
  }
  return false;
}

Result<JsonTree> ParseJson(std::string_view text) {
  // A parser per thread, reused while inputs are small, keeps allocation off the ingest path; a big
  // input gets its own parser so one huge body does not pin memory for the thread's lifetime.
  constexpr size_t kReuseBelow = 1 << 20;
  thread_local simdjson::dom::parser reused(kReuseBelow);
  std::unique_ptr<simdjson::dom::parser> own;
  simdjson::dom::parser* parser = &reused;
  if (text.size() >= kReuseBelow) {
    own = std::make_unique<simdjson::dom::parser>(text.size() + 1);
    parser = own.get();
  }
  if (parser->max_depth() != kMaxJsonNesting || parser->capacity() < text.size()) {
    if (parser->allocate(std::max(parser->capacity(), text.size()), kMaxJsonNesting) !=
        simdjson::SUCCESS) {
      return ResourceExhaustedError("cannot allocate memory to parse the JSON document");
    }
  }
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  simdjson::error_code err = parser->parse(padded).get(root);
  if (err == simdjson::DEPTH_ERROR) {
    return ResourceExhaustedError("JSON nested deeper than " + std::to_string(kMaxJsonNesting) +
                                  " levels");
  }
  if (err != simdjson::SUCCESS) {
    if (err == simdjson::UTF8_ERROR) return InvalidArgumentError("invalid JSON: invalid UTF-8");
    if (err == simdjson::EMPTY) return InvalidArgumentError("invalid JSON: empty document");
    return InvalidArgumentError(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  JsonTree tree;
  // Beyond the small-string buffer, so the arena lives on the heap and moving the tree keeps the
  // views into it valid.
  tree.strings_.reserve(std::max<size_t>(text.size() + 1, 64));
  tree.nodes_.reserve(text.size() / 48 + 4);
  JsonTreeBuilder builder(&tree);
  builder.Add(root, {});
  return tree;
}

std::string Minify(std::string_view valid_json) {
  std::string out(valid_json.size() + simdjson::SIMDJSON_PADDING, '\0');
  size_t n = 0;
  if (simdjson::minify(valid_json.data(), valid_json.size(), out.data(), n) != simdjson::SUCCESS) {
    // Only for input that did not pass ParseJson; fall back to the text itself.
    return std::string(valid_json);
  }
  out.resize(n);
  return out;
}

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsJsonSpace(s[i])) ++i;
  return i;
}

// `s[i]` is the opening quote; returns the index after the closing quote.
size_t SkipString(std::string_view s, size_t i) {
  ++i;
  while (i < s.size()) {
    // Most of a STIX document is string content: jump to the next quote, then look back for an
    // odd run of backslashes (an escaped quote).
    const void* q = std::memchr(s.data() + i, '"', s.size() - i);
    if (q == nullptr) return s.size();
    const size_t j = static_cast<size_t>(static_cast<const char*>(q) - s.data());
    size_t k = j;
    while (k > i && s[k - 1] == '\\') --k;
    if ((j - k) % 2 == 0) return j + 1;
    i = j + 1;
  }
  return s.size();
}

// Returns the index after the value starting at `i` (valid JSON assumed, bounds kept anyway).
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return s.size();
  const char c = s[i];
  if (c == '"') return SkipString(s, i);
  if (c == '{' || c == '[') {
    size_t depth = 0;
    while (i < s.size()) {
      const char d = s[i];
      if (d == '"') {
        i = SkipString(s, i);
        continue;
      }
      if (d == '{' || d == '[') ++depth;
      if (d == '}' || d == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return s.size();
  }
  while (i < s.size() && s[i] != ',' && s[i] != ']' && s[i] != '}' && !IsJsonSpace(s[i])) ++i;
  return i;
}

}  // namespace

std::vector<std::string_view> RawChildren(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = SkipSpace(s, 0);
  if (i >= s.size() || (s[i] != '{' && s[i] != '[')) return out;
  const bool object = s[i] == '{';
  ++i;
  while (true) {
    i = SkipSpace(s, i);
    if (i >= s.size() || s[i] == '}' || s[i] == ']') break;
    if (object) {
      i = SkipString(s, i);
      i = SkipSpace(s, i);
      if (i < s.size() && s[i] == ':') ++i;
      i = SkipSpace(s, i);
    }
    const size_t start = i;
    i = SkipValue(s, i);
    out.push_back(s.substr(start, i - start));
    i = SkipSpace(s, i);
    if (i < s.size() && s[i] == ',') ++i;
  }
  return out;
}

}  // namespace liaison::stix
