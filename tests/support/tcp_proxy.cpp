#include "tcp_proxy.h"

#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "server_process.h"

namespace busbar::testing {
namespace {

sockaddr_in loopback(const std::string& host, int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    throw std::runtime_error("TcpProxy needs an IPv4 address, got " + host);
  }
  return address;
}

bool writeAll(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    ssize_t written = ::send(fd, data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= written;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::string target_host, int target_port,
                   std::optional<CommitFinder::Protocol> commits)
    : target_host_(std::move(target_host)),
      target_port_(target_port),
      port_(freePort()),
      commits_(commits) {
  // Close-on-exec everywhere: a child the test runs (a database client) must not keep a
  // connection open after the proxy closed it.
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("TcpProxy: pipe failed");
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  send(Command::kQuit);
  thread_.join();
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void TcpProxy::start() { send(Command::kStart); }

void TcpProxy::cut() { send(Command::kCut); }

void TcpProxy::afterStatement(CommitFinder::Matcher matches, std::function<void()> then) {
  std::lock_guard<std::mutex> lock(hook_mutex_);
  hook_matches_ = std::move(matches);
  hook_then_ = std::move(then);
  for (auto& [client, finder] : hook_finders_) finder.setMatcher(hook_matches_);
}

bool TcpProxy::watchStatement(int client, bool from_client, const char* data, size_t size) {
  std::lock_guard<std::mutex> lock(hook_mutex_);
  if (!commits_) return false;
  // Every connection's statements are followed from its start: a session prepares a statement
  // once and runs it for as long as it lives, long before a hook is armed.
  auto finder = hook_finders_.find(client);
  if (finder == hook_finders_.end()) {
    finder = hook_finders_.emplace(client, CommitFinder(*commits_, hook_matches_)).first;
  }
  if (!from_client) {
    finder->second.serverSends(data, size);
    return false;
  }
  return finder->second.clientSends(data, size) && hook_then_ != nullptr;
}

void TcpProxy::partition(Partition which) {
  partition_ = static_cast<int>(which);
  send(Command::kPartition);  // the loop polls anew with the partition
}

void TcpProxy::send(Command command) {
  std::unique_lock<std::mutex> lock(mutex_);
  command_ = command;
  char byte = 1;
  if (::write(wake_[1], &byte, 1) != 1) throw std::runtime_error("TcpProxy: wake failed");
  done_.wait(lock, [this] { return command_ == Command::kNone; });
}

void TcpProxy::openListener() {
  if (listener_ >= 0) return;
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  sockaddr_in address = loopback("127.0.0.1", port_);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener_, 64) != 0) {
    ::close(listener_);
    listener_ = -1;
    throw std::runtime_error("TcpProxy: cannot listen on port " + std::to_string(port_));
  }
}

void TcpProxy::closeAll() {
  if (listener_ >= 0) ::close(listener_);
  listener_ = -1;
  finders_.clear();
  {
    std::lock_guard<std::mutex> lock(hook_mutex_);
    hook_finders_.clear();
  }
  for (const auto& pair : pairs_) {
    ::shutdown(pair.client, SHUT_RDWR);
    ::shutdown(pair.server, SHUT_RDWR);
    ::close(pair.client);
    ::close(pair.server);
  }
  pairs_.clear();
}

void TcpProxy::accept() {
  int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in target = loopback(target_host_, target_port_);
  if (::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof(target)) != 0) {
    ::close(server);
    ::close(client);
    return;
  }
  // Each message goes out as it comes, as the database clients send theirs (TCP_NODELAY):
  // with Nagle's algorithm a small message waits for the ACK of the previous one, which the
  // peer delays up to 40 ms, and a client that makes many round trips crawls.
  for (int fd : {client, server}) {
    int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  }
  pairs_.push_back({client, server});
}

void TcpProxy::cutAtCommit(CommitCut when) {
  commit_cut_done_ = false;
  commit_cut_armed_ = static_cast<int>(when);
}

