// The event log's contract on every backend: sequence numbers a reader never skips while
// writers' commits interleave, numberings that race give each event one number, and ambiguous
// commits settled behind the transaction that may still hold the event. Each
// test has a database of its own (the log's tables have fixed names).
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
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
        const std::string id = "w" + std::to_string(w) + "-" + std::to_string(i);
        // As the outbox writes: the module's work, the events last, a slow commit (the window
        // in which a late commit could slip under a reader's position), numbers after it.
        storage_->transaction([&](Connection& tx) {
          int now_open = ++open;
          int seen = most_open.load();
          while (now_open > seen && !most_open.compare_exchange_weak(seen, now_open)) {
          }
          std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
          if (log_->numbersInsideTransactions()) {
            EventLog::appendNumbered(tx, {host::LoggedEvent{0, eventNamed(id), ""}}, 0);
          } else {
            EventLog::append(tx, {host::LoggedEvent{0, eventNamed(id), ""}}, 0);
          }
          std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
          --open;
        });
        if (!log_->numbersInsideTransactions()) {
          ASSERT_EQ(log_->numberAfterCommit({id}).count(id), 1u) << id << " got no number";
        }
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

TEST_P(EventLogContract, NumberingsOnSeveralConnectionsAtOnceGiveEachEventOneNumber) {
  // Writers that committed and now number at once, as servers do after their commits.
  for (int i = 0; i < 200; ++i) {
    storage_->transaction([&](Connection& tx) {
      EventLog::append(tx, {host::LoggedEvent{0, eventNamed("n" + std::to_string(i)), ""}}, i);
    });
  }
  std::vector<std::thread> numberers;
  std::mutex mutex;
  std::map<std::string, uint64_t> given;
  for (int t = 0; t < 4; ++t) {
    numberers.emplace_back([&] {
      for (int round = 0; round < 5; ++round) {
        auto numbers = log_->numberAfterCommit({});
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& [id, seq] : numbers) {
          EXPECT_TRUE(given.emplace(id, seq).second) << id << " numbered twice";
        }
      }
    });
  }
  for (auto& thread : numberers) thread.join();
  EXPECT_EQ(given.size(), 200u);
  EXPECT_EQ(log_->head().seq, 200u);
  std::set<uint64_t> seqs;
  for (const auto& [id, seq] : given) seqs.insert(seq);
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), 200u);
  // In the order they were logged.
  EXPECT_EQ(given.at("n0"), 1u);
  EXPECT_EQ(given.at("n199"), 200u);
}

TEST_P(EventLogContract, NumberingsOfTheSameEventsAtOnceGiveEachEventOneNumber) {
  // A server numbering its own events while the relay numbers every one left without: four
  // numberers over overlapping lists of the same events, and one over all of them.
  constexpr int kEvents = 200;
  std::vector<std::string> ids;
  for (int i = 0; i < kEvents; ++i) {
    ids.push_back("s" + std::to_string(i));
    storage_->transaction([&](Connection& tx) {
      EventLog::append(tx, {host::LoggedEvent{0, eventNamed(ids.back()), ""}}, i);
    });
  }
  std::mutex mutex;
  std::map<std::string, std::set<uint64_t>> reported;
  auto record = [&](const EventLog::Numbers& numbers) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& [id, seq] : numbers) reported[id].insert(seq);
  };
  std::vector<std::thread> numberers;
  for (int t = 0; t < 4; ++t) {
    numberers.emplace_back([&, t] {
      for (int start = t * 5; start < kEvents; start += 10) {
        std::vector<std::string> list;
        for (int i = start; i < std::min(kEvents, start + 15); ++i) list.push_back(ids[i]);
        record(log_->numberAfterCommit(list));
      }
    });
  }
  numberers.emplace_back([&] {
    for (int round = 0; round < 5; ++round) record(log_->numberAfterCommit({}));
  });
  for (auto& thread : numberers) thread.join();
  record(log_->numberAfterCommit({}));  // what every list missed
  std::set<uint64_t> seqs;
  for (const auto& id : ids) {
    ASSERT_EQ(reported[id].size(), 1u) << id << " was reported with several numbers";
    seqs.insert(*reported[id].begin());
  }
  EXPECT_EQ(seqs.size(), static_cast<size_t>(kEvents)) << "two events share a number";
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), static_cast<uint64_t>(kEvents)) << "the numbers have a hole";
  EXPECT_EQ(log_->head().seq, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(log_->numbersOf(ids).size(), static_cast<size_t>(kEvents));
}

TEST_P(EventLogContract, AnOpenTransactionsCommitIsSettledOnceItEnds) {
  host::SettleOptions options;
  options.deadline = std::chrono::seconds(10);
  for (bool commits : {true, false}) {
    const std::string id = commits ? "commits" : "rolls-back";
    std::atomic<bool> appended{false};
    std::thread writer([&] {
      try {
        storage_->transaction([&](Connection& tx) {
          EventLog::append(tx, {host::LoggedEvent{0, eventNamed(id), ""}}, 0);
          appended = true;
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          if (!commits) throw std::runtime_error("rolled back");
        });
      } catch (const std::runtime_error&) {
      }
    });
    while (!appended) std::this_thread::yield();
    // The writer holds the id: the settling's probe waits behind it and then decides.
    std::string detail;
    auto outcome = host::settleCommit(*log_, id, options, detail);
    writer.join();
    EXPECT_EQ(outcome,
              commits ? host::CommitOutcome::kCommitted : host::CommitOutcome::kNotCommitted)
        << (commits ? "commit: " : "rollback: ") << detail;
    EXPECT_EQ(log_->contains(id), commits);  // the probe left nothing behind
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, EventLogContract, ::testing::ValuesIn(storageDrivers()),
                         driverName);

}  // namespace
}  // namespace busbar::testing
