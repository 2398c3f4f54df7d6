// HttpServer at the protocol level: raw HTTP/1.x over a socket, so keep-alive, pipelining,
// request bodies and closing are checked byte by byte. Deadlines, limits and load:
// http_limits_test.cpp; request ids, metrics and the access log: http_accounting_test.cpp.
#include "http/http_server.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/StreamSocket.h>

#include "busbar/errors.h"
#include "http/http_test_client.h"
#include "http/tcp_segment_count.h"

namespace busbar::host {
namespace {

using namespace std::chrono_literals;
using testing::RawClient;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add("GET", "/hello/{name}", [](const HttpRequest& request, HttpResponse& response) {
      response.body = R"({"hello":")" + request.params.at("name") + R"("})";
    });
    router_.add("PUT", "/echo", [this](const HttpRequest& request, HttpResponse& response) {
      ++echoes_;
      response.body = request.body;
    });
    router_.add("DELETE", "/thing",
                [](const HttpRequest&, HttpResponse& response) { response.status = 204; });
    router_.add("GET", "/slow", [this](const HttpRequest&, HttpResponse& response) {
      slow_started_.set_value();
      std::this_thread::sleep_for(300ms);
      response.body = R"({"slow":true})";
      slow_finished_ = true;
    });
    router_.add("GET", "/fail",
                [](const HttpRequest&, HttpResponse&) { throw std::runtime_error("boom"); });
    router_.add("GET", "/down", [](const HttpRequest&, HttpResponse&) {
      throw StorageUnavailable("database gone");
    });
    router_.add("GET", "/conflict", [](const HttpRequest&, HttpResponse&) {
      throw TransactionConflict("Deadlock found when trying to get lock");
    });
    router_.add("GET", "/throws-an-int", [](const HttpRequest&, HttpResponse&) { throw 42; });
    RouteOptions on_the_loop;
    on_the_loop.never_blocks = true;
    router_.add(
        "GET", "/throws-an-int-on-the-loop", [](const HttpRequest&, HttpResponse&) { throw 42; },
        on_the_loop);
    router_.add(
        "GET", "/fast",
        [](const HttpRequest&, HttpResponse& response) { response.body = R"({"fast":true})"; },
        on_the_loop);
  }

  void start(HttpSettings settings = {}) {
    settings.max_body = 64;
    server_ = std::make_unique<HttpServer>(router_, settings, Poco::Logger::get("http-test"));
    server_->start("127.0.0.1", 0);
  }
  uint16_t port() const { return server_->port(); }

  HttpRouter router_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> echoes_{0};
  std::promise<void> slow_started_;
  std::atomic<bool> slow_finished_{false};
};

