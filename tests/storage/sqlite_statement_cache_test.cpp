// SqliteStatementCache over an SQLite file: statements parsed once per session and run again
// with new values, results in the types SQLite stored, failures that leave it usable, SQL of
// several statements through Poco, and tables another connection changed.
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <gtest/gtest.h>

#include "server_process.h"
#include "sqlite_dialect.h"
#include "sqlite_statement_cache.h"
#include "statement_runner.h"

namespace busbar::sqlite {
namespace {

class SqliteStatementCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Poco::Data::SQLite::Connector::registerConnector();
    session_ = open();
    run("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL)");
  }

  void TearDown() override {
    cache_.clear();  // before the session
    session_.reset();
  }

  std::unique_ptr<Poco::Data::Session> open() {
    return std::make_unique<Poco::Data::Session>("sqlite", folder_.path() + "/cache.db");
  }

  ExecuteResult run(const std::string& sql, const std::vector<Value>& params = {}) {
    return cache_.execute(*session_, dialect_, sql, params);
  }

  testing::TempDir folder_;
  SqliteDialect dialect_;
  std::unique_ptr<Poco::Data::Session> session_;
  SqliteStatementCache cache_{3};
};

TEST_F(SqliteStatementCacheTest, ParsesAStatementOnceAndRunsItWithNewValues) {
  const std::string insert = "INSERT INTO items (id, name, score) VALUES (?, ?, ?)";
  EXPECT_EQ(run(insert, {int64_t{1}, std::string("one"), 1.5}).affected, 1u);
  EXPECT_EQ(run(insert, {int64_t{2}, std::monostate{}, 2.5}).affected, 1u);
  EXPECT_EQ(cache_.prepared(), 2u);  // CREATE TABLE, then the insert once
  const std::string select = "SELECT id, name, score FROM items WHERE id = ?";
  auto first = run(select, {int64_t{1}}).rows;
  auto second = run(select, {int64_t{2}}).rows;
  EXPECT_TRUE(run(select, {int64_t{3}}).rows.empty()) << "rows of an earlier run came back";
  EXPECT_EQ(cache_.prepared(), 3u);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(first[0].at("id")), 1);
  EXPECT_EQ(std::get<std::string>(first[0].at("name")), "one");
  EXPECT_EQ(std::get<double>(first[0].at("score")), 1.5);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(isNull(second[0].at("name")));
  EXPECT_EQ(run("UPDATE items SET score = ? WHERE id > ?", {3.0, int64_t{0}}).affected, 2u);
  EXPECT_EQ(run("BEGIN").affected, 0u) << "a BEGIN reported the rows of the UPDATE before it";
  EXPECT_EQ(run("COMMIT").affected, 0u);
  auto counted = run("SELECT COUNT(*) AS n, MAX(score) AS top FROM items").rows;
  EXPECT_EQ(asInt(counted.at(0).at("n")), 2);
  EXPECT_EQ(std::get<double>(counted.at(0).at("top")), 3.0);
}

TEST_F(SqliteStatementCacheTest, AFailedRunThrowsWhatPocoThrowsAndLeavesTheStatementUsable) {
  const std::string insert = "INSERT INTO items (id, name) VALUES (?, ?)";
  run(insert, {int64_t{1}, std::string("one")});
  try {
    run(insert, {int64_t{2}, std::string("one")});
    FAIL() << "a duplicate name went in";
  } catch (const Poco::Exception& error) {
    EXPECT_TRUE(dialect_.isDuplicateKey(error)) << error.displayText();
  }
  run(insert, {int64_t{3}, std::string("three")});
  EXPECT_EQ(run("SELECT id FROM items").rows.size(), 2u);
  EXPECT_THROW(run("SELECT nothing FROM items"), Poco::Data::SQLite::InvalidSQLStatementException);
  EXPECT_THROW(run(insert, {int64_t{4}}), Poco::Data::SQLite::ParameterCountMismatchException);
}

TEST_F(SqliteStatementCacheTest, KeepsTheMostRecentlyUsedUpToItsCapacity) {
  cache_.clear();
  for (const char* sql : {"SELECT 1", "SELECT 2", "SELECT 3"}) run(sql);
  const uint64_t prepared = cache_.prepared();
  run("SELECT 1");  // used again: now "SELECT 2" is the least recently used
  run("SELECT 4");  // and goes
  EXPECT_EQ(cache_.size(), 3u);
  EXPECT_EQ(cache_.prepared(), prepared + 1);
  run("SELECT 1");
  run("SELECT 3");
  EXPECT_EQ(cache_.prepared(), prepared + 1) << "a statement used recently went";
  run("SELECT 2");
  EXPECT_EQ(cache_.prepared(), prepared + 2);
}

TEST_F(SqliteStatementCacheTest, RunsSeveralStatementsInOneTextThroughPoco) {
  run("INSERT INTO items (id, name) VALUES (1, 'a'); INSERT INTO items (id, name) VALUES (2, 'b')");
  EXPECT_EQ(run("SELECT id FROM items").rows.size(), 2u);
}

TEST_F(SqliteStatementCacheTest, ReadsTheNewColumnsOfATableAnotherConnectionChanged) {
  run("INSERT INTO items (id, name) VALUES (1, 'a')");
  const std::string select = "SELECT * FROM items";
  ASSERT_EQ(run(select).rows.at(0).count("extra"), 0u);
  auto other = open();
  sql::executeStatement(*other, dialect_, "ALTER TABLE items ADD COLUMN extra INTEGER", {});
  auto rows = run(select).rows;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count("extra"), 1u);
}

TEST_F(SqliteStatementCacheTest, WithoutCapacityItRunsEachStatementOnce) {
  SqliteStatementCache none(0);
  none.execute(*session_, dialect_, "INSERT INTO items (id) VALUES (?)", {int64_t{7}});
  EXPECT_EQ(none.execute(*session_, dialect_, "SELECT id FROM items", {}).rows.size(), 1u);
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.prepared(), 2u);
}

}  // namespace
}  // namespace busbar::sqlite
