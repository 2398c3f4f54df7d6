// SessionPool without a server, over SQLite files: bounds, reuse, expiry and broken sessions.
#include <thread>

#include <Poco/Data/SQLite/Connector.h>
#include <gtest/gtest.h>

#include "busbar/errors.h"
#include "server_process.h"
#include "session_pool.h"
#include "sqlite_dialect.h"

namespace busbar::sql {
namespace {

class SessionPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { Poco::Data::SQLite::Connector::registerConnector(); }

  PoolSettings settings(int max_sessions, int idle_seconds = 60) {
    PoolSettings pool;
    pool.connector = "sqlite";
    pool.connection_string = folder_.path() + "/pool.db";
    pool.min_sessions = 1;
    pool.max_sessions = max_sessions;
    pool.connect_timeout_seconds = 1;
    pool.idle_seconds = idle_seconds;
    return pool;
  }

  testing::TempDir folder_;
  sqlite::SqliteDialect dialect_;
};

TEST_F(SessionPoolTest, OpensNothingUntilAskedAndReusesReturnedSessions) {
  SessionPool pool(settings(4), dialect_);
  EXPECT_EQ(pool.openSessions(), 0);
  Poco::Data::Session* first = nullptr;
  {
    auto lease = pool.acquire();
    EXPECT_FALSE(lease.reused());
    first = &lease.session();
  }
  auto again = pool.acquire();
  EXPECT_TRUE(again.reused());
  EXPECT_EQ(&again.session(), first);
  EXPECT_EQ(pool.openSessions(), 1);
}

TEST_F(SessionPoolTest, LendsAnIdleSessionWhoseAutocommitIsAsAskedFirst) {
  SessionPool pool(settings(4), dialect_);
  Poco::Data::Session* transactions = nullptr;
  Poco::Data::Session* statements = nullptr;
  {
    auto first = pool.acquire(false);
    auto second = pool.acquire(true);
    EXPECT_TRUE(first.autocommit()) << "a new session has autocommit on";
    first.setAutocommit(false);
    transactions = &first.session();
    statements = &second.session();
  }  // `second` goes back last: the most recently returned
  {
    auto lease = pool.acquire(false);
    EXPECT_EQ(&lease.session(), transactions);
    EXPECT_FALSE(lease.autocommit());
  }
  {
    auto lease = pool.acquire(true);
    EXPECT_EQ(&lease.session(), statements);
  }
  // With none idle as asked, the most recently returned one.
  auto taken = pool.acquire(true);
  auto other = pool.acquire(true);
  EXPECT_EQ(&other.session(), transactions);
  EXPECT_EQ(pool.openSessions(), 2);
}

TEST_F(SessionPoolTest, AMovedLeaseGivesBackTheSessionItHeld) {
  SessionPool pool(settings(2), dialect_);
  auto lease = pool.acquire();
  Poco::Data::Session* first = &lease.session();
  lease = pool.acquire();
  EXPECT_NE(&lease.session(), first);
  auto again = pool.acquire();
  EXPECT_EQ(&again.session(), first) << "the first session went back to the pool";
  EXPECT_EQ(pool.openSessions(), 2);
}

TEST_F(SessionPoolTest, WarmUpOpensTheMinimum) {
  PoolSettings three = settings(4);
  three.min_sessions = 3;
  SessionPool pool(three, dialect_);
  pool.warmUp();
  EXPECT_EQ(pool.openSessions(), 3);
}

TEST_F(SessionPoolTest, NeverOpensMoreThanTheMaximumAndFailsWhenAllStayBusy) {
  SessionPool pool(settings(2), dialect_);
  auto a = pool.acquire();
  auto b = pool.acquire();
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(pool.acquire(), StorageUnavailable);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_EQ(pool.openSessions(), 2);
}

TEST_F(SessionPoolTest, AWaitingCallerGetsTheNextReturnedSession) {
  SessionPool pool(settings(1), dialect_);
  auto held = std::make_unique<SessionPool::Lease>(pool.acquire());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    held.reset();
  });
  auto lease = pool.acquire();
  EXPECT_TRUE(lease.reused());
  releaser.join();
}

