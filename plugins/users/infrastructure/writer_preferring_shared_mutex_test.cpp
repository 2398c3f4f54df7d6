#include "infrastructure/writer_preferring_shared_mutex.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include <gtest/gtest.h>

namespace busbar::users {
namespace {

using namespace std::chrono_literals;

// Once a writer waits behind a reader, a new reader waits too (std::shared_mutex on glibc lets it
// in, and overlapping readers then hold the writer off for as long as they keep coming).
TEST(WriterPreferringSharedMutexTest, ANewReaderWaitsBehindAWaitingWriter) {
  WriterPreferringSharedMutex mutex;
  std::shared_lock<WriterPreferringSharedMutex> first_reader(mutex);
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::unique_lock<WriterPreferringSharedMutex> lock(mutex);
    written = true;
  });
  // The writer queues at some point; from then on no new reader gets in. Bounded so that a mutex
  // that prefers readers fails here instead of hanging.
  bool refused = false;
  for (int attempt = 0; attempt < 20000 && !refused; ++attempt) {
    if (mutex.try_lock_shared()) {
      mutex.unlock_shared();
      std::this_thread::sleep_for(1ms);
    } else {
      refused = true;
    }
  }
  EXPECT_TRUE(refused) << "a new reader got in while a writer waited, for 20000 tries";
  EXPECT_FALSE(written);
  first_reader.unlock();
  writer.join();
  EXPECT_TRUE(written);
  EXPECT_TRUE(mutex.try_lock_shared());
  mutex.unlock_shared();
}

// Readers that overlap without pause do not hold a writer off.
TEST(WriterPreferringSharedMutexTest, OverlappingReadersLetAWriterThrough) {
  WriterPreferringSharedMutex mutex;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        std::shared_lock<WriterPreferringSharedMutex> lock(mutex);
        std::this_thread::sleep_for(100us);  // a reader always holds the lock
      }
    });
  }
  int writes = 0;
  for (; writes < 100; ++writes) {
    std::unique_lock<WriterPreferringSharedMutex> lock(mutex);
  }
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(writes, 100);
}

}  // namespace
}  // namespace busbar::users
