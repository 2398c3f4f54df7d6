#include "notify_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace busbar::testing {

NotifySocket::NotifySocket(std::string path) : path_(std::move(path)) {
  sockaddr_un address{};
  if (path_.size() >= sizeof address.sun_path) {
    throw std::runtime_error("notify socket path too long: " + path_);
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path_.c_str(), path_.size());
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error("cannot bind " + path_ + ": " + std::strerror(error));
  }
}

NotifySocket::~NotifySocket() { ::close(fd_); }

const std::string& NotifySocket::receive() {
  char buffer[1024];
  ssize_t size;
  while ((size = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT)) > 0) {
    received_.append(buffer, static_cast<size_t>(size)).append("|");
  }
  return received_;
}

}  // namespace busbar::testing
