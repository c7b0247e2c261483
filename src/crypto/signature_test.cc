#include "crypto/signature.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stix/canonical.h"
#include "stix/object.h"

namespace liaison::crypto {
namespace {

constexpr char kHubA[] = "identity--a1a1a1a1-0000-4000-8000-000000000001";
constexpr char kHubB[] = "identity--b2b2b2b2-0000-4000-8000-000000000002";
constexpr char kHubC[] = "identity--c3c3c3c3-0000-4000-8000-000000000003";
constexpr char kIndicatorId[] = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
constexpr char kVersion[] = "2024-01-15T10:20:30.123Z";
constexpr char kRed[] = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

HubKeys Keys(char fill) { return *HubKeys::FromSeed(std::string(32, fill)); }

// A minified indicator of about 700 bytes, as the hub stores it.
std::string Indicator() {
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + kIndicatorId +
         R"(","created":"2024-01-15T10:20:30.123Z","modified":"2024-01-15T10:20:30.123Z",)"
         R"("created_by_ref":"identity--a1a1a1a1-0000-4000-8000-000000000001",)"
         R"("name":"Cell messenger account","description":"Account used by the cell to )"
         R"(coordinate; seen in intercepted traffic \u00e9 \"quoted\"",)"
         R"("indicator_types":["malicious-activity"],)"
         R"("pattern":"[user-account:account_login = 'night_owl_77']",)"
         R"("pattern_type":"stix","pattern_version":"2.1","valid_from":"2024-01-15T10:20:30Z",)"
         R"("labels":["messenger","cell"],"confidence":85,"x_score":1.50,)"
         R"("object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],)"
         R"("kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}]})";
}

// The same object as Indicator(), written differently: members in another order, whitespace, a
// number and a string spelt differently. Its canonical form is the same.
std::string IndicatorRewritten() {
  return std::string("{\n  \"x_score\": 1.5,\n  \"confidence\": 85,\n  \"id\": \"") + kIndicatorId +
         "\",\n  \"spec_version\": \"2.1\",\n  \"type\": \"indicator\",\n"
         R"(  "modified": "2024-01-15T10:20:30.123Z", "created": "2024-01-15T10:20:30.123Z",
  "created_by_ref": "identity--a1a1a1a1-0000-4000-8000-000000000001",
  "labels": [ "messenger", "cell" ],
  "name": "Cell messenger account",
  "description": "Account used by the cell to coordinate; seen in intercepted traffic é \u0022quoted\u0022",
  "indicator_types": ["malicious-activity"],
  "pattern": "[user-account:account_login = 'night_owl_77']",
  "pattern_version": "2.1", "pattern_type": "stix", "valid_from": "2024-01-15T10:20:30Z",
  "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],
  "kill_chain_phases": [{"phase_name": "command-and-control", "kill_chain_name": "mitre-attack"}]
})";
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(SignObject, AppendsTheBlockAsLastPropertyAndKeepsTheRest) {
  const std::string object = Indicator();
  ASSERT_GT(object.size(), 600u);
  Result<std::string> signed_json = SignObject(object, kHubA, Keys('a'));
  ASSERT_TRUE(signed_json.ok()) << signed_json.status().ToString();
  EXPECT_EQ(signed_json->substr(0, object.size() - 1), object.substr(0, object.size() - 1));
  EXPECT_NE(signed_json->find(",\"x_liaison_signature\":{\"hub\":\"" + std::string(kHubA) +
                              "\",\"key\":\"" + Keys('a').sign_public_b64() +
                              "\",\"alg\":\"ed25519\",\"sig\":\""),
            std::string::npos);
  EXPECT_TRUE(signed_json->ends_with("\"}}"));
  // Still a valid STIX object (a custom property).
  EXPECT_TRUE(stix::ParseObject(*signed_json).ok());
}

TEST(VerifyObject, RoundTripGivesTheStoredBytesAndTheSigner) {
  const std::string object = Indicator();
  HubKeys a = Keys('a');
  Result<VerifiedObject> v = VerifyObject(*SignObject(object, kHubA, a));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->json, object);
  EXPECT_EQ(v->signature.hub, kHubA);
  EXPECT_EQ(v->signature.key, a.sign_public_b64());
  // Ed25519 is deterministic: computing and attaching gives the same text as SignObject.
  Result<SignatureBlock> block = ComputeSignature(object, kHubA, a);
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(*block, v->signature);
  EXPECT_EQ(*AttachSignature(object, SignatureBlockJson(*block)), *SignObject(object, kHubA, a));
}

