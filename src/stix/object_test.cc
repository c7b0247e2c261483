#include "stix/object.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace liaison::stix {
namespace {

constexpr const char* kUuid = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
constexpr const char* kIdentity = "identity--311b2d2d-f010-4473-83ec-1edf84858f4c";
constexpr const char* kMarking = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
constexpr const char* kIndicatorRef = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
constexpr const char* kFileRef = "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d";
constexpr const char* kIpv4Ref = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd";

std::string Id(const std::string& type) { return type + "--" + kUuid; }

// An SDO/SRO/meta object with the common properties and `props` (a JSON fragment, may be empty).
std::string Sdo(const std::string& type, const std::string& props) {
  std::string s = R"({"type":")" + type + R"(","spec_version":"2.1","id":")" + Id(type) +
                  R"(","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z")";
  if (!props.empty()) s += "," + props;
  return s + "}";
}

std::string Sco(const std::string& type, const std::string& props) {
  std::string s = R"({"type":")" + type + R"(","spec_version":"2.1","id":")" + Id(type) + "\"";
  if (!props.empty()) s += "," + props;
  return s + "}";
}

void ExpectValid(const std::string& json) {
  std::vector<Warning> warnings;
  Result<ObjectInfo> r = ParseObject(json, {}, &warnings);
  EXPECT_TRUE(r.ok()) << json << "\n -> " << r.status().ToString();
}

// Expects rejection with a message containing `what` (and naming the object when it has an id).
void ExpectInvalid(const std::string& json, const std::string& what) {
  Result<ObjectInfo> r = ParseObject(json);
  ASSERT_FALSE(r.ok()) << "accepted: " << json;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(what), std::string::npos)
      << "message: " << r.status().message() << "\nexpected to contain: " << what;
}

bool HasWarning(const std::string& json, const std::string& what) {
  std::vector<Warning> warnings;
  Result<ObjectInfo> r = ParseObject(json, {}, &warnings);
  if (!r.ok()) return false;
  for (const Warning& w : warnings) {
    if ((w.property + ": " + w.message).find(what) != std::string::npos) return true;
  }
  return false;
}

// ---- Identifiers and names ----

TEST(StixNames, TypeNames) {
  EXPECT_TRUE(IsValidTypeName("indicator"));
  EXPECT_TRUE(IsValidTypeName("x509-certificate"));
  EXPECT_TRUE(IsValidTypeName("x-acme-widget"));
  EXPECT_FALSE(IsValidTypeName("ab"));
  EXPECT_FALSE(IsValidTypeName("Indicator"));
  EXPECT_FALSE(IsValidTypeName("-abc"));
  EXPECT_FALSE(IsValidTypeName("abc-"));
  EXPECT_FALSE(IsValidTypeName("a--b"));
  EXPECT_FALSE(IsValidTypeName("a_bc"));
  EXPECT_FALSE(IsValidTypeName(std::string(251, 'a')));
}

TEST(StixNames, Identifiers) {
  EXPECT_TRUE(IsValidIdentifier(Id("indicator")));
  EXPECT_TRUE(IsValidIdentifier(kFileRef));  // UUIDv5
  EXPECT_FALSE(IsValidIdentifier("indicator"));
  EXPECT_FALSE(IsValidIdentifier("indicator--"));
  EXPECT_FALSE(IsValidIdentifier("indicator--6BA7B810-9DAD-41D1-80B4-00C04FD430C8"));  // uppercase
  EXPECT_FALSE(IsValidIdentifier("indicator--6ba7b810-9dad-41d1-c0b4-00c04fd430c8"));  // variant
  EXPECT_FALSE(IsValidIdentifier("indicator--6ba7b810-9dad-01d1-80b4-00c04fd430c8"));  // version
  EXPECT_FALSE(IsValidIdentifier("indicator--00000000-0000-0000-0000-000000000000"));
  EXPECT_FALSE(IsValidIdentifier("indicator--6ba7b810-9dad-41d1-80b4-00c04fd430c"));
  EXPECT_FALSE(IsValidIdentifier("Indicator--6ba7b810-9dad-41d1-80b4-00c04fd430c8"));
}

// ---- Common properties (section 3.2) ----

TEST(StixCommon, ValidObjectInfo) {
  const std::string json =
      Sdo("indicator", std::string(R"("created_by_ref":")") + kIdentity +
                           R"(","object_marking_refs":[")" + kMarking +
                           R"("],"revoked":true,"labels":["a"],"confidence":100,"lang":"en",)"
                           R"("pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix",)"
                           R"("valid_from":"2016-01-01T00:00:00Z")");
  Result<ObjectInfo> r = ParseObject(json);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, Id("indicator"));
  EXPECT_EQ(r->type, "indicator");
  EXPECT_EQ(r->kind, ObjectKind::kDomain);
  EXPECT_EQ(r->spec_version, "2.1");
  EXPECT_EQ(r->created_by_ref, kIdentity);
  ASSERT_EQ(r->object_marking_refs.size(), 1u);
  EXPECT_EQ(r->object_marking_refs[0], kMarking);
  EXPECT_TRUE(r->revoked);
  ASSERT_TRUE(r->created && r->modified);
  EXPECT_EQ(r->version(), r->modified);
  EXPECT_EQ(r->json, json);
}

TEST(StixCommon, BytesPreservedExceptWhitespace) {
  const std::string json = "{ \"type\" : \"url\",\n  \"id\": \"url--" + std::string(kUuid) +
                           "\",\t\"value\": \"http://ex.com/\\u0041 b\\/c\", \"x_num\": 1.50E+2,"
                           " \"x_z\": [ 1 , 2 ] , \"x_a\": {\"k\" : \"v w\"} }\n";
  Result<ObjectInfo> r = ParseObject(json);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->json, "{\"type\":\"url\",\"id\":\"url--" + std::string(kUuid) +
                         "\",\"value\":\"http://ex.com/\\u0041 b\\/c\",\"x_num\":1.50E+2,"
                         "\"x_z\":[1,2],\"x_a\":{\"k\":\"v w\"}}");
  EXPECT_EQ(r->kind, ObjectKind::kCyberObservable);
  EXPECT_FALSE(r->version().has_value());
}

TEST(StixCommon, TypeAndId) {
  ExpectInvalid(R"({"id":"indicator--6ba7b810-9dad-41d1-80b4-00c04fd430c8"})",
                "'type' is required");
  ExpectInvalid(R"({"type":5,"id":"x"})", "'type' must be a string");
  ExpectInvalid(R"({"type":"Bad_Type","id":"x"})", "property 'type' must be 3-250");
  ExpectInvalid(R"({"type":"indicator"})", "'id' is required");
  ExpectInvalid(R"({"type":"indicator","id":"indicator--123"})", "property 'id' must be");
  std::string mismatched = Sdo("tool", R"("name":"t")");
  mismatched.replace(mismatched.find("tool--"), 6, "malware--");
  ExpectInvalid(mismatched, "must start with the object's type 'tool--'");
  ExpectInvalid(R"({"type":"bundle","id":"bundle--6ba7b810-9dad-41d1-80b4-00c04fd430c8"})",
                "'bundle' cannot appear");
  ExpectInvalid("[1,2]", "must be a JSON object");
}

