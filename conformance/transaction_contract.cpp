// The storage Connection contract, part 2 (busbar-conformance storage): transactions, nesting,
// concurrent writers, deadlocks, and two servers migrating at once.
#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "busbar/errors.h"
#include "contract_fixture.h"

namespace busbar::conformance {
namespace {

// Connection tests get the same fixture under another name, so that they list apart.
class TransactionContract : public StorageContract {};

struct WorkFailed : std::runtime_error {
  WorkFailed() : std::runtime_error("work failed") {}
};

TEST_P(TransactionContract, CommitsWhenTheWorkReturns) {
  connection_->transaction([&](Connection& tx) {
    EXPECT_EQ(tx.driver(), driver());
    tx.insert(items_, item("a", "x", 1));
    tx.insert(items_, item("b", "y", 2));
    tx.update(items_, {{"count", int64_t{5}}}, {{"id", std::string("a")}});
    // The transaction reads its own writes.
    EXPECT_EQ(asInt(tx.findOne(items_, {{"id", std::string("a")}})->at("count")), 5);
  });
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 2u);
}

TEST_P(TransactionContract, RollsBackAndRethrowsWhenTheWorkThrows) {
  connection_->insert(items_, item("keep", "x", 1));
  EXPECT_THROW(connection_->transaction([&](Connection& tx) {
    tx.insert(items_, item("a", "x", 1));
    tx.update(items_, {{"count", int64_t{99}}}, {{"id", std::string("keep")}});
    tx.remove(items_, {{"id", std::string("keep")}});
    throw WorkFailed();
  }),
               WorkFailed);
  auto rows = connection_->findAll(items_, {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(asInt(rows[0].at("count")), 1);
}

TEST_P(TransactionContract, StorageErrorsInsideRollBackEverything) {
  connection_->insert(items_, item("a", "x", 1));
  EXPECT_THROW(connection_->transaction([&](Connection& tx) {
    tx.insert(items_, item("b", "y", 2));
    tx.insert(items_, item("a", "again", 3));
  }),
               DuplicateKey);
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 1u);
}

TEST_P(TransactionContract, ACaughtDuplicateKeyLetsTheTransactionGoOn) {
  connection_->insert(items_, item("a", "x", 1));
  connection_->transaction([&](Connection& tx) {
    tx.insert(items_, item("b", "y", 2));
    EXPECT_THROW(tx.insert(items_, item("a", "again", 3)), DuplicateKey);
    tx.update(items_, {{"name", std::string("updated")}}, {{"id", std::string("a")}});
  });
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 2u);
  EXPECT_EQ(connection_->findOne(items_, {{"id", std::string("a")}})->at("name"),
            Value(std::string("updated")));
}

TEST_P(TransactionContract, NestedTransactionsJoinTheOuterOne) {
  EXPECT_THROW(connection_->transaction([&](Connection& outer) {
    outer.insert(items_, item("outer", "x", 1));
    outer.transaction([&](Connection& inner) {
      inner.insert(items_, item("inner", "y", 2));
      // The inner one sees the outer's writes: it is the same transaction.
      EXPECT_TRUE(inner.findOne(items_, {{"id", std::string("outer")}}));
    });
    throw WorkFailed();
  }),
               WorkFailed);
  // The inner "commit" did not commit: everything rolled back with the outer transaction.
  EXPECT_TRUE(connection_->findAll(items_, {}).empty());

  connection_->transaction([&](Connection& outer) {
    outer.transaction([&](Connection& inner) { inner.insert(items_, item("inner", "y", 2)); });
    outer.insert(items_, item("outer", "x", 1));
  });
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 2u);
}

