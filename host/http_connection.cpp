#include "http_connection.h"

#include <algorithm>
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
  // `connection_started`: when the connection got its thread.
  Exchange(HttpServerContext& context, Poco::Net::StreamSocket& socket, HTTPServerSession& session,
           const HTTPRequest& request, std::chrono::steady_clock::time_point connection_started)
      : connection_started_(connection_started),
        context_(context),
        socket_(socket),
        session_(session),
        request_(request),
        keep_alive_(request.getKeepAlive()),
        has_length_(request.hasContentLength()),
        length_(has_length_ ? request.getContentLength64() : 0),
        chunked_(request.getChunkedTransferEncoding()),
        expects_continue_(Poco::icompare(request.get("Expect", ""), "100-continue") == 0) {}

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
      return false;
    }
    HttpResponse out = answer();
    // The unread rest of a refused body would be taken for the next request.
    if (out.status == 413) keep_alive_ = false;
    if (keep_alive_ && !skipUnreadBody()) keep_alive_ = false;
    // A client waits for a thread: this connection gives up its own.
    if (keep_alive_ && mayYield() && context_.connections.takeRoomRequest()) keep_alive_ = false;
    sendAll(socket_, formatResponse(version, out, keep_alive_, request_.getMethod() == "HEAD"));
    return keep_alive_;
  }

 private:
  // A client waits for a thread, and this connection has had its own long enough to give it up.
  bool mayYield() const {
    return context_.connections.roomWanted() &&
           std::chrono::steady_clock::now() - connection_started_ >= kServeAtLeast;
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
      throw HttpError(400, "request body is truncated or badly chunked");
    }
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
    sendAll(socket_, kContinue);
  }

  const std::chrono::steady_clock::time_point connection_started_;
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
    if (waiting == 0 || since > cutoff) break;
    if (connection->closeIfIdleSince(cutoff)) --waiting;
  }
  room_requests_.store(waiting);
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
    : Poco::Net::TCPServerConnection(socket), context_(std::move(context)) {
  context_->connections.add(this);
}

HttpConnection::~HttpConnection() { context_->connections.remove(this); }

void HttpConnection::run() {
  const auto started = std::chrono::steady_clock::now();
  // Sets the socket's receive timeout: the longest wait for the next bytes of a request.
  HTTPServerSession session(socket(), context_->params);
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
      if (beginServing()) {
        try {
          sendAll(socket(),
                  formatResponse(HTTPMessage::HTTP_1_1,
                                 errorResponse(400, "malformed request: " + error.message()),
                                 /*keep_alive=*/false, /*head_only=*/false));
        } catch (const Poco::Exception&) {
        }
      }
      break;
    } catch (const Poco::Exception&) {
      break;  // idle past the keep-alive timeout, reset, or shut down by stop()
    }
    if (!beginServing()) break;
    try {
      Exchange exchange(*context_, socket(), session, request, started);
      if (!exchange.run()) break;
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
  if (stopping_) return false;
  idle_ = true;
  idle_since_ = std::chrono::steady_clock::now();
  return true;
}

std::optional<std::chrono::steady_clock::time_point> HttpConnection::idleSince() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (!idle_ || stopping_) return std::nullopt;
  return idle_since_;
}

bool HttpConnection::closeIfIdleSince(std::chrono::steady_clock::time_point cutoff) {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (!idle_ || stopping_ || idle_since_ > cutoff) return false;
  try {
    if (socket().available() > 0) return false;  // a request is arriving
    stopping_ = true;
    socket().shutdown();
  } catch (const Poco::Exception&) {
    return false;
  }
  return true;
}

bool HttpConnection::beginServing() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  idle_ = false;
  return !stopping_;
}

void HttpConnection::stop(bool abort) {
  std::lock_guard<std::mutex> lock(state_mutex_);
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
