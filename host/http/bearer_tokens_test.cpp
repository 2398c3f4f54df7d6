#include "http/bearer_tokens.h"

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

const std::vector<BearerToken> kTokens = {
    {"deploy", {"write", "read"}, "deploy-0123456789abcdef"},
    {"ops", {"admin"}, "ops-0123456789abcdef=="},
};

TEST(BearerTokensTest, ScopeNamesAreLowerCaseWordsOfAtMost32) {
  for (const char* good : {"read", "write", "admin", "reports", "a", "billing_v2", "x-y"}) {
    EXPECT_TRUE(isScopeName(good)) << good;
  }
  for (const char* bad : {"", "Read", "1read", "_read", "re ad", "read,write", "public!",
                          "abcdefghijklmnopqrstuvwxyzabcdefg"}) {
    EXPECT_FALSE(isScopeName(bad)) << bad;
  }
}

TEST(BearerTokensTest, TokenSyntaxIsRfc6750sB64token) {
  for (const char* good : {"abc", "A-Z.a_z~0+9/", "abc==", "0123456789abcdef"}) {
    EXPECT_TRUE(isBearerTokenSyntax(good)) << good;
  }
  for (const char* bad : {"", "==", "a b", "a=b", "tok\"en", "tok,en", "t\x01k"}) {
    EXPECT_FALSE(isBearerTokenSyntax(bad)) << bad;
  }
}

TEST(BearerTokensTest, EachGrantedTokenAuthenticatesItsCallerWithSortedScopes) {
  const BearerTokens tokens(kTokens);
  auto deploy = tokens.authenticate("Bearer deploy-0123456789abcdef");
  ASSERT_EQ(deploy.outcome, BearerTokens::Outcome::kAuthenticated);
  EXPECT_EQ(deploy.caller->principal, "deploy");
  EXPECT_EQ(deploy.caller->scopes, (std::vector<std::string>{"read", "write"}));
  EXPECT_TRUE(deploy.caller->holds("write"));
  EXPECT_FALSE(deploy.caller->holds("admin"));

  // The scheme is case-insensitive (RFC 9110), and more than one space or a tab may follow it.
  for (const char* sent : {"bearer   ops-0123456789abcdef==", "BEARER\tops-0123456789abcdef=="}) {
    auto ops = tokens.authenticate(sent);
    ASSERT_EQ(ops.outcome, BearerTokens::Outcome::kAuthenticated) << sent;
    EXPECT_EQ(ops.caller->principal, "ops");
  }
}

TEST(BearerTokensTest, AnythingButAGrantedTokenAuthenticatesNobody) {
  const BearerTokens tokens(kTokens);
  EXPECT_EQ(tokens.authenticate("").outcome, BearerTokens::Outcome::kAbsent);
  for (const char* other :
       {"Basic ZGVwbG95OnB3", "Bearers deploy-0123456789abcdef", "Token deploy-0123456789abcdef"}) {
    EXPECT_EQ(tokens.authenticate(other).outcome, BearerTokens::Outcome::kOtherScheme) << other;
  }
  for (const char* invalid :
       {"Bearer deploy-0123456789abcde", "Bearer deploy-0123456789abcdefX",
        "Bearer DEPLOY-0123456789ABCDEF", "Bearer ops-0123456789abcdef", "Bearer  ", "Bearer",
        "Bearer deploy-0123456789abcdef extra", "Bearer \"deploy-0123456789abcdef\""}) {
    const auto result = tokens.authenticate(invalid);
    EXPECT_EQ(result.outcome, BearerTokens::Outcome::kInvalid) << invalid;
    EXPECT_EQ(result.caller, nullptr) << invalid;
  }
}

}  // namespace
}  // namespace busbar::host
