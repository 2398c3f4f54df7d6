#include "http/http_server.h"

#include "http/usable_cores.h"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include <Poco/Net/SocketAddress.h>

namespace busbar::host {
namespace {}  // namespace

int servedConnections(int max_connections, uint64_t open_files) {
  if (open_files == 0) return max_connections;  // unknown
  const uint64_t room =
      open_files > 2 * kSpareDescriptors ? open_files - kSpareDescriptors : open_files / 2;
  return static_cast<int>(
      std::min<uint64_t>(static_cast<uint64_t>(max_connections), std::max<uint64_t>(room, 1)));
}

size_t httpLoopCount(size_t requested) {
  return std::clamp<size_t>(requested != 0 ? requested : usableCores(), 1, 64);
}

uint64_t raiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur;
}

HttpServer::HttpServer(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger,
                       HttpListenerOptions options)
    : router_(router), settings_(settings), logger_(logger), options_(std::move(options)) {}

HttpServer::~HttpServer() { stop(); }

std::vector<Poco::Net::ServerSocket> HttpServer::listen(const std::string& host, uint16_t port,
                                                        size_t count, bool probe) {
  std::vector<Poco::Net::ServerSocket> sockets;
  try {
    Poco::Net::SocketAddress address(host, port);
    if (probe && port != 0) {
      // Sockets of one user with SO_REUSEPORT share a port, so a second busbar on this address
      // would share the first one's clients. A socket without it cannot bind a port in use.
      Poco::Net::ServerSocket probe;
      probe.bind(address, /*reuseAddress=*/true, /*reusePort=*/false);
      probe.close();
    }
    for (size_t i = 0; i < count; ++i) {
      Poco::Net::ServerSocket socket;
      socket.bind(address, /*reuseAddress=*/true, /*reusePort=*/true);
      socket.listen(4096);
      // With port 0 the first socket got one from the kernel; the others join it there.
      address = Poco::Net::SocketAddress(address.host(), socket.address().port());
      sockets.push_back(std::move(socket));
    }
  } catch (const Poco::Exception& error) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             error.displayText());
  }
  return sockets;
}

void HttpServer::bind(const std::string& host, uint16_t port,
                      std::vector<Poco::Net::ServerSocket> inherited) {
  const uint64_t files = raiseOpenFileLimit();
  connection_limit_ = servedConnections(settings_.max_connections, files);
  if (connection_limit_ < settings_.max_connections) {
    logger_.warning("[http] max_connections = " + std::to_string(settings_.max_connections) +
                    " needs about " +
                    std::to_string(settings_.max_connections + kSpareDescriptors) +
                    " open files, but this process may open " + std::to_string(files) +
                    " (RLIMIT_NOFILE hard limit): the " + options_.name +
                    " listener serves at "
                    "most " +
                    std::to_string(connection_limit_) +
                    " connections at once (the next get 503), so that descriptors stay for the "
                    "database, the broker and the logs; raise the limit (LimitNOFILE= in the "
                    "systemd unit, ulimit -Hn) or lower max_connections");
  }
  // Closing an inherited socket would reset the connections in its accept queue: each gets a
  // loop, however many loops were asked for.
  size_t loops = std::max(httpLoopCount(options_.loops), inherited.size());
  // The metrics were sized for the sockets inherited, which a changed address leaves unused.
  if (options_.metrics != nullptr) loops = std::max(loops, options_.metrics->loops());
  if (options_.metrics != nullptr && options_.metrics->loops() != loops) {
    throw std::logic_error("the " + options_.name + " listener's metrics have " +
                           std::to_string(options_.metrics->loops()) + " loops, not " +
                           std::to_string(loops));
  }
  if (inherited.empty()) {
    bound_ = listen(host, port, loops, /*probe=*/true);
  } else {
    // More loops than sockets inherited: the others join the SO_REUSEPORT group at start(), not
    // now. The kernel gives a share of new connections to every socket of the group at once,
    // and those a reload that fails before start() left unaccepted would be reset.
    bound_ = std::move(inherited);
    more_sockets_ = loops - bound_.size();
    bound_host_ = host;
  }
  port_ = bound_.front().address().port();
}

std::vector<int> HttpServer::listeningDescriptors() const {
  std::vector<int> fds;
  for (const auto& socket : bound_) fds.push_back(socket.impl()->sockfd());
  for (const auto& loop : loops_) fds.push_back(loop->listenerDescriptor());
  return fds;
}

