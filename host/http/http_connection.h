// HttpConnection: serves the requests of one keep-alive connection, one after the other.
//
// Poco's HTTPServerConnection waits for each next request with Socket::poll, which on Linux
// creates, arms and closes an epoll instance per call, and asks the kernel for both socket
// addresses of every request: 6 of the 8 system calls of a cached read. Here the wait is the
// blocking read itself (SO_RCVTIMEO bounds it by the keep-alive timeout) and the response leaves
// in one send, so a request costs a read and a write. Parsing stays Poco's (HTTPRequest, the
// fixed-length and chunked body streams).
//
// Every error is answered as {"error": "..."}: 400 malformed request, 404 unknown route, 405 with
// Allow, 413 body too large, 415 body not JSON, 505 not HTTP/1.x, 503 storage unavailable, 500
// otherwise (logged). A body the route did not read is skipped so the next request starts clean.
//
// Each connection holds a pool thread while it is open. Clients queued for a thread get room
// (see HttpRoomMaker): the connection idle the longest is closed, as nginx reuses idle keep-alive
// connections, or the next one to finish a request after holding its thread for kServeAtLeast
// closes after it ("Connection: close"), so a new client does not wait for keep_alive_seconds.
//
// Thread-safety: run() on one pool thread; HttpConnectionSet is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include "host_config.h"
#include "http/http_router.h"

namespace busbar::host {

class HttpConnection;

// The live connections of one server, so that stopping it can close them.
class HttpConnectionSet {
 public:
  void add(HttpConnection* connection);
  void remove(HttpConnection* connection);

  // Idle connections close now, busy ones after the request they serve; with `abort`, all now.
  // Connections added later close at once.
  void stopAll(bool abort);

  size_t size() const;

  // For `waiting` clients queued for a thread: closes up to that many connections, the longest
  // idle first (idle for at least kIdleEnough, nothing unread), and asks as many connections as
  // are still missing to close after the request they serve. Replaces earlier requests.
  void makeRoom(int waiting);

  // True while makeRoom() still misses room; a cheap read for every request.
  bool roomWanted() const;

  // True (once per missing room) when this connection should close after its response.
  bool takeRoomRequest();

  // How long a connection must have waited for its next request to count as idle: long enough
  // that it is blocked in its read, not parsing a request it already holds.
  static constexpr std::chrono::milliseconds kIdleEnough{10};

  // Connections told to close (for room) that have not ended yet: room already on its way.
  std::atomic<int> leaving{0};

 private:
  mutable std::mutex mutex_;
  std::set<HttpConnection*> connections_;
  bool stopped_ = false;
  std::atomic<int> room_requests_{0};
};

// What every connection of one server shares.
struct HttpServerContext {
  HttpServerContext(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger);

  const HttpRouter& router;
  const HttpSettings settings;
  Poco::Logger& logger;
  Poco::Net::HTTPServerParams::Ptr params;  // the session's read timeout
  HttpConnectionSet connections;
};

class HttpConnection : public Poco::Net::TCPServerConnection {
 public:
  HttpConnection(const Poco::Net::StreamSocket& socket, std::shared_ptr<HttpServerContext> context);
  ~HttpConnection() override;

  void run() override;

  // How long a connection keeps its thread before it may be asked to give it up for a waiting
  // client: under more clients than threads, each gets turns this long instead of reconnecting
  // after every request.
  static constexpr std::chrono::milliseconds kServeAtLeast{100};

  // Closes the connection if it waits for a request, else after the request it serves;
  // with `abort`, now.
  void stop(bool abort);

  // Since when the connection waits for its next request; nullopt while it serves one.
  std::optional<std::chrono::steady_clock::time_point> idleSince();

  // Gives the thread up if the connection has waited since `cutoff` or earlier with nothing to
  // read: the read side closes, so the wait ends; a request already received is still answered
  // (with Connection: close). Returns whether it did.
  bool yieldIfIdleSince(std::chrono::steady_clock::time_point cutoff);

 private:
  class Exchange;

  // False when stopped; otherwise marks the connection idle (stop() may close it).
  bool beginWaiting();
  // False when stopped while the request arrived; otherwise marks the connection busy.
  bool beginServing();
  // True once yieldIfIdleSince() took the read side.
  bool yielded();
  // Counts this connection in HttpConnectionSet::leaving, once.
  void countLeaving();

  std::shared_ptr<HttpServerContext> context_;
  const std::chrono::steady_clock::time_point started_;  // when it got its thread
  std::mutex state_mutex_;
  bool idle_ = false;      // waiting for the next request
  bool stopping_ = false;  // the server stops: close when idle
  bool yielded_ = false;   // gave its thread up for a waiting client
  bool closed_ = false;    // the socket is closed or closing: touch it no more
  bool counted_leaving_ = false;
  std::chrono::steady_clock::time_point idle_since_;
};

class HttpConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit HttpConnectionFactory(std::shared_ptr<HttpServerContext> context);

  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override;

 private:
  std::shared_ptr<HttpServerContext> context_;
};

// {"error": message} as JSON text.
std::string errorBody(const std::string& message);

}  // namespace busbar::host