TEST(VerifyObject, AnyByteChangedInTheSignedObjectFails) {
  const std::string signed_json = *SignObject(Indicator(), kHubA, Keys('a'));
  const std::string canonical = *stix::Canonicalize(signed_json);
  size_t same_object = 0;
  for (size_t i = 0; i < signed_json.size(); ++i) {
    for (char flip : {'\x01', '\x20', '\x40'}) {
      std::string altered = signed_json;
      altered[i] = static_cast<char>(altered[i] ^ flip);
      // A few changes only respell the same object (the case of a hex digit in "\u00e9"): the
      // object is the same, and so is its signature.
      Result<std::string> altered_canonical = stix::Canonicalize(altered);
      if (altered_canonical.ok() && *altered_canonical == canonical) {
        ++same_object;
        EXPECT_TRUE(VerifyObject(altered).ok());
        continue;
      }
      EXPECT_FALSE(VerifyObject(altered).ok())
          << "byte " << i << " ('" << signed_json[i] << "') ^ " << int(flip);
    }
  }
  EXPECT_EQ(same_object, 1u);  // "\u00e9" -> "\u00E9", and nothing else
}

TEST(VerifyObject, PropertyOrderWhitespaceAndSpellingDoNotMatter) {
  HubKeys a = Keys('a');
  const SignatureBlock block = *ComputeSignature(Indicator(), kHubA, a);
  const std::string block_json = SignatureBlockJson(block);

  // The signature last, after a rewritten object.
  Result<VerifiedObject> v = VerifyObject(*AttachSignature(IndicatorRewritten(), block_json));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->signature, block);
  EXPECT_EQ(v->json.find('\n'), std::string::npos);  // minified
  EXPECT_TRUE(v->json.starts_with("{\"x_score\":1.5,\"confidence\":85,"));

  // The signature first, pretty-printed, with its own members reordered.
  const std::string first = "{ \"x_liaison_signature\" : {\"sig\": \"" + block.sig +
                            "\", \"alg\": \"ed25519\", \"key\": \"" + block.key +
                            "\", \"hub\": \"" + block.hub + "\"},\n" +
                            IndicatorRewritten().substr(1);
  v = VerifyObject(first);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->json.starts_with("{\"x_score\":1.5,"));

  // The signature in the middle.
  const std::string object = Indicator();
  const size_t cut = object.find(",\"name\"");
  const std::string middle =
      object.substr(0, cut) + ",\"x_liaison_signature\":" + block_json + object.substr(cut);
  v = VerifyObject(middle);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->json, object);
}

TEST(VerifyObject, SignaturesVerifyAgainAfterStoringAndRelaying) {
  // B stores the object without its signature and the block apart (storage::ObjectLabel), then
  // relays both to C, which verifies the origin's signature again.
  Result<VerifiedObject> at_b = VerifyObject(*SignObject(Indicator(), kHubA, Keys('a')));
  ASSERT_TRUE(at_b.ok());
  const std::string block_json = SignatureBlockJson(at_b->signature);
  ASSERT_TRUE(ParseSignatureBlock(block_json).ok());
  Result<VerifiedObject> at_c = VerifyObject(
      *AttachSignature(at_b->json, SignatureBlockJson(*ParseSignatureBlock(block_json))));
  ASSERT_TRUE(at_c.ok()) << at_c.status().ToString();
  EXPECT_EQ(at_c->signature.hub, kHubA);
  EXPECT_EQ(at_c->json, Indicator());
}

