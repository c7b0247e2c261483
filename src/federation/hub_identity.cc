#include "federation/hub_identity.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>
#include <boost/url/url_view.hpp>

#include "common/json_writer.h"
#include "crypto/hub_keys.h"
#include "stix/json_codec.h"
#include "stix/object.h"
#include "storage/hub_settings.h"

namespace liaison::federation {
namespace {

constexpr int kIdentityFileVersion = 1;
constexpr char kVersionMember[] = "liaison_identity";
// An identity file is a few kilobytes; refuse anything absurdly large before parsing it.
constexpr size_t kMaxIdentityFileBytes = 1 << 20;
constexpr size_t kMaxInboxLength = 128;
constexpr size_t kMaxUrlLength = 2048;

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

Status Invalid(const std::string& problem) {
  return InvalidArgumentError("identity file: " + problem);
}

Result<std::optional<std::string>> Setting(storage::Store& store, const char* key) {
  Result<std::optional<std::string>> value = store.GetSetting(key);
  if (!value.ok()) return value.status().WithContext(std::string("reading setting ") + key);
  return value;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A TAXII collection id as it appears in a URL path: unreserved characters only (RFC 3986
// section 2.3), so it can be put into "collections/{id}/objects/" without escaping.
bool IsCollectionId(std::string_view s) {
  if (s.empty() || s.size() > kMaxInboxLength) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}

// "" (not published yet) or an absolute http(s) URL with a host, parsed by Boost.URL (RFC 3986),
// without user information (credentials never travel inside an identity file) or fragment.
Status CheckUrl(std::string_view url) {
  if (url.empty()) return Status::Ok();
  if (url.size() > kMaxUrlLength) return Invalid("'url' is too long");
  boost::system::result<boost::urls::url_view> parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return Invalid("'url' " + Quote(url) + " is not a valid absolute URL");
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::http && u.scheme_id() != boost::urls::scheme::https) {
    return Invalid("'url' " + Quote(url) + " is not an http:// or https:// URL");
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    return Invalid("'url' " + Quote(url) + " has no host");
  }
  if (u.has_userinfo()) {
    return Invalid("'url' " + Quote(url) + " must not carry user information");
  }
  if (u.has_fragment()) return Invalid("'url' " + Quote(url) + " must not carry a fragment");
  if (u.has_port() && (u.port().empty() || u.port_number() == 0)) {
    return Invalid("'url' " + Quote(url) + " has a bad port");
  }
  return Status::Ok();
}

// Decodes a 32-byte public key given in base64.
Status CheckKey(std::string_view b64, const char* member) {
  Result<std::string> raw = crypto::Base64Decode(b64);
  if (!raw.ok() || raw->size() != 32) {
    return Invalid(std::string("'") + member + "' is not a 32-byte key in base64");
  }
  return Status::Ok();
}

}  // namespace

Result<HubIdentity> LoadHubIdentity(storage::Store& store, const std::string& key_file) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, Setting(store, storage::kIdentityIdSetting));
  ASSIGN_OR_RETURN(std::optional<std::string> identity_json,
                   Setting(store, storage::kIdentitySetting));
  if (!id || id->empty() || !identity_json || identity_json->empty()) {
    return FailedPreconditionError(
        "hub has no identity: the settings hub.identity_id and hub.identity are missing (run "
        "`liaison init`)");
  }
  Result<stix::ObjectInfo> info = stix::ParseObject(*identity_json);
  if (!info.ok() || info->type != "identity" || info->id != *id) {
    return DataLossError("hub identity setting is not the STIX identity " + *id);
  }
  ASSIGN_OR_RETURN(std::optional<std::string> url, Setting(store, storage::kPublicUrlSetting));
  ASSIGN_OR_RETURN(std::optional<std::string> inbox, Setting(store, storage::kInboxSetting));

  Result<crypto::HubKeys> keys = crypto::HubKeys::Load(key_file);
  if (!keys.ok()) {
    if (keys.status().code() == StatusCode::kNotFound) {
      return FailedPreconditionError("hub has no identity: key file " + key_file +
                                     " does not exist (run `liaison init`)");
    }
    return keys.status();
  }

  HubIdentity out;
  out.id = *id;
  out.identity_json = info->json;
  {
    // ParseObject validated the identity, so "name" is a string (STIX 2.1 section 4.5).
    Result<stix::JsonTree> tree = stix::ParseJson(info->json);
    stix::JsonValue name;
    if (tree.ok() && tree->root().Find("name", &name) && name.is_string()) {
      out.name = name.string_value();
    }
  }
  out.url = url.value_or("");
  out.inbox = inbox.value_or("");
  out.keys = std::move(*keys);
  return out;
}

