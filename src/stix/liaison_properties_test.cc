// Liaison's custom properties on STIX objects (issue 4): x_liaison_recipients,
// x_liaison_feedback, x_liaison_signature, and what an object is about (refs, sighting count).

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stix/object.h"

namespace liaison::stix {
namespace {

constexpr char kB[] = "identity--bbbbbbbb-0000-4000-8000-000000000002";
constexpr char kC[] = "identity--cccccccc-0000-4000-8000-000000000003";
constexpr char kIndicator[] = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
constexpr char kReport[] = "report--5e6a6b3d-8d29-4f3a-9c35-3f1c1b4ad2e1";
constexpr char kSig[] =
    R"({"hub":"identity--aaaaaaaa-0000-4000-8000-000000000001","key":"a2V5","alg":"ed25519","sig":"c2ln"})";

std::string Obj(const std::string& type, const std::string& props) {
  std::string s =
      R"({"type":")" + type + R"(","spec_version":"2.1","id":")" + type +
      R"(--6ba7b810-9dad-41d1-80b4-00c04fd430c8","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z")";
  if (!props.empty()) s += "," + props;
  return s + "}";
}

std::string Indicator(const std::string& props) {
  std::string base =
      R"("pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2016-04-06T20:03:00Z")";
  return Obj("indicator", props.empty() ? base : base + "," + props);
}

std::string Sighting(const std::string& props) {
  std::string base = std::string(R"("sighting_of_ref":")") + kIndicator + "\"";
  return Obj("sighting", props.empty() ? base : base + "," + props);
}

ObjectInfo Valid(const std::string& json) {
  Result<ObjectInfo> r = ParseObject(json);
  EXPECT_TRUE(r.ok()) << json << "\n -> " << r.status().ToString();
  return r.ok() ? *r : ObjectInfo{};
}

void ExpectInvalid(const std::string& json, const std::string& what) {
  Result<ObjectInfo> r = ParseObject(json);
  ASSERT_FALSE(r.ok()) << "accepted: " << json;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(what), std::string::npos)
      << "message: " << r.status().message() << "\nexpected to contain: " << what;
}

// ----- x_liaison_recipients

TEST(LiaisonRecipients, AbsentMeansNone) {
  ObjectInfo info = Valid(Indicator(""));
  EXPECT_TRUE(info.recipients.empty());
  EXPECT_FALSE(info.has_signature);
  EXPECT_TRUE(info.feedback_outcome.empty());
  EXPECT_TRUE(info.refs.empty());
  EXPECT_EQ(info.sighting_count, 0);
}

TEST(LiaisonRecipients, KeptInOrder) {
  ObjectInfo info =
      Valid(Indicator(std::string(R"("x_liaison_recipients":[")") + kC + "\",\"" + kB + "\"]"));
  EXPECT_EQ(info.recipients, (std::vector<std::string>{kC, kB}));
}

