// PocoStatementCache without a server, over an SQLite file: statements kept and run again with
// new values, keyed by their parameters' types, bounded, dropped when they fail. (busbar's SQLite
// sessions keep SQLite's own statements instead; what Poco's connector gives here is the cache's
// bookkeeping, which MariaDB's sessions rely on.)
#include <Poco/Data/SQLite/Connector.h>
#include <gtest/gtest.h>

#include "poco_statement_cache.h"
#include "server_process.h"
#include "sqlite_dialect.h"
#include "statement_runner.h"

namespace busbar::sql {
namespace {

class StatementCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Poco::Data::SQLite::Connector::registerConnector();
    session_ = std::make_unique<Poco::Data::Session>("sqlite", folder_.path() + "/cache.db");
    executeStatement(*session_, dialect_,
                     "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, score REAL)", {});
  }

  void TearDown() override {
    cache_.clear();  // before the session
    session_.reset();
  }

  ExecuteResult run(const std::string& sql, const std::vector<Value>& params = {}) {
    return cache_.execute(*session_, dialect_, sql, params);
  }

  testing::TempDir folder_;
  sqlite::SqliteDialect dialect_;
  std::unique_ptr<Poco::Data::Session> session_;
  PocoStatementCache cache_{3};
};

TEST_F(StatementCacheTest, AKeptStatementRunsAgainWithNewValues) {
  const std::string insert = "INSERT INTO items (id, name, score) VALUES (?, ?, ?)";
  run(insert, {int64_t{1}, std::string("one"), 1.5});
  run(insert, {int64_t{2}, std::string("two"), 2.5});
  EXPECT_EQ(cache_.prepared(), 1u);
  const std::string select = "SELECT name, score FROM items WHERE id = ?";
  auto first = run(select, {int64_t{1}}).rows;
  auto second = run(select, {int64_t{2}}).rows;
  auto none = run(select, {int64_t{3}}).rows;
  EXPECT_EQ(cache_.prepared(), 2u);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(asText(first[0].at("name")), "one");
  EXPECT_EQ(std::get<double>(first[0].at("score")), 1.5);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(asText(second[0].at("name")), "two");
  EXPECT_TRUE(none.empty()) << "rows of an earlier run leaked into a later one";
  EXPECT_EQ(run("UPDATE items SET score = ? WHERE id > ?", {3.0, int64_t{0}}).affected, 2u);
  EXPECT_EQ(run("UPDATE items SET score = ? WHERE id > ?", {4.0, int64_t{1}}).affected, 1u);
}

TEST_F(StatementCacheTest, ANullIsATypeOfItsOwn) {
  const std::string insert = "INSERT INTO items (id, name) VALUES (?, ?)";
  run(insert, {int64_t{1}, std::monostate{}});
  run(insert, {int64_t{2}, std::string("two")});
  run(insert, {int64_t{3}, std::monostate{}});
  EXPECT_EQ(cache_.prepared(), 2u);
  auto rows = run("SELECT id, name FROM items ORDER BY id").rows;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(isNull(rows[0].at("name")));
  EXPECT_EQ(asText(rows[1].at("name")), "two");
  EXPECT_TRUE(isNull(rows[2].at("name")));
}

TEST_F(StatementCacheTest, KeepsTheMostRecentlyUsedUpToItsCapacity) {
  const std::vector<std::string> selects = {"SELECT 1", "SELECT 2", "SELECT 3", "SELECT 4"};
  for (const auto& sql : selects) run(sql);
  EXPECT_EQ(cache_.size(), 3u);
  EXPECT_EQ(cache_.prepared(), 4u);
  run("SELECT 2");  // kept: the oldest, "SELECT 1", went
  EXPECT_EQ(cache_.prepared(), 4u);
  run("SELECT 1");  // prepared again; now "SELECT 3" is the least recently used and goes
  EXPECT_EQ(cache_.prepared(), 5u);
  run("SELECT 4");
  run("SELECT 2");
  EXPECT_EQ(cache_.prepared(), 5u);
  run("SELECT 3");
  EXPECT_EQ(cache_.prepared(), 6u);
  EXPECT_EQ(cache_.size(), 3u);
}

TEST_F(StatementCacheTest, AStatementThatFailsIsPreparedAnewNextTime) {
  const std::string insert = "INSERT INTO items (id, name) VALUES (?, ?)";
  run(insert, {int64_t{1}, std::string("one")});
  EXPECT_THROW(run(insert, {int64_t{1}, std::string("again")}), Poco::Exception);
  EXPECT_EQ(cache_.size(), 0u);
  run(insert, {int64_t{2}, std::string("two")});
  EXPECT_EQ(cache_.prepared(), 2u);
  EXPECT_EQ(run("SELECT id FROM items").rows.size(), 2u);
}

TEST_F(StatementCacheTest, WithoutCapacityNothingIsKept) {
  PocoStatementCache none(0);
  none.execute(*session_, dialect_, "SELECT 1", {});
  none.execute(*session_, dialect_, "SELECT 1", {});
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.prepared(), 0u);
}

TEST(StatementKindTest, TellsReads) {
  EXPECT_TRUE(isRead("SELECT * FROM t"));
  EXPECT_TRUE(isRead(" select seq from h for update"));
  EXPECT_TRUE(isRead("SHOW SESSION STATUS"));
  EXPECT_FALSE(isRead("UPDATE t SET a = 1 RETURNING a"));
  EXPECT_FALSE(isRead("SELECTED"));
}

TEST(StatementKindTest, TellsStatementsThatChangeTables) {
  EXPECT_TRUE(changesSchema("CREATE TABLE t (a INT)"));
  EXPECT_TRUE(changesSchema("  alter table t add column b int"));
  EXPECT_TRUE(changesSchema("DROP INDEX i"));
  EXPECT_TRUE(changesSchema("RENAME TABLE a TO b"));
  EXPECT_FALSE(changesSchema("SELECT created FROM t"));
  EXPECT_FALSE(changesSchema("INSERT INTO creates VALUES (1)"));
  EXPECT_FALSE(changesSchema("CREATED"));
  EXPECT_FALSE(changesSchema(""));
}

}  // namespace
}  // namespace busbar::sql
