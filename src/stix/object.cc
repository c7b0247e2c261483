#include "stix/object.h"

#include <algorithm>

#include "stix/json_codec.h"
#include "stix/validator.h"

namespace liaison::stix {
namespace {

std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string Clip(std::string_view s, size_t n = 300) { return std::string(s.substr(0, n)); }

// Fills id_hint / version_hint from whatever of the object could be read.
void FillHints(JsonValue obj, ObjectResult* r) {
  JsonValue v;
  if (obj.Find("id", &v) && v.is_string()) r->id_hint = Clip(v.string_value());
  if (obj.Find("modified", &v) && v.is_string()) {
    r->version_hint = Clip(v.string_value(), 64);
  } else if (obj.Find("created", &v) && v.is_string()) {
    r->version_hint = Clip(v.string_value(), 64);
  }
}

// Validates one element of an envelope/bundle/array: `value` is its parsed form and `raw` its
// original text.
ObjectResult ValidateElement(JsonValue value, std::string_view raw, const ParseLimits& limits,
                             std::vector<Warning>* warnings) {
  ObjectResult r;
  if (!value.is_object()) {
    r.error = InvalidArgumentError("an element of 'objects' is not a JSON object");
    return r;
  }
  FillHints(value, &r);
  if (raw.size() > limits.max_object_bytes) {
    r.error = InvalidArgumentError((r.id_hint.empty() ? std::string("object") : r.id_hint) +
                                   ": object of " + std::to_string(raw.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(limits.max_object_bytes) + " bytes");
    return r;
  }
  Result<ObjectInfo> info = ValidateObject(value, limits, warnings);
  if (!info.ok()) {
    r.error = info.status();
    return r;
  }
  r.info = std::move(info).value();
  r.info.json = Minify(raw);
  return r;
}

// Validates each element of the array `objects` whose text is `raw_array`.
Result<ParsedEnvelope> ValidateArray(JsonValue objects, std::string_view raw_array,
                                     const ParseLimits& limits, std::vector<Warning>* warnings) {
  if (objects.size() > limits.max_objects) {
    return ResourceExhaustedError("the document holds " + std::to_string(objects.size()) +
                                  " objects; the limit is " + std::to_string(limits.max_objects));
  }
  std::vector<std::string_view> raws = RawChildren(raw_array);
  // Both views come from the same validated text, so they agree (checked all the same).
  if (raws.size() != objects.size()) return InternalError("JSON element scan disagrees with parse");
  ParsedEnvelope env;
  env.objects.reserve(objects.size());
  size_t i = 0;
  for (JsonValue obj : objects) {
    env.objects.push_back(ValidateElement(obj, raws[i], limits, warnings));
    ++i;
  }
  return env;
}

// Finds the raw text of `root`'s member `key` (root being a JSON object whose text is `raw`).
std::string_view RawMember(JsonValue root, std::string_view raw, std::string_view key) {
  std::vector<std::string_view> raws = RawChildren(raw);
  size_t i = 0;
  for (JsonValue m : root) {
    if (i >= raws.size()) break;
    if (m.key() == key) return raws[i];
    ++i;
  }
  return {};
}

// Shared by ParseEnvelope and ParseDocument once the body is parsed and is an object.
Result<ParsedEnvelope> ParseEnvelopeTree(JsonValue root, std::string_view body,
                                         const ParseLimits& limits,
                                         std::vector<Warning>* warnings) {
  if (root.RepeatsKey()) {
    return InvalidArgumentError("the envelope/bundle repeats a top-level key, which is ambiguous");
  }
  JsonValue type, objects;
  const bool has_objects = root.Find("objects", &objects);
  if (root.Find("type", &type)) {
    // STIX 2.1 section 8: a bundle has type "bundle", an id "bundle--<uuid>" and optional objects.
    if (!type.is_string() || type.string_value() != "bundle") {
      std::string t = type.is_string() ? Clip(type.string_value(), 64) : "?";
      return InvalidArgumentError(
          "expected a TAXII envelope or a STIX bundle, got a single STIX "
          "object of type '" +
          t + "'");
    }
    JsonValue id;
    if (!root.Find("id", &id) || !id.is_string() || !IsValidIdentifier(id.string_value()) ||
        id.string_value().substr(0, 8) != "bundle--") {
      return InvalidArgumentError(
          "the bundle's 'id' must be 'bundle--<UUID>' (STIX 2.1 section 8)");
    }
    JsonValue sv;
    if (root.Find("spec_version", &sv) && warnings != nullptr) {
      warnings->push_back(Warning{Clip(id.string_value()), "spec_version",
                                  "bundles have no spec_version in STIX 2.1 (section 8)"});
    }
  } else if (!has_objects) {
    // TAXII 2.1 section 3.7: an envelope has optional more, next and objects.
    for (JsonValue m : root) {
      if (m.key() != "more" && m.key() != "next") {
        return InvalidArgumentError(
            "expected a TAXII envelope or a STIX bundle: no 'objects' member and unexpected key '" +
            Clip(m.key(), 64) + "'");
      }
    }
    return ParsedEnvelope{};
  }
  if (!has_objects) return ParsedEnvelope{};
  if (!objects.is_array()) return InvalidArgumentError("'objects' must be a JSON array");
  return ValidateArray(objects, RawMember(root, body, "objects"), limits, warnings);
}

}  // namespace

bool IsValidTypeName(std::string_view type) {
  if (type.size() < 3 || type.size() > 250) return false;
  if (type.front() == '-' || type.back() == '-') return false;
  char prev = 0;
  for (char c : type) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && prev == '-')) return false;
    prev = c;
  }
  return true;
}

