#pragma once

// STIX 2.1 validation of one parsed object (the rules are listed on ParseObject in object.h).
// Internal to the stix module: callers use ParseObject / ParseEnvelope.

#include <optional>
#include <string_view>
#include <vector>

#include "stix/json_codec.h"
#include "stix/object.h"

namespace liaison::stix {

// Validates `root` as one STIX 2.1 object. Returns every ObjectInfo field except `json`.
// Errors: kInvalidArgument "<id>: property '<name>' <rule>". Pure; thread-safe.
Result<ObjectInfo> ValidateObject(JsonValue root, const ParseLimits& limits,
                                  std::vector<Warning>* warnings);

// The kind of a type the specification defines; nullopt for custom types (and for "bundle").
std::optional<ObjectKind> KindOfSpecType(std::string_view type);

}  // namespace liaison::stix
