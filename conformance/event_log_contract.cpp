// The event log's contract (busbar-conformance event-log), over the EventLogStorage a storage
// plugin provides: sequence numbers a reader never skips while writers' commits interleave,
// numberings that race give each event one number and one key's versions numbers in their order,
// a writer frozen inside its transaction stops no numbering, ambiguous commits settled behind
// the transaction that may still hold the event, tables made again told from tables written, and,
// where the storage implements EventLogStorage2 (optional, SDK 1.6), who caused each event kept
// with it and a prune that deletes nothing once the relay lease moved on; a storage without it
// is told so, and those checks alone are skipped.
//
// The tests share the one database of the run's config: each starts where the log is (its head,
// with everything waiting numbered first) and names its events with a prefix of its own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "busbar/event_log_storage.h"
#include "contract_fixture.h"
#include "events/commit_settler.h"

namespace busbar::conformance {
namespace {

using Numbering = EventLogStorage::Numbering;

Event eventNamed(const std::string& id) {
  Event event;
  event.type = "Tested";
  event.id = id;
  event.origin = "contract";
  event.version = 1;
  return event;
}

// How long a test waits for the plugin before it reports a hang instead of waiting on (not a
// performance bound: every wait below ends far sooner on a working plugin).
constexpr std::chrono::seconds kLogCallHang{120};

// A test's threads, joined however the test ends: an assertion that returns early fails the test
// instead of ending the run with std::terminate on a joinable thread.
class JoinedThreads {
 public:
  ~JoinedThreads() { join(); }
  template <typename Body>
  void start(Body body) {
    threads_.emplace_back(failsTheTestOnThrow(std::move(body)));
  }
  void join() {
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  std::vector<std::thread> threads_;
};

// The intended rollback of a test's transaction, told apart from a failure of the plugin.
struct RolledBack {};

class EventLogContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    instance_ = pluginUnderTest().start();
    storage_ = instance_->find<Connection>("storage");
    ASSERT_NE(storage_, nullptr) << "the plugin provides no \"storage\" (a busbar::Connection)";
    log_ = instance_->find<EventLogStorage>(kEventLogStorageService);
    ASSERT_NE(log_, nullptr) << "the plugin provides no \"" << kEventLogStorageService
                             << "\" (a busbar::EventLogStorage, busbar/event_log_storage.h)";
    instance_->migrate(log_->migrationModule(), log_->migrations());
    if (log_->numbering() == Numbering::kAfterCommit) {
      while (log_->numberOldest().more) {
      }
    }
    base_ = log_->head().seq;
    prefix_ = uniqueTableName("e") + "-";
  }

  // This test's event id `name`.
  std::string id(const std::string& name) const { return prefix_ + name; }

  // Logs `logged` in a transaction of its own, numbered as a writer of this backend does.
  void write(const LoggedEvent& logged) {
    storage_->transaction([&](Connection& tx) {
      if (log_->numbering() == Numbering::kByWriter) {
        log_->appendNumbered(tx, {logged}, nowMicros());
      } else {
        log_->append(tx, {logged}, nowMicros());
      }
    });
  }

  // Marks every numbered event confirmed: what earlier tests left unconfirmed would hold pruning
  // back.
  void confirmWholeLog() {
    for (uint64_t after = 0;;) {
      const auto page = log_->readAfter(after, 500);
      if (page.empty()) break;
      std::vector<std::string> ids;
      for (const auto& logged : page) ids.push_back(logged.event.id);
      log_->mark(ids, EventLogStorage::Publication::kConfirmed);
      after = page.back().seq;
    }
  }

