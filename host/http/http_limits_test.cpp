// HttpServer under the clients a server meets: slow ones, cut ones, too many, thousands at once.
// Each test injects the fault over real sockets; none asserts a time, only what is answered.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "http/http_server.h"
#include "http/http_test_client.h"

namespace busbar::host {
namespace {

using namespace std::chrono_literals;
using testing::RawClient;

class HttpLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RouteOptions never_blocks;
    never_blocks.never_blocks = true;
    router_.add(
        "GET", "/hello/{name}",
        [](const HttpRequest& request, HttpResponse& response) {
          response.body = R"({"hello":")" + request.params.at("name") + R"("})";
        },
        never_blocks);
    router_.add("PUT", "/echo", [this](const HttpRequest& request, HttpResponse& response) {
      ++echoes_;
      response.body = request.body;
    });
    router_.add("GET", "/big", [](const HttpRequest&, HttpResponse& response) {
      response.body = std::string(64 * 1024 * 1024, ' ');
    });
    // Tests open thousands of sockets, both ends in this process.
    raiseOpenFileLimit();
  }

  void start(HttpSettings settings, size_t loops = 0) {
    HttpListenerOptions options;
    options.loops = loops;
    server_ =
        std::make_unique<HttpServer>(router_, settings, Poco::Logger::get("http-test"), options);
    server_->start("127.0.0.1", 0);
  }
  uint16_t port() const { return server_->port(); }