TEST(LiaisonRecipients, MalformedValuesNameTheProperty) {
  ExpectInvalid(
      Indicator(R"("x_liaison_recipients":"identity--bbbbbbbb-0000-4000-8000-000000000002")"),
      "property 'x_liaison_recipients' must be a list of identity identifiers");
  ExpectInvalid(Indicator(R"("x_liaison_recipients":[])"),
                "property 'x_liaison_recipients' must not be an empty list");
  ExpectInvalid(Indicator(R"("x_liaison_recipients":[42])"),
                "property 'x_liaison_recipients[0]' must be an identifier string");
  ExpectInvalid(
      Indicator(std::string(R"("x_liaison_recipients":[")") + kB + R"(","identity--not-a-uuid"])"),
      "property 'x_liaison_recipients[1]' must be an identifier");
  ExpectInvalid(Indicator(std::string(R"("x_liaison_recipients":[")") + kIndicator + "\"]"),
                "property 'x_liaison_recipients[0]' must reference identity");
  ExpectInvalid(Indicator(std::string(R"("x_liaison_recipients":[")") + kB + "\",\"" + kB + "\"]"),
                "property 'x_liaison_recipients[1]' names '" + std::string(kB) + "' a second time");
}

TEST(LiaisonRecipients, AtMost256) {
  auto list = [](size_t n) {
    std::string s = R"("x_liaison_recipients":[)";
    for (size_t i = 0; i < n; ++i) {
      char id[64];
      std::snprintf(id, sizeof(id), "\"identity--%08zx-0000-4000-8000-000000000000\"", i);
      if (i > 0) s += ",";
      s += id;
    }
    return s + "]";
  };
  EXPECT_EQ(Valid(Indicator(list(kMaxRecipients))).recipients.size(), kMaxRecipients);
  ExpectInvalid(Indicator(list(kMaxRecipients + 1)), "names 257 recipients; at most 256");
}

TEST(LiaisonRecipients, ErrorNamesTheObject) {
  ExpectInvalid(Indicator(R"("x_liaison_recipients":[])"),
                "indicator--6ba7b810-9dad-41d1-80b4-00c04fd430c8: property");
}

// ----- refs and count

TEST(LiaisonRefs, SightingOfRefAndCount) {
  ObjectInfo info = Valid(Sighting(R"("count":7)"));
  EXPECT_EQ(info.refs, std::vector<std::string>{kIndicator});
  EXPECT_EQ(info.sighting_count, 7);
  EXPECT_EQ(Valid(Sighting("")).sighting_count, 0);
}

TEST(LiaisonRefs, ObjectRefsOfOpinionNoteReport) {
  const std::string refs =
      std::string(R"("object_refs":[")") + kIndicator + "\",\"" + kReport + "\"]";
  const std::vector<std::string> expected = {kIndicator, kReport};
  EXPECT_EQ(Valid(Obj("opinion", R"("opinion":"agree",)" + refs)).refs, expected);
  EXPECT_EQ(Valid(Obj("note", R"("content":"seen at the border",)" + refs)).refs, expected);
  EXPECT_EQ(Valid(Obj("report", R"("name":"r","published":"2016-04-06T20:03:00Z",)" + refs)).refs,
            expected);
}

TEST(LiaisonRefs, CountOnlyForSightings) {
  // A custom "count" on another type is just a custom property.
  EXPECT_EQ(Valid(Indicator(R"("x_count":5)")).sighting_count, 0);
}

// ----- x_liaison_feedback

TEST(LiaisonFeedback, OutcomeAndNote) {
  ObjectInfo info = Valid(
      Sighting(R"("x_liaison_feedback":{"outcome":"acted-on","note":"seven suspects detained"})"));
  EXPECT_EQ(info.feedback_outcome, "acted-on");
  EXPECT_EQ(info.feedback_note, "seven suspects detained");

  info = Valid(Sighting(R"("x_liaison_feedback":{"outcome":"seen"})"));
  EXPECT_EQ(info.feedback_outcome, "seen");
  EXPECT_EQ(info.feedback_note, "");

  info = Valid(Obj("opinion", std::string(R"("opinion":"strongly-disagree","object_refs":[")") +
                                  kIndicator +
                                  R"("],"x_liaison_feedback":{"outcome":"false-positive"})"));
  EXPECT_EQ(info.feedback_outcome, "false-positive");
}

TEST(LiaisonFeedback, MalformedValuesNameTheProperty) {
  ExpectInvalid(Sighting(R"("x_liaison_feedback":"seen")"),
                "property 'x_liaison_feedback' must be an object");
  ExpectInvalid(Sighting(R"("x_liaison_feedback":{})"),
                "property 'x_liaison_feedback.outcome' is required");
  ExpectInvalid(Sighting(R"("x_liaison_feedback":{"note":"x"})"),
                "property 'x_liaison_feedback.outcome' is required");
  ExpectInvalid(Sighting(R"("x_liaison_feedback":{"outcome":"arrested"})"),
                "property 'x_liaison_feedback.outcome' must be one of");
  ExpectInvalid(Sighting(R"("x_liaison_feedback":{"outcome":1})"),
                "property 'x_liaison_feedback.outcome' must be one of");
  ExpectInvalid(Sighting(R"("x_liaison_feedback":{"outcome":"seen","note":5})"),
                "property 'x_liaison_feedback.note' must be a string");
  ExpectInvalid(Sighting(R"("x_liaison_feedback":{"outcome":"seen","by":"me"})"),
                "property 'x_liaison_feedback.by' is not a member");
  ExpectInvalid(Indicator(R"("x_liaison_feedback":{"outcome":"seen"})"),
                "property 'x_liaison_feedback' is only allowed on sighting, opinion and note");
}

TEST(LiaisonFeedback, NoteIsBounded) {
  std::string note(kMaxFeedbackNoteBytes, 'n');
  EXPECT_EQ(Valid(Sighting(R"("x_liaison_feedback":{"outcome":"seen","note":")" + note + "\"}"))
                .feedback_note.size(),
            kMaxFeedbackNoteBytes);
  ExpectInvalid(Sighting(R"("x_liaison_feedback":{"outcome":"seen","note":")" + note + "n\"}"),
                "property 'x_liaison_feedback.note' must be at most 10000 bytes");
}

