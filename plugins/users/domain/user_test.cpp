#include "domain/user.h"

#include <gtest/gtest.h>

namespace busbar::users {
namespace {

TEST(UserTest, IdsAreShortAndPlain) {
  EXPECT_EQ(checkUserId("alice_01.x-y"), "");
  EXPECT_EQ(checkUserId(std::string(64, 'a')), "");
  EXPECT_NE(checkUserId(""), "");
  EXPECT_NE(checkUserId(std::string(65, 'a')), "");
  for (const char* bad : {"a b", "a/b", "a%b", "é", "a\nb"}) {
    EXPECT_NE(checkUserId(bad), "") << bad;
  }
  EXPECT_NE(checkUserId(std::string("a\0b", 3)), "");
}

TEST(UserTest, NamesCountCodePoints) {
  EXPECT_EQ(checkUserName("A"), "");
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "\xE2\x82\xAC";  // €, three bytes
  EXPECT_EQ(checkUserName(hundred), "");
  EXPECT_NE(checkUserName(hundred + "x"), "");
  EXPECT_NE(checkUserName(""), "");
  EXPECT_NE(checkUserName(std::string("a\0b", 3)), "");
}

TEST(UserTest, InvalidUtf8IsRefused) {
  EXPECT_FALSE(countUtf8("\xC3"));              // truncated
  EXPECT_FALSE(countUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(countUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(countUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(countUtf8("\xFF"));
  EXPECT_EQ(countUtf8("\xF0\x9F\x98\x80 ok"), 4u);
  EXPECT_NE(checkUserName("\xC3"), "");
}

TEST(UserTest, EmailsHaveOneAt) {
  EXPECT_EQ(checkUserEmail("a@b"), "");
  EXPECT_EQ(checkUserEmail("jos\xC3\xA9@example.com"), "");
  for (const char* bad : {"ab", "@b", "a@", "a@b@c", "a b@c", "a@b\n"}) {
    EXPECT_NE(checkUserEmail(bad), "") << bad;
  }
  EXPECT_NE(checkUserEmail(std::string(250, 'a') + "@b.cd"), "");
}

}  // namespace
}  // namespace busbar::users
