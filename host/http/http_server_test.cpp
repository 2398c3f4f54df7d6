// HttpServer at the protocol level: raw HTTP/1.x over a socket, so keep-alive, pipelining,
// request bodies and closing are checked byte by byte.
#include "http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

using namespace std::chrono_literals;

// A client that writes raw bytes and reads whole responses (Content-Length framed).
class RawClient {
 public:
  explicit RawClient(uint16_t port) : socket_(Poco::Net::SocketAddress("127.0.0.1", port)) {
    socket_.setReceiveTimeout(Poco::Timespan(5, 0));
  }

  void write(const std::string& bytes) {
    socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  }

  struct Response {
    std::string status_line;
    std::string headers;  // raw header block, lower-cased names kept as sent
    std::string body;
  };

  // Reads one response. On EOF before a status line returns an empty status_line.
  Response read(bool head = false) {
    Response response;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return response;
    }
    std::string block = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    response.status_line = block.substr(0, block.find("\r\n"));
    response.headers = block.substr(block.find("\r\n") + 2);
    size_t length = 0;
    auto at = lower(response.headers).find("content-length:");
    if (at != std::string::npos) length = std::stoul(response.headers.substr(at + 15));
    if (head) length = 0;
    while (buffer_.size() < length) {
      if (!fill()) break;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, std::min(length, buffer_.size()));
    return response;
  }

  // True when the server closed the connection (EOF) with nothing more to read.
  bool closedByServer() { return buffer_.empty() && !fill(); }

 private:
  static std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }
  bool fill() {
    char chunk[4096];
    int n = 0;
    try {
      n = socket_.receiveBytes(chunk, sizeof chunk);
    } catch (const Poco::Exception&) {
      return false;
    }
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  Poco::Net::StreamSocket socket_;
  std::string buffer_;
};

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
    });
    router_.add("GET", "/fail",
                [](const HttpRequest&, HttpResponse&) { throw std::runtime_error("boom"); });
    router_.add("GET", "/down", [](const HttpRequest&, HttpResponse&) {
      throw StorageUnavailable("database gone");
    });
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

TEST_F(HttpServerTest, ReadsChunkedBodiesAndAnswersExpectContinue) {
  start();
  RawClient chunked(port());
  chunked.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n");
  auto echoed = chunked.read();
  EXPECT_EQ(echoed.body, R"({"a":1})");
  // Poco 1.11 cannot tell a cut chunked body from a whole one: what follows is not trusted.
  EXPECT_NE(echoed.headers.find("Connection: close"), std::string::npos) << echoed.headers;
  EXPECT_TRUE(chunked.closedByServer());

  RawClient client(port());

  client.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.read().status_line, "HTTP/1.1 100 Continue");
  client.write(R"({"c":3})");
  auto response = client.read();
  EXPECT_EQ(response.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(response.body, R"({"c":3})");
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
  client.write("PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(client.read().status_line, "HTTP/1.1 415 Unsupported Media Type");
  client.write("GET /hello/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto bad_uri = client.read();
  EXPECT_EQ(bad_uri.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_NE(bad_uri.body.find("malformed request URI"), std::string::npos) << bad_uri.body;
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
  EXPECT_NE(response.body.find("is not an HTTP version"), std::string::npos) << response.body;
  EXPECT_TRUE(client.closedByServer());

  RawClient long_header(port());
  long_header.write("GET /hello/a HTTP/1.1\r\nX-Long: " + std::string(10000, 'a') + "\r\n\r\n");
  auto refused = long_header.read();
  EXPECT_EQ(refused.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_NE(refused.body.find("malformed request"), std::string::npos) << refused.body;
  EXPECT_TRUE(long_header.closedByServer());

  RawClient future(port());
  future.write("GET /hello/a HTTP/2.0\r\n\r\n");
  EXPECT_EQ(future.read().status_line, "HTTP/1.1 505 HTTP Version Not Supported");
  EXPECT_TRUE(future.closedByServer());
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

TEST_F(HttpServerTest, ANewClientTakesTheThreadOfTheLongestIdleConnection) {
  HttpSettings settings;
  settings.threads = 2;
  settings.keep_alive_seconds = 30;
  start(settings);
  RawClient first(port());
  first.write("GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(first.read().status_line, "HTTP/1.1 200 OK");
  std::this_thread::sleep_for(50ms);
  RawClient second(port());
  second.write("GET /hello/b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(second.read().status_line, "HTTP/1.1 200 OK");
  std::this_thread::sleep_for(50ms);

  // Both threads hold an idle connection; the newcomer is served at once, not in 30 s.
  auto begin = std::chrono::steady_clock::now();
  RawClient third(port());
  third.write("GET /hello/c HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(third.read().body, R"({"hello":"c"})");
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  EXPECT_TRUE(first.closedByServer());  // the longest idle
  second.write("GET /hello/b2 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(second.read().body, R"({"hello":"b2"})");
}

TEST_F(HttpServerTest, WithNoIdleConnectionTheNextToFinishClosesForANewClient) {
  HttpSettings settings;
  settings.threads = 1;
  settings.keep_alive_seconds = 30;
  start(settings);
  RawClient busy(port());
  busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  slow_started_.get_future().wait();
  RawClient newcomer(port());
  newcomer.write("GET /hello/n HTTP/1.1\r\nHost: x\r\n\r\n");

  auto slow = busy.read();
  EXPECT_EQ(slow.body, R"({"slow":true})");
  EXPECT_NE(slow.headers.find("Connection: close"), std::string::npos) << slow.headers;
  EXPECT_TRUE(busy.closedByServer());
  auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(newcomer.read().body, R"({"hello":"n"})");
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
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

}  // namespace
}  // namespace busbar::host
