#include "http/http_connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace busbar::host {
namespace {

// Output capacity kept between requests: enough for a typical answer, small for an idle client.
constexpr size_t kKeptOutputCapacity = 4096;
// What a lingering close drops at most before it closes anyway.
constexpr size_t kMaxDrained = 256 * 1024;
// Answers queued at most before the next pipelined request waits for them to be sent.
constexpr size_t kMaxQueuedOutput = 64 * 1024;

}  // namespace

HttpConnection::HttpConnection(EventLoop& loop, int fd, const HttpProblem* refuse)
    : loop_(loop),
      context_(loop.context()),
      stream_(fd, context_.tls != nullptr ? context_.tls->get() : nullptr),
      parser_(context_.limits) {
  beginRequest();
  if (refuse != nullptr) {
    slot_ = Slot::kRefusing;
    this->refuse(refuse->status, refuse->message);
    enter(stream_.encrypted() ? ConnectionState::kHandshaking : ConnectionState::kWriting);
    return;
  }
  slot_ = Slot::kServed;
  readable_ = false;  // epoll reports what is already there when the socket is added
  enter(stream_.encrypted() ? ConnectionState::kHandshaking : ConnectionState::kIdle);
}

HttpConnection::~HttpConnection() { leaveSlot(); }

void HttpConnection::leaveSlot() {
  if (slot_ == Slot::kServed) context_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  if (slot_ == Slot::kRefusing) {
    context_.refusing_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  slot_ = Slot::kNone;
}

void HttpConnection::onEvents(uint32_t events) {
  if (state_ == ConnectionState::kClosed) return;
  if ((events & EPOLLRDHUP) != 0) peer_closed_ = true;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) readable_ = true;
  // A TLS read may have waited for room to send (a key update's answer).
  if ((events & EPOLLOUT) != 0 && stream_.encrypted()) readable_ = true;
  if (waiting_turn_) return;  // served in its turn
  newTurn();
  advance();
}

void HttpConnection::resume() {
  waiting_turn_ = false;
  if (state_ == ConnectionState::kClosed) return;
  newTurn();
  advance();
}

bool HttpConnection::yieldTurn() {
  if (turn_bytes_ < kBytesPerTurn && turn_requests_ < kRequestsPerTurn) return false;
  if (!waiting_turn_) {
    waiting_turn_ = true;
    loop_.defer(this);
  }
  return true;
}

void HttpConnection::advance() {
  for (;;) {
    if (state_ == ConnectionState::kClosed) return;
    if (state_ == ConnectionState::kHandling) {
      // Answers to the requests pipelined before this one go while its worker runs.
      if (sent_ < output_.size()) flush();
      return;
    }
    if (state_ == ConnectionState::kHandshaking) {
      if (!handshake()) return;
      continue;
    }
    if (sent_ < output_.size()) {
      if (!flush()) return;
      if (close_after_answer_) {
        linger();
        continue;
      }
      if (state_ == ConnectionState::kWriting) enter(after_writing_);
    }
    const bool more = !input_.empty() || readable_;
    if (more && yieldTurn()) return;
    if (state_ == ConnectionState::kLingering) {
      if (!readable_ || !readOnce()) return;
      continue;
    }
    if (!input_.empty()) {
      if (!parseInput()) return;
      continue;
    }
    if (readable_ && readOnce()) continue;
    // The server stops and nothing more came: an idle connection ends with it.
    if (stopping_ && close_when_idle_ && state_ == ConnectionState::kIdle) close();
    return;
  }
}

bool HttpConnection::parseInput() {
  const ConnectionState state = state_;
  const size_t used = parse(input_.data() + input_used_, input_.size() - input_used_);
  if (state_ == ConnectionState::kClosed) return false;
  input_used_ += used;
  if (input_used_ == input_.size()) {
    std::string().swap(input_);  // an idle connection holds no buffer
    input_used_ = 0;
  }
  return used > 0 || state_ != state || sent_ < output_.size();
}