  static int64_t nowMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::unique_ptr<PluginInstance> instance_;
  std::shared_ptr<Connection> storage_;
  std::shared_ptr<EventLogStorage> log_;
  uint64_t base_ = 0;   // the head when the test began
  std::string prefix_;  // of this test's event ids
};

TEST_P(EventLogContract, AReaderAtTheLastSeqItSawNeverSkipsACommitThatComesLate) {
  constexpr int kWriters = 4;
  constexpr int kEach = 40;
  std::atomic<int> open{0};
  std::atomic<int> most_open{0};
  std::atomic<int> writers_done{0};
  JoinedThreads writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.start([&, w] {
      // Counted however the writer ends, so that the reader stops waiting for it.
      struct CountsDone {
        std::atomic<int>& done;
        ~CountsDone() { ++done; }
      } counts_done{writers_done};
      std::mt19937 random(static_cast<unsigned>(w));
      for (int i = 0; i < kEach; ++i) {
        const std::string id = this->id("w" + std::to_string(w) + "-" + std::to_string(i));
        // As the outbox writes: the module's work, the events last, a slow commit (the window
        // in which a late commit could slip under a reader's position), numbers after it.
        storage_->transaction([&](Connection& tx) {
          int now_open = ++open;
          int seen = most_open.load();
          while (now_open > seen && !most_open.compare_exchange_weak(seen, now_open)) {
          }
          std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
          if (log_->numbering() == Numbering::kByWriter) {
            log_->appendNumbered(tx, {LoggedEvent{0, eventNamed(id), ""}}, nowMicros());
          } else {
            log_->append(tx, {LoggedEvent{0, eventNamed(id), ""}}, nowMicros());
          }
          std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
          --open;
        });
        if (log_->numbering() == Numbering::kAfterCommit) {
          // This writer's own round, or another's that ran after this commit, numbered it.
          log_->numberOldest();
          ASSERT_EQ(log_->numbersOf({id}).count(id), 1u) << id << " got no number";
        }
      }
    });
  }
  // The reader polls as a follower does: everything after the last seq it saw.
  std::vector<uint64_t> seen;
  std::set<std::string> ids;
  uint64_t last = base_;
  bool skipped = false;
  const auto give_up = std::chrono::steady_clock::now() + kLogCallHang;
  while (!skipped && (writers_done < kWriters || last < base_ + kWriters * kEach)) {
    if (std::chrono::steady_clock::now() > give_up) {
      ADD_FAILURE() << "the reader reached seq " << last << " of " << base_ + kWriters * kEach
                    << " in " << kLogCallHang.count() << " s";
      break;
    }
    const auto events = log_->readAfter(last, 100);
    for (const auto& logged : events) {
      if (logged.seq != last + 1) {
        ADD_FAILURE() << "the reader at seq " << last << " read " << logged.seq
                      << ": it skipped a sequence number";
        skipped = true;
        break;
      }
      last = logged.seq;
      seen.push_back(logged.seq);
      EXPECT_TRUE(ids.insert(logged.event.id).second) << logged.event.id << " read twice";
    }
    if (events.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  writers.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kWriters * kEach));
  EXPECT_EQ(log_->head().seq, base_ + kWriters * kEach);
  if (log_->numbering() == Numbering::kByWriter) {
    // One transaction writes at a time (SQLite's connection queues them): nothing to interleave,
    // and the numbers follow trivially.
    EXPECT_EQ(most_open.load(), 1);
  } else {
    // The transactions really overlapped: their commits interleaved with each other's work.
    EXPECT_GE(most_open.load(), 2);
  }
}

