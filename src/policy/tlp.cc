#include "policy/tlp.h"

#include <array>
#include <cctype>

namespace liaison::policy {
namespace {

struct TlpEntry {
  Tlp tlp;
  std::string_view name;
  std::string_view marking_id;  // TLP 2.0
  std::string_view definition_json;
};

// The TLP 2.0 marking-definition objects as published by OASIS in cti-stix-common-objects
// (objects/marking-definition/, extension definition
// extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d "tlp_2_0"), minified, keys in the
// published order.
constexpr std::array<TlpEntry, 5> kTlp20 = {{
    {Tlp::kClear, "clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
     R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487","created":"2022-10-01T00:00:00.000Z","name":"TLP:CLEAR","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"clear"}}})"},
    {Tlp::kGreen, "green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
     R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","created":"2022-10-01T00:00:00.000Z","name":"TLP:GREEN","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}}})"},
    {Tlp::kAmber, "amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
     R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber"}}})"},
    {Tlp::kAmberStrict, "amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
     R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER+STRICT","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}})"},
    {Tlp::kRed, "red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
     R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","created":"2022-10-01T00:00:00.000Z","name":"TLP:RED","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"red"}}})"},
}};

struct Tlp10Entry {
  std::string_view marking_id;
  Tlp tlp;
};

// STIX 2.1 section 7.2.1.4 (TLP 1.0, definition_type "tlp"), mapped to the nearest 2.0 level:
// WHITE became CLEAR; GREEN, AMBER and RED kept their names.
constexpr std::array<Tlp10Entry, 4> kTlp10 = {{
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp::kClear},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp::kGreen},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", Tlp::kAmber},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp::kRed},
}};

const TlpEntry& EntryOf(Tlp tlp) {
  for (const TlpEntry& entry : kTlp20) {
    if (entry.tlp == tlp) return entry;
  }
  // Only reachable with a value outside the enum (a cast from a corrupt integer): answer with the
  // most restrictive level rather than something that discloses more.
  return kTlp20.back();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view TlpName(Tlp tlp) { return EntryOf(tlp).name; }

Result<Tlp> ParseTlp(std::string_view name) {
  std::string_view rest = name;
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) {
    rest.remove_prefix(1);
  }
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) {
    rest.remove_suffix(1);
  }
  if (rest.size() >= 4 && EqualsIgnoreCase(rest.substr(0, 4), "tlp:")) rest.remove_prefix(4);
  for (const TlpEntry& entry : kTlp20) {
    if (EqualsIgnoreCase(rest, entry.name)) return entry.tlp;
  }
  // TLP 1.0's WHITE is TLP 2.0's CLEAR.
  if (EqualsIgnoreCase(rest, "white")) return Tlp::kClear;
  std::string shown(name.substr(0, 64));
  return InvalidArgumentError("unknown TLP level '" + shown +
                              "' (expected clear, green, amber, amber+strict or red)");
}

std::string_view TlpMarkingId(Tlp tlp) { return EntryOf(tlp).marking_id; }

Tlp TlpFromInt(int32_t value) {
  if (value < static_cast<int32_t>(Tlp::kClear) || value > static_cast<int32_t>(Tlp::kRed)) {
    return Tlp::kRed;
  }
  return static_cast<Tlp>(value);
}

std::optional<Tlp> TlpOfMarking(std::string_view marking_id) {
  for (const TlpEntry& entry : kTlp20) {
    if (entry.marking_id == marking_id) return entry.tlp;
  }
  for (const Tlp10Entry& entry : kTlp10) {
    if (entry.marking_id == marking_id) return entry.tlp;
  }
  return std::nullopt;
}

std::optional<Tlp> TlpOfMarkings(const std::vector<std::string>& marking_refs) {
  std::optional<Tlp> most;
  for (const std::string& ref : marking_refs) {
    std::optional<Tlp> tlp = TlpOfMarking(ref);
    if (tlp && (!most || static_cast<int32_t>(*tlp) > static_cast<int32_t>(*most))) most = tlp;
  }
  return most;
}

std::string_view TlpMarkingDefinitionJson(Tlp tlp) { return EntryOf(tlp).definition_json; }

}  // namespace liaison::policy
