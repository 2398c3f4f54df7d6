#include "http/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>

namespace busbar::host {
namespace {

using namespace std::chrono_literals;

TEST(WorkerPoolTest, RunsJobsOnItsOwnThreadsAtMostThatManyAtOnce) {
  WorkerPool pool(3);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::atomic<int> running{0}, most{0}, done{0};
  for (int i = 0; i < 30; ++i) {
    pool.submit([&](bool dropped) {
      ASSERT_FALSE(dropped);
      int now = ++running;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        threads.insert(std::this_thread::get_id());
      }
      std::this_thread::sleep_for(2ms);
      --running;
      ++done;
    });
  }
  while (done < 30) std::this_thread::sleep_for(1ms);
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 2);  // they did run side by side
  EXPECT_LE(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(WorkerPoolTest, StopWaitsForRunningJobsAndDropsQueuedOnes) {
  WorkerPool pool(1);
  std::promise<void> started, release;
  auto released = release.get_future().share();
  std::atomic<bool> first_finished{false};
  pool.submit([&](bool) {
    started.set_value();
    released.wait();
    first_finished = true;
  });
  started.get_future().wait();
  std::atomic<int> dropped{0}, ran{0};
  for (int i = 0; i < 5; ++i) {
    pool.submit([&](bool was_dropped) { was_dropped ? ++dropped : ++ran; });
  }
  EXPECT_EQ(pool.queued(), 5u);
  auto stopping = std::async(std::launch::async, [&] { pool.stop(); });
  EXPECT_EQ(stopping.wait_for(50ms), std::future_status::timeout);  // the running job holds it
  release.set_value();
  stopping.wait();
  EXPECT_TRUE(first_finished);
  EXPECT_EQ(dropped, 5);
  EXPECT_EQ(ran, 0);

  bool late_dropped = false;
  pool.submit([&](bool was_dropped) { late_dropped = was_dropped; });
  EXPECT_TRUE(late_dropped);
}

}  // namespace
}  // namespace busbar::host

namespace busbar::host {
namespace {

TEST(WorkerPoolTest, PastMaxQueuedSubmitRefusesAndATakenBackJobFreesItsPlace) {
  WorkerPool pool(1, /*max_queued=*/2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0};
  auto blocked = [&, released](bool) {
    released.wait();
    ++ran;
  };
  auto running = pool.submit(blocked);  // runs, and holds the one worker
  ASSERT_TRUE(running);
  while (pool.queued() != 0) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(pool.takeBack(running));  // a worker has it
  auto first = pool.submit(blocked);
  auto second = pool.submit(blocked);
  ASSERT_TRUE(first && second);
  bool called = false;
  EXPECT_FALSE(pool.submit([&](bool) { called = true; }));  // the queue is full
  EXPECT_EQ(pool.queued(), 2u);
  std::this_thread::sleep_for(20ms);
  EXPECT_GE(pool.oldestWait(), 20ms);
  // Taken back, a job leaves the queue at once and is never called.
  EXPECT_TRUE(pool.takeBack(second));
  EXPECT_FALSE(pool.takeBack(second));
  EXPECT_EQ(pool.queued(), 1u);
  EXPECT_TRUE(pool.submit(blocked));  // its place is free
  release.set_value();
  while (ran < 3) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(ran, 3);
  EXPECT_FALSE(called);
  EXPECT_EQ(pool.started(), 3u);
  EXPECT_GE(pool.waited(), 20ms);
  EXPECT_EQ(pool.oldestWait(), 0ns);
}

}  // namespace
}  // namespace busbar::host