TEST_P(EventLogContract, NumberingsOnSeveralConnectionsAtOnceGiveEachEventOneNumber) {
  // Writers that committed and now number at once, as servers do after their commits.
  if (log_->numbering() == Numbering::kByWriter) {
    GTEST_SKIP() << "this backend numbers inside each writer's transaction: no numbering to race";
  }
  for (int i = 0; i < 200; ++i) {
    storage_->transaction([&](Connection& tx) {
      log_->append(tx, {LoggedEvent{0, eventNamed(id("n" + std::to_string(i))), ""}},
                   nowMicros() + i);
    });
  }
  // Each numberer on an instance of its own, as each server has.
  std::vector<std::unique_ptr<PluginInstance>> servers;
  std::vector<std::shared_ptr<EventLogStorage>> logs;
  for (int t = 0; t < 4; ++t) {
    servers.push_back(pluginUnderTest().start());
    logs.push_back(servers.back()->find<EventLogStorage>(kEventLogStorageService));
    ASSERT_NE(logs.back(), nullptr);
  }
  std::mutex mutex;
  std::map<std::string, uint64_t> given;
  JoinedThreads numberers;
  for (int t = 0; t < 4; ++t) {
    numberers.start([&, t] {
      for (int round = 0; round < 5; ++round) {
        auto numbers = logs[static_cast<size_t>(t)]->numberOldest().numbers;
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& [id, seq] : numbers) {
          EXPECT_TRUE(given.emplace(id, seq).second) << id << " numbered twice";
        }
      }
    });
  }
  numberers.join();
  ASSERT_EQ(given.size(), 200u);
  EXPECT_EQ(log_->head().seq, base_ + 200);
  std::set<uint64_t> seqs;
  for (const auto& [id, seq] : given) seqs.insert(seq);
  EXPECT_EQ(*seqs.begin(), base_ + 1);
  EXPECT_EQ(*seqs.rbegin(), base_ + 200);
  // In the order they were logged.
  EXPECT_EQ(given.at(id("n0")), base_ + 1);
  EXPECT_EQ(given.at(id("n199")), base_ + 200);
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
  JoinedThreads writers;
  JoinedThreads numberers;
  for (int w = 0; w < kWriters; ++w) {
    writers.start([&, w] {
      for (int i = 0; i < kEach; ++i) {
        const int key = (w + i) % kKeys;
        const std::string id = this->id("k" + std::to_string(key) + "-w" + std::to_string(w) + "-" +
                                        std::to_string(i));
        // The key's version is taken and committed under the key's lock, as a row lock orders
        // one key's writes in the database; other keys' writes run meanwhile.
        std::lock_guard<std::mutex> key_lock(key_locks[key]);
        int version = 0;
        {
          std::lock_guard<std::mutex> lock(versions_mutex);
          version = version_of[key] + 1;
        }
        storage_->transaction([&](Connection& tx) {
          LoggedEvent logged{0, eventNamed(id), ""};
          logged.event.version = version;
          if (log_->numbering() == Numbering::kByWriter) {
            log_->appendNumbered(tx, {logged}, nowMicros());
          } else {
            log_->append(tx, {logged}, nowMicros());
          }
        });
        std::lock_guard<std::mutex> lock(versions_mutex);
        version_of[key] = version;
        written[id] = {key, version};
      }
    });
  }
  for (int n = 0; n < 2; ++n) {
    numberers.start([&] {
      while (writing) {
        if (log_->numbering() == Numbering::kAfterCommit) log_->numberOldest();
      }
    });
  }
  writers.join();
  writing = false;
  numberers.join();
  if (log_->numbering() == Numbering::kAfterCommit) {
    while (log_->numberOldest().more) {
    }
  }
  std::map<int, int> last_version;
  uint64_t count = 0;
  for (const auto& logged : log_->readAfter(base_, kWriters * kEach + 1)) {
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
    const std::string id = this->id(commits ? "commits" : "rolls-back");
    std::promise<void> appended;
    JoinedThreads writer;
    writer.start([&] {
      bool told = false;
      try {
        storage_->transaction([&](Connection& tx) {
          const std::vector<LoggedEvent> events = {LoggedEvent{0, eventNamed(id), ""}};
          if (log_->numbering() == Numbering::kByWriter) {
            log_->appendNumbered(tx, events, nowMicros());
          } else {
            log_->append(tx, events, nowMicros());
          }
          appended.set_value();
          told = true;
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          if (!commits) throw RolledBack{};
        });
      } catch (const RolledBack&) {
      } catch (...) {
        if (!told) appended.set_value();  // the failure is reported; the test goes on
        throw;
      }
    });
    ASSERT_EQ(appended.get_future().wait_for(kLogCallHang), std::future_status::ready)
        << "the writer's transaction never logged its event";
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
  const TableSchema restored{uniqueTableName("restored"), {{"id", ColumnType::kInteger}}, {"id"}};
  storage_->createTable(restored);
  const auto made = log_->tableIdentities();
  ASSERT_EQ(made, log_->tableIdentities());
  if (made.size() > 1) {  // a backend that names each table (not the schema as a whole)
    EXPECT_EQ(made.count(restored.name), 1u);
    EXPECT_EQ(made.count("busbar_events"), 1u);
  }
  storage_->insert(restored.name, {{"id", int64_t{1}}});
  storage_->update(restored.name, {{"id", int64_t{2}}}, {{"id", int64_t{1}}});
  write(LoggedEvent{0, eventNamed(id("written")), ""});
  if (log_->numbering() == Numbering::kAfterCommit) log_->numberOldest();
  EXPECT_EQ(log_->tableIdentities(), made);
  // An identity may be a creation time by the second (MariaDB's).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  storage_->execute("DROP TABLE " + restored.name);
  storage_->createTable(restored);
  EXPECT_NE(log_->tableIdentities(), made);
  storage_->execute("DROP TABLE " + restored.name);
}

