#include "http/http_room_maker.h"

namespace busbar::host {

HttpRoomMaker::HttpRoomMaker(std::shared_ptr<HttpServerContext> context,
                             const Poco::Net::TCPServer& server, int threads)
    : context_(std::move(context)), server_(server), threads_(threads) {}

HttpRoomMaker::~HttpRoomMaker() { stop(); }

// Clients queued for a thread, counting the one being accepted: the dispatcher's own counts, so
// clients that arrive faster than threads start are counted too.
int HttpRoomMaker::waiting() const {
  return server_.currentConnections() + server_.queuedConnections() + 1 - threads_ -
         context_->connections.leaving.load();
}

bool HttpRoomMaker::accept(const Poco::Net::StreamSocket&) {
  const int clients = waiting();
  if (clients > 0) {
    context_->connections.makeRoom(clients);
    std::lock_guard<std::mutex> lock(mutex_);
    clients_waiting_ = true;
    wake_.notify_one();
  }
  return true;
}

void HttpRoomMaker::start() {
  retrier_ = std::thread([this] { run(); });
}

void HttpRoomMaker::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (retrier_.joinable()) retrier_.join();
}

void HttpRoomMaker::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || clients_waiting_; });
    if (stopping_) return;
    wake_.wait_for(lock, kRetry, [this] { return stopping_; });
    if (stopping_) return;
    const int queued = server_.queuedConnections();
    // 0 clears what is no longer needed.
    context_->connections.makeRoom(queued - context_->connections.leaving.load());
    clients_waiting_ = queued > 0;
  }
}

}  // namespace busbar::host
