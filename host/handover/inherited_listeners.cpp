#include "handover/inherited_listeners.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/SocketImpl.h>

namespace busbar::host {
namespace {

// A socket made from a descriptor someone else opened and bound.
class AdoptedSocketImpl : public Poco::Net::SocketImpl {
 public:
  explicit AdoptedSocketImpl(int fd) : SocketImpl(fd) {}
};

class AdoptedServerSocket : public Poco::Net::ServerSocket {
 public:
  explicit AdoptedServerSocket(int fd) : ServerSocket(new AdoptedSocketImpl(fd), true) {}
};

// Empty when `fd` is a listening TCP socket; otherwise what it is.
std::string problemWith(int fd) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) return std::string("not open (") + std::strerror(errno) + ")";
  if (!S_ISSOCK(status.st_mode)) return "not a socket";
  int value = 0;
  socklen_t length = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &length) != 0 || value != SOCK_STREAM) {
    return "not a stream socket";
  }
  sockaddr_storage address{};
  socklen_t address_length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0 ||
      (address.ss_family != AF_INET && address.ss_family != AF_INET6)) {
    return "not a TCP socket";
  }
  length = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) != 0 || value == 0) {
    return "not listening";
  }
  return {};
}

}  // namespace

InheritedListeners::InheritedListeners(const std::map<std::string, std::vector<int>>& descriptors) {
  std::string problem;
  for (const auto& [name, fds] : descriptors) {
    for (int fd : fds) {
      const std::string found = problemWith(fd);
      if (!found.empty() && problem.empty()) {
        problem = "the " + name + " listener's inherited descriptor " + std::to_string(fd) +
                  " is " + found;
      }
      if (found.empty() || found.rfind("not open", 0) != 0) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        sockets_[name].push_back(AdoptedServerSocket(fd));  // closed with this object
      }
    }
  }
  if (!problem.empty()) {
    sockets_.clear();
    throw std::runtime_error(problem + "; a reload hands over listening TCP sockets only");
  }
}

size_t InheritedListeners::count(const std::string& listener) const {
  const auto found = sockets_.find(listener);
  return found != sockets_.end() ? found->second.size() : 0;
}

std::vector<Poco::Net::ServerSocket> InheritedListeners::take(const std::string& listener,
                                                              const std::string& host,
                                                              uint16_t port) {
  const auto found = sockets_.find(listener);
  if (found == sockets_.end() || found->second.empty()) return {};
  const Poco::Net::SocketAddress bound = found->second.front().address();
  const Poco::Net::SocketAddress wanted(host, port);
  if (bound.host() != wanted.host() || (port != 0 && bound.port() != port)) return {};
  std::vector<Poco::Net::ServerSocket> sockets = std::move(found->second);
  sockets_.erase(found);
  return sockets;
}

std::vector<std::string> InheritedListeners::untaken() const {
  std::vector<std::string> names;
  for (const auto& [name, sockets] : sockets_) {
    if (!sockets.empty()) names.push_back(name + " " + sockets.front().address().toString());
  }
  return names;
}

}  // namespace busbar::host
