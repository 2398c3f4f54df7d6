#include "handover/inherited_listeners.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

namespace busbar::host {
namespace {

// A listening socket on a free loopback port, its descriptor released to the caller as a
// handover passes it (close-on-exec cleared).
int listeningDescriptor() {
  Poco::Net::ServerSocket socket;
  socket.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true, true);
  socket.listen(16);
  const int fd = ::dup(socket.impl()->sockfd());
  return fd;
}

uint16_t portOf(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return Poco::Net::SocketAddress(reinterpret_cast<sockaddr*>(&address), length).port();
}

TEST(InheritedListenersTest, TheSocketsServeTheListenerBoundToTheirAddress) {
  const int fd = listeningDescriptor();
  const uint16_t port = portOf(fd);
  // A client queued before the handover is accepted on the inherited socket.
  Poco::Net::StreamSocket waiting(Poco::Net::SocketAddress("127.0.0.1", port));
  InheritedListeners inherited({{"public", {fd}}});
  EXPECT_EQ(inherited.count("public"), 1u);
  EXPECT_EQ(::fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_TRUE(inherited.take("public", "127.0.0.2", port).empty());  // another address
  EXPECT_TRUE(inherited.take("admin", "127.0.0.1", port).empty());   // another listener
  auto sockets = inherited.take("public", "127.0.0.1", port);
  ASSERT_EQ(sockets.size(), 1u);
  EXPECT_TRUE(inherited.untaken().empty());
  Poco::Net::SocketAddress client;
  Poco::Net::StreamSocket accepted = sockets.front().acceptConnection(client);
  EXPECT_EQ(accepted.peerAddress().port(), waiting.address().port());
}

TEST(InheritedListenersTest, PortZeroTakesTheSocketsOfThatHostOnAnyPort) {
  const int fd = listeningDescriptor();
  InheritedListeners inherited({{"admin", {fd}}});
  EXPECT_EQ(inherited.take("admin", "127.0.0.1", 0).size(), 1u);
}

TEST(InheritedListenersTest, SocketsNoListenerTookAreNamedAndClosed) {
  const int fd = listeningDescriptor();
  const uint16_t port = portOf(fd);
  {
    InheritedListeners inherited({{"public", {fd}}});
    ASSERT_EQ(inherited.untaken().size(), 1u);
    EXPECT_EQ(inherited.untaken().front(), "public 127.0.0.1:" + std::to_string(port));
  }
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed
}

TEST(InheritedListenersTest, ADescriptorThatIsNotAListeningSocketIsRefusedByNumber) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const int unbound = ::socket(AF_INET, SOCK_STREAM, 0);
  ::bind(unbound, Poco::Net::SocketAddress("127.0.0.1", 0).addr(),
         Poco::Net::SocketAddress("127.0.0.1", 0).length());
  const struct {
    int fd;
    const char* found;
  } cases[] = {{pipe_fds[0], "not a socket"}, {unbound, "not listening"}, {999, "not open"}};
  for (const auto& bad : cases) {
    const int good = listeningDescriptor();
    try {
      InheritedListeners inherited({{"public", {good, bad.fd}}});
      ADD_FAILURE() << "accepted descriptor " << bad.fd;
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("public listener's inherited descriptor " + std::to_string(bad.fd)),
                std::string::npos)
          << message;
      EXPECT_NE(message.find(bad.found), std::string::npos) << message;
    }
    EXPECT_EQ(::fcntl(good, F_GETFD), -1);  // nothing kept
  }
  ::close(pipe_fds[1]);
}

}  // namespace
}  // namespace busbar::host
