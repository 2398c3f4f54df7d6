// The storage Connection contract, part 3: what happens when the database is unreachable, slow
// to answer, busy or drops a session, and how the configuration is checked.
#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include <Poco/Net/ServerSocket.h>
#include <gtest/gtest.h>

#include "busbar/errors.h"
#include "server_process.h"
#include "storage_backends.h"
#include "storage_contract.h"

namespace busbar::testing {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `call` and expects StorageUnavailable within `limit` seconds; returns its message.
template <typename Call>
std::string expectUnavailableWithin(double limit, Call call) {
  auto start = Clock::now();
  std::string message;
  try {
    call();
    ADD_FAILURE() << "no error";
  } catch (const StorageUnavailable& error) {
    message = error.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "expected StorageUnavailable, got: " << error.what();
  }
  EXPECT_LT(secondsSince(start), limit) << message;
  return message;
}

class AvailabilityContract : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& driver() const { return GetParam(); }
};

// The server backends only: sessions there can break and time out.
class ServerAvailabilityContract : public AvailabilityContract {};

TEST_P(AvailabilityContract, UnreachableDatabaseFailsFastWithStorageUnavailable) {
  std::map<std::string, std::string> overrides{{"port", std::to_string(freePort())},
                                               {"connect_timeout", "2"}};
  if (driver() == "sqlite") overrides = {{"sqlite.path", "/dev/null/no/such/folder/x.db"}};
  expectUnavailableWithin(3.0, [&] {
    auto connection = openStorage(driver(), overrides);
    connection->findAll("anything", {});
  });
  expectUnavailableWithin(3.0, [&] {
    auto connection = openStorage(driver(), overrides);
    connection->transaction([](Connection& tx) { tx.findAll("anything", {}); });
  });
}

