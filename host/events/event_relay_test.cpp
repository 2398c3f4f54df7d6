// The relay over a real SQLite database: what is unconfirmed after the delay is published again,
// by the lease holder only, and marked once a broker confirms it; the holder prunes, and a prune
// that resumes after the lease moved on deletes nothing.
#include "events/event_relay.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "events/sqlite_event_log_fixture.h"

namespace busbar::host {
namespace {

class RelayTest : public SqliteEventLogTest {
 protected:
  void SetUp() override { SqliteEventLogTest::SetUp(); }

  // `delay`: short by default, so that an unconfirmed event is an orphan soon.
  std::unique_ptr<EventRelay> relay(
      const std::string& server, bool broker_confirms,
      std::chrono::milliseconds delay = std::chrono::milliseconds(100)) {
    RelayOptions options;
    options.interval = std::chrono::milliseconds(20);
    options.delay = delay;
    return std::make_unique<EventRelay>(
        *log_, tracker_,
        [this, server, broker_confirms](const LoggedEvent2& logged, PublishSettled settled) {
          {
            std::lock_guard<std::mutex> lock(mutex_);
            republished_.push_back(server + ":" + logged.event.id +
                                   (logged.principal.empty() ? "" : " by " + logged.principal));
          }
          if (broker_confirms) tracker_.published(logged.event.id);
          settled(broker_confirms);
        },
        server, options, Poco::Logger::get("test"));
  }

  std::vector<std::string> republished() {
    std::lock_guard<std::mutex> lock(mutex_);
    return republished_;
  }

