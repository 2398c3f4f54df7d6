#include "http/http_connection.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <limits>
#include <sstream>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPChunkedStream.h>
#include <Poco/Net/HTTPFixedLengthStream.h>
#include <Poco/Net/HTTPHeaderStream.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "busbar/errors.h"

namespace busbar::host {

std::string errorBody(const std::string& message) {
  Poco::JSON::Object body;
  body.set("error", message);
  std::ostringstream out;
  body.stringify(out);
  return out.str();
}

namespace {

using Poco::Net::HTTPMessage;
using Poco::Net::HTTPRequest;
using Poco::Net::HTTPServerSession;

HttpResponse errorResponse(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = errorBody(message);
  return response;
}

bool isJsonContentType(const std::string& content_type) {
  std::string media = Poco::toLower(Poco::trim(content_type.substr(0, content_type.find(';'))));
  return media == "application/json";
}

// An origin-form target with nothing to decode or split ("/users/u1"): its path is itself.
// "//" would start an authority for Poco::URI, so it takes the full parse.
bool isPlainPath(const std::string& target) {
  if (target.empty() || target[0] != '/' || (target.size() > 1 && target[1] == '/')) return false;
  return target.find_first_of("%?#") == std::string::npos;
}

bool hasLineBreak(const std::string& text) {
  return text.find_first_of("\r\n") != std::string::npos;
}

// The Date header's value, formatted once a second per thread.
const std::string& httpDate() {
  thread_local std::time_t formatted_second = -1;
  thread_local std::string text;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_second) {
    formatted_second = now;
    text = Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(now),
                                           Poco::DateTimeFormat::HTTP_FORMAT);
  }
  return text;
}

// Status line, headers and (unless `head_only`) body of `out` as bytes to send.
std::string formatResponse(const std::string& version, const HttpResponse& out, bool keep_alive,
                           bool head_only) {
  const auto status = static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status);
  const bool has_content = out.status >= 200 && out.status != 204 && out.status != 304;
  std::string message;
  message.reserve(200 + out.body.size());
  message.append(version).append(" ").append(std::to_string(out.status)).append(" ");
  message.append(Poco::Net::HTTPResponse::getReasonForStatus(status)).append("\r\n");
  message.append("Date: ").append(httpDate()).append("\r\nServer: busbar\r\n");
  if (has_content) {
    message.append("Content-Type: ");
    if (out.content_type == "application/json") {
      message.append("application/json; charset=utf-8");
    } else {
      message.append(out.content_type);
    }
    message.append("\r\nContent-Length: ").append(std::to_string(out.body.size())).append("\r\n");
  }
  for (const auto& [name, value] : out.headers) {
    message.append(name).append(": ").append(value).append("\r\n");
  }
  if (!keep_alive) {
    message.append("Connection: close\r\n");
  } else if (version == HTTPMessage::HTTP_1_0) {
    message.append("Connection: Keep-Alive\r\n");
  }
  message.append("\r\n");
  if (has_content && !head_only) message.append(out.body);
  return message;
}

// The client went away, or the connection gave its thread up mid-request: close, answer nothing.
class ClientGone : public Poco::Net::NetException {
 public:
  using Poco::Net::NetException::NetException;
};

// Closes after an answer sent while the client may still be sending (a refused body, a malformed
// request): stops sending, then reads and drops up to 256 KiB for up to a second, so the kernel
// does not answer the unread bytes with a reset that would destroy the answer in flight.
void lingerClose(Poco::Net::StreamSocket& socket) {
  try {
    socket.shutdownSend();
    char sink[8192];
    size_t drained = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (drained < 256 * 1024) {
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      socket.setReceiveTimeout(Poco::Timespan(std::max<Poco::Int64>(left.count(), 1000)));
      const int n = socket.receiveBytes(sink, sizeof sink);
      if (n <= 0) break;
      drained += static_cast<size_t>(n);
    }
  } catch (const Poco::Exception&) {
    // Reset or timed out: closing is all that is left.
  }
}