TEST_P(TransactionContract, UncommittedWritesAreInvisibleToOthers) {
  std::atomic<bool> written{false};
  std::atomic<bool> checked{false};
  std::thread writer(failsTheTestOnThrow([&] {
    connection_->transaction([&](Connection& tx) {
      tx.insert(items_, item("pending", "x", 1));
      written = true;
      waitKeepingBusy(tx, items_, [&] { return checked.load(); });
    });
  }));
  while (!written) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(connection_->findOne(items_, {{"id", std::string("pending")}}).has_value());
  checked = true;
  writer.join();
  EXPECT_TRUE(connection_->findOne(items_, {{"id", std::string("pending")}}).has_value());
}

TEST_P(TransactionContract, ConcurrentWritersFromSeveralThreadsAllLand) {
  constexpr int kThreads = 8;
  constexpr int kRowsEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(failsTheTestOnThrow([&, t] {
      for (int i = 0; i < kRowsEach; ++i) {
        try {
          std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
          if (i % 2 == 0) {
            connection_->insert(items_, item(id, "plain", i));
          } else {
            connection_->transaction([&](Connection& tx) {
              tx.insert(items_, item(id, "in tx", i));
              tx.update(items_, {{"note", std::string("checked")}}, {{"id", id}});
            });
          }
        } catch (const std::exception& error) {
          ++failures;
          ADD_FAILURE() << error.what();
        }
      }
    }));
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(connection_->findAll(items_, {}).size(),
            static_cast<std::size_t>(kThreads * kRowsEach));
  EXPECT_EQ(connection_->findAll(items_, {{"note", std::string("checked")}}).size(),
            static_cast<std::size_t>(kThreads * (kRowsEach / 2)));
}

TEST_P(TransactionContract, ConcurrentIncrementsOfOneRowAreNotLost) {
  connection_->insert(items_, item("counter", "c", 0));
  constexpr int kThreads = 6;
  constexpr int kIncrementsEach = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(failsTheTestOnThrow([&] {
      for (int i = 0; i < kIncrementsEach; ++i) {
        try {
          connection_->transaction([&](Connection& tx) {
            tx.execute("UPDATE " + items_ + " SET count = count + 1 WHERE id = ?",
                       {std::string("counter")});
          });
        } catch (const std::exception& error) {
          ADD_FAILURE() << error.what();
        }
      }
    }));
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(asInt(connection_->findOne(items_, {{"id", std::string("counter")}})->at("count")),
            kThreads * kIncrementsEach);
}

TEST_P(TransactionContract, ADeadlockIsATransactionConflictAndLosesNothingOfTheOther) {
  if (driver() == "sqlite") GTEST_SKIP() << "SQLite runs one writer at a time: no deadlock";
  connection_->insert(items_, item("a", "x", 0));
  connection_->insert(items_, item("b", "x", 0));
  // Each holds one row and asks for the other's: the database ends one of them.
  std::promise<void> a_locked;
  std::promise<void> b_locked;
  auto a_locked_seen = a_locked.get_future().share();
  auto b_locked_seen = b_locked.get_future().share();
  std::atomic<int> conflicts{0};
  std::atomic<int> committed{0};
  auto run = [&](const std::string& first, const std::string& second, std::promise<void>& locked,
                 std::shared_future<void> other_locked) {
    bool told = false;
    try {
      connection_->transaction([&](Connection& tx) {
        tx.update(items_, {{"count", int64_t{1}}}, {{"id", first}});
        locked.set_value();
        told = true;
        waitKeepingBusy(tx, items_, [&] {
          return other_locked.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        });
        tx.update(items_, {{"count", int64_t{2}}}, {{"id", second}});
      });
      ++committed;
    } catch (const TransactionConflict&) {
      ++conflicts;
    } catch (const std::exception& error) {
      ADD_FAILURE() << "not a TransactionConflict: " << error.what();
    }
    if (!told) locked.set_value();  // a failure before it: the other must not wait for ever
  };
  std::thread one(failsTheTestOnThrow([&] { run("a", "b", a_locked, b_locked_seen); }));
  std::thread two(failsTheTestOnThrow([&] { run("b", "a", b_locked, a_locked_seen); }));
  one.join();
  two.join();
  EXPECT_EQ(conflicts.load(), 1);
  EXPECT_EQ(committed.load(), 1);
  // The winner's two updates, nothing of the loser's: each row was set by one transaction.
  const int64_t a = asInt(connection_->findOne(items_, {{"id", std::string("a")}})->at("count"));
  const int64_t b = asInt(connection_->findOne(items_, {{"id", std::string("b")}})->at("count"));
  EXPECT_TRUE((a == 1 && b == 2) || (a == 2 && b == 1)) << "a=" << a << " b=" << b;
}