// ----- x_liaison_signature

TEST(LiaisonSignature, PresentAndWellFormed) {
  ObjectInfo info = Valid(Indicator(std::string(R"("x_liaison_signature":)") + kSig));
  EXPECT_TRUE(info.has_signature);
  // The bytes are kept: the signature is part of the object as received.
  EXPECT_NE(info.json.find("x_liaison_signature"), std::string::npos);
}

TEST(LiaisonSignature, MalformedValuesNameTheProperty) {
  ExpectInvalid(Indicator(R"("x_liaison_signature":"abc")"),
                "property 'x_liaison_signature' must be an object");
  ExpectInvalid(
      Indicator(
          R"("x_liaison_signature":{"hub":"identity--aaaaaaaa-0000-4000-8000-000000000001","key":"a2V5","alg":"ed25519"})"),
      "property 'x_liaison_signature.sig' is required");
  ExpectInvalid(
      Indicator(
          R"("x_liaison_signature":{"hub":"identity--aaaaaaaa-0000-4000-8000-000000000001","key":"","alg":"ed25519","sig":"c2ln"})"),
      "property 'x_liaison_signature.key' must be a non-empty string");
  ExpectInvalid(
      Indicator(
          R"("x_liaison_signature":{"hub":"identity--aaaaaaaa-0000-4000-8000-000000000001","key":"a2V5","alg":7,"sig":"c2ln"})"),
      "property 'x_liaison_signature.alg' must be a non-empty string");
  ExpectInvalid(
      Indicator(
          R"("x_liaison_signature":{"hub":"indicator--aaaaaaaa-0000-4000-8000-000000000001","key":"a2V5","alg":"ed25519","sig":"c2ln"})"),
      "property 'x_liaison_signature.hub' must reference identity");
  ExpectInvalid(
      Indicator(
          R"("x_liaison_signature":{"hub":"identity--aaaaaaaa-0000-4000-8000-000000000001","key":"a2V5","alg":"ed25519","sig":"c2ln","extra":"x"})"),
      "property 'x_liaison_signature.extra' is not a member");
}

// ----- In an envelope: a bad Liaison property rejects that object only.

TEST(LiaisonProperties, EnvelopeKeepsTheOthers) {
  std::string body = "{\"objects\":[" + Indicator(R"("x_liaison_recipients":[])") + "," +
                     Sighting(R"("x_liaison_feedback":{"outcome":"seen"})") + "]}";
  Result<ParsedEnvelope> env = ParseEnvelope(body);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  ASSERT_EQ(env->objects.size(), 2u);
  EXPECT_FALSE(env->objects[0].ok());
  EXPECT_NE(env->objects[0].error.message().find("x_liaison_recipients"), std::string::npos);
  ASSERT_TRUE(env->objects[1].ok());
  EXPECT_EQ(env->objects[1].info.feedback_outcome, "seen");
}

}  // namespace
}  // namespace liaison::stix