void sendAll(Poco::Net::StreamSocket& socket, const std::string& bytes) {
  const char* next = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const int chunk = static_cast<int>(std::min<size_t>(left, std::numeric_limits<int>::max()));
    const int sent = socket.sendBytes(next, chunk);
    if (sent <= 0) throw Poco::Net::NetException("connection closed while sending the response");
    next += sent;
    left -= static_cast<size_t>(sent);
  }
}

}  // namespace

// One request on a connection and its answer.
class HttpConnection::Exchange {
 public:
  // `length`: the request's valid Content-Length (0 without one).
  Exchange(HttpConnection& connection, HTTPServerSession& session, const HTTPRequest& request,
           Poco::Int64 length)
      : connection_(connection),
        context_(*connection.context_),
        socket_(connection.socket()),
        session_(session),
        request_(request),
        keep_alive_(request.getKeepAlive()),
        has_length_(request.hasContentLength()),
        length_(length),
        chunked_(request.getChunkedTransferEncoding()),
        expects_continue_(request.getVersion() == HTTPMessage::HTTP_1_1 &&
                          Poco::icompare(request.get("Expect", ""), "100-continue") == 0) {}

  // Whether the input was left mid-request (a refused or cut body): close with lingerClose().
  bool leftUnreadInput() const { return unread_input_; }

  // Answers the request. Returns true when the connection may carry another one.
  bool run() {
    const std::string& version = request_.getVersion();
    if (version != HTTPMessage::HTTP_1_1 && version != HTTPMessage::HTTP_1_0) {
      const bool http = version.rfind("HTTP/", 0) == 0;
      sendAll(socket_,
              formatResponse(HTTPMessage::HTTP_1_1,
                             http ? errorResponse(505, "HTTP version " + version +
                                                           " is not supported; use HTTP/1.1")
                                  : errorResponse(400, "malformed request line: '" + version +
                                                           "' is not an HTTP version"),
                             /*keep_alive=*/false, /*head_only=*/false));
      unread_input_ = hasBody();
      return false;
    }
    HttpResponse out = answer();
    // The unread rest of a refused body would be taken for the next request.
    if (out.status == 413) keep_alive_ = false;
    if (keep_alive_ && !skipUnreadBody()) keep_alive_ = false;
    if (!keep_alive_ && hasBody() && !body_read_whole_) unread_input_ = true;
    // Poco 1.11's chunked stream reports neither a malformed size line nor a cut body, so what
    // follows a chunked body is never trusted to be the next request.
    if (chunked_) keep_alive_ = false;
    if (connection_.yielded()) keep_alive_ = false;
    // A client waits for a thread: this connection gives up its own.
    if (keep_alive_ && mayYield() && context_.connections.takeRoomRequest()) {
      connection_.countLeaving();
      keep_alive_ = false;
    }
    sendAll(socket_, formatResponse(version, out, keep_alive_, request_.getMethod() == "HEAD"));
    return keep_alive_;
  }

 private:
  // A client waits for a thread, and this connection has had its own long enough to give it up.
  bool mayYield() const {
    return context_.connections.roomWanted() &&
           std::chrono::steady_clock::now() - connection_.started_ >= kServeAtLeast;
  }

  bool hasBody() const { return chunked_ || (has_length_ && length_ > 0); }

  HttpResponse answer() {
    HttpResponse out;
    try {
      route(out);
      for (const auto& [name, value] : out.headers) {
        if (hasLineBreak(name) || hasLineBreak(value)) {
          throw std::runtime_error("the handler set header '" + name + "' with a line break");
        }
      }
    } catch (const ClientGone&) {
      throw;
    } catch (const HttpError& error) {
      out = errorResponse(error.status(), error.what());
    } catch (const BadRequest& error) {
      out = errorResponse(400, error.what());
    } catch (const StorageUnavailable& error) {
      context_.logger.warning(std::string("storage unavailable: ") + error.what());
      out = errorResponse(503, std::string("storage unavailable: ") + error.what());
    } catch (const std::exception& error) {
      context_.logger.error(request_.getMethod() + " " + request_.getURI() +
                            " failed: " + error.what());
      out = errorResponse(500, "internal error; see the server log");
    }
    return out;
  }

