#include "auth/password.h"

#include <string>

#include <gtest/gtest.h>

namespace liaison::auth {
namespace {

TEST(Password, RejectsEmptyPassword) {
  Result<std::string> hash = HashPassword("");
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.status().code(), StatusCode::kInvalidArgument);
}

TEST(Password, RejectsOverlongPassword) {
  Result<std::string> hash = HashPassword(std::string(kMaxPasswordBytes + 1, 'x'));
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.status().code(), StatusCode::kInvalidArgument);
}

TEST(Password, WrongPasswordDoesNotVerify) {
  Result<std::string> hash = HashPassword("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_FALSE(VerifyPassword(*hash, "correct horsf"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct hors"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  EXPECT_FALSE(VerifyPassword(*hash, std::string(kMaxPasswordBytes + 1, 'x')));
}

TEST(Password, MalformedHashDoesNotVerify) {
  EXPECT_FALSE(VerifyPassword("", "secret"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "secret"));
  EXPECT_FALSE(VerifyPassword(std::string(4096, '$'), "secret"));
}

TEST(Password, RightPasswordVerifiesAndHashesAreSalted) {
  Result<std::string> a = HashPassword("correct horse");
  Result<std::string> b = HashPassword("correct horse");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->rfind("$argon2id$", 0), 0u) << *a;
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword(*a, "correct horse"));
  EXPECT_TRUE(VerifyPassword(*b, "correct horse"));
}

TEST(Password, LongestPasswordAccepted) {
  std::string longest(kMaxPasswordBytes, 'p');
  Result<std::string> hash = HashPassword(longest);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(VerifyPassword(*hash, longest));
}

}  // namespace
}  // namespace liaison::auth
