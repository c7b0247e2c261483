#include "crypto/hub_keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <sys/stat.h>

#include "common/json_writer.h"
#include "stix/json_codec.h"

namespace liaison::crypto {
namespace {

constexpr int kKeyFileVersion = 1;
constexpr char kKeyFileVersionMember[] = "liaison_hub_key";
// A key file is a few hundred bytes; anything much larger is not ours.
constexpr size_t kMaxKeyFileBytes = 64 * 1024;
// crypto_kdf context (exactly crypto_kdf_CONTEXTBYTES = 8 characters) and subkey id of the key
// that seals secrets at rest. Changing either makes every sealed secret unreadable.
constexpr char kSecretKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "lsecret1";
constexpr uint64_t kSecretKdfSubkey = 1;
constexpr std::string_view kSecretPrefix = "v1:";
// Associated data bound to every sealed secret, so that a ciphertext made for another purpose
// with the same key could never be taken for a secret.
constexpr std::string_view kSecretAd = "liaison secret v1";

// libsodium must be initialised once before use (it picks implementations and seeds its RNG).
// sodium_init is thread-safe and idempotent; the function-local static makes this cheap.
void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  // sodium_init fails only when the system cannot provide randomness at all, in which case no key
  // this process could make is safe: stop rather than continue.
  LIAISON_CHECK(ok);
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

void Wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Derives the secret-at-rest key from the box secret key (crypto_kdf is keyed BLAKE2b).
std::string SecretKey(const std::string& box_sk) {
  static_assert(crypto_box_SECRETKEYBYTES == crypto_kdf_KEYBYTES);
  std::string key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, '\0');
  crypto_kdf_derive_from_key(U(key), key.size(), kSecretKdfSubkey, kSecretKdfContext, U(box_sk));
  return key;
}

// Checks that the key material is complete and self-consistent. `what` names the source.
Status CheckKeys(const std::string& sign_pk, const std::string& sign_sk, const std::string& box_pk,
                 const std::string& box_sk, const std::string& what) {
  if (sign_pk.size() != crypto_sign_PUBLICKEYBYTES ||
      sign_sk.size() != crypto_sign_SECRETKEYBYTES || box_pk.size() != crypto_box_PUBLICKEYBYTES ||
      box_sk.size() != crypto_box_SECRETKEYBYTES) {
    return DataLossError(what + ": a key has the wrong size");
  }
  // An Ed25519 secret key is seed || public key: regenerate from the seed and compare, so a file
  // whose halves were mixed up or altered is refused rather than producing bad signatures.
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0');
  std::string sk(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(U(pk), U(sk), U(sign_sk));  // the first 32 bytes are the seed
  const bool sign_ok = sodium_memcmp(pk.data(), sign_pk.data(), pk.size()) == 0 &&
                       sodium_memcmp(sk.data(), sign_sk.data(), sk.size()) == 0;
  Wipe(sk);
  if (!sign_ok) return DataLossError(what + ": sign_public does not match sign_secret");
  std::string box_derived(crypto_box_PUBLICKEYBYTES, '\0');
  if (crypto_scalarmult_base(U(box_derived), U(box_sk)) != 0 ||
      sodium_memcmp(box_derived.data(), box_pk.data(), box_pk.size()) != 0) {
    return DataLossError(what + ": box_public does not match box_secret");
  }
  return Status::Ok();
}

// Writes all of `data` to `fd`, retrying short writes and EINTR. Returns 0 or an errno value.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

Status WriteError(const std::string& path, int err) {
  std::string m = "cannot write key file " + path + ": " + ErrnoText(err);
  switch (err) {
    case EEXIST:
      return AlreadyExistsError("key file " + path + " already exists");
    case ENOENT:
      return NotFoundError(m);
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(m);
    default:
      return InternalError(m);
  }
}

// Moves `tmp` to `path` only if `path` does not exist, atomically: renameat2(RENAME_NOREPLACE),
// or link()+unlink() on file systems without it. Returns 0 or an errno value.
int RenameNoReplace(const std::string& tmp, const std::string& path) {
#ifdef RENAME_NOREPLACE
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
#endif
  if (::link(tmp.c_str(), path.c_str()) != 0) return errno;
  ::unlink(tmp.c_str());
  return 0;
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

HubKeys::~HubKeys() {
  Wipe(sign_sk_);
  Wipe(box_sk_);
}

Result<HubKeys> HubKeys::Generate() {
  EnsureSodium();
  HubKeys k;
  k.sign_pk_.assign(crypto_sign_PUBLICKEYBYTES, '\0');
  k.sign_sk_.assign(crypto_sign_SECRETKEYBYTES, '\0');
  k.box_pk_.assign(crypto_box_PUBLICKEYBYTES, '\0');
  k.box_sk_.assign(crypto_box_SECRETKEYBYTES, '\0');
  if (crypto_sign_keypair(U(k.sign_pk_), U(k.sign_sk_)) != 0 ||
      crypto_box_keypair(U(k.box_pk_), U(k.box_sk_)) != 0) {
    return InternalError("libsodium could not generate key pairs");
  }
  return k;
}

Result<HubKeys> HubKeys::FromSeed(std::string_view seed) {
  EnsureSodium();
  if (seed.size() != 32) return InvalidArgumentError("key seed must be 32 bytes");
  static_assert(crypto_sign_SEEDBYTES == 32 && crypto_box_SEEDBYTES == 32);
  std::string sign_seed(32, '\0'), box_seed(32, '\0');
  constexpr std::string_view kSignLabel = "liaison sign seed";
  constexpr std::string_view kBoxLabel = "liaison box seed";
  crypto_generichash(U(sign_seed), sign_seed.size(), U(kSignLabel), kSignLabel.size(), U(seed),
                     seed.size());
  crypto_generichash(U(box_seed), box_seed.size(), U(kBoxLabel), kBoxLabel.size(), U(seed),
                     seed.size());
  HubKeys k;
  k.sign_pk_.assign(crypto_sign_PUBLICKEYBYTES, '\0');
  k.sign_sk_.assign(crypto_sign_SECRETKEYBYTES, '\0');
  k.box_pk_.assign(crypto_box_PUBLICKEYBYTES, '\0');
  k.box_sk_.assign(crypto_box_SECRETKEYBYTES, '\0');
  const bool ok = crypto_sign_seed_keypair(U(k.sign_pk_), U(k.sign_sk_), U(sign_seed)) == 0 &&
                  crypto_box_seed_keypair(U(k.box_pk_), U(k.box_sk_), U(box_seed)) == 0;
  Wipe(sign_seed);
  Wipe(box_seed);
  if (!ok) return InternalError("libsodium could not derive key pairs");
  return k;
}

Result<HubKeys> HubKeys::Load(const std::string& path) {
  EnsureSodium();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFoundError("key file " + path + " does not exist");
    if (err == EACCES || err == EPERM) {
      return PermissionDeniedError("cannot read key file " + path + ": " + ErrnoText(err));
    }
    return InternalError("cannot open key file " + path + ": " + ErrnoText(err));
  }
  std::string text;
  Status status;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    status = InternalError("cannot stat key file " + path + ": " + ErrnoText(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = FailedPreconditionError("key file " + path + " is not a regular file");
  } else if ((st.st_mode & 077) != 0) {
    // The secret keys must not be readable (or replaceable) by anyone but the hub's user.
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    status = PermissionDeniedError("key file " + path + " is accessible by group or others (mode " +
                                   mode + "); it must be 0600: chmod 600 " + path);
  } else if (static_cast<size_t>(st.st_size) > kMaxKeyFileBytes) {
    status = DataLossError("key file " + path + " is too large to be a hub key file");
  } else {
    text.resize(static_cast<size_t>(st.st_size) + 1);
    size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0) {
        if (errno == EINTR) continue;
        status = InternalError("cannot read key file " + path + ": " + ErrnoText(errno));
        break;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    text.resize(got);
    if (status.ok() && got > kMaxKeyFileBytes) {
      status = DataLossError("key file " + path + " is too large to be a hub key file");
    }
  }
  ::close(fd);
  if (!status.ok()) {
    Wipe(text);
    return status;
  }

  const std::string what = "key file " + path;
  Result<stix::JsonTree> tree = stix::ParseJson(text);
  Wipe(text);
  if (!tree.ok()) return DataLossError(what + " is not valid JSON");
  const stix::JsonValue root = tree->root();
  if (!root.is_object()) return DataLossError(what + " is not a JSON object");
  if (root.RepeatsKey()) return DataLossError(what + " repeats a member");
  stix::JsonValue version;
  if (!root.Find(kKeyFileVersionMember, &version) || !version.is_integer()) {
    return DataLossError(what + " has no \"liaison_hub_key\" version");
  }
  if (version.int_value() != kKeyFileVersion) {
    return DataLossError(what + " has unsupported version " + std::to_string(version.int_value()) +
                         " (this hub reads version 1)");
  }
  HubKeys k;
  struct Field {
    const char* name;
    std::string* out;
  } fields[] = {{"sign_public", &k.sign_pk_},
                {"sign_secret", &k.sign_sk_},
                {"box_public", &k.box_pk_},
                {"box_secret", &k.box_sk_}};
  for (const Field& f : fields) {
    stix::JsonValue v;
    if (!root.Find(f.name, &v) || !v.is_string()) {
      return DataLossError(what + " has no \"" + f.name + "\" string");
    }
    Result<std::string> bytes = Base64Decode(v.string_value());
    if (!bytes.ok()) return DataLossError(what + ": \"" + f.name + "\" is not valid base64");
    *f.out = std::move(*bytes);
  }
  RETURN_IF_ERROR(CheckKeys(k.sign_pk_, k.sign_sk_, k.box_pk_, k.box_sk_, what));
  return k;
}

Status HubKeys::Save(const std::string& path) const {
  EnsureSodium();
  LIAISON_CHECK(!empty());  // saving empty keys is a programming error (see empty())
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    return AlreadyExistsError("key file " + path + " already exists");
  }

  JsonWriter w;
  w.BeginObject();
  w.Key(kKeyFileVersionMember);
  w.Int(kKeyFileVersion);
  w.Key("sign_public");
  w.String(Base64Encode(sign_pk_));
  std::string secret = Base64Encode(sign_sk_);
  w.Key("sign_secret");
  w.String(secret);
  Wipe(secret);
  w.Key("box_public");
  w.String(Base64Encode(box_pk_));
  secret = Base64Encode(box_sk_);
  w.Key("box_secret");
  w.String(secret);
  Wipe(secret);
  w.EndObject();
  std::string text = std::move(w).Take();
  text += '\n';

  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());  // creates the file with mode 0600, O_EXCL
  if (fd < 0) {
    const int err = errno;
    Wipe(text);
    return WriteError(path, err);
  }
  int err = ::fchmod(fd, 0600) == 0 ? 0 : errno;
  if (err == 0) err = WriteAll(fd, text);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  Wipe(text);
  if (err == 0) err = RenameNoReplace(tmp, path);
  if (err != 0) {
    ::unlink(tmp.c_str());
    return WriteError(path, err);
  }
  // Make the rename itself durable: a crash right after Save returns must not lose the file.
  const int dir_fd = ::open(DirOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    const int sync_result = ::fsync(dir_fd);
    const int sync_err = errno;
    ::close(dir_fd);
    if (sync_result != 0) return WriteError(path, sync_err);
  }
  return Status::Ok();
}

std::string HubKeys::sign_public_b64() const { return Base64Encode(sign_pk_); }
std::string HubKeys::box_public_b64() const { return Base64Encode(box_pk_); }
std::string HubKeys::fingerprint() const { return KeyFingerprint(sign_pk_, box_pk_); }

std::string HubKeys::Sign(std::string_view message) const {
  EnsureSodium();
  LIAISON_CHECK(!empty());  // signing with empty keys is a programming error (see empty())
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, U(message), message.size(), U(sign_sk_));
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(sig), sizeof(sig)));
}

