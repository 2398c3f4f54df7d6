// The event log's contract on every backend: sequence numbers a reader never skips while
// writers' commits interleave, and ambiguous commits settled behind the head row's lock. Each
// test has a database of its own (the log's tables have fixed names).
#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "events/commit_settler.h"
#include "events/event_log.h"
#include "service_database.h"
#include "storage_backends.h"
#include "storage_contract.h"

namespace busbar::testing {
namespace {

using host::EventLog;

Event eventNamed(const std::string& id) {
  Event event;
  event.type = "Tested";
  event.id = id;
  event.origin = "contract";
  event.version = 1;
  return event;
}

class EventLogContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto keys = GetParam() == "sqlite" ? storageKeys("sqlite") : createServiceDatabase(GetParam());
    keys["pool.max"] = "16";
    storage_ = openStorageFrom(GetParam(), keys);
    for (auto& migration : EventLog::migrations()) {
      storage_->transaction([&](Connection& tx) { migration.apply(tx); });
    }
    log_ = std::make_unique<EventLog>(*storage_);
  }

  std::shared_ptr<sql::PocoDataConnection> storage_;
  std::unique_ptr<EventLog> log_;
};

TEST_P(EventLogContract, AReaderAtTheLastSeqItSawNeverSkipsACommitThatComesLate) {
  constexpr int kWriters = 4;
  constexpr int kEach = 40;
  std::atomic<int> open{0};
  std::atomic<int> most_open{0};
  std::atomic<int> writers_done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 random(static_cast<unsigned>(w));
      for (int i = 0; i < kEach; ++i) {
        storage_->transaction([&](Connection& tx) {
          int now_open = ++open;
          int seen = most_open.load();
          while (now_open > seen && !most_open.compare_exchange_weak(seen, now_open)) {
          }
          // Work before the log, as a module's write; then the numbers, then a slow commit: the
          // window in which a late commit could slip under a reader's position.
          std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
          EventLog::append(tx, {eventNamed("w" + std::to_string(w) + "-" + std::to_string(i))}, 0);
          std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
          --open;
        });
      }
      ++writers_done;
    });
  }
  // The reader polls as a follower does: everything after the last seq it saw.
  std::vector<uint64_t> seen;
  std::set<std::string> ids;
  uint64_t last = 0;
  while (writers_done < kWriters || last < kWriters * kEach) {
    for (const auto& logged : log_->readAfter(last, 100)) {
      ASSERT_EQ(logged.seq, last + 1) << "the reader skipped a sequence number";
      last = logged.seq;
      seen.push_back(logged.seq);
      EXPECT_TRUE(ids.insert(logged.event.id).second) << logged.event.id << " read twice";
    }
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kWriters * kEach));
  EXPECT_EQ(log_->head().seq, static_cast<uint64_t>(kWriters * kEach));
  if (GetParam() == "sqlite") {
    // SQLite lets one transaction write at a time (the connection queues them): nothing to
    // interleave, and the numbers follow trivially.
    EXPECT_EQ(most_open.load(), 1);
  } else {
    // The transactions really overlapped: their commits interleaved with each other's work.
    EXPECT_GE(most_open.load(), 2);
  }
}

TEST_P(EventLogContract, AnOpenTransactionsCommitIsSettledOnceItEnds) {
  host::SettleOptions options;
  options.deadline = std::chrono::seconds(10);
  for (bool commits : {true, false}) {
    std::atomic<uint64_t> taken{0};
    std::thread writer([&] {
      try {
        storage_->transaction([&](Connection& tx) {
          taken = EventLog::append(tx, {eventNamed(commits ? "commits" : "rolls-back")}, 0);
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          if (!commits) throw std::runtime_error("rolled back");
        });
      } catch (const std::runtime_error&) {
      }
    });
    while (taken == 0) std::this_thread::yield();
    // The head row is locked by the writer: the settling waits behind it and then decides.
    std::string detail;
    auto outcome =
        host::settleCommit(*log_, taken, commits ? "commits" : "rolls-back", options, detail);
    writer.join();
    EXPECT_EQ(outcome,
              commits ? host::CommitOutcome::kCommitted : host::CommitOutcome::kNotCommitted)
        << (commits ? "commit: " : "rollback: ") << detail;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, EventLogContract, ::testing::ValuesIn(storageDrivers()),
                         driverName);

}  // namespace
}  // namespace busbar::testing