TEST(VerifyObject, WrongKeyOrSignerFails) {
  HubKeys a = Keys('a'), b = Keys('b');
  const std::string signed_json = *SignObject(Indicator(), kHubA, a);
  // A's signature presented with B's key.
  Result<VerifiedObject> v =
      VerifyObject(Replace(signed_json, a.sign_public_b64(), b.sign_public_b64()));
  EXPECT_EQ(v.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(v.status().message().find("altered or forged"), std::string::npos);
  // The signer's identity is covered: claiming another hub breaks the signature.
  EXPECT_EQ(VerifyObject(Replace(signed_json, std::string("\"hub\":\"") + kHubA,
                                 std::string("\"hub\":\"") + kHubB))
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  // B signing and claiming to be A is valid cryptographically, with B's key in the block: the
  // caller's trust check (key of the hub) is what rejects it.
  Result<VerifiedObject> forged = VerifyObject(*SignObject(Indicator(), kHubA, b));
  ASSERT_TRUE(forged.ok());
  EXPECT_NE(forged->signature.key, a.sign_public_b64());
  // B's signature under A's key.
  const SignatureBlock by_b = *ComputeSignature(Indicator(), kHubA, b);
  SignatureBlock spliced = by_b;
  spliced.key = a.sign_public_b64();
  EXPECT_EQ(
      VerifyObject(*AttachSignature(Indicator(), SignatureBlockJson(spliced))).status().code(),
      StatusCode::kPermissionDenied);
  // A signature of another object.
  SignatureBlock other = *ComputeSignature(Replace(Indicator(), "85", "86"), kHubA, a);
  EXPECT_EQ(VerifyObject(*AttachSignature(Indicator(), SignatureBlockJson(other))).status().code(),
            StatusCode::kPermissionDenied);
}

TEST(VerifyObject, MissingDuplicateOrMalformedSignatureIsPermissionDenied) {
  HubKeys a = Keys('a');
  const std::string block_json = SignatureBlockJson(*ComputeSignature(Indicator(), kHubA, a));
  const std::string signed_json = *SignObject(Indicator(), kHubA, a);
  auto code = [](const std::string& json) { return VerifyObject(json).status().code(); };
  EXPECT_EQ(code(Indicator()), StatusCode::kPermissionDenied);
  EXPECT_EQ(code("{}"), StatusCode::kPermissionDenied);
  // Twice, the same block.
  EXPECT_EQ(code(Replace(signed_json, "{\"type\"",
                         "{\"x_liaison_signature\":" + block_json + ",\"type\"")),
            StatusCode::kPermissionDenied);
  // Twice, once spelt with an escape.
  EXPECT_EQ(code(Replace(signed_json, "{\"type\"",
                         "{\"x_liaison\\u005fsignature\":" + block_json + ",\"type\"")),
            StatusCode::kPermissionDenied);
  const std::vector<std::pair<std::string, std::string>> malformed = {
      {"not an object", "\"sig\""},
      {"null", "null"},
      {"unknown alg", Replace(block_json, "ed25519", "rsa")},
      {"no alg", Replace(block_json, ",\"alg\":\"ed25519\"", "")},
      {"extra member", Replace(block_json, "{", "{\"note\":\"x\",")},
      {"repeated member", Replace(block_json, "{", "{\"alg\":\"ed25519\",")},
      {"hub not identity", Replace(block_json, "identity--", "indicator--")},
      {"short key", Replace(block_json, a.sign_public_b64(), Base64Encode("short"))},
      {"sig not base64", Replace(block_json, "\"sig\":\"", "\"sig\":\"!")},
      {"sig number", block_json.substr(0, block_json.find("\"sig\":")) + "\"sig\":1}"},
  };
  for (const auto& [name, block] : malformed) {
    Result<VerifiedObject> v = VerifyObject(
        Replace(Indicator(), "{\"type\"", "{\"x_liaison_signature\":" + block + ",\"type\""));
    EXPECT_EQ(v.status().code(), StatusCode::kPermissionDenied) << name;
  }
}

TEST(VerifyObject, NotAJsonObjectIsInvalidArgument) {
  const std::string block_json = SignatureBlockJson(*ComputeSignature("{}", kHubA, Keys('a')));
  for (const std::string& text :
       {std::string(""), std::string("not json"), std::string("[1]"), std::string("\"x\""),
        std::string("{\"a\":1"), std::string("{\"a\":1}}"), std::string("{\"a\":\"\xff\"}")}) {
    EXPECT_EQ(VerifyObject(text).status().code(), StatusCode::kInvalidArgument) << text;
  }
  // Duplicate keys elsewhere: not I-JSON, no canonical form.
  EXPECT_EQ(
      VerifyObject("{\"a\":1,\"a\":2,\"x_liaison_signature\":" + block_json + "}").status().code(),
      StatusCode::kInvalidArgument);
}

TEST(SignObject, EdgeCasesRoundTrip) {
  HubKeys a = Keys('a');
  for (const std::string& object :
       {std::string("{}"), std::string("{\"a\":1}"), std::string("{\"a\":{\"b\":[1,2,{}]}}"),
        std::string("{ \"spaced\" : true }\n")}) {
    Result<std::string> signed_json = SignObject(object, kHubA, a);
    ASSERT_TRUE(signed_json.ok()) << object << ": " << signed_json.status().ToString();
    Result<VerifiedObject> v = VerifyObject(*signed_json);
    ASSERT_TRUE(v.ok()) << object << ": " << v.status().ToString();
    EXPECT_EQ(v->json,
              std::string(object == "{ \"spaced\" : true }\n" ? "{\"spaced\":true}" : object));
  }
}

TEST(SignObject, RejectsBadInput) {
  HubKeys a = Keys('a');
  const std::string signed_json = *SignObject(Indicator(), kHubA, a);
  EXPECT_EQ(SignObject(signed_json, kHubA, a).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignObject("[1,2]", kHubA, a).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignObject("{", kHubA, a).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignObject("{\"a\":1,\"a\":1}", kHubA, a).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      SignObject(Indicator(), "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", a).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(SignObject(Indicator(), "identity--nope", a).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ComputeSignature(signed_json, kHubA, a).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AttachSignature(signed_json, "{}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AttachSignature(Indicator(), "[]").status().code(), StatusCode::kInvalidArgument);
}

TEST(SignatureBlock, JsonRoundTripAndRejections) {
  const SignatureBlock block = *ComputeSignature(Indicator(), kHubA, Keys('a'));
  Result<SignatureBlock> back = ParseSignatureBlock(SignatureBlockJson(block));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, block);
  EXPECT_EQ(ParseSignatureBlock("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSignatureBlock("[]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseSignatureBlock(Replace(SignatureBlockJson(block), "ed25519", "ed448")).status().code(),
      StatusCode::kInvalidArgument);
}

// --- Sealed wrappers -------------------------------------------------------------------------

struct Sealed {
  std::string signed_json;
  std::string wrapper;
};

Sealed SealToAAndB(const std::string& object = Indicator()) {
  HubKeys a = Keys('a'), b = Keys('b');
  Sealed s;
  s.signed_json = *SignObject(object, kHubA, a);
  Result<std::string> wrapper =
      SealObject(s.signed_json, kIndicatorId, "indicator", kVersion, {kRed}, {kHubB},
                 {{kHubA, a.box_public_b64()}, {kHubB, b.box_public_b64()}});
  EXPECT_TRUE(wrapper.ok()) << wrapper.status().ToString();
  s.wrapper = wrapper.value_or("");
  return s;
}

TEST(SealObject, EachRecipientOpensItsOwnBoxAndAThirdCannot) {
  const Sealed s = SealToAAndB();
  for (const auto& [self, fill] :
       std::vector<std::pair<std::string, char>>{{kHubA, 'a'}, {kHubB, 'b'}}) {
    Result<std::string> opened = OpenSealedObject(s.wrapper, self, Keys(fill));
    ASSERT_TRUE(opened.ok()) << self << ": " << opened.status().ToString();
    EXPECT_EQ(*opened, s.signed_json);
    Result<VerifiedObject> v = VerifyObject(*opened);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->json, Indicator());
  }
  // C has no box.
  Result<std::string> c = OpenSealedObject(s.wrapper, kHubC, Keys('c'));
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  // C claiming to be B still lacks B's key.
  EXPECT_EQ(OpenSealedObject(s.wrapper, kHubB, Keys('c')).status().code(),
            StatusCode::kPermissionDenied);
  // A's keys do not open B's box.
  EXPECT_EQ(OpenSealedObject(s.wrapper, kHubB, Keys('a')).status().code(),
            StatusCode::kPermissionDenied);
}

TEST(SealObject, WrapperIsAValidStixObjectWithoutPlaintext) {
  const Sealed s = SealToAAndB();
  EXPECT_EQ(s.wrapper.find("night_owl_77"), std::string::npos);
  EXPECT_EQ(s.wrapper.find("Cell messenger"), std::string::npos);
  Result<stix::ObjectInfo> info = stix::ParseObject(s.wrapper);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->type, kSealedType);
  EXPECT_EQ(info->object_marking_refs, std::vector<std::string>{kRed});

  Result<SealedWrapper> w = ParseSealedWrapper(s.wrapper);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->id, *SealedWrapperId(kIndicatorId, kVersion));
  EXPECT_EQ(info->id, w->id);
  EXPECT_EQ(w->sealed_ref, kIndicatorId);
  EXPECT_EQ(w->sealed_type, "indicator");
  EXPECT_EQ(w->version, kVersion);
  EXPECT_EQ(w->recipients, std::vector<std::string>{kHubB});
  EXPECT_EQ(w->boxes.size(), 2u);
  EXPECT_TRUE(w->boxes.contains(kHubA) && w->boxes.contains(kHubB));
}

TEST(SealObject, AlteredCiphertextDoesNotOpen) {
  const Sealed s = SealToAAndB();
  const std::string box = ParseSealedWrapper(s.wrapper)->boxes.at(kHubB);
  std::string raw = *Base64Decode(box);
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, raw.size() / 2, raw.size() - 1}) {
    std::string altered = raw;
    altered[i] = static_cast<char>(altered[i] ^ 0x04);
    EXPECT_EQ(OpenSealedObject(Replace(s.wrapper, box, Base64Encode(altered)), kHubB, Keys('b'))
                  .status()
                  .code(),
              StatusCode::kPermissionDenied)
        << "byte " << i;
  }
  EXPECT_EQ(OpenSealedObject(Replace(s.wrapper, box, "AAAA"), kHubB, Keys('b')).status().code(),
            StatusCode::kPermissionDenied);
}