bool HttpConnection::isReading() const {
  return state_ == ConnectionState::kIdle || state_ == ConnectionState::kReadingHead ||
         state_ == ConnectionState::kReadingBody;
}

bool HttpConnection::mayQueueAnotherAnswer() const {
  return output_.empty() ||
         (turn_requests_ < kRequestsPerTurn && output_.size() - sent_ < kMaxQueuedOutput);
}

size_t HttpConnection::parse(const char* data, size_t size) {
  size_t offset = 0;
  while (isReading() && !close_after_answer_) {
    if (offset == size && !parser_.paused()) break;
    if (state_ == ConnectionState::kIdle) {
      // Nothing of a next request yet, or it waits for the queued answers to go.
      if (offset == size || !mayQueueAnotherAnswer()) break;
      beginRequest();
      enter(ConnectionState::kReadingHead);
    }
    size_t used = 0;
    const auto event = parser_.parse(data + offset, size - offset, &used);
    offset += used;
    switch (event) {
      case RequestParser::Event::kNeedMore:
        return offset;
      case RequestParser::Event::kHead:
        onHead();
        break;
      case RequestParser::Event::kComplete:
        onRequest();
        // Answered on the loop: the answer waits in output_ while the next request is read.
        if (isReading() && !close_after_answer_) enter(ConnectionState::kIdle);
        break;
      case RequestParser::Event::kError:
        if (parser_.problem().status == 413 && exchange_.answered()) {
          respond(exchange_.response(), /*close=*/true);  // refused already; its body was too long
        } else {
          refuse(parser_.problem().status, parser_.problem().message);
        }
        return size;
    }
  }
  return offset;
}

bool HttpConnection::handshake() {
  switch (stream_.handshake()) {
    case SocketStream::Status::kDone:
      // The request may have come with the handshake's last flight.
      readable_ = true;
      enter(sent_ < output_.size() ? ConnectionState::kWriting : ConnectionState::kIdle);
      return true;
    case SocketStream::Status::kWouldBlock:
      return false;
    case SocketStream::Status::kEndOfStream:
    case SocketStream::Status::kFailed:
      break;
  }
  // A scanner, a client that does not trust the certificate, plain HTTP sent to the port: each
  // is counted; the log would be theirs to fill.
  context_.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
  close();
  return false;
}

bool HttpConnection::readOnce() {
  char* buffer = loop_.scratch();
  const SocketStream::Result result = state_ == ConnectionState::kLingering
                                          ? stream_.discard(buffer, EventLoop::kScratchSize)
                                          : stream_.read(buffer, EventLoop::kScratchSize);
  if (result.status == SocketStream::Status::kDone) {
    const size_t received = result.bytes;
    turn_bytes_ += received;
    // The socket is empty: edge-triggered epoll reports the next bytes. After the peer's end of
    // stream it reports nothing more, so then reads go on until they return the end.
    if (result.drained && !peer_closed_) readable_ = false;
    if (state_ == ConnectionState::kLingering) {
      drained_ += received;
      if (drained_ > kMaxDrained) close();
      return state_ != ConnectionState::kClosed;
    }
    const size_t used = parse(buffer, received);
    // What a request left (a pipelined one, while this one is answered) waits in the connection;
    // after a last answer it is dropped.
    if (used < received && state_ != ConnectionState::kClosed && !close_after_answer_) {
      input_.append(buffer + used, received - used);
    }
    return state_ != ConnectionState::kClosed;
  }
  switch (result.status) {
    case SocketStream::Status::kEndOfStream:
      readable_ = false;
      onEndOfInput();
      return state_ != ConnectionState::kClosed;
    case SocketStream::Status::kWouldBlock:
      readable_ = false;
      return false;
    default:
      close();  // reset by the peer, or a TLS error
      return false;
  }
}

