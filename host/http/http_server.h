// HttpServer: the HTTP/1.1 server in front of the HttpRouter.
//
// One EventLoop per core accepts and serves connections (event_loop.h; each connection is an
// HttpConnection state machine, http_connection.h); handlers that may block run on a WorkerPool
// of [http] workers threads. An idle or slow connection costs memory, not a thread.
//
// Thread-safety: start() and stop() from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "host_config.h"
#include "http/access_log.h"
#include "http/event_loop.h"
#include "http/http_metrics.h"
#include "http/http_router.h"
#include "http/http_server_context.h"
#include "http/worker_pool.h"
#include "ops/stop_progress.h"

namespace busbar::host {

// Raises this process's soft limit of open files to its hard limit, as nginx does: each
// connection holds a descriptor, and the usual soft limit (1024) is far below max_connections.
// Returns the soft limit in force afterwards.
uint64_t raiseOpenFileLimit();

// Descriptors kept for what the process opens beside its connections: the database's sessions,
// the broker's connections, log files, plugins.
inline constexpr uint64_t kSpareDescriptors = 128;

// The connections a listener serves at once: `max_connections`, fewer when `open_files` (the
// RLIMIT_NOFILE soft limit, 0 when unknown) would leave less than kSpareDescriptors (half of it
// when it is that small).
int servedConnections(int max_connections, uint64_t open_files);

// The event loops a server runs when asked for `requested` (0: one per usable core,
// usable_cores.h); 1 to 64.
size_t httpLoopCount(size_t requested);

// What sets one listener apart from another (busbar runs the public one and the admin one).
struct HttpListenerOptions {
  std::string name = "public";               // in metrics, the access log and messages
  size_t loops = 0;                          // event loops; 0: one per usable core
  HttpMetrics::Listener* metrics = nullptr;  // where requests are counted (its loops() match)
  AccessLog* access_log = nullptr;           // null: no access log
  const AccessPolicy* access = nullptr;      // who may call which route; null: all open
  const TlsServerContext* tls = nullptr;     // HTTPS with it; null: plain HTTP
};

class HttpServer {
 public:
  HttpServer(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger,
             HttpListenerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening sockets without serving yet: connections wait in the kernel's accept
  // queue until start(). Lets the host find a taken address before it starts anything else. On
  // failure (address in use...) throws std::runtime_error with the reason.
  // `inherited`: listening sockets bound to that address already (handed over at a reload,
  // InheritedListeners), used first; the server runs a loop on each, and binds more of the same
  // SO_REUSEPORT group at start() when it runs more loops.
  void bind(const std::string& host, uint16_t port,
            std::vector<Poco::Net::ServerSocket> inherited = {});

  // Binds (unless bind() did) and starts serving. On failure throws as bind() does.
  void start(const std::string& host, uint16_t port);

  // The port bound by bind() or start() (the kernel's choice when given 0).
  uint16_t port() const { return port_; }

  // The descriptors of the listening sockets (after bind()), to hand over at a reload. From the
  // thread that calls start() and stop().
  std::vector<int> listeningDescriptors() const;

  // True once start() returned, until stop().
  bool serving() const { return !loops_.empty(); }
  // The event loops serving; 0 before start().
  size_t loopCount() const { return loops_.size(); }

  // Connections open now (those being answered 503 over max_connections not counted). Thread-safe.
  int openConnections() const;

  // How the blocking requests fare: the worker queue now, and what was shed (all 0 before
  // start, as they ended after stop). Thread-safe, from the start of start() on.
  struct Load {
    size_t queued = 0;                        // waiting for a worker now
    std::chrono::nanoseconds oldest_wait{0};  // of the oldest of them
    uint64_t started = 0;                     // taken by a worker, in total
    std::chrono::nanoseconds waited{0};       // their waits in the queue, in total
    uint64_t shed_queue_full = 0;             // answered 503 at once: max_queued waited already
    uint64_t shed_waited_too_long = 0;        // answered 503 at request_timeout, never run
    uint64_t timed_out = 0;                   // answered 504 at request_timeout, still running
    uint64_t refused_connections = 0;         // answered 503 at the connection limit
    uint64_t accept_pauses = 0;               // times accepting paused: no descriptor left
    uint64_t tls_handshake_failures = 0;      // TLS handshakes failed, cut or timed out
  };
  Load load() const;

  // Asks every event loop to note the time from its own thread; longestSilence() then tells
  // whether they all did. For liveness: a loop stalled by a handler that blocks notes nothing.
  void pingLoops();
  // How long ago the loop heard from least recently noted a ping (0 before start).
  std::chrono::milliseconds longestSilence() const;

  // What a stop does with the keep-alive connections idle between requests.
  enum class IdleConnections {
    kClose,                 // at once: the server goes away
    kCloseAfterNextAnswer,  // another process serves the same sockets (a reload): they stay until
                            // their next request, answered with Connection: close, or their idle
                            // timeout, so that a client does not find them closed as it sends
  };

  // What stop() did.
  struct StopReport {
    int open_at_stop = 0;     // connections open when it began
    uint64_t answered = 0;    // answers sent while it waited
    int cut_at_deadline = 0;  // connections still open at the end of the grace period
  };

  // Stops accepting and ends idle connections as `idle` says; lets the requests in progress finish
  // until `grace_end` (by default [http] shutdown_grace_seconds from now), then closes what is
  // left and waits for running handlers. Each wait is entered in `progress` when given.
  // A host with two listeners passes both the same `grace_end`: one grace period for the server.
  StopReport stop(IdleConnections idle = IdleConnections::kClose, StopProgress* progress = nullptr,
                  std::optional<std::chrono::steady_clock::time_point> grace_end = std::nullopt);

 private:
  // One listening socket per loop, all bound to the same address with SO_REUSEPORT.
  // `probe`: first check that no other socket has the port (port 0 needs none).
  std::vector<Poco::Net::ServerSocket> listen(const std::string& host, uint16_t port, size_t count,
                                              bool probe);

  const HttpRouter& router_;
  const HttpSettings settings_;
  Poco::Logger& logger_;
  const HttpListenerOptions options_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<HttpServerContext> context_;
  // context_ once start() made it, for the threads that read load() and openConnections() while
  // start() runs; null before.
  std::atomic<const HttpServerContext*> published_context_{nullptr};
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<Poco::Net::ServerSocket> bound_;  // by bind(), until start() hands them to loops
  size_t more_sockets_ = 0;  // inherited fewer than loops: bound at start(), on bound_host_
  std::string bound_host_;
  uint16_t port_ = 0;
  int connection_limit_ = 0;  // servedConnections(), from bind()
};

}  // namespace busbar::host
