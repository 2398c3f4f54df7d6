// Test support: a datagram socket where systemd's notification socket would be, for a busbar
// started with NOTIFY_SOCKET=path(), to see what it tells systemd.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace busbar::testing {

class NotifySocket {
 public:
  // Binds `path`. Throws std::runtime_error when it cannot.
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }

  // Every datagram received so far (since the last clear()), each followed by '|'.
  const std::string& receive();
  void clear() {
    received_.clear();
    senders_.clear();
  }
  // The same, one entry per datagram, with the pid of the process that sent it (SO_PASSCRED).
  const std::vector<std::pair<pid_t, std::string>>& senders() {
    receive();
    return senders_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::string received_;
  std::vector<std::pair<pid_t, std::string>> senders_;
};

}  // namespace busbar::testing