TEST_P(EventLogContract, AWriterFrozenInsideItsTransactionStopsNoNumbering) {
  // A server paused (SIGSTOP, a VM migration, a half-open link) after logging its events and
  // before its COMMIT holds its transaction open for as long as the pause lasts: every other
  // writer's events must still be numbered and read meanwhile.
  if (log_->numbering() == Numbering::kByWriter) {
    GTEST_SKIP() << "this backend writes one transaction at a time: a frozen writer holds it";
  }
  std::promise<void> logged;
  std::promise<void> thaw;
  std::string frozen_failure;
  JoinedThreads frozen;
  // Thaws the writer however the test ends, before `frozen` joins it.
  struct Thaws {
    std::promise<void>& thaw;
    bool done = false;
    void now() {
      if (!done) thaw.set_value();
      done = true;
    }
    ~Thaws() { now(); }
  } thaws{thaw};
  frozen.start([&] {
    try {
      storage_->transaction([&](Connection& tx) {
        log_->append(tx, {LoggedEvent{0, eventNamed(id("frozen")), ""}}, nowMicros());
        logged.set_value();
        thaw.get_future().wait();
      });
    } catch (const std::exception& error) {
      frozen_failure = error.what();  // e.g. the database ended it for idling too long
      try {
        logged.set_value();  // when the append itself failed
      } catch (const std::future_error&) {
      }
    }
  });
  ASSERT_EQ(logged.get_future().wait_for(kLogCallHang), std::future_status::ready);
  ASSERT_EQ(frozen_failure, "") << "the frozen writer could not log its event";
  // Each step is bounded only to report one that waits for the frozen writer instead of hanging.
  auto wrote = std::async(std::launch::async, [&] {
    write(LoggedEvent{0, eventNamed(id("free")), ""});
    return log_->numberOldest();
  });
  const bool returned = wrote.wait_for(kLogCallHang) == std::future_status::ready;
  EXPECT_TRUE(returned) << "another writer's commit or numberOldest() waits for the frozen "
                           "writer's open transaction";
  if (returned) {
    EXPECT_EQ(wrote.get().numbers, (EventLogStorage::Numbers{{id("free"), base_ + 1}}));
    auto read = log_->readAfter(base_, 10);
    EXPECT_EQ(read.size(), 1u);
    if (!read.empty()) {
      EXPECT_EQ(read[0].event.id, id("free"));
    }
  }
  thaws.now();
  frozen.join();
  if (!returned) wrote.wait();
  // Thawed, the writer commits, unless the database ended its transaction for idling meanwhile
  // (idle_transaction_timeout, which a slow machine can reach): a failed COMMIT may still have
  // committed, so the log, not the error, says which. Either way its event, if any, comes next.
  const bool committed = frozen_failure.empty() || log_->contains(id("frozen"));
  if (committed) {
    EXPECT_EQ(log_->numberOldest().numbers, (EventLogStorage::Numbers{{id("frozen"), base_ + 2}}))
        << frozen_failure;
  } else {
    EXPECT_TRUE(log_->numberOldest().numbers.empty()) << frozen_failure;
    EXPECT_EQ(log_->head().seq, base_ + 1) << frozen_failure;
  }
}

