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
// Thread-safety: run() on one pool thread; HttpConnectionSet is thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include "host_config.h"
#include "http_router.h"

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

 private:
  mutable std::mutex mutex_;
  std::set<HttpConnection*> connections_;
  bool stopped_ = false;
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

  // Closes the connection if it waits for a request, else after the request it serves;
  // with `abort`, now.
  void stop(bool abort);

 private:
  class Exchange;

  // False when stopped; otherwise marks the connection idle (stop() may close it).
  bool beginWaiting();
  // False when stopped while the request arrived; otherwise marks the connection busy.
  bool beginServing();

  std::shared_ptr<HttpServerContext> context_;
  std::mutex state_mutex_;
  bool idle_ = false;
  bool stopping_ = false;
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
