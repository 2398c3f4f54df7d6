#include "process_stop.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace busbar::testing {
namespace {

// Threads that count: more than the cores of most machines, so that some wait for one when the
// signal comes (the case where kill() returns long before they stop).
constexpr int kThreads = 8;

// A child process whose threads each count in memory shared with the test, as fast as they can.
class CountingChild {
 public:
  CountingChild() {
    void* shared = ::mmap(nullptr, sizeof(Counters), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) throw std::runtime_error("mmap failed");
    counters_ = new (shared) Counters();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      std::vector<std::thread> threads;
      for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([this, i] {
          for (;;) counters_->count[i].fetch_add(1, std::memory_order_relaxed);
        });
      }
      for (auto& thread : threads) thread.join();
      ::_exit(0);
    }
  }
  ~CountingChild() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::munmap(counters_, sizeof(Counters));
  }

  pid_t pid() const { return pid_; }
  std::vector<uint64_t> counts() const {
    std::vector<uint64_t> counts;
    for (const auto& count : counters_->count) counts.push_back(count.load());
    return counts;
  }
  bool everyThreadCounted() const {
    for (uint64_t count : counts()) {
      if (count == 0) return false;
    }
    return true;
  }

 private:
  struct Counters {
    std::atomic<uint64_t> count[kThreads] = {};
  };
  Counters* counters_ = nullptr;
  pid_t pid_ = 0;
};

TEST(StopProcessTest, NoThreadRunsOnceItReturns) {
  for (int round = 0; round < 20; ++round) {
    CountingChild child;
    const auto started = std::chrono::steady_clock::now();
    while (!child.everyThreadCounted()) {
      ASSERT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10))
          << "the child's threads did not all start counting";
      std::this_thread::yield();
    }
    ASSERT_TRUE(stopProcess(child.pid()));
    const auto at_return = child.counts();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(child.counts(), at_return) << "round " << round << ": a thread counted on";
    ::kill(child.pid(), SIGCONT);
    const auto resumed = std::chrono::steady_clock::now();
    while (child.counts() == at_return &&
           std::chrono::steady_clock::now() - resumed < std::chrono::seconds(5)) {
      std::this_thread::yield();
    }
    EXPECT_NE(child.counts(), at_return) << "round " << round << ": nothing ran after SIGCONT";
  }
}

TEST(StopProcessTest, AProcessThatIsGoneIsNotStopped) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  EXPECT_FALSE(stopProcess(pid));
}

// Returns once `child` counts on (within 5 s), or fails the test.
void expectCountsOn(const CountingChild& child, const std::string& when) {
  const auto before = child.counts();
  const auto since = std::chrono::steady_clock::now();
  while (child.counts() == before &&
         std::chrono::steady_clock::now() - since < std::chrono::seconds(5)) {
    std::this_thread::yield();
  }
  EXPECT_NE(child.counts(), before) << when << ": nothing ran";
}

TEST(FrozenProcessTest, HoldsTheProcessUntilThawedOrGone) {
  CountingChild child;
  expectCountsOn(child, "before the freeze");
  {
    FrozenProcess frozen(child.pid(), "the counting child");
    const auto frozen_at = child.counts();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(child.counts(), frozen_at) << "a thread counted while frozen";
  }
  expectCountsOn(child, "once the FrozenProcess went");
  FrozenProcess frozen(child.pid(), "the counting child");
  frozen.thaw();
  expectCountsOn(child, "after thaw()");
  frozen.thaw();  // once only: nothing more to send
}

TEST(FrozenProcessTest, AProcessStoppedElsewhereGoesOnWhenTheObjectEnds) {
  CountingChild child;
  expectCountsOn(child, "before the freeze");
  ASSERT_TRUE(stopProcess(child.pid()));
  {
    FrozenProcess frozen(child.pid(), FrozenProcess::AlreadyStopped{});
    const auto frozen_at = child.counts();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(child.counts(), frozen_at) << "a thread counted while frozen";
  }
  expectCountsOn(child, "once the FrozenProcess went");
}

TEST(FrozenProcessTest, AProcessThatIsGoneThrowsNamingIt) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  for (pid_t refused : {pid, pid_t{0}, pid_t{-1}}) {  // 0 and -1 would stop a group
    try {
      FrozenProcess frozen(refused, "the vanished child");
      ADD_FAILURE() << "no exception for pid " << refused;
    } catch (const std::runtime_error& error) {
      EXPECT_NE(
          std::string(error.what())
              .find("the vanished child (pid " + std::to_string(refused) + "): no such process"),
          std::string::npos)
          << error.what();
    }
  }
}

}  // namespace
}  // namespace busbar::testing