TEST_P(AvailabilityContract, AllSessionsBusyFailsWithinTheTimeout) {
  // The holder's transaction idles longer than the default idle_transaction_timeout.
  std::map<std::string, std::string> keys = {{"pool.max", "1"}, {"pool.min", "1"}};
  if (driver() != "sqlite") keys["idle_transaction_timeout"] = "0";
  auto connection = openStorage(driver(), keys);
  std::atomic<bool> holding{false};
  std::atomic<bool> release{false};
  std::thread holder([&] {
    connection->transaction([&](Connection& tx) {
      holding = true;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
  });
  while (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // connect_timeout bounds the wait for a free session (2 s for servers, 5 s for sqlite).
  std::string message = expectUnavailableWithin(driver() == "sqlite" ? 6.5 : 3.5,
                                                [&] { connection->execute("SELECT 1 AS one"); });
  EXPECT_NE(message.find("busy"), std::string::npos) << message;
  release = true;
  holder.join();
  EXPECT_EQ(asInt(connection->execute("SELECT 1 AS one").rows.at(0).at("one")), 1);
}

TEST_P(AvailabilityContract, ConfigurationMistakesAreConfigErrors) {
  EXPECT_THROW(openStorage(driver(), {{"no_such_key", "1"}}), ConfigError);
  EXPECT_THROW(openStorage(driver(), {{"pool.min", "5"}, {"pool.max", "2"}}), ConfigError);
  EXPECT_THROW(openStorage(driver(), {{"pool.max", "zero"}}), ConfigError);
  if (driver() != "sqlite") {
    EXPECT_THROW(openStorage(driver(), {{"database", ""}}), ConfigError);
    EXPECT_THROW(openStorage(driver(), {{"port", "70000"}}), ConfigError);
    EXPECT_THROW(openStorage(driver(), {{"connect_timeout", "0"}}), ConfigError);
  }
}

TEST_P(ServerAvailabilityContract, MakingTheConnectionDoesNoNetworkIo) {
  // What init() does must work with the server unreachable (`--check-config`).
  auto start = Clock::now();
  auto connection = openStorage(driver(), {{"port", std::to_string(freePort())}});
  EXPECT_EQ(connection->openSessions(), 0);
  EXPECT_LT(secondsSince(start), 0.5);
}

TEST_P(ServerAvailabilityContract, ASilentServerFailsWithinTheConnectTimeout) {
  // Accepts TCP connections (the kernel does) but never answers, like a hung database.
  Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0), 64);
  auto connection = openStorage(
      driver(), {{"port", std::to_string(silent.address().port())}, {"connect_timeout", "1"}});
  expectUnavailableWithin(4.0, [&] { connection->findAll("anything", {}); });
}

TEST_P(ServerAvailabilityContract, WrongPasswordIsUnavailableAndNeverShown) {
  const std::string wrong = "wrong-Secret-4711";
  auto connection = openStorage(driver(), {{"password", wrong}});
  std::string message = expectUnavailableWithin(3.0, [&] { connection->findAll("anything", {}); });
  EXPECT_EQ(message.find(wrong), std::string::npos) << message;

  // Nor is the right one, in the errors of a working connection.
  auto keys = storageKeys(driver());
  auto working = openStorageFrom(driver(), keys);
  try {
    working->execute("SELECT no_such_column FROM no_such_table");
    ADD_FAILURE() << "no error";
  } catch (const StorageError& error) {
    EXPECT_EQ(std::string(error.what()).find(keys.at("password")), std::string::npos);
  }
}

TEST_P(ServerAvailabilityContract, ATransactionIdleLongerThanTheTimeoutIsEndedAndReleasesItsLocks) {
  // A client that stops sending inside its transaction (a frozen process, a silent link): the
  // database ends the transaction after idle_transaction_timeout, and its locks go with it.
  auto frozen = openStorage(driver(), {{"pool.max", "1"}, {"idle_transaction_timeout", "1"}});
  auto other = openStorage(driver(), {{"pool.max", "1"}});
  frozen->execute("DROP TABLE IF EXISTS idle_contract");
  frozen->execute("CREATE TABLE idle_contract (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
  frozen->execute("INSERT INTO idle_contract (id, n) VALUES (1, 0)");
  std::atomic<bool> locked{false};
  std::atomic<bool> went_on{false};
  std::string frozen_error;
  std::thread holder([&] {
    try {
      frozen->transaction([&](Connection& tx) {
        tx.execute("UPDATE idle_contract SET n = 1 WHERE id = 1");
        locked = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // sends nothing
        tx.execute("UPDATE idle_contract SET n = 2 WHERE id = 1");
        went_on = true;
      });
    } catch (const StorageError& error) {
      frozen_error = error.what();
    }
  });
  while (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // The other session's write waits for the row until the database ends the idle transaction.
  const auto start = Clock::now();
  other->transaction(
      [&](Connection& tx) { tx.execute("UPDATE idle_contract SET n = 3 WHERE id = 1"); });
  const double waited = secondsSince(start);
  holder.join();
  EXPECT_LT(waited, 2.0) << "the row stayed locked past the idle transaction timeout";
  EXPECT_FALSE(went_on) << "the idle transaction went on after the timeout";
  EXPECT_FALSE(frozen_error.empty());
  // Nothing of it survived.
  EXPECT_EQ(asInt(other->execute("SELECT n FROM idle_contract WHERE id = 1").rows.at(0).at("n")),
            3);
  other->execute("DROP TABLE idle_contract");
}

// The id of the server session that serves `connection` now (its pool holds one session).
int64_t sessionId(Connection& connection, const std::string& driver) {
  const std::string whoami =
      driver == "mysql" ? "SELECT CONNECTION_ID() AS id" : "SELECT pg_backend_pid() AS id";
  int64_t id = 0;
  connection.transaction(
      [&](Connection& tx) { id = asInt(tx.execute(whoami).rows.at(0).at("id")); });
  return id;
}

// Ends the server session `id` from another session, as a restart or a network failure would.
void killSession(const std::string& driver, int64_t id) {
  auto killer = openStorage(driver);
  if (driver == "mysql") {
    killer->execute("KILL " + std::to_string(id));
  } else {
    killer->execute("SELECT pg_terminate_backend(?) AS done", {id});
  }
}

TEST_P(ServerAvailabilityContract, ABrokenIdleSessionIsThrownAwayWithoutFailingReads) {
  auto connection = openStorage(driver(), {{"pool.max", "1"}});
  TableSchema schema{uniqueTableName("idle"), {{"id", ColumnType::kText, 64, false}}, {"id"}};
  connection->createTable(schema);
  int64_t first = sessionId(*connection, driver());
  killSession(driver(), first);
  // A read may be sent again, so it goes to a fresh session and succeeds.
  EXPECT_TRUE(connection->findAll(schema.name, {}).empty());
  int64_t second = sessionId(*connection, driver());
  EXPECT_NE(first, second);
  EXPECT_EQ(connection->openSessions(), 1);
  connection->execute("DROP TABLE " + schema.name);
}

TEST_P(ServerAvailabilityContract, ABrokenIdleSessionIsThrownAwayWithoutFailingTransactions) {
  auto connection = openStorage(driver(), {{"pool.max", "1"}});
  TableSchema schema{uniqueTableName("idle"), {{"id", ColumnType::kText, 64, false}}, {"id"}};
  connection->createTable(schema);
  int64_t first = sessionId(*connection, driver());
  killSession(driver(), first);
  // BEGIN may be sent again: the transaction runs on a fresh session.
  connection->transaction([&](Connection& tx) {
    tx.insert(schema.name, {{"id", std::string("a")}});
  });
  EXPECT_EQ(connection->findAll(schema.name, {}).size(), 1u);
  connection->execute("DROP TABLE " + schema.name);
}

TEST_P(ServerAvailabilityContract, AWriteOnABrokenIdleSessionFailsOnlyOnce) {
  auto connection = openStorage(driver(), {{"pool.max", "1"}});
  TableSchema schema{uniqueTableName("idle"), {{"id", ColumnType::kText, 64, false}}, {"id"}};
  connection->createTable(schema);
  killSession(driver(), sessionId(*connection, driver()));
  // A lone write is not sent twice (it may have run before the link broke): it may fail, but only
  // as StorageUnavailable, and the next one works.
  try {
    connection->insert(schema.name, {{"id", std::string("maybe")}});
  } catch (const StorageUnavailable&) {
  }
  connection->insert(schema.name, {{"id", std::string("surely")}});
  EXPECT_TRUE(connection->findOne(schema.name, {{"id", std::string("surely")}}).has_value());
  connection->execute("DROP TABLE " + schema.name);
}

TEST_P(ServerAvailabilityContract, ASessionBrokenInsideATransactionFailsItAsUnavailable) {
  auto connection = openStorage(driver(), {{"pool.max", "1"}});
  TableSchema schema{uniqueTableName("broken"), {{"id", ColumnType::kText, 64, false}}, {"id"}};
  connection->createTable(schema);
  const std::string whoami =
      driver() == "mysql" ? "SELECT CONNECTION_ID() AS id" : "SELECT pg_backend_pid() AS id";
  EXPECT_THROW(connection->transaction([&](Connection& tx) {
    tx.insert(schema.name, {{"id", std::string("lost")}});
    killSession(driver(), asInt(tx.execute(whoami).rows.at(0).at("id")));
    tx.insert(schema.name, {{"id", std::string("after")}});
  }),
               StorageUnavailable);
  // Nothing of the broken transaction landed, and the next call works.
  EXPECT_TRUE(connection->findAll(schema.name, {}).empty());
  connection->execute("DROP TABLE " + schema.name);
}

INSTANTIATE_TEST_SUITE_P(Backends, AvailabilityContract, ::testing::ValuesIn(storageDrivers()),
                         driverName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ServerAvailabilityContract);
INSTANTIATE_TEST_SUITE_P(Backends, ServerAvailabilityContract,
                         ::testing::ValuesIn(serverStorageDrivers()), driverName);

}  // namespace
}  // namespace busbar::testing
