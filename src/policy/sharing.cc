#include "policy/sharing.h"

#include <algorithm>

namespace liaison::policy {
namespace {

std::string Upper(std::string_view name) {
  std::string out = "TLP:";
  for (char c : name) out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return out;
}

Decision Allow() { return Decision{.allowed = true, .reason = ""}; }

Decision Deny(Tlp tlp, std::string_view why) {
  std::string reason = Upper(TlpName(tlp));
  reason += ": ";
  reason += why;
  return Decision{.allowed = false, .reason = std::move(reason)};
}

Decision Deny(std::string reason) {
  return Decision{.allowed = false, .reason = std::move(reason)};
}

bool Names(const storage::ObjectLabel& label, std::string_view organization) {
  return !organization.empty() && std::find(label.recipients.begin(), label.recipients.end(),
                                            organization) != label.recipients.end();
}

// The origin of an object; objects stored before sharing labels existed carry none and are this
// hub's own.
std::string_view OriginOf(const storage::ObjectLabel& label, std::string_view self) {
  return label.origin.empty() ? self : std::string_view(label.origin);
}

Decision DiscloseLocal(const storage::ObjectLabel& label, Tlp tlp, std::string_view self) {
  // The origin's own people see everything their hub publishes.
  if (OriginOf(label, self) == self) return Allow();
  switch (tlp) {
    case Tlp::kClear:
    case Tlp::kGreen:
      return Allow();
    case Tlp::kAmber:
      // AMBER with nobody named went to every partner of the origin's channel: this hub is one
      // (Accept admitted it only from its origin). Named: only the recipients' people.
      if (label.recipients.empty() || Names(label, self)) return Allow();
      return Deny(tlp, "this organisation is not a named recipient");
    case Tlp::kAmberStrict:
    case Tlp::kRed:
      if (Names(label, self)) return Allow();
      return Deny(tlp, "this organisation is not a named recipient");
  }
  return Deny(tlp, "unknown level");
}

Decision DisclosePartner(const storage::ObjectLabel& label, Tlp tlp, const Audience& audience,
                         std::string_view self) {
  const std::string& partner = audience.organization;
  const std::string_view origin = OriginOf(label, self);
  if (partner.empty()) return Deny("no partner organisation given");
  if (partner == self) return Deny("the partner is this hub itself");
  // No loops: never back to where the object came from.
  if (partner == origin) return Deny("not sent back to its origin");
  if (!label.received_from.empty() && partner == label.received_from) {
    return Deny("not sent back to the partner it came from");
  }
  if (static_cast<int32_t>(tlp) > static_cast<int32_t>(audience.channel_max)) {
    return Deny(tlp, "above the channel's maximum " + Upper(TlpName(audience.channel_max)));
  }
  const bool at_origin = origin == self;
  switch (tlp) {
    case Tlp::kClear:
    case Tlp::kGreen:
      // The partner community, onward too.
      return Allow();
    case Tlp::kAmber:
      if (!at_origin) return Deny(tlp, "only its origin shares it with other organisations");
      if (label.recipients.empty() || Names(label, partner)) return Allow();
      return Deny(tlp, "not a named recipient");
    case Tlp::kAmberStrict:
    case Tlp::kRed:
      if (!at_origin) return Deny(tlp, "never shared onward");
      if (Names(label, partner)) return Allow();
      return Deny(tlp, "not a named recipient");
  }
  return Deny(tlp, "unknown level");
}

}  // namespace

Decision Disclose(const storage::ObjectLabel& label, const Audience& audience,
                  std::string_view self) {
  const Tlp tlp = TlpFromInt(label.tlp);
  switch (audience.kind) {
    case Audience::Kind::kPublic:
      if (tlp == Tlp::kClear) return Allow();
      return Deny(tlp, "not for unauthenticated readers");
    case Audience::Kind::kLocal:
      return DiscloseLocal(label, tlp, self);
    case Audience::Kind::kPartner:
      return DisclosePartner(label, tlp, audience, self);
  }
  return Deny(tlp, "unknown audience");
}

Decision Accept(const storage::ObjectLabel& label, std::string_view sender, std::string_view self) {
  const Tlp tlp = TlpFromInt(label.tlp);
  if (sender.empty()) return Deny("no sending partner");
  if (label.origin.empty()) return Deny("the object names no origin");
  if (label.origin == self) return Deny("this hub is the object's origin (a loop)");
  if (sender == self) return Deny("the sender is this hub itself");
  const bool from_origin = sender == label.origin;
  switch (tlp) {
    case Tlp::kClear:
    case Tlp::kGreen:
      return Allow();
    case Tlp::kAmber:
      if (!from_origin) return Deny(tlp, "only its origin may share it with other organisations");
      if (label.recipients.empty() || Names(label, self)) return Allow();
      return Deny(tlp, "this hub is not a named recipient");
    case Tlp::kAmberStrict:
    case Tlp::kRed:
      if (!from_origin) return Deny(tlp, "never shared onward; only its origin may send it");
      if (Names(label, self)) return Allow();
      return Deny(tlp, "this hub is not a named recipient");
  }
  return Deny(tlp, "unknown level");
}

}  // namespace liaison::policy
