// Fuzz target: bytes in and answers out of a real HttpServer (event loop, connection, exchange,
// router, worker pool) over a loopback socket. The first byte chooses how the rest is split into
// writes; the client then shuts its sending side and reads until the server closes. The answers
// must be well-formed HTTP/1.x responses, one per request the codec finds in the same bytes (up to
// a request that asks to close), then the codec's refusal if it refuses, and nothing after. The
// listener checks bearer tokens ([http] auth = bearer, reads open): a token's refusal is an answer
// like any other, and a 401 carries its challenge.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "http/access_policy.h"
#include "http/bearer_tokens.h"
#include "http/http_codec.h"
#include "http/http_router.h"
#include "http/http_server.h"

namespace {

using busbar::host::ParserLimits;
using busbar::host::RequestParser;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "http_connection_fuzz: %s\n", what);
    std::abort();
  }
}

busbar::host::HttpSettings settings() {
  busbar::host::HttpSettings settings;
  settings.max_header_bytes = 512;
  settings.max_headers = 16;
  settings.max_body = 1024;
  settings.workers = 2;
  return settings;
}

// One server for the whole run, started before the first input and never destroyed (its loops
// run until the process exits); held here so that leak checks find it reachable.
struct Server {
  busbar::host::HttpRouter router;
  // The corpus's Authorization headers carry these secrets.
  busbar::host::BearerTokens tokens{{{"writer", {"read", "write"}, "fuzz-writer-secret"},
                                     {"reader", {"read"}, "fuzz-reader-secret"}}};
  busbar::host::AccessPolicy access{&tokens, /*open_reads=*/true};
  std::unique_ptr<busbar::host::HttpServer> server;
};
Server* server = nullptr;

uint16_t serverPort() {
  if (server == nullptr) {
    server = new Server;
    busbar::RouteOptions on_the_loop;
    on_the_loop.never_blocks = true;
    server->router.add(
        "GET", "/hello/{name}",
        [](const busbar::HttpRequest& request, busbar::HttpResponse& response) {
          response.body = "{\"hello\":\"" + request.params.at("name") + "\"}";
        },
        on_the_loop);
    server->router.add("PUT", "/echo",
                       [](const busbar::HttpRequest& request, busbar::HttpResponse& response) {
                         response.body = request.body;
                       });
    server->router.add(
        "POST", "/echo",
        [](const busbar::HttpRequest& request, busbar::HttpResponse& response) {
          response.body = request.body;
        },
        on_the_loop);
    busbar::RouteAccess admin;
    admin.scope = busbar::kScopeAdmin;
    server->router.add(
        "GET", "/whoami",
        [](const busbar::HttpRequest&, const busbar::Caller& caller,
           busbar::HttpResponse& response) {
          response.body = "{\"principal\":\"" + caller.principal + "\"}";
        },
        busbar::RouteOptions{}, admin);
    busbar::host::HttpListenerOptions options;
    options.loops = 1;
    options.access = &server->access;
    Poco::Logger& logger = Poco::Logger::get("http-connection-fuzz");
    logger.setLevel(Poco::Message::PRIO_FATAL);
    server->server =
        std::make_unique<busbar::host::HttpServer>(server->router, settings(), logger, options);
    server->server->start("127.0.0.1", 0);
  }
  return server->server->port();
}

// What the server must answer to `stream`, by the codec, per request whose head it read: whether
// it is a HEAD (its answer has no body) and whether the server may answer it with an error as
// soon as its head is read and close (a body over max_body, or one the client waits to send
// until 100 Continue); then how many requests are whole and the refusal that ends the connection
// (0: none).
struct Expected {
  std::vector<bool> head_only;
  std::vector<bool> early_refusal;
  size_t whole = 0;
  int refused = 0;
};

Expected expectedAnswers(const std::string& stream) {
  const auto http = settings();
  RequestParser parser(
      ParserLimits{http.max_header_bytes, static_cast<size_t>(http.max_headers), http.max_body});
  Expected expected;
  size_t offset = 0;
  while (offset < stream.size() || parser.paused()) {
    size_t used = 0;
    const auto event = parser.parse(stream.data() + offset, stream.size() - offset, &used);
    offset += used;
    if (event == RequestParser::Event::kError) {
      expected.refused = parser.problem().status;
      return expected;
    }
    if (event == RequestParser::Event::kHead) {
      const auto& head = parser.head();
      expected.head_only.push_back(head.method == "HEAD");
      expected.early_refusal.push_back(
          head.hasBody() &&
          (head.expects_continue || head.content_length.value_or(0) > http.max_body));
    }
    if (event == RequestParser::Event::kComplete) {
      ++expected.whole;
      if (!parser.head().keep_alive) return expected;
    }
    if (event == RequestParser::Event::kNeedMore) break;
  }
  if (parser.finish() == RequestParser::Event::kError) expected.refused = parser.problem().status;
  return expected;
}