TEST(StixCommon, SpecVersion) {
  std::string no_sv = Sdo("tool", R"("name":"t")");
  no_sv.erase(no_sv.find(R"("spec_version":"2.1",)"), 21);
  ExpectInvalid(no_sv, "'spec_version' is required");
  std::string v20 = Sdo("tool", R"("name":"t")");
  v20.replace(v20.find("2.1"), 3, "2.0");
  ExpectInvalid(v20, "only STIX 2.1 content is accepted");
  // Optional on SCOs (absent means 2.1), but must be 2.1 when present.
  ExpectValid(R"({"type":"mutex","id":"mutex--)" + std::string(kUuid) + R"(","name":"m"})");
  ExpectInvalid(R"({"type":"mutex","spec_version":"2.0","id":"mutex--)" + std::string(kUuid) +
                    R"(","name":"m"})",
                "only STIX 2.1");
}

TEST(StixCommon, CreatedModified) {
  std::string no_created = Sdo("tool", R"("name":"t")");
  no_created.erase(no_created.find(R"("created":)"), 37);
  ExpectInvalid(no_created, "'created' is required");
  std::string no_modified = Sdo("tool", R"("name":"t")");
  no_modified.erase(no_modified.find(R"(,"modified":)"), 38);
  ExpectInvalid(no_modified, "'modified' is required");
  std::string earlier = Sdo("tool", R"("name":"t")");
  earlier.replace(earlier.rfind("2016-04-06T20:03:00.000Z"), 4, "2015");
  ExpectInvalid(earlier, "'modified' must not be earlier than 'created'");
  std::string bad_ts = Sdo("tool", R"("name":"t")");
  bad_ts.replace(bad_ts.find("2016-04-06T20:03:00.000Z"), 24, "2016-04-06 20:03:00");
  ExpectInvalid(bad_ts, "property 'created' must be an RFC 3339");
  std::string coarse = Sdo("tool", R"("name":"t")");
  coarse.replace(coarse.find("00.000Z"), 7, "00Z");
  EXPECT_TRUE(HasWarning(coarse, "millisecond"));
}

TEST(StixCommon, OptionalCommonProperties) {
  const std::string id = Id("tool");
  ExpectInvalid(Sdo("tool", R"("name":"t","created_by_ref":")" + std::string(kIndicatorRef) + "\""),
                id + ": property 'created_by_ref' must reference identity");
  ExpectInvalid(Sdo("tool", R"("name":"t","revoked":"yes")"), "'revoked' must be a boolean");
  ExpectInvalid(Sdo("tool", R"("name":"t","labels":[])"), "'labels' must not be an empty list");
  ExpectInvalid(Sdo("tool", R"("name":"t","labels":[1])"), "'labels[0]' must be a string");
  ExpectInvalid(Sdo("tool", R"("name":"t","confidence":101)"),
                "'confidence' must be an integer in 0..100");
  ExpectInvalid(Sdo("tool", R"("name":"t","confidence":-1)"), "'confidence'");
  ExpectInvalid(Sdo("tool", R"("name":"t","confidence":50.5)"), "'confidence' must be an integer");
  ExpectInvalid(Sdo("tool", R"("name":"t","lang":7)"), "'lang'");
  ExpectInvalid(
      Sdo("tool", R"("name":"t","object_marking_refs":[")" + std::string(kIdentity) + "\"]"),
      "'object_marking_refs[0]' must reference marking-definition");
  ExpectValid(Sdo("tool", R"("name":"t","confidence":0,"revoked":false)"));
}

TEST(StixCommon, ExternalReferences) {
  ExpectValid(Sdo(
      "attack-pattern",
      R"("name":"a","external_references":[{"source_name":"capec","external_id":"CAPEC-163"},)"
      R"({"source_name":"cve","external_id":"CVE-2016-1234"},{"source_name":"x","url":"http://x",)"
      R"("hashes":{"SHA-256":"6db12788c37247f2316052e142f42f4b259d6561751e5f401a1ae2a6df9c674b"}}])"));
  ExpectInvalid(Sdo("tool", R"("name":"t","external_references":[{"url":"http://x"}])"),
                "'external_references[0].source_name' is required");
  ExpectInvalid(Sdo("tool", R"("name":"t","external_references":[{"source_name":"x"}])"),
                "at least one of 'description', 'url' or 'external_id'");
  ExpectInvalid(
      Sdo("tool", R"("name":"t","external_references":[{"source_name":"capec","url":"http://x"}])"),
      "'external_references[0].external_id' is required when source_name is 'capec'");
  ExpectInvalid(
      Sdo("tool",
          R"("name":"t","external_references":[{"source_name":"cve","external_id":"2016-1"}])"),
      "must be 'CVE-YYYY-NNNN'");
  ExpectInvalid(
      Sdo("tool",
          R"("name":"t","external_references":[{"source_name":"capec","external_id":"CAPEC-x"}])"),
      "must be 'CAPEC-<number>'");
  ExpectInvalid(Sdo("tool", R"("name":"t","external_references":{})"), "must be a list");
  ExpectInvalid(
      Sdo("tool",
          R"("name":"t","external_references":[{"source_name":"x","url":"u","hashes":{"MD5":"zz"}}])"),
      "external_references[0].hashes.MD5' must be 32 hexadecimal");
}

TEST(StixCommon, GranularMarkings) {
  const std::string m = kMarking;
  ExpectValid(
      Sdo("tool",
          R"("name":"t","description":"d","external_references":[{"source_name":"x","url":"u"}],)"
          R"("granular_markings":[{"marking_ref":")" +
              m +
              R"(","selectors":["description","external_references.[0].url"]},)"
              R"({"lang":"en","selectors":["name"]}])"));
  ExpectInvalid(Sdo("tool", R"("name":"t","granular_markings":[{"marking_ref":")" + m + R"("}])"),
                "'granular_markings[0].selectors' is required");
  ExpectInvalid(Sdo("tool", R"("name":"t","granular_markings":[{"marking_ref":")" + m +
                                R"(","selectors":[]}])"),
                "must not be an empty list");
  ExpectInvalid(Sdo("tool", R"("name":"t","granular_markings":[{"marking_ref":")" + m +
                                R"(","lang":"en","selectors":["name"]}])"),
                "exactly one of 'marking_ref' and 'lang'");
  ExpectInvalid(Sdo("tool", R"("name":"t","granular_markings":[{"selectors":["name"]}])"),
                "exactly one of 'marking_ref' and 'lang'");
  ExpectInvalid(Sdo("tool", R"("name":"t","granular_markings":[{"marking_ref":")" + m +
                                R"(","selectors":["description"]}])"),
                "selector 'description' does not select anything");
  ExpectInvalid(Sdo("tool", R"("name":"t","labels":["a"],"granular_markings":[{"marking_ref":")" +
                                m + R"(","selectors":["labels.[1]"]}])"),
                "does not select anything");
}

