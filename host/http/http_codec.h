// The HTTP/1.x codec: request bytes in, parsed requests out; responses out as bytes.
//
// RequestParser reads one request at a time from bytes as they arrive, in pieces of any size. It
// stops after a request's head, so the caller can route it, send 100 Continue or decide to drop
// the body, and after the request's end, so pipelined requests are served one after the other.
// It keeps only what the host uses of a head (method, target, version, keep-alive, Content-Type,
// Expect, X-Request-Id, the framing of the body) and enforces the limits on head size, header count
// and body size, and on a chunked body's extensions and trailer fields (which it reads and drops),
// so that what a connection holds is bounded whatever the client sends. Every refusal comes with
// the status and a message that says what is wrong. An obsolete line folding (a header line that
// begins with a space) is taken as a space, as RFC 9112 allows; a bare CR is refused, and so is a
// line that ends with a bare LF.
//
// Parsing is llhttp's (the parser of Node.js, in Debian as node-llhttp) rather than Poco's
// HTTPRequest::read: it parses from a buffer in pieces, which non-blocking reads need (Poco reads
// a blocking istream); it decodes chunked bodies and tells a cut one from a whole one, which
// Poco 1.11's HTTPChunkedInputStream does not; it refuses the framings that allow request
// smuggling; and it costs a fraction of Poco's instructions per head (docs/BENCHMARKS.md).
//
// Thread-safety: a RequestParser belongs to one connection and is used by one thread at a time.
// The free functions are thread-safe.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "busbar/http.h"
#include "http/request_id.h"

namespace busbar::host {

// What the host uses of a request's head.
struct RequestHead {
  std::string_view method;                 // "GET": llhttp's static name of the method
  llhttp_method_t method_code = HTTP_GET;  // the same as llhttp's number
  std::string target;                      // as sent: "/users/u1?x=1"
  int minor_version = 1;                   // HTTP/1.minor
  bool keep_alive = true;  // HTTP/1.1 without "Connection: close", or 1.0 with "keep-alive"
  bool expects_continue = false;
  bool chunked = false;
  std::optional<uint64_t> content_length;
  std::string content_type;
  RequestId request_id;       // X-Request-Id when the client sent a usable one, else empty
  std::string authorization;  // the Authorization header's value, "" without one

  bool hasBody() const { return chunked || content_length.value_or(0) > 0; }
};

// A request the codec refuses: the status to answer and why.
struct HttpProblem {
  int status = 400;
  std::string message;
};

struct ParserLimits {
  // The request line and header fields together; a chunked body's trailer fields together; and
  // its chunk extensions together.
  size_t max_header_bytes = 16384;
  size_t max_headers = 100;  // header and trailer fields together
  size_t max_body = 1024 * 1024;
};

class RequestParser {
 public:
  enum class Event {
    kNeedMore,  // every byte given was used; the request is not complete
    kHead,      // the head is parsed: head() holds it
    kComplete,  // the request is complete: takeBody() has its body
    kError,     // refused: problem() says why; parse no more on this connection
  };

