#include "pattern/observation.h"

#include <simdjson.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "stix/timestamp.h"

namespace liaison::pattern {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

Status DepthError(size_t max_depth) {
  return ResourceExhaustedError("JSON nested deeper than " + std::to_string(max_depth) + " levels");
}

Result<Value> Convert(element e, size_t depth, size_t max_depth) {
  if (depth > max_depth) return DepthError(max_depth);
  switch (e.type()) {
    case element_type::NULL_VALUE:
      return Value();
    case element_type::BOOL:
      return Value(bool(e.get_bool().value_unsafe()));
    case element_type::INT64:
      return Value(int64_t{e.get_int64().value_unsafe()});
    case element_type::UINT64:
      // Beyond int64: kept as a double, like any JSON number that int64 cannot hold.
      return Value(static_cast<double>(e.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return Value(double{e.get_double().value_unsafe()});
    case element_type::STRING:
      return Value(std::string(e.get_string().value_unsafe()));
    case element_type::ARRAY: {
      Value::List list;
      simdjson::dom::array array = e.get_array().value_unsafe();
      for (element child : array) {
        ASSIGN_OR_RETURN(Value v, Convert(child, depth + 1, max_depth));
        list.push_back(std::move(v));
      }
      return Value(std::move(list));
    }
    case element_type::OBJECT: {
      Value::Map map;
      simdjson::dom::object object = e.get_object().value_unsafe();
      for (auto field : object) {
        ASSIGN_OR_RETURN(Value v, Convert(field.value, depth + 1, max_depth));
        map.emplace_back(std::string(field.key), std::move(v));
      }
      return Value::FromMembers(std::move(map));
    }
  }
  return Value();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Appends every reference (`*_ref` string, `*_refs` list of strings) found anywhere in `v`.
void CollectRefs(const Value& v, std::vector<std::string>* out, size_t depth = 0) {
  if (depth > 64) return;  // the tree was depth-checked on load; belt and braces
  if (v.is_map()) {
    for (const auto& [key, child] : v.as_map()) {
      if (EndsWith(key, "_ref") && child.is_string()) {
        out->push_back(child.as_string());
      } else if (EndsWith(key, "_refs") && child.is_list()) {
        for (const Value& r : child.as_list()) {
          if (r.is_string()) out->push_back(r.as_string());
        }
      } else {
        CollectRefs(child, out, depth + 1);
      }
    }
  } else if (v.is_list()) {
    for (const Value& child : v.as_list()) CollectRefs(child, out, depth + 1);
  }
}

std::string_view StringOr(const Value& map, std::string_view key, std::string_view fallback) {
  const Value* v = map.Find(key);
  return v && v->is_string() ? std::string_view(v->as_string()) : fallback;
}

Result<int64_t> RequiredTimestamp(const Value& od, std::string_view key, std::string_view id) {
  const Value* v = od.Find(key);
  if (v == nullptr || !v->is_string()) {
    return InvalidArgumentError("observed-data '" + std::string(id) + "': property '" +
                                std::string(key) + "': required timestamp string");
  }
  Result<stix::Timestamp> ts = stix::ParseTimestamp(v->as_string());
  if (!ts.ok()) {
    return InvalidArgumentError("observed-data '" + std::string(id) + "': property '" +
                                std::string(key) + "': " + ts.status().message());
  }
  return ts->micros;
}

class Loader {
 public:
  explicit Loader(const LoadOptions& options) : options_(options) {}

  Result<std::vector<Observation>> Load(std::string_view json) {
    thread_local simdjson::dom::parser parser;
    element root;
    simdjson::padded_string padded(json);
    if (auto error = parser.parse(padded).get(root); error) {
      return InvalidArgumentError(std::string("observations are not valid JSON: ") +
                                  simdjson::error_message(error));
    }
    std::vector<element> objects;
    if (root.type() == element_type::ARRAY) {
      simdjson::dom::array array = root.get_array().value_unsafe();
      for (element e : array) objects.push_back(e);
    } else if (root.type() == element_type::OBJECT) {
      auto obj = root.get_object().value_unsafe();
      std::string_view type;
      element list;
      if (obj["type"].get(type) == simdjson::SUCCESS && type == "observed-data") {
        objects.push_back(root);
      } else if (obj["objects"].get(list) == simdjson::SUCCESS &&
                 list.type() == element_type::ARRAY) {
        simdjson::dom::array array = list.get_array().value_unsafe();
        for (element e : array) objects.push_back(e);
      } else {
        return InvalidArgumentError(
            "observations must be a JSON array of STIX objects, a bundle, an envelope or one "
            "observed-data object");
      }
    } else {
      return InvalidArgumentError(
          "observations must be a JSON array of STIX objects, a bundle, an envelope or one "
          "observed-data object");
    }
    if (objects.size() > options_.max_objects) {
      return ResourceExhaustedError("more than " + std::to_string(options_.max_objects) +
                                    " objects in one document");
    }

    // Index every object by id so object_refs and *_ref properties can be resolved.
    std::vector<element> observed;
    for (element e : objects) {
      if (e.type() != element_type::OBJECT) {
        return InvalidArgumentError("every entry of the objects list must be a JSON object");
      }
      auto obj = e.get_object().value_unsafe();
      std::string_view type, id;
      if (obj["type"].get(type) != simdjson::SUCCESS) type = {};
      if (obj["id"].get(id) != simdjson::SUCCESS) id = {};
      if (type == "observed-data") observed.push_back(e);
      if (!id.empty()) by_id_.emplace(id, e);
    }

    std::vector<Observation> out;
    out.reserve(observed.size());
    for (element e : observed) {
      ASSIGN_OR_RETURN(Observation o, LoadOne(e));
      out.push_back(std::move(o));
    }
    return out;
  }

 private:
  Result<Observation> LoadOne(element e) {
    ASSIGN_OR_RETURN(Value od, Convert(e, 0, options_.max_depth));
    Observation o;
    o.id = std::string(StringOr(od, "id", ""));
    const std::string shown = o.id.empty() ? std::string("(no id)") : o.id;
    ASSIGN_OR_RETURN(o.first_observed_us, RequiredTimestamp(od, "first_observed", shown));
    ASSIGN_OR_RETURN(o.last_observed_us, RequiredTimestamp(od, "last_observed", shown));
    if (o.last_observed_us < o.first_observed_us) {
      return InvalidArgumentError("observed-data '" + shown +
                                  "': last_observed is before first_observed");
    }
    const Value* n = od.Find("number_observed");
    if (n == nullptr || !n->is_int() || n->as_int() < 1) {
      return InvalidArgumentError("observed-data '" + shown +
                                  "': property 'number_observed': required integer >= 1");
    }
    o.number_observed = n->as_int();

    const Value* embedded = od.Find("objects");
    const Value* refs = od.Find("object_refs");
    if (embedded != nullptr) {
      // STIX 2.0 (and deprecated 2.1): a dictionary of objects keyed "0", "1", ...; references
      // inside them name those keys. Used whenever present (the 2.0 model), object_refs ignored.
      if (!embedded->is_map()) {
        return InvalidArgumentError("observed-data '" + shown +
                                    "': property 'objects': must be a dictionary of objects");
      }
      for (const auto& [key, value] : embedded->as_map()) {
        const Value* type = value.Find("type");
        if (!value.is_map() || type == nullptr || !type->is_string()) {
          return InvalidArgumentError("observed-data '" + shown + "': object '" + key +
                                      "': required property 'type'");
        }
        o.objects.push_back(ObservedObject{key, type->as_string(), value});
      }
    } else if (refs != nullptr) {
      // STIX 2.1: object_refs name objects of the same document; add every object reachable from
      // them through *_ref(s) properties (breadth first, each once).
      if (!refs->is_list()) {
        return InvalidArgumentError("observed-data '" + shown +
                                    "': property 'object_refs': must be a list of identifiers");
      }
      std::vector<std::string> queue;
      for (const Value& r : refs->as_list()) {
        if (r.is_string()) queue.push_back(r.as_string());
      }
      std::unordered_set<std::string> seen;
      for (size_t i = 0; i < queue.size(); ++i) {
        if (!seen.insert(queue[i]).second) continue;
        auto it = by_id_.find(queue[i]);
        if (it == by_id_.end()) continue;  // absent from the document: ignored
        if (seen.size() > options_.max_objects) {
          return ResourceExhaustedError("observed-data '" + shown + "' refers to more than " +
                                        std::to_string(options_.max_objects) + " objects");
        }
        ASSIGN_OR_RETURN(Value value, Convert(it->second, 0, options_.max_depth));
        const Value* type = value.Find("type");
        if (type == nullptr || !type->is_string()) {
          return InvalidArgumentError("object '" + queue[i] + "': required property 'type'");
        }
        std::string type_name = type->as_string();
        CollectRefs(value, &queue);
        o.objects.push_back(ObservedObject{queue[i], std::move(type_name), std::move(value)});
      }
    } else {
      return InvalidArgumentError("observed-data '" + shown +
                                  "': needs 'object_refs' (STIX 2.1) or 'objects' (STIX 2.0)");
    }
    std::sort(o.objects.begin(), o.objects.end(),
              [](const ObservedObject& a, const ObservedObject& b) { return a.key < b.key; });
    return o;
  }

  const LoadOptions& options_;
  std::unordered_map<std::string_view, element> by_id_;
};

}  // namespace

Value Value::FromMembers(Map m) {
  // Stable sort keeps the input order among equal keys, so the last duplicate can win.
  std::stable_sort(m.begin(), m.end(),
                   [](const Member& a, const Member& b) { return a.first < b.first; });
  Map unique;
  unique.reserve(m.size());
  for (auto& member : m) {
    if (!unique.empty() && unique.back().first == member.first) {
      unique.back().second = std::move(member.second);
    } else {
      unique.push_back(std::move(member));
    }
  }
  return Value(MapTag{}, std::move(unique));
}

const Value* Value::Find(std::string_view key) const {
  if (!is_map()) return nullptr;
  const Map& m = as_map();
  auto it = std::lower_bound(m.begin(), m.end(), key,
                             [](const Member& a, std::string_view k) { return a.first < k; });
  if (it == m.end() || it->first != key) return nullptr;
  return &it->second;
}

const ObservedObject* Observation::FindObject(std::string_view key) const {
  auto it = std::lower_bound(objects.begin(), objects.end(), key,
                             [](const ObservedObject& a, std::string_view k) { return a.key < k; });
  if (it == objects.end() || it->key != key) return nullptr;
  return &*it;
}

Result<std::vector<Observation>> LoadObservations(std::string_view json,
                                                  const LoadOptions& options) {
  return Loader(options).Load(json);
}

Result<std::vector<Observation>> LoadObservationLine(std::string_view line,
                                                     const LoadOptions& options) {
  size_t i = line.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return std::vector<Observation>{};
  return Loader(options).Load(line);
}

Result<Value> ParseJsonValue(std::string_view json, size_t max_depth) {
  thread_local simdjson::dom::parser parser;
  element root;
  simdjson::padded_string padded(json);
  if (auto error = parser.parse(padded).get(root); error) {
    return InvalidArgumentError(std::string("invalid JSON: ") + simdjson::error_message(error));
  }
  return Convert(root, 0, max_depth);
}

}  // namespace liaison::pattern
