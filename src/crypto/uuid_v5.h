#pragma once

// Name-based (version 5, SHA-1) UUIDs, RFC 4122 section 4.3: the same name in the same namespace
// always gives the same UUID, on every hub. Used for the ids of sealed wrappers
// (crypto/signature.h), so that sealing the same object version twice yields the same wrapper id
// and receivers deduplicate it like any other object version.
//
//   std::string id = crypto::UuidV5(crypto::kLiaisonUuidNamespace, "indicator--...@2024-...Z");
//
// Thread-safe: pure functions.

#include <string>
#include <string_view>

namespace liaison::crypto {

// The namespace of every name-based UUID Liaison makes (a random UUID chosen once for Liaison;
// changing it changes every wrapper id).
inline constexpr char kLiaisonUuidNamespace[] = "c21d07f9-105f-4e64-ab28-1cd1d7b77557";

// Version-5 UUID (lowercase, "xxxxxxxx-xxxx-5xxx-[89ab]xxx-xxxxxxxxxxxx") of `name` in the
// namespace `namespace_uuid`. Precondition: namespace_uuid is a well-formed UUID string (a
// constant of ours, never input); checked with LIAISON_CHECK.
std::string UuidV5(std::string_view namespace_uuid, std::string_view name);

}  // namespace liaison::crypto