  // Waits until the server counts `count` open connections; false if it never does in 10 s.
  bool waitForOpenConnections(int count) {
    for (int i = 0; i < 1000; ++i) {
      if (server_->openConnections() == count) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  static void expectError(const RawClient::Response& response, const std::string& status,
                          const std::string& text) {
    EXPECT_EQ(response.status_line, status) << response.body;
    EXPECT_NE(response.body.find(R"({"error":")"), std::string::npos) << response.body;
    EXPECT_NE(response.body.find(text), std::string::npos) << response.body;
  }

  HttpRouter router_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> echoes_{0};
};

TEST_F(HttpLimitsTest, AHeadThatTricklesPastItsDeadlineGets408) {
  HttpSettings settings;
  settings.header_timeout_seconds = 1;
  start(settings);
  RawClient client(port());
  // A byte every 200 ms keeps every read short of any per-read timeout; the deadline is whole.
  const std::string head = "GET /hello/slow HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  for (size_t i = 0; i < head.size() && i < 10; ++i) {
    client.write(head.substr(i, 1));
    std::this_thread::sleep_for(200ms);
  }
  expectError(client.read(), "HTTP/1.1 408 Request Time-out",
              "request head not received within 1 s ([http] header_timeout_seconds)");
  EXPECT_TRUE(client.closedByServer());
}

TEST_F(HttpLimitsTest, ABodyThatTricklesPastItsDeadlineGets408AndNoHandlerRuns) {
  HttpSettings settings;
  settings.body_timeout_seconds = 1;
  start(settings);
  RawClient client(port());
  client.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 1000\r\n\r\n");
  for (int i = 0; i < 8; ++i) {
    client.write("{");
    std::this_thread::sleep_for(200ms);
  }
  expectError(client.read(), "HTTP/1.1 408 Request Time-out",
              "request body not received within 1 s ([http] body_timeout_seconds)");
  EXPECT_TRUE(client.closedByServer());
  EXPECT_EQ(echoes_, 0);
}

TEST_F(HttpLimitsTest, AClientThatDoesNotTakeItsAnswerIsClosedAfterTheWriteDeadline) {
  HttpSettings settings;
  settings.write_timeout_seconds = 1;
  start(settings);
  RawClient client(port());
  client.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  // 64 MiB cannot fit in the socket buffers; the client reads nothing, so the server gives up.
  ASSERT_TRUE(waitForOpenConnections(1));
  EXPECT_TRUE(waitForOpenConnections(0));
}

// Answers queued ahead of a pipelined request whose head is still arriving wait for a client slow
// to read them under the write deadline; the head's deadline runs once they are sent.
TEST_F(HttpLimitsTest, AClientSlowToTakeItsAnswersIsNotTimedAsASlowHead) {
  RouteOptions never_blocks;
  never_blocks.never_blocks = true;
  router_.add(
      "GET", "/twenty-kib",
      [](const HttpRequest&, HttpResponse& response) {
        response.body = "\"" + std::string(20 * 1024, 'x') + "\"";
      },
      never_blocks);
  HttpSettings settings;
  settings.header_timeout_seconds = 1;
  start(settings);
  // A small receive buffer and segments announce little room: the 60 KiB of answers below do
  // not fit in the two ends' buffers, so the server waits for the client to read.
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress::IPv4);
  socket.setReceiveBufferSize(2048);
  socket.setOption(IPPROTO_TCP, TCP_MAXSEG, 536);
  socket.connect(Poco::Net::SocketAddress("127.0.0.1", port()));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  std::string batch;
  for (int i = 0; i < 3; ++i) batch += "GET /twenty-kib HTTP/1.1\r\nHost: x\r\n\r\n";
  batch += "GET /hello/last HTTP/1.1\r\nHo";
  socket.sendBytes(batch.data(), static_cast<int>(batch.size()));
  std::this_thread::sleep_for(2500ms);  // past the head's deadline, within the write deadline
  const std::string rest = "st: x\r\n\r\n";
  socket.sendBytes(rest.data(), static_cast<int>(rest.size()));
  std::string answers;
  char buffer[65536];
  while (answers.find(R"({"hello")") == std::string::npos) {
    const int received = socket.receiveBytes(buffer, sizeof buffer);
    if (received <= 0) break;
    answers.append(buffer, static_cast<size_t>(received));
  }
  EXPECT_EQ(answers.find("HTTP/1.1 408"), std::string::npos)
      << answers.substr(answers.rfind("HTTP/1.1"));
  EXPECT_NE(answers.find(R"({"hello":"last"})"), std::string::npos);
}

TEST_F(HttpLimitsTest, HeadsOverTheLimitsGet431) {
  HttpSettings settings;
  settings.max_header_bytes = 4096;
  settings.max_headers = 10;
  start(settings);
  RawClient long_header(port());
  long_header.write("GET /hello/a HTTP/1.1\r\nX-Long: " + std::string(10000, 'a') + "\r\n\r\n");
  expectError(long_header.read(), "HTTP/1.1 431 Request Header Fields Too Large",
              "request head (request line and header fields) is over the limit of 4096 bytes "
              "([http] max_header_bytes)");
  EXPECT_TRUE(long_header.closedByServer());

  RawClient many_headers(port());
  std::string head = "GET /hello/a HTTP/1.1\r\n";
  for (int i = 0; i < 11; ++i) head += "X-" + std::to_string(i) + ": y\r\n";
  many_headers.write(head + "\r\n");
  expectError(many_headers.read(), "HTTP/1.1 431 Request Header Fields Too Large",
              "request has more than 10 header fields ([http] max_headers)");
  EXPECT_TRUE(many_headers.closedByServer());

  // At the limits, served.
  RawClient within(port());
  head = "GET /hello/ok HTTP/1.1\r\n";
  for (int i = 0; i < 10; ++i) head += "X-" + std::to_string(i) + ": y\r\n";
  within.write(head + "\r\n");
  EXPECT_EQ(within.read().body, R"({"hello":"ok"})");
}

TEST_F(HttpLimitsTest, TrailersAndChunkExtensionsPastTheLimitAreRefused) {
  HttpSettings settings;
  settings.max_header_bytes = 4096;
  start(settings);
  const std::string chunked =
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n";
  RawClient trailer(port());
  trailer.write(chunked + "0\r\n" + std::string(10000, 't'));  // a name that never ends
  expectError(trailer.read(), "HTTP/1.1 431 Request Header Fields Too Large",
              "request trailer fields (after the last chunk) are over the limit of 4096 bytes "
              "([http] max_header_bytes)");
  EXPECT_TRUE(trailer.closedByServer());

  RawClient extension(port());
  extension.write(chunked + "2;" + std::string(10000, 'e'));
  expectError(extension.read(), "HTTP/1.1 400 Bad Request",
              "request chunk extensions (after a chunk's size) are over the limit of 4096 bytes");
  EXPECT_TRUE(extension.closedByServer());

  RawClient within(port());
  within.write(chunked + "0\r\nX-Checksum: " + std::string(3000, 'c') + "\r\n\r\n");
  EXPECT_EQ(within.read().body, "{}");
  EXPECT_EQ(echoes_, 1);
}

// A client that streams a trailer name without end: the server stops reading it soon after the
// limit (it drains what the answer needs, then closes), rather than reading until the body
// deadline.
TEST_F(HttpLimitsTest, AnEndlessTrailerIsNotReadPastTheLimit) {
  HttpSettings settings;
  settings.max_header_bytes = 4096;
  start(settings);
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port()));
  socket.setSendTimeout(Poco::Timespan(10, 0));
  const std::string start_of_request =
      "PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n";
  const std::string piece(64 * 1024, 't');
  constexpr size_t kOffered = 256 * 1024 * 1024;
  size_t taken = 0;
  try {
    socket.sendBytes(start_of_request.data(), static_cast<int>(start_of_request.size()));
    while (taken < kOffered) {
      taken += static_cast<size_t>(socket.sendBytes(piece.data(), static_cast<int>(piece.size())));
    }
  } catch (const Poco::Exception&) {
    // Reset or timed out: the server stopped taking bytes.
  }
  // The socket buffers of both ends hold a few MiB at most; the rest was never read.
  EXPECT_LT(taken, 32u * 1024 * 1024) << taken << " bytes taken";
  EXPECT_EQ(echoes_, 0);
}

