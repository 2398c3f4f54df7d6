#include "http/event_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "http/http_connection.h"

namespace busbar::host {
namespace {

// New connections taken per wake-up, so that a flood of them does not starve the others.
constexpr int kAcceptBatch = 64;
constexpr int kEventBatch = 256;

void check(int result, const char* what) {
  if (result < 0) throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

EventLoop::EventLoop(HttpServerContext& context, Poco::Net::ServerSocket listener, size_t index)
    : context_(context),
      listener_(std::move(listener)),
      listener_fd_(listener_.impl()->sockfd()),
      metrics_(context.metrics != nullptr ? &context.metrics->loop(index) : nullptr),
      now_(std::chrono::steady_clock::now()),
      scratch_(new char[kScratchSize]) {
  const auto& settings = context.settings;
  using std::chrono::seconds;
  deadlines_[static_cast<size_t>(Deadline::kIdle)] =
      std::make_unique<DeadlineList>(seconds(settings.keep_alive_seconds));
  deadlines_[static_cast<size_t>(Deadline::kHead)] =
      std::make_unique<DeadlineList>(seconds(settings.header_timeout_seconds));
  deadlines_[static_cast<size_t>(Deadline::kBody)] =
      std::make_unique<DeadlineList>(seconds(settings.body_timeout_seconds));
  deadlines_[static_cast<size_t>(Deadline::kHandling)] =
      std::make_unique<DeadlineList>(seconds(settings.request_timeout_seconds));
  deadlines_[static_cast<size_t>(Deadline::kWrite)] =
      std::make_unique<DeadlineList>(seconds(settings.write_timeout_seconds));
  deadlines_[static_cast<size_t>(Deadline::kLinger)] =
      std::make_unique<DeadlineList>(kLingerTimeout);

  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  check(epoll_, "epoll_create1");
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  check(wake_, "eventfd");
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.ptr = &wake_tag_;
  check(::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &wake), "epoll_ctl(eventfd)");
  listener_.setBlocking(false);
  watchListener();
}

EventLoop::~EventLoop() {
  quit();
  for (auto* connection : connections_) delete connection;
  if (wake_ >= 0) ::close(wake_);
  if (epoll_ >= 0) ::close(epoll_);
}

void EventLoop::watchListener() {
  // Level-triggered: what one wake-up leaves in the backlog is reported again.
  epoll_event accept{};
  accept.events = EPOLLIN;
  accept.data.ptr = &listener_tag_;
  check(::epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_.impl()->sockfd(), &accept),
        "epoll_ctl(listener)");
}

void EventLoop::start() {
  thread_ = std::thread([this] { run(); });
}

namespace {

int64_t steadyNanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void EventLoop::ping() {
  if (pinged_ns_.load() > heard_ns_.load()) return;  // the last ping still waits
  pinged_ns_.store(steadyNanoseconds());
  post([this] { heard_ns_.store(steadyNanoseconds()); });
}

std::chrono::milliseconds EventLoop::silence() const {
  const int64_t pinged = pinged_ns_.load();
  if (heard_ns_.load() >= pinged) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(steadyNanoseconds() - pinged));
}

void EventLoop::post(std::function<void()> task) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(task));
  }
  // One wake-up per batch: the loop takes the whole queue when it wakes.
  if (was_empty) {
    const uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_, &one, sizeof one);
  }
}

std::future<void> EventLoop::beginStop(bool close_idle) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> stopped = done->get_future();
  post([this, close_idle, done] {
    stopping_ = true;
    closeListener();
    for (auto* connection : connections_) connection->beginStop(close_idle);
    done->set_value();
  });
  return stopped;
}

void EventLoop::abort() {
  post([this] {
    for (auto* connection : connections_) connection->abort();
  });
}

void EventLoop::quit() {
  if (!thread_.joinable()) return;
  post([this] { quitting_ = true; });
  thread_.join();
}

void EventLoop::unwatch(int fd) { ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::retire(HttpConnection* connection) { retired_.push_back(connection); }

void EventLoop::run() {
  std::vector<epoll_event> events(kEventBatch);
  while (!quitting_) {
    // Connections that spent their budget go on at once, after what is ready now.
    const int wait = deferred_.empty() ? msUntilNextDeadline() : 0;
    const int ready = ::epoll_wait(epoll_, events.data(), kEventBatch, wait);
    now_ = std::chrono::steady_clock::now();
    if (ready < 0 && errno != EINTR) {
      context_.logger.error(std::string("epoll_wait failed: ") + std::strerror(errno));
      break;
    }
    for (int i = 0; i < ready; ++i) {
      void* target = events[i].data.ptr;
      if (target == &listener_tag_) {
        acceptAll();
      } else if (target == &wake_tag_) {
        uint64_t count = 0;
        [[maybe_unused]] auto read = ::read(wake_, &count, sizeof count);
      } else {
        static_cast<HttpConnection*>(target)->onEvents(events[i].events);
      }
    }
    resumeDeferred();
    runPosted();
    expireDeadlines();
    deleteRetired();
  }
  closeListener();
  for (auto* connection : connections_) connection->abort();
  deleteRetired();
}

void EventLoop::runPosted() {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    if (posted_.empty()) return;
    running_.swap(posted_);
  }
  for (auto& task : running_) task();
  running_.clear();
}