TEST_P(EventLogContract, TheHeadNamesTheLogTheSameForEveryServer) {
  EXPECT_FALSE(log_->head().log_id.empty());
  auto other = pluginUnderTest().start();
  auto other_log = other->find<EventLogStorage>(kEventLogStorageService);
  ASSERT_NE(other_log, nullptr);
  EXPECT_EQ(other_log->head().log_id, log_->head().log_id);
  const int64_t first = log_->clock();
  EXPECT_GT(first, 0);
  EXPECT_LE(first, other_log->clock() + 1000000) << "servers read one clock (1 s of slack)";
}

TEST_P(EventLogContract, AnEventWithoutANumberIsSeenWaitingUntilNumbered) {
  if (log_->numbering() == Numbering::kByWriter) {
    GTEST_SKIP() << "this backend numbers inside each writer's transaction: nothing waits";
  }
  EXPECT_FALSE(log_->hasUnnumbered(std::chrono::microseconds(0)));
  write(LoggedEvent{0, eventNamed(id("waits")), ""});
  EXPECT_TRUE(log_->hasUnnumbered(std::chrono::microseconds(0)));
  EXPECT_FALSE(log_->hasUnnumbered(std::chrono::hours(1))) << "it was logged just now";
  EXPECT_TRUE(log_->numbersOf({id("waits")}).empty());
  log_->numberOldest();
  EXPECT_FALSE(log_->hasUnnumbered(std::chrono::microseconds(0)));
  EXPECT_EQ(log_->numbersOf({id("waits"), id("never")}),
            (EventLogStorage::Numbers{{id("waits"), base_ + 1}}));
}

TEST_P(EventLogContract, AConfirmWinsAndTheRelayFindsWhatNoBrokerConfirmed) {
  for (const char* name : {"a", "b", "c", "d"}) write(LoggedEvent{0, eventNamed(id(name)), ""});
  if (log_->numbering() == Numbering::kAfterCommit) log_->numberOldest();
  log_->mark({id("a")}, EventLogStorage::Publication::kConfirmed);
  log_->mark({id("b")}, EventLogStorage::Publication::kConfirmed);
  log_->mark({id("b")}, EventLogStorage::Publication::kGivenUp);  // too late: confirmed
  log_->mark({id("c")}, EventLogStorage::Publication::kGivenUp);
  // d: still with its publisher (neither confirmed nor given up).
  EXPECT_EQ(log_->countUnpublished(base_), 2u);
  std::vector<std::string> at_once;
  for (const auto& logged : log_->unpublished(base_, 0, 10)) at_once.push_back(logged.event.id);
  EXPECT_EQ(at_once, (std::vector<std::string>{id("c")})) << "only what its publisher gave up";
  std::vector<std::string> orphans;
  for (const auto& logged : log_->unpublished(base_, log_->clock() + 1000000, 10)) {
    orphans.push_back(logged.event.id);
  }
  EXPECT_EQ(orphans, (std::vector<std::string>{id("c"), id("d")})) << "in seq order";
  log_->mark({id("c"), id("d")}, EventLogStorage::Publication::kConfirmed);
  EXPECT_EQ(log_->countUnpublished(base_), 0u);
}

// What the log holds of an event for the principal's check: (seq, id, request id, principal).
using Attribution = std::tuple<uint64_t, std::string, std::string, std::string>;

std::vector<Attribution> attributionsOf(const std::vector<LoggedEvent2>& events) {
  std::vector<Attribution> attributions;
  for (const auto& logged : events) {
    attributions.emplace_back(logged.seq, logged.event.id, logged.request_id, logged.principal);
  }
  return attributions;
}

