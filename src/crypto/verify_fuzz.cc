// libFuzzer target: VerifyObject and OpenSealedObject (and the parsers behind them) over arbitrary
// bytes, as a receiving hub meets them from a partner. Any crash, sanitizer report or broken
// invariant is a bug. The seed corpus (tests/fuzz/corpus/verify_object) holds objects signed and
// wrappers sealed with the keys below, so mutations start from inputs that pass every check.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crypto/hub_keys.h"
#include "crypto/signature.h"

namespace {

// The fuzz hub: keys from a fixed seed, so that corpus wrappers sealed to it open.
constexpr char kFuzzHub[] = "identity--f0220000-0000-4000-8000-00000000f022";

const liaison::crypto::HubKeys& FuzzKeys() {
  static const liaison::crypto::HubKeys keys =
      liaison::crypto::HubKeys::FromSeed(std::string(32, 'f')).value();
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace liaison::crypto;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  liaison::Result<VerifiedObject> verified = VerifyObject(input);
  if (verified.ok()) {
    // What a hub stores (object without signature, block apart) must verify again when relayed.
    // (AttachSignature also fails if the stripped object still had the member at top level.)
    liaison::Result<std::string> again =
        AttachSignature(verified->json, SignatureBlockJson(verified->signature));
    if (!again.ok()) std::abort();
    liaison::Result<VerifiedObject> twice = VerifyObject(*again);
    if (!twice.ok() || twice->json != verified->json ||
        !(twice->signature == verified->signature)) {
      std::abort();
    }
  }

  liaison::Result<std::string> opened = OpenSealedObject(input, kFuzzHub, FuzzKeys());
  if (opened.ok()) {
    // A box that opened holds the object its wrapper names; its signature is checked as usual.
    (void)VerifyObject(*opened);
  }
  (void)ParseSealedWrapper(input);
  (void)ParseSignatureBlock(input);
  return 0;
}
