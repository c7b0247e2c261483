#include "policy/sharing.h"

#include <array>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace liaison::policy {
namespace {

// Hub A publishes; B is A's partner and the usual named recipient; C is a partner of A (not
// named) and of B; D is a partner of C only.
constexpr char kA[] = "identity--aaaaaaaa-0000-4000-8000-000000000001";
constexpr char kB[] = "identity--bbbbbbbb-0000-4000-8000-000000000002";
constexpr char kC[] = "identity--cccccccc-0000-4000-8000-000000000003";
constexpr char kD[] = "identity--dddddddd-0000-4000-8000-000000000004";

constexpr std::array<Tlp, 5> kLevels = {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict,
                                        Tlp::kRed};
// Expected outcome per level, in kLevels order.
using Row = std::array<bool, 5>;
constexpr Row kAllowAll = {true, true, true, true, true};
constexpr Row kDenyAll = {false, false, false, false, false};
constexpr Row kUpToGreen = {true, true, false, false, false};
constexpr Row kUpToAmber = {true, true, true, false, false};
constexpr Row kClearOnly = {true, false, false, false, false};

storage::ObjectLabel Label(Tlp tlp, std::string origin, std::string received_from,
                           std::vector<std::string> recipients) {
  storage::ObjectLabel label;
  label.tlp = static_cast<int32_t>(tlp);
  label.origin = std::move(origin);
  label.received_from = std::move(received_from);
  label.recipients = std::move(recipients);
  return label;
}

Audience Local() {
  Audience audience;
  audience.kind = Audience::Kind::kLocal;
  return audience;
}
Audience Public() {
  Audience audience;
  audience.kind = Audience::Kind::kPublic;
  return audience;
}
Audience Partner(std::string org, Tlp channel_max = Tlp::kRed) {
  return Audience{
      .kind = Audience::Kind::kPartner, .organization = std::move(org), .channel_max = channel_max};
}

// Checks Disclose for every level with one audience, object origin/sender/recipients and self.
void ExpectDisclose(const Row& expected, const Audience& audience, const std::string& self,
                    const std::string& origin, const std::string& received_from,
                    const std::vector<std::string>& recipients) {
  for (size_t i = 0; i < kLevels.size(); ++i) {
    Decision d = Disclose(Label(kLevels[i], origin, received_from, recipients), audience, self);
    EXPECT_EQ(d.allowed, expected[i])
        << "level " << TlpName(kLevels[i]) << " audience kind " << static_cast<int>(audience.kind)
        << " org '" << audience.organization << "' self " << self << " origin '" << origin
        << "' from '" << received_from << "' recipients " << recipients.size() << ": " << d.reason;
    EXPECT_EQ(d.reason.empty(), d.allowed) << "a refusal says why, an allowance says nothing";
  }
}

void ExpectAccept(const Row& expected, const std::string& self, const std::string& sender,
                  const std::string& origin, const std::vector<std::string>& recipients) {
  for (size_t i = 0; i < kLevels.size(); ++i) {
    Decision d = Accept(Label(kLevels[i], origin, sender, recipients), sender, self);
    EXPECT_EQ(d.allowed, expected[i])
        << "level " << TlpName(kLevels[i]) << " self " << self << " sender '" << sender
        << "' origin '" << origin << "' recipients " << recipients.size() << ": " << d.reason;
    EXPECT_EQ(d.reason.empty(), d.allowed);
  }
}

// ----- At the origin (A), recipients named: {B}.

TEST(Disclose, OriginOwnOrganisationSeesEverything) {
  ExpectDisclose(kAllowAll, Local(), kA, kA, "", {kB});
  ExpectDisclose(kAllowAll, Local(), kA, kA, "", {});
  // Objects from before sharing labels (no origin) are the hub's own.
  ExpectDisclose(kAllowAll, Local(), kA, "", "", {});
}

TEST(Disclose, OriginPublicSeesClearOnly) {
  ExpectDisclose(kClearOnly, Public(), kA, kA, "", {kB});
  ExpectDisclose(kClearOnly, Public(), kA, kA, "", {});
  ExpectDisclose(kClearOnly, Public(), kB, kA, kA, {kB});
}

TEST(Disclose, OriginNamedRecipientGetsEveryLevel) {
  ExpectDisclose(kAllowAll, Partner(kB), kA, kA, "", {kB});
  ExpectDisclose(kAllowAll, Partner(kB), kA, kA, "", {kC, kB});
}

TEST(Disclose, OriginOtherPartnerGetsUpToGreenWhenRecipientsAreNamed) {
  ExpectDisclose(kUpToGreen, Partner(kC), kA, kA, "", {kB});
}

TEST(Disclose, OriginAmberWithoutNamesGoesToEveryChannelPartner) {
  ExpectDisclose(kUpToAmber, Partner(kB), kA, kA, "", {});
  ExpectDisclose(kUpToAmber, Partner(kC), kA, kA, "", {});
}

TEST(Disclose, ChannelMaxBelowTheLevelRefuses) {
  for (Tlp max : kLevels) {
    Row expected{};
    for (size_t i = 0; i < kLevels.size(); ++i) expected[i] = kLevels[i] <= max;
    ExpectDisclose(expected, Partner(kB, max), kA, kA, "", {kB});
  }
  Decision d = Disclose(Label(Tlp::kRed, kA, "", {kB}), Partner(kB, Tlp::kAmber), kA);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "TLP:RED: above the channel's maximum TLP:AMBER");
}

