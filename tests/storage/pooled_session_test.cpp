// The bundled SQL plugins' pooled sessions (plugins/sqlcommon): what a session that served
// transactions does next, and MariaDB's transactions without a BEGIN round trip. The contracts
// every storage plugin keeps are in conformance/ (busbar-conformance storage).
#include <gtest/gtest.h>

#include "busbar/errors.h"
#include "storage_backends.h"
#include "storage_contract.h"

namespace busbar::testing {
namespace {

using PooledSessions = StorageContract;

TEST_P(PooledSessions, StatementsOnASessionThatRanTransactionsCommitAndSeeNewCommits) {
  // One session, so that every statement below runs where the transactions ran. On MariaDB that
  // session serves transactions with autocommit off: a statement outside them must turn it on
  // again, or its write would wait uncommitted and its read would keep the transaction's view.
  auto keys = keys_;
  keys["pool.max"] = "1";
  auto single = openStorageFrom(driver(), keys);
  auto other = openStorageFrom(driver(), keys_);
  for (int round = 0; round < 3; ++round) {
    const std::string suffix = std::to_string(round);
    single->transaction([&](Connection& tx) { tx.insert(items_, item("tx" + suffix, "x", 1)); });
    single->insert(items_, item("plain" + suffix, "y", 2));
    EXPECT_TRUE(other->findOne(items_, {{"id", "plain" + suffix}}).has_value()) << round;
    EXPECT_FALSE(single->findOne(items_, {{"id", "other" + suffix}}).has_value()) << round;
    other->insert(items_, item("other" + suffix, "z", 3));
    EXPECT_TRUE(single->findOne(items_, {{"id", "other" + suffix}}).has_value()) << round;
    // And a transaction after plain statements begins on a view as new as they were.
    single->transaction([&](Connection& tx) {
      EXPECT_TRUE(tx.findOne(items_, {{"id", "other" + suffix}}).has_value()) << round;
    });
  }
  EXPECT_EQ(other->findAll(items_, {}).size(), 9u);
}

// MariaDB's sessions alone turn autocommit off for transactions (Dialect::autocommitStatement()).
class MariaDbTransactions : public StorageContract {};

TEST_P(MariaDbTransactions, ATransactionBeginsWithoutABeginRoundTrip) {
  auto keys = keys_;
  keys["pool.max"] = "1";
  auto single = openStorageFrom(driver(), keys);
  auto begins = [&] {
    Row row = single
                  ->execute(
                      "SELECT VARIABLE_VALUE AS n FROM information_schema.SESSION_STATUS"
                      " WHERE VARIABLE_NAME = 'COM_BEGIN'")
                  .rows.at(0);
    return std::stoll(asText(row.at("n")));
  };
  const long long before = begins();
  for (int i = 0; i < 5; ++i) {
    single->transaction(
        [&](Connection& tx) { tx.insert(items_, item("t" + std::to_string(i), "x", 1)); });
  }
  EXPECT_EQ(begins(), before);
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 5u);
}

INSTANTIATE_TEST_SUITE_P(Backends, PooledSessions, ::testing::ValuesIn(storageDrivers()),
                         driverName);

std::vector<std::string> mariaDbIfBuilt() {
  std::vector<std::string> drivers;
  for (const auto& driver : storageDrivers()) {
    if (driver == "mysql") drivers.push_back(driver);
  }
  return drivers;
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(MariaDbTransactions);
INSTANTIATE_TEST_SUITE_P(Backends, MariaDbTransactions, ::testing::ValuesIn(mariaDbIfBuilt()),
                         driverName);

}  // namespace
}  // namespace busbar::testing