TEST(StixCommon, Extensions) {
  const std::string ext = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e";
  ExpectValid(Sdo("tool", R"("name":"t","extensions":{")" + ext +
                              R"(":{"extension_type":"property-extension","rank":5}})"));
  ExpectInvalid(Sdo("tool", R"("name":"t","extensions":{")" + ext + R"(":5})"),
                "must be an object");
  ExpectInvalid(
      Sdo("tool", R"("name":"t","extensions":{")" + ext + R"(":{"extension_type":"bogus"}})"),
      "extension_type' must be one of");
  ExpectInvalid(Sdo("tool", R"("name":"t","extensions":{"Not An Ext":{}})"),
                "must be an extension-definition identifier or a predefined extension name");
  ExpectInvalid(Sdo("tool", R"("name":"t","extensions":[])"), "'extensions' must be a dictionary");
  ExpectInvalid(Sco("url", R"("value":"http://x","extensions":{"archive-ext":{"contains_refs":[")" +
                               std::string(kFileRef) + R"("]}})"),
                "predefined extension of 'file' objects");
  EXPECT_TRUE(HasWarning(Sco("url", R"("value":"http://x","extensions":{"x-acme-ext":{"a":1}})"),
                         "STIX 2.0 convention"));
}

TEST(StixCommon, CustomPropertiesAndTypes) {
  ExpectValid(Sdo("tool", R"("name":"t","x_acme_score":{"deep":[1,2,{"a":null}]},"acme_rank":3)"));
  ExpectInvalid(Sdo("tool", R"("name":"t","X_Acme":1)"), "property name 'X_Acme' is not valid");
  ExpectInvalid(Sdo("tool", R"("name":"t","xy":1)"), "property name 'xy' is not valid");
  ExpectInvalid(Sdo("tool", R"("name":"t","x-acme":1)"), "is not valid");
  ExpectValid(Sdo("tool", R"("name":"t","x_acme_ref":")" + std::string(kIdentity) +
                              R"(","x_acme_refs":[")" + kFileRef + R"("])"));
  ExpectInvalid(Sdo("tool", R"("name":"t","x_acme_ref":"nope")"),
                "'x_acme_ref' must be an identifier");
  ExpectInvalid(Sdo("tool", R"("name":"t","x_acme_refs":["nope"])"),
                "'x_acme_refs[0]' must be an identifier");
  // A legacy custom object: SDO common properties, accepted with a deprecation warning.
  Result<ObjectInfo> custom = ParseObject(Sdo("x-acme-widget", R"("widget_size":5)"));
  ASSERT_TRUE(custom.ok()) << custom.status().ToString();
  EXPECT_EQ(custom->kind, ObjectKind::kCustom);
  EXPECT_TRUE(HasWarning(Sdo("x-acme-widget", ""), "deprecated"));
  std::string no_created = Sdo("x-acme-widget", "");
  no_created.erase(no_created.find(R"("created":)"), 37);
  ExpectInvalid(no_created, "'created' is required");
  // A new SCO type declared by an extension definition needs no created/modified.
  ExpectValid(Sco(
      "x-acme-sensor",
      R"("extensions":{"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e":{"extension_type":"new-sco"}},"reading":1)"));
}

TEST(StixJson, RejectsAmbiguousOrHostileJson) {
  ExpectInvalid(Sdo("tool", R"("name":"t","name":"u")"), "key 'name' occurs twice");
  ExpectInvalid(Sdo("tool", R"("name":"t","x_a":{"k":1,"k":2})"), "key 'k' occurs twice");
  ExpectInvalid(Sdo("tool", "\"name\":\"\xff\xfe\""), "invalid UTF-8");
  ExpectInvalid(Sdo("tool", R"("name":"t",)"), "invalid JSON");
  std::string deep = "1";
  for (int i = 0; i < 70; ++i) deep = "[" + deep + "]";
  ExpectInvalid(Sdo("tool", R"("name":"t","x_deep":)" + deep), "nested deeper than 64 levels");
  ParseLimits small;
  small.max_object_bytes = 64;
  Result<ObjectInfo> big = ParseObject(Sdo("tool", R"("name":"t")"), small);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("exceeds the limit"), std::string::npos);
}

// ---- Each type: a valid instance, then each way of being invalid. ----

struct TypeCase {
  std::string json;
  std::string error;  // empty: valid
};

void RunCases(const std::vector<TypeCase>& cases) {
  for (const TypeCase& c : cases) {
    if (c.error.empty()) {
      ExpectValid(c.json);
    } else {
      ExpectInvalid(c.json, c.error);
    }
  }
}

TEST(StixSdo, AttackPatternCampaignCourseOfAction) {
  RunCases({
      {Sdo("attack-pattern",
           R"("name":"Spear Phishing","aliases":["a"],"kill_chain_phases":[{"kill_chain_name":"lockheed-martin-cyber-kill-chain","phase_name":"delivery"}])"),
       ""},
      {Sdo("attack-pattern", R"("description":"no name")"), "'name' is required"},
      {Sdo("attack-pattern", R"("name":"a","kill_chain_phases":[{"phase_name":"x"}])"),
       "'kill_chain_phases[0].kill_chain_name' is required"},
      {Sdo("attack-pattern", R"("name":"a","aliases":"x")"), "'aliases' must be a list of strings"},
      {Sdo("campaign",
           R"("name":"c","first_seen":"2016-01-01T00:00:00Z","last_seen":"2016-02-01T00:00:00Z","objective":"o")"),
       ""},
      {Sdo("campaign",
           R"("name":"c","first_seen":"2016-03-01T00:00:00Z","last_seen":"2016-02-01T00:00:00Z")"),
       "'last_seen' must not be earlier than 'first_seen'"},
      {Sdo("campaign", R"("objective":"o")"), "'name' is required"},
      {Sdo("course-of-action", R"("name":"c","description":"d")"), ""},
      {Sdo("course-of-action", R"("name":5)"), "'name' must be a string"},
  });
}

TEST(StixSdo, GroupingIdentityIncident) {
  const std::string refs = std::string(R"("object_refs":[")") + kIndicatorRef + "\"]";
  RunCases({
      {Sdo("grouping", R"("context":"suspicious-activity",)" + refs), ""},
      {Sdo("grouping", refs), "'context' is required"},
      {Sdo("grouping", R"("context":"x")"), "'object_refs' is required"},
      {Sdo("grouping", R"("context":"x","object_refs":[])"),
       "'object_refs' must not be an empty list"},
      {Sdo("grouping", R"("context":"x","object_refs":["nope"])"),
       "'object_refs[0]' must be an identifier"},
      {Sdo("identity",
           R"("name":"ACME","identity_class":"organization","sectors":["technology"],"roles":["r"])"),
       ""},
      {Sdo("identity", R"("identity_class":"organization")"), "'name' is required"},
      {Sdo("identity", R"("name":"n","sectors":"technology")"), "'sectors' must be a list"},
      {Sdo("incident", R"("name":"i")"), ""},
      {Sdo("incident", ""), "'name' is required"},
  });
  EXPECT_TRUE(HasWarning(Sdo("identity", R"("name":"n","identity_class":"alien")"),
                         "suggested vocabulary"));
}

