#include "http/http_exchange.h"

#include <gtest/gtest.h>

#include <Poco/Logger.h>

namespace busbar::host {
namespace {

// Runs GET /answer through an exchange whose handler makes `answer`; returns the response.
HttpResponse exchangeAnswering(const std::function<void(HttpResponse&)>& answer) {
  HttpRouter router;
  router.add("GET", "/answer",
             [&](const HttpRequest&, HttpResponse& response) { answer(response); });
  RequestHead head;
  head.method = "GET";
  head.method_code = HTTP_GET;
  head.target = "/answer";
  HttpExchange exchange;
  exchange.begin(router, head, nullptr);
  exchange.run("", Poco::Logger::get("exchange-test"), "r1");
  return exchange.response();
}

TEST(HttpExchangeTest, AnAnswerTheHostMayNotSendIsA500) {
  const std::vector<std::pair<std::string, std::function<void(HttpResponse&)>>> refused = {
      {"a 1xx status", [](HttpResponse& response) { response.status = 103; }},
      {"a status past 599", [](HttpResponse& response) { response.status = 700; }},
      {"its own Content-Length",
       [](HttpResponse& response) { response.headers["Content-Length"] = "3"; }},
      {"its own Transfer-Encoding",
       [](HttpResponse& response) { response.headers["transfer-encoding"] = "chunked"; }},
      {"its own Connection",
       [](HttpResponse& response) { response.headers["CONNECTION"] = "close"; }},
      {"a line break in a header",
       [](HttpResponse& response) { response.headers["X-A"] = "1\r\nX-B: 2"; }},
  };
  for (const auto& [what, answer] : refused) {
    const HttpResponse response = exchangeAnswering(answer);
    EXPECT_EQ(response.status, 500) << what;
    EXPECT_EQ(response.body, R"({"error":"internal error; see the server log"})") << what;
    EXPECT_TRUE(response.headers.empty()) << what;
  }
  // What a handler may set is sent as it set it.
  const HttpResponse fine = exchangeAnswering([](HttpResponse& response) {
    response.status = 201;
    response.headers["Location"] = "/answer/1";
    response.headers["Retry-After"] = "1";
  });
  EXPECT_EQ(fine.status, 201);
  EXPECT_EQ(fine.headers.at("Location"), "/answer/1");
}

RequestHead headOf(const char* method, llhttp_method_t code, const std::string& target,
                   const std::string& authorization = "") {
  RequestHead head;
  head.method = method;
  head.method_code = code;
  head.target = target;
  head.authorization = authorization;
  return head;
}

TEST(HttpExchangeTest, TheCallerTheAccessPolicyAuthenticatedReachesTheHandler) {
  const BearerTokens tokens({{"ci", {"write"}, "ci-secret-0123456789"}});
  const AccessPolicy access(&tokens, /*open_reads=*/true);
  HttpRouter router;
  std::string seen = "not called";
  router.add(
      "PUT", "/things/{id}",
      [&](const HttpRequest&, const Caller& caller, HttpResponse& response) {
        seen = caller.principal;
        response.status = 204;
      },
      RouteOptions{}, RouteAccess{});
  HttpExchange exchange;

  exchange.begin(router, headOf("PUT", HTTP_PUT, "/things/1", "Bearer ci-secret-0123456789"),
                 &access);
  ASSERT_FALSE(exchange.answered());
  exchange.run("", Poco::Logger::get("exchange-test"), "r1");
  EXPECT_EQ(exchange.response().status, 204);
  EXPECT_EQ(seen, "ci");
  EXPECT_EQ(exchange.caller().principal, "ci");

  // Refused at begin(): the handler never runs, and the caller is anonymous again.
  seen = "not called";
  exchange.begin(router, headOf("PUT", HTTP_PUT, "/things/1"), &access);
  ASSERT_TRUE(exchange.answered());
  exchange.run("", Poco::Logger::get("exchange-test"), "r2");
  EXPECT_EQ(seen, "not called");
  EXPECT_EQ(exchange.response().status, 401);
  EXPECT_EQ(exchange.response().headers.at("WWW-Authenticate"),
            R"(Bearer realm="busbar", scope="write")");
  EXPECT_TRUE(exchange.caller().anonymous());
}

TEST(HttpExchangeTest, AnUnknownPathIs404BeforeAnyTokenIsAskedFor) {
  const BearerTokens tokens({{"ci", {"write"}, "ci-secret-0123456789"}});
  const AccessPolicy access(&tokens, /*open_reads=*/false);
  HttpRouter router;
  router.add("GET", "/things", [](const HttpRequest&, HttpResponse&) {});
  HttpExchange exchange;
  exchange.begin(router, headOf("GET", HTTP_GET, "/nothing"), &access);
  EXPECT_EQ(exchange.response().status, 404);
  exchange.begin(router, headOf("DELETE", HTTP_DELETE, "/things"), &access);
  EXPECT_EQ(exchange.response().status, 405);
  exchange.begin(router, headOf("GET", HTTP_GET, "/things"), &access);
  EXPECT_EQ(exchange.response().status, 401);
}

}  // namespace
}  // namespace busbar::host