void EventLoop::acceptAll() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    const int fd =
        ::accept4(listener_.impl()->sockfd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      admit(fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of descriptors: the backlog waits until connections close. Said once per 10 s.
      context_.accept_pauses.fetch_add(1, std::memory_order_relaxed);
      ++accept_pauses_unlogged_;
      if (now_ - last_pause_logged_ >= std::chrono::seconds(10)) {
        context_.logger.warning(std::string("cannot accept connections: ") + std::strerror(errno) +
                                "; accepts paused " + std::to_string(accept_pauses_unlogged_) +
                                " times for " + std::to_string(kAcceptPause.count()) +
                                " ms since this was last said (raise the open file limit or "
                                "lower [http] max_connections)");
        last_pause_logged_ = now_;
        accept_pauses_unlogged_ = 0;
      }
      ::epoll_ctl(epoll_, EPOLL_CTL_DEL, listener_.impl()->sockfd(), nullptr);
      accept_paused_ = true;
      accept_paused_until_ = now_ + kAcceptPause;
      return;
    }
    context_.logger.error(std::string("accept failed: ") + std::strerror(errno));
    return;
  }
}

void EventLoop::admit(int fd) {
  // Answers leave in one write each; Nagle's algorithm would hold back a pipelined one.
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  const int limit = context_.connection_limit;
  HttpConnection* connection = nullptr;
  if (context_.open_connections.fetch_add(1, std::memory_order_relaxed) >= limit) {
    context_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    context_.refused_connections.fetch_add(1, std::memory_order_relaxed);
    if (context_.refusing_connections.fetch_add(1, std::memory_order_relaxed) >=
        kMaxRefusingConnections) {
      context_.refusing_connections.fetch_sub(1, std::memory_order_relaxed);
      ::close(fd);  // enough answers of this kind in progress: its descriptor comes back now
      return;
    }
    const HttpProblem full{503,
                           "the server has " + std::to_string(limit) +
                               " connections open, its limit ([http] max_connections, or the open "
                               "file limit); "
                               "retry later"};
    if (now_ - last_refusal_logged_ >= std::chrono::seconds(10)) {
      last_refusal_logged_ = now_;
      context_.logger.warning("refusing connections with 503: " + std::to_string(limit) +
                              " are open, [http] max_connections");
    }
    connection = new HttpConnection(*this, fd, &full);
  } else {
    connection = new HttpConnection(*this, fd);
  }
  connections_.insert(connection);
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = connection;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) < 0) {
    connection->abort();
    return;
  }
  connection->start();
}

int EventLoop::msUntilNextDeadline() const {
  auto next = std::chrono::steady_clock::time_point::max();
  for (const auto& list : deadlines_) {
    if (const DeadlineEntry* first = list->earliest()) next = std::min(next, first->deadline());
  }
  if (accept_paused_) next = std::min(next, accept_paused_until_);
  if (next == std::chrono::steady_clock::time_point::max()) return -1;
  if (next <= now_) return 0;
  // Rounded up: a wake-up before the deadline would find nothing to do.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now_).count();
  return static_cast<int>(std::min<int64_t>(wait, 60 * 60 * 1000));
}

void EventLoop::expireDeadlines() {
  for (auto& list : deadlines_) {
    while (DeadlineEntry* first = list->earliest()) {
      if (first->deadline() > now_) break;
      first->disarm();
      static_cast<HttpConnection*>(first)->onDeadline();
    }
  }
  if (accept_paused_ && now_ >= accept_paused_until_) {
    accept_paused_ = false;
    if (!stopping_) watchListener();
  }
}

void EventLoop::resumeDeferred() {
  if (deferred_.empty()) return;
  resuming_.swap(deferred_);
  // One turn each; a connection that spends its budget again is deferred for the next round.
  for (auto* connection : resuming_) connection->resume();
  resuming_.clear();
}

void EventLoop::deleteRetired() {
  if (!retired_.empty() && !deferred_.empty()) {
    deferred_.erase(std::remove_if(deferred_.begin(), deferred_.end(),
                                   [this](HttpConnection* connection) {
                                     return std::find(retired_.begin(), retired_.end(),
                                                      connection) != retired_.end();
                                   }),
                    deferred_.end());
  }
  for (auto* connection : retired_) {
    connections_.erase(connection);
    delete connection;
  }
  retired_.clear();
}

void EventLoop::closeListener() {
  if (listener_closed_) return;
  listener_closed_ = true;
  if (!accept_paused_) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, listener_.impl()->sockfd(), nullptr);
  }
  accept_paused_ = false;
  listener_.close();
}

}  // namespace busbar::host
