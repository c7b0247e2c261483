#include "taxii/indicator_pattern.h"

#include <string>
#include <string_view>

#include "pattern/parser.h"
#include "stix/json_codec.h"

namespace liaison::taxii {
namespace {

Status PatternError(const stix::ObjectInfo& info, std::string_view why) {
  std::string message = info.id;
  message += ": property 'pattern': ";
  message += why;
  return InvalidArgumentError(std::move(message));
}

}  // namespace

Status CheckIndicatorPattern(const stix::ObjectInfo& info) {
  if (info.type != "indicator") return Status::Ok();
  // info.json passed the STIX module's validation, so it parses; a failure here is a bug there,
  // reported as the object's failure rather than trusted.
  Result<stix::JsonTree> tree = stix::ParseJson(info.json);
  if (!tree.ok()) return PatternError(info, "the object could not be re-read");
  stix::JsonValue root = tree->root();
  stix::JsonValue pattern_type;
  if (root.Find("pattern_type", &pattern_type)) {
    // Other pattern languages (STIX 2.1 section 10.14, pattern-type-ov) are opaque to the hub.
    if (!pattern_type.is_string() || pattern_type.string_value() != "stix") return Status::Ok();
  } else if (info.spec_version != "2.0") {
    // A 2.1 indicator without pattern_type was already refused by the STIX module.
    return Status::Ok();
  }
  // Here: pattern_type "stix", or STIX 2.0 content, whose patterns are always STIX Patterning.
  stix::JsonValue pattern;
  if (!root.Find("pattern", &pattern) || !pattern.is_string()) {
    return PatternError(info, "required, and must be a string");
  }
  pattern::ParseOptions options;
  options.version =
      info.spec_version == "2.0" ? pattern::StixVersion::k20 : pattern::StixVersion::k21;
  Result<pattern::Pattern> parsed = pattern::Parse(pattern.string_value(), options);
  if (!parsed.ok()) {
    return PatternError(info, "not a valid STIX pattern: " + parsed.status().message());
  }
  return Status::Ok();
}

}  // namespace liaison::taxii
