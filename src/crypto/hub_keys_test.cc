#include "crypto/hub_keys.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "crypto/uuid_v5.h"

namespace liaison::crypto {
namespace {

HubKeys Keys(char fill) { return *HubKeys::FromSeed(std::string(32, fill)); }

// A fresh directory per test, removed with its files afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "crypto_test_XXXXXX";
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    for (const std::string& name : Files()) ::unlink((path_ + "/" + name).c_str());
    ::chmod(path_.c_str(), 0700);
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(path_.c_str());
    if (d == nullptr) return out;
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    ::closedir(d);
    return out;
  }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode = 0600) {
  ::unlink(path.c_str());
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), mode);
}

TEST(HubKeys, GenerateGivesFreshKeysOfTheRightSizes) {
  Result<HubKeys> a = HubKeys::Generate();
  Result<HubKeys> b = HubKeys::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->empty());
  EXPECT_EQ(a->sign_public().size(), 32u);
  EXPECT_EQ(a->box_public().size(), 32u);
  EXPECT_NE(a->sign_public(), b->sign_public());
  EXPECT_NE(a->box_public(), b->box_public());
  EXPECT_TRUE(HubKeys().empty());
}

TEST(HubKeys, FromSeedIsDeterministicAndChecksTheSeedSize) {
  EXPECT_EQ(Keys('a').sign_public(), Keys('a').sign_public());
  EXPECT_EQ(Keys('a').box_public(), Keys('a').box_public());
  EXPECT_NE(Keys('a').sign_public(), Keys('b').sign_public());
  EXPECT_NE(Keys('a').sign_public(), Keys('a').box_public());
  EXPECT_EQ(HubKeys::FromSeed("short").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HubKeys::FromSeed(std::string(33, 'x')).status().code(), StatusCode::kInvalidArgument);
}

TEST(HubKeys, SignAndVerify) {
  HubKeys a = Keys('a'), b = Keys('b');
  const std::string sig = a.Sign("hello");
  EXPECT_TRUE(VerifySignature(a.sign_public_b64(), "hello", sig));
  EXPECT_FALSE(VerifySignature(a.sign_public_b64(), "hellO", sig));
  EXPECT_FALSE(VerifySignature(b.sign_public_b64(), "hello", sig));
  EXPECT_FALSE(VerifySignature(a.sign_public_b64(), "hello", b.Sign("hello")));
  EXPECT_FALSE(VerifySignature("not base64!", "hello", sig));
  EXPECT_FALSE(VerifySignature(a.sign_public_b64(), "hello", "AAAA"));
  EXPECT_FALSE(VerifySignature(Base64Encode("short"), "hello", sig));
  EXPECT_FALSE(VerifySignature(a.sign_public_b64(), "hello", ""));
}

TEST(HubKeys, SealedBoxOpensOnlyForItsRecipient) {
  HubKeys a = Keys('a'), b = Keys('b');
  Result<std::string> sealed = Seal(a.box_public_b64(), "for a only");
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  Result<std::string> opened = a.OpenSealed(*sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "for a only");
  EXPECT_EQ(b.OpenSealed(*sealed).status().code(), StatusCode::kPermissionDenied);
  // Sealing is randomised (an ephemeral key per box).
  EXPECT_NE(*Seal(a.box_public_b64(), "for a only"), *sealed);
  // The empty plaintext seals too.
  EXPECT_EQ(*a.OpenSealed(*Seal(a.box_public_b64(), "")), "");
}

TEST(HubKeys, AlteredSealedBoxIsRefused) {
  HubKeys a = Keys('a');
  std::string raw = *Base64Decode(*Seal(a.box_public_b64(), "secret"));
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string altered = raw;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_EQ(a.OpenSealed(Base64Encode(altered)).status().code(), StatusCode::kPermissionDenied)
        << "byte " << i;
  }
  EXPECT_EQ(a.OpenSealed("***").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.OpenSealed(Base64Encode("too short")).status().code(), StatusCode::kInvalidArgument);
}