  void route(HttpResponse& out) {
    HttpRequest in;
    in.method = request_.getMethod();
    const std::string& target = request_.getURI();
    if (isPlainPath(target)) {
      in.path = target;  // what Poco::URI would give, without its parse and copies
    } else {
      try {
        Poco::URI uri(target);
        in.path = uri.getPath();
        for (auto& [name, value] : uri.getQueryParameters()) in.query[name] = value;
      } catch (const Poco::Exception& error) {
        throw HttpError(400, "malformed request URI: " + error.message());
      }
    }
    auto match = context_.router.match(in.method, in.path);
    if (!match.path_known) throw HttpError(404, "no route for " + in.method + " " + in.path);
    if (match.handler == nullptr) {
      out = errorResponse(405, "method " + in.method + " is not allowed on " + in.path +
                                   "; allowed: " + match.allow);
      out.headers["Allow"] = match.allow;
      return;
    }
    readBody(in);
    in.params = std::move(match.params);
    (*match.handler)(in, out);
  }

  void readBody(HttpRequest& in) {
    if (!hasBody()) return;
    const size_t limit = context_.settings.max_body;
    if (has_length_ && static_cast<uint64_t>(length_) > limit) {
      throw HttpError(413, "request body of " + std::to_string(length_) +
                               " bytes is over the limit of " + std::to_string(limit) + " bytes");
    }
    if (expects_continue_) sendContinue();
    body_touched_ = true;
    std::string body;
    if (!readAtMost(limit, &body)) {
      throw HttpError(413, "request body is over the limit of " + std::to_string(limit) + " bytes");
    }
    if (!body.empty() && !isJsonContentType(request_.getContentType())) {
      throw HttpError(415, "request body must be application/json; found Content-Type '" +
                               request_.getContentType() + "'");
    }
    in.body = std::move(body);
  }

  // Reads the whole body into `body` (or drops it when null). Returns false when it is longer
  // than `limit`; throws HttpError 400 when it is truncated or badly chunked.
  bool readAtMost(size_t limit, std::string* body) {
    std::unique_ptr<std::istream> stream;
    if (chunked_) {
      stream = std::make_unique<Poco::Net::HTTPChunkedInputStream>(session_);
    } else {
      stream = std::make_unique<Poco::Net::HTTPFixedLengthInputStream>(session_, length_);
    }
    size_t total = 0;
    char chunk[8192];
    while (stream->read(chunk, sizeof chunk) || stream->gcount() > 0) {
      const auto n = static_cast<size_t>(stream->gcount());
      total += n;
      if (total > limit) return false;
      if (body != nullptr) body->append(chunk, n);
    }
    if (stream->bad() || (!chunked_ && total != static_cast<uint64_t>(length_))) {
      keep_alive_ = false;
      // Cut because this connection gave up its thread: nothing to answer.
      if (connection_.yielded()) throw ClientGone("the connection closed for a waiting client");
      throw HttpError(400, "request body is truncated or badly chunked");
    }
    // A chunked body cut by a yield ends like a whole one in Poco 1.11.
    if (connection_.yielded()) throw ClientGone("the connection closed for a waiting client");
    body_read_whole_ = true;
    return true;
  }

  // Leaves the connection at the next request. Returns false when it cannot (then it closes).
  bool skipUnreadBody() {
    if (body_touched_ || !hasBody()) return true;
    // Told to wait, the client may never send the body.
    if (expects_continue_) return false;
    if (has_length_ && static_cast<uint64_t>(length_) > context_.settings.max_body) return false;
    try {
      return readAtMost(context_.settings.max_body, nullptr);
    } catch (const HttpError&) {
      return false;
    }
  }

  void sendContinue() {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    try {
      sendAll(socket_, kContinue);
    } catch (const Poco::Exception& error) {
      throw ClientGone(error.displayText());
    }
  }

  HttpConnection& connection_;
  HttpServerContext& context_;
  Poco::Net::StreamSocket& socket_;
  HTTPServerSession& session_;
  const HTTPRequest& request_;
  bool keep_alive_;
  const bool has_length_;
  const Poco::Int64 length_;
  const bool chunked_;
  const bool expects_continue_;
  bool body_touched_ = false;
  bool body_read_whole_ = false;
  bool unread_input_ = false;
};

