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
  exchange.begin(router, head);
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

}  // namespace
}  // namespace busbar::host
