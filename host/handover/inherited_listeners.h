// InheritedListeners: the listening sockets this process took over from the one before it at a
// reload (HandoverEnvironment::listeners), kept until the listeners take them.
//
// They are the very sockets the old process accepted on, not new ones bound beside them: the
// connections waiting in their accept queues are served by whichever process accepts them, and
// none is reset when the old process closes its descriptors. A listener whose address changed in
// the config binds afresh; the sockets no listener took are closed when this object goes.
//
// Thread-safety: none; used by the main thread while the host starts.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <Poco/Net/ServerSocket.h>

namespace busbar::host {

class InheritedListeners {
 public:
  InheritedListeners() = default;

  // Adopts `descriptors` (by listener name) and makes them close-on-exec. On failure (one is not
  // a listening TCP socket) throws std::runtime_error naming the listener, the descriptor and
  // what it is; the descriptors are then closed.
  explicit InheritedListeners(const std::map<std::string, std::vector<int>>& descriptors);

  bool empty() const { return sockets_.empty(); }

  // How many sockets `listener` inherited.
  size_t count(const std::string& listener) const;

  // The sockets of `listener`, in order, when they are bound to `host`:`port` (port 0: any
  // port of that host); they leave this object. Otherwise none, and they stay here.
  std::vector<Poco::Net::ServerSocket> take(const std::string& listener, const std::string& host,
                                            uint16_t port);

  // "name host:port" of each listener whose sockets no one took (they are closed with this).
  std::vector<std::string> untaken() const;

 private:
  std::map<std::string, std::vector<Poco::Net::ServerSocket>> sockets_;
};

}  // namespace busbar::host