TEST(SealObject, ABoxMovedFromAnotherWrapperIsRefused) {
  const Sealed s = SealToAAndB();
  // Another object sealed to B; its box put into the first wrapper.
  const std::string other_id = "indicator--0f0f0f0f-17d4-4cbf-938f-98ee46b3cd3f";
  const std::string other =
      *SignObject(Replace(Indicator(), kIndicatorId, other_id), kHubA, Keys('a'));
  const std::string other_wrapper = *SealObject(other, other_id, "indicator", kVersion, {}, {},
                                                {{kHubB, Keys('b').box_public_b64()}});
  const std::string moved = ParseSealedWrapper(other_wrapper)->boxes.at(kHubB);
  Result<std::string> r = OpenSealedObject(
      Replace(s.wrapper, ParseSealedWrapper(s.wrapper)->boxes.at(kHubB), moved), kHubB, Keys('b'));
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("does not match its wrapper"), std::string::npos);
  // Empty lists are omitted (STIX forbids them).
  EXPECT_EQ(other_wrapper.find("object_marking_refs"), std::string::npos);
  EXPECT_EQ(other_wrapper.find("x_liaison_recipients"), std::string::npos);

  // An older version's box under a newer version's wrapper.
  const std::string newer = "2024-02-01T00:00:00.000Z";
  const std::string wrapper_v2 = *SealObject(s.signed_json, kIndicatorId, "indicator", newer, {},
                                             {}, {{kHubB, Keys('b').box_public_b64()}});
  EXPECT_EQ(OpenSealedObject(wrapper_v2, kHubB, Keys('b')).status().code(),
            StatusCode::kPermissionDenied);
}