  explicit RequestParser(const ParserLimits& limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses `data` up to the next event and sets `*used` to the bytes it consumed; the caller
  // passes the rest again. After kComplete the next call starts the next request.
  Event parse(const char* data, size_t size, size_t* used);

  // The peer sent its last byte. Returns kError (with problem()) when it cut a body, kNeedMore
  // otherwise (nothing begun, or a head cut short: nothing there to answer).
  Event finish();

  // From now on the body of the current request is counted against max_body and dropped.
  void dropBody() { dropping_body_ = true; }

  // True from the first byte of a request until its end.
  bool inRequest() const { return in_request_; }

  // True after kHead or kComplete, until the next parse() resumes.
  bool paused() const { return phase_ != Phase::kParsing; }

  const RequestHead& head() const { return head_; }
  std::string takeBody() { return std::move(body_); }
  const HttpProblem& problem() const { return problem_; }

 private:
  enum class Field {
    kOther,
    kContentType,
    kContentLength,
    kTransferEncoding,
    kExpect,
    kRequestId,
    kAuthorization
  };
  enum class Phase { kParsing, kHeadDone, kComplete };

  static int onMessageBegin(llhttp_t* parser);
  static int onUrl(llhttp_t* parser, const char* at, size_t length);
  static int onHeaderField(llhttp_t* parser, const char* at, size_t length);
  static int onHeaderFieldComplete(llhttp_t* parser);
  static int onHeaderValue(llhttp_t* parser, const char* at, size_t length);
  static int onHeaderValueComplete(llhttp_t* parser);
  static int onHeadersComplete(llhttp_t* parser);
  static int onChunkHeader(llhttp_t* parser);
  static int onChunkExtension(llhttp_t* parser, const char* at, size_t length);
  static int onBody(llhttp_t* parser, const char* at, size_t length);
  static int onMessageComplete(llhttp_t* parser);
  static const llhttp_settings_t& settings();

  // After an error in the request line: uses the bytes until the line ends, then refuses.
  Event awaitLineEnd(size_t size, size_t* used);
  // Records a refusal from a callback; returns the code that stops llhttp.
  int refuse(int status, std::string message);
  // Keeps the bytes of the request line as they come, for the message that refuses it.
  void recordRequestLine(const char* data, size_t size);
  // The problem for an error llhttp found at `at` in `data`.
  HttpProblem describe(llhttp_errno_t error, const char* data, size_t size, const char* at) const;
  bool headOverLimit() const { return head_bytes_ > limits_.max_header_bytes; }
  Event refuseHead();
  // Refuses from a callback when `held` more bytes of the head would pass its limit.
  int refuseHeadOver(size_t held);
  // Runs llhttp over `data`; returns the bytes it used and sets `*error`. Counts the bytes of a
  // trailer section as they are used.
  size_t execute(const char* data, size_t size, llhttp_errno_t* error);

  const ParserLimits limits_;
  llhttp_t parser_;
  Phase phase_ = Phase::kParsing;
  bool in_request_ = false;
  bool head_done_ = false;  // this request's head is parsed
  bool dropping_body_ = false;
  RequestHead head_;
  std::string body_;
  uint64_t body_bytes_ = 0;
  size_t head_bytes_ = 0;
  size_t headers_ = 0;
  bool last_chunk_ = false;  // llhttp paused at the size line of the last chunk
  bool in_trailers_ = false;
  size_t trailer_bytes_ = 0;
  size_t extension_bytes_ = 0;
  std::string line_;  // the request line, up to its line break
  bool line_done_ = false;
  llhttp_errno_t line_error_ = HPE_OK;  // llhttp refused the request line
  bool refused_ = false;                // a callback refused the request: problem_ says why
  std::string field_;                   // the header name being read
  Field field_kind_ = Field::kOther;
  std::string value_;  // the value of a header the host uses
  int content_lengths_ = 0;
  int transfer_encodings_ = 0;
  int authorizations_ = 0;
  std::string transfer_encoding_;
  HttpProblem problem_;
};

// {"error": message} as JSON text.
std::string errorBody(const std::string& message);

// An HttpResponse with status and {"error": message}.
HttpResponse errorResponse(int status, const std::string& message);

// Appends `response` to `out` as HTTP/1.`minor_version` bytes: status line, Date, Server,
// Content-Type and Content-Length (when the status has content), X-Request-Id when `request_id`
// is given and not empty, its headers (which must hold no line break), "Connection: close" unless
// `keep_alive` (HTTP/1.0 keep-alive is announced), and the body unless `head_only`.
void appendResponse(std::string& out, int minor_version, const HttpResponse& response,
                    bool keep_alive, bool head_only, const RequestId* request_id = nullptr);

// The offset of the first byte of `text` that is not part of well-formed UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or nullopt when all of it is.
std::optional<size_t> firstInvalidUtf8(std::string_view text);

}  // namespace busbar::host
