#pragma once

// TLP markings as STIX 2.1 marking-definitions.
//
// TLP 2.0: the marking-definition objects published by OASIS/FIRST for STIX 2.1 (extension
// definition extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d, "tlp_2_0"), with fixed
// ids:
//   TLP:CLEAR        marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487
//   TLP:GREEN        marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb
//   TLP:AMBER        marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421
//   TLP:AMBER+STRICT marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003
//   TLP:RED          marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1
// TLP 1.0 (STIX 2.1 section 7.2.1.4, definition_type "tlp"), mapped to the nearest 2.0 level:
//   WHITE -> CLEAR   marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9
//   GREEN -> GREEN   marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da
//   AMBER -> AMBER   marking-definition--f88d31f6-486f-44da-b317-01333bde0b82
//   RED   -> RED     marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed
// Ids checked against OASIS cti-stix-common-objects (extension-definition-specifications/tlp-2.0,
// objects/marking-definition/) and the STIX 2.1 specification section 7.2.1.4.
//
// Thread-safe: pure functions over constant tables.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace liaison::policy {

// Ordered from least to most restrictive; stored as storage::ObjectLabel::tlp.
enum class Tlp : int32_t { kClear = 0, kGreen = 1, kAmber = 2, kAmberStrict = 3, kRed = 4 };

// "clear" | "green" | "amber" | "amber+strict" | "red"
std::string_view TlpName(Tlp tlp);
// Accepts the names above (any case), "white" (= clear), "TLP:AMBER" forms. kInvalidArgument.
Result<Tlp> ParseTlp(std::string_view name);
// The marking-definition id of a TLP 2.0 level.
std::string_view TlpMarkingId(Tlp tlp);
// The level stored as an integer (storage::ObjectLabel::tlp). A value outside 0..4 (corrupt or
// from a newer version) is kRed: unknown means most restrictive.
Tlp TlpFromInt(int32_t value);
// The TLP level of a marking-definition id (2.0 or 1.0); nullopt for any other id.
std::optional<Tlp> TlpOfMarking(std::string_view marking_id);
// The most restrictive TLP among an object's object_marking_refs; nullopt when none is TLP.
std::optional<Tlp> TlpOfMarkings(const std::vector<std::string>& marking_refs);
// The STIX marking-definition object (JSON text) of a TLP 2.0 level, as published, for hubs that
// want to store or send the definitions.
std::string_view TlpMarkingDefinitionJson(Tlp tlp);

}  // namespace liaison::policy