TEST_P(EventLogContract, EveryEventKeepsWhoCausedItThroughTheLog) {
  auto attributed = std::dynamic_pointer_cast<EventLogStorage2>(log_);
  if (!attributed) {
    GTEST_SKIP() << "the event log's storage does not implement busbar::EventLogStorage2 "
                    "(optional, SDK 1.6), so it keeps no principal: the host logs events "
                    "without one, and those that catch-up and the relay read back carry none "
                    "(docs/plugins.md, section 4)";
  }
  // Through the 2 methods, in one transaction, as a writer of this backend logs them: caused by
  // a token's holder, by nobody (""), and by another token without a request.
  const std::vector<LoggedEvent2> events = {
      LoggedEvent2{0, eventNamed(id("by-alice")), "request-1", "alice"},
      LoggedEvent2{0, eventNamed(id("by-nobody")), "request-2", ""},
      LoggedEvent2{0, eventNamed(id("by-billing")), "", "billing-service"}};
  storage_->transaction([&](Connection& tx) {
    if (log_->numbering() == Numbering::kByWriter) {
      EXPECT_EQ(attributed->appendNumbered2(tx, events, nowMicros()),
                (EventLogStorage::Numbers{{id("by-alice"), base_ + 1},
                                          {id("by-nobody"), base_ + 2},
                                          {id("by-billing"), base_ + 3}}));
    } else {
      attributed->append2(tx, events, nowMicros());
    }
  });
  // Through append() or appendNumbered(), which know no principal: "" comes back.
  write(LoggedEvent{0, eventNamed(id("unattributed")), "request-4"});
  if (log_->numbering() == Numbering::kAfterCommit) {
    while (log_->numberOldest().more) {
    }
  }
  const std::vector<Attribution> expected = {{base_ + 1, id("by-alice"), "request-1", "alice"},
                                             {base_ + 2, id("by-nobody"), "request-2", ""},
                                             {base_ + 3, id("by-billing"), "", "billing-service"},
                                             {base_ + 4, id("unattributed"), "request-4", ""}};
  EXPECT_EQ(attributionsOf(attributed->readAfter2(base_, 10)), expected) << "readAfter2";
  std::vector<std::string> read;
  for (const auto& logged : log_->readAfter(base_, 10)) read.push_back(logged.event.id);
  EXPECT_EQ(read, (std::vector<std::string>{id("by-alice"), id("by-nobody"), id("by-billing"),
                                            id("unattributed")}))
      << "readAfter reads the events readAfter2 reads";

  // The relay's reads: what a publisher gave up at once, and what no broker confirmed in time.
  log_->mark({id("by-billing")}, EventLogStorage::Publication::kGivenUp);
  EXPECT_EQ(attributionsOf(attributed->unpublished2(base_, 0, 10)),
            (std::vector<Attribution>{expected[2]}))
      << "unpublished2, given up";
  EXPECT_EQ(attributionsOf(attributed->unpublished2(base_, log_->clock() + 1000000, 10)), expected)
      << "unpublished2, orphaned";
  log_->mark({id("by-alice"), id("by-nobody"), id("by-billing"), id("unattributed")},
             EventLogStorage::Publication::kConfirmed);
}

TEST_P(EventLogContract, TheRelayLeaseMovesOnlyByCompareAndSet) {
  const RelayLeaseState seen = log_->relayLease();
  const std::string me = id("relay");
  ASSERT_TRUE(log_->moveRelayLease(me, seen));
  EXPECT_FALSE(log_->moveRelayLease(id("late"), seen)) << "a second move from the same state";
  const RelayLeaseState now = log_->relayLease();
  EXPECT_EQ(now.holder, me);
  EXPECT_EQ(now.beat, seen.beat + 1);
  log_->releaseRelayLease(id("late"));  // not the holder: nothing changes
  EXPECT_EQ(log_->relayLease().holder, me);
  log_->releaseRelayLease(me);
  EXPECT_EQ(log_->relayLease().holder, "");
}

