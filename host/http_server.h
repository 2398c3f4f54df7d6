// HttpServer: the Poco HTTP server in front of the HttpRouter.
//
// Answers every error as {"error": "..."}: 404 unknown route, 405 with Allow, 413 body too large,
// 415 body not JSON, 400 bad request, 503 storage unavailable, 500 otherwise (logged).
// start() and stop() from one thread; requests are served on the server's thread pool.
#pragma once

#include <memory>

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include "host_config.h"
#include "http_router.h"

namespace busbar::host {

class HttpServer {
 public:
  HttpServer(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger);
  ~HttpServer();

  // Binds and starts serving. On failure (address in use...) throws with the reason.
  void start(const std::string& host, uint16_t port);

  // Stops accepting, lets requests in flight finish (up to the grace period), closes the rest.
  void stop();

 private:
  const HttpRouter& router_;
  const HttpSettings settings_;
  Poco::Logger& logger_;
  std::unique_ptr<Poco::ThreadPool> threads_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

// {"error": message} as JSON text.
std::string errorBody(const std::string& message);

}  // namespace busbar::host
