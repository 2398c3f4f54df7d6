// TcpProxy: forwards TCP connections from a local port to a database server, and can cut them
// all at once and refuse new ones, as a database restart looks to its clients.
//
// Loopback only. One thread forwards every connection with poll(); start() and cut() may be
// called from any thread and return when the proxy is in the asked state.
#pragma once

#include <atomic>
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

  // Arms a one-time cut of the first connection whose client sends "COMMIT": its chunk and the
  // next `chunks_after` chunks from the client are forwarded, and then the connection is closed
  // before the server's answer reaches the client. With a prepared COMMIT, 0 closes it before
  // the COMMIT runs, and the number of messages up to the execution after it ran (MySQL: 1,
  // prepare then execute; libpq: 2, parse, describe, then execute). Other connections go on.
  void cutAtCommit(int chunks_after);

  // True once the armed cut happened.
  bool commitCut() const { return commit_cut_done_.load(); }

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
  // Copies what `from` has to `to`; false when the connection ended (or was cut on COMMIT).
  bool pump(int from, int to, bool from_client);

  std::string target_host_;
  int target_port_;
  int port_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::vector<Pair> pairs_;
  std::atomic<int> commit_cut_armed_{-1};  // chunks to forward after COMMIT; -1: not armed
  std::atomic<bool> commit_cut_done_{false};
  int commit_cut_client_ = -1;  // poll thread only: the connection being cut
  int commit_cut_left_ = 0;
  std::mutex mutex_;
  std::condition_variable done_;
  Command command_ = Command::kNone;
  std::thread thread_;
};

}  // namespace busbar::testing