TEST_F(HttpServerTest, ServesManyRequestsOnOneConnection) {
  start();
  RawClient client(port());
  for (int i = 0; i < 3; ++i) {
    client.write("GET /hello/n" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto response = client.read();
    EXPECT_EQ(response.status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(response.body, R"({"hello":"n)" + std::to_string(i) + R"("})");
    EXPECT_NE(response.headers.find("Content-Type: application/json; charset=utf-8"),
              std::string::npos)
        << response.headers;
    EXPECT_NE(response.headers.find("Date: "), std::string::npos) << response.headers;
  }
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  start();
  RawClient client(port());
  client.write(
      "GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n"
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\n\r\n{\"b\":1}"
      "GET /hello/c HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"a"})");
  EXPECT_EQ(client.read().body, R"({"b":1})");
  EXPECT_EQ(client.read().body, R"({"hello":"c"})");
}

TEST_F(HttpServerTest, ClosesWhenTheClientAsksOrSpeaksHttp10) {
  start();
  {
    RawClient client(port());
    client.write("GET /hello/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto response = client.read();
    EXPECT_EQ(response.status_line, "HTTP/1.1 200 OK");
    EXPECT_NE(response.headers.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(client.closedByServer());
  }
  {
    RawClient client(port());
    client.write("GET /hello/a HTTP/1.0\r\n\r\n");
    EXPECT_EQ(client.read().status_line, "HTTP/1.0 200 OK");
    EXPECT_TRUE(client.closedByServer());
  }
  {
    RawClient client(port());
    client.write("GET /hello/a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    EXPECT_EQ(client.read().status_line, "HTTP/1.0 200 OK");
    client.write("GET /hello/b HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    EXPECT_EQ(client.read().body, R"({"hello":"b"})");
  }
}

// A child forked while a connection is open holds a copy of its socket until it execs or exits
// (busbar forks its successor on a reload; a sanitizer forks its symbolizer): the server's close
// then leaves the socket open, and epoll, which watches sockets, not descriptor numbers, would
// report the client's next bytes for a connection already deleted. ASan fails this test when the
// loop closes without unwatching first (the http_connection fuzzer found it that way).
TEST_F(HttpServerTest, BytesAfterAConnectionClosedReachNoDeletedConnectionWhileAChildHoldsIt) {
  start();
  RawClient client(port());
  client.write("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(client.read().status_line, "HTTP/1.1 200 OK");  // the server holds the socket now
  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    ::sleep(5);  // holds every descriptor of the server's process
    ::_exit(0);
  }
  client.write("GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.read().status_line, "HTTP/1.1 200 OK");
  // Closed and deleted by the server once it stopped draining what the client might still send
  // (kLingering, a second).
  std::this_thread::sleep_for(1500ms);
  client.write("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");  // to the socket the child holds
  std::this_thread::sleep_for(200ms);
  RawClient next(port());
  next.write("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(next.read().status_line, "HTTP/1.1 200 OK");
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}

TEST_F(HttpServerTest, ReadsChunkedBodiesAndAnswersExpectContinue) {
  start();
  RawClient chunked(port());
  chunked.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n");
  auto echoed = chunked.read();
  EXPECT_EQ(echoed.body, R"({"a":1})");
  // The end of a chunked body is known (a cut one is refused, see http_limits_test.cpp), so the
  // connection carries the next request.
  EXPECT_EQ(echoed.headers.find("Connection: close"), std::string::npos) << echoed.headers;
  chunked.write("GET /hello/after HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(chunked.read().body, R"({"hello":"after"})");

  RawClient client(port());
  client.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.read().status_line, "HTTP/1.1 100 Continue");
  client.write(R"({"c":3})");
  auto response = client.read();
  EXPECT_EQ(response.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(response.body, R"({"c":3})");

  // Refused before its body: no 100 Continue, the refusal at once, then close (the client may
  // never send the body).
  RawClient refused(port());
  refused.write(
      "PUT /nowhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(refused.read().status_line, "HTTP/1.1 404 Not Found");
  EXPECT_TRUE(refused.closedByServer());
  EXPECT_EQ(echoes_, 2);
}

TEST_F(HttpServerTest, HeadAndNoContentSendHeadersOnly) {
  start();
  RawClient client(port());
  client.write("HEAD /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = client.read(/*head=*/true);
  EXPECT_EQ(head.status_line, "HTTP/1.1 200 OK");
  EXPECT_NE(head.headers.find("Content-Length: 13"), std::string::npos) << head.headers;
  client.write("DELETE /thing HTTP/1.1\r\nHost: x\r\n\r\n");
  auto gone = client.read();
  EXPECT_EQ(gone.status_line, "HTTP/1.1 204 No Content");
  EXPECT_EQ(gone.headers.find("Content-Type"), std::string::npos) << gone.headers;
  // Both left nothing behind: the connection still serves.
  client.write("GET /hello/z HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"z"})");
}

// Found by the http_connection fuzz target: a HEAD whose body is refused gets its refusal without
// content too, as every answer to a HEAD (RFC 9110 9.3.2).
TEST_F(HttpServerTest, ARefusedHeadRequestIsAnsweredWithoutContent) {
  start();
  RawClient client(port());
  client.write(
      "HEAD /hello/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nZ\r\n");
  auto refused = client.read(/*head=*/true);
  EXPECT_EQ(refused.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_NE(refused.headers.find("Connection: close"), std::string::npos) << refused.headers;
  EXPECT_TRUE(client.closedByServer());  // and nothing after the head: no content
}

TEST_F(HttpServerTest, AnUnreadBodyIsSkippedSoTheNextRequestIsIntact) {
  start();
  RawClient client(port());
  client.write(
      "POST /hello/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 9\r\n\r\n{\"x\":123}"
      "GET /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
      "GET /hello/b HTTP/1.1\r\nHost: x\r\n\r\n");
  auto refused = client.read();
  EXPECT_EQ(refused.status_line, "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(refused.headers.find("Allow: GET"), std::string::npos) << refused.headers;
  EXPECT_EQ(client.read().status_line, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(client.read().body, R"({"hello":"b"})");
}

TEST_F(HttpServerTest, ErrorsAreJsonWithTheReason) {
  start();
  RawClient client(port());
  client.write("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n");
  auto failed = client.read();
  EXPECT_EQ(failed.status_line, "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(failed.body, R"({"error":"internal error; see the server log"})");
  client.write("GET /down HTTP/1.1\r\nHost: x\r\n\r\n");
  auto down = client.read();
  EXPECT_EQ(down.status_line, "HTTP/1.1 503 Service Unavailable");
  EXPECT_NE(down.body.find("database gone"), std::string::npos);
  EXPECT_NE(down.headers.find("Retry-After: 1\r\n"), std::string::npos) << down.headers;
  client.write("GET /conflict HTTP/1.1\r\nHost: x\r\n\r\n");
  auto conflict = client.read();
  EXPECT_EQ(conflict.status_line, "HTTP/1.1 503 Service Unavailable");
  EXPECT_NE(conflict.headers.find("Retry-After: 1\r\n"), std::string::npos) << conflict.headers;
  EXPECT_NE(conflict.body.find("nothing of it was written; send it again (Deadlock"),
            std::string::npos)
      << conflict.body;
  client.write("PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(client.read().status_line, "HTTP/1.1 415 Unsupported Media Type");
  client.write("GET /hello/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto bad_uri = client.read();
  EXPECT_EQ(bad_uri.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_NE(bad_uri.body.find("malformed request URI"), std::string::npos) << bad_uri.body;
}

TEST_F(HttpServerTest, AHandlerThatThrowsWhatIsNoExceptionCostsItsRequestOnly) {
  start();
  RawClient client(port());
  for (const char* path : {"/throws-an-int", "/throws-an-int-on-the-loop"}) {
    client.write(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto failed = client.read();
    EXPECT_EQ(failed.status_line, "HTTP/1.1 500 Internal Server Error") << path;
    EXPECT_EQ(failed.body, R"({"error":"internal error; see the server log"})") << path;
  }
  client.write("GET /hello/again HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"again"})");
}

TEST_F(HttpServerTest, OversizedBodyIsRefusedAndTheConnectionClosed) {
  start();
  RawClient client(port());
  // The whole body is sent: the answer must survive the unread bytes (no reset).
  client.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 100000\r\n\r\n" +
      std::string(100000, ' '));
  auto response = client.read();
  EXPECT_EQ(response.status_line, "HTTP/1.1 413 Request Entity Too Large");
  EXPECT_NE(response.body.find("over the limit of 64 bytes"), std::string::npos);
  EXPECT_TRUE(client.closedByServer());
  EXPECT_EQ(echoes_, 0);

  RawClient chunked(port());
  chunked.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n50\r\n" +
      std::string(80, 'x') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.read().status_line, "HTTP/1.1 413 Request Entity Too Large");
  EXPECT_TRUE(chunked.closedByServer());
}

TEST_F(HttpServerTest, BodiesThatCannotBeFramedGet400AndClose) {
  start();
  for (const std::string& headers :
       {std::string("Content-Length: ten\r\n"), std::string("Content-Length: -5\r\n"),
        std::string("Content-Length: +2\r\n"), std::string("Content-Length: 1,0\r\n"),
        std::string("Content-Length: 2\r\nContent-Length: 30\r\n"),
        std::string("Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"),
        std::string("Transfer-Encoding: gzip, chunked\r\n"),
        std::string("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n")}) {
    RawClient client(port());
    client.write("PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + headers +
                 "\r\n{}");
    auto response = client.read();
    EXPECT_EQ(response.status_line, "HTTP/1.1 400 Bad Request") << headers;
    EXPECT_NE(response.body.find("\"error\""), std::string::npos) << response.body;
    EXPECT_TRUE(client.closedByServer()) << headers;
  }
  EXPECT_EQ(echoes_, 0);
}

TEST_F(HttpServerTest, MalformedRequestGetsJson400AndClose) {
  start();
  RawClient client(port());
  client.write("THIS IS NOT HTTP\r\n\r\n");
  auto response = client.read();
  EXPECT_EQ(response.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_NE(response.body.find("'NOT HTTP' is not an HTTP version"), std::string::npos)
      << response.body;
  EXPECT_TRUE(client.closedByServer());

  RawClient garbage(port());
  garbage.write("\x16\x03\x01\x02\x05\x01\r\n\r\n");  // a TLS hello on the plain port
  auto refused_garbage = garbage.read();
  EXPECT_EQ(refused_garbage.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_NE(refused_garbage.body.find("malformed request line '\\\\x16\\\\x03"), std::string::npos)
      << refused_garbage.body;
  EXPECT_NE(refused_garbage.body.find("expected METHOD /path HTTP/1.1"), std::string::npos)
      << refused_garbage.body;
  EXPECT_TRUE(garbage.closedByServer());

  RawClient unknown(port());
  unknown.write("FETCH /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
  auto refused_method = unknown.read();
  EXPECT_EQ(refused_method.status_line, "HTTP/1.1 501 Not Implemented");
  EXPECT_NE(refused_method.body.find("method 'FETCH' is not implemented"), std::string::npos)
      << refused_method.body;
  EXPECT_TRUE(unknown.closedByServer());

  RawClient future(port());
  future.write("GET /hello/a HTTP/2.0\r\n\r\n");
  auto refused_version = future.read();
  EXPECT_EQ(refused_version.status_line, "HTTP/1.1 505 HTTP Version Not Supported");
  EXPECT_NE(refused_version.body.find("HTTP/2.0 is not supported"), std::string::npos);
  EXPECT_TRUE(future.closedByServer());

  RawClient bad_header(port());
  bad_header.write("GET /hello/a HTTP/1.1\r\nNo colon here\r\n\r\n");
  auto refused_header = bad_header.read();
  EXPECT_EQ(refused_header.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_NE(refused_header.body.find("malformed header line 'No colon here'"), std::string::npos)
      << refused_header.body;
  EXPECT_TRUE(bad_header.closedByServer());
}

TEST_F(HttpServerTest, TwoContentLengthsAreRefusedAsSuch) {
  start();
  RawClient client(port());
  client.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 15\r\nContent-Length: 15\r\n\r\n{\"a\":\"12345\"}");
  auto response = client.read();
  EXPECT_EQ(response.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(response.body,
            R"({"error":"request has more than one Content-Length header; send exactly one"})");
  EXPECT_TRUE(client.closedByServer());
  EXPECT_EQ(echoes_, 0);
}

TEST_F(HttpServerTest, JsonBodiesMustBeUtf8) {
  start();
  RawClient client(port());
  const std::string body = "{\"a\":\"caf\xe9\"}";  // Latin-1, not UTF-8
  client.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  auto response = client.read();
  EXPECT_EQ(response.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_NE(response.body.find("not valid UTF-8: byte 0xe9 at offset 9"), std::string::npos)
      << response.body;
  EXPECT_EQ(echoes_, 0);
  // A refused body is whole and read: the connection goes on.
  client.write("GET /hello/next HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"next"})");
}

TEST_F(HttpServerTest, RoutesWithOptionsRefuseUnknownQueryParameters) {
  RouteOptions options;
  options.query_parameters = {"limit", "offset"};
  router_.add(
      "GET", "/list",
      [](const HttpRequest& request, HttpResponse& response) {
        response.body = R"({"limit":")" + request.query.at("limit") + R"("})";
      },
      options);
  start();
  RawClient client(port());
  client.write("GET /list?limit=5 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"limit":"5"})");
  client.write("GET /list?limit=5&foo=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto refused = client.read();
  EXPECT_EQ(refused.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(refused.body,
            R"({"error":"unknown query parameter 'foo'; GET /list takes only: limit, offset"})");
  // Routes added without options (SDK 1.0) take any query.
  client.write("GET /hello/q?foo=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"q"})");
}

TEST_F(HttpServerTest, UpgradeRequestsAreAnsweredAsHttp11) {
  start();
  RawClient client(port());
  client.write(
      "GET /hello/up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"up"})");
  client.write("GET /hello/again HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"again"})");
}

TEST_F(HttpServerTest, IdleConnectionsCloseAfterTheKeepAliveTimeout) {
  HttpSettings settings;
  settings.keep_alive_seconds = 1;
  start(settings);
  RawClient client(port());
  client.write("GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().status_line, "HTTP/1.1 200 OK");
  auto begin = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closedByServer());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 4s);
}

TEST_F(HttpServerTest, IdleConnectionsHoldNoThread) {
  HttpSettings settings;
  settings.workers = 1;
  settings.keep_alive_seconds = 30;
  start(settings);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(std::make_unique<RawClient>(port()));
    idle.back()->write("GET /hello/i HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(idle.back()->read().status_line, "HTTP/1.1 200 OK") << i;
  }
  // A hundred idle keep-alive connections and one worker: a newcomer is served, and every idle
  // connection still is, none closed to make room.
  RawClient newcomer(port());
  newcomer.write("GET /hello/n HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(newcomer.read().body, R"({"hello":"n"})");
  for (auto& client : idle) {
    client->write("GET /hello/again HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(client->read().body, R"({"hello":"again"})");
  }
  EXPECT_EQ(server_->openConnections(), 101);
}

TEST_F(HttpServerTest, ANeverBlockingRouteIsServedWhileEveryWorkerIsBusy) {
  RouteOptions never_blocks;
  never_blocks.never_blocks = true;
  router_.add(
      "GET", "/slow-finished",
      [this](const HttpRequest&, HttpResponse& response) {
        response.body = slow_finished_ ? R"({"slow_finished":true})" : R"({"slow_finished":false})";
      },
      never_blocks);
  HttpSettings settings;
  settings.workers = 1;
  start(settings);
  RawClient busy(port());
  busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  slow_started_.get_future().wait();
  // The only worker sleeps in /slow; /slow-finished runs on the event loop and answers meanwhile.
  RawClient fast(port());
  fast.write("GET /slow-finished HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(fast.read().body, R"({"slow_finished":false})");
  EXPECT_EQ(busy.read().body, R"({"slow":true})");
}

TEST_F(HttpServerTest, PipelinedRequestsKeepTheirOrderAcrossWorkersAndTheLoop) {
  start();
  RawClient client(port());
  // /slow runs on a worker for 300 ms; /fast would be ready at once, but is answered after it.
  client.write(
      "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /hello/last HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"slow":true})");
  EXPECT_EQ(client.read().body, R"({"fast":true})");
  EXPECT_EQ(client.read().body, R"({"hello":"last"})");
}

// Answers made on the loop wait while the next pipelined request is read: a batch that came in one
// read goes out in one write, one TCP segment.
TEST_F(HttpServerTest, APipelinedBatchIsAnsweredInOneWrite) {
  start();
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port()));
  socket.setReceiveTimeout(Poco::Timespan(5, 0));
  std::string batch;
  for (int i = 0; i < 8; ++i) batch += "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int round = 0; round < 5; ++round) {
    const uint32_t segments_before = testing::dataSegmentsReceived(socket.impl()->sockfd());
    socket.sendBytes(batch.data(), static_cast<int>(batch.size()));
    std::string answers;
    char buffer[65536];
    while (std::count(answers.begin(), answers.end(), '}') < 8) {
      const int received = socket.receiveBytes(buffer, sizeof buffer);
      ASSERT_GT(received, 0) << "round " << round << ", got:\n" << answers;
      answers.append(buffer, static_cast<size_t>(received));
    }
    EXPECT_EQ(testing::dataSegmentsReceived(socket.impl()->sockfd()) - segments_before, 1u)
        << "round " << round;
  }
}

// Answers that fill the socket wait for the client while a pipelined request runs on a worker;
// the client that reads again gets every answer, in order.
TEST_F(HttpServerTest, AnswersWaitingForAFullSocketKeepTheirOrderAcrossAWorker) {
  RouteOptions never_blocks;
  never_blocks.never_blocks = true;
  const std::string big(200 * 1024, 'x');
  router_.add(
      "GET", "/big",
      [&big](const HttpRequest&, HttpResponse& response) { response.body = "\"" + big + "\""; },
      never_blocks);
  start();
  RawClient client(port(), 30);
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
  batch += "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  batch += "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
  batch += "GET /hello/last HTTP/1.1\r\nHost: x\r\n\r\n";
  client.write(batch);
  std::this_thread::sleep_for(500ms);  // the socket fills: 20 MiB of answers are not read
  for (int i = 0; i < 100; ++i) ASSERT_EQ(client.read().body.size(), big.size() + 2) << i;
  EXPECT_EQ(client.read().body, R"({"slow":true})");
  EXPECT_EQ(client.read().body.size(), big.size() + 2);
  EXPECT_EQ(client.read().body, R"({"hello":"last"})");
}

// A 100 Continue and a refusal wait behind the answers queued before them.
TEST_F(HttpServerTest, AnInterimAnswerAndARefusalKeepTheirPlaceInAPipelinedBatch) {
  start();
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port()));
  socket.setReceiveTimeout(Poco::Timespan(5, 0));
  const std::string batch =
      "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: 7\r\n\r\n{\"b\":1}"
      "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /fast HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"
      "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n";
  socket.sendBytes(batch.data(), static_cast<int>(batch.size()));
  std::string answers;
  char buffer[65536];
  for (int received; (received = socket.receiveBytes(buffer, sizeof buffer)) > 0;) {
    answers.append(buffer, static_cast<size_t>(received));
  }
  std::vector<std::string> statuses;
  for (size_t at = answers.find("HTTP/1.1 "); at != std::string::npos;
       at = answers.find("HTTP/1.1 ", at + 1)) {
    statuses.push_back(answers.substr(at + 9, 3));
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"200", "100", "200", "200", "400"})) << answers;
  EXPECT_NE(answers.find(R"({"b":1})"), std::string::npos) << answers;
}

TEST_F(HttpServerTest, StopFinishesTheRequestInFlightAndClosesIdleConnections) {
  start();
  RawClient idle(port());
  idle.write("GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(idle.read().status_line, "HTTP/1.1 200 OK");

  RawClient busy(port());
  busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  slow_started_.get_future().wait();
  auto stopped = std::async(std::launch::async, [this] { server_->stop(); });
  auto response = busy.read();
  EXPECT_EQ(response.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(response.body, R"({"slow":true})");
  EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(idle.closedByServer());
  EXPECT_TRUE(busy.closedByServer());
}

TEST_F(HttpServerTest, TwoListenersStoppedWithOneGraceEndDrainWithinOnePeriod) {
  // A reload's old process keeps idle connections until their next request; a host with a public
  // and an admin listener must not wait a grace period on each, or its stop outlives the deadline
  // that ends the process (the grace period and a margin).
  HttpSettings settings;
  settings.shutdown_grace_seconds = 2;
  settings.keep_alive_seconds = 60;
  start(settings);
  HttpServer admin(router_, settings, Poco::Logger::get("http-test"));
  admin.start("127.0.0.1", 0);
  RawClient idle_public(port());
  RawClient idle_admin(admin.port());
  for (RawClient* client : {&idle_public, &idle_admin}) {
    client->write("GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(client->read().status_line, "HTTP/1.1 200 OK");
  }
  const auto begin = std::chrono::steady_clock::now();
  const auto grace_end = begin + std::chrono::seconds(settings.shutdown_grace_seconds);
  const auto idle = HttpServer::IdleConnections::kCloseAfterNextAnswer;
  // As Host::stop does: both at once, so that each has the whole period.
  auto admin_stopped =
      std::async(std::launch::async, [&] { return admin.stop(idle, nullptr, grace_end); });
  EXPECT_EQ(server_->stop(idle, nullptr, grace_end).cut_at_deadline, 1);
  EXPECT_EQ(admin_stopped.get().cut_at_deadline, 1);
  // Two grace periods one after the other would take 4 s.
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3500ms);
  EXPECT_TRUE(idle_public.closedByServer());
  EXPECT_TRUE(idle_admin.closedByServer());
}

}  // namespace
}  // namespace busbar::host