bool IsValidIdentifier(std::string_view id) {
  // STIX 2.1 section 2.9: type--UUID, the UUID RFC 4122 compliant (variant 10xx, versions 1-5),
  // written in lowercase as RFC 4122 section 3 prescribes for output.
  const size_t sep = id.find("--");
  if (sep == std::string_view::npos || !IsValidTypeName(id.substr(0, sep))) return false;
  std::string_view u = id.substr(sep + 2);
  if (u.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    const char c = u[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  const char version = u[14];
  const char variant = u[19];
  return version >= '1' && version <= '5' &&
         (variant == '8' || variant == '9' || variant == 'a' || variant == 'b');
}

Result<ObjectInfo> ParseObject(std::string_view json, const ParseLimits& limits,
                               std::vector<Warning>* warnings) {
  std::string_view raw = TrimSpace(json);
  if (raw.size() > limits.max_object_bytes) {
    return InvalidArgumentError("object of " + std::to_string(raw.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(limits.max_object_bytes) + " bytes");
  }
  ASSIGN_OR_RETURN(JsonTree tree, ParseJson(raw));
  ASSIGN_OR_RETURN(ObjectInfo info, ValidateObject(tree.root(), limits, warnings));
  info.json = Minify(raw);
  return info;
}

Result<ParsedEnvelope> ParseEnvelope(std::string_view body, const ParseLimits& limits,
                                     std::vector<Warning>* warnings) {
  ASSIGN_OR_RETURN(JsonTree tree, ParseJson(body));
  const JsonValue root = tree.root();
  if (!root.is_object()) {
    return InvalidArgumentError("expected a TAXII envelope or a STIX bundle (a JSON object)");
  }
  return ParseEnvelopeTree(root, body, limits, warnings);
}

Result<ParsedEnvelope> ParseDocument(std::string_view body, const ParseLimits& limits,
                                     std::vector<Warning>* warnings) {
  ASSIGN_OR_RETURN(JsonTree tree, ParseJson(body));
  const JsonValue root = tree.root();
  if (root.is_array()) return ValidateArray(root, body, limits, warnings);
  if (!root.is_object()) {
    return InvalidArgumentError(
        "expected a STIX bundle, a TAXII envelope, a STIX object or a JSON "
        "array of STIX objects");
  }
  JsonValue type;
  const bool single =
      root.Find("type", &type) && !(type.is_string() && type.string_value() == "bundle");
  if (!single) return ParseEnvelopeTree(root, body, limits, warnings);
  ParsedEnvelope env;
  env.objects.push_back(ValidateElement(root, TrimSpace(body), limits, warnings));
  return env;
}

}  // namespace liaison::stix
