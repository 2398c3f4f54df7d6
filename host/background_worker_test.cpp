#include "background_worker.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>

namespace busbar::host {
namespace {

using namespace std::chrono_literals;

// Long enough that a wait which ends has been woken, not timed out; a test that fails hangs.
constexpr auto kForever = 1h;
// How long a test waits for what must happen at once before it gives up.
constexpr auto kPatience = 60s;

TEST(BackgroundWorkerTest, StopWithoutStartDoesNothing) {
  BackgroundWorker worker;
  worker.stop();
  worker.stop();
  EXPECT_FALSE(worker.running());
}

TEST(BackgroundWorkerTest, StartAndStopAreIdempotentAndItStartsAgain) {
  BackgroundWorker worker;
  std::atomic<int> loops{0};
  auto loop = [&] {
    ++loops;
    std::unique_lock<std::mutex> lock(worker.mutex());
    while (!worker.stopping()) worker.waitFor(lock, kForever);
  };
  worker.start("bb-test", loop);
  worker.start("bb-test", loop);
  EXPECT_TRUE(worker.running());
  worker.stop();
  worker.stop();
  EXPECT_FALSE(worker.running());
  EXPECT_EQ(loops, 1);

  worker.start("bb-test", loop);
  {
    std::lock_guard<std::mutex> lock(worker.mutex());
    EXPECT_FALSE(worker.stopping());
  }
  worker.stop();
  EXPECT_EQ(loops, 2);
}

TEST(BackgroundWorkerTest, StopEndsALongWaitAtOnce) {
  BackgroundWorker worker;
  std::promise<void> waiting;
  bool woken_early = false;
  bool stopping = false;
  worker.start("bb-test", [&] {
    std::unique_lock<std::mutex> lock(worker.mutex());
    const auto deadline = BackgroundWorker::Clock::now() + kForever;
    // The wait releases the lock atomically: once stop() takes it, the loop waits.
    waiting.set_value();
    worker.waitUntil(lock, deadline, [] { return false; });
    woken_early = BackgroundWorker::Clock::now() < deadline;
    stopping = worker.stopping();
  });
  waiting.get_future().wait();
  worker.stop();
  EXPECT_TRUE(woken_early);
  EXPECT_TRUE(stopping);
}

TEST(BackgroundWorkerTest, AWaitWithNoDeadlineEndsOnStop) {
  BackgroundWorker worker;
  bool returned = false;
  worker.start("bb-test", [&] {
    std::unique_lock<std::mutex> lock(worker.mutex());
    returned =
        worker.waitUntil(lock, BackgroundWorker::Clock::time_point::max(), [] { return false; });
  });
  worker.stop();
  EXPECT_TRUE(returned);
}

TEST(BackgroundWorkerTest, WakeEndsTheWaitOnceThePredicateHolds) {
  BackgroundWorker worker;
  bool poked = false;  // under worker.mutex()
  std::promise<bool> woken;
  worker.start("bb-test", [&] {
    std::unique_lock<std::mutex> lock(worker.mutex());
    const bool ready = worker.waitFor(lock, kForever, [&] { return poked; });
    woken.set_value(ready && !worker.stopping());
    while (!worker.stopping()) worker.waitFor(lock, kForever);
  });
  auto result = woken.get_future();
  {
    std::lock_guard<std::mutex> lock(worker.mutex());
    poked = true;
  }
  worker.wake();
  ASSERT_EQ(result.wait_for(kPatience), std::future_status::ready);
  EXPECT_TRUE(result.get());
  worker.stop();
}

std::string threadName() {
  char name[16] = {};
  ::pthread_getname_np(::pthread_self(), name, sizeof name);
  return name;
}

TEST(BackgroundWorkerTest, NamesItsThreadCutToFifteenCharacters) {
  BackgroundWorker worker;
  std::string seen;
  worker.start("bb-numberer", [&] { seen = threadName(); });
  worker.stop();
  EXPECT_EQ(seen, "bb-numberer");

  worker.start("bb-a-name-too-long-for-linux", [&] { seen = threadName(); });
  worker.stop();
  EXPECT_EQ(seen, "bb-a-name-too-l");
}

}  // namespace
}  // namespace busbar::host