TEST_F(SessionPoolTest, ABrokenSessionIsClosedWithEveryIdleOne) {
  SessionPool pool(settings(3), dialect_);
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    auto c = pool.acquire();
  }
  EXPECT_EQ(pool.openSessions(), 3);
  {
    auto broken = pool.acquire();
    broken.markBroken();
  }
  EXPECT_EQ(pool.openSessions(), 0);
  EXPECT_FALSE(pool.acquire().reused());
}

TEST_F(SessionPoolTest, SessionsLentWhenAnotherBrokeAreClosedWhenTheyComeBack) {
  SessionPool pool(settings(3), dialect_);
  {
    auto lent_across = pool.acquire();
    {
      auto broken = pool.acquire();
      broken.markBroken();
    }
    auto opened_after = pool.acquire();
    EXPECT_FALSE(opened_after.reused());
  }  // the one opened after the break goes back to the pool, the other is closed
  EXPECT_EQ(pool.stats().retired, 1u);
  EXPECT_EQ(pool.openSessions(), 1);
  EXPECT_TRUE(pool.acquire().reused());
}

TEST_F(SessionPoolTest, SessionsIdleTooLongAreClosedNotLent) {
  SessionPool pool(settings(2, 0), dialect_);
  { auto lease = pool.acquire(); }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto lease = pool.acquire();
  EXPECT_FALSE(lease.reused());
  EXPECT_EQ(pool.openSessions(), 1);
}

TEST_F(SessionPoolTest, AnUnopenableDatabaseIsUnavailable) {
  PoolSettings bad = settings(2);
  bad.connection_string = "/dev/null/no/such/folder/x.db";
  SessionPool pool(bad, dialect_);
  EXPECT_THROW(pool.acquire(), StorageUnavailable);
  EXPECT_EQ(pool.openSessions(), 0);
}

TEST_F(SessionPoolTest, EachSessionKeepsItsStatementsUntilTheSchemaChanges) {
  PoolSettings keeping = settings(2);
  keeping.statement_cache = 8;
  SessionPool pool(keeping, dialect_);
  {
    auto lease = pool.acquire();
    lease.statements().execute(lease.session(), dialect_, "SELECT 1", {});
    lease.statements().execute(lease.session(), dialect_, "SELECT 2", {});
  }
  {
    auto lease = pool.acquire();
    EXPECT_TRUE(lease.reused());
    EXPECT_EQ(lease.statements().size(), 2u) << "the session came back without its statements";
  }
  pool.schemaChanged();
  auto lease = pool.acquire();
  EXPECT_EQ(lease.statements().size(), 0u) << "statements prepared before the change were kept";
}

TEST_F(SessionPoolTest, StatsCountLeasesWaitsAndEachKindOfError) {
  SessionPool pool(settings(1), dialect_);
  EXPECT_EQ(pool.stats().max, 1);
  {
    auto held = pool.acquire();
    auto busy = pool.stats();
    EXPECT_EQ(busy.in_use, 1);
    EXPECT_EQ(busy.open, 1);
    EXPECT_THROW(pool.acquire(), StorageUnavailable);  // waits connect_timeout, gives up
    held.markBroken();
  }
  auto after = pool.stats();
  EXPECT_EQ(after.in_use, 0);
  EXPECT_EQ(after.open, 0);
  EXPECT_EQ(after.waits, 1u);
  EXPECT_EQ(after.wait_timeouts, 1u);
  EXPECT_EQ(after.broken, 1u);
  EXPECT_EQ(after.open_failures, 0u);

  PoolSettings bad = settings(1);
  bad.connection_string = "/dev/null/no/such/folder/x.db";
  SessionPool unopenable(bad, dialect_);
  EXPECT_THROW(unopenable.acquire(), StorageUnavailable);
  EXPECT_EQ(unopenable.stats().open_failures, 1u);
  EXPECT_EQ(unopenable.stats().in_use, 0);
}

}  // namespace
}  // namespace busbar::sql