TEST(StixSdo, Indicator) {
  const std::string base =
      R"("pattern":"[file:name = 'x']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z")";
  RunCases({
      {Sdo("indicator",
           base +
               R"(,"indicator_types":["malicious-activity"],"valid_until":"2017-01-01T00:00:00Z")"),
       ""},
      {Sdo("indicator", R"("pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z")"),
       "'pattern' is required"},
      {Sdo("indicator", R"("pattern":"x","valid_from":"2016-01-01T00:00:00Z")"),
       "'pattern_type' is required"},
      {Sdo("indicator", R"("pattern":"x","pattern_type":"stix")"), "'valid_from' is required"},
      {Sdo("indicator", base + R"(,"valid_until":"2016-01-01T00:00:00Z")"),
       Id("indicator") + ": property 'valid_until' must be later than 'valid_from'"},
      {Sdo("indicator", base + R"(,"valid_until":"soon")"), "'valid_until' must be an RFC 3339"},
      {Sdo("indicator", base + R"(,"indicator_types":[])"),
       "'indicator_types' must not be an empty list"},
  });
}

TEST(StixSdo, InfrastructureIntrusionSetLocation) {
  RunCases({
      {Sdo("infrastructure",
           R"("name":"i","infrastructure_types":["botnet"],"first_seen":"2016-01-01T00:00:00Z")"),
       ""},
      {Sdo("infrastructure",
           R"("name":"i","first_seen":"2016-01-02T00:00:00Z","last_seen":"2016-01-01T00:00:00Z")"),
       "'last_seen' must not be earlier"},
      {Sdo("infrastructure", ""), "'name' is required"},
      {Sdo("intrusion-set",
           R"("name":"APT","goals":["g"],"resource_level":"government","primary_motivation":"ideology","secondary_motivations":["revenge"])"),
       ""},
      {Sdo("intrusion-set", R"("name":"APT","goals":"g")"), "'goals' must be a list"},
      {Sdo("intrusion-set", R"("goals":["g"])"), "'name' is required"},
      {Sdo("location", R"("region":"northern-america")"), ""},
      {Sdo("location", R"("country":"US","city":"x")"), ""},
      {Sdo("location", R"("latitude":48.8566,"longitude":2.3522,"precision":1000.0)"), ""},
      {Sdo("location", R"("name":"nowhere")"),
       "'region' is required unless 'country' or 'latitude'/'longitude'"},
      {Sdo("location", R"("latitude":91,"longitude":0)"), "'latitude' must be a number in"},
      {Sdo("location", R"("latitude":0,"longitude":-180.5)"), "'longitude' must be a number in"},
      {Sdo("location", R"("latitude":10)"), "'longitude' is required when 'latitude' is present"},
      {Sdo("location", R"("region":"europe","precision":5)"), "'precision' requires 'latitude'"},
      {Sdo("location", R"("latitude":1,"longitude":1,"precision":-1)"),
       "'precision' must be a number >="},
  });
}

TEST(StixSdo, MalwareAndMalwareAnalysis) {
  RunCases({
      {Sdo("malware",
           R"("name":"Poison Ivy","is_family":true,"malware_types":["remote-access-trojan"],"sample_refs":[")" +
               std::string(kFileRef) + R"("])"),
       ""},
      {Sdo("malware", R"("is_family":false)"), ""},
      {Sdo("malware", R"("is_family":true)"), "'name' is required when 'is_family' is true"},
      {Sdo("malware", R"("name":"x")"), "'is_family' is required"},
      {Sdo("malware", R"("name":"x","is_family":"yes")"), "'is_family' must be a boolean"},
      {Sdo("malware", R"("is_family":false,"sample_refs":[")" + std::string(kIpv4Ref) + R"("])"),
       "'sample_refs[0]' must reference file, artifact"},
      {Sdo("malware",
           R"("is_family":false,"operating_system_refs":[")" + std::string(kFileRef) + R"("])"),
       "must reference software"},
      {Sdo("malware-analysis",
           R"("product":"av","result":"malicious","analysis_started":"2016-01-01T00:00:00Z","analysis_ended":"2016-01-01T01:00:00Z")"),
       ""},
      {Sdo("malware-analysis",
           R"("product":"av","analysis_sco_refs":[")" + std::string(kFileRef) + R"("])"),
       ""},
      {Sdo("malware-analysis", R"("product":"av")"),
       "'result' is required unless one of 'result', 'analysis_sco_refs'"},
      {Sdo("malware-analysis", R"("result":"benign")"), "'product' is required"},
      {Sdo("malware-analysis",
           R"("product":"av","analysis_sco_refs":[")" + std::string(kIndicatorRef) + R"("])"),
       "must reference a cyber-observable object"},
  });
}

TEST(StixSdo, NoteObservedDataOpinionReport) {
  const std::string refs = std::string(R"("object_refs":[")") + kIndicatorRef + "\"]";
  const std::string od =
      R"("first_observed":"2016-01-01T00:00:00Z","last_observed":"2016-01-02T00:00:00Z","number_observed":1)";
  RunCases({
      {Sdo("note", R"("content":"c","authors":["a"],)" + refs), ""},
      {Sdo("note", refs), "'content' is required"},
      {Sdo("note", R"("content":"c")"), "'object_refs' is required"},
      {Sdo("observed-data", od + R"(,"object_refs":[")" + kIpv4Ref + R"("])"), ""},
      {Sdo("observed-data", od + R"(,"object_refs":[")" + kIndicatorRef + R"("])"),
       "must reference a relationship object or a cyber-observable object"},
      {Sdo("observed-data", od), "'object_refs' is required"},
      {Sdo("observed-data", od + R"(,"objects":{"0":{"type":"file","name":"a"}},"object_refs":[")" +
                                kIpv4Ref + R"("])"),
       "'objects' must not be present together"},
      {Sdo("observed-data",
           R"("first_observed":"2016-01-02T00:00:00Z","last_observed":"2016-01-01T00:00:00Z","number_observed":1,"object_refs":[")" +
               std::string(kIpv4Ref) + R"("])"),
       "'last_observed' must not be earlier than 'first_observed'"},
      {Sdo("observed-data",
           R"("first_observed":"2016-01-01T00:00:00Z","last_observed":"2016-01-01T00:00:00Z","number_observed":0,"object_refs":[")" +
               std::string(kIpv4Ref) + R"("])"),
       "'number_observed' must be an integer in 1..999999999"},
      {Sdo("observed-data",
           R"("first_observed":"2016-01-01T00:00:00Z","last_observed":"2016-01-01T00:00:00Z","number_observed":1000000000,"object_refs":[")" +
               std::string(kIpv4Ref) + R"("])"),
       "'number_observed'"},
      {Sdo("observed-data",
           R"("last_observed":"2016-01-01T00:00:00Z","number_observed":1,"object_refs":[")" +
               std::string(kIpv4Ref) + R"("])"),
       "'first_observed' is required"},
      {Sdo("opinion", R"("opinion":"strongly-agree",)" + refs), ""},
      {Sdo("opinion", R"("opinion":"meh",)" + refs), "'opinion' must be one of strongly-disagree"},
      {Sdo("opinion", refs), "'opinion' is required"},
      {Sdo("report",
           R"("name":"r","published":"2016-01-01T00:00:00Z","report_types":["threat-report"],)" +
               refs),
       ""},
      {Sdo("report", R"("name":"r",)" + refs), "'published' is required"},
      {Sdo("report", R"("published":"2016-01-01T00:00:00Z",)" + refs), "'name' is required"},
  });
  EXPECT_TRUE(HasWarning(
      Sdo("observed-data", od + R"(,"objects":{"0":{"type":"file","name":"a"}})"), "deprecated"));
}

