// HttpConnection: one client connection on an event loop, as a state machine.
//
//   kHandshaking (TLS) ---handshake ended---> kIdle (or kWriting: a refusal waits)
//   kIdle ---first byte---> kReadingHead ---head---> kReadingBody ---end---+
//     ^                          |  (no body) ------------------------------+
//     |                          v                                         v
//     +--- response sent --- kWriting <--- socket full --- answer <--- handler (loop or kHandling)
//   (kWriting goes back to kReadingHead or kReadingBody when a pipelined request was begun.)
//
// Requests are answered one at a time in the order they came, so pipelined requests keep their
// order. A handler that never blocks runs on the loop thread and its answer is queued while the
// next pipelined request is read, so a batch goes out in one write per turn; any other handler
// runs on a worker (kHandling), the connection reads nothing meanwhile, and the answers queued
// before it are sent. A full socket stops the reading (kWriting, under the write deadline) until
// the client takes its answers; a pipelined request begun meanwhile is then read on. Each state has
// a whole deadline, armed on entry: kHandshaking and kReadingHead header_timeout (a handshake past
// it is closed: no answer can reach its client), kIdle keep_alive, kReadingBody body_timeout (both
// answered 408, then closed), kHandling request_timeout, kWriting write_timeout, kLingering a
// second.
//
// Load shedding: a blocking request finds the worker queue full ([http] max_queued) and is
// answered 503 with Retry-After at once; one still queued at request_timeout is taken back
// unrun and answered 503; one running at request_timeout is answered 504 and the connection
// closes, while its handler finishes on the worker (the connection object waits for it). 503 says
// nothing of the request was done; 504 says it may still take effect. A request that was received
// is always answered; one the codec refuses gets its 4xx and the connection closes, draining what
// the client still sends (kLingering) so that the answer is not destroyed by a reset.
//
// An idle connection holds no buffer: bytes are read into the loop's scratch buffer and only what
// a request leaves unparsed is copied into the connection, where each pipelined request is parsed
// in place (a batch costs time linear in its bytes).
//
// Fairness: per wake-up (a turn) a connection reads at most kBytesPerTurn and answers at most
// kRequestsPerTurn requests; with more to do, it asks the loop for another turn after the
// connections ready now (EventLoop::defer), as nginx and Envoy bound the work per connection and
// I/O cycle. A client that pipelines without pause gets its share of the loop, not all of it.
//
// Thread-safety: everything on the loop's thread, but the exchange a worker runs while the
// connection is kHandling.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/deadline_list.h"
#include "http/event_loop.h"
#include "http/http_codec.h"
#include "http/http_exchange.h"
#include "http/socket_stream.h"
#include "http/worker_pool.h"

namespace busbar::host {

enum class ConnectionState {
  kHandshaking,  // TLS: the handshake runs; nothing of HTTP yet
  kIdle,         // waiting for the first byte of a request
  kReadingHead,  // a request's head is arriving
  kReadingBody,  // its body is arriving
  kHandling,     // the handler waits for or runs on a worker; nothing is read meanwhile
  kWriting,      // an answer waits for room in the socket
  kLingering,    // answered and shut for sending; drops what the client still sends, then closes
  kClosed,       // the socket is closed; the object waits for its worker's job, then is deleted
};

class HttpConnection : public DeadlineEntry {
 public:
  // Which count of the server's context the connection is in until it closes.
  enum class Slot {
    kNone,      // closed
    kServed,    // context.open_connections
    kRefusing,  // context.refusing_connections: answered 503 over the connection limit
  };

  // Serves `fd`, a connected non-blocking socket it owns, over TLS when the loop's server has a
  // TlsServerContext. With `refuse`, answers that problem and closes instead (a connection over
  // max_connections).
  HttpConnection(EventLoop& loop, int fd, const HttpProblem* refuse = nullptr);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  int fd() const { return stream_.fd(); }
  ConnectionState state() const { return state_; }

  // Bytes read and requests answered per turn.
  static constexpr size_t kBytesPerTurn = 64 * 1024;
  static constexpr int kRequestsPerTurn = 16;