TEST(SealObject, RejectsBadArguments) {
  HubKeys a = Keys('a');
  const std::string signed_json = *SignObject(Indicator(), kHubA, a);
  const std::map<std::string, std::string> keys = {{kHubA, a.box_public_b64()}};
  auto code = [&](std::string_view json, std::string_view id, std::string_view type,
                  std::string_view version, const std::vector<std::string>& markings,
                  const std::vector<std::string>& recipients,
                  const std::map<std::string, std::string>& box_keys) {
    return SealObject(json, id, type, version, markings, recipients, box_keys).status().code();
  };
  EXPECT_EQ(code(signed_json, kIndicatorId, "indicator", kVersion, {}, {}, keys), StatusCode::kOk);
  EXPECT_EQ(code(Indicator(), kIndicatorId, "indicator", kVersion, {}, {}, keys),
            StatusCode::kInvalidArgument);  // unsigned
  EXPECT_EQ(code(signed_json, kIndicatorId, "indicator", kVersion, {}, {}, {}),
            StatusCode::kInvalidArgument);  // nobody to seal to
  EXPECT_EQ(code(signed_json, kIndicatorId, "indicator", kVersion, {}, {},
                 {{kHubA, Base64Encode("short")}}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(signed_json, kIndicatorId, "indicator", kVersion, {}, {},
                 {{"indicator--0f0f0f0f-17d4-4cbf-938f-98ee46b3cd3f", a.box_public_b64()}}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(signed_json, kIndicatorId, "malware", kVersion, {}, {}, keys),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(signed_json, "indicator--0f0f0f0f-17d4-4cbf-938f-98ee46b3cd3f", "indicator",
                 kVersion, {}, {}, keys),
            StatusCode::kInvalidArgument);  // not the object's id
  EXPECT_EQ(code(signed_json, kIndicatorId, "indicator", "yesterday", {}, {}, keys),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(signed_json, kIndicatorId, "indicator", kVersion, {"tlp:red"}, {}, keys),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(signed_json, kIndicatorId, "indicator", kVersion, {}, {"bob"}, keys),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(signed_json, kIndicatorId, "indicator", kVersion, {}, {kHubB, kHubB}, keys),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code("[]", kIndicatorId, "indicator", kVersion, {}, {}, keys),
            StatusCode::kInvalidArgument);
}

TEST(OpenSealedObject, NotAWrapperIsInvalidArgument) {
  const Sealed s = SealToAAndB();
  HubKeys b = Keys('b');
  auto code = [&](const std::string& json) {
    return OpenSealedObject(json, kHubB, b).status().code();
  };
  EXPECT_EQ(code(""), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("[]"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Indicator()), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      code(Replace(s.wrapper, "\"sealed_type\":\"indicator\"", "\"sealed_type\":\"malware\"")),
      StatusCode::kInvalidArgument);
  // The id must derive from sealed_ref and version.
  EXPECT_EQ(code(Replace(s.wrapper, "\"modified\":\"2024-01-15T10:20:30.123Z\"",
                         "\"modified\":\"2024-01-16T10:20:30.123Z\"")),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Replace(s.wrapper, "\"sealed\":{", "\"sealed\":{\"bob\":\"x\",")),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      code(Replace(s.wrapper, "\"sealed\":{", "\"sealed\":{\"" + std::string(kHubC) + "\":1,")),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Replace(s.wrapper, "{\"type\"", "{\"sealed\":{},\"type\"")),
            StatusCode::kInvalidArgument);  // repeated key
  // A wrapper signed like any object still opens.
  Result<std::string> signed_wrapper = SignObject(s.wrapper, kHubA, Keys('a'));
  ASSERT_TRUE(signed_wrapper.ok());
  EXPECT_TRUE(OpenSealedObject(*signed_wrapper, kHubB, b).ok());
  EXPECT_TRUE(VerifyObject(*signed_wrapper).ok());
}