TEST(StixSdo, ThreatActorToolVulnerability) {
  RunCases({
      {Sdo("threat-actor",
           R"("name":"t","threat_actor_types":["crime-syndicate"],"roles":["agent"],"sophistication":"expert","personal_motivations":["revenge"])"),
       ""},
      {Sdo("threat-actor",
           R"("name":"t","first_seen":"2017-01-01T00:00:00Z","last_seen":"2016-01-01T00:00:00Z")"),
       "'last_seen' must not be earlier"},
      {Sdo("threat-actor", R"("roles":["agent"])"), "'name' is required"},
      {Sdo("tool", R"("name":"nmap","tool_types":["information-gathering"],"tool_version":"7")"),
       ""},
      {Sdo("tool", R"("name":"nmap","tool_version":7)"), "'tool_version' must be a string"},
      {Sdo("vulnerability",
           R"("name":"CVE-2016-1234","external_references":[{"source_name":"cve","external_id":"CVE-2016-1234"}])"),
       ""},
      {Sdo("vulnerability", R"("description":"d")"), "'name' is required"},
  });
}

TEST(StixSro, RelationshipAndSighting) {
  const std::string src = std::string(R"("source_ref":")") + kIndicatorRef + "\"";
  const std::string tgt = std::string(R"("target_ref":")") + Id("malware") + "\"";
  RunCases({
      {Sdo("relationship", R"("relationship_type":"indicates",)" + src + "," + tgt), ""},
      {Sdo("relationship",
           R"("relationship_type":"related-to",)" + src + R"(,"target_ref":")" + kIpv4Ref + "\""),
       ""},
      {Sdo("relationship", src + "," + tgt), "'relationship_type' is required"},
      {Sdo("relationship", R"("relationship_type":"indicates",)" + tgt),
       "'source_ref' is required"},
      {Sdo("relationship", R"("relationship_type":"indicates",)" + src),
       "'target_ref' is required"},
      {Sdo("relationship",
           R"("relationship_type":"x",)" + src + R"(,"target_ref":")" + kMarking + "\""),
       "'target_ref' must reference a domain object or a cyber-observable object"},
      {Sdo("relationship",
           R"("relationship_type":"x",)" + src + R"(,"target_ref":"bundle--)" + kUuid + "\""),
       "must not reference a bundle"},
      {Sdo("relationship",
           R"("relationship_type":"x",)" + src + "," + tgt +
               R"(,"start_time":"2016-01-01T00:00:00Z","stop_time":"2016-01-01T00:00:00Z")"),
       "'stop_time' must be later than 'start_time'"},
      {Sdo("sighting", R"("sighting_of_ref":")" + std::string(kIndicatorRef) +
                           R"(","count":3,"where_sighted_refs":[")" + kIdentity +
                           R"("],"observed_data_refs":[")" + Id("observed-data") +
                           R"("],"summary":false)"),
       ""},
      {Sdo("sighting", R"("count":3)"), "'sighting_of_ref' is required"},
      {Sdo("sighting", R"("sighting_of_ref":")" + std::string(kIpv4Ref) + "\""),
       "'sighting_of_ref' must reference a domain object"},
      {Sdo("sighting", R"("sighting_of_ref":")" + std::string(kIndicatorRef) +
                           R"(","where_sighted_refs":[")" + kIndicatorRef + R"("])"),
       "'where_sighted_refs[0]' must reference identity, location"},
      {Sdo("sighting", R"("sighting_of_ref":")" + std::string(kIndicatorRef) +
                           R"(","observed_data_refs":[")" + kIdentity + R"("])"),
       "must reference observed-data"},
      {Sdo("sighting", R"("sighting_of_ref":")" + std::string(kIndicatorRef) + R"(","count":-1)"),
       "'count' must be an integer in 0..999999999"},
      {Sdo("sighting",
           R"("sighting_of_ref":")" + std::string(kIndicatorRef) +
               R"(","first_seen":"2016-01-02T00:00:00Z","last_seen":"2016-01-01T00:00:00Z")"),
       "'last_seen' must not be earlier"},
  });
}