TEST(HubKeys, SealRejectsMalformedKeys) {
  EXPECT_EQ(Seal("***", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Seal(Base64Encode(std::string(31, 'k')), "x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(HubKeys, SecretsAtRestRoundTrip) {
  HubKeys a = Keys('a');
  const std::string sealed = a.SealSecret("partner-token-123");
  EXPECT_TRUE(sealed.starts_with("v1:"));
  EXPECT_EQ(sealed.find("partner-token"), std::string::npos);
  Result<std::string> back = a.UnsealSecret(sealed);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "partner-token-123");
  EXPECT_NE(a.SealSecret("partner-token-123"), sealed);  // random nonce
  EXPECT_EQ(*a.UnsealSecret(a.SealSecret("")), "");
  // The same keys loaded again (same seed) open it.
  EXPECT_EQ(*Keys('a').UnsealSecret(sealed), "partner-token-123");
}

TEST(HubKeys, TamperedOrForeignSecretsAreDataLoss) {
  HubKeys a = Keys('a'), b = Keys('b');
  const std::string sealed = a.SealSecret("token");
  EXPECT_EQ(b.UnsealSecret(sealed).status().code(), StatusCode::kDataLoss);
  std::string raw = *Base64Decode(sealed.substr(3));
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string altered = raw;
    altered[i] = static_cast<char>(altered[i] ^ 0x80);
    EXPECT_EQ(a.UnsealSecret("v1:" + Base64Encode(altered)).status().code(), StatusCode::kDataLoss)
        << "byte " << i;
  }
  EXPECT_EQ(a.UnsealSecret("v1:" + Base64Encode(raw.substr(0, raw.size() - 1))).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(a.UnsealSecret("v1:" + Base64Encode(raw.substr(0, 20))).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(a.UnsealSecret("v2:" + sealed.substr(3)).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(a.UnsealSecret(sealed.substr(3)).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(a.UnsealSecret("v1:!!!").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(a.UnsealSecret("").status().code(), StatusCode::kDataLoss);
}

TEST(Base64, EncodesStandardPaddedAndDecodesStrictly) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(*Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(*Base64Decode("+/8="), "\xfb\xff");
  EXPECT_EQ(*Base64Decode(""), "");
  for (const char* bad :
       {"Zg=", "Zg", "Zh==", "Zg==\n", "Z g==", "Zm9v!", "-_8=", "Zg==Zg==", "=Zg=", "Zm9vYmFy="}) {
    EXPECT_EQ(Base64Decode(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Fingerprint, IsBlake2b256Hex) {
  EXPECT_EQ(Fingerprint(""), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(Fingerprint("abc"), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  HubKeys a = Keys('a');
  EXPECT_EQ(a.fingerprint(), Fingerprint(a.sign_public() + a.box_public()));
  EXPECT_EQ(a.fingerprint(), KeyFingerprint(a.sign_public(), a.box_public()));
  EXPECT_NE(a.fingerprint(), Keys('b').fingerprint());
}

TEST(KeyFile, SaveThenLoadRoundTripsWithMode0600) {
  TempDir dir;
  HubKeys keys = *HubKeys::Generate();
  const std::string path = dir.File(kHubKeyFile);
  ASSERT_TRUE(keys.Save(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(dir.Files(), std::vector<std::string>{kHubKeyFile});  // no temporary left behind
  EXPECT_TRUE(ReadFile(path).starts_with("{\"liaison_hub_key\":1,"));

  Result<HubKeys> loaded = HubKeys::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->sign_public(), keys.sign_public());
  EXPECT_EQ(loaded->box_public(), keys.box_public());
  EXPECT_TRUE(VerifySignature(keys.sign_public_b64(), "m", loaded->Sign("m")));
  EXPECT_EQ(*loaded->UnsealSecret(keys.SealSecret("s")), "s");
  EXPECT_EQ(*loaded->OpenSealed(*Seal(keys.box_public_b64(), "x")), "x");
}

TEST(KeyFile, SaveNeverReplacesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.File(kHubKeyFile);
  HubKeys first = Keys('a');
  ASSERT_TRUE(first.Save(path).ok());
  const std::string before = ReadFile(path);
  EXPECT_EQ(Keys('b').Save(path).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(path), before);
  EXPECT_EQ(dir.Files().size(), 1u);
  // A dangling symlink counts as existing: Save must not write through it.
  const std::string link = dir.File("link.key");
  ASSERT_EQ(::symlink(dir.File("nowhere").c_str(), link.c_str()), 0);
  EXPECT_EQ(first.Save(link).code(), StatusCode::kAlreadyExists);
  struct stat st {};
  EXPECT_NE(::stat(dir.File("nowhere").c_str(), &st), 0);
}

TEST(KeyFile, SaveReportsAMissingDirectory) {
  TempDir dir;
  EXPECT_EQ(Keys('a').Save(dir.File("missing/hub.key")).code(), StatusCode::kNotFound);
  EXPECT_TRUE(dir.Files().empty());
}

TEST(KeyFile, SaveIntoAReadOnlyDirectoryIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0500), 0);
  EXPECT_EQ(Keys('a').Save(dir.File(kHubKeyFile)).code(), StatusCode::kPermissionDenied);
}

TEST(KeyFile, LoadRefusesFilesOthersCanAccess) {
  TempDir dir;
  const std::string path = dir.File(kHubKeyFile);
  ASSERT_TRUE(Keys('a').Save(path).ok());
  for (mode_t mode : {0640, 0604, 0660, 0644, 0602, 0620, 0610, 0601}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    Result<HubKeys> r = HubKeys::Load(path);
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << std::oct << mode;
    EXPECT_NE(r.status().message().find("chmod 600"), std::string::npos);
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(HubKeys::Load(path).ok());
}

TEST(KeyFile, LoadReportsMissingAndNonRegularFiles) {
  TempDir dir;
  EXPECT_EQ(HubKeys::Load(dir.File("absent.key")).status().code(), StatusCode::kNotFound);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  EXPECT_EQ(HubKeys::Load(dir.path()).status().code(), StatusCode::kFailedPrecondition);
}

TEST(KeyFile, LoadRejectsMalformedFilesAsDataLoss) {
  TempDir dir;
  HubKeys a = Keys('a'), b = Keys('b');
  const std::string path = dir.File(kHubKeyFile);
  ASSERT_TRUE(a.Save(path).ok());
  const std::string good = ReadFile(path);
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"not json", "this is not a key"},
      {"array", "[1,2]"},
      {"version 2", replace("\"liaison_hub_key\":1", "\"liaison_hub_key\":2")},
      {"version string", replace("\"liaison_hub_key\":1", "\"liaison_hub_key\":\"1\"")},
      {"no version", replace("\"liaison_hub_key\":1,", "")},
      {"missing box_secret", replace("\"box_secret\"", "\"box_secreX\"")},
      {"bad base64", replace("\"sign_public\":\"", "\"sign_public\":\"!")},
      {"other sign_public", replace(a.sign_public_b64(), b.sign_public_b64())},
      {"other box_public", replace(a.box_public_b64(), b.box_public_b64())},
      {"short key", replace(a.box_public_b64(), Base64Encode("short"))},
      {"repeated member", replace("{", "{\"liaison_hub_key\":1,")},
      {"too large", std::string(70 * 1024, ' ') + good},
  };
  for (const auto& [name, text] : cases) {
    WriteFile(path, text);
    EXPECT_EQ(HubKeys::Load(path).status().code(), StatusCode::kDataLoss) << name;
  }
  WriteFile(path, good);
  EXPECT_TRUE(HubKeys::Load(path).ok());
}

TEST(UuidV5, MatchesRfc4122AndPython) {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
  EXPECT_EQ(UuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  EXPECT_EQ(UuidV5(kLiaisonUuidNamespace,
                   "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f@2024-01-15T10:20:30.123000Z"),
            "1f58fc1e-dd73-5c54-b212-40bc0e0fb9ba");
  EXPECT_NE(UuidV5(kLiaisonUuidNamespace, "a"), UuidV5(kLiaisonUuidNamespace, "b"));
}

}  // namespace
}  // namespace liaison::crypto
