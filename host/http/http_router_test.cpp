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
  ASSERT_NE(match.handler, nullptr);
  HttpRequest request;
  HttpResponse response;
  (*match.handler)(request, response);
  EXPECT_EQ(called, "get");
  EXPECT_EQ(match.params.at("id"), "alice");

  match = router.match("GET", "/users/me");
  (*match.handler)(request, response);
  EXPECT_EQ(called, "me");

  match = router.match("GET", "/users/");
  (*match.handler)(request, response);
  EXPECT_EQ(called, "list");
}

TEST(HttpRouterTest, UnknownPathAndWrongMethod) {
  HttpRouter router;
  std::string called;
  router.add("GET", "/users/{id}", named(called, "get"));
  router.add("DELETE", "/users/{id}", named(called, "delete"));

  auto missing = router.match("GET", "/nothing/here");
  EXPECT_FALSE(missing.path_known);
  EXPECT_EQ(missing.handler, nullptr);

  auto wrong = router.match("POST", "/users/a");
  EXPECT_TRUE(wrong.path_known);
  EXPECT_EQ(wrong.handler, nullptr);
  EXPECT_EQ(wrong.allow, "DELETE, GET");

  EXPECT_FALSE(router.match("GET", "/users/a/b").path_known);
}

TEST(HttpRouterTest, RefusesDuplicatesAndBadPatterns) {
  HttpRouter router;
  std::string called;
  router.add("GET", "/a/{id}", named(called, "x"));
  EXPECT_THROW(router.add("GET", "/a/{id}", named(called, "y")), ConfigError);
  EXPECT_THROW(router.add("GET", "/b/{id", named(called, "y")), ConfigError);
}

}  // namespace
}  // namespace busbar::host