void HttpConnectionSet::add(HttpConnection* connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  connections_.insert(connection);
  if (stopped_) connection->stop(false);
}

void HttpConnectionSet::remove(HttpConnection* connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  connections_.erase(connection);
}

void HttpConnectionSet::stopAll(bool abort) {
  std::lock_guard<std::mutex> lock(mutex_);
  stopped_ = true;
  for (auto* connection : connections_) connection->stop(abort);
}

size_t HttpConnectionSet::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connections_.size();
}

void HttpConnectionSet::makeRoom(int waiting) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<std::chrono::steady_clock::time_point, HttpConnection*>> idle;
  if (waiting > 0) {
    for (auto* connection : connections_) {
      if (auto since = connection->idleSince()) idle.emplace_back(*since, connection);
    }
    std::sort(idle.begin(), idle.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  const auto cutoff = std::chrono::steady_clock::now() - kIdleEnough;
  for (const auto& [since, connection] : idle) {
    if (waiting <= 0 || since > cutoff) break;
    if (connection->yieldIfIdleSince(cutoff)) --waiting;
  }
  room_requests_.store(std::max(waiting, 0));
}

bool HttpConnectionSet::roomWanted() const {
  return room_requests_.load(std::memory_order_relaxed) > 0;
}

bool HttpConnectionSet::takeRoomRequest() {
  int requests = room_requests_.load(std::memory_order_relaxed);
  while (requests > 0) {
    if (room_requests_.compare_exchange_weak(requests, requests - 1)) return true;
  }
  return false;
}

HttpServerContext::HttpServerContext(const HttpRouter& router, const HttpSettings& settings,
                                     Poco::Logger& logger)
    : router(router), settings(settings), logger(logger), params(new Poco::Net::HTTPServerParams) {
  params->setKeepAlive(true);
  params->setTimeout(Poco::Timespan(settings.keep_alive_seconds, 0));
}

HttpConnection::HttpConnection(const Poco::Net::StreamSocket& socket,
                               std::shared_ptr<HttpServerContext> context)
    : Poco::Net::TCPServerConnection(socket),
      context_(std::move(context)),
      started_(std::chrono::steady_clock::now()) {
  context_->connections.add(this);
}

HttpConnection::~HttpConnection() {
  context_->connections.remove(this);
  if (counted_leaving_) --context_->connections.leaving;
}

namespace {

// The values of every `name` field of `request` (Poco's get() gives only the first).
std::vector<std::string> fieldValues(const HTTPRequest& request, const std::string& name) {
  std::vector<std::string> values;
  for (const auto& [field, value] : request) {
    if (Poco::icompare(field, name) == 0) values.push_back(Poco::trim(value));
  }
  return values;
}

// How the request frames its body (RFC 7230 3.3.3): returns its Content-Length, 0 without one
// or when chunked. Throws HttpError 400 for anything else a proxy in front could read another
// way: a transfer coding other than a single "chunked", Content-Length beside it, several
// Content-Length values that differ, or one that is not all digits.
Poco::Int64 bodyLength(const HTTPRequest& request) {
  const auto codings = fieldValues(request, HTTPMessage::TRANSFER_ENCODING);
  const auto lengths = fieldValues(request, HTTPMessage::CONTENT_LENGTH);
  if (!codings.empty()) {
    if (codings.size() != 1 || Poco::icompare(codings.front(), "chunked") != 0) {
      throw HttpError(400, "unsupported Transfer-Encoding '" + codings.front() +
                               "'; only a single 'chunked' is accepted");
    }
    if (!lengths.empty()) {
      throw HttpError(400, "request has both Content-Length and Transfer-Encoding");
    }
    return 0;
  }
  Poco::Int64 length = 0;
  for (const auto& text : lengths) {
    Poco::Int64 value = -1;
    const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    if (digits) {
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size()) value = -1;
    }
    if (value < 0 || (&text != &lengths.front() && value != length)) {
      throw HttpError(400, "invalid Content-Length '" + text + "'");
    }
    length = value;
  }
  return length;
}

void sendClosingError(Poco::Net::StreamSocket& socket, int status, const std::string& message) {
  try {
    sendAll(socket, formatResponse(HTTPMessage::HTTP_1_1, errorResponse(status, message),
                                   /*keep_alive=*/false, /*head_only=*/false));
    lingerClose(socket);
  } catch (const Poco::Exception&) {
  }
}

}  // namespace

