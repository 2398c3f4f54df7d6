#include "http/http_codec.h"

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

using Event = RequestParser::Event;

// What a parser made of a request stream: its events with the heads and bodies.
struct Parsed {
  std::vector<std::string> requests;  // "METHOD target HTTP/1.x body=<body>"
  HttpProblem problem;
  bool refused = false;
};

// Feeds `stream` to a parser in pieces of `piece` bytes (0: all at once).
Parsed parseInPieces(const std::string& stream, size_t piece, const ParserLimits& limits = {}) {
  RequestParser parser(limits);
  Parsed parsed;
  size_t offset = 0;
  while (offset < stream.size() || parser.paused()) {
    const size_t end = piece == 0 ? stream.size() : std::min(stream.size(), offset + piece);
    size_t used = 0;
    const Event event = parser.parse(stream.data() + offset, end - offset, &used);
    offset += used;
    if (event == Event::kError) {
      parsed.problem = parser.problem();
      parsed.refused = true;
      return parsed;
    }
    if (event == Event::kComplete) {
      const auto& head = parser.head();
      parsed.requests.push_back(std::string(head.method) + " " + head.target + " HTTP/1." +
                                std::to_string(head.minor_version) + " body=" + parser.takeBody());
    }
    if (event == Event::kNeedMore && end == stream.size()) break;
  }
  return parsed;
}

TEST(RequestParserTest, GivesTheSameRequestsHoweverTheBytesAreSplit) {
  const std::string stream =
      "GET /users/u1?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "PUT /users/u2 HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
      "{\"a\":1}"
      "PUT /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\n{\"b\r\n4;name=value\r\n\":2}\r\n0\r\nTrailer: t\r\n\r\n"
      "DELETE /users/u3 HTTP/1.1\r\n\r\n";
  const std::vector<std::string> expected = {
      "GET /users/u1?x=1 HTTP/1.1 body=", "PUT /users/u2 HTTP/1.1 body={\"a\":1}",
      "PUT /echo HTTP/1.0 body={\"b\":2}", "DELETE /users/u3 HTTP/1.1 body="};
  for (size_t piece : {0, 1, 2, 3, 7, 64}) {
    auto parsed = parseInPieces(stream, piece);
    EXPECT_FALSE(parsed.refused) << piece << ": " << parsed.problem.message;
    EXPECT_EQ(parsed.requests, expected) << "pieces of " << piece;
  }
}

TEST(RequestParserTest, KeepsWhatTheHostUsesOfTheHead) {
  RequestParser parser(ParserLimits{});  // the parser keeps a copy of its limits
  const std::string head =
      "PUT /x HTTP/1.0\r\ncontent-type:  application/json; charset=utf-8 \r\n"
      "Connection: keep-alive\r\nEXPECT: 100-Continue\r\nauthorization:  Bearer t0k.en= \r\n"
      "Content-Length: 12\r\n\r\n";
  size_t used = 0;
  ASSERT_EQ(parser.parse(head.data(), head.size(), &used), Event::kHead);
  EXPECT_EQ(used, head.size());
  EXPECT_EQ(parser.head().method, "PUT");
  EXPECT_EQ(parser.head().minor_version, 0);
  EXPECT_TRUE(parser.head().keep_alive);
  EXPECT_TRUE(parser.head().expects_continue);
  EXPECT_EQ(parser.head().content_type, "application/json; charset=utf-8");
  EXPECT_EQ(parser.head().content_length, 12u);
  EXPECT_EQ(parser.head().authorization, "Bearer t0k.en=");
  EXPECT_FALSE(parser.head().chunked);
  EXPECT_TRUE(parser.inRequest());
  // The body is cut: finish() says so.
  ASSERT_EQ(parser.parse("{\"a\"", 4, &used), Event::kNeedMore);
  ASSERT_EQ(parser.finish(), Event::kError);
  EXPECT_EQ(parser.problem().message,
            "request body ended after 4 of its 12 bytes (Content-Length)");
}

