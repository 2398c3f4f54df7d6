#include "http/http_server.h"

#include <chrono>
#include <thread>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerParams.h>

namespace busbar::host {

HttpServer::HttpServer(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger)
    : router_(router), settings_(settings), logger_(logger) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start(const std::string& host, uint16_t port) {
  Poco::Net::ServerSocket socket;
  try {
    socket.bind(Poco::Net::SocketAddress(host, port), /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(1024);
  } catch (const Poco::Exception& error) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             error.displayText());
  }
  context_ = std::make_shared<HttpServerContext>(router_, settings_, logger_);
  auto* params = new Poco::Net::TCPServerParams;
  params->setMaxThreads(settings_.threads);
  params->setMaxQueued(settings_.max_queued);
  threads_ = std::make_unique<Poco::ThreadPool>(2, settings_.threads + 2);
  server_ = std::make_unique<Poco::Net::TCPServer>(new HttpConnectionFactory(context_), *threads_,
                                                   socket, params);
  room_maker_ = new HttpRoomMaker(context_, *server_, settings_.threads);
  server_->setConnectionFilter(room_maker_);
  room_maker_->start();
  server_->start();
}

uint16_t HttpServer::port() const { return server_ ? server_->port() : 0; }

void HttpServer::stop() {
  if (!server_) return;
  server_->stop();  // accepts no more
  room_maker_->stop();
  context_->connections.stopAll(/*abort=*/false);
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(settings_.shutdown_grace_seconds);
  while (context_->connections.size() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (context_->connections.size() > 0) {
    logger_.warning(std::to_string(context_->connections.size()) +
                    " connections still open after the grace period; closing them");
    context_->connections.stopAll(/*abort=*/true);
  }
  threads_->joinAll();
  server_.reset();
  room_maker_.reset();
  threads_.reset();
  context_.reset();
}

}  // namespace busbar::host