void HttpConnection::run() {
  // Sets the socket's receive timeout: the longest wait for the next bytes of a request.
  HTTPServerSession session(socket(), context_->params);
  // Destroyed before `session` closes the socket: from then on nobody else may touch it, since
  // the kernel can hand its descriptor to the next client at once.
  struct MarkClosed {
    HttpConnection& connection;
    ~MarkClosed() {
      std::lock_guard<std::mutex> lock(connection.state_mutex_);
      connection.closed_ = true;
      connection.idle_ = false;
    }
  } mark_closed{*this};
  try {
    socket().setSendTimeout(Poco::Timespan(context_->settings.keep_alive_seconds, 0));
  } catch (const Poco::Exception&) {
    return;  // closed before it started
  }
  while (beginWaiting()) {
    HTTPRequest request;
    try {
      Poco::Net::HTTPHeaderInputStream head(session);
      request.read(head);
    } catch (const Poco::Net::NoMessageException&) {
      break;  // the client closed between requests
    } catch (const Poco::Net::MessageException& error) {
      if (beginServing() && !yielded()) {
        sendClosingError(socket(), 400, "malformed request: " + error.message());
      }
      break;
    } catch (const Poco::Exception&) {
      break;  // idle past the keep-alive timeout, reset, or shut down by stop()
    }
    if (!beginServing()) break;
    // Poco takes the end of the stream for the end of the headers: after a yield they may be
    // cut, so the request is not run.
    if (yielded()) break;
    Poco::Int64 length = 0;
    try {
      length = bodyLength(request);
    } catch (const HttpError& error) {
      sendClosingError(socket(), error.status(), error.what());
      break;
    }
    try {
      Exchange exchange(*this, session, request, length);
      const bool keep_alive = exchange.run();
      if (exchange.leftUnreadInput()) lingerClose(socket());
      if (!keep_alive) break;
    } catch (const Poco::Exception&) {
      break;  // the client went away mid-request
    } catch (const std::exception& error) {
      context_->logger.error(std::string("HTTP connection failed: ") + error.what());
      break;
    }
  }
}

bool HttpConnection::beginWaiting() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (stopping_ || yielded_) return false;
  idle_ = true;
  idle_since_ = std::chrono::steady_clock::now();
  return true;
}

bool HttpConnection::beginServing() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  idle_ = false;
  return !stopping_;
}

bool HttpConnection::yielded() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return yielded_;
}

void HttpConnection::countLeaving() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (counted_leaving_) return;
  counted_leaving_ = true;
  ++context_->connections.leaving;
}

std::optional<std::chrono::steady_clock::time_point> HttpConnection::idleSince() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (!idle_ || stopping_ || yielded_ || closed_) return std::nullopt;
  return idle_since_;
}

bool HttpConnection::yieldIfIdleSince(std::chrono::steady_clock::time_point cutoff) {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (!idle_ || stopping_ || yielded_ || closed_ || idle_since_ > cutoff) return false;
  try {
    if (socket().available() > 0) return false;  // a request is arriving
    // Only the read side: a request that arrived meanwhile is still answered, then it closes.
    socket().shutdownReceive();
  } catch (const Poco::Exception&) {
    return false;
  }
  yielded_ = true;
  if (!counted_leaving_) {
    counted_leaving_ = true;
    ++context_->connections.leaving;
  }
  return true;
}

void HttpConnection::stop(bool abort) {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (closed_) return;
  stopping_ = true;
  if (idle_ || abort) {
    try {
      socket().shutdown();  // wakes the blocked read with end of stream
    } catch (const Poco::Exception&) {
    }
  }
}

HttpConnectionFactory::HttpConnectionFactory(std::shared_ptr<HttpServerContext> context)
    : context_(std::move(context)) {}

Poco::Net::TCPServerConnection* HttpConnectionFactory::createConnection(
    const Poco::Net::StreamSocket& socket) {
  return new HttpConnection(socket, context_);
}

}  // namespace busbar::host