  PublicationTracker tracker_;
  std::mutex mutex_;
  std::vector<std::string> republished_;
};

TEST_F(RelayTest, WhatNoBrokerConfirmedIsPublishedAgainOnceAndMarked) {
  append({userEvent("confirmed"), userEvent("lost")});
  tracker_.published("confirmed");  // the writer's broker confirmed the first one
  auto a = relay("a", true);
  a->start();
  EXPECT_TRUE(eventually([&] { return log_->countUnpublished(0) == 0; }));
  EXPECT_EQ(republished(), std::vector<std::string>{"a:lost"});
  EXPECT_TRUE(a->figures().holds_lease);
}

TEST_F(RelayTest, AnEventPublishedAgainKeepsWhoCausedIt) {
  storage_->transaction([&](Connection& tx) {
    log_->appendNumbered2(tx, {LoggedEvent2{0, userEvent("lost"), "req-1", "alice"}},
                          Poco::Timestamp().epochMicroseconds());
  });
  auto a = relay("a", true);
  a->start();
  EXPECT_TRUE(eventually([&] { return log_->countUnpublished(0) == 0; }));
  EXPECT_EQ(republished(), std::vector<std::string>{"a:lost by alice"});
}

TEST_F(RelayTest, OnlyTheLeaseHolderRelaysAndADeadHoldersWorkIsTakenOver) {
  auto a = relay("a", false);  // its broker never confirms: it keeps relaying after the delay
  auto b = relay("b", true);
  a->start();
  ASSERT_TRUE(eventually([&] { return a->figures().holds_lease; }));
  b->start();
  append({userEvent("e1")});
  EXPECT_TRUE(eventually([&] { return !republished().empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (const auto& entry : republished()) EXPECT_EQ(entry, "a:e1");
  EXPECT_FALSE(b->figures().holds_lease);
  a->stop();  // gives the lease up: b takes over at once, and its broker confirms
  EXPECT_TRUE(eventually([&] { return log_->countUnpublished(0) == 0; }));
  EXPECT_EQ(republished().back(), "b:e1");
}

TEST_F(RelayTest, AnEventGivenUpLaterIsRepublishedThoughOneAboveItWasEarlier) {
  append({userEvent("young"), userEvent("given-up")});
  tracker_.givenUp("given-up");  // its publisher dropped it; "young" still waits for its broker
  auto a = relay("a", true, std::chrono::seconds(60));
  a->start();
  ASSERT_TRUE(eventually([&] { return log_->countUnpublished(0) == 1; }));
  EXPECT_EQ(republished(), std::vector<std::string>{"a:given-up"});
  // Then its publisher gives "young" up too: due at once, below the one already republished.
  tracker_.givenUp("young");
  EXPECT_TRUE(eventually([&] { return log_->countUnpublished(0) == 0; }));
  EXPECT_EQ(republished(), (std::vector<std::string>{"a:given-up", "a:young"}));
}

TEST_F(RelayTest, UnconfirmedRowsOfATableBeingRefilledArePublishedAgain) {
  append({userEvent("e1"), userEvent("e2"), userEvent("e3"), userEvent("e4"), userEvent("e5")});
  auto a = relay("a", true);
  a->start();
  ASSERT_TRUE(eventually([&] { return log_->countUnpublished(0) == 0; }));
  const auto round = std::chrono::milliseconds(200);  // ten relay rounds
  std::this_thread::sleep_for(round);
  ASSERT_EQ(republished().size(), 5u);

  // A restore from a dump taken at seq 4, when e3 and e4 were not confirmed yet, the way mysql
  // replays one: the head goes back first, then the table is emptied and refilled row by row.
  storage_->execute("CREATE TABLE dumped AS SELECT * FROM busbar_events WHERE seq <= 4");
  storage_->execute("UPDATE dumped SET published = 0 WHERE seq >= 3");
  storage_->execute("UPDATE busbar_event_head SET seq = 4");
  storage_->execute("DELETE FROM busbar_events");
  std::this_thread::sleep_for(round);
  storage_->execute("INSERT INTO busbar_events SELECT * FROM dumped WHERE seq IN (1, 2)");
  std::this_thread::sleep_for(round);
  storage_->execute("INSERT INTO busbar_events SELECT * FROM dumped WHERE seq IN (3, 4)");

  EXPECT_TRUE(eventually([&] { return log_->countUnpublished(0) == 0; }))
      << log_->countUnpublished(0) << " unconfirmed rows left";
  auto sent = republished();
  EXPECT_EQ(std::count(sent.begin(), sent.end(), "a:e3"), 2);
  EXPECT_EQ(std::count(sent.begin(), sent.end(), "a:e4"), 2);
}

// The database as a relay that froze between its prune's reads and its deletes finds it when it
// resumes: another server took the lease over meanwhile (before each delete of busbar_events).
class TakenOverBeforeEachDelete : public Connection {
 public:
  explicit TakenOverBeforeEachDelete(std::shared_ptr<Connection> database)
      : database_(std::move(database)) {}

  ExecuteResult execute(const std::string& sql, const std::vector<Value>& params) override {
    if (sql.rfind("DELETE FROM busbar_events", 0) == 0) {
      database_->execute("UPDATE busbar_event_relay SET holder = 'b', beat = beat + 1");
    }
    return database_->execute(sql, params);
  }
  std::string driver() const override { return database_->driver(); }
  void insert(const std::string& table, const Row& values) override {
    database_->insert(table, values);
  }
  uint64_t update(const std::string& table, const Row& values, const Row& where) override {
    return database_->update(table, values, where);
  }
  void upsert(const std::string& table, const Row& values,
              const std::vector<std::string>& key_columns) override {
    database_->upsert(table, values, key_columns);
  }
  uint64_t remove(const std::string& table, const Row& where) override {
    return database_->remove(table, where);
  }
  std::optional<Row> findOne(const std::string& table, const Row& where) override {
    return database_->findOne(table, where);
  }
  std::vector<Row> findAll(const std::string& table, const Row& where,
                           const FindOptions& options) override {
    return database_->findAll(table, where, options);
  }
  void createTable(const TableSchema& schema) override { database_->createTable(schema); }
  void transaction(const std::function<void(Connection&)>& work) override {
    database_->transaction(work);
  }

 private:
  std::shared_ptr<Connection> database_;
};

class RelayPruneTest : public RelayTest {
 protected:
  // Three confirmed events and a relay "a" over `log` that prunes every round down to the newest
  // one, run until `done` and then for ten rounds more; returns the events it pruned.
  uint64_t pruneUntil(EventLogStorage2& log, const std::function<bool()>& done,
                      std::chrono::milliseconds prune_interval = std::chrono::milliseconds(0),
                      const std::function<void()>& then = nullptr) {
    append({userEvent("e1"), userEvent("e2"), userEvent("e3")});
    for (const char* id : {"e1", "e2", "e3"}) tracker_.published(id);
    RelayOptions options;
    options.interval = std::chrono::milliseconds(20);
    options.prune_interval = prune_interval;
    options.retention.events = 1;
    EventRelay a(
        log, tracker_, [](const LoggedEvent2&, PublishSettled settled) { settled(true); }, "a",
        options, Poco::Logger::get("test"));
    a.start();
    EXPECT_TRUE(eventually(done));
    if (then) then();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    a.stop();
    return a.figures().pruned;
  }
};

TEST_F(RelayPruneTest, TheLeaseHolderPrunesWhatTheRetentionDoesNotKeep) {
  EXPECT_EQ(pruneUntil(*log_, [&] { return log_->oldest() == std::optional<uint64_t>(3); }), 2u);
}

TEST_F(RelayPruneTest, TheFirstRoundHoldingTheLeasePrunesThenOnlyEachInterval) {
  // A process that lives shorter than the interval still prunes; the next prune waits for it.
  const auto pruned = pruneUntil(
      *log_, [&] { return log_->oldest() == std::optional<uint64_t>(3); }, std::chrono::hours(1),
      [&] {
        append({userEvent("e4"), userEvent("e5")});
        for (const char* id : {"e4", "e5"}) tracker_.published(id);
      });
  EXPECT_EQ(pruned, 2u);
  EXPECT_EQ(log_->oldest(), std::optional<uint64_t>(3)) << "pruned again within the interval";
}

TEST_F(RelayPruneTest, APruneResumedAfterAnotherServerTookTheLeaseDeletesNothing) {
  sqlite::SqliteEventLog log(std::make_shared<TakenOverBeforeEachDelete>(storage_));
  EXPECT_EQ(pruneUntil(log, [&] { return log_->relayLease().holder == "b"; }), 0u);
  EXPECT_EQ(log_->oldest(), std::optional<uint64_t>(1));
}

}  // namespace
}  // namespace busbar::host