void HttpConnection::onEndOfInput() {
  peer_closed_ = true;
  if (state_ == ConnectionState::kLingering || state_ == ConnectionState::kIdle) {
    close();
    return;
  }
  // A client may send its request, then shut its sending side and wait for the answer: a body
  // it cut short is answered 400; a head cut short has nothing that could be answered.
  if (parser_.finish() == RequestParser::Event::kError) {
    refuse(parser_.problem().status, parser_.problem().message);
    return;
  }
  close();
}

void HttpConnection::beginRequest() {
  started_ = loop_.now();
  route_ = context_.metrics != nullptr ? context_.metrics->unmatched() : 0;
  method_ = HttpMetrics::kOtherMethod;
  head_seen_ = false;
  request_id_.clear();
}

void HttpConnection::onHead() {
  const RequestHead& head = parser_.head();
  exchange_.begin(context_.router, head, context_.access);
  route_ = exchange_.route(route_);
  method_ = HttpMetrics::methodOf(head.method_code);
  head_seen_ = true;
  if (head.request_id.empty()) {
    loop_.nextRequestId(request_id_);
  } else {
    request_id_ = head.request_id;
  }
  if (exchange_.answered()) parser_.dropBody();
  if (!head.hasBody()) return;
  const uint64_t length = head.content_length.value_or(0);
  const bool too_long = length > context_.settings.max_body;
  if (too_long && !exchange_.answered()) {
    refuse(413, "request body of " + std::to_string(length) + " bytes is over the limit of " +
                    std::to_string(context_.settings.max_body) + " bytes ([http] max_body)");
    return;
  }
  // Refused already: a client told to wait for 100 Continue may never send the body, and a
  // body over the limit is not worth reading; answer now and close.
  if (exchange_.answered() && (too_long || head.expects_continue)) {
    respond(exchange_.response(), /*close=*/true);
    return;
  }
  if (head.expects_continue) sendContinue();
  if (state_ == ConnectionState::kReadingHead) enter(ConnectionState::kReadingBody);
}

void HttpConnection::sendContinue() {
  static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  // Behind answers still queued, it goes after them.
  if (sent_ < output_.size()) {
    output_.append(kContinue, sizeof kContinue - 1);
    return;
  }
  // Nothing is queued, so the socket has room for these few bytes unless the client stopped
  // reading.
  const SocketStream::Result sent = stream_.write(kContinue, sizeof kContinue - 1);
  if (sent.status != SocketStream::Status::kDone || sent.bytes != sizeof kContinue - 1) close();
}

void HttpConnection::onRequest() {
  ++turn_requests_;
  if (exchange_.answered()) {
    respond(exchange_.response(), /*close=*/false);
    return;
  }
  if (exchange_.neverBlocks()) {
    exchange_.run(parser_.takeBody(), context_.logger, request_id_.view());
    respond(exchange_.response(), /*close=*/false);
    return;
  }
  body_ = parser_.takeBody();
  ticket_ = context_.workers.submit([this](bool dropped) {
    if (!dropped) exchange_.run(std::move(body_), context_.logger, request_id_.view());
    loop_.post([this, dropped] { onHandlerDone(dropped); });
  });
  if (!ticket_) {
    context_.shed_queue_full.fetch_add(1, std::memory_order_relaxed);
    std::string().swap(body_);
    HttpResponse busy = errorResponse(
        503, "the server is busy: " + std::to_string(context_.settings.max_queued) +
                 " requests already wait for a worker ([http] max_queued); this one was not "
                 "run, retry it");
    busy.headers["Retry-After"] = "1";
    respond(busy, /*close=*/false);
    return;
  }
  enter(ConnectionState::kHandling);
  handler_running_ = true;
}