// Sends `stream` in pieces of `piece` bytes, shuts the sending side and returns all the server
// sent until it closed.
std::string exchange(const std::string& stream, size_t piece) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  check(fd >= 0, "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(serverPort());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  check(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0, "connect");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval timeout{30, 0};  // past the server's head and body deadlines
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  for (size_t offset = 0; offset < stream.size();) {
    const ssize_t sent =
        ::send(fd, stream.data() + offset, std::min(piece, stream.size() - offset), MSG_NOSIGNAL);
    if (sent <= 0) break;  // the server closed after refusing: what it sent is still readable
    offset += static_cast<size_t>(sent);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answers;
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got == 0) break;
    if (got < 0) {
      if (errno != ECONNRESET) {
        const auto load = server->server->load();
        std::fprintf(stderr,
                     "after %zu bytes sent in pieces of %zu, the server sent:\n%s\n(open "
                     "connections %d, queued %zu, jobs started %llu)\n",
                     stream.size(), piece, answers.c_str(), server->server->openConnections(),
                     load.queued, static_cast<unsigned long long>(load.started));
      }
      check(errno == ECONNRESET, "the server neither answered nor closed within 30 s");
      break;
    }
    answers.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  return answers;
}

struct Answer {
  int status = 0;
  bool closes = false;  // Connection: close
};

// The final (non-1xx) answers in `answers`, each checked for its framing.
std::vector<Answer> answersIn(const std::string& answers, const std::vector<bool>& head_only) {
  std::vector<Answer> found;
  size_t at = 0;
  while (at < answers.size()) {
    const size_t end = answers.find("\r\n\r\n", at);
    if (end == std::string::npos) std::fprintf(stderr, "the server sent:\n%s\n", answers.c_str());
    check(end != std::string::npos, "an answer's head does not end");
    const std::string head = answers.substr(at, end + 2 - at);
    at = end + 4;
    check(head.rfind("HTTP/1.1 ", 0) == 0 || head.rfind("HTTP/1.0 ", 0) == 0,
          "an answer does not start with HTTP/1.x");
    Answer answer;
    answer.status = std::atoi(head.c_str() + 9);
    check(answer.status >= 100 && answer.status <= 599, "an answer's status is out of range");
    if (answer.status < 200) continue;
    check(answer.status != 401 || head.find("\r\nWWW-Authenticate: Bearer") != std::string::npos,
          "a 401 answer has no Bearer challenge");
    answer.closes = head.find("\r\nConnection: close\r\n") != std::string::npos;
    size_t length = 0;
    const size_t field = head.find("\r\nContent-Length: ");
    if (field != std::string::npos) length = std::strtoul(head.c_str() + field + 18, nullptr, 10);
    const bool no_body = found.size() < head_only.size() && head_only[found.size()];
    if (!no_body) at += length;
    check(at <= answers.size(), "an answer's body is shorter than its Content-Length");
    found.push_back(answer);
  }
  return found;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  serverPort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  const std::string stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Expected expected = expectedAnswers(stream);
  const std::string sent = exchange(stream, piece);
  const std::vector<Answer> answers = answersIn(sent, expected.head_only);
  const size_t expected_count = expected.whole + (expected.refused != 0 ? 1 : 0);
  // The last answer may be an error given at the head of a request that allows it, then close.
  const bool early = !answers.empty() && answers.back().closes && answers.back().status >= 400 &&
                     answers.size() <= expected.early_refusal.size() &&
                     expected.early_refusal[answers.size() - 1];
  // A body over max_body ends the connection; the server may answer that request with the error
  // its head earned already (no route...) rather than 413.
  const bool refused_at_head = expected.refused == 413 && answers.size() == expected_count &&
                               answers.back().closes && answers.back().status >= 400;
  const char* problem = nullptr;
  if (answers.size() > expected_count) {
    problem = "more answers than requests";
  } else if (answers.size() < expected_count && !early) {
    problem = "not one answer per request";
  } else if (answers.size() == expected_count && expected.refused != 0 &&
             answers.back().status != expected.refused && !early && !refused_at_head) {
    problem = "the refusal differs from the codec's";
  }
  for (size_t i = 0; problem == nullptr && i + 1 < answers.size(); ++i) {
    if (answers[i].closes) problem = "an answer says Connection: close, and another follows";
  }
  if (problem != nullptr) {
    std::fprintf(stderr, "expected %zu answers, the last %d; the server sent:\n%s\n",
                 expected_count, expected.refused, sent.c_str());
    check(false, problem);
  }
  return 0;
}