TEST(RequestParserTest, ARequestsAuthorizationNeverCarriesOverToTheNextOnTheConnection) {
  RequestParser parser(ParserLimits{});
  const std::string stream =
      "GET /a HTTP/1.1\r\nAuthorization: Bearer first-token\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
  size_t offset = 0;
  std::vector<std::string> seen;
  while (offset < stream.size() || parser.paused()) {
    size_t used = 0;
    const Event event = parser.parse(stream.data() + offset, stream.size() - offset, &used);
    offset += used;
    if (event == Event::kHead) seen.push_back(parser.head().authorization);
    if (event == Event::kNeedMore) break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"Bearer first-token", ""}));
}

TEST(RequestParserTest, ConnectionCloseAndHttp10WithoutKeepAliveEndTheConnection) {
  for (const std::string& head : {std::string("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
                                  std::string("GET / HTTP/1.0\r\n\r\n")}) {
    RequestParser parser(ParserLimits{});
    size_t used = 0;
    ASSERT_EQ(parser.parse(head.data(), head.size(), &used), Event::kHead);
    EXPECT_FALSE(parser.head().keep_alive) << head;
  }
}

TEST(RequestParserTest, RefusesWithTheStatusAndWhatIsWrong) {
  struct Case {
    std::string stream;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", 400, "malformed request line 'GARBAGE'; expected METHOD /path HTTP/1.1"},
      {"GET /a HTTP/1.1 extra\r\n\r\n", 400,
       "malformed request line 'GET /a HTTP/1.1 extra': 'HTTP/1.1 extra' is not an HTTP version; "
       "expected METHOD /path HTTP/1.1"},
      {"GET /a HTTP/1.2\r\n\r\n", 505, "HTTP version HTTP/1.2 is not supported; use HTTP/1.1"},
      {"GET /a HTTP/2.0\r\n\r\n", 505, "HTTP version HTTP/2.0 is not supported; use HTTP/1.1"},
      {"BREW /pot HTTP/1.1\r\n\r\n", 501, "method 'BREW' is not implemented by this server"},
      {"GET /a\x01 HTTP/1.1\r\n\r\n", 400,
       "malformed request target '/a\\x01': expected a path such as /users/u1, without spaces or "
       "control characters"},
      {"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400,
       "invalid Content-Length '1x': it must be a number of bytes, digits only"},
      {"PUT / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400,
       "request has more than one Content-Length header; send exactly one"},
      {"GET / HTTP/1.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n", 400,
       "request has more than one Authorization header; send one"},
      {"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", 400,
       "request has both Content-Length and Transfer-Encoding; send one"},
      {"PUT / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
       "unsupported Transfer-Encoding 'gzip'; only a single 'chunked' is accepted"},
      {"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcdefgh\r\n0\r\n\r\n", 400,
       "malformed chunked body: "},
      {"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfff\r\n" + std::string(4095, 'x'), 413,
       "request body is over the limit of 1024 bytes ([http] max_body)"},
  };
  ParserLimits limits;
  limits.max_body = 1024;
  for (const auto& test : cases) {
    for (size_t piece : {0, 1}) {
      auto parsed = parseInPieces(test.stream, piece, limits);
      ASSERT_TRUE(parsed.refused) << test.stream;
      EXPECT_EQ(parsed.problem.status, test.status) << test.stream;
      EXPECT_EQ(parsed.problem.message.substr(0, test.message.size()), test.message)
          << "pieces of " << piece << ": " << parsed.problem.message;
    }
  }
}

TEST(RequestParserTest, EnforcesTheHeadLimitsWhateverThePieces) {
  ParserLimits limits;
  limits.max_header_bytes = 300;
  limits.max_headers = 3;
  const std::string big = "GET / HTTP/1.1\r\nX-A: " + std::string(400, 'a') + "\r\n\r\n";
  const std::string many = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  const std::string fits =
      "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: " + std::string(200, 'c') + "\r\n\r\n";
  for (size_t piece : {0, 1, 50}) {
    auto parsed = parseInPieces(big, piece, limits);
    EXPECT_EQ(parsed.problem.status, 431) << piece;
    EXPECT_EQ(parsed.problem.message,
              "request head (request line and header fields) is over the limit of 300 bytes "
              "([http] max_header_bytes)");
    parsed = parseInPieces(many, piece, limits);
    EXPECT_EQ(parsed.problem.status, 431) << piece;
    EXPECT_EQ(parsed.problem.message, "request has more than 3 header fields ([http] max_headers)");
    parsed = parseInPieces(fits, piece, limits);
    EXPECT_FALSE(parsed.refused) << piece << parsed.problem.message;
    EXPECT_EQ(parsed.requests.size(), 1u);
  }
}

TEST(RequestParserTest, DroppedBodiesAreCountedNotKept) {
  RequestParser parser(ParserLimits{});
  const std::string request = "PUT / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  size_t used = 0;
  ASSERT_EQ(parser.parse(request.data(), request.size(), &used), Event::kHead);
  parser.dropBody();
  size_t more = 0;
  ASSERT_EQ(parser.parse(request.data() + used, request.size() - used, &more), Event::kComplete);
  EXPECT_EQ(used + more, request.size());
  EXPECT_EQ(parser.takeBody(), "");
}

TEST(AppendResponseTest, WritesStatusHeadersAndBody) {
  HttpResponse response;
  response.status = 201;
  response.body = R"({"a":1})";
  response.headers["Location"] = "/a";
  std::string out;
  appendResponse(out, 1, response, /*keep_alive=*/true, /*head_only=*/false);
  EXPECT_EQ(out.substr(0, out.find("\r\n")), "HTTP/1.1 201 Created");
  EXPECT_NE(out.find("\r\nContent-Type: application/json; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nContent-Length: 7\r\nLocation: /a\r\n\r\n{\"a\":1}"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("Connection"), std::string::npos);

  std::string head;
  appendResponse(head, 0, response, /*keep_alive=*/true, /*head_only=*/true);
  EXPECT_EQ(head.substr(0, head.find("\r\n")), "HTTP/1.0 201 Created");
  EXPECT_NE(head.find("Connection: Keep-Alive\r\n\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");  // no body

  response.status = 204;
  std::string closing;
  appendResponse(closing, 1, response, /*keep_alive=*/false, /*head_only=*/false);
  EXPECT_EQ(closing.find("Content-Length"), std::string::npos);
  EXPECT_NE(closing.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(errorBody("a \"quoted\" word"), R"({"error":"a \"quoted\" word"})");
}

TEST(Utf8Test, FindsTheFirstByteThatIsNotUtf8) {
  EXPECT_EQ(firstInvalidUtf8(""), std::nullopt);
  EXPECT_EQ(firstInvalidUtf8("plain ascii"), std::nullopt);
  EXPECT_EQ(firstInvalidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), std::nullopt);
  EXPECT_EQ(firstInvalidUtf8("caf\xe9"), 3u);                     // Latin-1
  EXPECT_EQ(firstInvalidUtf8("ab\xc3"), 2u);                      // cut sequence
  EXPECT_EQ(firstInvalidUtf8("\xc0\xaf"), 0u);                    // overlong '/'
  EXPECT_EQ(firstInvalidUtf8("\xe0\x80\xaf"), 0u);                // overlong
  EXPECT_EQ(firstInvalidUtf8("x\xed\xa0\x80"), 1u);               // surrogate U+D800
  EXPECT_EQ(firstInvalidUtf8("\xf4\x90\x80\x80"), 0u);            // above U+10FFFF
  EXPECT_EQ(firstInvalidUtf8("\xe2\x82\x41"), 0u);                // bad continuation
  EXPECT_EQ(firstInvalidUtf8("\xf4\x8f\xbf\xbf"), std::nullopt);  // U+10FFFF
}

}  // namespace
}  // namespace busbar::host

