// The baselines busbar's cached read is measured against: Poco's HTTPServer (a thread per
// connection) and Poco's SocketReactor (one per core), both answering a file's bytes.
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/NObserver.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ParallelSocketAcceptor.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketNotification.h>
#include <Poco/Net/SocketReactor.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/ThreadPool.h>

#include "bench_commands.h"
#include "bench_common.h"

namespace busbar::bench {
namespace {

std::string readFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("cannot read " + file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class FixedHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit FixedHandler(const std::string& body) : body_(body) {}
  void handleRequest(Poco::Net::HTTPServerRequest&,
                     Poco::Net::HTTPServerResponse& response) override {
    response.setContentType("application/json; charset=utf-8");
    response.sendBuffer(body_.data(), body_.size());
  }

 private:
  const std::string& body_;
};

class FixedFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit FixedFactory(std::string body) : body_(std::move(body)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new FixedHandler(body_);
  }

 private:
  std::string body_;
};

class ReactorConnection {
 public:
  using Readable = Poco::NObserver<ReactorConnection, Poco::Net::ReadableNotification>;

  ReactorConnection(Poco::Net::StreamSocket& socket, Poco::Net::SocketReactor& reactor)
      : socket_(socket), reactor_(reactor) {
    reactor_.addEventHandler(socket_, Readable(*this, &ReactorConnection::onReadable));
  }
  ~ReactorConnection() {
    reactor_.removeEventHandler(socket_, Readable(*this, &ReactorConnection::onReadable));
  }

  void onReadable(const Poco::AutoPtr<Poco::Net::ReadableNotification>&) {
    char chunk[8192];
    int n = 0;
    try {
      n = socket_.receiveBytes(chunk, sizeof chunk);
    } catch (const Poco::Exception&) {
      n = 0;
    }
    if (n <= 0) {
      delete this;
      return;
    }
    pending_.append(chunk, static_cast<size_t>(n));
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) != std::string::npos) {
      pending_.erase(0, end + 4);
      socket_.sendBytes(response->data(), static_cast<int>(response->size()));
    }
  }

  static const std::string* response;

 private:
  Poco::Net::StreamSocket socket_;
  Poco::Net::SocketReactor& reactor_;
  std::string pending_;
};
const std::string* ReactorConnection::response = nullptr;

}  // namespace

int serve(int port, const std::string& file) {
  std::string body = readFile(file);
  Poco::Net::ServerSocket socket;
  socket.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), true);
  socket.listen(1024);
  // The thread-per-connection settings busbar used before its event loops (64 threads).
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(64);
  params->setMaxQueued(256);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);
  params->setKeepAliveTimeout(Poco::Timespan(15, 0));
  params->setServerName("busbar");
  Poco::ThreadPool threads(2, 66);
  Poco::Net::HTTPServer server(new FixedFactory(body), threads, socket, params);
  server.start();
  // Runs until bench/run sends SIGTERM; pause() returns on the signal.
  pause();
  return 0;
}

int serveReactor(int port, const std::string& file) {
  const std::string body = readFile(file);
  const std::string response =
      "HTTP/1.1 200 OK\r\nServer: busbar\r\nContent-Type: application/json; charset=utf-8\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ReactorConnection::response = &response;
  Poco::Net::ServerSocket socket;
  socket.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), true);
  socket.listen(4096);
  Poco::Net::SocketReactor acceptor_reactor;
  Poco::Net::ParallelSocketAcceptor<ReactorConnection, Poco::Net::SocketReactor> acceptor(
      socket, acceptor_reactor, std::max(1u, std::thread::hardware_concurrency()));
  // Runs until bench/run sends SIGTERM.
  acceptor_reactor.run();
  return 0;
}

}  // namespace busbar::bench
