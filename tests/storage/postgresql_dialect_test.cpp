// PostgresqlDialect without a server: placeholders, types, upserts and how errors are read.
#include <gtest/gtest.h>

#include <Poco/Data/PostgreSQL/PostgreSQLException.h>

#include "postgresql_dialect.h"

namespace busbar {
namespace {

TEST(PostgresqlDialect, NumbersPlaceholdersOutsideQuotesAndComments) {
  postgresql::PostgresqlDialect dialect;
  EXPECT_EQ(dialect.rewritePlaceholders("SELECT * FROM t WHERE a = ? AND b = ?"),
            "SELECT * FROM t WHERE a = $1 AND b = $2");
  EXPECT_EQ(dialect.rewritePlaceholders("SELECT '?', \"?\", ? -- ?\n, ? /* ? */ , ?"),
            "SELECT '?', \"?\", $1 -- ?\n, $2 /* ? */ , $3");
  EXPECT_EQ(dialect.rewritePlaceholders("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
  EXPECT_EQ(dialect.rewritePlaceholders("SELECT E'a\\'?', ?"), "SELECT E'a\\'?', $1");
  EXPECT_EQ(dialect.rewritePlaceholders("SELECT $$ ? $$, $tag$ ? $tag$, ?"),
            "SELECT $$ ? $$, $tag$ ? $tag$, $1");
  EXPECT_EQ(dialect.rewritePlaceholders("SELECT 1"), "SELECT 1");
  EXPECT_EQ(dialect.rewritePlaceholders("SELECT 'unterminated ?"), "SELECT 'unterminated ?");
}

TEST(PostgresqlDialect, TypesAndUpsert) {
  postgresql::PostgresqlDialect dialect;
  EXPECT_EQ(dialect.quote("users"), "\"users\"");
  EXPECT_EQ(dialect.columnType({"n", ColumnType::kInteger}), "BIGINT");
  EXPECT_EQ(dialect.columnType({"r", ColumnType::kReal}), "DOUBLE PRECISION");
  EXPECT_EQ(dialect.columnType({"t", ColumnType::kText, 64}), "VARCHAR(64) COLLATE \"C\"");
  EXPECT_EQ(dialect.columnType({"t", ColumnType::kText, 0}), "TEXT COLLATE \"C\"");
  EXPECT_EQ(dialect.upsert("\"t\"", {"\"a\"", "\"b\""}, {"\"a\""}),
            "INSERT INTO \"t\" (\"a\", \"b\") VALUES (?, ?) ON CONFLICT (\"a\") DO UPDATE SET "
            "\"b\" = EXCLUDED.\"b\"");
  EXPECT_EQ(dialect.upsert("\"t\"", {"\"a\""}, {"\"a\""}),
            "INSERT INTO \"t\" (\"a\") VALUES (?) ON CONFLICT (\"a\") DO NOTHING");
}

TEST(PostgresqlDialect, ReadsTheSqlStateOfErrors) {
  postgresql::PostgresqlDialect dialect;
  Poco::Data::PostgreSQL::StatementException duplicate(
      "postgresql_stmt_execute error: ERROR: duplicate key Severity: ERROR State: 23505 Detail: x");
  EXPECT_EQ(postgresql::postgresqlState(duplicate), "23505");
  EXPECT_TRUE(dialect.isDuplicateKey(duplicate));
  EXPECT_FALSE(dialect.isUnavailable(duplicate));
  Poco::Data::PostgreSQL::StatementException shutdown("x Severity: FATAL State: 57P01 Detail: y");
  EXPECT_TRUE(dialect.isUnavailable(shutdown));
  Poco::Data::PostgreSQL::StatementException lost(
      "postgresql_stmt_prepare error: server closed the connection unexpectedly");
  EXPECT_TRUE(dialect.isUnavailable(lost));
  Poco::Data::PostgreSQL::StatementException deadlock("x Severity: ERROR State: 40P01 Detail: y");
  EXPECT_TRUE(dialect.isRetryable(deadlock));
  Poco::Data::PostgreSQL::StatementException syntax("x Severity: ERROR State: 42601 Detail: y");
  EXPECT_FALSE(dialect.isDuplicateKey(syntax));
  EXPECT_FALSE(dialect.isUnavailable(syntax));
  EXPECT_FALSE(dialect.isRetryable(syntax));
  EXPECT_TRUE(dialect.failedStatementAbortsTransaction());
}

}  // namespace
}  // namespace busbar
