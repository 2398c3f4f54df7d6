#include "http/access_policy.h"

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

const BearerTokens& tokens() {
  static const BearerTokens kTokens({
      {"reader", {"read"}, "reader-0123456789abcdef"},
      {"deploy", {"write", "read"}, "deploy-0123456789abcdef"},
  });
  return kTokens;
}

constexpr const char* kRoute = "PUT /users/{id}";

TEST(AccessPolicyTest, WithAuthOffEveryRouteIsOpenAndEveryCallerAnonymous) {
  const AccessPolicy off(nullptr, /*open_reads=*/false);
  for (const char* scope : {"read", "write", "admin", "reports"}) {
    const auto decision = off.decide(scope, kRoute, "Bearer deploy-0123456789abcdef");
    EXPECT_TRUE(decision.allowed()) << scope;
    EXPECT_TRUE(decision.caller->anonymous()) << scope;
  }
}

TEST(AccessPolicyTest, PublicRoutesAndOpenReadsAdmitCallersWithoutATokenAndNameAValidOne) {
  const AccessPolicy policy(&tokens(), /*open_reads=*/true);
  for (const char* scope : {kScopePublic, kScopeRead}) {
    EXPECT_TRUE(policy.decide(scope, kRoute, "").allowed()) << scope;
    // Credentials of another scheme are the route's own business (a webhook's signature).
    EXPECT_TRUE(policy.decide(scope, kRoute, "Basic ZGVwbG95OnB3").allowed()) << scope;
    // A bearer token that is sent must be valid, also where none is needed.
    const auto revoked = policy.decide(scope, kRoute, "Bearer not-granted-0123456789");
    EXPECT_EQ(revoked.status, 401) << scope;
    EXPECT_EQ(revoked.challenge, R"(Bearer realm="busbar", error="invalid_token")");
    const auto named = policy.decide(scope, kRoute, "Bearer reader-0123456789abcdef");
    EXPECT_TRUE(named.allowed()) << scope;
    EXPECT_EQ(named.caller->principal, "reader") << scope;
  }
  // Closed reads: a read needs a token holding "read"; public routes stay open.
  const AccessPolicy closed(&tokens(), /*open_reads=*/false);
  EXPECT_EQ(closed.decide(kScopeRead, "GET /users/{id}", "").status, 401);
  EXPECT_TRUE(
      closed.decide(kScopeRead, "GET /users/{id}", "Bearer reader-0123456789abcdef").allowed());
  EXPECT_TRUE(closed.decide(kScopePublic, "GET /ping", "").allowed());
}

TEST(AccessPolicyTest, AMissingOrUnknownTokenIs401WithABearerChallenge) {
  const AccessPolicy policy(&tokens(), /*open_reads=*/true);
  const auto missing = policy.decide(kScopeWrite, kRoute, "");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.challenge, R"(Bearer realm="busbar", scope="write")");
  EXPECT_EQ(missing.message,
            "PUT /users/{id} needs a bearer token with scope 'write'; send Authorization: Bearer "
            "<token>");
  EXPECT_TRUE(missing.caller->anonymous());

  const auto basic = policy.decide(kScopeWrite, kRoute, "Basic ZGVwbG95OnB3");
  EXPECT_EQ(basic.status, 401);
  EXPECT_NE(basic.message.find("takes only bearer tokens"), std::string::npos) << basic.message;

  const auto unknown = policy.decide(kScopeWrite, kRoute, "Bearer deploy-0123456789abcdeX");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.challenge, R"(Bearer realm="busbar", error="invalid_token")");
  EXPECT_NE(unknown.message.find("not one this server grants"), std::string::npos);
  EXPECT_TRUE(unknown.caller->anonymous());
  EXPECT_EQ(unknown.message.find("deploy-0123456789abcdeX"), std::string::npos)
      << "a message never repeats a token";
}

TEST(AccessPolicyTest, ATokenWithoutTheScopeIs403NamingTokenScopeAndRoute) {
  const AccessPolicy policy(&tokens(), /*open_reads=*/true);
  const auto refused = policy.decide(kScopeWrite, kRoute, "Bearer reader-0123456789abcdef");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.challenge,
            R"(Bearer realm="busbar", error="insufficient_scope", scope="write")");
  EXPECT_NE(refused.message.find("token 'reader' does not hold scope 'write', which PUT "
                                 "/users/{id} needs; it holds: read"),
            std::string::npos)
      << refused.message;
  EXPECT_EQ(refused.caller->principal, "reader") << "the access log names who was refused";

  const auto allowed = policy.decide(kScopeWrite, kRoute, "Bearer deploy-0123456789abcdef");
  EXPECT_TRUE(allowed.allowed());
  EXPECT_EQ(allowed.caller->principal, "deploy");
  // A scope of a module's own is held only when granted.
  EXPECT_EQ(policy.decide("reports", "POST /reports", "Bearer deploy-0123456789abcdef").status,
            403);
}

}  // namespace
}  // namespace busbar::host