void HttpServer::start(const std::string& host, uint16_t port) {
  if (bound_.empty()) bind(host, port);
  auto sockets = std::move(bound_);
  bound_.clear();
  if (more_sockets_ > 0) {
    for (auto& socket : listen(bound_host_, port_, more_sockets_, /*probe=*/false)) {
      sockets.push_back(std::move(socket));
    }
    more_sockets_ = 0;
  }
  workers_ =
      std::make_unique<WorkerPool>(settings_.workers, static_cast<size_t>(settings_.max_queued));
  context_ = std::make_unique<HttpServerContext>(router_, settings_, logger_, *workers_,
                                                 options_.metrics, options_.access_log);
  context_->connection_limit =
      connection_limit_ > 0 ? connection_limit_ : settings_.max_connections;
  context_->listener = options_.name;
  context_->access = options_.access;
  context_->tls = options_.tls;
  for (auto& socket : sockets) {
    loops_.push_back(std::make_unique<EventLoop>(*context_, std::move(socket), loops_.size()));
  }
  for (auto& loop : loops_) loop->start();
  published_context_.store(context_.get(), std::memory_order_release);
  if (options_.metrics != nullptr) {
    options_.metrics->attach(
        [context = context_.get()] { return context->open_connections.load(); });
  }
}

int HttpServer::openConnections() const {
  const HttpServerContext* context = published_context_.load(std::memory_order_acquire);
  return context != nullptr ? context->open_connections.load() : 0;
}

HttpServer::Load HttpServer::load() const {
  Load load;
  const HttpServerContext* context = published_context_.load(std::memory_order_acquire);
  if (context == nullptr) return load;
  load.queued = context->workers.queued();
  load.oldest_wait = context->workers.oldestWait();
  load.started = context->workers.started();
  load.waited = context->workers.waited();
  load.shed_queue_full = context->shed_queue_full.load();
  load.shed_waited_too_long = context->shed_waited_too_long.load();
  load.timed_out = context->timed_out.load();
  load.refused_connections = context->refused_connections.load();
  load.accept_pauses = context->accept_pauses.load();
  load.tls_handshake_failures = context->tls_handshake_failures.load();
  return load;
}

void HttpServer::pingLoops() {
  for (auto& loop : loops_) loop->ping();
}

std::chrono::milliseconds HttpServer::longestSilence() const {
  std::chrono::milliseconds longest{0};
  for (const auto& loop : loops_) longest = std::max(longest, loop->silence());
  return longest;
}

HttpServer::StopReport HttpServer::stop(
    IdleConnections idle, StopProgress* progress,
    std::optional<std::chrono::steady_clock::time_point> grace_end) {
  StopReport report;
  if (loops_.empty()) return report;
  auto enter = [progress](std::string step) {
    if (progress != nullptr) progress->enter(std::move(step));
  };
  if (options_.metrics != nullptr) options_.metrics->detach();
  report.open_at_stop = openConnections();
  enter("the end of the requests on " + std::to_string(report.open_at_stop) +
        " open HTTP connections (up to [http] shutdown_grace_seconds)");
  const uint64_t answers_before = context_->answers.load();
  const auto deadline = grace_end.value_or(std::chrono::steady_clock::now() +
                                           std::chrono::seconds(settings_.shutdown_grace_seconds));
  // Every loop stops accepting before the open connections are counted: one it accepted after
  // the count would have its request dropped with the worker queue below (a reload's old
  // process, whose listeners stay busy, met this).
  context_->stopping.store(true);
  std::vector<std::future<void>> stopped;
  for (auto& loop : loops_) stopped.push_back(loop->beginStop(idle == IdleConnections::kClose));
  for (auto& loop_stopped : stopped) loop_stopped.wait_until(deadline);
  while (openConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  report.cut_at_deadline = openConnections();
  if (report.cut_at_deadline > 0) {
    logger_.warning(std::to_string(report.cut_at_deadline) +
                    " connections still open after the grace period; closing them");
    for (auto& loop : loops_) loop->abort();
  }
  // Handlers still running finish; their answers reach loops that are still running.
  enter("the end of the handlers still running on the HTTP workers (" +
        std::to_string(workers_->running()) + " running)");
  workers_->stop();
  for (auto& loop : loops_) loop->quit();
  loops_.clear();
  report.answered = context_->answers.load() - answers_before;
  // The context and the pool stay until the destructor: other threads may still read load().
  return report;
}

}  // namespace busbar::host