TEST(StixSco, ArtifactAsDirectoryDomainEmail) {
  RunCases({
      {Sco("artifact", R"("mime_type":"text/plain","payload_bin":"aGVsbG8=")"), ""},
      {Sco("artifact", R"("url":"http://x/a","hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"})"),
       ""},
      {Sco("artifact", R"("mime_type":"text/plain")"),
       "'payload_bin' is required unless 'url' is present"},
      {Sco("artifact",
           R"("payload_bin":"aGVsbG8=","url":"http://x","hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"})"),
       "'url' must not be present together"},
      {Sco("artifact", R"("url":"http://x")"), "'hashes' is required when 'url' is present"},
      {Sco("artifact", R"("payload_bin":"not base64!")"), "'payload_bin' must be base64"},
      {Sco("artifact", R"("payload_bin":"aGVsbG8=","decryption_key":"k")"),
       "'decryption_key' requires 'encryption_algorithm'"},
      {Sco("artifact", R"("payload_bin":"aGVsbG8=","encryption_algorithm":"rot13")"),
       "'encryption_algorithm' must be one of"},
      {Sco("autonomous-system", R"("number":15139,"name":"Slime","rir":"ARIN")"), ""},
      {Sco("autonomous-system", R"("name":"x")"), "'number' is required"},
      {Sco("autonomous-system", R"("number":"15139")"), "'number' must be an integer"},
      {Sco("directory",
           R"("path":"C:\\Windows","contains_refs":[")" + std::string(kFileRef) + R"("])"),
       ""},
      {Sco("directory", R"("path_enc":"x")"), "'path' is required"},
      {Sco("directory", R"("path":"/","contains_refs":[")" + std::string(kIpv4Ref) + R"("])"),
       "must reference file, directory"},
      {Sco("domain-name",
           R"("value":"example.com","resolves_to_refs":[")" + std::string(kIpv4Ref) + R"("])"),
       ""},
      {Sco("domain-name", R"("resolves_to_refs":[")" + std::string(kIpv4Ref) + R"("])"),
       "'value' is required"},
      {Sco("domain-name",
           R"("value":"example.com","resolves_to_refs":[")" + std::string(kFileRef) + R"("])"),
       "must reference ipv4-addr"},
      {Sco("email-addr", R"("value":"a@example.com","display_name":"A","belongs_to_ref":")" +
                             Id("user-account") + "\""),
       ""},
      {Sco("email-addr", R"("display_name":"A")"), "'value' is required"},
      {Sco("email-addr", R"("value":"a@x","belongs_to_ref":")" + std::string(kFileRef) + "\""),
       "must reference user-account"},
  });
}

TEST(StixSco, EmailMessageAndFile) {
  const std::string from = std::string(R"("from_ref":")") + Id("email-addr") + "\"";
  RunCases({
      {Sco("email-message",
           R"("is_multipart":false,"subject":"hi","body":"text",)" + from +
               R"(,"date":"2016-01-01T00:00:00Z","additional_header_fields":{"Content-Type":"text/plain"})"),
       ""},
      {Sco("email-message",
           R"("is_multipart":true,"body_multipart":[{"content_type":"text/plain","body":"x"},{"body_raw_ref":")" +
               std::string(kFileRef) + R"("}])"),
       ""},
      {Sco("email-message", R"("subject":"x")"), "'is_multipart' is required"},
      {Sco("email-message", R"("is_multipart":true,"body":"x")"),
       "'body' must not be present when 'is_multipart' is true"},
      {Sco("email-message", R"("is_multipart":false,"body_multipart":[{"body":"x"}])"),
       "'body_multipart' must not be present when 'is_multipart' is false"},
      {Sco("email-message",
           R"("is_multipart":true,"body_multipart":[{"content_type":"text/plain"}])"),
       "exactly one of 'body' and 'body_raw_ref'"},
      {Sco("email-message", R"("is_multipart":false,"from_ref":")" + std::string(kIpv4Ref) + "\""),
       "'from_ref' must reference email-addr"},
      {Sco("file",
           R"("name":"a.exe","size":10,"hashes":{"SHA-256":"6db12788c37247f2316052e142f42f4b259d6561751e5f401a1ae2a6df9c674b"},"magic_number_hex":"4D5A","extensions":{"windows-pebinary-ext":{"pe_type":"exe"},"archive-ext":{"contains_refs":[")" +
               std::string(kFileRef) + R"("]}})"),
       ""},
      {Sco("file", R"("size":10)"), "'hashes' is required unless one of 'hashes', 'name'"},
      {Sco("file", R"("name":"a","size":-1)"), "'size' must be an integer in 0.."},
      {Sco("file", R"("name":"a","magic_number_hex":"4D5")"),
       "'magic_number_hex' must be an even number of hexadecimal"},
      {Sco("file", R"("hashes":{"SHA-1":"abc"})"), "'hashes.SHA-1' must be 40 hexadecimal"},
      {Sco("file", R"("name":"a","extensions":{"windows-pebinary-ext":{"imphash":"x"}})"),
       "'extensions.windows-pebinary-ext.pe_type' is required"},
      {Sco("file", R"("name":"a","extensions":{"archive-ext":{}})"),
       "'extensions.archive-ext.contains_refs' is required"},
      {Sco("file", R"("name":"a","parent_directory_ref":")" + std::string(kFileRef) + "\""),
       "must reference directory"},
  });
  EXPECT_TRUE(HasWarning(Sco("file", R"("hashes":{"sha256":"x"})"), "should be spelled 'SHA-256'"));
}

TEST(StixSco, AddressesMutexNetworkTraffic) {
  RunCases({
      {Sco("ipv4-addr", R"("value":"198.51.100.3")"), ""},
      {Sco("ipv4-addr", R"("value":"198.51.100.0/24","resolves_to_refs":[")" + Id("mac-addr") +
                            R"("],"belongs_to_refs":[")" + Id("autonomous-system") + R"("])"),
       ""},
      {Sco("ipv4-addr", R"("value":"198.51.100.300")"), "'value' must be an IPv4 address"},
      {Sco("ipv4-addr", R"("value":"198.51.100.0/33")"), "invalid CIDR prefix"},
      {Sco("ipv4-addr", R"("resolves_to_refs":[")" + Id("mac-addr") + R"("])"),
       "'value' is required"},
      {Sco("ipv6-addr", R"("value":"2001:0db8:85a3:0000:0000:8a2e:0370:7334")"), ""},
      {Sco("ipv6-addr", R"("value":"2001:db8::/32")"), ""},
      {Sco("ipv6-addr", R"("value":"1.2.3.4")"), "must be an IPv6 address"},
      {Sco("mac-addr", R"("value":"d2:fb:49:24:37:18")"), ""},
      {Sco("mac-addr", R"("value":"D2:FB:49:24:37:18")"), "lowercase MAC-48"},
      {Sco("mac-addr", R"("value":"d2:fb:49:24:37:1")"), "lowercase MAC-48"},
      {Sco("mutex", R"("name":"__CLEANSWEEP__")"), ""},
      {Sco("mutex", ""), "'name' is required"},
      {Sco("network-traffic",
           R"("src_ref":")" + std::string(kIpv4Ref) +
               R"(","dst_port":443,"protocols":["ipv4","tcp"],"start":"2016-01-01T00:00:00Z","end":"2016-01-01T00:01:00Z","extensions":{"http-request-ext":{"request_method":"get","request_value":"/","request_header":{"Host":"x"}},"socket-ext":{"address_family":"AF_INET"},"tcp-ext":{"src_flags_hex":"00000002"},"icmp-ext":{"icmp_type_hex":"08","icmp_code_hex":"00"}})"),
       ""},
      {Sco("network-traffic", R"("protocols":["tcp"])"),
       "'src_ref' is required unless one of 'src_ref', 'dst_ref'"},
      {Sco("network-traffic", R"("dst_ref":")" + std::string(kIpv4Ref) + "\""),
       "'protocols' is required"},
      {Sco("network-traffic",
           R"("dst_ref":")" + std::string(kIpv4Ref) + R"(","protocols":["tcp"],"dst_port":70000)"),
       "'dst_port' must be an integer in 0..65535"},
      {Sco("network-traffic",
           R"("dst_ref":")" + std::string(kFileRef) + R"(","protocols":["tcp"])"),
       "'dst_ref' must reference ipv4-addr"},
      {Sco("network-traffic",
           R"("dst_ref":")" + std::string(kIpv4Ref) +
               R"(","protocols":["tcp"],"is_active":true,"end":"2016-01-01T00:00:00Z")"),
       "'end' must not be present when 'is_active' is true"},
      {Sco("network-traffic",
           R"("dst_ref":")" + std::string(kIpv4Ref) +
               R"(","protocols":["tcp"],"start":"2016-01-02T00:00:00Z","end":"2016-01-01T00:00:00Z")"),
       "'end' must not be earlier than 'start'"},
      {Sco("network-traffic",
           R"("dst_ref":")" + std::string(kIpv4Ref) +
               R"(","protocols":["tcp"],"extensions":{"socket-ext":{"address_family":"AF_MARS"}})"),
       "address_family' must be one of"},
      {Sco("network-traffic",
           R"("dst_ref":")" + std::string(kIpv4Ref) +
               R"(","protocols":["tcp"],"extensions":{"http-request-ext":{"request_method":"get"}})"),
       "request_value' is required"},
  });
}

