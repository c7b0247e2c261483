#pragma once

// The observations a pattern is matched against: STIX observed-data objects with the cyber
// observable objects (SCOs) they observed, loaded from JSON into a compact value tree.
//
//   Result<std::vector<Observation>> obs = LoadObservations(bundle_json);
//   for (const Observation& o : *obs)
//     for (const ObservedObject& so : o.objects)
//       if (so.type == "ipv4-addr")
//         if (const Value* v = so.value.Find("value"); v && v->is_string()) use(v->as_string());
//
// Both shapes the spec allows are read (STIX 2.1 section 4.1 observed-data; 2.0 Part 4):
//  - 2.1: observed-data with `object_refs` naming SCOs (and SROs) present in the same document;
//  - 2.0 and deprecated 2.1: observed-data with an embedded `objects` dictionary keyed "0", "1", …
//    whose `*_ref(s)` properties name those keys.
// An Observation holds every object it refers to, *plus every SCO reachable from them through
// `_ref`/`_refs` properties* (so [ipv4-addr:value = '…'] matches the address a network-traffic's
// src_ref names even when object_refs lists only the network-traffic). Referenced objects absent
// from the document are simply missing (dereferencing them finds nothing).
//
// Thread-safety: Observation and Value are plain immutable-after-load values; concurrent reads are
// safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"
#include "pattern/ast.h"

namespace liaison::pattern {

// A JSON value. Maps keep their members sorted by key (duplicate keys: the last one wins) so Find()
// is a binary search; lists keep their order. Numbers are kInt when the JSON number is an integer
// that fits int64, else kDouble. Cheap to walk: no allocation on lookup.
class Value {
 public:
  enum class Type { kNull, kBool, kInt, kDouble, kString, kList, kMap };
  using List = std::vector<Value>;
  using Member = std::pair<std::string, Value>;
  using Map = std::vector<Member>;  // sorted by .first, unique keys

  Value() = default;  // null
  explicit Value(bool b) : v_(b) {}
  explicit Value(int64_t i) : v_(i) {}
  explicit Value(double d) : v_(d) {}
  explicit Value(std::string s) : v_(std::move(s)) {}
  explicit Value(const char* s) : v_(std::string(s)) {}
  explicit Value(List l) : v_(std::move(l)) {}
  // Sorts `m` by key and drops earlier duplicates.
  static Value FromMembers(Map m);

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_int() const { return type() == Type::kInt; }
  bool is_double() const { return type() == Type::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return type() == Type::kString; }
  bool is_list() const { return type() == Type::kList; }
  bool is_map() const { return type() == Type::kMap; }

  // Preconditions: the matching is_*() holds.
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_double() const { return std::get<double>(v_); }
  double as_number() const { return is_int() ? static_cast<double>(as_int()) : as_double(); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const List& as_list() const { return std::get<List>(v_); }
  const Map& as_map() const { return std::get<Map>(v_); }

  // The member `key` of a map, or nullptr (also when this is not a map).
  const Value* Find(std::string_view key) const;

  friend bool operator==(const Value&, const Value&) = default;

 private:
  struct MapTag {};
  Value(MapTag, Map m) : v_(std::move(m)) {}
  std::variant<std::monostate, bool, int64_t, double, std::string, List, Map> v_;
};

// One cyber observable object of an observation.
struct ObservedObject {
  // How `_ref` values name this object: its `id` (2.1 object_refs form) or its dictionary key
  // ("0", "1", … in the embedded `objects` form).
  std::string key;
  std::string type;  // the object's "type" property ("file", "ipv4-addr", …)
  Value value;       // the whole object (a kMap), including "type" and "id" when present
};

// One observed-data object, ready for matching.
struct Observation {
  std::string id;                 // "observed-data--…" ("" when the input had none)
  int64_t first_observed_us = 0;  // microseconds since the Unix epoch
  int64_t last_observed_us = 0;   // >= first_observed_us
  int64_t number_observed = 1;    // >= 1
  // The referenced objects and those reachable from them by references, sorted by `key` (unique).
  std::vector<ObservedObject> objects;

  // The object whose key is `key` (binary search), or nullptr.
  const ObservedObject* FindObject(std::string_view key) const;
};

struct LoadOptions {
  // The observation model. Both shapes are accepted in both versions (2.1 deprecates but still
  // allows the embedded form); when an observed-data has both, the embedded `objects` are used
  // (they are self-contained) and `object_refs` is ignored.
  StixVersion version = StixVersion::k21;
  size_t max_depth = 64;           // JSON nesting (kResourceExhausted beyond)
  size_t max_objects = 1'000'000;  // objects in one document (kResourceExhausted beyond)
};

// Loads every observed-data object of `json`, which may be:
//  - a JSON array of STIX objects (observed-data and the SCOs they refer to, in any order),
//  - a STIX bundle ({"type":"bundle","objects":[…]}) or a TAXII envelope ({"objects":[…]}),
//  - a single observed-data object (its SCOs then must be embedded in `objects`).
// Observations come out in document order. Objects other than observed-data are only used as
// reference targets. Errors (kInvalidArgument, message naming the object): invalid JSON; an
// observed-data missing first_observed/last_observed/number_observed or with an invalid timestamp,
// last_observed before first_observed, number_observed < 1; a referenced object without a "type".
// An object_refs entry whose object is absent is ignored (the observation may still match on the
// others). Limits: kResourceExhausted.
Result<std::vector<Observation>> LoadObservations(std::string_view json,
                                                  const LoadOptions& options = {});

// Loads one line of a JSONL stream: one observed-data object (with embedded `objects`) or one
// bundle / array (then every observed-data in it). Same errors as LoadObservations; an empty or
// whitespace-only line yields an empty vector.
Result<std::vector<Observation>> LoadObservationLine(std::string_view line,
                                                     const LoadOptions& options = {});

// Converts a JSON text to a Value (same number rules). Errors: kInvalidArgument, kResourceExhausted
// past `max_depth`.
Result<Value> ParseJsonValue(std::string_view json, size_t max_depth = 64);

}  // namespace liaison::pattern
