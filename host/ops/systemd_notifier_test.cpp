#include "ops/systemd_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace busbar::host {
namespace {

// A datagram socket standing where systemd's notify socket would, and the environment that
// names it; both undone at the end.
class NotifySocket {
 public:
  explicit NotifySocket(bool abstract) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    name_ = (abstract ? "@busbar-notify-test-" : "/tmp/busbar-notify-test-") +
            std::to_string(::getpid());
    std::memcpy(address.sun_path, name_.data(), name_.size());
    if (abstract) address.sun_path[0] = '\0';
    if (!abstract) ::unlink(name_.c_str());
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0;
    ::setenv("NOTIFY_SOCKET", name_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    if (name_[0] == '/') ::unlink(name_.c_str());
  }
  bool bound() const { return bound_; }
  std::string receive() const {
    char buffer[512];
    const ssize_t size = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    return size > 0 ? std::string(buffer, static_cast<size_t>(size)) : std::string();
  }

 private:
  int fd_;
  std::string name_;
  bool bound_ = false;
};

TEST(SystemdNotifierTest, WithoutNotifySocketNothingIsSent) {
  ::unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.notify("READY=1"));
}

TEST(SystemdNotifierTest, StatesReachAPathSocket) {
  NotifySocket socket(/*abstract=*/false);
  ASSERT_TRUE(socket.bound());
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.enabled());
  EXPECT_TRUE(notifier.notify("READY=1\nSTATUS=serving"));
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=serving");
}

TEST(SystemdNotifierTest, StatesReachAnAbstractSocket) {
  NotifySocket socket(/*abstract=*/true);
  ASSERT_TRUE(socket.bound());
  SystemdNotifier notifier;
  EXPECT_TRUE(notifier.notify("STOPPING=1"));
  EXPECT_EQ(socket.receive(), "STOPPING=1");
}

TEST(SystemdNotifierTest, TheWatchdogIsOursOnlyWhenItNamesThisProcess) {
  ::setenv("WATCHDOG_USEC", "3000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(SystemdNotifier().watchdogInterval(), std::chrono::seconds(3));
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  EXPECT_EQ(SystemdNotifier().watchdogInterval().count(), 0);
  ::unsetenv("WATCHDOG_PID");
  EXPECT_EQ(SystemdNotifier().watchdogInterval(), std::chrono::seconds(3));
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(SystemdNotifier().watchdogInterval().count(), 0);
}

}  // namespace
}  // namespace busbar::host
