#include "http/http_router.h"

#include <gtest/gtest.h>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

RouteHandler named(std::string& called, const std::string& name) {
  return [&called, name](const HttpRequest&, HttpResponse&) { called = name; };
}

TEST(HttpRouterTest, MatchesLiteralsAndCaptures) {
  HttpRouter router;
  std::string called;
  router.add("GET", "/users", named(called, "list"));
  router.add("GET", "/users/{id}", named(called, "get"));
  router.add("PUT", "/users/{id}", named(called, "put"));
  router.add("GET", "/users/me", named(called, "me"));

  auto match = router.match("GET", "/users/alice");
  ASSERT_NE(match.endpoint, nullptr);
  HttpRequest request;
  HttpResponse response;
  match.endpoint->handler(request, response);
  EXPECT_EQ(called, "get");
  EXPECT_EQ(match.params.at("id"), "alice");
  EXPECT_EQ(match.endpoint->name, "GET /users/{id}");

  match = router.match("GET", "/users/me");
  match.endpoint->handler(request, response);
  EXPECT_EQ(called, "me");

  match = router.match("GET", "/users/");
  match.endpoint->handler(request, response);
  EXPECT_EQ(called, "list");
}

TEST(HttpRouterTest, UnknownPathAndWrongMethod) {
  HttpRouter router;
  std::string called;
  router.add("GET", "/users/{id}", named(called, "get"));
  router.add("DELETE", "/users/{id}", named(called, "delete"));

  auto missing = router.match("GET", "/nothing/here");
  EXPECT_EQ(missing.allow, nullptr);
  EXPECT_EQ(missing.endpoint, nullptr);

  auto wrong = router.match("POST", "/users/a");
  ASSERT_NE(wrong.allow, nullptr);
  EXPECT_EQ(wrong.endpoint, nullptr);
  // HEAD is served by the GET handler, so Allow lists it.
  EXPECT_EQ(*wrong.allow, "DELETE, GET, HEAD");

  EXPECT_EQ(router.match("GET", "/users/a/b").allow, nullptr);
}

TEST(HttpRouterTest, HeadIsServedByGetUnlessTheRouteHasItsOwn) {
  HttpRouter router;
  std::string called;
  router.add("GET", "/a", named(called, "get a"));
  router.add("GET", "/b", named(called, "get b"));
  router.add("HEAD", "/b", named(called, "head b"));
  router.add("PUT", "/c", named(called, "put c"));
  HttpRequest request;
  HttpResponse response;
  router.match("HEAD", "/a").endpoint->handler(request, response);
  EXPECT_EQ(called, "get a");
  router.match("HEAD", "/b").endpoint->handler(request, response);
  EXPECT_EQ(called, "head b");
  EXPECT_EQ(router.match("HEAD", "/c").endpoint, nullptr);
  EXPECT_EQ(*router.match("HEAD", "/c").allow, "PUT");
}

TEST(HttpRouterTest, OptionsSayHowTheRouteIsServed) {
  HttpRouter router;
  std::string called;
  router.add("GET", "/plain", named(called, "plain"));
  RouteOptions options;
  options.never_blocks = true;
  options.query_parameters = {"limit", "offset"};
  router.add("GET", "/fast", named(called, "fast"), options);

  const auto* plain = router.match("GET", "/plain").endpoint;
  EXPECT_FALSE(plain->never_blocks);
  EXPECT_TRUE(plain->any_query);

  const auto* fast = router.match("GET", "/fast").endpoint;
  EXPECT_TRUE(fast->never_blocks);
  EXPECT_FALSE(fast->any_query);
  EXPECT_EQ(fast->query_parameters, (std::vector<std::string>{"limit", "offset"}));
}

TEST(HttpRouterTest, RefusesDuplicatesAndBadPatterns) {
  HttpRouter router;
  std::string called;
  router.add("GET", "/a/{id}", named(called, "x"));
  EXPECT_THROW(router.add("GET", "/a/{id}", named(called, "y")), ConfigError);
  EXPECT_THROW(router.add("GET", "/b/{id", named(called, "y")), ConfigError);
  RouteOptions twice;
  twice.query_parameters = {"limit", "limit"};
  EXPECT_THROW(router.add("GET", "/c", named(called, "z"), twice), ConfigError);
  RouteOptions empty;
  empty.query_parameters = {""};
  EXPECT_THROW(router.add("GET", "/d", named(called, "z"), empty), ConfigError);
}

TEST(HttpRouterTest, EachEndpointRecordsTheScopeACallerNeeds) {
  const CallerRouteHandler handler = [](const HttpRequest&, const Caller&, HttpResponse&) {};
  const auto scopeOf = [](const HttpRouter& router, const char* method, const char* path) {
    return router.match(method, path).endpoint->scope;
  };
  HttpRouter router;
  std::string called;
  router.add("GET", "/a", named(called, "get"));
  router.add("PUT", "/a", named(called, "put"), RouteOptions{});
  router.add("DELETE", "/a", handler, RouteOptions{}, RouteAccess{});
  router.add("POST", "/reports", handler, RouteOptions{}, RouteAccess{"reports"});
  router.add("POST", "/hook", handler, RouteOptions{}, RouteAccess{kScopePublic});
  router.add("GET", "/secret", handler, RouteOptions{}, RouteAccess{kScopeAdmin});
  // Undeclared: by method, HEAD as its GET.
  EXPECT_EQ(scopeOf(router, "GET", "/a"), kScopeRead);
  EXPECT_EQ(scopeOf(router, "HEAD", "/a"), kScopeRead);
  EXPECT_EQ(scopeOf(router, "PUT", "/a"), kScopeWrite);
  EXPECT_EQ(scopeOf(router, "DELETE", "/a"), kScopeWrite);
  // Declared: as declared.
  EXPECT_EQ(scopeOf(router, "POST", "/reports"), "reports");
  EXPECT_EQ(scopeOf(router, "POST", "/hook"), kScopePublic);
  EXPECT_EQ(scopeOf(router, "GET", "/secret"), kScopeAdmin);
  EXPECT_TRUE(router.match("POST", "/hook").endpoint->caller_handler);
  EXPECT_FALSE(router.match("GET", "/a").endpoint->handler == nullptr);

  // The admin listener's router: what is not declared needs "admin".
  HttpRouter admin(kScopeAdmin);
  admin.add("GET", "/admin/config", named(called, "config"));
  admin.add("GET", "/metrics", handler, RouteOptions{}, RouteAccess{kScopeRead});
  EXPECT_EQ(scopeOf(admin, "GET", "/admin/config"), kScopeAdmin);
  EXPECT_EQ(scopeOf(admin, "GET", "/metrics"), kScopeRead);
}

TEST(HttpRouterTest, RefusesAScopeThatIsNotAScopeName) {
  const CallerRouteHandler handler = [](const HttpRequest&, const Caller&, HttpResponse&) {};
  HttpRouter router;
  for (const char* bad : {"Write", "read write", "read,write", "1x", "*"}) {
    try {
      router.add("POST", std::string("/x/") + std::to_string(bad[0]), handler, RouteOptions{},
                 RouteAccess{bad});
      ADD_FAILURE() << "accepted scope '" << bad << "'";
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("is not a scope name"), std::string::npos)
          << error.what();
    }
  }
}

}  // namespace
}  // namespace busbar::host