void HttpConnection::onRequestTimeout() {
  const bool taken_back = context_.workers.takeBack(ticket_);
  enter(ConnectionState::kIdle);
  const std::string limit = std::to_string(context_.settings.request_timeout_seconds) +
                            " s ([http] request_timeout_seconds)";
  if (taken_back) {  // its job is never called
    handler_running_ = false;
    ticket_.reset();
    context_.shed_waited_too_long.fetch_add(1, std::memory_order_relaxed);
    std::string().swap(body_);
    HttpResponse busy =
        errorResponse(503, "the server is busy: the request waited " + limit +
                               " for a worker and was not run; nothing of it was done, retry it");
    busy.headers["Retry-After"] = "1";
    respond(busy, /*close=*/true);
    return;
  }
  timed_out_ = true;  // the worker's job still holds this object (handler_running_)
  context_.timed_out.fetch_add(1, std::memory_order_relaxed);
  respond(errorResponse(504, "the request did not finish within " + limit +
                                 "; it goes on in the background and may still take effect: "
                                 "read the result before retrying a write"),
          /*close=*/true);
}

void HttpConnection::onHandlerDone(bool dropped) {
  handler_running_ = false;
  ticket_.reset();
  if (state_ == ConnectionState::kClosed) {
    loop_.retire(this);
    return;
  }
  if (std::exchange(timed_out_, false)) return;  // answered already; the connection is closing
  if (!waiting_turn_) newTurn();
  enter(ConnectionState::kIdle);
  if (dropped) {
    respond(errorResponse(503, "the server stopped before it could answer; retry"), true);
  } else {
    respond(exchange_.response(), /*close=*/false);
  }
  advance();
}

void HttpConnection::respond(const HttpResponse& response, bool close) {
  const RequestHead& head = parser_.head();
  const bool keep_alive = !close && head.keep_alive && !stopping_ && !context_.stopping.load();
  if (request_id_.empty()) loop_.nextRequestId(request_id_);
  appendResponse(output_, head.minor_version, response, keep_alive, head.method == "HEAD",
                 &request_id_);
  context_.answers.fetch_add(1, std::memory_order_relaxed);
  if (!keep_alive) close_after_answer_ = true;
  account(response.status, response.body.size());
}

void HttpConnection::refuse(int status, const std::string& message) {
  // Before the head is whole it may be cut or another request's: answer as HTTP/1.1, with
  // content unless the refused request is a HEAD.
  if (request_id_.empty()) loop_.nextRequestId(request_id_);
  const HttpResponse response = errorResponse(status, message);
  const bool head_only = head_seen_ && parser_.head().method == "HEAD";
  appendResponse(output_, 1, response, /*keep_alive=*/false, head_only, &request_id_);
  context_.answers.fetch_add(1, std::memory_order_relaxed);
  close_after_answer_ = true;
  account(status, response.body.size());
}

void HttpConnection::account(int status, size_t body_bytes) {
  HttpMetrics::LoopCells* cells = loop_.metrics();
  const bool access = context_.access_log != nullptr && context_.access_log->enabled();
  if (cells == nullptr && !access) return;
  const auto elapsed = std::chrono::steady_clock::now() - started_;
  if (cells != nullptr) cells->record(route_, method_, status, elapsed);
  if (access) {
    AccessLog::Entry entry;
    entry.listener = context_.listener;
    entry.fd = stream_.fd();
    if (head_seen_) {
      entry.method = parser_.head().method;
      entry.target = parser_.head().target;
      entry.principal = exchange_.caller().principal;
    }
    entry.status = status;
    entry.bytes = body_bytes;
    entry.duration = elapsed;
    entry.request_id = request_id_.view();
    context_.access_log->record(entry);
  }
}

