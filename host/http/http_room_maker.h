// HttpRoomMaker: gets a thread for clients that arrive while every HTTP thread holds a connection.
//
// Installed as the TCPServer's connection filter, it sees each client as it is accepted; when
// the served and queued connections fill the threads it asks the connection set for room at once,
// then every kRetry for as long as clients stay queued (connections that only just went idle
// become eligible a moment later). Nothing runs while no client waits.
//
// Thread-safety: accept() on the server's accepting thread; start() and stop() from the owner.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include <Poco/Net/TCPServer.h>

#include "http/http_connection.h"

namespace busbar::host {

class HttpRoomMaker : public Poco::Net::TCPServerConnectionFilter {
 public:
  static constexpr std::chrono::milliseconds kRetry{10};

  // `server` must outlive stop(); `threads` is its maximum of connection threads.
  HttpRoomMaker(std::shared_ptr<HttpServerContext> context, const Poco::Net::TCPServer& server,
                int threads);
  ~HttpRoomMaker() override;

  // Always true: a client is never refused here, only given room.
  bool accept(const Poco::Net::StreamSocket& socket) override;

  void start();
  void stop();

 private:
  int waiting() const;
  void run();

  std::shared_ptr<HttpServerContext> context_;
  const Poco::Net::TCPServer& server_;
  const int threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool clients_waiting_ = false;
  bool stopping_ = false;
  std::thread retrier_;
};

}  // namespace busbar::host
