// Check(): semantic validation of a parsed pattern against the standard cyber observable objects
// of STIX 2.1 section 6 (and the STIX 2.0 Part 4 properties that 2.1 renamed or dropped, so 2.0
// patterns do not draw spurious warnings).

#include <string_view>

#include "pattern/ip_address.h"
#include "pattern/parser.h"

namespace liaison::pattern {
namespace {

enum class PropType {
  kString,
  kInt,
  kBool,
  kTimestamp,
  kHexBinary,  // *_hex
  kBase64,     // *_bin
  kIp,         // ipv4-addr / ipv6-addr value
  kRef,        // *_ref
  kRefList,    // *_refs
  kStringList,
  kDict,      // hashes, extensions, additional fields, ...
  kDictList,  // list of dictionaries (windows registry values, email body parts)
};

struct Prop {
  std::string_view name;
  PropType type;
};

struct ScoType {
  std::string_view name;
  std::initializer_list<Prop> props;
  std::initializer_list<std::string_view> extensions;
};

using P = PropType;

// STIX 2.1 section 6 (cyber-observable objects) and 2.0 Part 4.
const ScoType kScoTypes[] = {
    {"artifact",
     {{"mime_type", P::kString},
      {"payload_bin", P::kBase64},
      {"url", P::kString},
      {"hashes", P::kDict},
      {"encryption_algorithm", P::kString},
      {"decryption_key", P::kString}},
     {}},
    {"autonomous-system", {{"number", P::kInt}, {"name", P::kString}, {"rir", P::kString}}, {}},
    {"directory",
     {{"path", P::kString},
      {"path_enc", P::kString},
      {"ctime", P::kTimestamp},
      {"mtime", P::kTimestamp},
      {"atime", P::kTimestamp},
      {"created", P::kTimestamp},
      {"modified", P::kTimestamp},
      {"accessed", P::kTimestamp},
      {"contains_refs", P::kRefList}},
     {}},
    {"domain-name", {{"value", P::kString}, {"resolves_to_refs", P::kRefList}}, {}},
    {"email-addr",
     {{"value", P::kString}, {"display_name", P::kString}, {"belongs_to_ref", P::kRef}},
     {}},
    {"email-message",
     {{"is_multipart", P::kBool},
      {"date", P::kTimestamp},
      {"content_type", P::kString},
      {"from_ref", P::kRef},
      {"sender_ref", P::kRef},
      {"to_refs", P::kRefList},
      {"cc_refs", P::kRefList},
      {"bcc_refs", P::kRefList},
      {"message_id", P::kString},
      {"subject", P::kString},
      {"received_lines", P::kStringList},
      {"additional_header_fields", P::kDict},
      {"body", P::kString},
      {"body_multipart", P::kDictList},
      {"raw_email_ref", P::kRef}},
     {}},
    {"file",
     {{"hashes", P::kDict},
      {"size", P::kInt},
      {"name", P::kString},
      {"name_enc", P::kString},
      {"magic_number_hex", P::kHexBinary},
      {"mime_type", P::kString},
      {"ctime", P::kTimestamp},
      {"mtime", P::kTimestamp},
      {"atime", P::kTimestamp},
      {"created", P::kTimestamp},
      {"modified", P::kTimestamp},
      {"accessed", P::kTimestamp},
      {"parent_directory_ref", P::kRef},
      {"contains_refs", P::kRefList},
      {"content_ref", P::kRef},
      {"is_encrypted", P::kBool},
      {"encryption_algorithm", P::kString},
      {"decryption_key", P::kString}},
     {"archive-ext", "ntfs-ext", "pdf-ext", "raster-image-ext", "windows-pebinary-ext"}},
    {"ipv4-addr",
     {{"value", P::kIp}, {"resolves_to_refs", P::kRefList}, {"belongs_to_refs", P::kRefList}},
     {}},
    {"ipv6-addr",
     {{"value", P::kIp}, {"resolves_to_refs", P::kRefList}, {"belongs_to_refs", P::kRefList}},
     {}},
    {"mac-addr", {{"value", P::kString}}, {}},
    {"mutex", {{"name", P::kString}}, {}},
    {"network-traffic",
     {{"start", P::kTimestamp},
      {"end", P::kTimestamp},
      {"is_active", P::kBool},
      {"src_ref", P::kRef},
      {"dst_ref", P::kRef},
      {"src_port", P::kInt},
      {"dst_port", P::kInt},
      {"protocols", P::kStringList},
      {"src_byte_count", P::kInt},
      {"dst_byte_count", P::kInt},
      {"src_packets", P::kInt},
      {"dst_packets", P::kInt},
      {"ipfix", P::kDict},
      {"src_payload_ref", P::kRef},
      {"dst_payload_ref", P::kRef},
      {"encapsulates_refs", P::kRefList},
      {"encapsulated_by_ref", P::kRef}},
     {"http-request-ext", "icmp-ext", "socket-ext", "tcp-ext"}},
    {"process",
     {{"is_hidden", P::kBool},
      {"pid", P::kInt},
      {"name", P::kString},
      {"created", P::kTimestamp},
      {"created_time", P::kTimestamp},
      {"cwd", P::kString},
      {"arguments", P::kStringList},
      {"command_line", P::kString},
      {"environment_variables", P::kDict},
      {"opened_connection_refs", P::kRefList},
      {"creator_user_ref", P::kRef},
      {"binary_ref", P::kRef},
      {"image_ref", P::kRef},
      {"parent_ref", P::kRef},
      {"child_refs", P::kRefList}},
     {"windows-process-ext", "windows-service-ext"}},
    {"software",
     {{"name", P::kString},
      {"cpe", P::kString},
      {"swid", P::kString},
      {"languages", P::kStringList},
      {"vendor", P::kString},
      {"version", P::kString}},
     {}},
    {"url", {{"value", P::kString}}, {}},
    {"user-account",
     {{"user_id", P::kString},
      {"credential", P::kString},
      {"account_login", P::kString},
      {"account_type", P::kString},
      {"display_name", P::kString},
      {"is_service_account", P::kBool},
      {"is_privileged", P::kBool},
      {"can_escalate_privs", P::kBool},
      {"is_disabled", P::kBool},
      {"account_created", P::kTimestamp},
      {"account_expires", P::kTimestamp},
      {"credential_last_changed", P::kTimestamp},
      {"password_last_changed", P::kTimestamp},
      {"account_first_login", P::kTimestamp},
      {"account_last_login", P::kTimestamp}},
     {"unix-account-ext"}},
    {"windows-registry-key",
     {{"key", P::kString},
      {"values", P::kDictList},
      {"modified", P::kTimestamp},
      {"modified_time", P::kTimestamp},
      {"creator_user_ref", P::kRef},
      {"number_of_subkeys", P::kInt}},
     {}},
    {"x509-certificate",
     {{"is_self_signed", P::kBool},
      {"hashes", P::kDict},
      {"version", P::kString},
      {"serial_number", P::kString},
      {"signature_algorithm", P::kString},
      {"issuer", P::kString},
      {"validity_not_before", P::kTimestamp},
      {"validity_not_after", P::kTimestamp},
      {"subject", P::kString},
      {"subject_public_key_algorithm", P::kString},
      {"subject_public_key_modulus", P::kString},
      {"subject_public_key_exponent", P::kInt},
      {"x509_v3_extensions", P::kDict}},
     {}},
};

// Common properties of every SCO (STIX 2.1 section 6.1 / 3.x).
constexpr Prop kCommonProps[] = {
    {"type", P::kString},
    {"id", P::kString},
    {"spec_version", P::kString},
    {"object_marking_refs", P::kRefList},
    {"granular_markings", P::kDictList},
    {"defanged", P::kBool},
    {"extensions", P::kDict},
};

const ScoType* FindType(std::string_view name) {
  for (const ScoType& t : kScoTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const Prop* FindProp(const ScoType& t, std::string_view name) {
  for (const Prop& p : t.props) {
    if (p.name == name) return &p;
  }
  for (const Prop& p : kCommonProps) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const char* TypeName(PropType t) {
  switch (t) {
    case P::kString:
      return "a string";
    case P::kInt:
      return "an integer";
    case P::kBool:
      return "a boolean";
    case P::kTimestamp:
      return "a timestamp";
    case P::kHexBinary:
    case P::kBase64:
      return "binary";
    case P::kIp:
      return "an IP address";
    case P::kRef:
      return "a reference";
    case P::kRefList:
      return "a list of references";
    case P::kStringList:
      return "a list of strings";
    case P::kDict:
      return "a dictionary";
    case P::kDictList:
      return "a list of dictionaries";
  }
  return "a value";
}

const char* ConstantKindName(Constant::Kind k) {
  switch (k) {
    case Constant::Kind::kString:
      return "a string";
    case Constant::Kind::kInt:
      return "an integer";
    case Constant::Kind::kFloat:
      return "a float";
    case Constant::Kind::kBool:
      return "a boolean";
    case Constant::Kind::kHex:
      return "a hex constant";
    case Constant::Kind::kBinary:
      return "a binary constant";
    case Constant::Kind::kTimestamp:
      return "a timestamp";
  }
  return "a constant";
}

// Can a property of type `p` ever compare with a constant of kind `k`?
bool Compatible(PropType p, Constant::Kind k) {
  using K = Constant::Kind;
  switch (p) {
    case P::kString:
    case P::kIp:
    case P::kRef:
      // Strings also compare with binary constants (as Latin-1 bytes, section 9.6).
      return k == K::kString || k == K::kHex || k == K::kBinary;
    case P::kInt:
      return k == K::kInt || k == K::kFloat;
    case P::kBool:
      return k == K::kBool;
    case P::kTimestamp:
      return k == K::kTimestamp || k == K::kString;
    case P::kHexBinary:
    case P::kBase64:
      return k == K::kHex || k == K::kBinary || k == K::kString;
    case P::kStringList:
    case P::kRefList:
      // Compared element-wise only through [n] / [*]; reaching here means the path stops at the
      // list itself, which never equals a constant.
      return false;
    case P::kDict:
    case P::kDictList:
      return false;
  }
  return true;
}

class Checker {
 public:
  explicit Checker(CheckResult* out) : out_(out) {}

  void Observation(const ObservationExpression& e) {
    if (e.kind == ObservationExpression::Kind::kObservation) {
      Comparisons(e.comparison);
    } else {
      for (const auto& c : e.children) Observation(c);
    }
    for (const Qualifier& q : e.qualifiers) {
      if (q.kind == Qualifier::Kind::kStartStop && q.start.timestamp_us >= q.stop.timestamp_us) {
        Error(q.position, "START " + q.start.string_value + " is not before STOP " +
                              q.stop.string_value + ": nothing can match");
      }
    }
  }

 private:
  void Error(size_t pos, const std::string& m) {
    out_->errors.push_back({pos, "at position " + std::to_string(pos) + ": " + m});
  }
  void Warning(size_t pos, const std::string& m) {
    out_->warnings.push_back({pos, "at position " + std::to_string(pos) + ": " + m});
  }

  void Comparisons(const ComparisonExpression& e) {
    if (e.kind == ComparisonExpression::Kind::kComparison) {
      One(e.comparison);
      return;
    }
    for (const auto& c : e.children) Comparisons(c);
  }

  // The standard type of the property the path ends at, when known: only paths of one key into a
  // standard SCO type (possibly followed by list indexing of a list property) are typed.
  const Prop* PathProp(const Comparison& c, const ScoType* type) {
    if (type == nullptr) return nullptr;
    const std::vector<PathStep>& steps = c.path.steps;
    const Prop* p = FindProp(*type, steps[0].key);
    if (p == nullptr) return nullptr;
    if (steps.size() == 1) return p;
    return nullptr;
  }

  void CheckPathShape(const Comparison& c, const ScoType* type) {
    const std::string& t = c.path.object_type;
    if (type == nullptr) {
      if (t.rfind("x-", 0) != 0) {
        Warning(c.position, "'" + t +
                                "' is not a standard cyber observable type (custom types should "
                                "start with 'x-')");
      }
      return;
    }
    const std::vector<PathStep>& steps = c.path.steps;
    const std::string& first = steps[0].key;
    const Prop* p = FindProp(*type, first);
    if (p == nullptr) {
      if (first.rfind("x_", 0) != 0) {
        Warning(c.position, "'" + first + "' is not a property of '" + t +
                                "' (custom properties should start with 'x_')");
      }
      return;
    }
    if (first == "extensions" && steps.size() > 1 && steps[1].kind == PathStep::Kind::kKey) {
      const std::string& ext = steps[1].key;
      bool known = false;
      for (std::string_view e : type->extensions) known = known || e == ext;
      if (!known && ext.rfind("x-", 0) != 0 && ext.rfind("extension-definition--", 0) != 0) {
        Warning(c.position, "'" + ext + "' is not a predefined extension of '" + t + "'");
      }
    }
    if (steps.size() > 1) {
      const PathStep& next = steps[1];
      const bool is_list =
          p->type == P::kStringList || p->type == P::kRefList || p->type == P::kDictList;
      if (next.kind != PathStep::Kind::kKey && !is_list) {
        Warning(c.position, "'" + t + ":" + first + "' is " + TypeName(p->type) +
                                ", not a list: the index never matches");
      }
      const bool scalar = p->type == P::kString || p->type == P::kInt || p->type == P::kBool ||
                          p->type == P::kTimestamp || p->type == P::kIp ||
                          p->type == P::kHexBinary || p->type == P::kBase64;
      if (next.kind == PathStep::Kind::kKey && scalar) {
        Warning(c.position, "'" + t + ":" + first + "' is " + TypeName(p->type) +
                                ", it has no property '" + next.key + "'");
      }
    }
  }

  void One(const Comparison& c) {
    const ScoType* type = FindType(c.path.object_type);
    CheckPathShape(c, type);
    const Prop* prop = PathProp(c, type);
    const std::string path_text = Print(c.path);
    switch (c.op) {
      case ComparisonOp::kExists:
        return;
      case ComparisonOp::kLike:
      case ComparisonOp::kMatches:
        if (prop != nullptr && (prop->type == P::kInt || prop->type == P::kBool)) {
          Error(c.position, std::string(ComparisonOpName(c.op)) + " needs a string property; " +
                                path_text + " is " + TypeName(prop->type));
        }
        return;
      case ComparisonOp::kIsSubset:
      case ComparisonOp::kIsSuperset: {
        std::optional<IpPrefix> k = ParseIpPrefix(c.value.string_value);
        if (!k) {
          Error(c.position, std::string(ComparisonOpName(c.op)) +
                                " needs an IPv4 or IPv6 address or CIDR block, not '" +
                                c.value.string_value + "'");
        }
        if (prop != nullptr && prop->type != P::kIp) {
          Error(c.position, std::string(ComparisonOpName(c.op)) +
                                " needs an IP address property; " + path_text + " is " +
                                TypeName(prop->type));
        } else if (k && prop != nullptr &&
                   ((c.path.object_type == "ipv4-addr" && k->v6) ||
                    (c.path.object_type == "ipv6-addr" && !k->v6))) {
          Error(c.position, path_text + " " + ComparisonOpName(c.op) + " '" + c.value.string_value +
                                "': the address families differ, nothing can match");
        } else if (type == nullptr && prop == nullptr) {
          // Custom types: fine.
        }
        return;
      }
      case ComparisonOp::kIn: {
        for (size_t i = 1; i < c.set.size(); ++i) {
          const bool numeric_a =
              c.set[0].kind == Constant::Kind::kInt || c.set[0].kind == Constant::Kind::kFloat;
          const bool numeric_b =
              c.set[i].kind == Constant::Kind::kInt || c.set[i].kind == Constant::Kind::kFloat;
          if (c.set[i].kind != c.set[0].kind && !(numeric_a && numeric_b)) {
            Error(c.position, "IN set mixes " + std::string(ConstantKindName(c.set[0].kind)) +
                                  " and " + ConstantKindName(c.set[i].kind));
            break;
          }
        }
        if (prop != nullptr) {
          for (const Constant& m : c.set) {
            if (!Compatible(prop->type, m.kind)) {
              Error(c.position, path_text + " is " + TypeName(prop->type) + " and cannot equal " +
                                    ConstantKindName(m.kind));
              break;
            }
          }
        }
        return;
      }
      default:
        if (prop != nullptr && !Compatible(prop->type, c.value.kind)) {
          Error(c.position, path_text + " is " + TypeName(prop->type) +
                                " and cannot be compared with " + ConstantKindName(c.value.kind));
        }
        return;
    }
  }

  CheckResult* out_;
};

}  // namespace

CheckResult Check(const Pattern& pattern) {
  CheckResult result;
  Checker(&result).Observation(pattern.root);
  return result;
}

}  // namespace liaison::pattern
