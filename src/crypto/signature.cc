#include "crypto/signature.h"

#include <cstddef>
#include <string>
#include <utility>

#include "common/json_writer.h"
#include "crypto/uuid_v5.h"
#include "stix/canonical.h"
#include "stix/json_codec.h"
#include "stix/object.h"
#include "stix/timestamp.h"

namespace liaison::crypto {
namespace {

constexpr size_t kSignPublicKeyBytes = 32;  // crypto_sign_PUBLICKEYBYTES
constexpr size_t kSignatureBytes = 64;      // crypto_sign_BYTES
constexpr std::string_view kSealedIdPrefix = "x-liaison-sealed--";

// Quotes untrusted text for an error message, cut to a readable length.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

bool IsIdentityId(std::string_view id) {
  return id.starts_with("identity--") && stix::IsValidIdentifier(id);
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Appends "x_liaison_signature":<member_json> as the last member of `object_json`, a valid JSON
// object (any whitespace). Nothing else changes.
std::string AppendSignatureMember(std::string_view object_json, std::string_view member_json) {
  size_t close = object_json.size();
  while (close > 0 && IsJsonSpace(object_json[close - 1])) --close;
  // Precondition: the text parsed as an object, so its last significant byte is '}'.
  LIAISON_CHECK(close > 0 && object_json[close - 1] == '}');
  --close;
  size_t prev = close;
  while (prev > 0 && IsJsonSpace(object_json[prev - 1])) --prev;
  const bool empty = prev > 0 && object_json[prev - 1] == '{';
  std::string out;
  out.reserve(object_json.size() + member_json.size() + sizeof(kSignatureProperty) + 4);
  out.append(object_json.substr(0, close));
  if (!empty) out += ',';
  out += '"';
  out += kSignatureProperty;
  out += "\":";
  out.append(member_json);
  out.append(object_json.substr(close));
  return out;
}

// The member that is signed: the block without its "sig".
std::string UnsignedBlockJson(std::string_view hub, std::string_view key) {
  JsonWriter w;
  w.BeginObject();
  w.Key("hub");
  w.String(hub);
  w.Key("key");
  w.String(key);
  w.Key("alg");
  w.String(kSignatureAlgorithm);
  w.EndObject();
  return std::move(w).Take();
}

// What the signature covers (see signature.h): the canonical form of the object with the unsigned
// block in place of the signature. `object_json` carries no x_liaison_signature.
Result<std::string> SignedMessage(std::string_view object_json, std::string_view hub,
                                  std::string_view key) {
  Result<std::string> canonical =
      stix::Canonicalize(AppendSignatureMember(object_json, UnsignedBlockJson(hub, key)));
  if (!canonical.ok()) {
    return InvalidArgumentError("object has no canonical form: " + canonical.status().message());
  }
  return canonical;
}

Result<stix::JsonTree> ParseObjectText(std::string_view json, std::string_view what) {
  Result<stix::JsonTree> tree = stix::ParseJson(json);
  if (!tree.ok()) return InvalidArgumentError(std::string(what) + ": " + tree.status().message());
  if (!tree->root().is_object()) {
    return InvalidArgumentError(std::string(what) + " is not a JSON object");
  }
  return tree;
}

Result<SignatureBlock> ParseBlock(const stix::JsonValue& v) {
  if (!v.is_object()) return InvalidArgumentError("signature block is not a JSON object");
  if (v.RepeatsKey()) return InvalidArgumentError("signature block repeats a member");
  SignatureBlock block;
  std::string_view alg;
  bool has_alg = false;
  for (const stix::JsonValue member : v) {
    const std::string_view k = member.key();
    if (!member.is_string()) {
      return InvalidArgumentError("signature block member " + Quote(k) + " is not a string");
    }
    if (k == "hub") {
      block.hub = member.string_value();
    } else if (k == "key") {
      block.key = member.string_value();
    } else if (k == "sig") {
      block.sig = member.string_value();
    } else if (k == "alg") {
      alg = member.string_value();
      has_alg = true;
    } else {
      return InvalidArgumentError("signature block has unknown member " + Quote(k));
    }
  }
  if (!has_alg) return InvalidArgumentError("signature block has no \"alg\"");
  if (alg != kSignatureAlgorithm) {
    return InvalidArgumentError("unsupported signature algorithm " + Quote(alg) +
                                " (expected \"ed25519\")");
  }
  if (!IsIdentityId(block.hub)) {
    return InvalidArgumentError("signature block \"hub\" " + Quote(block.hub) +
                                " is not an identity id");
  }
  Result<std::string> key = Base64Decode(block.key);
  if (!key.ok() || key->size() != kSignPublicKeyBytes) {
    return InvalidArgumentError("signature block \"key\" is not 32 bytes of base64");
  }
  Result<std::string> sig = Base64Decode(block.sig);
  if (!sig.ok() || sig->size() != kSignatureBytes) {
    return InvalidArgumentError("signature block \"sig\" is not 64 bytes of base64");
  }
  return block;
}

// Computes the block for a parsed object text without a signature.
Result<SignatureBlock> Compute(std::string_view json, std::string_view hub_identity_id,
                               const HubKeys& keys) {
  if (!IsIdentityId(hub_identity_id)) {
    return InvalidArgumentError("signer " + Quote(hub_identity_id) + " is not an identity id");
  }
  SignatureBlock block;
  block.hub = std::string(hub_identity_id);
  block.key = keys.sign_public_b64();
  ASSIGN_OR_RETURN(std::string message, SignedMessage(json, block.hub, block.key));
  block.sig = keys.Sign(message);
  return block;
}

Result<stix::JsonTree> ParseUnsigned(std::string_view json) {
  ASSIGN_OR_RETURN(stix::JsonTree tree, ParseObjectText(json, "object"));
  if (tree.root().Has(kSignatureProperty)) {
    return InvalidArgumentError("object already carries x_liaison_signature");
  }
  return tree;
}

// `minified` is a minified JSON object whose member values are `children` (stix::RawChildren, so
// they are views into `minified`). Returns the text without member `index`. Because the text is
// minified, member i > 0 starts at the ',' that ends the value of member i-1, and member 0 ends at
// the ',' before member 1.
std::string RemoveMember(std::string_view minified, const std::vector<std::string_view>& children,
                         size_t index) {
  if (children.size() == 1) return "{}";
  const size_t value_end =
      static_cast<size_t>(children[index].data() - minified.data()) + children[index].size();
  std::string out;
  out.reserve(minified.size());
  if (index == 0) {
    out += '{';
    out.append(minified.substr(value_end + 1));
  } else {
    const size_t prev_end = static_cast<size_t>(children[index - 1].data() - minified.data()) +
                            children[index - 1].size();
    out.append(minified.substr(0, prev_end));
    out.append(minified.substr(value_end));
  }
  return out;
}

Result<std::vector<std::string>> StringList(const stix::JsonValue& root, std::string_view name) {
  std::vector<std::string> out;
  stix::JsonValue v;
  if (!root.Find(name, &v)) return out;
  if (!v.is_array()) return InvalidArgumentError(std::string(name) + " is not a list");
  for (const stix::JsonValue item : v) {
    if (!item.is_string() || !stix::IsValidIdentifier(item.string_value())) {
      return InvalidArgumentError(std::string(name) + " holds something other than identifiers");
    }
    out.emplace_back(item.string_value());
  }
  return out;
}

std::string_view StringMember(const stix::JsonValue& root, std::string_view name) {
  stix::JsonValue v;
  if (!root.Find(name, &v) || !v.is_string()) return {};
  return v.string_value();
}

}  // namespace

std::string SignatureBlockJson(const SignatureBlock& block) {
  JsonWriter w;
  w.BeginObject();
  w.Key("hub");
  w.String(block.hub);
  w.Key("key");
  w.String(block.key);
  w.Key("alg");
  w.String(kSignatureAlgorithm);
  w.Key("sig");
  w.String(block.sig);
  w.EndObject();
  return std::move(w).Take();
}

Result<SignatureBlock> ParseSignatureBlock(std::string_view json) {
  Result<stix::JsonTree> tree = stix::ParseJson(json);
  if (!tree.ok()) {
    return InvalidArgumentError("signature block: " + tree.status().message());
  }
  return ParseBlock(tree->root());
}

Result<SignatureBlock> ComputeSignature(std::string_view json, std::string_view hub_identity_id,
                                        const HubKeys& keys) {
  RETURN_IF_ERROR(ParseUnsigned(json));
  return Compute(json, hub_identity_id, keys);
}

Result<std::string> SignObject(std::string_view json, std::string_view hub_identity_id,
                               const HubKeys& keys) {
  RETURN_IF_ERROR(ParseUnsigned(json));
  ASSIGN_OR_RETURN(SignatureBlock block, Compute(json, hub_identity_id, keys));
  return AppendSignatureMember(json, SignatureBlockJson(block));
}

Result<std::string> AttachSignature(std::string_view json, std::string_view block_json) {
  RETURN_IF_ERROR(ParseUnsigned(json));
  RETURN_IF_ERROR(ParseObjectText(block_json, "signature block"));
  return AppendSignatureMember(json, block_json);
}

Result<VerifiedObject> VerifyObject(std::string_view json) {
  ASSIGN_OR_RETURN(stix::JsonTree tree, ParseObjectText(json, "object"));
  const stix::JsonValue root = tree.root();
  size_t count = 0, index = 0, i = 0;
  stix::JsonValue sig_value;
  for (const stix::JsonValue member : root) {
    if (member.key() == kSignatureProperty) {
      ++count;
      index = i;
      sig_value = member;
    }
    ++i;
  }
  if (count == 0) {
    return PermissionDeniedError("object is not signed: it has no x_liaison_signature");
  }
  if (count > 1) {
    return PermissionDeniedError("object carries x_liaison_signature more than once");
  }
  Result<SignatureBlock> block = ParseBlock(sig_value);
  if (!block.ok()) {
    return PermissionDeniedError("x_liaison_signature is malformed: " + block.status().message());
  }

  const std::string minified = stix::Minify(json);
  const std::vector<std::string_view> children = stix::RawChildren(minified);
  if (children.size() != root.size()) {
    return InternalError("object members could not be located in its text");
  }
  VerifiedObject out;
  out.json = RemoveMember(minified, children, index);
  ASSIGN_OR_RETURN(std::string message, SignedMessage(out.json, block->hub, block->key));
  if (!VerifySignature(block->key, message, block->sig)) {
    return PermissionDeniedError("signature by " + block->hub +
                                 " does not match the object: it was altered or forged");
  }
  out.signature = std::move(*block);
  return out;
}

Result<std::string> SealedWrapperId(std::string_view object_id, std::string_view version_text) {
  Result<stix::Timestamp> version = stix::ParseTimestamp(version_text);
  if (!version.ok()) return InvalidArgumentError(version.status().message());
  std::string name(object_id);
  name += '@';
  name += stix::FormatTimestamp(*version, 6);
  return std::string(kSealedIdPrefix) + UuidV5(kLiaisonUuidNamespace, name);
}

Result<SealedWrapper> ParseSealedWrapper(std::string_view json) {
  Result<stix::JsonTree> tree = stix::ParseJson(json);
  if (!tree.ok()) return InvalidArgumentError("sealed wrapper: " + tree.status().message());
  const stix::JsonValue root = tree->root();
  if (!root.is_object()) return InvalidArgumentError("sealed wrapper is not a JSON object");
  std::string_view dup;
  if (root.FindDuplicateKey(&dup)) {
    return InvalidArgumentError("sealed wrapper repeats the key " + Quote(dup));
  }
  if (StringMember(root, "type") != kSealedType) {
    return InvalidArgumentError("not a sealed wrapper (type is not x-liaison-sealed)");
  }
  SealedWrapper w;
  w.id = StringMember(root, "id");
  w.sealed_ref = StringMember(root, "sealed_ref");
  w.sealed_type = StringMember(root, "sealed_type");
  w.version = StringMember(root, "modified");
  if (!w.id.starts_with(kSealedIdPrefix) || !stix::IsValidIdentifier(w.id)) {
    return InvalidArgumentError("sealed wrapper id " + Quote(w.id) + " is malformed");
  }
  if (!stix::IsValidIdentifier(w.sealed_ref) || !stix::IsValidTypeName(w.sealed_type) ||
      !w.sealed_ref.starts_with(w.sealed_type + "--")) {
    return InvalidArgumentError("sealed wrapper sealed_ref " + Quote(w.sealed_ref) +
                                " and sealed_type " + Quote(w.sealed_type) + " do not agree");
  }
  Result<std::string> expected_id = SealedWrapperId(w.sealed_ref, w.version);
  if (!expected_id.ok()) {
    return InvalidArgumentError("sealed wrapper modified " + Quote(w.version) +
                                " is not a timestamp");
  }
  if (*expected_id != w.id) {
    return InvalidArgumentError("sealed wrapper id " + Quote(w.id) +
                                " does not derive from its sealed_ref and version");
  }
  ASSIGN_OR_RETURN(w.marking_refs, StringList(root, "object_marking_refs"));
  ASSIGN_OR_RETURN(w.recipients, StringList(root, "x_liaison_recipients"));
  stix::JsonValue sealed;
  if (!root.Find("sealed", &sealed) || !sealed.is_object() || sealed.size() == 0) {
    return InvalidArgumentError("sealed wrapper has no boxes (\"sealed\")");
  }
  for (const stix::JsonValue box : sealed) {
    if (!IsIdentityId(box.key()) || !box.is_string()) {
      return InvalidArgumentError("sealed wrapper box " + Quote(box.key()) +
                                  " is not an identity id with a string");
    }
    w.boxes.emplace(std::string(box.key()), std::string(box.string_value()));
  }
  return w;
}

Result<std::string> SealObject(std::string_view signed_json, std::string_view object_id,
                               std::string_view object_type, std::string_view version_text,
                               const std::vector<std::string>& marking_refs,
                               const std::vector<std::string>& recipients,
                               const std::map<std::string, std::string>& box_keys) {
  if (!stix::IsValidIdentifier(object_id) || !stix::IsValidTypeName(object_type) ||
      !object_id.starts_with(std::string(object_type) + "--")) {
    return InvalidArgumentError("cannot seal: " + Quote(object_id) + " is not an id of type " +
                                Quote(object_type));
  }
  ASSIGN_OR_RETURN(std::string wrapper_id, SealedWrapperId(object_id, version_text));
  ASSIGN_OR_RETURN(stix::JsonTree tree, ParseObjectText(signed_json, "object to seal"));
  const stix::JsonValue root = tree.root();
  if (StringMember(root, "id") != object_id || StringMember(root, "type") != object_type) {
    return InvalidArgumentError("cannot seal: the object is not " + Quote(object_id));
  }
  if (!root.Has(kSignatureProperty)) {
    return InvalidArgumentError("cannot seal " + std::string(object_id) +
                                ": it carries no x_liaison_signature (sign it first)");
  }
  for (const std::string& ref : marking_refs) {
    if (!ref.starts_with("marking-definition--") || !stix::IsValidIdentifier(ref)) {
      return InvalidArgumentError("cannot seal: " + Quote(ref) + " is not a marking definition id");
    }
  }
  for (size_t i = 0; i < recipients.size(); ++i) {
    const std::string& r = recipients[i];
    if (!IsIdentityId(r)) {
      return InvalidArgumentError("cannot seal: recipient " + Quote(r) + " is not an identity id");
    }
    // stix/ rejects an x_liaison_recipients list that names someone twice.
    for (size_t j = 0; j < i; ++j) {
      if (recipients[j] == r) {
        return InvalidArgumentError("cannot seal: recipient " + r + " is named twice");
      }
    }
  }
  if (box_keys.empty()) return InvalidArgumentError("cannot seal: no recipient keys");

  JsonWriter w;
  w.BeginObject();
  w.Key("type");
  w.String(kSealedType);
  w.Key("spec_version");
  w.String("2.1");
  w.Key("id");
  w.String(wrapper_id);
  w.Key("created");
  w.String(version_text);
  w.Key("modified");
  w.String(version_text);
  w.Key("sealed_ref");
  w.String(object_id);
  w.Key("sealed_type");
  w.String(object_type);
  if (!marking_refs.empty()) {
    w.Key("object_marking_refs");
    w.BeginArray();
    for (const std::string& ref : marking_refs) w.String(ref);
    w.EndArray();
  }
  if (!recipients.empty()) {
    w.Key("x_liaison_recipients");
    w.BeginArray();
    for (const std::string& r : recipients) w.String(r);
    w.EndArray();
  }
  w.Key("sealed");
  w.BeginObject();
  for (const auto& [identity, key] : box_keys) {
    if (!IsIdentityId(identity)) {
      return InvalidArgumentError("cannot seal: box recipient " + Quote(identity) +
                                  " is not an identity id");
    }
    Result<std::string> box = Seal(key, signed_json);
    if (!box.ok()) {
      return InvalidArgumentError("cannot seal to " + identity + ": " + box.status().message());
    }
    w.Key(identity);
    w.String(*box);
  }
  w.EndObject();
  w.EndObject();
  return std::move(w).Take();
}

Result<std::string> OpenSealedObject(std::string_view wrapper_json, std::string_view self,
                                     const HubKeys& keys) {
  ASSIGN_OR_RETURN(SealedWrapper wrapper, ParseSealedWrapper(wrapper_json));
  auto box = wrapper.boxes.find(std::string(self));
  if (box == wrapper.boxes.end()) {
    return PermissionDeniedError("sealed object " + wrapper.sealed_ref + " has no box for " +
                                 std::string(self));
  }
  Result<std::string> plain = keys.OpenSealed(box->second);
  if (!plain.ok()) {
    return PermissionDeniedError("sealed object " + wrapper.sealed_ref +
                                 " does not open: " + plain.status().message());
  }
  // The box must hold the object the wrapper names: a box moved from another wrapper (whose
  // signature would still verify) must not pass as this object or version.
  Result<stix::JsonTree> tree = stix::ParseJson(*plain);
  const std::string mismatch =
      "sealed object " + wrapper.sealed_ref + ": the content does not match its wrapper";
  if (!tree.ok() || !tree->root().is_object()) return PermissionDeniedError(mismatch);
  const stix::JsonValue root = tree->root();
  if (StringMember(root, "id") != wrapper.sealed_ref ||
      StringMember(root, "type") != wrapper.sealed_type) {
    return PermissionDeniedError(mismatch);
  }
  std::string_view version = StringMember(root, "modified");
  if (version.empty()) version = StringMember(root, "created");
  if (!version.empty()) {
    Result<stix::Timestamp> inner = stix::ParseTimestamp(version);
    Result<stix::Timestamp> outer = stix::ParseTimestamp(wrapper.version);
    if (!inner.ok() || !outer.ok() || *inner != *outer) return PermissionDeniedError(mismatch);
  }
  return std::move(*plain);
}

}  // namespace liaison::crypto
