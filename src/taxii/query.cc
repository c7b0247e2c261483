#include "taxii/query.h"

#include <algorithm>
#include <limits>

#include "stix/timestamp.h"

namespace liaison::taxii {
namespace {

enum class Param {
  kAddedAfter,
  kLimit,
  kNext,
  kMatchId,
  kMatchType,
  kMatchVersion,
  kMatchSpecVersion,
  kOther
};

Param Classify(std::string_view key) {
  if (key == "added_after") return Param::kAddedAfter;
  if (key == "limit") return Param::kLimit;
  if (key == "next") return Param::kNext;
  if (key == "match[id]") return Param::kMatchId;
  if (key == "match[type]") return Param::kMatchType;
  if (key == "match[version]") return Param::kMatchVersion;
  if (key == "match[spec_version]") return Param::kMatchSpecVersion;
  return Param::kOther;
}

bool Applies(Param p, Endpoint e) {
  switch (p) {
    case Param::kAddedAfter:
    case Param::kLimit:
    case Param::kNext:
      return e != Endpoint::kDeleteObject;
    case Param::kMatchId:
    case Param::kMatchType:
      return e == Endpoint::kObjects || e == Endpoint::kManifest;
    case Param::kMatchVersion:
      return e != Endpoint::kVersions;
    case Param::kMatchSpecVersion:
      return true;
    case Param::kOther:
      return false;
  }
  return false;
}

// Values shown back in error messages are bounded so a hostile query cannot inflate the answer.
std::string Quote(std::string_view v) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  for (char c : v.substr(0, kMax)) out += (c >= 0x20 && c <= 0x7e) ? c : '?';
  if (v.size() > kMax) out += "...";
  out += "'";
  return out;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// TAXII 2.1 section 3.4: "Multiple values are separated by a comma ... without any spaces".
Result<std::vector<std::string>> SplitValues(std::string_view key, std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = value.find(',', start);
    std::string_view item = value.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) {
      return InvalidArgumentError(std::string(key) + " has an empty value (values are separated " +
                                  "by single commas, without spaces)");
    }
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

void AppendUnique(std::vector<std::string>& to, std::string value) {
  if (std::find(to.begin(), to.end(), value) == to.end()) to.push_back(std::move(value));
}

// "n.m" with unsigned integers (TAXII 2.1 section 1.6.8.2 uses the same form for versions).
bool LooksLikeSpecVersion(std::string_view v) {
  size_t dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size() || v.size() > 16) {
    return false;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == dot) continue;
    if (v[i] < '0' || v[i] > '9') return false;
  }
  return true;
}

Result<int64_t> ParseTimestampParam(std::string_view key, std::string_view value) {
  Result<stix::Timestamp> ts = stix::ParseTimestamp(value);
  if (!ts.ok()) {
    return InvalidArgumentError(std::string(key) + " " + Quote(value) +
                                " is not a timestamp like 2016-01-01T01:01:01.000000Z");
  }
  return ts->micros;
}

Result<size_t> ParseLimit(std::string_view value) {
  // TAXII 2.1 section 3.4: "a positive integer greater than zero".
  if (value.empty() || value.size() > 32) {
    return InvalidArgumentError("limit " + Quote(value) + " is not a positive integer");
  }
  size_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') {
      return InvalidArgumentError("limit " + Quote(value) + " is not a positive integer");
    }
    size_t digit = static_cast<size_t>(c - '0');
    if (n > (std::numeric_limits<size_t>::max() - digit) / 10) {
      n = std::numeric_limits<size_t>::max();  // saturate; the caller lowers it to its cap
    } else {
      n = n * 10 + digit;
    }
  }
  if (n == 0) return InvalidArgumentError("limit must be greater than zero");
  return n;
}

void AppendList(std::string& out, std::string_view name, std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  out += name;
  out += '=';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += values[i];
  }
  out += '\n';
}

}  // namespace

bool LooksLikeStixType(std::string_view type) {
  if (type.empty() || type.size() > 250) return false;
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool LooksLikeUuid(std::string_view uuid) {
  if (uuid.size() != 36) return false;
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (uuid[i] != '-') return false;
    } else if (!IsHex(uuid[i])) {
      return false;
    }
  }
  return true;
}

bool LooksLikeStixId(std::string_view id) {
  size_t sep = id.rfind("--");
  if (sep == std::string_view::npos) return false;
  return LooksLikeStixType(id.substr(0, sep)) && LooksLikeUuid(id.substr(sep + 2));
}

std::string Filters::Canonical() const {
  std::string out;
  if (added_after) out += "added_after=" + std::to_string(*added_after) + "\n";
  AppendList(out, "id", ids);
  AppendList(out, "type", types);
  AppendList(out, "spec_version", spec_versions);
  std::vector<std::string> version_terms;
  for (storage::VersionSelector s : version_selectors) {
    switch (s) {
      case storage::VersionSelector::kFirst:
        version_terms.push_back("first");
        break;
      case storage::VersionSelector::kLast:
        version_terms.push_back("last");
        break;
      case storage::VersionSelector::kAll:
        version_terms.push_back("all");
        break;
    }
  }
  for (int64_t v : versions) version_terms.push_back(std::to_string(v));
  AppendList(out, "version", std::move(version_terms));
  return out;
}