TEST_F(HttpLimitsTest, CutBodiesAreRefusedAndNeverReachTheHandler) {
  start(HttpSettings());
  RawClient chunked(port());
  chunked.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n");
  chunked.shutdownSend();  // the rest never comes
  expectError(chunked.read(), "HTTP/1.1 400 Bad Request",
              "request body ended after 4 bytes, before its last chunk");
  EXPECT_TRUE(chunked.closedByServer());

  RawClient fixed(port());
  fixed.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 10\r\n\r\n{\"a\"");
  fixed.shutdownSend();
  expectError(fixed.read(), "HTTP/1.1 400 Bad Request",
              "request body ended after 4 of its 10 bytes (Content-Length)");

  RawClient bad_chunk(port());
  bad_chunk.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
  expectError(bad_chunk.read(), "HTTP/1.1 400 Bad Request",
              "malformed chunked body: chunk size line 'zz' is not a hexadecimal size");
  EXPECT_TRUE(bad_chunk.closedByServer());
  EXPECT_EQ(echoes_, 0);
}

TEST_F(HttpLimitsTest, AClientPastMaxConnectionsGets503) {
  HttpSettings settings;
  settings.max_connections = 2;
  start(settings);
  RawClient first(port()), second(port());
  for (auto* client : {&first, &second}) {
    client->write("GET /hello/in HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(client->read().body, R"({"hello":"in"})");
  }
  RawClient third(port());
  third.write("GET /hello/third HTTP/1.1\r\nHost: x\r\n\r\n");
  expectError(third.read(), "HTTP/1.1 503 Service Unavailable",
              "the server has 2 connections open, its limit ([http] max_connections, or the "
              "open file limit); retry later");
  EXPECT_TRUE(third.closedByServer());
  EXPECT_EQ(server_->load().refused_connections, 1u);

  // The two still serve; once one leaves, a newcomer gets its place.
  second.write("GET /hello/still HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(second.read().body, R"({"hello":"still"})");
  first.shutdownSend();
  EXPECT_TRUE(first.closedByServer());
  ASSERT_TRUE(waitForOpenConnections(1));
  RawClient fourth(port());
  fourth.write("GET /hello/fourth HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(fourth.read().body, R"({"hello":"fourth"})");
}

// Descriptors of this process (the test's clients and the server's connections alike).
size_t openDescriptors() {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++count;
  }
  return count;
}

TEST_F(HttpLimitsTest, AFloodPastMaxConnectionsHoldsAFewDescriptorsOnly) {
  HttpSettings settings;
  settings.max_connections = 1;
  start(settings);
  RawClient in(port());
  in.write("GET /hello/in HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(in.read().body, R"({"hello":"in"})");
  const size_t before = openDescriptors();
  // Clients that connect and keep their end open: each 503 would linger for a second.
  constexpr size_t kFlood = 100;
  std::vector<std::unique_ptr<RawClient>> flood;
  for (size_t i = 0; i < kFlood; ++i) flood.push_back(std::make_unique<RawClient>(port()));
  for (int i = 0; i < 1000 && server_->load().refused_connections < kFlood; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(server_->load().refused_connections, kFlood);
  const size_t held = openDescriptors() - before - kFlood;  // the server's side of the flood
  // kMaxRefusingConnections (16) answers in progress, and a descriptor or two of the moment.
  static_assert(kMaxRefusingConnections == 16);
  EXPECT_LE(held, 18u) << "the server held a descriptor for each of the " << kFlood
                       << " connections it refused";
  // Each was answered 503 or closed unanswered; the one admitted still serves.
  size_t answered = 0;
  for (auto& client : flood) {
    const auto response = client->read();
    if (!response.status_line.empty()) {
      EXPECT_EQ(response.status_line, "HTTP/1.1 503 Service Unavailable");
      ++answered;
    }
    EXPECT_TRUE(client->closedByServer());
  }
  EXPECT_GE(answered, 1u);
  EXPECT_LE(answered, kFlood);
  in.write("GET /hello/still HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(in.read().body, R"({"hello":"still"})");
}

TEST_F(HttpLimitsTest, StopAnswersARequestWhoseBodyIsStillArriving) {
  start(HttpSettings());
  RawClient idle(port());
  idle.write("GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(idle.read().status_line, "HTTP/1.1 200 OK");
  RawClient client(port());
  client.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\n\r\n{\"a\"");
  ASSERT_TRUE(waitForOpenConnections(2));
  auto stopped = std::async(std::launch::async, [this] { server_->stop(); });
  EXPECT_TRUE(idle.closedByServer());  // idle: closed at once
  client.write(":1}");
  auto response = client.read();
  EXPECT_EQ(response.body, R"({"a":1})");
  EXPECT_NE(response.headers.find("Connection: close"), std::string::npos) << response.headers;
  EXPECT_EQ(stopped.wait_for(10s), std::future_status::ready);
}

// A keep-alive client per socket, driven without a thread each: writes a GET to every socket,
// then reads every answer. Returns the answers that were 200 with the expected body.
int requestOnEach(std::vector<std::unique_ptr<RawClient>>& clients, const std::string& name) {
  for (auto& client : clients) {
    client->write("GET /hello/" + name + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  int answered = 0;
  for (auto& client : clients) {
    if (client->read().body == R"({"hello":")" + name + R"("})") ++answered;
  }
  return answered;
}

TEST_F(HttpLimitsTest, TwoThousandConcurrentKeepAliveClientsAreAllAnswered) {
  HttpSettings settings;
  settings.workers = 2;
  start(settings);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 2000; ++i) clients.push_back(std::make_unique<RawClient>(port(), 30));
  EXPECT_EQ(requestOnEach(clients, "first"), 2000);
  ASSERT_TRUE(waitForOpenConnections(2000));
  // All still open and kept alive: a second round on the same connections.
  EXPECT_EQ(requestOnEach(clients, "second"), 2000);
  EXPECT_EQ(server_->openConnections(), 2000);
}

TEST_F(HttpLimitsTest, AThousandSlowClientsDoNotDelayANormalOne) {
  HttpSettings settings;
  settings.workers = 4;
  settings.header_timeout_seconds = 60;
  settings.body_timeout_seconds = 60;
  start(settings);
  // 500 send a head a byte a second, 500 a PUT's body (Content-Length: 1000) a byte a second.
  std::vector<std::unique_ptr<RawClient>> slow_heads, slow_bodies;
  for (int i = 0; i < 500; ++i) {
    slow_heads.push_back(std::make_unique<RawClient>(port()));
    slow_heads.back()->write("G");
    slow_bodies.push_back(std::make_unique<RawClient>(port()));
    slow_bodies.back()->write(
        "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n{");
  }
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    const std::string head = "ET /hello/slow HTTP/1.1\r\n";
    for (size_t byte = 0; trickling && byte < head.size(); ++byte) {
      for (auto& client : slow_heads) client->write(head.substr(byte, 1));
      for (auto& client : slow_bodies) client->write(" ");
      for (int i = 0; i < 10 && trickling; ++i) std::this_thread::sleep_for(100ms);
    }
  });
  ASSERT_TRUE(waitForOpenConnections(1000));
  // While all of them trickle, a normal client's GET and PUT are answered (within the client's
  // 5 s read timeout, far below what 1000 slow clients would take if each held a thread).
  RawClient normal(port());
  for (int i = 0; i < 3; ++i) {
    normal.write("GET /hello/normal HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(normal.read().body, R"({"hello":"normal"})");
    normal.write(
        "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\n\r\n{}");
    EXPECT_EQ(normal.read().body, "{}");
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_EQ(server_->openConnections(), 1001);  // the slow ones are still being read
  trickling = false;
  trickle.join();
  EXPECT_EQ(echoes_, 3);
}

// Four clients pipeline 2000 requests at a time on one loop, as fast as they read the answers.
// Each request of a normal client on a fresh connection is answered after at most a few of the
// loop's rounds, in each of which a pipelining connection gets its turn's budget: the count of
// pipelined requests served while it waited is bounded, whatever the timing. (Served a whole
// batch per wake-up, they were thousands.)
TEST_F(HttpLimitsTest, PipeliningClientsDoNotStarveANormalOne) {
  RouteOptions never_blocks;
  never_blocks.never_blocks = true;
  std::atomic<int64_t> pipelined{0};
  router_.add(
      "GET", "/pipelined", [&](const HttpRequest&, HttpResponse&) { ++pipelined; }, never_blocks);
  router_.add(
      "GET", "/pipelined-so-far",
      [&](const HttpRequest&, HttpResponse& response) {
        response.body = std::to_string(pipelined.load());
      },
      never_blocks);
  start(HttpSettings(), /*loops=*/1);
  std::string batch;
  for (int i = 0; i < 2000; ++i) batch += "GET /pipelined HTTP/1.1\r\nHost: x\r\n\r\n";
  std::atomic<bool> pipelining{true};
  std::vector<std::thread> hostile;
  for (int c = 0; c < 4; ++c) {
    hostile.emplace_back([&] {
      RawClient client(port(), 30);
      while (pipelining) {
        client.write(batch);
        for (int i = 0; i < 2000; ++i) {
          if (client.read().status_line != "HTTP/1.1 200 OK") return;
        }
      }
    });
  }
  while (pipelined < 8000) std::this_thread::sleep_for(10ms);
  int answered = 0;
  int64_t most_served_while_waiting = 0;
  for (int i = 0; i < 60; ++i) {
    RawClient normal(port());
    const int64_t before = pipelined;
    normal.write("GET /pipelined-so-far HTTP/1.1\r\nHost: x\r\n\r\n");
    auto response = normal.read();
    if (response.status_line != "HTTP/1.1 200 OK") continue;
    ++answered;
    most_served_while_waiting =
        std::max<int64_t>(most_served_while_waiting, std::stoll(response.body) - before);
  }
  pipelining = false;
  for (auto& thread : hostile) thread.join();
  EXPECT_EQ(answered, 60);
  // A round serves at most 4 x kRequestsPerTurn of theirs; a fresh connection waits a few rounds.
  EXPECT_LT(most_served_while_waiting, 1000);
  std::cout << "pipelined requests served while a normal one waited: at most "
            << most_served_while_waiting << "\n";
}

// Handlers stuck on a backend: the queue for workers is bounded and so is the time a request may
// wait for and run on one. Past max_queued a blocking request gets 503 at once; at the deadline
// one that never started gets 503 (nothing done), one still running 504 (it may still take
// effect); never-blocking routes are served all along.
TEST_F(HttpLimitsTest, AStuckBackendShedsBlockingRequestsAndTheOthersAreServed) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> entered{0}, finished{0};
  router_.add("PUT", "/stuck", [&, released](const HttpRequest&, HttpResponse& response) {
    ++entered;
    released.wait();
    ++finished;
    response.body = "{}";
  });
  HttpSettings settings;
  settings.workers = 2;
  settings.max_queued = 3;
  settings.request_timeout_seconds = 2;
  start(settings);
  const std::string stuck =
      "PUT /stuck HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\n\r\n{}";
  std::vector<std::unique_ptr<RawClient>> running, queued;
  for (int i = 0; i < 2; ++i) {
    running.push_back(std::make_unique<RawClient>(port()));
    running.back()->write(stuck);
  }
  while (entered < 2) std::this_thread::sleep_for(1ms);
  for (int i = 0; i < 3; ++i) {
    queued.push_back(std::make_unique<RawClient>(port()));
    queued.back()->write(stuck);
  }
  while (server_->load().queued < 3) std::this_thread::sleep_for(1ms);

  RawClient one_more(port());
  one_more.write(stuck);
  auto refused = one_more.read();
  expectError(refused, "HTTP/1.1 503 Service Unavailable",
              "the server is busy: 3 requests already wait for a worker ([http] max_queued); "
              "this one was not run, retry it");
  EXPECT_NE(RawClient::lower(refused.headers).find("retry-after: 1"), std::string::npos);
  RawClient reader(port());
  reader.write("GET /hello/meanwhile HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(reader.read().body, R"({"hello":"meanwhile"})");

  for (auto& client : queued) {
    auto answer = client->read();
    expectError(answer, "HTTP/1.1 503 Service Unavailable",
                "the server is busy: the request waited 2 s ([http] request_timeout_seconds) for "
                "a worker and was not run; nothing of it was done, retry it");
    EXPECT_NE(RawClient::lower(answer.headers).find("retry-after: 1"), std::string::npos);
    EXPECT_TRUE(client->closedByServer());
  }
  for (auto& client : running) {
    expectError(client->read(), "HTTP/1.1 504 Gateway Time-Out",
                "the request did not finish within 2 s ([http] request_timeout_seconds); it goes "
                "on in the background and may still take effect");
    EXPECT_TRUE(client->closedByServer());
  }
  release.set_value();
  while (finished < 2) std::this_thread::sleep_for(1ms);
  // The ones taken back never ran; the workers are free again.
  RawClient after(port());
  after.write(stuck);
  EXPECT_EQ(after.read().status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(entered, 3);
  const auto load = server_->load();
  EXPECT_EQ(load.shed_queue_full, 1u);
  EXPECT_EQ(load.shed_waited_too_long, 3u);
  EXPECT_EQ(load.timed_out, 2u);
  EXPECT_EQ(load.queued, 0u);
  EXPECT_EQ(load.started, 3u);  // the 3 taken back never reached a worker
}

TEST(OpenFileLimitTest, DescriptorsStayForTheRestWhenTheLimitIsLow) {
  EXPECT_EQ(servedConnections(10000, 65536), 10000);
  EXPECT_EQ(servedConnections(10000, 0), 10000);  // the limit is unknown
  EXPECT_EQ(servedConnections(10000, 4096), 4096 - static_cast<int>(kSpareDescriptors));
  EXPECT_EQ(servedConnections(10000, 1024), 1024 - static_cast<int>(kSpareDescriptors));
  EXPECT_EQ(servedConnections(10000, 200), 100);  // a tiny limit: half of it
  EXPECT_EQ(servedConnections(10000, 1), 1);
}

TEST(OpenFileLimitTest, TheSoftLimitIsRaisedToTheHardOne) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max < 512) GTEST_SKIP() << "hard limit " << limit.rlim_max << " too low to lower";
  rlimit lowered = limit;
  lowered.rlim_cur = 256;  // as a shell's `ulimit -Sn 256` would leave it
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  EXPECT_EQ(raiseOpenFileLimit(), limit.rlim_max);
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, limit.rlim_max);
}

}  // namespace
}  // namespace busbar::host