namespace busbar::host {
namespace {

TEST(RequestParserTest, TrailersAndChunkExtensionsAreBoundedAndDropped) {
  ParserLimits limits;
  limits.max_header_bytes = 300;
  const std::string chunked = "PUT /t HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string fits = chunked + "2;a=b\r\n{}\r\n0\r\nX-T: " + std::string(250, 't') +
                           "\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
  // A trailer name that never ends, one long value, many short fields: each passes the limit.
  const std::string long_name = chunked + "2\r\n{}\r\n0\r\n" + std::string(100000, 'n');
  const std::string long_value = chunked + "2\r\n{}\r\n0\r\nX-T: " + std::string(100000, 'v');
  std::string many_fields = chunked + "2\r\n{}\r\n0\r\n";
  for (int i = 0; i < 40; ++i) many_fields += "T" + std::to_string(i) + ": 1234\r\n";
  const std::string long_extension = chunked + "2;" + std::string(100000, 'e') + "\r\n{}\r\n";
  for (size_t piece : {0, 1, 7, 4096}) {
    auto parsed = parseInPieces(fits, piece, limits);
    EXPECT_FALSE(parsed.refused) << piece << ": " << parsed.problem.message;
    EXPECT_EQ(parsed.requests,
              (std::vector<std::string>{"PUT /t HTTP/1.1 body={}", "GET /next HTTP/1.1 body="}))
        << piece;
    for (const std::string* stream :
         std::vector<const std::string*>{&long_name, &long_value, &many_fields}) {
      parsed = parseInPieces(*stream, piece, limits);
      ASSERT_TRUE(parsed.refused) << piece;
      EXPECT_EQ(parsed.problem.status, 431) << piece;
      EXPECT_EQ(parsed.problem.message,
                "request trailer fields (after the last chunk) are over the limit of 300 bytes "
                "([http] max_header_bytes)")
          << piece;
    }
    parsed = parseInPieces(long_extension, piece, limits);
    ASSERT_TRUE(parsed.refused) << piece;
    EXPECT_EQ(parsed.problem.status, 400) << piece;
    EXPECT_EQ(parsed.problem.message,
              "request chunk extensions (after a chunk's size) are over the limit of 300 bytes in "
              "a request ([http] max_header_bytes); busbar uses none")
        << piece;
  }
}

// A head past its limit in one read is refused before any of it is kept.
TEST(RequestParserTest, AHeadPastItsLimitInOneReadIsRefusedBeforeItIsKept) {
  ParserLimits limits;
  limits.max_header_bytes = 300;
  const std::vector<std::string> streams = {
      "GET /" + std::string(100000, 'u') + " HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\n" + std::string(100000, 'n') + ": 1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Type: " + std::string(100000, 'v') + "\r\n\r\n",
  };
  for (const auto& stream : streams) {
    RequestParser parser(limits);
    size_t used = 0;
    ASSERT_EQ(parser.parse(stream.data(), stream.size(), &used), Event::kError);
    EXPECT_EQ(parser.problem().status, 431);
    EXPECT_LE(parser.head().target.size(), 300u);
    EXPECT_LE(parser.head().content_type.size(), 300u);
  }
}

TEST(RequestParserTest, LineEndingsAndObsoleteFolding) {
  // RFC 9112 5.2: a server replaces an obs-fold with a space or refuses; llhttp replaces it.
  RequestParser parser(ParserLimits{});
  const std::string folded = "GET / HTTP/1.1\r\nContent-Type: text/plain;\r\n charset=x\r\n\r\n";
  size_t used = 0;
  ASSERT_EQ(parser.parse(folded.data(), folded.size(), &used), Event::kHead);
  EXPECT_EQ(parser.head().content_type, "text/plain; charset=x");
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"GET / HTTP/1.1\nX-A: one\n\n", "malformed header line 'X-A: one': "},
      {"GET / HTTP/1.1\r\nX-A: o\rne\r\n\r\n", "malformed header line 'X-A: o\\x0dne': "},
      {"GET / HTTP/1.1\rX-A: one\r\n\r\n", "malformed request line 'GET / HTTP/1.1\\x0dX-A: one'"},
  };
  for (const auto& [stream, message] : refused) {
    auto parsed = parseInPieces(stream, 0);
    ASSERT_TRUE(parsed.refused) << stream;
    EXPECT_EQ(parsed.problem.status, 400);
    EXPECT_EQ(parsed.problem.message.substr(0, message.size()), message) << parsed.problem.message;
    parsed = parseInPieces(stream, 1);
    EXPECT_TRUE(parsed.refused) << stream;
    EXPECT_EQ(parsed.problem.status, 400);
  }
}

}  // namespace
}  // namespace busbar::host