bool HttpConnection::flush() {
  while (sent_ < output_.size()) {
    const SocketStream::Result result =
        stream_.write(output_.data() + sent_, output_.size() - sent_);
    if (result.status == SocketStream::Status::kDone) {
      sent_ += result.bytes;
    } else if (result.status == SocketStream::Status::kWouldBlock) {
      // A worker's request keeps its state and deadline while the answers before it wait.
      // Otherwise the connection waits for the socket under the write deadline, then resumes
      // the next pipelined request it had begun to read, if any (its deadline armed anew).
      if (state_ != ConnectionState::kHandling && state_ != ConnectionState::kWriting) {
        const bool reading_next =
            !close_after_answer_ &&
            (state_ == ConnectionState::kReadingHead || state_ == ConnectionState::kReadingBody);
        after_writing_ = reading_next ? state_ : ConnectionState::kIdle;
        enter(ConnectionState::kWriting);
      }
      return false;
    } else {
      close();  // the client went away
      return false;
    }
  }
  sent_ = 0;
  if (output_.capacity() > kKeptOutputCapacity) {
    std::string().swap(output_);
  } else {
    output_.clear();
  }
  return true;
}

void HttpConnection::onDeadline() {
  const auto& settings = context_.settings;
  switch (state_) {
    case ConnectionState::kReadingHead:
      refuse(408, "request head not received within " +
                      std::to_string(settings.header_timeout_seconds) +
                      " s ([http] header_timeout_seconds)");
      break;
    case ConnectionState::kReadingBody:
      refuse(408, "request body not received within " +
                      std::to_string(settings.body_timeout_seconds) +
                      " s ([http] body_timeout_seconds)");
      break;
    case ConnectionState::kHandling:
      onRequestTimeout();
      break;
    case ConnectionState::kHandshaking:
      context_.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
      close();
      return;
    case ConnectionState::kIdle:
    case ConnectionState::kWriting:
    case ConnectionState::kLingering:
      close();
      return;
    case ConnectionState::kClosed:
      return;
  }
  advance();
}

void HttpConnection::beginStop(bool close_idle) {
  stopping_ = true;
  close_when_idle_ = close_idle;
  // A handshake carries no request yet: it goes as an idle connection goes.
  if (state_ == ConnectionState::kHandshaking) {
    if (close_idle) close();
    return;
  }
  if (state_ != ConnectionState::kIdle) return;  // closes after the answer in progress
  // A request may have arrived since the last wake-up: it is read and answered, not dropped.
  readable_ = true;
  advance();
}

void HttpConnection::abort() { close(); }

void HttpConnection::linger() {
  close_after_answer_ = false;
  std::string().swap(input_);
  input_used_ = 0;
  // Shut for sending: the answer is complete, and the client sees the end of it; the bytes it
  // still sends are read and dropped until it closes, kMaxDrained, or kLingerTimeout.
  stream_.shutdownWrite();
  drained_ = 0;
  enter(ConnectionState::kLingering);
}

void HttpConnection::enter(ConnectionState state) {
  state_ = state;
  switch (state) {
    case ConnectionState::kHandshaking:
      loop_.arm(*this, EventLoop::Deadline::kHead);
      break;
    case ConnectionState::kIdle:
      loop_.arm(*this, EventLoop::Deadline::kIdle);
      break;
    case ConnectionState::kReadingHead:
      loop_.arm(*this, EventLoop::Deadline::kHead);
      break;
    case ConnectionState::kReadingBody:
      loop_.arm(*this, EventLoop::Deadline::kBody);
      break;
    case ConnectionState::kHandling:
      loop_.arm(*this, EventLoop::Deadline::kHandling);
      break;
    case ConnectionState::kWriting:
      loop_.arm(*this, EventLoop::Deadline::kWrite);
      break;
    case ConnectionState::kLingering:
      loop_.arm(*this, EventLoop::Deadline::kLinger);
      break;
    case ConnectionState::kClosed:
      disarm();
      break;
  }
}

void HttpConnection::close() {
  if (state_ == ConnectionState::kClosed) return;
  if (stream_.fd() >= 0) loop_.unwatch(stream_.fd());
  stream_.close();
  leaveSlot();
  enter(ConnectionState::kClosed);
  std::string().swap(input_);
  input_used_ = 0;
  std::string().swap(output_);
  sent_ = 0;
  if (!handler_running_) loop_.retire(this);
}

}  // namespace busbar::host
