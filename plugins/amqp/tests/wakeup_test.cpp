#include "wakeup.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <thread>

namespace busbar::amqp {
namespace {

bool readable(const Wakeup& wakeup) {
  pollfd watched{wakeup.fd(), POLLIN, 0};
  return ::poll(&watched, 1, 0) == 1 && (watched.revents & POLLIN) != 0;
}

TEST(WakeupTest, IsReadableFromRaiseUntilClear) {
  Wakeup wakeup;
  EXPECT_FALSE(readable(wakeup));
  EXPECT_FALSE(wakeup.clear());
  wakeup.raise();
  wakeup.raise();
  EXPECT_TRUE(readable(wakeup));
  EXPECT_TRUE(wakeup.clear());  // both raises at once
  EXPECT_FALSE(readable(wakeup));
  EXPECT_FALSE(wakeup.clear());
}

TEST(WakeupTest, ARaiseFromAnotherThreadEndsAPoll) {
  Wakeup wakeup;
  std::thread raiser([&wakeup] { wakeup.raise(); });
  pollfd watched{wakeup.fd(), POLLIN, 0};
  // Without a timeout: the test hangs (and ctest fails it) if the raise is not seen.
  EXPECT_EQ(::poll(&watched, 1, -1), 1);
  raiser.join();
  EXPECT_TRUE(wakeup.clear());
}

}  // namespace
}  // namespace busbar::amqp
