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
          // This writer's own round, or another's that ran after this commit, numbered it.
          log_->numberOldest();
          ASSERT_EQ(log_->numbersOf({id}).count(id), 1u) << id << " got no number";
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

TEST_P(EventLogContract, ANumberingThatReadBeforeAnotherNumberedChangesNothing) {
  // What a numbering frozen between its read and its compare-and-set finds when it resumes.
  if (log_->numbersInsideTransactions()) {
    GTEST_SKIP() << "SQLite numbers inside each writer's transaction: no numbering to race";
  }
  auto log = [&](const std::string& id) {
    storage_->transaction([&](Connection& tx) {
      EventLog::append(tx, {host::LoggedEvent{0, eventNamed(id), ""}}, 0);
    });
  };
  log("a");
  log("b");
  const EventLog::Waiting stale = log_->waiting();
  EXPECT_EQ(stale.head, 0);
  EXPECT_EQ(stale.ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(log_->numberOldest().numbers, (EventLog::Numbers{{"a", 1}, {"b", 2}}));
  log("c");
  EXPECT_TRUE(log_->numberIfHeadUnmoved(stale).empty());
  EXPECT_EQ(log_->head().seq, 2u);
  EXPECT_EQ(log_->numbersOf({"a", "b", "c"}), (EventLog::Numbers{{"a", 1}, {"b", 2}}));
  const EventLog::Waiting fresh = log_->waiting();
  EXPECT_EQ(fresh.head, 2);
  EXPECT_EQ(log_->numberIfHeadUnmoved(fresh), (EventLog::Numbers{{"c", 3}}));
  EXPECT_EQ(log_->head().seq, 3u);
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
        auto numbers = log_->numberOldest().numbers;
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

TEST_P(EventLogContract, NumberingsRacingWritersNumberEachKeysVersionsInTheirOrder) {
  // Writers on several connections update the same few keys, each write logging the key's next
  // version after the previous version committed, as the users module does; numberers race them.
  // Every key's versions must get increasing numbers: the order every subscriber gets them in.
  constexpr int kKeys = 5;
  constexpr int kWriters = 4;
  constexpr int kEach = 30;
  std::mutex key_locks[kKeys];
  std::mutex versions_mutex;
  std::map<int, int> version_of;                       // key -> last committed version
  std::map<std::string, std::pair<int, int>> written;  // event id -> (key, version)
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kEach; ++i) {
        const int key = (w + i) % kKeys;
        const std::string id =
            "k" + std::to_string(key) + "-w" + std::to_string(w) + "-" + std::to_string(i);
        // The key's version is taken and committed under the key's lock, as a row lock orders
        // one key's writes in the database; other keys' writes run meanwhile.
        std::lock_guard<std::mutex> key_lock(key_locks[key]);
        int version = 0;
        {
          std::lock_guard<std::mutex> lock(versions_mutex);
          version = version_of[key] + 1;
        }
        storage_->transaction([&](Connection& tx) {
          host::LoggedEvent logged{0, eventNamed(id), ""};
          logged.event.version = version;
          if (log_->numbersInsideTransactions()) {
            EventLog::appendNumbered(tx, {logged}, 0);
          } else {
            EventLog::append(tx, {logged}, 0);
          }
        });
        std::lock_guard<std::mutex> lock(versions_mutex);
        version_of[key] = version;
        written[id] = {key, version};
      }
    });
  }
  for (int n = 0; n < 2; ++n) {
    threads.emplace_back([&] {
      while (writing) {
        if (!log_->numbersInsideTransactions()) log_->numberOldest();
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[static_cast<size_t>(w)].join();
  writing = false;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  if (!log_->numbersInsideTransactions()) {
    while (log_->numberOldest().more) {
    }
  }
  std::map<int, int> last_version;
  uint64_t count = 0;
  for (const auto& logged : log_->readAfter(0, kWriters * kEach + 1)) {
    ++count;
    const auto& [key, version] = written.at(logged.event.id);
    EXPECT_GT(version, last_version[key])
        << "key " << key << ": version " << version << " numbered " << logged.seq << ", after "
        << last_version[key];
    last_version[key] = version;
  }
  EXPECT_EQ(count, static_cast<uint64_t>(kWriters * kEach));
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

TEST_P(EventLogContract, ATableMadeAgainChangesItsIdentityAndWritesDoNot) {
  storage_->execute("CREATE TABLE restored_rows (id INTEGER PRIMARY KEY)");
  const auto made = log_->tableIdentities();
  ASSERT_EQ(made, log_->tableIdentities());
  if (GetParam() != "sqlite") {
    EXPECT_EQ(made.count("restored_rows"), 1u);
    EXPECT_EQ(made.count("busbar_events"), 1u);
  }
  storage_->execute("INSERT INTO restored_rows (id) VALUES (1)");
  storage_->execute("UPDATE restored_rows SET id = 2");
  storage_->transaction([](Connection& tx) {
    EventLog::append(tx, {host::LoggedEvent{0, eventNamed("written"), ""}}, 0);
  });
  log_->numberOldest();
  EXPECT_EQ(log_->tableIdentities(), made);
  // MariaDB tells a table's creation time by the second only.
  if (GetParam() == "mysql") std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  storage_->execute("DROP TABLE restored_rows");
  storage_->execute("CREATE TABLE restored_rows (id INTEGER PRIMARY KEY)");
  EXPECT_NE(log_->tableIdentities(), made);
}

INSTANTIATE_TEST_SUITE_P(Backends, EventLogContract, ::testing::ValuesIn(storageDrivers()),
                         driverName);

}  // namespace
}  // namespace busbar::testing