TEST(Disclose, ChannelMaxAboveTheLevelDoesNotWidenIt) {
  // Only CLEAR and GREEN flow to an unnamed partner, however wide the channel.
  ExpectDisclose(kUpToGreen, Partner(kC, Tlp::kRed), kA, kA, "", {kB});
  ExpectDisclose(kUpToGreen, Partner(kC, Tlp::kAmberStrict), kA, kA, "", {kB});
}

TEST(Disclose, AmberStrictAndRedWithoutNamesStayHome) {
  ExpectDisclose(kUpToAmber, Partner(kB), kA, kA, "", {});
  Decision d = Disclose(Label(Tlp::kAmberStrict, kA, "", {}), Partner(kB), kA);
  EXPECT_EQ(d.reason, "TLP:AMBER+STRICT: not a named recipient");
}

// ----- At a named recipient (B), received from the origin A.

TEST(Disclose, RecipientOwnOrganisationSeesWhatNamesIt) {
  ExpectDisclose(kAllowAll, Local(), kB, kA, kA, {kB});
  ExpectDisclose(kAllowAll, Local(), kB, kA, kA, {kC, kB});
  // Unnamed AMBER went to every partner of A's channel; AMBER+STRICT/RED should never have
  // arrived without naming B, and stay unreadable if they did.
  ExpectDisclose(kUpToAmber, Local(), kB, kA, kA, {});
  ExpectDisclose(kUpToGreen, Local(), kB, kA, kA, {kC});
}

TEST(Disclose, PartnersPartnerGetsOnlyClearAndGreen) {
  // B pushing onward to C (its partner): AMBER and above never leave B.
  ExpectDisclose(kUpToGreen, Partner(kC), kB, kA, kA, {kB});
  ExpectDisclose(kUpToGreen, Partner(kC), kB, kA, kA, {});
  // Even when C is itself named: only the origin sends to named recipients.
  ExpectDisclose(kUpToGreen, Partner(kC), kB, kA, kA, {kB, kC});
  Decision d = Disclose(Label(Tlp::kAmberStrict, kA, kA, {kB, kC}), Partner(kC), kB);
  EXPECT_EQ(d.reason, "TLP:AMBER+STRICT: never shared onward");
  d = Disclose(Label(Tlp::kAmber, kA, kA, {}), Partner(kC), kB);
  EXPECT_EQ(d.reason, "TLP:AMBER: only its origin shares it with other organisations");
}

TEST(Disclose, NeverBackToOrigin) {
  ExpectDisclose(kDenyAll, Partner(kA), kB, kA, kA, {kA, kB});
  // At C, received from B: A is still the origin.
  ExpectDisclose(kDenyAll, Partner(kA), kC, kA, kB, {});
  Decision d = Disclose(Label(Tlp::kClear, kA, kA, {}), Partner(kA), kB);
  EXPECT_EQ(d.reason, "not sent back to its origin");
}

TEST(Disclose, NeverBackToSender) {
  // C received a GREEN object of A's from B: not back to B, not to A, but on to D.
  ExpectDisclose(kDenyAll, Partner(kB), kC, kA, kB, {kB, kC});
  ExpectDisclose(kUpToGreen, Partner(kD), kC, kA, kB, {kB, kC, kD});
  Decision d = Disclose(Label(Tlp::kGreen, kA, kB, {}), Partner(kB), kC);
  EXPECT_EQ(d.reason, "not sent back to the partner it came from");
}

TEST(Disclose, PartnerMustBeAnotherOrganisation) {
  ExpectDisclose(kDenyAll, Partner(""), kA, kA, "", {kB});
  ExpectDisclose(kDenyAll, Partner(kA), kA, kA, "", {kA});
}

