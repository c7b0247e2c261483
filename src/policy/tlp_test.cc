#include "policy/tlp.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace liaison::policy {
namespace {

constexpr Tlp kAll[] = {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict, Tlp::kRed};

TEST(Tlp, NamesRoundTrip) {
  for (Tlp tlp : kAll) {
    Result<Tlp> parsed = ParseTlp(TlpName(tlp));
    ASSERT_TRUE(parsed.ok()) << TlpName(tlp);
    EXPECT_EQ(*parsed, tlp);
  }
  EXPECT_EQ(TlpName(Tlp::kAmberStrict), "amber+strict");
}

TEST(Tlp, ParseAcceptsCaseWhiteAndPrefix) {
  EXPECT_EQ(ParseTlp("WHITE").value(), Tlp::kClear);
  EXPECT_EQ(ParseTlp("TLP:AMBER").value(), Tlp::kAmber);
  EXPECT_EQ(ParseTlp("tlp:Amber+Strict").value(), Tlp::kAmberStrict);
  EXPECT_EQ(ParseTlp(" red ").value(), Tlp::kRed);
  EXPECT_EQ(ParseTlp("TLP:CLEAR").value(), Tlp::kClear);
}

TEST(Tlp, ParseRejectsOthers) {
  for (const char* bad :
       {"", "tlp:", "amber strict", "purple", "TLP:", "amberstrict", "tlp:tlp:red"}) {
    Result<Tlp> parsed = ParseTlp(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
}

// The ids published by OASIS for TLP 2.0 and in STIX 2.1 section 7.2.1.4 for TLP 1.0.
TEST(Tlp, MarkingIdsAreTheStandardOnes) {
  EXPECT_EQ(TlpMarkingId(Tlp::kClear), "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487");
  EXPECT_EQ(TlpMarkingId(Tlp::kGreen), "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb");
  EXPECT_EQ(TlpMarkingId(Tlp::kAmber), "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421");
  EXPECT_EQ(TlpMarkingId(Tlp::kAmberStrict),
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003");
  EXPECT_EQ(TlpMarkingId(Tlp::kRed), "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1");
}

TEST(Tlp, MarkingIdsMapBack) {
  for (Tlp tlp : kAll) EXPECT_EQ(TlpOfMarking(TlpMarkingId(tlp)), tlp);
}

TEST(Tlp, Tlp10IdsMapToNearest20Level) {
  EXPECT_EQ(TlpOfMarking("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"), Tlp::kClear);
  EXPECT_EQ(TlpOfMarking("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"), Tlp::kGreen);
  EXPECT_EQ(TlpOfMarking("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"), Tlp::kAmber);
  EXPECT_EQ(TlpOfMarking("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"), Tlp::kRed);
}

TEST(Tlp, OtherIdsAreNotTlp) {
  EXPECT_EQ(TlpOfMarking(""), std::nullopt);
  EXPECT_EQ(TlpOfMarking("marking-definition--00000000-0000-4000-8000-000000000000"), std::nullopt);
  // Ids compare exactly: another case is another id.
  EXPECT_EQ(TlpOfMarking("MARKING-DEFINITION--94868c89-83c2-464b-929b-a1a8aa3c8487"), std::nullopt);
}

TEST(Tlp, MarkingsPickTheMostRestrictive) {
  EXPECT_EQ(TlpOfMarkings({}), std::nullopt);
  EXPECT_EQ(TlpOfMarkings({"marking-definition--00000000-0000-4000-8000-000000000000"}),
            std::nullopt);
  EXPECT_EQ(TlpOfMarkings({std::string(TlpMarkingId(Tlp::kGreen)),
                           "marking-definition--00000000-0000-4000-8000-000000000000"}),
            Tlp::kGreen);
  EXPECT_EQ(
      TlpOfMarkings({std::string(TlpMarkingId(Tlp::kRed)), std::string(TlpMarkingId(Tlp::kClear))}),
      Tlp::kRed);
  EXPECT_EQ(TlpOfMarkings({"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
                           std::string(TlpMarkingId(Tlp::kAmberStrict)),
                           std::string(TlpMarkingId(Tlp::kGreen))}),
            Tlp::kAmberStrict);
}

TEST(Tlp, FromIntFailsClosed) {
  for (Tlp tlp : kAll) EXPECT_EQ(TlpFromInt(static_cast<int32_t>(tlp)), tlp);
  EXPECT_EQ(TlpFromInt(-1), Tlp::kRed);
  EXPECT_EQ(TlpFromInt(5), Tlp::kRed);
  EXPECT_EQ(TlpFromInt(INT32_MIN), Tlp::kRed);
}

TEST(Tlp, DefinitionJsonIsThePublishedObject) {
  for (Tlp tlp : kAll) {
    std::string json(TlpMarkingDefinitionJson(tlp));
    EXPECT_NE(json.find("\"id\":\"" + std::string(TlpMarkingId(tlp)) + "\""), std::string::npos);
    EXPECT_NE(json.find("\"tlp_2_0\":\"" + std::string(TlpName(tlp)) + "\""), std::string::npos);
    EXPECT_NE(json.find("\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\""),
              std::string::npos);
    EXPECT_NE(json.find("\"type\":\"marking-definition\""), std::string::npos);
    EXPECT_NE(json.find("\"created\":\"2022-10-01T00:00:00.000Z\""), std::string::npos);
  }
  EXPECT_NE(std::string(TlpMarkingDefinitionJson(Tlp::kAmberStrict)).find("\"TLP:AMBER+STRICT\""),
            std::string::npos);
}

}  // namespace
}  // namespace liaison::policy
