#include "hostile_clients.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

namespace busbar::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<Poco::Net::StreamSocket> connect(int port) {
  auto socket = std::make_unique<Poco::Net::StreamSocket>(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  socket->setReceiveTimeout(Poco::Timespan(5, 0));
  socket->setSendTimeout(Poco::Timespan(5, 0));
  return socket;
}

// Requests answered in `seconds` on one connection pipelining `batch` at a time.
uint64_t pipeline(int port, Clock::time_point until) {
  std::string batch;
  for (int i = 0; i < 2000; ++i) batch += "GET /users/u0000001 HTTP/1.1\r\nHost: x\r\n\r\n";
  uint64_t answered = 0;
  char buffer[65536];
  while (Clock::now() < until) {
    try {
      auto socket = connect(port);
      while (Clock::now() < until) {
        socket->sendBytes(batch.data(), static_cast<int>(batch.size()));
        // Each answer begins with its status line; count them until the batch is answered.
        int seen = 0;
        std::string tail;
        while (seen < 2000) {
          const int n = socket->receiveBytes(buffer, sizeof buffer);
          if (n <= 0) throw Poco::Exception("closed");
          std::string text = tail + std::string(buffer, static_cast<size_t>(n));
          for (size_t at = text.find("HTTP/1.1 "); at != std::string::npos;
               at = text.find("HTTP/1.1 ", at + 1)) {
            ++seen;
          }
          tail = text.substr(text.size() > 8 ? text.size() - 8 : 0);
        }
        answered += 2000;
      }
    } catch (const Poco::Exception&) {
    }
  }
  return answered;
}

// Bytes of endless trailers sent, and how many times the server cut one off.
void trailer(int port, Clock::time_point until, std::atomic<uint64_t>& sent,
             std::atomic<uint64_t>& refused) {
  const std::string head =
      "PUT /users/u0000001 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n";
  const std::string piece(16384, 't');
  while (Clock::now() < until) {
    try {
      auto socket = connect(port);
      socket->sendBytes(head.data(), static_cast<int>(head.size()));
      while (Clock::now() < until) {
        sent +=
            static_cast<uint64_t>(socket->sendBytes(piece.data(), static_cast<int>(piece.size())));
      }
    } catch (const Poco::Exception&) {
      ++refused;
    }
  }
}

}  // namespace

int attack(const std::string& kind, int port, int connections, double seconds) {
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(seconds));
  if (kind == "pipeline") {
    std::atomic<uint64_t> answered{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < connections; ++i) {
      threads.emplace_back([&] { answered += pipeline(port, until); });
    }
    for (auto& thread : threads) thread.join();
    std::printf("pipelined %llu\n", static_cast<unsigned long long>(answered.load()));
    return 0;
  }
  if (kind == "trailer") {
    std::atomic<uint64_t> sent{0}, refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < connections; ++i) {
      threads.emplace_back([&] { trailer(port, until, sent, refused); });
    }
    for (auto& thread : threads) thread.join();
    std::printf("trailer_bytes %llu refused %llu\n", static_cast<unsigned long long>(sent.load()),
                static_cast<unsigned long long>(refused.load()));
    return 0;
  }
  if (kind == "spin") {
    // The control: threads that only take CPU, as the pipelining and trailer clients do beside
    // their traffic, so that what the server's loops lose to sharing the cores is seen alone.
    std::atomic<uint64_t> turns{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < connections; ++i) {
      threads.emplace_back([&] {
        uint64_t mine = 0;
        while (Clock::now() < until) ++mine;
        turns += mine;
      });
    }
    for (auto& thread : threads) thread.join();
    std::printf("spun %llu\n", static_cast<unsigned long long>(turns.load()));
    return 0;
  }
  if (kind == "slowloris") {
    const std::string head = "GET /users/u0000001 HTTP/1.1\r\nX-Slow: " + std::string(15950, 's');
    std::vector<std::unique_ptr<Poco::Net::StreamSocket>> sockets;
    for (int i = 0; i < connections; ++i) {
      try {
        auto socket = connect(port);
        socket->sendBytes(head.data(), static_cast<int>(head.size()));
        sockets.push_back(std::move(socket));
      } catch (const Poco::Exception&) {
      }
    }
    std::printf("holding %zu\n", sockets.size());
    std::fflush(stdout);
    while (Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      for (auto& socket : sockets) {
        try {
          socket->sendBytes("s", 1);
        } catch (const Poco::Exception&) {
        }
      }
    }
    return 0;
  }
  return 2;
}

}  // namespace busbar::bench