Result<std::string> HubKeys::OpenSealed(std::string_view sealed_b64) const {
  EnsureSodium();
  LIAISON_CHECK(!empty());  // see empty()
  ASSIGN_OR_RETURN(std::string sealed, Base64Decode(sealed_b64));
  if (sealed.size() < crypto_box_SEALBYTES) {
    return InvalidArgumentError("sealed box is too short");
  }
  std::string plain(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(U(plain), U(sealed), sealed.size(), U(box_pk_), U(box_sk_)) != 0) {
    return PermissionDeniedError(
        "sealed box does not open with this hub's key (not sealed to "
        "this hub, or altered)");
  }
  return plain;
}

std::string HubKeys::SealSecret(std::string_view plaintext) const {
  EnsureSodium();
  LIAISON_CHECK(!empty());  // see empty()
  std::string key = SecretKey(box_sk_);
  std::string out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
                      crypto_aead_xchacha20poly1305_ietf_ABYTES,
                  '\0');
  unsigned char* nonce = U(out);
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                             &written, U(plaintext), plaintext.size(), U(kSecretAd),
                                             kSecretAd.size(), nullptr, nonce, U(key));
  Wipe(key);
  out.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + written);
  return std::string(kSecretPrefix) + Base64Encode(out);
}

Result<std::string> HubKeys::UnsealSecret(std::string_view sealed) const {
  EnsureSodium();
  LIAISON_CHECK(!empty());  // see empty()
  if (sealed.substr(0, kSecretPrefix.size()) != kSecretPrefix) {
    return DataLossError("sealed secret has an unknown format (expected \"v1:\")");
  }
  Result<std::string> bytes = Base64Decode(sealed.substr(kSecretPrefix.size()));
  if (!bytes.ok()) return DataLossError("sealed secret is not valid base64");
  constexpr size_t kOverhead =
      crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (bytes->size() < kOverhead) return DataLossError("sealed secret is too short");
  std::string key = SecretKey(box_sk_);
  std::string plain(bytes->size() - kOverhead, '\0');
  unsigned long long plain_len = 0;
  const unsigned char* nonce = U(*bytes);
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      U(plain), &plain_len, nullptr, nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
      bytes->size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, U(kSecretAd), kSecretAd.size(),
      nonce, U(key));
  Wipe(key);
  if (rc != 0) {
    return DataLossError(
        "sealed secret does not open with this hub's key (altered, or sealed by "
        "another hub)");
  }
  plain.resize(plain_len);
  return plain;
}