TEST_P(EventLogContract, PruningKeepsWhatNoBrokerConfirmedAndCutsBelowOneNumber) {
  confirmWholeLog();
  for (int i = 1; i <= 5; ++i) write(LoggedEvent{0, eventNamed(id("p" + std::to_string(i))), ""});
  if (log_->numbering() == Numbering::kAfterCommit) log_->numberOldest();
  log_->mark({id("p1"), id("p2"), id("p4"), id("p5")}, EventLogStorage::Publication::kConfirmed);
  LogRetention newest_only;
  newest_only.events = 1;
  log_->prune(newest_only, log_->clock());
  EXPECT_EQ(log_->oldest(), std::optional<uint64_t>(base_ + 3)) << "p3 is unconfirmed";
  EXPECT_EQ(log_->readAfter(base_ + 2, 10).size(), 3u);
  log_->mark({id("p3")}, EventLogStorage::Publication::kConfirmed);
  log_->prune(newest_only, log_->clock());
  EXPECT_EQ(log_->oldest(), std::optional<uint64_t>(base_ + 5));
  EXPECT_EQ(log_->head().seq, base_ + 5) << "pruning never moves the head";
}

TEST_P(EventLogContract, APruneOfARelayWhoseLeaseMovedOnDeletesNothing) {
  // A relay that froze between its reads and its deletes resumes after another server took the
  // lease over, or after a restore put the lease row of an earlier moment back: its limits may be
  // of a log that is no more, so it must delete nothing.
  auto fenced = std::dynamic_pointer_cast<EventLogStorage2>(log_);
  if (!fenced) {
    GTEST_SKIP() << "the event log's storage does not implement busbar::EventLogStorage2 "
                    "(optional, SDK 1.6), so its prune is not fenced by the relay lease "
                    "(docs/plugins.md, section 4)";
  }
  confirmWholeLog();  // so that nothing but the fence holds pruning back
  std::vector<std::string> ids;
  for (int i = 1; i <= 3; ++i) {
    ids.push_back(id("f" + std::to_string(i)));
    write(LoggedEvent{0, eventNamed(ids.back()), ""});
  }
  if (log_->numbering() == Numbering::kAfterCommit) log_->numberOldest();
  log_->mark(ids, EventLogStorage::Publication::kConfirmed);
  LogRetention newest_only;
  newest_only.events = 1;
  const std::string me = id("relay");
  ASSERT_TRUE(log_->moveRelayLease(me, log_->relayLease()));
  const RelayLeaseState held = log_->relayLease();
  const auto oldest = log_->oldest();

  // Taken over by another server.
  ASSERT_TRUE(log_->moveRelayLease(id("other"), held));
  EXPECT_EQ(fenced->prune2(newest_only, log_->clock(), held), 0u);
  EXPECT_EQ(log_->oldest(), oldest) << "a relay that lost its lease pruned";

  // The same holder, another beat (a restore's lease row differs as little): still another row.
  log_->releaseRelayLease(id("other"));
  ASSERT_TRUE(log_->moveRelayLease(me, log_->relayLease()));
  EXPECT_EQ(fenced->prune2(newest_only, log_->clock(), held), 0u);
  EXPECT_EQ(log_->oldest(), oldest) << "a prune fenced by the holder alone, not by its beat";

  // Held, it prunes as prune() does.
  ASSERT_TRUE(log_->moveRelayLease(me, log_->relayLease()));
  EXPECT_GT(fenced->prune2(newest_only, log_->clock(), log_->relayLease()), 0u);
  EXPECT_EQ(log_->oldest(), std::optional<uint64_t>(base_ + 3));
  log_->releaseRelayLease(me);
}

INSTANTIATE_TEST_SUITE_P(Plugin, EventLogContract, ::testing::ValuesIn(pluginUnderTestName()),
                         pluginParamName);

}  // namespace
}  // namespace busbar::conformance
