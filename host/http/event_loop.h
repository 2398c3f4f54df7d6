// EventLoop: one thread that accepts connections on its own listening socket and serves them
// with non-blocking reads and writes, woken by epoll; it enforces their deadlines and runs the
// tasks other threads post to it (a worker's answer, the server's stop).
//
// Each loop listens on its own socket of the server's SO_REUSEPORT group, so the kernel spreads
// new connections over the loops and no lock is shared between them on the request path. The
// epoll loop is busbar's own over raw descriptors rather than Poco's SocketReactor, which was
// measured beside it (docs/BENCHMARKS.md, section 1): the reactor's PollSet returns a std::map of
// the ready sockets per wait and each readiness goes through a mutex and a NotificationCenter,
// costing more instructions per request than this loop's read, parse and write together; it
// has no per-connection deadlines; and ParallelSocketAcceptor accepts every connection on one
// thread. Here sockets are registered once, edge-triggered, so a request costs no epoll_ctl: a
// read, a write and a share of one epoll_wait; deadlines are O(1) lists (deadline_list.h).
// A connection serves a bounded budget of reads and requests per wake-up, then waits its turn
// behind the others that are ready (HttpConnection), so that one client cannot hold the loop.
//
// Beyond the server's connection limit ([http] max_connections, or fewer when the open file limit
// leaves too few descriptors for the rest: servedConnections()), a newcomer is answered 503 and
// closed; while kMaxRefusingConnections such answers are in progress, it is closed unanswered. When
// the process runs out of descriptors all the same, accepting pauses for kAcceptPause, said in the
// log once per 10 s.
//
// Thread-safety: post() from any thread; everything else on the loop's thread, including every
// call connections make to it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <Poco/Net/ServerSocket.h>

#include "http/deadline_list.h"
#include "http/http_server_context.h"

namespace busbar::host {

class HttpConnection;

class EventLoop {
 public:
  enum class Deadline { kIdle, kHead, kBody, kHandling, kWrite, kLinger };

  // How long accepting pauses when the process has no descriptor left.
  static constexpr std::chrono::milliseconds kAcceptPause{100};
  // How long a connection closed after an error answer drains what the client still sends, so
  // that closing with unread bytes does not reset the connection before the answer arrives.
  static constexpr std::chrono::milliseconds kLingerTimeout{1000};

  // Serves connections accepted on `listener`, a bound, listening socket; `index` is the loop's
  // place among its server's (for its metrics cells). On failure throws std::system_error.
  EventLoop(HttpServerContext& context, Poco::Net::ServerSocket listener, size_t index);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts the loop's thread.
  void start();

  // Runs `task` on the loop's thread, soon. Thread-safe.
  void post(std::function<void()> task);

  // Stops accepting (closes the listening socket); the others close after the request they are
  // in, and idle connections now (`close_idle`) or after their next request or idle timeout.
  // Thread-safe (posted); the future is ready once the loop did it: it accepts nothing more.
  std::future<void> beginStop(bool close_idle);
  // Closes every connection now. Thread-safe (posted).
  void abort();
  // Ends the thread once the tasks posted so far ran, and joins it. Connections still open are
  // closed.
  void quit();

  // The listening socket's descriptor, to hand over at a reload, which happens while the loop
  // serves: after beginStop() the number may be closed and reused. Thread-safe.
  int listenerDescriptor() const { return listener_fd_; }

  // Posts a task that notes the time, unless the last one has not run yet. From one thread.
  void ping();
  // How long the oldest ping not run yet has waited (0 when none waits). Thread-safe.
  std::chrono::milliseconds silence() const;

  // For connections, on the loop thread.
  HttpServerContext& context() { return context_; }
  std::chrono::steady_clock::time_point now() const { return now_; }
  void arm(DeadlineEntry& entry, Deadline kind) {
    deadlines_[static_cast<size_t>(kind)]->arm(entry, now_);
  }
  // A buffer to read into; its bytes are only valid until the connection returns to the loop.
  char* scratch() { return scratch_.get(); }
  static constexpr size_t kScratchSize = 64 * 1024;
  // Stops reporting `fd`'s events; called before the connection closes it. Closing alone would not
  // do: epoll watches the open socket, not the number, and the socket outlives the number while
  // another descriptor refers to it (a child forked meanwhile holds a copy until it execs), so
  // events would keep coming for a connection that was deleted.
  void unwatch(int fd);
  // The connection closed and may be deleted once the current events are handled.
  void retire(HttpConnection* connection);
  // The connection spent its budget for this wake-up with work left: it resumes after the
  // connections that are ready now were served, without waiting for the socket.
  void defer(HttpConnection* connection) { deferred_.push_back(connection); }
  // This loop's metrics cells; null when the server counts nothing.
  HttpMetrics::LoopCells* metrics() { return metrics_; }
  // Makes the id of a request that came without a usable one.
  void nextRequestId(RequestId& id) { request_ids_.next(id); }

 private:
  void run();
  void acceptAll();
  void admit(int fd);
  void runPosted();
  void expireDeadlines();
  void resumeDeferred();
  void deleteRetired();
  int msUntilNextDeadline() const;
  void watchListener();
  void closeListener();

  HttpServerContext& context_;
  Poco::Net::ServerSocket listener_;
  const int listener_fd_;
  HttpMetrics::LoopCells* const metrics_;
  RequestIdGenerator request_ids_;
  std::atomic<int64_t> pinged_ns_{0};  // steady clock, of the ping waiting to run
  std::atomic<int64_t> heard_ns_{0};   // steady clock, when the loop ran the last ping
  bool listener_closed_ = false;
  int epoll_ = -1;
  int wake_ = -1;  // eventfd
  std::thread thread_;
  bool quitting_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point now_;
  std::chrono::steady_clock::time_point accept_paused_until_{};
  bool accept_paused_ = false;
  std::chrono::steady_clock::time_point last_refusal_logged_{};
  std::chrono::steady_clock::time_point last_pause_logged_{};
  uint64_t accept_pauses_unlogged_ = 0;
  std::array<std::unique_ptr<DeadlineList>, 6> deadlines_;  // by Deadline
  std::unique_ptr<char[]> scratch_;
  std::unordered_set<HttpConnection*> connections_;
  std::vector<HttpConnection*> retired_;
  std::vector<HttpConnection*> deferred_;  // in the order they spent their budget
  std::vector<HttpConnection*> resuming_;  // the loop's copy of deferred_, kept for its capacity

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_;  // the loop's copy of posted_, kept for its capacity

  // Addresses that tell the listener's and the wake-up's epoll events from connections'.
  char listener_tag_ = 0;
  char wake_tag_ = 0;
};

}  // namespace busbar::host
