// TcpProxy: forwards TCP connections from a local port to a database server, and can cut them
// all at once and refuse new ones, as a database restart looks to its clients, or partition
// them: nothing flows one way or both, the connections stay open (half-open, as a lost link
// looks: no FIN, no reset) and new ones wait unanswered, until the partition heals.
//
// Loopback only. One thread forwards every connection with poll(); start() and cut() may be
// called from any thread and return when the proxy is in the asked state.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "commit_finder.h"

namespace busbar::testing {

class TcpProxy {
 public:
  // Picks a free port on 127.0.0.1 for itself; forwards nothing until start(). With `commits`,
  // it reads every connection in that protocol from the start, so that cutAtCommit() finds a
  // COMMIT prepared before it was armed.
  TcpProxy(std::string target_host, int target_port,
           std::optional<CommitFinder::Protocol> commits = std::nullopt);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }

  // On return the proxy accepts connections on port() and forwards them to the target.
  void start();

  // On return every forwarded connection is closed and new ones are refused.
  void cut();

  // Which way a partition stops the bytes.
  enum class Partition {
    kNone = 0,
    kToTarget = 1,    // what the client sends never reaches the server
    kFromTarget = 2,  // what the server answers never reaches the client
    kBoth = 3,
  };

  // On return nothing flows the way `which` says on any connection, and new connections are
  // left unaccepted (their handshake completes, nothing answers); kNone heals it, and what
  // waited flows on.
  void partition(Partition which);

  // Calls `then` once, on the proxy's thread, right after it forwarded the first message that
  // runs a prepared statement `matches` picks (a proxy made with a protocol only); null
  // arguments disarm it.
  void afterStatement(CommitFinder::Matcher matches, std::function<void()> then);

  // Which way an armed cut ends a COMMIT.
  enum class CommitCut { kBeforeItRuns, kAfterItRan };

  // Arms a one-time cut of the first connection that runs a prepared COMMIT (found by a
  // CommitFinder in the constructor's protocol; a proxy made without one finds none): the message
  // that runs it is dropped (kBeforeItRuns) or forwarded (kAfterItRan), and the connection is
  // closed before the server's answer reaches the client. Other connections go on.
  void cutAtCommit(CommitCut when);

  // True once the armed cut happened.
  bool commitCut() const { return commit_cut_done_.load(); }

 private:
  enum class Command { kNone, kStart, kCut, kPartition, kQuit };
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
  // Reads a chunk `client` sends (or its server answers) for afterStatement(); true when it
  // runs the statement and the hook is to be called once the chunk is forwarded.
  bool watchStatement(int client, bool from_client, const char* data, size_t size);
  // Ends the connection to `client` as an armed cut asks, after `size` bytes that run a COMMIT
  // were read from it; forwards them to `server` when the COMMIT is to run.
  void cutCommit(int client, int server, const char* data, ssize_t size);

  std::string target_host_;
  int target_port_;
  int port_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::vector<Pair> pairs_;
  const std::optional<CommitFinder::Protocol> commits_;
  std::atomic<int> commit_cut_armed_{-1};  // a CommitCut's value; -1: not armed
  std::atomic<bool> commit_cut_done_{false};
  std::atomic<int> partition_{0};  // a Partition's value
  // afterStatement(): under hook_mutex_; the finders, poll thread only, by client descriptor.
  std::mutex hook_mutex_;
  CommitFinder::Matcher hook_matches_;
  std::function<void()> hook_then_;
  std::map<int, CommitFinder> hook_finders_;
  std::map<int, CommitFinder> finders_;  // poll thread only: by client descriptor
  std::mutex mutex_;
  std::condition_variable done_;
  Command command_ = Command::kNone;
  std::thread thread_;
};

}  // namespace busbar::testing
