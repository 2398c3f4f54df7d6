// Statements kept prepared on a session (every backend's sessions keep them) behave as
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
}

INSTANTIATE_TEST_SUITE_P(Mysql, MysqlStatements, ::testing::Values(std::string("mysql")),
                         driverName);
#endif

#ifdef BUSBAR_TEST_WITH_POSTGRESQL
// PostgreSQL lists a session's named prepared statements, with how often each ran
// (pg_prepared_statements), which shows the cache at work from the server's side.
using PostgresqlStatements = StorageContract;

TEST_P(PostgresqlStatements, AStatementIsPreparedOncePerSessionAndRunsAgain) {
  auto one = openStorage(driver(), {{"pool.min", "1"}, {"pool.max", "1"}});
  for (int i = 0; i < 20; ++i) one->findOne(items_, {{"id", "k" + std::to_string(i)}});
  auto kept = one->execute(
      "SELECT generic_plans + custom_plans AS runs FROM pg_prepared_statements "
      "WHERE statement LIKE ? AND statement LIKE '%LIMIT 1'",
      {"SELECT * FROM %" + items_ + "%"});
  ASSERT_EQ(kept.rows.size(), 1u) << "the read was not kept, or kept twice";
  EXPECT_EQ(asInt(kept.rows.front().at("runs")), 20);
}

TEST_P(PostgresqlStatements, ASessionHoldsNoMoreStatementsThanItsCache) {
  auto two =
      openStorage(driver(), {{"pool.min", "1"}, {"pool.max", "1"}, {"statement_cache", "2"}});
  FindOptions options;
  for (int limit = 1; limit <= 5; ++limit) {
    options.limit = static_cast<size_t>(limit);
    two->findAll(items_, {}, options);  // a statement of its own for each limit
  }
  const std::string count = "SELECT COUNT(*) AS kept FROM pg_prepared_statements";
  EXPECT_EQ(asInt(two->execute(count).rows.front().at("kept")), 2);
  two->transaction([&](Connection& tx) {
    // A statement of the transaction fails: what it evicts is deallocated after its end.
    EXPECT_THROW(tx.execute("SELECT 1 FROM no_such_table"), StorageError);
    options.limit = 6;
    tx.findAll(items_, {}, options);
  });
  EXPECT_EQ(asInt(two->execute(count).rows.front().at("kept")), 2);
  // Without a cache, nothing is kept on the server.
  auto none =
      openStorage(driver(), {{"pool.min", "1"}, {"pool.max", "1"}, {"statement_cache", "0"}});
  none->findOne(items_, {{"id", std::string("k")}});
  EXPECT_EQ(asInt(none->execute(count).rows.front().at("kept")), 0);
}

TEST_P(PostgresqlStatements, ValuesComeBackInTheTypesPocosConnectorGave) {
  for (const char* cache : {"16", "0"}) {
    auto one = openStorage(driver(), {{"statement_cache", cache}});
    auto row = one->execute(
                      "SELECT TRUE AS yes, CAST(? AS SMALLINT) AS small, "
                      "CAST(2.5 AS NUMERIC) AS exact, CAST(? AS DOUBLE PRECISION) AS real, "
                      "CAST(NULL AS TEXT) AS nothing, CAST(? AS TEXT) AS text",
                      {int64_t{7}, 1.0 / 3, std::string("it's")})
                   .rows.front();
    EXPECT_EQ(std::get<int64_t>(row.at("yes")), 1) << cache;
    EXPECT_EQ(std::get<int64_t>(row.at("small")), 7) << cache;
    EXPECT_EQ(std::get<double>(row.at("exact")), 2.5) << cache;
    EXPECT_EQ(std::get<double>(row.at("real")), 1.0 / 3)
        << cache << ": a double that did not round-trip";
    EXPECT_TRUE(isNull(row.at("nothing"))) << cache;
    EXPECT_EQ(std::get<std::string>(row.at("text")), "it's") << cache;
  }
}