TEST_P(TransactionContract, ConnectionsOfOneDatabaseSeeEachOthersCommits) {
  // A second pool on the same database, as a second server would have.
  auto other = openAnother();
  connection_->insert(items_, item("shared", "x", 1));
  EXPECT_TRUE(other->findOne(items_, {{"id", std::string("shared")}}).has_value());
  other->transaction([&](Connection& tx) { tx.insert(items_, item("back", "y", 2)); });
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 2u);
}

TEST_P(TransactionContract, ServersCreatingOneTableAtOnceAllSucceed) {
  // Servers started together each create the migrations table before anything else
  // (CREATE TABLE IF NOT EXISTS): every one of them must succeed, whoever creates it.
  constexpr int kServers = 6;
  std::vector<std::shared_ptr<Connection>> servers;
  for (int i = 0; i < kServers; ++i) servers.push_back(openAnother());
  for (int round = 0; round < 20; ++round) {  // the race is narrow: give it many chances
    TableSchema schema{uniqueTableName("raced"), {{"id", ColumnType::kText, 64, false}}, {"id"}};
    std::atomic<int> ready{0};
    std::atomic<int> created{0};
    std::vector<std::thread> threads;
    for (auto& server : servers) {
      threads.emplace_back(failsTheTestOnThrow([&, server] {
        ++ready;
        while (ready < kServers) std::this_thread::yield();
        server->createTable(schema);
        ++created;
      }));
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(created.load(), kServers) << "round " << round;
    connection_->execute("DROP TABLE IF EXISTS " + schema.name);
  }
}

TEST_P(TransactionContract, TwoServersMigratingAtOnceApplyAMigrationOnce) {
  // The host's pattern: in one transaction, record the migration (a key per module and number),
  // then apply it. Two servers (two pools) starting together: one applies, the other is told.
  std::string marks =
      createTable({"marks",
                   {{"module", ColumnType::kText, 64, false}, {"number", ColumnType::kInteger}},
                   {"module", "number"}});
  TableSchema created{uniqueTableName("created"), {{"id", ColumnType::kText, 64, false}}, {"id"}};
  auto other = openAnother();
  std::atomic<int> ready{0};
  std::atomic<int> applied{0};
  std::atomic<int> told{0};
  auto migrate = [&](Connection& connection) {
    ++ready;
    while (ready < 2) std::this_thread::yield();
    try {
      connection.transaction([&](Connection& tx) {
        tx.insert(marks, {{"module", std::string("users")}, {"number", int64_t{1}}});
        tx.createTable(created);
      });
      ++applied;
    } catch (const DuplicateKey&) {
      ++told;
    }
  };
  std::thread first(failsTheTestOnThrow([&] { migrate(*connection_); }));
  std::thread second(failsTheTestOnThrow([&] { migrate(*other); }));
  first.join();
  second.join();
  EXPECT_EQ(applied.load(), 1);
  EXPECT_EQ(told.load(), 1);
  EXPECT_EQ(connection_->findAll(marks, {}).size(), 1u);
  EXPECT_TRUE(connection_->findAll(created.name, {}).empty());
  connection_->execute("DROP TABLE " + created.name);
}

INSTANTIATE_TEST_SUITE_P(Plugin, TransactionContract, ::testing::ValuesIn(pluginUnderTestName()),
                         pluginParamName);

}  // namespace
}  // namespace busbar::conformance