TEST(Disclose, UnknownLevelCountsAsRed) {
  for (int32_t tlp : {-1, 5, 100}) {
    storage::ObjectLabel label = Label(Tlp::kRed, kA, kA, {kB});
    label.tlp = tlp;
    EXPECT_FALSE(Disclose(label, Public(), kB).allowed);
    EXPECT_TRUE(Disclose(label, Local(), kB).allowed);
    EXPECT_FALSE(Disclose(label, Partner(kC), kB).allowed);
    label.recipients = {kC};
    EXPECT_FALSE(Disclose(label, Local(), kB).allowed);
    // At the origin: only to named partners over a RED channel.
    storage::ObjectLabel own = Label(Tlp::kRed, kA, "", {kB});
    own.tlp = tlp;
    EXPECT_TRUE(Disclose(own, Partner(kB, Tlp::kRed), kA).allowed);
    EXPECT_FALSE(Disclose(own, Partner(kB, Tlp::kAmberStrict), kA).allowed);
    EXPECT_FALSE(Disclose(own, Partner(kC, Tlp::kRed), kA).allowed);
  }
}

// ----- Inbound acceptance.

TEST(Accept, NamedRecipientFromOriginTakesEveryLevel) {
  ExpectAccept(kAllowAll, kB, kA, kA, {kB});
  ExpectAccept(kAllowAll, kB, kA, kA, {kC, kB});
}

TEST(Accept, UnnamedFromOriginTakesUpToGreen) { ExpectAccept(kUpToGreen, kC, kA, kA, {kB}); }

TEST(Accept, NoNamesFromOriginTakesUpToAmber) { ExpectAccept(kUpToAmber, kB, kA, kA, {}); }

TEST(Accept, FromANonOriginOnlyClearAndGreen) {
  // C receiving A's objects from B: even when C is named, only A may send AMBER and above.
  ExpectAccept(kUpToGreen, kC, kB, kA, {kB, kC});
  ExpectAccept(kUpToGreen, kC, kB, kA, {});
  Decision d = Accept(Label(Tlp::kAmber, kA, kB, {}), kB, kC);
  EXPECT_EQ(d.reason, "TLP:AMBER: only its origin may share it with other organisations");
}

TEST(Accept, OwnObjectsComingBackAreLoops) {
  ExpectAccept(kDenyAll, kA, kB, kA, {kA, kB});
  ExpectAccept(kDenyAll, kA, kA, kA, {kA});
  Decision d = Accept(Label(Tlp::kGreen, kA, kB, {}), kB, kA);
  EXPECT_EQ(d.reason, "this hub is the object's origin (a loop)");
}

TEST(Accept, MissingSenderOrOriginRefused) {
  ExpectAccept(kDenyAll, kB, "", kA, {kB});
  ExpectAccept(kDenyAll, kB, kA, "", {kB});
  // A sender claiming to be this hub.
  ExpectAccept(kDenyAll, kB, kB, kA, {kB});
}

TEST(Accept, UnknownLevelCountsAsRed) {
  storage::ObjectLabel label = Label(Tlp::kRed, kA, kA, {kB});
  label.tlp = 9;
  EXPECT_TRUE(Accept(label, kA, kB).allowed);
  EXPECT_FALSE(Accept(label, kA, kC).allowed);
  EXPECT_FALSE(Accept(label, kB, kC).allowed);
}

// Disclose at a sender and Accept at the receiver agree: whatever a hub may push, its partner
// takes. Swept over every level, origin, sender and recipient set of four hubs.
TEST(Sharing, DiscloseToPartnerImpliesAccept) {
  const std::vector<std::string> hubs = {kA, kB, kC, kD};
  int allowed = 0;
  for (Tlp tlp : kLevels) {
    for (unsigned mask = 0; mask < 16; ++mask) {
      std::vector<std::string> recipients;
      for (size_t i = 0; i < hubs.size(); ++i) {
        if (mask & (1u << i)) recipients.push_back(hubs[i]);
      }
      for (const std::string& origin : hubs) {
        for (const std::string& sender : hubs) {
          // `sender` holds the object: it is the origin (received from nobody), or it received
          // it from another hub.
          std::vector<std::string> froms;
          if (sender == origin) {
            froms.push_back("");
          } else {
            for (const std::string& hub : hubs) {
              if (hub != sender) froms.push_back(hub);
            }
          }
          for (const std::string& received_from : froms) {
            storage::ObjectLabel at_sender = Label(tlp, origin, received_from, recipients);
            for (const std::string& receiver : hubs) {
              Decision out = Disclose(at_sender, Partner(receiver, Tlp::kRed), sender);
              if (!out.allowed) continue;
              ++allowed;
              storage::ObjectLabel at_receiver = Label(tlp, origin, sender, recipients);
              Decision in = Accept(at_receiver, sender, receiver);
              EXPECT_TRUE(in.allowed) << TlpName(tlp) << " origin " << origin << " sender "
                                      << sender << " receiver " << receiver << ": " << in.reason;
              // And the receiver's own people may read what it accepted.
              EXPECT_TRUE(Disclose(at_receiver, Local(), receiver).allowed);
            }
          }
        }
      }
    }
  }
  EXPECT_GT(allowed, 0);
}

}  // namespace
}  // namespace liaison::policy