TEST_P(PostgresqlStatements, AValueCountThatDoesNotMatchIsTheStatementsFaultNotAnOutage) {
  for (const char* cache : {"16", "0"}) {
    auto one =
        openStorage(driver(), {{"pool.min", "1"}, {"pool.max", "1"}, {"statement_cache", cache}});
    for (const auto& [values, expected] : std::vector<std::pair<std::vector<Value>, std::string>>{
             {{std::string("x")}, "1 values for 2 parameters"},
             {{std::string("x"), std::string("y"), std::string("z")},
              "3 values for 2 parameters"}}) {
      try {
        one->execute("SELECT CAST(? AS TEXT) AS a, CAST(? AS TEXT) AS b", values);
        ADD_FAILURE() << cache << ": " << expected << " ran";
      } catch (const StorageUnavailable& error) {
        ADD_FAILURE() << cache << ": taken for an outage: " << error.what();
      } catch (const StorageError& error) {
        EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
      }
    }
    // Placeholders written as PostgreSQL numbers them count as well.
    EXPECT_EQ(
        asText(
            one->execute("SELECT CAST($1 AS TEXT) AS a", {std::string("x")}).rows.front().at("a")),
        "x")
        << cache;
  }
}

TEST_P(PostgresqlStatements, StatementsKeptWhileAnotherSessionChangedTablesStillRun) {
  auto two = openStorage(driver(), {{"pool.min", "1"}, {"pool.max", "2"}});
  const std::string more = items_ + "_more";
  two->transaction([&](Connection& tx) {
    tx.findAll(items_, {});
    // Another session of the pool changes tables: this one forgets its statements at its next
    // one, and keeps those it prepares for the rest of the transaction.
    two->execute("CREATE TABLE " + more + " (id INTEGER)");
    tx.insert(items_, item("a", "first", 1));
    tx.findAll(items_, {});
  });
  for (int i = 0; i < 3; ++i) {
    two->transaction([&](Connection& tx) {
      tx.insert(items_, item("b" + std::to_string(i), "next", i));
      tx.findAll(items_, {});
    });
  }
  EXPECT_EQ(two->findAll(items_, {}).size(), 4u);
  two->execute("DROP TABLE " + more);
}

TEST_P(PostgresqlStatements, AReadInATransactionSeesTheColumnsAnotherServerAdded) {
  auto one = openStorage(driver(), {{"pool.min", "1"}, {"pool.max", "1"}});
  one->insert(items_, item("a", "first", 1));
  one->findAll(items_, {});  // kept, with the columns of now
  openStorageFrom(driver(), keys_)->execute("ALTER TABLE " + items_ + " ADD COLUMN extra INTEGER");
  one->transaction([&](Connection& tx) {
    auto rows = tx.findAll(items_, {});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows.front().count("extra"), 1u);
    tx.insert(items_, item("b", "second", 2));  // the transaction goes on
  });
  EXPECT_EQ(one->findAll(items_, {}).size(), 2u);
}

TEST_P(PostgresqlStatements, StatementsTheServerDroppedArePreparedAgain) {
  auto one = openStorage(driver(), {{"pool.min", "1"}, {"pool.max", "1"}});
  one->insert(items_, item("a", "first", 1));
  one->findAll(items_, {});
  one->execute("DEALLOCATE ALL");  // as a module may; the session's statements are gone
  EXPECT_EQ(one->findAll(items_, {}).size(), 1u);
  one->insert(items_, item("b", "second", 2));
  one->transaction([&](Connection& tx) { tx.insert(items_, item("c", "third", 3)); });
  EXPECT_EQ(one->findAll(items_, {}).size(), 3u);
}

TEST_P(PostgresqlStatements, AStatementCacheThatIsNoCountIsRefusedByName) {
  for (const char* bad : {"-1", "1025", "many"}) {
    EXPECT_THROW(openStorage(driver(), {{"statement_cache", bad}}), ConfigError) << bad;
  }
}

INSTANTIATE_TEST_SUITE_P(Postgresql, PostgresqlStatements,
                         ::testing::Values(std::string("postgresql")), driverName);
#endif

}  // namespace
}  // namespace busbar::testing