namespace busbar::host {
namespace {

// Found by the http_codec fuzz target: a head past its limit with a byte llhttp refuses after
// the limit was answered 400 when it came in one read and 431 when it came in pieces.
TEST(RequestParserTest, AHeadPastItsLimitIs431WhateverComesAfterAndHoweverItArrives) {
  ParserLimits limits;
  limits.max_header_bytes = 300;
  const std::string stream = "GET / HTTP/1.1\r\nX-A: " + std::string(400, 'a') +
                             "\x01\r\n\r\n";  // refused, past the limit
  for (size_t piece : {0, 1, 7, 64}) {
    auto parsed = parseInPieces(stream, piece, limits);
    ASSERT_TRUE(parsed.refused) << piece;
    EXPECT_EQ(parsed.problem.status, 431) << piece << ": " << parsed.problem.message;
  }
}

}  // namespace
}  // namespace busbar::host

namespace busbar::host {
namespace {

// Found by the http_codec fuzz target: line breaks before a request counted against its head's
// limit when they came in the same read as the request, and not when they came alone.
TEST(RequestParserTest, LineBreaksBeforeARequestDoNotCountAgainstItsHead) {
  ParserLimits limits;
  limits.max_header_bytes = 300;
  std::string breaks;
  for (int i = 0; i < 300; ++i) breaks += "\r\n";
  for (size_t piece : {0, 1, 7, 64}) {
    auto parsed = parseInPieces(breaks + "GET /a HTTP/1.1\r\n\r\n", piece, limits);
    EXPECT_FALSE(parsed.refused) << piece << ": " << parsed.problem.message;
    EXPECT_EQ(parsed.requests, std::vector<std::string>{"GET /a HTTP/1.1 body="}) << piece;
  }
}

// Found by the http_codec fuzz target: a refused request line exactly as long as the limit was
// judged with its CR when the line break came in a later read.
TEST(RequestParserTest, ARefusedRequestLineAtTheLimitGetsOneAnswerHoweverItArrives) {
  ParserLimits limits;
  limits.max_header_bytes = 300;
  std::string line = "PUT /" + std::string(1, '\xff') + " HTTP/2.1";
  line.insert(6, 300 - line.size(), 'a');  // the line is exactly the limit, then CRLF
  ASSERT_EQ(line.size(), 300u);
  for (size_t piece : {0, 1, 7, 16, 64}) {
    auto parsed = parseInPieces(line + "\r\n\r\n", piece, limits);
    ASSERT_TRUE(parsed.refused) << piece;
    EXPECT_EQ(parsed.problem.status, 505) << piece << ": " << parsed.problem.message;
    // One byte longer, it is over the limit, whatever else is wrong in it.
    parsed = parseInPieces("X" + line + "\r\n\r\n", piece, limits);
    ASSERT_TRUE(parsed.refused) << piece;
    EXPECT_EQ(parsed.problem.status, 431) << piece << ": " << parsed.problem.message;
  }
}

}  // namespace
}  // namespace busbar::host