TEST(SealedWrapperId, DependsOnObjectAndVersionInstantOnly) {
  const std::string id = *SealedWrapperId(kIndicatorId, kVersion);
  EXPECT_TRUE(id.starts_with("x-liaison-sealed--"));
  EXPECT_EQ(id.substr(18 + 14, 1), "5");  // version nibble
  EXPECT_EQ(id, *SealedWrapperId(kIndicatorId, "2024-01-15T10:20:30.123000Z"));
  EXPECT_NE(id, *SealedWrapperId(kIndicatorId, "2024-01-15T10:20:30.124Z"));
  EXPECT_NE(id, *SealedWrapperId("indicator--0f0f0f0f-17d4-4cbf-938f-98ee46b3cd3f", kVersion));
  EXPECT_EQ(SealedWrapperId(kIndicatorId, "2024-13-01T00:00:00Z").status().code(),
            StatusCode::kInvalidArgument);
}

// The fuzz seeds (tests/fuzz/corpus/verify_object) must keep passing the checks they were made to
// pass, or the fuzzer would start from inputs that fail early.
std::string ReadCorpus(const std::string& name) {
  std::ifstream in(std::string(LIAISON_SOURCE_DIR) + "/tests/fuzz/corpus/verify_object/" + name,
                   std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(FuzzCorpus, SeedsStillVerifyAndOpen) {
  for (const char* name : {"signed_indicator.json", "signed_empty.json", "signed_nested.json",
                           "signed_first_pretty.json", "sealed_signed_wrapper.json"}) {
    Result<VerifiedObject> v = VerifyObject(ReadCorpus(name));
    EXPECT_TRUE(v.ok()) << name << ": " << v.status().ToString();
  }
  EXPECT_EQ(VerifyObject(ReadCorpus("unsigned.json")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(VerifyObject(ReadCorpus("duplicate_signature.json")).status().code(),
            StatusCode::kPermissionDenied);
  const HubKeys fuzz_keys = *HubKeys::FromSeed(std::string(32, 'f'));
  const char* fuzz_hub = "identity--f0220000-0000-4000-8000-00000000f022";
  for (const char* name : {"sealed_to_fuzz_hub.json", "sealed_signed_wrapper.json"}) {
    Result<std::string> opened = OpenSealedObject(ReadCorpus(name), fuzz_hub, fuzz_keys);
    ASSERT_TRUE(opened.ok()) << name << ": " << opened.status().ToString();
    EXPECT_TRUE(VerifyObject(*opened).ok());
  }
}

}  // namespace
}  // namespace liaison::crypto
