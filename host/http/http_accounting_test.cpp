// What HttpServer keeps for every answer: the request id (the client's, or one it makes), the
// request counts of its metrics and the line of its access log.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Message.h>

#include "http/access_log.h"
#include "http/http_metrics.h"
#include "http/http_server.h"
#include "http/http_test_client.h"
#include "ops/prometheus_text.h"
#include "ops/request_context.h"

namespace busbar::host {
namespace {

using testing::RawClient;

// A server with one loop, its metrics and an access log whose lines the test keeps.
class HttpServerAccountingTest : public ::testing::Test {
 protected:
  // Keeps the lines the access log writes.
  class Lines : public Poco::Channel {
   public:
    void log(const Poco::Message& message) override {
      std::lock_guard<std::mutex> lock(mutex);
      lines.push_back(message.getText());
    }
    std::vector<std::string> taken() {
      std::lock_guard<std::mutex> lock(mutex);
      return lines;
    }
    std::mutex mutex;
    std::vector<std::string> lines;
  };

  void SetUp() override {
    RouteOptions on_loop;
    on_loop.never_blocks = true;
    // Each answers the request id its handler runs under.
    router_.add(
        "GET", "/id/loop",
        [](const HttpRequest&, HttpResponse& response) {
          response.body = "\"" + std::string(currentRequestId()) + "\"";
        },
        on_loop);
    router_.add("GET", "/id/worker", [](const HttpRequest&, HttpResponse& response) {
      response.body = "\"" + std::string(currentRequestId()) + "\"";
    });
    listener_ = &metrics_.addListener("public", router_, 1);
    lines_ = new Lines;
    access_.setServerId("test-server");
    access_.configure(Poco::AutoPtr<Poco::Channel>(lines_), LogFormat::kJson);
    HttpListenerOptions options;
    options.loops = 1;
    options.metrics = listener_;
    options.access_log = &access_;
    server_ = std::make_unique<HttpServer>(router_, HttpSettings{}, Poco::Logger::get("http-test"),
                                           options);
    server_->start("127.0.0.1", 0);
  }
  void TearDown() override {
    server_->stop();
    access_.configure(nullptr, LogFormat::kJson);
  }

  static std::string requestIdOf(const RawClient::Response& response) {
    const std::string name = "X-Request-Id: ";
    auto at = response.headers.find(name);
    if (at == std::string::npos) return "";
    return response.headers.substr(at + name.size(),
                                   response.headers.find("\r\n", at) - at - name.size());
  }

  static bool isGenerated(const std::string& id) {
    return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
  }

  HttpRouter router_;
  HttpMetrics metrics_;
  HttpMetrics::Listener* listener_ = nullptr;
  Lines* lines_ = nullptr;  // owned by access_
  AccessLog access_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerAccountingTest, TheClientsRequestIdIsAnsweredAndHandlersRunUnderIt) {
  RawClient client(server_->port());
  for (const char* path : {"/id/loop", "/id/worker"}) {
    client.write(std::string("GET ") + path +
                 " HTTP/1.1\r\nHost: x\r\nX-Request-Id: client-7\r\n\r\n");
    auto response = client.read();
    EXPECT_EQ(requestIdOf(response), "client-7") << path;
    EXPECT_EQ(response.body, "\"client-7\"") << path;
  }
}

TEST_F(HttpServerAccountingTest, AnIdIsMadeWhenThereIsNoneOrItIsUnusable) {
  RawClient client(server_->port());
  client.write("GET /id/worker HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = client.read();
  client.write("GET /id/loop HTTP/1.1\r\nHost: x\r\nX-Request-Id: has space\r\n\r\n");
  auto second = client.read();
  EXPECT_TRUE(isGenerated(requestIdOf(first))) << first.headers;
  EXPECT_TRUE(isGenerated(requestIdOf(second))) << second.headers;
  EXPECT_NE(requestIdOf(first), requestIdOf(second));
  EXPECT_EQ(first.body, "\"" + requestIdOf(first) + "\"");
  // Refusals carry one too.
  client.write("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n");
  auto refused = client.read();
  EXPECT_EQ(refused.status_line.substr(9, 3), "501");
  EXPECT_TRUE(isGenerated(requestIdOf(refused))) << refused.headers;
}

TEST_F(HttpServerAccountingTest, EveryAnswerIsCountedAndLogged) {
  RawClient client(server_->port());
  client.write("GET /id/loop HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\n\r\n");
  client.read();
  client.write("GET /id/worker HTTP/1.1\r\nHost: x\r\n\r\n");
  client.read();
  client.write("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().status_line, "HTTP/1.1 404 Not Found");

  PrometheusText out;
  metrics_.collect(out);
  const std::string& text = out.text();
  for (
      const char* line :
      {R"(busbar_http_requests_total{listener="public",method="GET",route="/id/loop",status="2xx"} 1)",
       R"(busbar_http_requests_total{listener="public",method="GET",route="/id/worker",status="2xx"} 1)",
       R"m(busbar_http_requests_total{listener="public",method="GET",route="(unmatched)",status="4xx"} 1)m",
       R"(busbar_http_connections_open{listener="public"} 1)"}) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }

  auto lines = lines_->taken();
  ASSERT_EQ(lines.size(), 3u);
  Poco::JSON::Parser parser;
  auto first = parser.parse(lines[0]).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(first->getValue<std::string>("request_id"), "one");
  EXPECT_EQ(first->getValue<std::string>("method"), "GET");
  EXPECT_EQ(first->getValue<std::string>("target"), "/id/loop");
  EXPECT_EQ(first->getValue<int>("status"), 200);
  EXPECT_EQ(first->getValue<std::string>("server_id"), "test-server");
  EXPECT_EQ(first->getValue<std::string>("listener"), "public");
  EXPECT_EQ(first->getValue<std::string>("remote").rfind("127.0.0.1:", 0), 0u);
  auto last = parser.parse(lines[2]).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(last->getValue<int>("status"), 404);
}

}  // namespace
}  // namespace busbar::host