bool TcpProxy::pump(int from, int to, bool from_client) {
  char buffer[65536];
  ssize_t size = ::recv(from, buffer, sizeof(buffer), 0);
  if (size < 0 && errno == EINTR) return true;
  if (size <= 0) return false;
  if (commits_) {
    const int client = from_client ? from : to;
    auto finder = finders_.find(client);
    if (finder == finders_.end()) finder = finders_.emplace(client, CommitFinder(*commits_)).first;
    if (!from_client) {
      finder->second.serverSends(buffer, static_cast<size_t>(size));
    } else if (finder->second.clientSends(buffer, static_cast<size_t>(size)) &&
               commit_cut_armed_ >= 0) {
      cutCommit(from, to, buffer, size);
      return false;
    }
  }
  const bool hook =
      watchStatement(from_client ? from : to, from_client, buffer, static_cast<size_t>(size));
  if (!writeAll(to, buffer, size)) return false;
  if (hook) {
    std::function<void()> then;
    {
      std::lock_guard<std::mutex> lock(hook_mutex_);
      then.swap(hook_then_);
      hook_matches_ = nullptr;
      for (auto& [client, finder] : hook_finders_) finder.setMatcher(nullptr);
    }
    if (then) then();
  }
  return true;
}

void TcpProxy::cutCommit(int client, int server, const char* data, ssize_t size) {
  finders_.erase(client);
  if (static_cast<CommitCut>(commit_cut_armed_.exchange(-1)) == CommitCut::kAfterItRan) {
    // Give the server the bytes and the time to act on them, then close before its answer
    // comes back (a close with that answer unread would reset the connection, and a reset may
    // drop what the server has not read yet).
    writeAll(server, data, size);
    ::shutdown(server, SHUT_WR);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  commit_cut_done_ = true;
}

void TcpProxy::run() {
  for (;;) {
    // A partitioned way is not polled (poll skips a negative descriptor): its bytes wait in the
    // kernel's buffers, unread, and neither end learns anything.
    const int partition = partition_.load();
    const bool to_target = (partition & static_cast<int>(Partition::kToTarget)) == 0;
    const bool from_target = (partition & static_cast<int>(Partition::kFromTarget)) == 0;
    std::vector<pollfd> fds;
    fds.push_back({wake_[0], POLLIN, 0});
    if (listener_ >= 0) fds.push_back({partition == 0 ? listener_ : -1, POLLIN, 0});
    const std::size_t first_pair = fds.size();
    for (const auto& pair : pairs_) {
      fds.push_back({to_target ? pair.client : -1, POLLIN, 0});
      fds.push_back({from_target ? pair.server : -1, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) {
      char byte;
      if (::read(wake_[0], &byte, 1) != 1) break;
      std::lock_guard<std::mutex> lock(mutex_);
      Command command = command_;
      if (command == Command::kStart) openListener();
      if (command == Command::kCut || command == Command::kQuit) closeAll();
      command_ = Command::kNone;
      done_.notify_all();
      if (command == Command::kQuit) return;
      continue;  // the descriptors may have changed
    }
    if (first_pair == 2 && fds[1].revents != 0) accept();
    std::vector<Pair> kept;
    for (std::size_t i = 0; i < (fds.size() - first_pair) / 2; ++i) {
      const Pair pair = pairs_[i];
      bool alive = true;
      if (fds[first_pair + 2 * i].revents != 0) alive = pump(pair.client, pair.server, true);
      if (alive && fds[first_pair + 2 * i + 1].revents != 0) {
        alive = pump(pair.server, pair.client, false);
      }
      if (alive) {
        kept.push_back(pair);
      } else {
        finders_.erase(pair.client);
        {
          std::lock_guard<std::mutex> lock(hook_mutex_);
          hook_finders_.erase(pair.client);
        }
        ::close(pair.client);
        ::close(pair.server);
      }
    }
    // Connections accepted in this round come after the polled ones.
    for (std::size_t i = (fds.size() - first_pair) / 2; i < pairs_.size(); ++i) {
      kept.push_back(pairs_[i]);
    }
    pairs_.swap(kept);
  }
}

}  // namespace busbar::testing
