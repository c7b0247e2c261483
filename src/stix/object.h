#pragma once

// The STIX 2.1 object core: what the hub needs to know about an object to validate, store, version
// and filter it, without ever re-serialising it.
//
//   Result<ParsedEnvelope> env = ParseEnvelope(body, limits);   // TAXII envelope or STIX bundle
//   for (const ObjectResult& r : env->objects) {
//     if (r.ok()) store(r.info);             // r.info.json: minified bytes exactly as received
//     else report(r.id_hint, r.error);       // "indicator--…: property 'pattern': required"
//   }
//
// Thread-safe: all functions here are pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "stix/timestamp.h"

namespace liaison::stix {

enum class ObjectKind {
  kDomain,           // SDO: attack-pattern, campaign, ..., vulnerability
  kRelationship,     // SRO: relationship, sighting
  kCyberObservable,  // SCO: artifact, ..., x509-certificate
  kMeta,             // marking-definition, language-content, extension-definition
  kCustom,           // a well-formed custom object type (x-..., or any unknown valid type name)
};

// What the hub keeps of a validated object, besides its bytes.
struct ObjectInfo {
  std::string id;    // "indicator--<uuid>"
  std::string type;  // "indicator"
  ObjectKind kind = ObjectKind::kCustom;
  std::string
      spec_version;  // always "2.1": other versions are rejected (absent on an SCO means 2.1)
  std::optional<Timestamp> created;
  std::optional<Timestamp> modified;
  // The version identity TAXII uses (2.1 section 3.6): `modified`, else `created`, else none (the
  // store then uses date_added, as TAXII directs for objects that carry neither).
  std::optional<Timestamp> version() const { return modified ? modified : created; }
  std::string created_by_ref;
  std::vector<std::string> object_marking_refs;
  bool revoked = false;

  // Liaison's custom properties (issue 4), validated when present; see ValidateObject's rules.
  // "x_liaison_recipients": the named recipient organisations, in the order given: a non-empty
  // list of at most kMaxRecipients distinct identifiers of type identity.
  std::vector<std::string> recipients;
  // What the object is about: sighting_of_ref (sighting), object_refs (opinion, note, report,
  // grouping, observed-data, ...), as given.
  std::vector<std::string> refs;
  // "x_liaison_feedback": {"outcome": "seen" | "acted-on" | "false-positive", "note": string}
  // (note optional, at most kMaxFeedbackNoteBytes), only on sightings, opinions and notes. Empty
  // strings when absent.
  std::string feedback_outcome;
  std::string feedback_note;
  int64_t sighting_count = 0;  // a sighting's "count" when present
  // Carries "x_liaison_signature": an object of exactly the strings hub (an identity id), key,
  // alg and sig, none empty (crypto/signature.h checks the rest).
  bool has_signature = false;

  std::string json;  // the object minified, otherwise byte for byte as received
};

inline constexpr size_t kMaxRecipients = 256;
inline constexpr size_t kMaxFeedbackNoteBytes = 10000;

// Limits applied while parsing untrusted input.
struct ParseLimits {
  size_t max_depth = 64;        // nesting depth of JSON containers
  size_t max_objects = 100000;  // objects in one envelope/bundle
  size_t max_object_bytes = 16 << 20;
};

// One object of an envelope: either valid (`error.ok()`) with `info`, or rejected with an error
// that names the object, the property and the rule broken.
struct ObjectResult {
  ObjectInfo info;           // meaningful when error.ok()
  Status error;              // kInvalidArgument when the object is rejected
  std::string id_hint;       // the object's "id" as far as it could be read (for status failures)
  std::string version_hint;  // its "modified"/"created" text as far as it could be read
  bool ok() const { return error.ok(); }
};

struct ParsedEnvelope {
  std::vector<ObjectResult> objects;
};

// A non-fatal finding (e.g. a property deprecated in 2.1, an unknown property in a custom
// extension).
struct Warning {
  std::string object_id;
  std::string property;
  std::string message;
};

// Validates one object (its JSON text) against STIX 2.1: common properties, the type's required
// properties and value rules, reference types. Errors: kInvalidArgument naming object, property
// and rule. Custom properties and custom types are accepted when well-formed.
Result<ObjectInfo> ParseObject(std::string_view json, const ParseLimits& limits = {},
                               std::vector<Warning>* warnings = nullptr);

// Parses a TAXII 2.1 envelope ({"objects": [...]}; "more"/"next" ignored) or a STIX bundle
// ({"type":"bundle","id":"bundle--…","objects":[...]}) and validates each object independently.
// Errors (kInvalidArgument, kResourceExhausted beyond limits) only for a body that is not such a
// document at all; a bad object is reported in its ObjectResult, and the rest are kept.
Result<ParsedEnvelope> ParseEnvelope(std::string_view body, const ParseLimits& limits = {},
                                     std::vector<Warning>* warnings = nullptr);

// For tools (`liaison validate`): accepts a STIX bundle, a TAXII envelope, a single STIX object or
// a JSON array of STIX objects, and validates each object as ParseEnvelope does. A single object
// yields an envelope of one. Errors as ParseEnvelope.
Result<ParsedEnvelope> ParseDocument(std::string_view body, const ParseLimits& limits = {},
                                     std::vector<Warning>* warnings = nullptr);

// True for "type--<RFC 4122 UUID>" with a valid type name.
bool IsValidIdentifier(std::string_view id);
// True for a valid STIX type name: 3..250 chars of [a-z0-9-], no leading/trailing or double '-'.
bool IsValidTypeName(std::string_view type);

}  // namespace liaison::stix
