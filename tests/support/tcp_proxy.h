// TcpProxy: forwards TCP connections from a local port to a database server, and can cut them
// all at once and refuse new ones, as a database restart looks to its clients.
//
// Loopback only. One thread forwards every connection with poll(); start() and cut() may be
// called from any thread and return when the proxy is in the asked state.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace busbar::testing {

class TcpProxy {
 public:
  // Picks a free port on 127.0.0.1 for itself; forwards nothing until start().
  TcpProxy(std::string target_host, int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }

  // On return the proxy accepts connections on port() and forwards them to the target.
  void start();

  // On return every forwarded connection is closed and new ones are refused.
  void cut();

 private:
  enum class Command { kNone, kStart, kCut, kQuit };
  struct Pair {
    int client;
    int server;
  };

  void run();
  void send(Command command);
  void openListener();
  void closeAll();
  void accept();
  // Copies what `from` has to `to`; false when the connection ended.
  static bool pump(int from, int to);

  std::string target_host_;
  int target_port_;
  int port_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::vector<Pair> pairs_;
  std::mutex mutex_;
  std::condition_variable done_;
  Command command_ = Command::kNone;
  std::thread thread_;
};

}  // namespace busbar::testing