  // Begins serving, once the socket is in the loop's epoll set.
  void start() { advance(); }

  // Its turn came again after it spent its budget (EventLoop::defer).
  void resume();

  // epoll reported `events` for the socket.
  void onEvents(uint32_t events);
  // The deadline of the current state passed.
  void onDeadline();
  // The server stops: close after the answer to the request in progress; when idle, close now
  // (`close_idle`) or after the next answer (its idle deadline still runs).
  void beginStop(bool close_idle);
  // Closes now, whatever the state.
  void abort();

 private:
  // Runs the state machine until it waits for the socket, a worker, a deadline or its next turn.
  void advance();
  // A new turn: the budget is whole again.
  void newTurn() {
    turn_bytes_ = 0;
    turn_requests_ = 0;
  }
  // True, and the loop asked for another turn, when this turn's budget is spent.
  bool yieldTurn();
  // Parses buffered input. False when it made no progress.
  bool parseInput();
  // Parses `data`; returns the bytes used.
  size_t parse(const char* data, size_t size);
  // Advances the TLS handshake; false when it waits for the socket (or the connection closed).
  bool handshake();
  // Reads once; false when there is nothing more to read now (or the connection closed).
  bool readOnce();
  void onEndOfInput();
  void onHead();
  void onRequest();
  void onHandlerDone(bool dropped);
  // request_timeout passed while kHandling: 503 (taken back unrun) or 504 (still running).
  void onRequestTimeout();
  // A new request's first bytes arrived: what is known of it so far is reset.
  void beginRequest();
  // Counts the answer being queued (metrics, access log).
  void account(int status, size_t body_bytes);
  // Queues the answer to the current request; `close` ends the connection after it.
  void respond(const HttpResponse& response, bool close);
  // Answers a refusal (status and message) and closes after it.
  void refuse(int status, const std::string& message);
  // Sends queued output. False when some is left (then kWriting, unless a worker's request is
  // in progress) or the connection closed.
  bool flush();
  void enter(ConnectionState state);
  bool isReading() const;
  // True when another pipelined request may be read before the queued answers are sent: this
  // turn's budget and kMaxQueuedOutput allow it.
  bool mayQueueAnotherAnswer() const;
  void sendContinue();
  void linger();
  void close();
  // Leaves the context's count it is in (slot_).
  void leaveSlot();

  EventLoop& loop_;
  HttpServerContext& context_;
  SocketStream stream_;
  ConnectionState state_ = ConnectionState::kIdle;
  // Where kWriting goes once the output is sent: kIdle, or the state of the next pipelined
  // request whose reading began before the socket filled.
  ConnectionState after_writing_ = ConnectionState::kIdle;
  RequestParser parser_;
  HttpExchange exchange_;
  std::string input_;      // bytes read; those from input_used_ on are not parsed yet
  size_t input_used_ = 0;  // empty input_ when every byte is used
  std::string output_;     // bytes to send
  std::string body_;       // the body of the request a worker answers
  size_t sent_ = 0;        // of output_
  size_t drained_ = 0;     // bytes dropped while lingering
  bool readable_ = true;
  bool peer_closed_ = false;  // EPOLLRDHUP: read until end of stream, never stop at a short read
  bool close_after_answer_ = false;
  bool stopping_ = false;
  bool close_when_idle_ = true;  // once stopping_: an idle connection closes at once
  Slot slot_ = Slot::kNone;
  bool handler_running_ = false;  // a worker's job holds this connection
  bool timed_out_ = false;        // answered at request_timeout; the job's answer is dropped
  std::shared_ptr<WorkerPool::Ticket> ticket_;  // the job of the request a worker answers
  bool waiting_turn_ = false;                   // in the loop's deferred list
  size_t turn_bytes_ = 0;
  int turn_requests_ = 0;
  // The request being answered, for its metrics and access log line.
  std::chrono::steady_clock::time_point started_;
  size_t route_ = 0;  // an Endpoint::index, or the metrics' unmatched index
  HttpMetrics::Method method_ = HttpMetrics::kOtherMethod;
  bool head_seen_ = false;
  RequestId request_id_;
};

}  // namespace busbar::host