std::string ExportIdentity(const HubIdentity& identity) {
  auto line = [](std::string& out, std::string_view key, std::string_view value, bool last) {
    out += "  ";
    JsonWriter::AppendEscaped(out, key);
    out += ": ";
    JsonWriter::AppendEscaped(out, value);
    out += last ? "\n" : ",\n";
  };
  std::string out = "{\n  \"liaison_identity\": 1,\n  \"identity\": ";
  out += identity.identity_json;
  out += ",\n";
  line(out, "url", identity.url, false);
  line(out, "inbox", identity.inbox, false);
  line(out, "sign_key", identity.keys.sign_public_b64(), false);
  line(out, "box_key", identity.keys.box_public_b64(), false);
  line(out, "fingerprint", identity.keys.fingerprint(), true);
  out += "}\n";
  return out;
}

Result<PartnerIdentity> ParseIdentityFile(std::string_view text) {
  if (text.size() > kMaxIdentityFileBytes) return Invalid("too large (more than 1 MiB)");
  Result<stix::JsonTree> tree = stix::ParseJson(text);
  if (!tree.ok()) return Invalid("not valid JSON: " + tree.status().message());
  const stix::JsonValue root = tree->root();
  if (!root.is_object()) return Invalid("not a JSON object");
  if (root.RepeatsKey()) return Invalid("a member appears twice");

  static constexpr std::string_view kMembers[] = {kVersionMember, "identity", "url",        "inbox",
                                                  "sign_key",     "box_key",  "fingerprint"};
  size_t identity_index = 0, index = 0;
  for (const stix::JsonValue member : root) {
    bool known = false;
    for (std::string_view k : kMembers) known = known || member.key() == k;
    if (!known) return Invalid("unknown member " + Quote(member.key()));
    if (member.key() == "identity") identity_index = index;
    ++index;
  }
  for (std::string_view k : kMembers) {
    if (!root.Has(k)) return Invalid("'" + std::string(k) + "' is missing");
  }

  stix::JsonValue v;
  root.Find(kVersionMember, &v);
  if (!v.is_integer()) return Invalid("'liaison_identity' must be the number 1");
  if (v.int_value() != kIdentityFileVersion) {
    return Invalid("unsupported version " + std::to_string(v.int_value()) +
                   " (this hub reads version 1)");
  }

  PartnerIdentity out;
  auto string_member = [&](const char* name, std::string* dst) -> Status {
    stix::JsonValue s;
    root.Find(name, &s);
    if (!s.is_string()) return Invalid(std::string("'") + name + "' must be a string");
    *dst = s.string_value();
    return Status::Ok();
  };
  RETURN_IF_ERROR(string_member("url", &out.url));
  RETURN_IF_ERROR(string_member("inbox", &out.inbox));
  RETURN_IF_ERROR(string_member("sign_key", &out.sign_key));
  RETURN_IF_ERROR(string_member("box_key", &out.box_key));
  RETURN_IF_ERROR(string_member("fingerprint", &out.fingerprint));

  // The identity object, validated as STIX from its own bytes (RawChildren of the minified file;
  // the root passed ParseJson, so members are found in order).
  root.Find("identity", &v);
  if (!v.is_object()) return Invalid("'identity' must be a STIX identity object");
  const std::string minified = stix::Minify(text);
  const std::vector<std::string_view> children = stix::RawChildren(minified);
  if (children.size() != root.size()) return Invalid("members could not be located");
  Result<stix::ObjectInfo> info = stix::ParseObject(children[identity_index]);
  if (!info.ok())
    return Invalid("'identity' is not a valid STIX object: " + info.status().message());
  if (info->type != "identity") {
    return Invalid("'identity' is of type " + info->type + ", not a STIX identity");
  }
  out.id = info->id;
  out.identity_json = info->json;
  stix::JsonValue name;
  if (v.Find("name", &name) && name.is_string()) out.name = name.string_value();
  if (out.name.empty()) return Invalid("the identity has no name");

  RETURN_IF_ERROR(CheckUrl(out.url));
  if (!out.inbox.empty() && !IsCollectionId(out.inbox)) {
    return Invalid("'inbox' " + Quote(out.inbox) +
                   " is not a collection id (letters, digits, '-', '.', '_', '~'; at most 128)");
  }
  RETURN_IF_ERROR(CheckKey(out.sign_key, "sign_key"));
  RETURN_IF_ERROR(CheckKey(out.box_key, "box_key"));
  // A box key that cannot be sealed to (a low-order point) would fail every RED delivery later.
  if (!crypto::Seal(out.box_key, "").ok()) return Invalid("'box_key' is not a usable X25519 key");
  if (out.fingerprint.size() != 64 || !IsLowerHex(out.fingerprint)) {
    return Invalid("'fingerprint' must be 64 lowercase hex digits");
  }
  const std::string expected = crypto::KeyFingerprint(*crypto::Base64Decode(out.sign_key),
                                                      *crypto::Base64Decode(out.box_key));
  if (out.fingerprint != expected) {
    return Invalid("'fingerprint' does not match sign_key and box_key (altered file?)");
  }
  return out;
}

}  // namespace liaison::federation