Result<Filters> ParseFilters(const std::vector<std::pair<std::string, std::string>>& query,
                             Endpoint endpoint, const QueryLimits& limits) {
  if (query.size() > limits.max_params) {
    return InvalidArgumentError("the query has more than " + std::to_string(limits.max_params) +
                                " parameters");
  }
  size_t bytes = 0;
  for (const auto& [key, value] : query) bytes += key.size() + value.size() + 2;
  if (bytes > limits.max_query_bytes) {
    return InvalidArgumentError("the query is longer than " +
                                std::to_string(limits.max_query_bytes) + " bytes");
  }

  Filters f;
  bool seen[static_cast<int>(Param::kOther)] = {};
  size_t match_values = 0;
  for (const auto& [key, value] : query) {
    Param p = Classify(key);
    if (!Applies(p, endpoint)) continue;
    bool& was_seen = seen[static_cast<int>(p)];
    if (was_seen) {
      // TAXII 2.1 section 3.4: added_after, limit and next are single values, and each
      // match[<field>] "MUST NOT occur more than once in a request".
      return InvalidArgumentError(key + " appears more than once; give it once, with " +
                                  "comma-separated values where the parameter takes several");
    }
    was_seen = true;
    switch (p) {
      case Param::kAddedAfter: {
        ASSIGN_OR_RETURN(int64_t micros, ParseTimestampParam(key, value));
        f.added_after = micros;
        break;
      }
      case Param::kLimit: {
        ASSIGN_OR_RETURN(size_t limit, ParseLimit(value));
        f.limit = limit;
        break;
      }
      case Param::kNext:
        if (value.empty()) return InvalidArgumentError("next is empty");
        f.next = value;
        break;
      case Param::kMatchId:
      case Param::kMatchType:
      case Param::kMatchVersion:
      case Param::kMatchSpecVersion: {
        ASSIGN_OR_RETURN(std::vector<std::string> values, SplitValues(key, value));
        match_values += values.size();
        if (match_values > limits.max_match_values) {
          return InvalidArgumentError("the match parameters hold more than " +
                                      std::to_string(limits.max_match_values) + " values");
        }
        for (std::string& v : values) {
          if (p == Param::kMatchId) {
            if (!LooksLikeStixId(v)) {
              return InvalidArgumentError("match[id] value " + Quote(v) +
                                          " is not a STIX identifier like "
                                          "indicator--3600ad1b-fff1-4c98-bcc9-4de3bc2e2ffb");
            }
            AppendUnique(f.ids, std::move(v));
          } else if (p == Param::kMatchType) {
            if (!LooksLikeStixType(v)) {
              return InvalidArgumentError("match[type] value " + Quote(v) +
                                          " is not a STIX type name (lower-case letters, digits "
                                          "and '-')");
            }
            AppendUnique(f.types, std::move(v));
          } else if (p == Param::kMatchSpecVersion) {
            if (!LooksLikeSpecVersion(v)) {
              return InvalidArgumentError("match[spec_version] value " + Quote(v) +
                                          " is not a version like 2.1");
            }
            AppendUnique(f.spec_versions, std::move(v));
          } else {
            // TAXII 2.1 section 3.4.1, version: keywords and versions must not repeat, and "all"
            // must not be combined with any other value.
            std::optional<storage::VersionSelector> selector;
            if (v == "first") selector = storage::VersionSelector::kFirst;
            if (v == "last") selector = storage::VersionSelector::kLast;
            if (v == "all") selector = storage::VersionSelector::kAll;
            if (selector) {
              if (std::find(f.version_selectors.begin(), f.version_selectors.end(), *selector) !=
                  f.version_selectors.end()) {
                return InvalidArgumentError("match[version] lists '" + v + "' more than once");
              }
              f.version_selectors.push_back(*selector);
            } else {
              ASSIGN_OR_RETURN(int64_t micros, ParseTimestampParam("match[version]", v));
              if (std::find(f.versions.begin(), f.versions.end(), micros) != f.versions.end()) {
                return InvalidArgumentError("match[version] lists the version " + Quote(v) +
                                            " more than once");
              }
              f.versions.push_back(micros);
            }
          }
        }
        if (p == Param::kMatchVersion &&
            std::find(f.version_selectors.begin(), f.version_selectors.end(),
                      storage::VersionSelector::kAll) != f.version_selectors.end() &&
            f.version_selectors.size() + f.versions.size() > 1) {
          return InvalidArgumentError("match[version]=all cannot be combined with other versions");
        }
        break;
      }
      case Param::kOther:
        break;
    }
  }
  return f;
}

}  // namespace liaison::taxii