TEST(StixSco, ProcessSoftwareUrlUserRegistryX509) {
  RunCases({
      {Sco("process",
           R"("pid":1221,"command_line":"./gedit-bin --new-window","image_ref":")" +
               std::string(kFileRef) +
               R"(","extensions":{"windows-process-ext":{"aslr_enabled":true,"integrity_level":"high"}})"),
       ""},
      {Sco("process", ""), "needs at least one property"},
      {Sco("process", R"("pid":-5)"), "'pid' must be an integer"},
      {Sco("process", R"("parent_ref":")" + std::string(kFileRef) + "\""),
       "must reference process"},
      {Sco("process", R"("pid":1,"extensions":{"windows-service-ext":{"start_type":"SOMETIMES"}})"),
       "start_type' must be one of"},
      {Sco("software",
           R"("name":"Word","cpe":"cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*","languages":["en"],"vendor":"Microsoft","version":"2002")"),
       ""},
      {Sco("software", R"("vendor":"x")"), "'name' is required"},
      {Sco("url", R"("value":"https://example.com/research/index.html")"), ""},
      {Sco("url", ""), "'value' is required"},
      {Sco("user-account",
           R"("user_id":"1001","account_login":"jdoe","account_type":"unix","is_privileged":false,"account_created":"2016-01-20T12:31:12Z","extensions":{"unix-account-ext":{"gid":1001,"groups":["wheel"],"home_dir":"/home/jdoe","shell":"/bin/bash"}})"),
       ""},
      {Sco("user-account", R"("is_privileged":"no")"), "'is_privileged' must be a boolean"},
      {Sco("user-account", R"("user_id":"1","extensions":{"unix-account-ext":{"gid":"x"}})"),
       "gid' must be an integer"},
      {Sco("windows-registry-key",
           R"("key":"hkey_local_machine\\system\\bar\\foo","values":[{"name":"Foo","data":"qwerty","data_type":"REG_SZ"}],"number_of_subkeys":2)"),
       ""},
      {Sco("windows-registry-key", R"("key":"k","values":[{"name":"Foo","data_type":"REG_TEXT"}])"),
       "'values[0].data_type' must be one of"},
      {Sco("windows-registry-key", R"("key":"k","values":[])"),
       "'values' must not be an empty list"},
      {Sco("x509-certificate",
           R"("issuer":"C=ZA","validity_not_before":"2016-03-12T12:00:00Z","validity_not_after":"2016-08-21T12:00:00Z","subject":"C=US","serial_number":"36:f7:d4","subject_public_key_exponent":65537,"x509_v3_extensions":{"basic_constraints":"critical,CA:TRUE"})"),
       ""},
      {Sco("x509-certificate", ""), "needs at least one property"},
      {Sco("x509-certificate",
           R"("validity_not_before":"2016-03-12T12:00:00Z","validity_not_after":"2016-01-01T12:00:00Z")"),
       "'validity_not_after' must not be earlier"},
      {Sco("x509-certificate", R"("x509_v3_extensions":{"basic_constraints":true})"),
       "must be a string"},
  });
  EXPECT_TRUE(HasWarning(Sco("url", R"("value":"http://x","created":"2016-01-01T00:00:00.000Z")"),
                         "not a property of cyber-observable objects"));
}

TEST(StixMeta, MarkingDefinitions) {
  const std::string tlp_white =
      R"({"type":"marking-definition","spec_version":"2.1","id":")" + std::string(kMarking) +
      R"(","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:WHITE","definition":{"tlp":"white"}})";
  ExpectValid(tlp_white);
  std::string wrong_level = tlp_white;
  wrong_level.replace(wrong_level.find("\"white\""), 7, "\"red\"");
  ExpectInvalid(wrong_level, "of the TLP red marking must be 'marking-definition--5e57c739");
  std::string bad_level = tlp_white;
  bad_level.replace(bad_level.find("\"white\""), 7, "\"blue\"");
  ExpectInvalid(bad_level, "'definition.tlp' must be one of white, green, amber, red");
  const std::string stmt =
      R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--)" +
      std::string(kUuid) + R"(","created":"2016-08-01T00:00:00.000Z",)";
  ExpectValid(
      stmt +
      R"("definition_type":"statement","definition":{"statement":"Copyright 2019, Example Corp"}})");
  ExpectInvalid(stmt + R"("definition_type":"statement","definition":{"text":"x"}})",
                "'definition.statement' is required");
  ExpectInvalid(stmt + R"("definition_type":"statement"})",
                "'definition' is required when 'definition_type' is present");
  ExpectInvalid(stmt + R"("name":"x"})",
                "'definition_type' is required unless the marking is defined by an extension");
  ExpectValid(
      stmt +
      R"("name":"x","extensions":{"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e":{"extension_type":"property-extension","level":"x"}}})");
  std::string no_created = stmt;
  no_created.erase(no_created.find(R"("created":)"), 37);
  ExpectInvalid(no_created + R"("definition_type":"statement","definition":{"statement":"x"}})",
                "'created' is required");
}

