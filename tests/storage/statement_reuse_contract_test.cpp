// Statements kept prepared on a session (SQLite's and MariaDB's sessions keep them) behave as
// statements made anew: each run sees its own values, a table changed through the connection or by
// another one is read with its new columns, and a statement is prepared once per session.
#include <gtest/gtest.h>

#include "busbar/errors.h"
#include "storage_backends.h"
#include "storage_contract.h"

namespace busbar::testing {
namespace {

using StatementReuse = StorageContract;

// The prepared statements the session of a one-session MySQL connection made so far.
int64_t statementsPrepared(Connection& connection) {
  auto rows = connection.execute("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'").rows;
  if (rows.empty()) throw std::runtime_error("no Com_stmt_prepare status");
  return asInt(rows.front().at("Value"));
}

TEST_P(StatementReuse, EachRunSeesItsOwnValues) {
  for (int i = 0; i < 20; ++i) {
    connection_->insert(items_, item("k" + std::to_string(i), "n" + std::to_string(i), i));
  }
  for (int i = 0; i < 20; ++i) {
    auto row = connection_->findOne(items_, {{"id", "k" + std::to_string(i)}});
    ASSERT_TRUE(row.has_value()) << i;
    EXPECT_EQ(asText(row->at("name")), "n" + std::to_string(i));
    EXPECT_EQ(asInt(row->at("count")), i);
  }
  EXPECT_FALSE(connection_->findOne(items_, {{"id", std::string("none")}}).has_value())
      << "a row of an earlier run came back";
  EXPECT_EQ(
      connection_->update(items_, {{"note", std::string("x")}}, {{"name", std::string("n3")}}), 1u);
  EXPECT_EQ(
      connection_->update(items_, {{"note", std::monostate{}}}, {{"name", std::string("n4")}}), 1u);
  EXPECT_EQ(asText(connection_->findOne(items_, {{"id", std::string("k3")}})->at("note")), "x");
  EXPECT_TRUE(isNull(connection_->findOne(items_, {{"id", std::string("k4")}})->at("note")));
}

TEST_P(StatementReuse, AFailedRunLeavesTheStatementUsable) {
  connection_->insert(items_, item("a", "first", 1));
  EXPECT_THROW(connection_->insert(items_, item("a", "again", 2)), DuplicateKey);
  connection_->insert(items_, item("b", "second", 2));
  connection_->transaction([&](Connection& tx) {
    EXPECT_THROW(tx.insert(items_, item("b", "again", 3)), DuplicateKey);
    tx.insert(items_, item("c", "third", 3));
  });
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 3u);
}

TEST_P(StatementReuse, ATableChangedThroughTheConnectionIsReadWithItsNewColumns) {
  connection_->insert(items_, item("a", "first", 1));
  ASSERT_EQ(connection_->findAll(items_, {}).front().count("extra"), 0u);
  connection_->execute("ALTER TABLE " + items_ + " ADD COLUMN extra INTEGER");
  auto rows = connection_->findAll(items_, {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.front().count("extra"), 1u) << "a statement prepared before the change ran";
}

TEST_P(StatementReuse, ATableChangedByAnotherServerIsReadWithItsNewColumns) {
  connection_->insert(items_, item("a", "first", 1));
  ASSERT_EQ(connection_->findAll(items_, {}).front().count("extra"), 0u);
  auto other = openStorageFrom(driver(), keys_);
  other->execute("ALTER TABLE " + items_ + " ADD COLUMN extra INTEGER");
  auto rows = connection_->findAll(items_, {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.front().count("extra"), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StatementReuse, ::testing::ValuesIn(storageDrivers()),
                         driverName);

#ifdef BUSBAR_TEST_WITH_MYSQL
// MariaDB counts the statements a session prepared (Com_stmt_prepare), which shows the cache at
// work from the server's side.
using MysqlStatements = StorageContract;

TEST_P(MysqlStatements, AStatementIsPreparedOncePerSession) {
  auto prepares = [&](const std::string& cache) {
    auto one =
        openStorage(driver(), {{"pool.min", "1"}, {"pool.max", "1"}, {"statement_cache", cache}});
    statementsPrepared(*one);  // prepares its own statement, kept or not
    const int64_t before = statementsPrepared(*one);
    for (int i = 0; i < 20; ++i) one->findOne(items_, {{"id", "k" + std::to_string(i)}});
    return statementsPrepared(*one) - before;
  };
  EXPECT_LE(prepares("16"), 2) << "kept statements were prepared again";
  EXPECT_GE(prepares("0"), 20) << "the server's count does not show prepares";
}

TEST_P(MysqlStatements, AStatementCacheThatIsNoCountIsRefusedByName) {
  for (const char* bad : {"-1", "1025", "many"}) {
    try {
      openStorage(driver(), {{"statement_cache", bad}});
      ADD_FAILURE() << "statement_cache = " << bad << " was taken";
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("statement_cache"), std::string::npos)
          << error.what();
    }
  }
#ifdef BUSBAR_TEST_WITH_POSTGRESQL
  // Only MariaDB's sessions take the key; PostgreSQL's refuse it as unknown.
  EXPECT_THROW(openStorage("postgresql", {{"statement_cache", "16"}}), ConfigError);
#endif
}

INSTANTIATE_TEST_SUITE_P(Mysql, MysqlStatements, ::testing::Values(std::string("mysql")),
                         driverName);
#endif

}  // namespace
}  // namespace busbar::testing
