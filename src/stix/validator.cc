#include "stix/validator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <unordered_map>

#include <arpa/inet.h>

// Section numbers below refer to STIX Version 2.1, OASIS Standard, 10 June 2021.

namespace liaison::stix {
namespace {

using Words = std::span<const std::string_view>;

// ---- Vocabularies (section 10). Closed enumerations are errors; open vocabularies warn. ----
constexpr std::string_view kOpinionEnum[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                             "strongly-agree"};
constexpr std::string_view kEncryptionAlgorithmEnum[] = {"AES-256-GCM", "ChaCha20-Poly1305",
                                                         "mime-type-indicated"};
constexpr std::string_view kRegistryDatatypeEnum[] = {"REG_NONE",
                                                      "REG_SZ",
                                                      "REG_EXPAND_SZ",
                                                      "REG_BINARY",
                                                      "REG_DWORD",
                                                      "REG_DWORD_BIG_ENDIAN",
                                                      "REG_DWORD_LITTLE_ENDIAN",
                                                      "REG_LINK",
                                                      "REG_MULTI_SZ",
                                                      "REG_RESOURCE_LIST",
                                                      "REG_FULL_RESOURCE_DESCRIPTION",
                                                      "REG_RESOURCE_REQUIREMENTS_LIST",
                                                      "REG_QWORD",
                                                      "REG_INVALID_TYPE"};
constexpr std::string_view kExtensionTypeEnum[] = {
    "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"};
constexpr std::string_view kSocketAddressFamilyEnum[] = {"AF_UNSPEC",    "AF_INET",    "AF_IPX",
                                                         "AF_APPLETALK", "AF_NETBIOS", "AF_INET6",
                                                         "AF_IRDA",      "AF_BTH"};
constexpr std::string_view kSocketTypeEnum[] = {"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM",
                                                "SOCK_SEQPACKET"};
constexpr std::string_view kIntegrityLevelEnum[] = {"low", "medium", "high", "system"};
constexpr std::string_view kServiceStartTypeEnum[] = {"SERVICE_AUTO_START", "SERVICE_BOOT_START",
                                                      "SERVICE_DEMAND_START", "SERVICE_DISABLED",
                                                      "SERVICE_SYSTEM_ALERT"};
constexpr std::string_view kServiceTypeEnum[] = {
    "SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER", "SERVICE_WIN32_OWN_PROCESS",
    "SERVICE_WIN32_SHARE_PROCESS"};
constexpr std::string_view kServiceStatusEnum[] = {
    "SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED", "SERVICE_RUNNING",
    "SERVICE_START_PENDING",    "SERVICE_STOP_PENDING",  "SERVICE_STOPPED"};

constexpr std::string_view kPatternTypeOv[] = {"stix",  "pcre",     "sigma",
                                               "snort", "suricata", "yara"};
constexpr std::string_view kIdentityClassOv[] = {"individual",   "group", "system",
                                                 "organization", "class", "unknown"};
constexpr std::string_view kIndicatorTypeOv[] = {
    "anomalous-activity", "anonymization", "benign", "compromised",
    "malicious-activity", "attribution",   "unknown"};
constexpr std::string_view kGroupingContextOv[] = {"suspicious-activity", "malware-analysis",
                                                   "unspecified"};
constexpr std::string_view kReportTypeOv[] = {
    "attack-pattern", "campaign",     "identity",      "indicator", "intrusion-set", "malware",
    "observed-data",  "threat-actor", "threat-report", "tool",      "vulnerability"};
constexpr std::string_view kMalwareTypeOv[] = {"adware",
                                               "backdoor",
                                               "bot",
                                               "bootkit",
                                               "ddos",
                                               "downloader",
                                               "dropper",
                                               "exploit-kit",
                                               "keylogger",
                                               "ransomware",
                                               "remote-access-trojan",
                                               "resource-exploitation",
                                               "rogue-security-software",
                                               "rootkit",
                                               "screen-capture",
                                               "spyware",
                                               "trojan",
                                               "unknown",
                                               "virus",
                                               "webshell",
                                               "wiper",
                                               "worm"};
constexpr std::string_view kToolTypeOv[] = {
    "denial-of-service",       "exploitation",  "information-gathering",  "network-capture",
    "credential-exploitation", "remote-access", "vulnerability-scanning", "unknown"};
constexpr std::string_view kThreatActorTypeOv[] = {"activist",
                                                   "competitor",
                                                   "crime-syndicate",
                                                   "criminal",
                                                   "hacker",
                                                   "insider-accidental",
                                                   "insider-disgruntled",
                                                   "nation-state",
                                                   "sensationalist",
                                                   "spy",
                                                   "terrorist",
                                                   "unknown"};
constexpr std::string_view kInfrastructureTypeOv[] = {"amplification",
                                                      "anonymization",
                                                      "botnet",
                                                      "command-and-control",
                                                      "control-system",
                                                      "exfiltration",
                                                      "firewall",
                                                      "hosting-malware",
                                                      "hosting-target-lists",
                                                      "phishing",
                                                      "reconnaissance",
                                                      "routers-switches",
                                                      "staging",
                                                      "workstation",
                                                      "unknown"};
constexpr std::string_view kMotivationOv[] = {"accidental",    "coercion",
                                              "dominance",     "ideology",
                                              "notoriety",     "organizational-gain",
                                              "personal-gain", "personal-satisfaction",
                                              "revenge",       "unpredictable"};
constexpr std::string_view kResourceLevelOv[] = {"individual", "club",         "contest",
                                                 "team",       "organization", "government"};
constexpr std::string_view kThreatActorRoleOv[] = {"agent",
                                                   "director",
                                                   "independent",
                                                   "infrastructure-architect",
                                                   "infrastructure-operator",
                                                   "malware-author",
                                                   "sponsor"};
constexpr std::string_view kSophisticationOv[] = {"none",   "minimal",   "intermediate", "advanced",
                                                  "expert", "innovator", "strategic"};
constexpr std::string_view kMalwareResultOv[] = {"malicious", "suspicious", "benign", "unknown"};
constexpr std::string_view kProcessorArchitectureOv[] = {"alpha",   "arm",   "ia-64", "mips",
                                                         "powerpc", "sparc", "x86",   "x86-64"};
constexpr std::string_view kImplementationLanguageOv[] = {
    "applescript", "bash",  "c",           "c++",        "c#",           "go",         "java",
    "javascript",  "lua",   "objective-c", "perl",       "php",          "powershell", "python",
    "ruby",        "scala", "swift",       "typescript", "visual-basic", "x86-32",     "x86-64"};
constexpr std::string_view kAccountTypeOv[] = {
    "facebook", "ldap",    "nis",  "openid",        "radius",        "skype",
    "tacacs",   "twitter", "unix", "windows-local", "windows-domain"};
constexpr std::string_view kRegionOv[] = {"africa",
                                          "eastern-africa",
                                          "middle-africa",
                                          "northern-africa",
                                          "southern-africa",
                                          "western-africa",
                                          "americas",
                                          "caribbean",
                                          "central-america",
                                          "latin-america-caribbean",
                                          "northern-america",
                                          "south-america",
                                          "asia",
                                          "central-asia",
                                          "eastern-asia",
                                          "southern-asia",
                                          "south-eastern-asia",
                                          "western-asia",
                                          "europe",
                                          "eastern-europe",
                                          "northern-europe",
                                          "southern-europe",
                                          "western-europe",
                                          "oceania",
                                          "antarctica",
                                          "australia-new-zealand",
                                          "melanesia",
                                          "micronesia",
                                          "polynesia"};
constexpr std::string_view kPeTypeOv[] = {"dll", "exe", "sys"};

bool Contains(Words words, std::string_view w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

// ---- Reference rules ----
enum RefClass : uint8_t { kSdo = 1, kSro = 2, kSco = 4, kMeta = 8, kAnyObject = 15 };

struct RefRule {
  uint8_t classes = kAnyObject;  // used when `types` is empty
  Words types;
};

constexpr std::string_view kIdentityT[] = {"identity"};
constexpr std::string_view kMarkingT[] = {"marking-definition"};
constexpr std::string_view kSoftwareT[] = {"software"};
constexpr std::string_view kFileOrArtifactT[] = {"file", "artifact"};
constexpr std::string_view kSampleRefT[] = {"file", "network-traffic", "artifact"};
constexpr std::string_view kIdentityOrLocationT[] = {"identity", "location"};
constexpr std::string_view kObservedDataT[] = {"observed-data"};
constexpr std::string_view kFileOrDirectoryT[] = {"file", "directory"};
constexpr std::string_view kResolvesDomainT[] = {"ipv4-addr", "ipv6-addr", "domain-name"};
constexpr std::string_view kUserAccountT[] = {"user-account"};
constexpr std::string_view kEmailAddrT[] = {"email-addr"};
constexpr std::string_view kArtifactT[] = {"artifact"};
constexpr std::string_view kDirectoryT[] = {"directory"};
constexpr std::string_view kMacAddrT[] = {"mac-addr"};
constexpr std::string_view kAutonomousSystemT[] = {"autonomous-system"};
constexpr std::string_view kNetworkEndpointT[] = {"ipv4-addr", "ipv6-addr", "mac-addr",
                                                  "domain-name"};
constexpr std::string_view kNetworkTrafficT[] = {"network-traffic"};
constexpr std::string_view kFileT[] = {"file"};
constexpr std::string_view kProcessT[] = {"process"};

// ---- Property rules ----
enum class PK : uint8_t {
  kString,
  kStringList,
  kTimestamp,
  kBool,
  kInt,
  kFloat,
  kRef,
  kRefList,
  kHashes,
  kDict,
  kKillChain,
  kOv,
  kOvList,
  kEnum,
  kEnumList,
  kHex,
  kBinary,
  kObject,
  kObjectList,
  kMimeParts,
  kRegistryValues,
  kStringDict,  // dictionary whose values are strings (x509 v3 extensions type is an object)
};

struct PropRule {
  std::string_view name;
  PK kind = PK::kString;
  bool required = false;
  int64_t imin = std::numeric_limits<int64_t>::min();
  int64_t imax = std::numeric_limits<int64_t>::max();
  double fmin = -std::numeric_limits<double>::infinity();
  double fmax = std::numeric_limits<double>::infinity();
  RefRule ref;
  Words vocab;
};

PropRule P(std::string_view name, PK kind) {
  PropRule r;
  r.name = name;
  r.kind = kind;
  return r;
}
PropRule Req(PropRule r) {
  r.required = true;
  return r;
}
PropRule Int(std::string_view name, int64_t lo, int64_t hi) {
  PropRule r = P(name, PK::kInt);
  r.imin = lo;
  r.imax = hi;
  return r;
}
PropRule Flt(std::string_view name, double lo, double hi) {
  PropRule r = P(name, PK::kFloat);
  r.fmin = lo;
  r.fmax = hi;
  return r;
}
PropRule Ref(std::string_view name, Words types) {
  PropRule r = P(name, PK::kRef);
  r.ref.types = types;
  return r;
}
PropRule RefC(std::string_view name, uint8_t classes) {
  PropRule r = P(name, PK::kRef);
  r.ref.classes = classes;
  return r;
}
PropRule Refs(std::string_view name, Words types) {
  PropRule r = P(name, PK::kRefList);
  r.ref.types = types;
  return r;
}
PropRule RefsC(std::string_view name, uint8_t classes) {
  PropRule r = P(name, PK::kRefList);
  r.ref.classes = classes;
  return r;
}
PropRule V(std::string_view name, PK kind, Words vocab) {
  PropRule r = P(name, kind);
  r.vocab = vocab;
  return r;
}

struct Ctx;
using ExtraCheck = Status (*)(JsonValue obj, Ctx& ctx);

struct TypeRule {
  ObjectKind kind;
  std::string_view section;
  std::vector<PropRule> props;
  ExtraCheck extra = nullptr;
  std::unordered_map<std::string_view, uint8_t> index = {};  // property name -> position in props
};

struct ExtensionRule {
  std::string_view owner;  // the SCO type the predefined extension belongs to
  std::vector<PropRule> props;
  ExtraCheck extra = nullptr;
};

struct Ctx {
  std::string name;  // the object's id (or type) for messages
  std::vector<Warning>* warnings = nullptr;
  JsonValue root;

  Status Err(std::string_view path, std::string_view rule) const {
    std::string m = name;
    m += ": property '";
    m += path;
    m += "' ";
    m += rule;
    return InvalidArgumentError(std::move(m));
  }
  void Warn(std::string_view path, std::string message) {
    if (warnings != nullptr)
      warnings->push_back(Warning{name, std::string(path), std::move(message)});
  }
};

std::string Quote(std::string_view s) {
  std::string out = "'";
  out += s.substr(0, 120);
  if (s.size() > 120) out += "...";
  out += "'";
  return out;
}

std::string Join(Words words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

std::string Item(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool IsHex(char c) { return IsLowerHex(c) || (c >= 'A' && c <= 'F'); }

// Section 3.1: property names are 3..250 characters of a-z, 0-9 and '_'.
bool IsValidPropertyName(std::string_view name) {
  if (name.size() < 3 || name.size() > 250) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

const std::unordered_map<std::string_view, TypeRule>& TypeRules();
const std::unordered_map<std::string_view, ExtensionRule>& ExtensionRules();

// ---- Value checks ----

Result<Timestamp> CheckTimestamp(JsonValue v, std::string_view path, Ctx& ctx) {
  if (!v.is_string()) return ctx.Err(path, "must be a timestamp string");
  Result<Timestamp> ts = ParseTimestamp(v.string_value());
  if (!ts.ok())
    return ctx.Err(path,
                   "must be an RFC 3339 UTC timestamp (section 2.14): " + ts.status().message());
  return ts;
}

Status CheckIdentifierValue(JsonValue v, std::string_view path, const RefRule& rule, Ctx& ctx) {
  if (!v.is_string()) return ctx.Err(path, "must be an identifier string (section 2.9)");
  std::string_view id = v.string_value();
  if (!IsValidIdentifier(id)) {
    return ctx.Err(path, "must be an identifier 'type--UUID' (section 2.9), not " + Quote(id));
  }
  std::string_view type = id.substr(0, id.find("--"));
  if (!rule.types.empty()) {
    if (!Contains(rule.types, type)) {
      return ctx.Err(path, "must reference " + Join(rule.types) + ", not " + Quote(id));
    }
    return Status::Ok();
  }
  if (type == "bundle") return ctx.Err(path, "must not reference a bundle");
  std::optional<ObjectKind> kind = KindOfSpecType(type);
  if (!kind) return Status::Ok();  // a custom object type: its category is not knowable here
  uint8_t bit = *kind == ObjectKind::kDomain            ? kSdo
                : *kind == ObjectKind::kRelationship    ? kSro
                : *kind == ObjectKind::kCyberObservable ? kSco
                                                        : kMeta;
  if ((rule.classes & bit) == 0) {
    std::string allowed;
    auto add = [&](uint8_t b, std::string_view what) {
      if (rule.classes & b) {
        if (!allowed.empty()) allowed += " or ";
        allowed += what;
      }
    };
    add(kSdo, "a domain object");
    add(kSro, "a relationship object");
    add(kSco, "a cyber-observable object");
    add(kMeta, "a meta object");
    return ctx.Err(path, "must reference " + allowed + ", not " + Quote(id));
  }
  return Status::Ok();
}

Status CheckStringList(JsonValue v, std::string_view path, Ctx& ctx) {
  // Section 2.11: lists MUST NOT be empty.
  if (!v.is_array()) return ctx.Err(path, "must be a list of strings");
  if (v.size() == 0) return ctx.Err(path, "must not be an empty list (section 2.11)");
  size_t i = 0;
  for (JsonValue item : v) {
    if (!item.is_string()) return ctx.Err(Item(path, i), "must be a string");
    ++i;
  }
  return Status::Ok();
}

// Section 2.3: keys 1..250 ASCII characters; a-z, A-Z, 0-9, '-' and '_' (others only warn: real
// data such as environment variables needs them).
Status CheckDictionary(JsonValue v, std::string_view path, Ctx& ctx) {
  if (!v.is_object()) return ctx.Err(path, "must be a dictionary (JSON object)");
  if (v.size() == 0) return ctx.Err(path, "must not be an empty dictionary (section 2.3)");
  for (JsonValue m : v) {
    std::string_view k = m.key();
    if (k.empty() || k.size() > 250) {
      return ctx.Err(path, "has a key of " + std::to_string(k.size()) +
                               " characters; dictionary keys are 1-250 characters (section 2.3)");
    }
    bool ascii = true, plain = true;
    for (char c : k) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x80) ascii = false;
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_')) {
        plain = false;
      }
    }
    if (!ascii) return ctx.Err(path, "has the non-ASCII key " + Quote(k) + " (section 2.3)");
    if (!plain)
      ctx.Warn(path, "dictionary key " + Quote(k) + " has characters section 2.3 does not allow");
  }
  return Status::Ok();
}

struct HashAlgorithm {
  std::string_view name;
  size_t hex_length;  // 0: not a fixed-length hex digest
};
constexpr HashAlgorithm kHashAlgorithms[] = {{"MD5", 32},      {"SHA-1", 40},    {"SHA-256", 64},
                                             {"SHA-512", 128}, {"SHA3-256", 64}, {"SHA3-512", 128},
                                             {"SSDEEP", 0},    {"TLSH", 0}};

// Section 2.6: hashes is a dictionary of hash-algorithm-ov names (or custom names) to values.
Status CheckHashes(JsonValue v, std::string_view path, Ctx& ctx) {
  if (!v.is_object()) return ctx.Err(path, "must be a hashes dictionary");
  if (v.size() == 0) return ctx.Err(path, "must not be an empty dictionary (section 2.6)");
  for (JsonValue m : v) {
    std::string sub = std::string(path) + "." + std::string(m.key());
    if (!m.is_string() || m.string_value().empty()) {
      return ctx.Err(sub, "must be a non-empty string hash value");
    }
    if (m.key().size() > 250) return ctx.Err(path, "has a hash algorithm name over 250 characters");
    const HashAlgorithm* known = nullptr;
    for (const HashAlgorithm& a : kHashAlgorithms) {
      if (a.name == m.key()) known = &a;
    }
    if (known == nullptr) {
      std::string folded;
      for (char c : m.key()) {
        if (c != '-' && c != '_')
          folded += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      for (const HashAlgorithm& a : kHashAlgorithms) {
        std::string an;
        for (char c : a.name) {
          if (c != '-') an += c;
        }
        if (an == folded) {
          ctx.Warn(sub, "hash algorithm should be spelled '" + std::string(a.name) +
                            "' (hash-algorithm-ov, section 10.6)");
        }
      }
      continue;
    }
    if (known->hex_length != 0) {
      std::string_view h = m.string_value();
      if (h.size() != known->hex_length || !std::all_of(h.begin(), h.end(), IsHex)) {
        return ctx.Err(sub, "must be " + std::to_string(known->hex_length) +
                                " hexadecimal characters for " + std::string(known->name));
      }
    }
  }
  return Status::Ok();
}

Status CheckKillChainPhases(JsonValue v, std::string_view path, Ctx& ctx) {
  // Section 2.10.
  if (!v.is_array()) return ctx.Err(path, "must be a list of kill chain phases");
  if (v.size() == 0) return ctx.Err(path, "must not be an empty list (section 2.11)");
  size_t i = 0;
  for (JsonValue phase : v) {
    std::string p = Item(path, i++);
    if (!phase.is_object()) return ctx.Err(p, "must be a kill-chain-phase object (section 2.10)");
    for (std::string_view field : {"kill_chain_name", "phase_name"}) {
      JsonValue f;
      if (!phase.Find(field, &f)) return ctx.Err(p + "." + std::string(field), "is required");
      if (!f.is_string() || f.string_value().empty()) {
        return ctx.Err(p + "." + std::string(field), "must be a non-empty string");
      }
      std::string_view s = f.string_value();
      if (std::any_of(s.begin(), s.end(),
                      [](char c) { return c == ' ' || (c >= 'A' && c <= 'Z'); })) {
        ctx.Warn(p + "." + std::string(field),
                 "should be lowercase with hyphens instead of spaces (section 2.10)");
      }
    }
  }
  return Status::Ok();
}

bool IsBase64(std::string_view s) {
  if (s.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '=') {
      ++pad;
      if (i + 2 < s.size()) return false;  // '=' only in the last two positions
      continue;
    }
    if (pad > 0) return false;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '/')) {
      return false;
    }
  }
  return pad <= 2;
}

Status CheckValue(const PropRule& rule, JsonValue v, std::string_view path, Ctx& ctx);

Status CheckMimeParts(JsonValue v, std::string_view path, Ctx& ctx) {
  // Section 6.6.2: email MIME component type.
  static const std::vector<PropRule> kPart = {
      P("body", PK::kString), Ref("body_raw_ref", kFileOrArtifactT), P("content_type", PK::kString),
      P("content_disposition", PK::kString)};
  if (!v.is_array()) return ctx.Err(path, "must be a list of MIME parts");
  if (v.size() == 0) return ctx.Err(path, "must not be an empty list (section 2.11)");
  size_t i = 0;
  for (JsonValue part : v) {
    std::string p = Item(path, i++);
    if (!part.is_object()) return ctx.Err(p, "must be an email MIME part object (section 6.6.2)");
    for (const PropRule& r : kPart) {
      JsonValue f;
      if (part.Find(r.name, &f))
        RETURN_IF_ERROR(CheckValue(r, f, p + "." + std::string(r.name), ctx));
    }
    const bool body = part.Has("body"), raw = part.Has("body_raw_ref");
    if (body == raw) {
      return ctx.Err(p, "must have exactly one of 'body' and 'body_raw_ref' (section 6.6.2)");
    }
  }
  return Status::Ok();
}

Status CheckRegistryValues(JsonValue v, std::string_view path, Ctx& ctx) {
  // Section 6.17.2: windows registry value type.
  static const std::vector<PropRule> kValue = {P("name", PK::kString), P("data", PK::kString),
                                               V("data_type", PK::kEnum, kRegistryDatatypeEnum)};
  if (!v.is_array()) return ctx.Err(path, "must be a list of registry values");
  if (v.size() == 0) return ctx.Err(path, "must not be an empty list (section 2.11)");
  size_t i = 0;
  for (JsonValue item : v) {
    std::string p = Item(path, i++);
    if (!item.is_object()) return ctx.Err(p, "must be a windows-registry-value object");
    for (const PropRule& r : kValue) {
      JsonValue f;
      if (item.Find(r.name, &f))
        RETURN_IF_ERROR(CheckValue(r, f, p + "." + std::string(r.name), ctx));
    }
  }
  return Status::Ok();
}

Status CheckValue(const PropRule& rule, JsonValue v, std::string_view path, Ctx& ctx) {
  switch (rule.kind) {
    case PK::kString:
      if (!v.is_string()) return ctx.Err(path, "must be a string");
      return Status::Ok();
    case PK::kStringList:
      return CheckStringList(v, path, ctx);
    case PK::kTimestamp:
      return CheckTimestamp(v, path, ctx).status();
    case PK::kBool:
      if (!v.is_bool()) return ctx.Err(path, "must be a boolean");
      return Status::Ok();
    case PK::kInt: {
      // Section 2.9 (integer): a whole number; written as an integer literal.
      if (!v.is_integer()) return ctx.Err(path, "must be an integer");
      const bool too_big =
          v.type() == JsonType::kUint64 && v.int_value() == std::numeric_limits<int64_t>::max();
      const int64_t x = v.int_value();
      if (too_big || x < rule.imin || x > rule.imax) {
        return ctx.Err(path, "must be an integer in " + std::to_string(rule.imin) + ".." +
                                 std::to_string(rule.imax));
      }
      return Status::Ok();
    }
    case PK::kFloat: {
      if (!v.is_number()) return ctx.Err(path, "must be a number");
      const double x = v.number_value();
      if (!(x >= rule.fmin && x <= rule.fmax)) {
        std::string lo = std::to_string(rule.fmin), hi = std::to_string(rule.fmax);
        if (std::isinf(rule.fmax)) return ctx.Err(path, "must be a number >= " + lo);
        return ctx.Err(path, "must be a number in " + lo + ".." + hi);
      }
      return Status::Ok();
    }
    case PK::kRef:
      return CheckIdentifierValue(v, path, rule.ref, ctx);
    case PK::kRefList: {
      if (!v.is_array()) return ctx.Err(path, "must be a list of identifiers");
      if (v.size() == 0) return ctx.Err(path, "must not be an empty list (section 2.11)");
      size_t i = 0;
      for (JsonValue item : v)
        RETURN_IF_ERROR(CheckIdentifierValue(item, Item(path, i++), rule.ref, ctx));
      return Status::Ok();
    }
    case PK::kHashes:
      return CheckHashes(v, path, ctx);
    case PK::kDict:
      return CheckDictionary(v, path, ctx);
    case PK::kStringDict: {
      RETURN_IF_ERROR(CheckDictionary(v, path, ctx));
      for (JsonValue m : v) {
        if (!m.is_string())
          return ctx.Err(std::string(path) + "." + std::string(m.key()), "must be a string");
      }
      return Status::Ok();
    }
    case PK::kKillChain:
      return CheckKillChainPhases(v, path, ctx);
    case PK::kOv:
      if (!v.is_string()) return ctx.Err(path, "must be a string");
      if (!Contains(rule.vocab, v.string_value())) {
        ctx.Warn(path, Quote(v.string_value()) + " is not in the suggested vocabulary (" +
                           Join(rule.vocab) + ")");
      }
      return Status::Ok();
    case PK::kOvList: {
      RETURN_IF_ERROR(CheckStringList(v, path, ctx));
      for (JsonValue item : v) {
        if (!Contains(rule.vocab, item.string_value())) {
          ctx.Warn(path, Quote(item.string_value()) + " is not in the suggested vocabulary (" +
                             Join(rule.vocab) + ")");
        }
      }
      return Status::Ok();
    }
    case PK::kEnum:
      if (!v.is_string() || !Contains(rule.vocab, v.string_value())) {
        return ctx.Err(path, "must be one of " + Join(rule.vocab));
      }
      return Status::Ok();
    case PK::kEnumList: {
      RETURN_IF_ERROR(CheckStringList(v, path, ctx));
      size_t i = 0;
      for (JsonValue item : v) {
        if (!Contains(rule.vocab, item.string_value())) {
          return ctx.Err(Item(path, i), "must be one of " + Join(rule.vocab));
        }
        ++i;
      }
      return Status::Ok();
    }
    case PK::kHex: {
      // Section 2.7: an even number of hexadecimal characters.
      if (!v.is_string()) return ctx.Err(path, "must be a hex string");
      std::string_view s = v.string_value();
      if (s.size() % 2 != 0 || !std::all_of(s.begin(), s.end(), IsHex)) {
        return ctx.Err(path, "must be an even number of hexadecimal characters (section 2.7)");
      }
      return Status::Ok();
    }
    case PK::kBinary:
      // Section 2.1: base64 (RFC 4648).
      if (!v.is_string() || !IsBase64(v.string_value())) {
        return ctx.Err(path, "must be base64-encoded binary (section 2.1)");
      }
      return Status::Ok();
    case PK::kObject:
      if (!v.is_object()) return ctx.Err(path, "must be an object");
      return Status::Ok();
    case PK::kObjectList: {
      if (!v.is_array()) return ctx.Err(path, "must be a list of objects");
      if (v.size() == 0) return ctx.Err(path, "must not be an empty list (section 2.11)");
      size_t i = 0;
      for (JsonValue item : v) {
        if (!item.is_object()) return ctx.Err(Item(path, i), "must be an object");
        ++i;
      }
      return Status::Ok();
    }
    case PK::kMimeParts:
      return CheckMimeParts(v, path, ctx);
    case PK::kRegistryValues:
      return CheckRegistryValues(v, path, ctx);
  }
  return Status::Ok();
}

// Checks the listed properties of `obj` (required ones present, present ones well-typed).
Status CheckProps(JsonValue obj, const std::vector<PropRule>& rules, std::string_view prefix,
                  Ctx& ctx) {
  for (const PropRule& r : rules) {
    JsonValue v;
    std::string path =
        prefix.empty() ? std::string(r.name) : std::string(prefix) + "." + std::string(r.name);
    if (!obj.Find(r.name, &v)) {
      if (r.required) return ctx.Err(path, "is required");
      continue;
    }
    RETURN_IF_ERROR(CheckValue(r, v, path, ctx));
  }
  return Status::Ok();
}

std::optional<Timestamp> OptTimestamp(JsonValue obj, std::string_view name) {
  JsonValue v;
  if (!obj.Find(name, &v) || !v.is_string()) return std::nullopt;
  Result<Timestamp> ts = ParseTimestamp(v.string_value());
  if (!ts.ok()) return std::nullopt;
  return *ts;
}

// `later` must be >= (or > when strict) `earlier` when both are present.
Status CheckOrder(JsonValue obj, std::string_view earlier, std::string_view later, bool strict,
                  Ctx& ctx) {
  std::optional<Timestamp> a = OptTimestamp(obj, earlier), b = OptTimestamp(obj, later);
  if (!a || !b) return Status::Ok();
  if (strict ? *b <= *a : *b < *a) {
    return ctx.Err(later,
                   std::string(strict ? "must be later than '" : "must not be earlier than '") +
                       std::string(earlier) + "'");
  }
  return Status::Ok();
}

// ---- Common structures ----

Status CheckExternalReferences(JsonValue v, Ctx& ctx) {
  // Section 2.5 (external reference).
  static const std::vector<PropRule> kRef = {
      Req(P("source_name", PK::kString)), P("description", PK::kString), P("url", PK::kString),
      P("hashes", PK::kHashes), P("external_id", PK::kString)};
  if (!v.is_array()) return ctx.Err("external_references", "must be a list of external references");
  if (v.size() == 0)
    return ctx.Err("external_references", "must not be an empty list (section 2.11)");
  size_t i = 0;
  for (JsonValue ref : v) {
    std::string p = Item("external_references", i++);
    if (!ref.is_object()) return ctx.Err(p, "must be an external-reference object (section 2.5)");
    RETURN_IF_ERROR(CheckProps(ref, kRef, p, ctx));
    if (!ref.Has("description") && !ref.Has("url") && !ref.Has("external_id")) {
      return ctx.Err(
          p, "must have at least one of 'description', 'url' or 'external_id' (section 2.5)");
    }
    JsonValue source, ext;
    ref.Find("source_name", &source);
    const std::string_view sn = source.string_value();
    const bool has_ext = ref.Find("external_id", &ext);
    auto digits = [](std::string_view s) {
      return !s.empty() &&
             std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (sn == "capec") {
      if (!has_ext) return ctx.Err(p + ".external_id", "is required when source_name is 'capec'");
      std::string_view e = ext.string_value();
      if (e.substr(0, 6) != "CAPEC-" || !digits(e.substr(6))) {
        return ctx.Err(p + ".external_id", "must be 'CAPEC-<number>' when source_name is 'capec'");
      }
    } else if (sn == "cve") {
      if (!has_ext) return ctx.Err(p + ".external_id", "is required when source_name is 'cve'");
      std::string_view e = ext.string_value();
      if (e.size() < 13 || e.substr(0, 4) != "CVE-" || !digits(e.substr(4, 4)) || e[8] != '-' ||
          !digits(e.substr(9))) {
        return ctx.Err(p + ".external_id", "must be 'CVE-YYYY-NNNN' when source_name is 'cve'");
      }
    }
  }
  return Status::Ok();
}

// Section 7.2.3.1: a selector is a dotted path of property names and [index] list positions that
// must select something within the object.
bool SelectorResolves(JsonValue root, std::string_view selector) {
  JsonValue cur = root;
  size_t pos = 0;
  while (pos <= selector.size()) {
    size_t dot = selector.find('.', pos);
    std::string_view part =
        selector.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (part.empty()) return false;
    if (part.front() == '[' && part.back() == ']' && part.size() > 2) {
      if (!cur.is_array()) return false;
      size_t index = 0;
      for (char c : part.substr(1, part.size() - 2)) {
        if (c < '0' || c > '9' || index > 1000000000) return false;
        index = index * 10 + static_cast<size_t>(c - '0');
      }
      if (index >= cur.size()) return false;
      auto it = cur.begin();
      for (size_t k = 0; k < index; ++k) ++it;
      cur = *it;
    } else {
      JsonValue next;
      if (!cur.Find(part, &next)) return false;
      cur = next;
    }
    if (dot == std::string_view::npos) return true;
    pos = dot + 1;
  }
  return false;
}

Status CheckGranularMarkings(JsonValue v, Ctx& ctx) {
  // Section 7.2.3.
  static const std::vector<PropRule> kRules = {
      Ref("marking_ref", kMarkingT), P("lang", PK::kString), Req(P("selectors", PK::kStringList))};
  if (!v.is_array()) return ctx.Err("granular_markings", "must be a list of granular markings");
  if (v.size() == 0)
    return ctx.Err("granular_markings", "must not be an empty list (section 2.11)");
  size_t i = 0;
  for (JsonValue gm : v) {
    std::string p = Item("granular_markings", i++);
    if (!gm.is_object()) return ctx.Err(p, "must be a granular-marking object (section 7.2.3)");
    RETURN_IF_ERROR(CheckProps(gm, kRules, p, ctx));
    if (gm.Has("marking_ref") == gm.Has("lang")) {
      return ctx.Err(p, "must have exactly one of 'marking_ref' and 'lang' (section 7.2.3)");
    }
    JsonValue selectors;
    gm.Find("selectors", &selectors);
    for (JsonValue s : selectors) {
      if (!SelectorResolves(ctx.root, s.string_value())) {
        return ctx.Err(p + ".selectors",
                       "selector " + Quote(s.string_value()) +
                           " does not select anything in the object (section 7.2.3.1)");
      }
    }
  }
  return Status::Ok();
}

// Returns the extension_type of a new-object extension ("new-sdo", ...) if the object declares one.
std::string_view NewObjectExtensionType(JsonValue obj) {
  JsonValue ext;
  if (!obj.Find("extensions", &ext) || !ext.is_object()) return {};
  for (JsonValue e : ext) {
    JsonValue t;
    if (e.is_object() && e.Find("extension_type", &t) && t.is_string()) {
      std::string_view s = t.string_value();
      if (s == "new-sdo" || s == "new-sco" || s == "new-sro") return s;
    }
  }
  return {};
}

Status CheckExtensions(JsonValue v, std::string_view type, Ctx& ctx) {
  // Section 3.2 (extensions) and 7.3: keys are extension-definition ids, or the names of the
  // predefined SCO extensions of section 6; each value is an object.
  if (!v.is_object()) return ctx.Err("extensions", "must be a dictionary of extensions");
  if (v.size() == 0) return ctx.Err("extensions", "must not be an empty dictionary (section 2.3)");
  for (JsonValue e : v) {
    std::string_view key = e.key();
    std::string p = "extensions." + std::string(key);
    if (!e.is_object()) return ctx.Err(p, "must be an object");
    if (key.substr(0, 22) == "extension-definition--") {
      if (!IsValidIdentifier(key))
        return ctx.Err(p, "is not a valid extension-definition identifier");
      JsonValue t;
      if (e.Find("extension_type", &t)) {
        RETURN_IF_ERROR(CheckValue(V("extension_type", PK::kEnum, kExtensionTypeEnum), t,
                                   p + ".extension_type", ctx));
      }
      continue;
    }
    auto it = ExtensionRules().find(key);
    if (it != ExtensionRules().end()) {
      if (it->second.owner != type) {
        return ctx.Err(p, "is a predefined extension of '" + std::string(it->second.owner) +
                              "' objects, not of '" + std::string(type) + "'");
      }
      RETURN_IF_ERROR(CheckProps(e, it->second.props, p, ctx));
      if (it->second.extra != nullptr) RETURN_IF_ERROR(it->second.extra(e, ctx));
      continue;
    }
    if (IsValidTypeName(key) && key.size() > 4 && key.substr(key.size() - 4) == "-ext") {
      ctx.Warn(p,
               "custom extension names are a STIX 2.0 convention; STIX 2.1 uses "
               "extension-definition identifiers (section 7.3)");
      continue;
    }
    return ctx.Err(p,
                   "must be an extension-definition identifier or a predefined extension name "
                   "(section 7.3)");
  }
  return Status::Ok();
}

// ---- Type-specific rules ----

Status NeedOneOf(JsonValue obj, std::initializer_list<std::string_view> names,
                 std::string_view section, Ctx& ctx) {
  for (std::string_view n : names) {
    if (obj.Has(n)) return Status::Ok();
  }
  std::string list;
  for (std::string_view n : names) {
    if (!list.empty()) list += "', '";
    list += n;
  }
  return ctx.Err(*names.begin(), "is required unless one of '" + list + "' is present (section " +
                                     std::string(section) + ")");
}

Status SeenOrder(JsonValue obj, Ctx& ctx) {
  return CheckOrder(obj, "first_seen", "last_seen", false, ctx);
}

Status IndicatorExtra(JsonValue obj, Ctx& ctx) {
  // Section 4.7: valid_until MUST be greater than valid_from.
  return CheckOrder(obj, "valid_from", "valid_until", true, ctx);
}

Status LocationExtra(JsonValue obj, Ctx& ctx) {
  // Section 4.10: one of region, country, or latitude+longitude; latitude and longitude together;
  // precision only with both.
  const bool lat = obj.Has("latitude"), lon = obj.Has("longitude");
  if (lat != lon) {
    return ctx.Err(lat ? "longitude" : "latitude", "is required when '" +
                                                       std::string(lat ? "latitude" : "longitude") +
                                                       "' is present (section 4.10)");
  }
  if (obj.Has("precision") && !lat) {
    return ctx.Err("precision", "requires 'latitude' and 'longitude' (section 4.10)");
  }
  if (!lat && !obj.Has("region") && !obj.Has("country")) {
    return ctx.Err("region",
                   "is required unless 'country' or 'latitude'/'longitude' are present "
                   "(section 4.10)");
  }
  JsonValue country;
  if (obj.Find("country", &country)) {
    std::string_view c = country.string_value();
    if (c.size() != 2 || !std::isalpha(static_cast<unsigned char>(c[0])) ||
        !std::isalpha(static_cast<unsigned char>(c[1]))) {
      ctx.Warn("country", "should be an ISO 3166-1 alpha-2 code (section 4.10)");
    }
  }
  return Status::Ok();
}

Status MalwareExtra(JsonValue obj, Ctx& ctx) {
  // Section 4.11: name is required when is_family is true.
  JsonValue fam;
  if (obj.Find("is_family", &fam) && fam.is_bool() && fam.bool_value() && !obj.Has("name")) {
    return ctx.Err("name", "is required when 'is_family' is true (section 4.11)");
  }
  return SeenOrder(obj, ctx);
}

Status MalwareAnalysisExtra(JsonValue obj, Ctx& ctx) {
  // Section 4.12: one of result or analysis_sco_refs MUST be present.
  RETURN_IF_ERROR(NeedOneOf(obj, {"result", "analysis_sco_refs"}, "4.12", ctx));
  RETURN_IF_ERROR(CheckOrder(obj, "analysis_started", "analysis_ended", false, ctx));
  return Status::Ok();
}

Status ObservedDataExtra(JsonValue obj, Ctx& ctx) {
  // Section 4.14: last_observed >= first_observed; exactly one of objects (deprecated) and
  // object_refs.
  RETURN_IF_ERROR(CheckOrder(obj, "first_observed", "last_observed", false, ctx));
  const bool objects = obj.Has("objects"), refs = obj.Has("object_refs");
  if (objects && refs)
    return ctx.Err("objects", "must not be present together with 'object_refs' (section 4.14)");
  if (!objects && !refs) return ctx.Err("object_refs", "is required (section 4.14)");
  if (objects) {
    ctx.Warn("objects", "is deprecated in STIX 2.1; use 'object_refs' (section 4.14)");
    JsonValue dict;
    obj.Find("objects", &dict);
    for (JsonValue o : dict) {
      JsonValue t;
      if (!o.is_object() || !o.Find("type", &t) || !t.is_string()) {
        return ctx.Err("objects." + std::string(o.key()),
                       "must be a cyber-observable object with a 'type'");
      }
    }
  }
  return Status::Ok();
}

Status RelationshipExtra(JsonValue obj, Ctx& ctx) {
  // Section 5.1: stop_time MUST be later than start_time.
  JsonValue rt;
  if (obj.Find("relationship_type", &rt)) {
    std::string_view s = rt.string_value();
    if (s.empty()) return ctx.Err("relationship_type", "must not be empty");
    if (!std::all_of(s.begin(), s.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        })) {
      ctx.Warn("relationship_type", "should be lowercase ASCII with hyphens (section 5.1)");
    }
  }
  return CheckOrder(obj, "start_time", "stop_time", true, ctx);
}

struct TlpLevel {
  std::string_view level;
  std::string_view id;
};
// Section 7.2.1.4: the TLP marking definitions and their fixed identifiers.
constexpr TlpLevel kTlp[] = {{"white", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
                             {"green", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5a41da"},
                             {"amber", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
                             {"red", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"}};

Status MarkingDefinitionExtra(JsonValue obj, Ctx& ctx) {
  // Section 7.2.1: definition_type and definition go together (the 2.1 extension mechanism may
  // replace both); "tlp" and "statement" have fixed shapes.
  JsonValue dt, def, id;
  const bool has_dt = obj.Find("definition_type", &dt), has_def = obj.Find("definition", &def);
  obj.Find("id", &id);
  if (has_dt != has_def) {
    return ctx.Err(has_dt ? "definition" : "definition_type",
                   "is required when '" + std::string(has_dt ? "definition_type" : "definition") +
                       "' is present (section 7.2.1)");
  }
  if (!has_dt) {
    if (!obj.Has("extensions")) {
      return ctx.Err("definition_type",
                     "is required unless the marking is defined by an extension (section 7.2.1)");
    }
    return Status::Ok();
  }
  if (!def.is_object()) return ctx.Err("definition", "must be an object");
  std::string_view type = dt.string_value();
  if (type == "tlp") {
    JsonValue level;
    if (!def.Find("tlp", &level) || !level.is_string()) {
      return ctx.Err("definition.tlp", "is required for a TLP marking (section 7.2.1.4)");
    }
    for (const TlpLevel& t : kTlp) {
      if (t.level == level.string_value()) {
        if (id.string_value() != t.id) {
          return ctx.Err("id", "of the TLP " + std::string(t.level) + " marking must be '" +
                                   std::string(t.id) + "' (section 7.2.1.4)");
        }
        return Status::Ok();
      }
    }
    return ctx.Err("definition.tlp", "must be one of white, green, amber, red (section 7.2.1.4)");
  }
  if (type == "statement") {
    JsonValue st;
    if (!def.Find("statement", &st) || !st.is_string()) {
      return ctx.Err("definition.statement", "is required and must be a string (section 7.2.1.3)");
    }
    return Status::Ok();
  }
  ctx.Warn("definition_type", "is neither 'tlp' nor 'statement' (section 7.2.1)");
  return Status::Ok();
}

Status LanguageContentExtra(JsonValue obj, Ctx& ctx) {
  // Section 7.1: contents maps language tags to dictionaries of translated properties, each a
  // string, a list, or a nested object/list as in the original.
  JsonValue contents;
  if (!obj.Find("contents", &contents)) return Status::Ok();
  for (JsonValue lang : contents) {
    if (!lang.is_object() || lang.size() == 0) {
      return ctx.Err("contents." + std::string(lang.key()),
                     "must be a non-empty dictionary of translated properties");
    }
  }
  return Status::Ok();
}

Status ExtensionDefinitionExtra(JsonValue obj, Ctx& ctx) {
  // Section 7.3: extension_properties names the properties of a toplevel-property-extension.
  JsonValue types, props;
  bool toplevel = false;
  if (obj.Find("extension_types", &types)) {
    for (JsonValue t : types)
      toplevel = toplevel || t.string_value() == "toplevel-property-extension";
  }
  if (obj.Find("extension_properties", &props)) {
    if (!toplevel) {
      return ctx.Err("extension_properties",
                     "is only allowed with a 'toplevel-property-extension' (section 7.3)");
    }
    for (JsonValue p : props) {
      if (!IsValidPropertyName(p.string_value())) {
        return ctx.Err("extension_properties",
                       "lists " + Quote(p.string_value()) + ", which is not a valid property name");
      }
    }
  }
  return Status::Ok();
}

Status ArtifactExtra(JsonValue obj, Ctx& ctx) {
  // Section 6.1: exactly one of payload_bin and url; url requires hashes; decryption_key requires
  // encryption_algorithm.
  const bool bin = obj.Has("payload_bin"), url = obj.Has("url");
  if (bin && url)
    return ctx.Err("url", "must not be present together with 'payload_bin' (section 6.1)");
  if (!bin && !url)
    return ctx.Err("payload_bin", "is required unless 'url' is present (section 6.1)");
  if (url && !obj.Has("hashes"))
    return ctx.Err("hashes", "is required when 'url' is present (section 6.1)");
  if (obj.Has("decryption_key") && !obj.Has("encryption_algorithm")) {
    return ctx.Err("decryption_key", "requires 'encryption_algorithm' (section 6.1)");
  }
  return Status::Ok();
}

Status EmailMessageExtra(JsonValue obj, Ctx& ctx) {
  // Section 6.6: body only when not multipart, body_multipart only when multipart.
  JsonValue mp;
  if (!obj.Find("is_multipart", &mp) || !mp.is_bool()) return Status::Ok();
  if (mp.bool_value() && obj.Has("body")) {
    return ctx.Err("body", "must not be present when 'is_multipart' is true (section 6.6)");
  }
  if (!mp.bool_value() && obj.Has("body_multipart")) {
    return ctx.Err("body_multipart",
                   "must not be present when 'is_multipart' is false (section 6.6)");
  }
  return Status::Ok();
}

Status FileExtra(JsonValue obj, Ctx& ctx) {
  // Section 6.7: a File object MUST contain at least one of hashes or name.
  return NeedOneOf(obj, {"hashes", "name"}, "6.7", ctx);
}

bool ParsePrefixLength(std::string_view s, int max) {
  if (s.empty() || s.size() > 3) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return v <= max;
}

Status IpExtra(JsonValue obj, Ctx& ctx, int family, std::string_view section) {
  JsonValue value;
  if (!obj.Find("value", &value) || !value.is_string()) return Status::Ok();
  std::string_view s = value.string_value();
  std::string_view addr = s.substr(0, s.find('/'));
  if (addr.size() != s.size() &&
      !ParsePrefixLength(s.substr(addr.size() + 1), family == AF_INET ? 32 : 128)) {
    return ctx.Err("value", "has an invalid CIDR prefix length: " + Quote(s));
  }
  std::string a(addr);
  unsigned char buf[16];
  if (a.size() > 64 || inet_pton(family, a.c_str(), buf) != 1) {
    return ctx.Err("value", std::string("must be an ") + (family == AF_INET ? "IPv4" : "IPv6") +
                                " address or CIDR block (section " + std::string(section) +
                                "), not " + Quote(s));
  }
  return Status::Ok();
}
Status Ipv4Extra(JsonValue obj, Ctx& ctx) { return IpExtra(obj, ctx, AF_INET, "6.8"); }
Status Ipv6Extra(JsonValue obj, Ctx& ctx) { return IpExtra(obj, ctx, AF_INET6, "6.9"); }

Status MacExtra(JsonValue obj, Ctx& ctx) {
  // Section 6.10: a single colon-delimited, lowercase MAC-48 address with leading zeros.
  JsonValue value;
  if (!obj.Find("value", &value) || !value.is_string()) return Status::Ok();
  std::string_view s = value.string_value();
  bool ok = s.size() == 17;
  for (size_t i = 0; ok && i < s.size(); ++i) {
    ok = (i % 3 == 2) ? s[i] == ':' : IsLowerHex(s[i]);
  }
  if (!ok)
    return ctx.Err("value", "must be a colon-delimited lowercase MAC-48 address (section 6.10)");
  return Status::Ok();
}

Status NetworkTrafficExtra(JsonValue obj, Ctx& ctx) {
  // Section 6.12: src_ref or dst_ref; end >= start; no end while is_active.
  RETURN_IF_ERROR(NeedOneOf(obj, {"src_ref", "dst_ref"}, "6.12", ctx));
  JsonValue active;
  if (obj.Find("is_active", &active) && active.is_bool() && active.bool_value() && obj.Has("end")) {
    return ctx.Err("end", "must not be present when 'is_active' is true (section 6.12)");
  }
  return CheckOrder(obj, "start", "end", false, ctx);
}

Status AtLeastOneProperty(JsonValue obj, Ctx& ctx, std::string_view section) {
  for (JsonValue m : obj) {
    std::string_view k = m.key();
    if (k != "type" && k != "id" && k != "spec_version") return Status::Ok();
  }
  return ctx.Err("type",
                 "needs at least one property besides 'type', 'id' and 'spec_version' (section " +
                     std::string(section) + ")");
}
Status ProcessExtra(JsonValue obj, Ctx& ctx) { return AtLeastOneProperty(obj, ctx, "6.13"); }
Status X509Extra(JsonValue obj, Ctx& ctx) {
  RETURN_IF_ERROR(AtLeastOneProperty(obj, ctx, "6.18"));
  return CheckOrder(obj, "validity_not_before", "validity_not_after", false, ctx);
}

Status SightingExtra(JsonValue obj, Ctx& ctx) { return SeenOrder(obj, ctx); }

Status ArchiveExtExtra(JsonValue, Ctx&) { return Status::Ok(); }

Status HttpRequestExtExtra(JsonValue ext, Ctx& ctx) {
  JsonValue headers;
  if (ext.Find("request_header", &headers)) {
    for (JsonValue h : headers) {
      if (!h.is_string()) {
        return ctx.Err("extensions.http-request-ext.request_header." + std::string(h.key()),
                       "must be a string");
      }
    }
  }
  return Status::Ok();
}

// ---- The tables ----

const std::unordered_map<std::string_view, TypeRule>& TypeRules() {
  static const auto* rules = [] {
    auto* m = new std::unordered_map<std::string_view, TypeRule>();
    using K = ObjectKind;
    const PropRule name = Req(P("name", PK::kString));
    const PropRule desc = P("description", PK::kString);
    const PropRule aliases = P("aliases", PK::kStringList);
    const PropRule kcp = P("kill_chain_phases", PK::kKillChain);
    const PropRule first_seen = P("first_seen", PK::kTimestamp);
    const PropRule last_seen = P("last_seen", PK::kTimestamp);
    const PropRule any_refs = Req(RefsC("object_refs", kAnyObject));
    const PropRule motivation = V("primary_motivation", PK::kOv, kMotivationOv);
    const PropRule motivations = V("secondary_motivations", PK::kOvList, kMotivationOv);
    const PropRule resource = V("resource_level", PK::kOv, kResourceLevelOv);
    const PropRule goals = P("goals", PK::kStringList);

    // Section 4: domain objects.
    (*m)["attack-pattern"] = {K::kDomain, "4.1", {name, desc, aliases, kcp}};
    (*m)["campaign"] = {K::kDomain,
                        "4.2",
                        {name, desc, aliases, first_seen, last_seen, P("objective", PK::kString)},
                        SeenOrder};
    (*m)["course-of-action"] = {K::kDomain, "4.3", {name, desc}};
    (*m)["grouping"] = {
        K::kDomain,
        "4.4",
        {P("name", PK::kString), desc, Req(V("context", PK::kOv, kGroupingContextOv)), any_refs}};
    (*m)["identity"] = {
        K::kDomain,
        "4.5",
        {name, desc, P("roles", PK::kStringList), V("identity_class", PK::kOv, kIdentityClassOv),
         P("sectors", PK::kStringList), P("contact_information", PK::kString)}};
    (*m)["incident"] = {K::kDomain, "4.6", {name, desc, kcp}};
    (*m)["indicator"] = {
        K::kDomain,
        "4.7",
        {P("name", PK::kString), desc, V("indicator_types", PK::kOvList, kIndicatorTypeOv),
         Req(P("pattern", PK::kString)), Req(V("pattern_type", PK::kOv, kPatternTypeOv)),
         P("pattern_version", PK::kString), Req(P("valid_from", PK::kTimestamp)),
         P("valid_until", PK::kTimestamp), kcp},
        IndicatorExtra};
    (*m)["infrastructure"] = {
        K::kDomain,
        "4.8",
        {name, desc, V("infrastructure_types", PK::kOvList, kInfrastructureTypeOv), aliases, kcp,
         first_seen, last_seen},
        SeenOrder};
    (*m)["intrusion-set"] = {
        K::kDomain,
        "4.9",
        {name, desc, aliases, first_seen, last_seen, goals, resource, motivation, motivations},
        SeenOrder};
    (*m)["location"] = {K::kDomain,
                        "4.10",
                        {P("name", PK::kString), desc, Flt("latitude", -90.0, 90.0),
                         Flt("longitude", -180.0, 180.0),
                         Flt("precision", 0.0, std::numeric_limits<double>::infinity()),
                         V("region", PK::kOv, kRegionOv), P("country", PK::kString),
                         P("administrative_area", PK::kString), P("city", PK::kString),
                         P("street_address", PK::kString), P("postal_code", PK::kString)},
                        LocationExtra};
    (*m)["malware"] = {
        K::kDomain,
        "4.11",
        {P("name", PK::kString), desc, V("malware_types", PK::kOvList, kMalwareTypeOv),
         Req(P("is_family", PK::kBool)), aliases, kcp, first_seen, last_seen,
         Refs("operating_system_refs", kSoftwareT),
         V("architecture_execution_envs", PK::kOvList, kProcessorArchitectureOv),
         V("implementation_languages", PK::kOvList, kImplementationLanguageOv),
         P("capabilities", PK::kStringList), Refs("sample_refs", kFileOrArtifactT)},
        MalwareExtra};
    (*m)["malware-analysis"] = {
        K::kDomain,
        "4.12",
        {Req(P("product", PK::kString)), P("version", PK::kString), Ref("host_vm_ref", kSoftwareT),
         Ref("operating_system_ref", kSoftwareT), Refs("installed_software_refs", kSoftwareT),
         P("configuration_version", PK::kString), P("modules", PK::kStringList),
         P("analysis_engine_version", PK::kString), P("analysis_definition_version", PK::kString),
         P("submitted", PK::kTimestamp), P("analysis_started", PK::kTimestamp),
         P("analysis_ended", PK::kTimestamp), P("result_name", PK::kString),
         V("result", PK::kOv, kMalwareResultOv), RefsC("analysis_sco_refs", kSco),
         Ref("sample_ref", kSampleRefT)},
        MalwareAnalysisExtra};
    (*m)["note"] = {K::kDomain,
                    "4.13",
                    {P("abstract", PK::kString), Req(P("content", PK::kString)),
                     P("authors", PK::kStringList), any_refs}};
    (*m)["observed-data"] = {
        K::kDomain,
        "4.14",
        {Req(P("first_observed", PK::kTimestamp)), Req(P("last_observed", PK::kTimestamp)),
         Req(Int("number_observed", 1, 999999999)), P("objects", PK::kDict),
         RefsC("object_refs", kSco | kSro)},
        ObservedDataExtra};
    (*m)["opinion"] = {K::kDomain,
                       "4.15",
                       {P("explanation", PK::kString), P("authors", PK::kStringList),
                        Req(V("opinion", PK::kEnum, kOpinionEnum)), any_refs}};
    (*m)["report"] = {K::kDomain,
                      "4.16",
                      {name, desc, V("report_types", PK::kOvList, kReportTypeOv),
                       Req(P("published", PK::kTimestamp)), any_refs}};
    (*m)["threat-actor"] = {
        K::kDomain,
        "4.17",
        {name, desc, V("threat_actor_types", PK::kOvList, kThreatActorTypeOv), aliases, first_seen,
         last_seen, V("roles", PK::kOvList, kThreatActorRoleOv), goals,
         V("sophistication", PK::kOv, kSophisticationOv), resource, motivation, motivations,
         V("personal_motivations", PK::kOvList, kMotivationOv)},
        SeenOrder};
    (*m)["tool"] = {K::kDomain,
                    "4.18",
                    {name, desc, V("tool_types", PK::kOvList, kToolTypeOv), aliases, kcp,
                     P("tool_version", PK::kString)}};
    (*m)["vulnerability"] = {K::kDomain, "4.19", {name, desc}};

    // Section 5: relationship objects. Source and target are SDOs or SCOs (section 5.1).
    (*m)["relationship"] = {
        K::kRelationship,
        "5.1",
        {Req(P("relationship_type", PK::kString)), desc, Req(RefC("source_ref", kSdo | kSco)),
         Req(RefC("target_ref", kSdo | kSco)), P("start_time", PK::kTimestamp),
         P("stop_time", PK::kTimestamp)},
        RelationshipExtra};
    (*m)["sighting"] = {
        K::kRelationship,
        "5.2",
        {desc, first_seen, last_seen, Int("count", 0, 999999999),
         Req(RefC("sighting_of_ref", kSdo)), Refs("observed_data_refs", kObservedDataT),
         Refs("where_sighted_refs", kIdentityOrLocationT), P("summary", PK::kBool)},
        SightingExtra};

    // Section 6: cyber-observable objects.
    const PropRule value = Req(P("value", PK::kString));
    (*m)["artifact"] = {
        K::kCyberObservable,
        "6.1",
        {P("mime_type", PK::kString), P("payload_bin", PK::kBinary), P("url", PK::kString),
         P("hashes", PK::kHashes), V("encryption_algorithm", PK::kEnum, kEncryptionAlgorithmEnum),
         P("decryption_key", PK::kString)},
        ArtifactExtra};
    (*m)["autonomous-system"] = {
        K::kCyberObservable,
        "6.2",
        {Req(Int("number", 0, 4294967295LL)), P("name", PK::kString), P("rir", PK::kString)}};
    (*m)["directory"] = {K::kCyberObservable,
                         "6.3",
                         {Req(P("path", PK::kString)), P("path_enc", PK::kString),
                          P("ctime", PK::kTimestamp), P("mtime", PK::kTimestamp),
                          P("atime", PK::kTimestamp), Refs("contains_refs", kFileOrDirectoryT)}};
    (*m)["domain-name"] = {
        K::kCyberObservable, "6.4", {value, Refs("resolves_to_refs", kResolvesDomainT)}};
    (*m)["email-addr"] = {
        K::kCyberObservable,
        "6.5",
        {value, P("display_name", PK::kString), Ref("belongs_to_ref", kUserAccountT)}};
    (*m)["email-message"] = {
        K::kCyberObservable,
        "6.6",
        {Req(P("is_multipart", PK::kBool)), P("date", PK::kTimestamp),
         P("content_type", PK::kString), Ref("from_ref", kEmailAddrT),
         Ref("sender_ref", kEmailAddrT), Refs("to_refs", kEmailAddrT), Refs("cc_refs", kEmailAddrT),
         Refs("bcc_refs", kEmailAddrT), P("message_id", PK::kString), P("subject", PK::kString),
         P("received_lines", PK::kStringList), P("additional_header_fields", PK::kDict),
         P("body", PK::kString), P("body_multipart", PK::kMimeParts),
         Ref("raw_email_ref", kArtifactT)},
        EmailMessageExtra};
    (*m)["file"] = {
        K::kCyberObservable,
        "6.7",
        {P("hashes", PK::kHashes), Int("size", 0, std::numeric_limits<int64_t>::max()),
         P("name", PK::kString), P("name_enc", PK::kString), P("magic_number_hex", PK::kHex),
         P("mime_type", PK::kString), P("ctime", PK::kTimestamp), P("mtime", PK::kTimestamp),
         P("atime", PK::kTimestamp), Ref("parent_directory_ref", kDirectoryT),
         RefsC("contains_refs", kSco), Ref("content_ref", kArtifactT)},
        FileExtra};
    (*m)["ipv4-addr"] = {
        K::kCyberObservable,
        "6.8",
        {value, Refs("resolves_to_refs", kMacAddrT), Refs("belongs_to_refs", kAutonomousSystemT)},
        Ipv4Extra};
    (*m)["ipv6-addr"] = {
        K::kCyberObservable,
        "6.9",
        {value, Refs("resolves_to_refs", kMacAddrT), Refs("belongs_to_refs", kAutonomousSystemT)},
        Ipv6Extra};
    (*m)["mac-addr"] = {K::kCyberObservable, "6.10", {value}, MacExtra};
    (*m)["mutex"] = {K::kCyberObservable, "6.11", {Req(P("name", PK::kString))}};
    const PropRule count = Int("src_byte_count", 0, std::numeric_limits<int64_t>::max());
    auto counter = [&](std::string_view n) {
      PropRule r = count;
      r.name = n;
      return r;
    };
    (*m)["network-traffic"] = {
        K::kCyberObservable,
        "6.12",
        {P("start", PK::kTimestamp), P("end", PK::kTimestamp), P("is_active", PK::kBool),
         Ref("src_ref", kNetworkEndpointT), Ref("dst_ref", kNetworkEndpointT),
         Int("src_port", 0, 65535), Int("dst_port", 0, 65535), Req(P("protocols", PK::kStringList)),
         counter("src_byte_count"), counter("dst_byte_count"), counter("src_packets"),
         counter("dst_packets"), P("ipfix", PK::kDict), Ref("src_payload_ref", kArtifactT),
         Ref("dst_payload_ref", kArtifactT), Refs("encapsulates_refs", kNetworkTrafficT),
         Ref("encapsulated_by_ref", kNetworkTrafficT)},
        NetworkTrafficExtra};
    (*m)["process"] = {
        K::kCyberObservable,
        "6.13",
        {P("is_hidden", PK::kBool), Int("pid", 0, std::numeric_limits<int64_t>::max()),
         P("created_time", PK::kTimestamp), P("cwd", PK::kString), P("command_line", PK::kString),
         P("environment_variables", PK::kDict), Refs("opened_connection_refs", kNetworkTrafficT),
         Ref("creator_user_ref", kUserAccountT), Ref("image_ref", kFileT),
         Ref("parent_ref", kProcessT), Refs("child_refs", kProcessT)},
        ProcessExtra};
    (*m)["software"] = {
        K::kCyberObservable,
        "6.14",
        {Req(P("name", PK::kString)), P("cpe", PK::kString), P("swid", PK::kString),
         P("languages", PK::kStringList), P("vendor", PK::kString), P("version", PK::kString)}};
    (*m)["url"] = {K::kCyberObservable, "6.15", {value}};
    (*m)["user-account"] = {
        K::kCyberObservable,
        "6.16",
        {P("user_id", PK::kString), P("credential", PK::kString), P("account_login", PK::kString),
         V("account_type", PK::kOv, kAccountTypeOv), P("display_name", PK::kString),
         P("is_service_account", PK::kBool), P("is_privileged", PK::kBool),
         P("can_escalate_privs", PK::kBool), P("is_disabled", PK::kBool),
         P("account_created", PK::kTimestamp), P("account_expires", PK::kTimestamp),
         P("credential_last_changed", PK::kTimestamp), P("account_first_login", PK::kTimestamp),
         P("account_last_login", PK::kTimestamp)}};
    (*m)["windows-registry-key"] = {
        K::kCyberObservable,
        "6.17",
        {P("key", PK::kString), P("values", PK::kRegistryValues),
         P("modified_time", PK::kTimestamp), Ref("creator_user_ref", kUserAccountT),
         Int("number_of_subkeys", 0, std::numeric_limits<int64_t>::max())}};
    (*m)["x509-certificate"] = {
        K::kCyberObservable,
        "6.18",
        {P("is_self_signed", PK::kBool), P("hashes", PK::kHashes), P("version", PK::kString),
         P("serial_number", PK::kString), P("signature_algorithm", PK::kString),
         P("issuer", PK::kString), P("validity_not_before", PK::kTimestamp),
         P("validity_not_after", PK::kTimestamp), P("subject", PK::kString),
         P("subject_public_key_algorithm", PK::kString),
         P("subject_public_key_modulus", PK::kString),
         Int("subject_public_key_exponent", 0, std::numeric_limits<int64_t>::max()),
         P("x509_v3_extensions", PK::kStringDict)},
        X509Extra};

    // Section 7: meta objects.
    (*m)["language-content"] = {
        K::kMeta,
        "7.1",
        {Req(RefC("object_ref", kAnyObject)), P("object_modified", PK::kTimestamp),
         Req(P("contents", PK::kDict))},
        LanguageContentExtra};
    (*m)["marking-definition"] = {
        K::kMeta,
        "7.2.1",
        {P("name", PK::kString), P("definition_type", PK::kString), P("definition", PK::kObject)},
        MarkingDefinitionExtra};
    (*m)["extension-definition"] = {
        K::kMeta,
        "7.3",
        {name, desc, Req(P("schema", PK::kString)), Req(P("version", PK::kString)),
         Req(V("extension_types", PK::kEnumList, kExtensionTypeEnum)),
         P("extension_properties", PK::kStringList)},
        ExtensionDefinitionExtra};
    for (auto& [type, rule] : *m) {
      // ValidateObject tracks presence in a 64-bit mask.
      LIAISON_CHECK(rule.props.size() < 64);
      for (size_t k = 0; k < rule.props.size(); ++k) {
        rule.index.emplace(rule.props[k].name, static_cast<uint8_t>(k));
      }
    }
    return m;
  }();
  return *rules;
}

const std::unordered_map<std::string_view, ExtensionRule>& ExtensionRules() {
  static const auto* rules = [] {
    auto* m = new std::unordered_map<std::string_view, ExtensionRule>();
    const int64_t kMax = std::numeric_limits<int64_t>::max();
    // Section 6.7.2-6.7.6: file extensions.
    (*m)["archive-ext"] = {
        "file", {Req(RefsC("contains_refs", kSco)), P("comment", PK::kString)}, ArchiveExtExtra};
    (*m)["ntfs-ext"] = {"file",
                        {P("sid", PK::kString), P("alternate_data_streams", PK::kObjectList)}};
    (*m)["pdf-ext"] = {"file",
                       {P("version", PK::kString), P("is_optimized", PK::kBool),
                        P("document_info_dict", PK::kStringDict), P("pdfid0", PK::kString),
                        P("pdfid1", PK::kString)}};
    (*m)["raster-image-ext"] = {"file",
                                {Int("image_height", 0, kMax), Int("image_width", 0, kMax),
                                 Int("bits_per_pixel", 0, kMax), P("exif_tags", PK::kDict)}};
    (*m)["windows-pebinary-ext"] = {
        "file",
        {Req(V("pe_type", PK::kOv, kPeTypeOv)), P("imphash", PK::kString),
         P("machine_hex", PK::kHex), Int("number_of_sections", 0, kMax),
         P("time_date_stamp", PK::kTimestamp), P("pointer_to_symbol_table_hex", PK::kHex),
         Int("number_of_symbols", 0, kMax), Int("size_of_optional_header", 0, kMax),
         P("characteristics_hex", PK::kHex), P("file_header_hashes", PK::kHashes),
         P("optional_header", PK::kObject), P("sections", PK::kObjectList)}};
    // Section 6.12.2-6.12.5: network traffic extensions.
    (*m)["http-request-ext"] = {
        "network-traffic",
        {Req(P("request_method", PK::kString)), Req(P("request_value", PK::kString)),
         P("request_version", PK::kString), P("request_header", PK::kDict),
         Int("message_body_length", 0, kMax), Ref("message_body_data_ref", kArtifactT)},
        HttpRequestExtExtra};
    (*m)["icmp-ext"] = {"network-traffic",
                        {Req(P("icmp_type_hex", PK::kHex)), Req(P("icmp_code_hex", PK::kHex))}};
    (*m)["socket-ext"] = {"network-traffic",
                          {Req(V("address_family", PK::kEnum, kSocketAddressFamilyEnum)),
                           P("is_blocking", PK::kBool), P("is_listening", PK::kBool),
                           P("options", PK::kDict), V("socket_type", PK::kEnum, kSocketTypeEnum),
                           Int("socket_descriptor", 0, kMax), Int("socket_handle", 0, kMax)}};
    (*m)["tcp-ext"] = {"network-traffic",
                       {P("src_flags_hex", PK::kHex), P("dst_flags_hex", PK::kHex)}};
    // Section 6.13.2-6.13.3: process extensions.
    (*m)["windows-process-ext"] = {
        "process",
        {P("aslr_enabled", PK::kBool), P("dep_enabled", PK::kBool), P("priority", PK::kString),
         P("owner_sid", PK::kString), P("window_title", PK::kString), P("startup_info", PK::kDict),
         V("integrity_level", PK::kEnum, kIntegrityLevelEnum)}};
    (*m)["windows-service-ext"] = {
        "process",
        {P("service_name", PK::kString), P("descriptions", PK::kStringList),
         P("display_name", PK::kString), P("group_name", PK::kString),
         V("start_type", PK::kEnum, kServiceStartTypeEnum), Refs("service_dll_refs", kFileT),
         V("service_type", PK::kEnum, kServiceTypeEnum),
         V("service_status", PK::kEnum, kServiceStatusEnum)}};
    // Section 6.16.2: UNIX account extension.
    (*m)["unix-account-ext"] = {
        "user-account",
        {Int("gid", std::numeric_limits<int64_t>::min(), kMax), P("groups", PK::kStringList),
         P("home_dir", PK::kString), P("shell", PK::kString)}};
    return m;
  }();
  return *rules;
}

// ---- Liaison's custom properties (issue 4: partnership channels) ----

// "x_liaison_recipients": the organisations a publisher names (policy/sharing.h). STIX 2.1
// section 2.11: lists are never empty.
Status CheckRecipients(JsonValue v, Ctx& ctx, ObjectInfo& info) {
  constexpr std::string_view kName = "x_liaison_recipients";
  if (!v.is_array()) return ctx.Err(kName, "must be a list of identity identifiers");
  if (v.size() == 0) return ctx.Err(kName, "must not be an empty list (section 2.11)");
  if (v.size() > kMaxRecipients) {
    return ctx.Err(kName, "names " + std::to_string(v.size()) + " recipients; at most " +
                              std::to_string(kMaxRecipients) + " are allowed");
  }
  size_t i = 0;
  for (JsonValue item : v) {
    const std::string path = Item(kName, i++);
    RETURN_IF_ERROR(
        CheckIdentifierValue(item, path, RefRule{.classes = kAnyObject, .types = kIdentityT}, ctx));
    std::string_view id = item.string_value();
    if (std::find(info.recipients.begin(), info.recipients.end(), id) != info.recipients.end()) {
      return ctx.Err(path, "names " + Quote(id) + " a second time");
    }
    info.recipients.emplace_back(id);
  }
  return Status::Ok();
}

Status CheckFeedback(JsonValue v, std::string_view type, Ctx& ctx, ObjectInfo& info) {
  constexpr std::string_view kName = "x_liaison_feedback";
  if (type != "sighting" && type != "opinion" && type != "note") {
    return ctx.Err(kName, "is only allowed on sighting, opinion and note objects");
  }
  if (!v.is_object()) {
    return ctx.Err(kName, "must be an object {\"outcome\": ..., \"note\": ...}");
  }
  bool have_outcome = false;
  for (JsonValue m : v) {
    std::string_view k = m.key();
    if (k == "outcome") {
      static constexpr std::string_view kOutcomes[] = {"seen", "acted-on", "false-positive"};
      if (!m.is_string() || !Contains(kOutcomes, m.string_value())) {
        return ctx.Err("x_liaison_feedback.outcome",
                       "must be one of \"seen\", \"acted-on\", \"false-positive\"");
      }
      info.feedback_outcome = std::string(m.string_value());
      have_outcome = true;
    } else if (k == "note") {
      if (!m.is_string()) return ctx.Err("x_liaison_feedback.note", "must be a string");
      if (m.string_value().size() > kMaxFeedbackNoteBytes) {
        return ctx.Err("x_liaison_feedback.note",
                       "must be at most " + std::to_string(kMaxFeedbackNoteBytes) + " bytes");
      }
      info.feedback_note = std::string(m.string_value());
    } else {
      return ctx.Err("x_liaison_feedback." + std::string(k.substr(0, 60)),
                     "is not a member of x_liaison_feedback (only \"outcome\" and \"note\")");
    }
  }
  if (!have_outcome) return ctx.Err("x_liaison_feedback.outcome", "is required");
  return Status::Ok();
}

// "x_liaison_signature" (crypto/signature.h): the shape only; crypto/ verifies the signature.
Status CheckSignatureShape(JsonValue v, Ctx& ctx) {
  constexpr std::string_view kName = "x_liaison_signature";
  if (!v.is_object()) {
    return ctx.Err(kName, "must be an object with the strings hub, key, alg and sig");
  }
  static constexpr std::string_view kMembers[] = {"hub", "key", "alg", "sig"};
  for (JsonValue m : v) {
    if (!Contains(kMembers, m.key())) {
      return ctx.Err("x_liaison_signature." + std::string(m.key().substr(0, 60)),
                     "is not a member of a signature block (hub, key, alg, sig)");
    }
  }
  for (std::string_view member : kMembers) {
    const std::string path = "x_liaison_signature." + std::string(member);
    JsonValue m;
    if (!v.Find(member, &m)) return ctx.Err(path, "is required");
    if (!m.is_string() || m.string_value().empty()) {
      return ctx.Err(path, "must be a non-empty string");
    }
  }
  JsonValue hub;
  v.Find("hub", &hub);
  return CheckIdentifierValue(hub, "x_liaison_signature.hub",
                              RefRule{.classes = kAnyObject, .types = kIdentityT}, ctx);
}

Status CheckLiaisonProperties(JsonValue root, std::string_view type, Ctx& ctx, ObjectInfo& info) {
  JsonValue v;
  if (root.Find("x_liaison_recipients", &v)) RETURN_IF_ERROR(CheckRecipients(v, ctx, info));
  if (root.Find("x_liaison_feedback", &v)) RETURN_IF_ERROR(CheckFeedback(v, type, ctx, info));
  if (root.Find("x_liaison_signature", &v)) {
    RETURN_IF_ERROR(CheckSignatureShape(v, ctx));
    info.has_signature = true;
  }
  // What the object is about (already checked as references by the type's rules).
  if (type == "sighting" && root.Find("sighting_of_ref", &v) && v.is_string()) {
    info.refs.emplace_back(v.string_value());
  }
  if (root.Find("object_refs", &v) && v.is_array()) {
    for (JsonValue r : v) {
      if (r.is_string()) info.refs.emplace_back(r.string_value());
    }
  }
  if (type == "sighting" && root.Find("count", &v) && v.is_integer()) {
    info.sighting_count = v.int_value();
  }
  return Status::Ok();
}

bool IsCommonProperty(std::string_view name) {
  static constexpr std::string_view kCommon[] = {"type",
                                                 "spec_version",
                                                 "id",
                                                 "created_by_ref",
                                                 "created",
                                                 "modified",
                                                 "revoked",
                                                 "labels",
                                                 "confidence",
                                                 "lang",
                                                 "external_references",
                                                 "object_marking_refs",
                                                 "granular_markings",
                                                 "extensions",
                                                 "defanged"};
  return Contains(kCommon, name);
}

}  // namespace

std::optional<ObjectKind> KindOfSpecType(std::string_view type) {
  auto it = TypeRules().find(type);
  if (it == TypeRules().end()) return std::nullopt;
  return it->second.kind;
}

Result<ObjectInfo> ValidateObject(JsonValue root, const ParseLimits& limits,
                                  std::vector<Warning>* warnings) {
  Ctx ctx;
  ctx.warnings = warnings;
  ctx.root = root;
  ctx.name = "object";
  if (!root.is_object()) return InvalidArgumentError("a STIX object must be a JSON object");

  // Identify the object first so that every later message can name it.
  JsonValue type_v, id_v;
  const bool has_type = root.Find("type", &type_v) && type_v.is_string();
  const bool has_id = root.Find("id", &id_v) && id_v.is_string();
  if (has_id && id_v.string_value().size() <= 300) {
    ctx.name = std::string(id_v.string_value());
  } else if (has_type && type_v.string_value().size() <= 250) {
    ctx.name = std::string(type_v.string_value());
  }
  if (root.height() > limits.max_depth) {
    return InvalidArgumentError(ctx.name + ": nested deeper than " +
                                std::to_string(limits.max_depth) + " levels");
  }
  if (std::string_view dup; root.FindDuplicateKey(&dup)) {
    return InvalidArgumentError(ctx.name + ": key " + Quote(dup) +
                                " occurs twice in one JSON object, which is ambiguous");
  }

  // Section 3.2: type and id.
  if (!root.Has("type")) return ctx.Err("type", "is required");
  if (!has_type) return ctx.Err("type", "must be a string");
  const std::string_view type = type_v.string_value();
  if (!IsValidTypeName(type)) {
    return ctx.Err(
        "type", "must be 3-250 characters of a-z, 0-9 and '-' (section 3.1), not " + Quote(type));
  }
  if (type == "bundle")
    return ctx.Err("type",
                   "'bundle' cannot appear as an object of a bundle or envelope (section 8)");
  if (!root.Has("id")) return ctx.Err("id", "is required");
  if (!has_id) return ctx.Err("id", "must be a string");
  const std::string_view id = id_v.string_value();
  if (!IsValidIdentifier(id)) {
    return ctx.Err("id", "must be '" + std::string(type) +
                             "--' followed by a lowercase RFC 4122 UUID (section 2.9)");
  }
  if (id.substr(0, id.find("--")) != type) {
    return ctx.Err("id",
                   "must start with the object's type '" + std::string(type) + "--' (section 2.9)");
  }

  auto rule_it = TypeRules().find(type);
  const TypeRule* rule = rule_it == TypeRules().end() ? nullptr : &rule_it->second;
  ObjectKind kind = rule ? rule->kind : ObjectKind::kCustom;
  // A custom object declared by an extension definition follows the common properties of what it
  // declares itself to be (section 7.3); a legacy custom object (section 11.2) those of an SDO.
  bool sco_like = kind == ObjectKind::kCyberObservable;
  if (kind == ObjectKind::kCustom) {
    std::string_view declared = NewObjectExtensionType(root);
    sco_like = declared == "new-sco";
    if (declared.empty()) {
      ctx.Warn("type",
               "custom object types without an extension definition are deprecated in "
               "STIX 2.1 (section 11.2)");
    }
  }
  const bool marking = type == "marking-definition";

  ObjectInfo info;
  info.id = std::string(id);
  info.type = std::string(type);
  info.kind = kind;
  info.spec_version = "2.1";

  // Section 3.2: spec_version is required except on SCOs, where absence means 2.1.
  JsonValue sv;
  if (root.Find("spec_version", &sv)) {
    if (!sv.is_string()) return ctx.Err("spec_version", "must be the string \"2.1\"");
    if (sv.string_value() != "2.1") {
      return ctx.Err("spec_version",
                     "is " + Quote(sv.string_value()) + ": only STIX 2.1 content is accepted");
    }
  } else if (!sco_like) {
    return ctx.Err("spec_version", "is required (\"2.1\"; only STIX 2.1 content is accepted)");
  }

  // created / modified (section 3.2): required on SDOs, SROs and most meta objects; marking
  // definitions have created only; SCOs have neither.
  const bool needs_created = !sco_like;
  const bool needs_modified = !sco_like && !marking;
  JsonValue v;
  if (root.Find("created", &v)) {
    ASSIGN_OR_RETURN(Timestamp ts, CheckTimestamp(v, "created", ctx));
    info.created = ts;
    std::string_view s = v.string_value();
    if (s.size() < 24 || s[19] != '.') {
      ctx.Warn("created", "should be precise to the millisecond (section 3.2)");
    }
  } else if (needs_created) {
    return ctx.Err("created", "is required");
  }
  if (root.Find("modified", &v)) {
    ASSIGN_OR_RETURN(Timestamp ts, CheckTimestamp(v, "modified", ctx));
    info.modified = ts;
    std::string_view s = v.string_value();
    if (s.size() < 24 || s[19] != '.') {
      ctx.Warn("modified", "should be precise to the millisecond (section 3.2)");
    }
    if (info.created && *info.modified < *info.created) {
      return ctx.Err("modified", "must not be earlier than 'created' (section 3.2)");
    }
  } else if (needs_modified) {
    return ctx.Err("modified", "is required");
  }

  // The other common properties (section 3.2), where present.
  if (root.Find("created_by_ref", &v)) {
    RETURN_IF_ERROR(CheckValue(Ref("created_by_ref", kIdentityT), v, "created_by_ref", ctx));
    info.created_by_ref = std::string(v.string_value());
  } else if (type == "extension-definition") {
    return ctx.Err("created_by_ref", "is required (section 7.3)");
  }
  if (root.Find("revoked", &v)) {
    if (!v.is_bool()) return ctx.Err("revoked", "must be a boolean");
    info.revoked = v.bool_value();
  }
  if (root.Find("labels", &v)) RETURN_IF_ERROR(CheckStringList(v, "labels", ctx));
  if (root.Find("confidence", &v))
    RETURN_IF_ERROR(CheckValue(Int("confidence", 0, 100), v, "confidence", ctx));
  if (root.Find("lang", &v)) {
    if (!v.is_string() || v.string_value().empty()) {
      return ctx.Err("lang", "must be an RFC 5646 language tag");
    }
  }
  if (root.Find("external_references", &v)) RETURN_IF_ERROR(CheckExternalReferences(v, ctx));
  if (root.Find("object_marking_refs", &v)) {
    RETURN_IF_ERROR(
        CheckValue(Refs("object_marking_refs", kMarkingT), v, "object_marking_refs", ctx));
    for (JsonValue r : v) info.object_marking_refs.emplace_back(r.string_value());
  }
  if (root.Find("granular_markings", &v)) RETURN_IF_ERROR(CheckGranularMarkings(v, ctx));
  if (root.Find("extensions", &v)) RETURN_IF_ERROR(CheckExtensions(v, type, ctx));
  if (sco_like && root.Find("defanged", &v) && !v.is_bool()) {
    return ctx.Err("defanged", "must be a boolean");
  }
  if (sco_like) {
    // Section 3.2: these common properties do not apply to cyber-observable objects.
    for (std::string_view n : {"created", "modified", "created_by_ref", "revoked", "labels",
                               "confidence", "lang", "external_references"}) {
      if (root.Has(n)) ctx.Warn(n, "is not a property of cyber-observable objects (section 3.2)");
    }
  } else if (marking) {
    for (std::string_view n : {"modified", "revoked", "labels", "confidence", "lang"}) {
      if (root.Has(n)) ctx.Warn(n, "is not a property of marking definitions (section 7.2.1)");
    }
  }

  // The type's own properties, and everything else as a custom property (section 11.1, accepted
  // when its name is well formed), in one pass over the members.
  uint64_t seen = 0;  // bit i: rule->props[i] is present (checked < 64 when the table is built)
  for (JsonValue m : root) {
    std::string_view k = m.key();
    if (rule != nullptr) {
      auto it = rule->index.find(k);
      if (it != rule->index.end()) {
        seen |= uint64_t{1} << it->second;
        RETURN_IF_ERROR(CheckValue(rule->props[it->second], m, k, ctx));
        continue;
      }
    }
    if (IsCommonProperty(k)) continue;
    // Custom reference properties follow the naming rule of all reference properties: a name
    // ending in _ref holds an identifier, one ending in _refs a list of identifiers.
    if (k.size() > 4 && k.substr(k.size() - 4) == "_ref") {
      RETURN_IF_ERROR(CheckIdentifierValue(m, k, RefRule{}, ctx));
    } else if (k.size() > 5 && k.substr(k.size() - 5) == "_refs") {
      RETURN_IF_ERROR(CheckValue(RefsC(k, kAnyObject), m, k, ctx));
    }
    if (!IsValidPropertyName(k)) {
      std::string shown(k.substr(0, 60));
      return InvalidArgumentError(ctx.name + ": property name " + Quote(shown) +
                                  " is not valid: names are 3-250 characters of a-z, 0-9 and '_' "
                                  "(section 3.1)");
    }
  }
  if (rule != nullptr) {
    for (size_t i = 0; i < rule->props.size(); ++i) {
      if (rule->props[i].required && (seen & (uint64_t{1} << i)) == 0) {
        return ctx.Err(rule->props[i].name, "is required");
      }
    }
  }
  if (rule != nullptr && rule->extra != nullptr) RETURN_IF_ERROR(rule->extra(root, ctx));
  RETURN_IF_ERROR(CheckLiaisonProperties(root, type, ctx, info));
  return info;
}

}  // namespace liaison::stix