bool VerifySignature(std::string_view public_key_b64, std::string_view message,
                     std::string_view signature_b64) {
  EnsureSodium();
  Result<std::string> pk = Base64Decode(public_key_b64);
  Result<std::string> sig = Base64Decode(signature_b64);
  if (!pk.ok() || !sig.ok() || pk->size() != crypto_sign_PUBLICKEYBYTES ||
      sig->size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(U(*sig), U(message), message.size(), U(*pk)) == 0;
}

Result<std::string> Seal(std::string_view box_public_key_b64, std::string_view plaintext) {
  EnsureSodium();
  Result<std::string> pk = Base64Decode(box_public_key_b64);
  if (!pk.ok() || pk->size() != crypto_box_PUBLICKEYBYTES) {
    return InvalidArgumentError("box public key is not 32 bytes of base64");
  }
  std::string sealed(plaintext.size() + crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal(U(sealed), U(plaintext), plaintext.size(), U(*pk)) != 0) {
    // crypto_box_seal fails only for a public key of low order (not a usable X25519 key).
    return InvalidArgumentError("box public key is not a usable X25519 key");
  }
  return Base64Encode(sealed);
}

std::string Base64Encode(std::string_view bytes) {
  EnsureSodium();
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), U(bytes), bytes.size(), kVariant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  EnsureSodium();
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  // No characters ignored and no end pointer: libsodium then refuses trailing garbage, missing
  // padding and non-zero unused bits.
  if (sodium_base642bin(U(out), out.size(), text.data(), text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return InvalidArgumentError("not valid base64");
  }
  out.resize(len);
  return out;
}

std::string Fingerprint(std::string_view bytes) {
  EnsureSodium();
  unsigned char hash[32];
  crypto_generichash(hash, sizeof(hash), U(bytes), bytes.size(), nullptr, 0);
  char hex[sizeof(hash) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
  return std::string(hex, sizeof(hash) * 2);
}

std::string KeyFingerprint(std::string_view sign_public, std::string_view box_public) {
  std::string both;
  both.reserve(sign_public.size() + box_public.size());
  both.append(sign_public);
  both.append(box_public);
  return Fingerprint(both);
}

}  // namespace liaison::crypto
