#include "free_port.h"

#include <fstream>
#include <mutex>
#include <random>
#include <set>

#include <Poco/Net/ServerSocket.h>

namespace busbar::testing {

namespace {

// The lowest port the kernel hands out to outgoing connections (ip_local_port_range).
int ephemeralPortsStart() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  return range >> low ? low : 0;
}

// True when 127.0.0.1:`port` can be bound now. Without SO_REUSEADDR, so that a port still in
// TIME_WAIT counts as taken, as it does for a server that binds it.
bool portBindable(int port) {
  try {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)),
                /*reuseAddress=*/false);
    return true;
  } catch (const Poco::Exception&) {
    return false;
  }
}

}  // namespace

int freePort() {
  // A port the kernel picks is an ephemeral one, which any outgoing connection of the suite (to
  // the broker, a database, a server) may take as its local port before the test binds it: the
  // server then fails with "Address already in use". Ports below the ephemeral range are handed
  // out by nobody but a bind that names them.
  constexpr int kLowest = 16000;
  // A port handed out is not bound until its user starts, so a second pick could return it again
  // (a server's public and admin ports, picked one after the other): each is handed out once.
  static std::mutex handed_out_mutex;
  static std::set<int> handed_out;
  const int end = ephemeralPortsStart();
  if (end - kLowest >= 1000) {
    thread_local std::mt19937 random{std::random_device{}()};
    std::uniform_int_distribution<int> pick(kLowest, end - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
      int port = pick(random);
      // RabbitMQ's management and distribution ports (5672 + 10000, + 20000): a broker that a
      // test restarts must find them free.
      if (port == 15672 || port == 25672) continue;
      std::lock_guard<std::mutex> lock(handed_out_mutex);
      if (handed_out.count(port) == 0 && portBindable(port)) {
        handed_out.insert(port);
        return port;
      }
    }
  }
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

}  // namespace busbar::testing
