// HttpServer: the HTTP/1.1 server in front of the HttpRouter.
//
// Poco's TCPServer accepts and hands each connection to a pool thread, where an HttpConnection
// serves its requests (see http_connection.h for the protocol and the errors); an HttpRoomMaker
// finds a thread for clients that arrive while all are taken.
// start() and stop() from one thread; requests are served on the server's thread pool.
#pragma once

#include <memory>

#include <Poco/Logger.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include "host_config.h"
#include "http/http_connection.h"
#include "http/http_room_maker.h"
#include "http/http_router.h"

namespace busbar::host {

class HttpServer {
 public:
  HttpServer(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger);
  ~HttpServer();

  // Binds and starts serving. On failure (address in use...) throws with the reason.
  void start(const std::string& host, uint16_t port);

  // The port bound by start() (the kernel's choice when start() was given 0).
  uint16_t port() const;

  // Stops accepting, lets requests in flight finish (up to the grace period), closes the rest.
  void stop();

 private:
  const HttpRouter& router_;
  const HttpSettings settings_;
  Poco::Logger& logger_;
  std::shared_ptr<HttpServerContext> context_;
  std::unique_ptr<Poco::ThreadPool> threads_;
  std::unique_ptr<Poco::Net::TCPServer> server_;
  Poco::AutoPtr<HttpRoomMaker> room_maker_;  // also held by server_ as its connection filter
};

}  // namespace busbar::host