TEST(StixMeta, LanguageContentAndExtensionDefinition) {
  RunCases({
      {Sdo("language-content",
           R"("object_ref":")" + std::string(kIndicatorRef) +
               R"(","object_modified":"2017-02-08T21:31:22.007Z","contents":{"de":{"name":"Bild","description":"x"},"fr":{"name":"Image"}})"),
       ""},
      {Sdo("language-content", R"("contents":{"de":{"name":"Bild"}})"), "'object_ref' is required"},
      {Sdo("language-content", R"("object_ref":")" + std::string(kIndicatorRef) + "\""),
       "'contents' is required"},
      {Sdo("language-content",
           R"("object_ref":")" + std::string(kIndicatorRef) + R"(","contents":{"de":"Bild"})"),
       "must be a non-empty dictionary of translated properties"},
      {Sdo("extension-definition",
           R"("created_by_ref":")" + std::string(kIdentity) +
               R"(","name":"ext","schema":"https://x/schema.json","version":"1.0","extension_types":["toplevel-property-extension"],"extension_properties":["toxicity"])"),
       ""},
      {Sdo("extension-definition",
           R"("name":"ext","schema":"s","version":"1","extension_types":["new-sdo"])"),
       "'created_by_ref' is required"},
      {Sdo("extension-definition",
           R"("created_by_ref":")" + std::string(kIdentity) +
               R"(","name":"ext","schema":"s","version":"1","extension_types":["new-thing"])"),
       "'extension_types[0]' must be one of"},
      {Sdo("extension-definition",
           R"("created_by_ref":")" + std::string(kIdentity) +
               R"(","name":"ext","version":"1","extension_types":["new-sdo"])"),
       "'schema' is required"},
      {Sdo("extension-definition",
           R"("created_by_ref":")" + std::string(kIdentity) +
               R"(","name":"ext","schema":"s","version":"1","extension_types":["new-sdo"],"extension_properties":["x_y"])"),
       "only allowed with a 'toplevel-property-extension'"},
  });
}

// ---- Envelopes and bundles ----

std::string Indicator(int n) {
  char uuid[40];
  std::snprintf(uuid, sizeof(uuid), "%08x-0000-4000-8000-000000000000", n);
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":"indicator--)") + uuid +
         R"(","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z",)"
         R"("pattern":"[file:name = 'x']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"})";
}

TEST(StixEnvelope, TaxiiEnvelopeAndBundle) {
  const std::string objs = Indicator(1) + ",\n  " + Indicator(2);
  Result<ParsedEnvelope> env =
      ParseEnvelope("{\"more\":false,\"next\":\"x\",\"objects\":[ " + objs + " ]}");
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  ASSERT_EQ(env->objects.size(), 2u);
  EXPECT_TRUE(env->objects[0].ok());
  EXPECT_EQ(env->objects[1].info.json, Indicator(2));
  EXPECT_EQ(env->objects[1].id_hint, "indicator--00000002-0000-4000-8000-000000000000");
  EXPECT_EQ(env->objects[1].version_hint, "2016-04-06T20:03:00.000Z");

  Result<ParsedEnvelope> bundle = ParseEnvelope(
      R"({"type":"bundle","id":"bundle--)" + std::string(kUuid) + R"(","objects":[)" + objs + "]}");
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(bundle->objects.size(), 2u);

  EXPECT_TRUE(ParseEnvelope("{}").ok());
  EXPECT_TRUE(ParseEnvelope(R"({"more":false})")->objects.empty());
}

TEST(StixEnvelope, BadObjectsAreReportedAndTheRestKept) {
  std::string bad = Indicator(2);
  bad.replace(bad.find("2016-01-01T00:00:00Z"), 20, "2016-05-01T00:00:00Z");
  bad.insert(bad.size() - 1, R"(,"valid_until":"2016-02-01T00:00:00Z")");
  Result<ParsedEnvelope> env =
      ParseEnvelope(R"({"objects":[)" + Indicator(1) + "," + bad + R"(,5,{"type":"indicator"}]})");
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  ASSERT_EQ(env->objects.size(), 4u);
  EXPECT_TRUE(env->objects[0].ok());
  EXPECT_FALSE(env->objects[1].ok());
  EXPECT_EQ(env->objects[1].error.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(env->objects[1].error.message(),
            "indicator--00000002-0000-4000-8000-000000000000: property 'valid_until' must be later "
            "than 'valid_from'");
  EXPECT_EQ(env->objects[1].id_hint, "indicator--00000002-0000-4000-8000-000000000000");
  EXPECT_FALSE(env->objects[2].ok());
  EXPECT_FALSE(env->objects[3].ok());
  EXPECT_NE(env->objects[3].error.message().find("'id' is required"), std::string::npos);
}

TEST(StixEnvelope, RejectsNonEnvelopes) {
  EXPECT_EQ(ParseEnvelope("[]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEnvelope("not json").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEnvelope(R"({"foo":1})").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEnvelope(R"({"objects":{}})").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEnvelope(Indicator(1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ParseEnvelope(Indicator(1)).status().message().find("single STIX object"),
            std::string::npos);
  EXPECT_EQ(ParseEnvelope(R"({"type":"bundle","id":"bundle--1","objects":[]})").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEnvelope(R"({"objects":[],"objects":[]})").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEnvelope("{\"objects\":[\"\xc3\x28\"]}").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(StixEnvelope, Limits) {
  ParseLimits limits;
  limits.max_objects = 2;
  Result<ParsedEnvelope> many = ParseEnvelope(
      R"({"objects":[)" + Indicator(1) + "," + Indicator(2) + "," + Indicator(3) + "]}", limits);
  EXPECT_EQ(many.status().code(), StatusCode::kResourceExhausted);

  limits = ParseLimits{};
  limits.max_object_bytes = 100;
  Result<ParsedEnvelope> big = ParseEnvelope(R"({"objects":[)" + Indicator(1) + "]}", limits);
  ASSERT_TRUE(big.ok());
  EXPECT_FALSE(big->objects[0].ok());
  EXPECT_NE(big->objects[0].error.message().find("exceeds the limit of 100 bytes"),
            std::string::npos);
  EXPECT_EQ(big->objects[0].id_hint, "indicator--00000001-0000-4000-8000-000000000000");

  std::string deep = "1";
  for (int i = 0; i < 2000; ++i) deep = "[" + deep + "]";
  EXPECT_EQ(ParseEnvelope(R"({"objects":[)" + deep + "]}").status().code(),
            StatusCode::kResourceExhausted);
}

TEST(StixDocument, AcceptsEveryShape) {
  EXPECT_EQ(ParseDocument(Indicator(1))->objects.size(), 1u);
  EXPECT_EQ(ParseDocument("[" + Indicator(1) + "," + Indicator(2) + "]")->objects.size(), 2u);
  EXPECT_EQ(ParseDocument(R"({"objects":[)" + Indicator(1) + "]}")->objects.size(), 1u);
  EXPECT_FALSE(ParseDocument("42").ok());
  Result<ParsedEnvelope> single_bad = ParseDocument(R"({"type":"indicator"})");
  ASSERT_TRUE(single_bad.ok());
  EXPECT_FALSE(single_bad->objects[0].ok());
}

TEST(StixTestdata, SampleBundleIsValid) {
  std::ifstream in(std::string(LIAISON_SOURCE_DIR) + "/tests/testdata/stix/all_types_bundle.json");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<Warning> warnings;
  Result<ParsedEnvelope> env = ParseEnvelope(ss.str(), {}, &warnings);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_GE(env->objects.size(), 40u);
  for (const ObjectResult& r : env->objects) {
    EXPECT_TRUE(r.ok()) << r.error.ToString();
  }
}

}  // namespace
}  // namespace liaison::stix
