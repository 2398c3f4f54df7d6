// MysqlDialect without a server: types, upserts and how errors are read.
#include <gtest/gtest.h>

#include <Poco/Data/MySQL/MySQLException.h>

#include "mysql_dialect.h"

namespace busbar {
namespace {

TEST(MysqlDialect, TypesAndUpsert) {
  mysql::MysqlDialect dialect;
  EXPECT_EQ(dialect.quote("users"), "`users`");
  EXPECT_EQ(dialect.rewritePlaceholders("SELECT ?"), "SELECT ?");
  EXPECT_EQ(dialect.columnType({"n", ColumnType::kInteger}), "BIGINT");
  EXPECT_EQ(dialect.columnType({"r", ColumnType::kReal}), "DOUBLE");
  EXPECT_EQ(dialect.columnType({"t", ColumnType::kText, 254}), "VARCHAR(254)");
  EXPECT_EQ(dialect.columnType({"t", ColumnType::kText, 769}), "TEXT");
  EXPECT_EQ(dialect.columnType({"t", ColumnType::kText, 0}), "TEXT");
  EXPECT_NE(dialect.tableOptions().find("utf8mb4"), std::string::npos);
  EXPECT_EQ(dialect.upsert("`t`", {"`a`", "`b`"}, {"`a`"}),
            "INSERT INTO `t` (`a`, `b`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `b` = VALUES(`b`)");
  EXPECT_EQ(dialect.upsert("`t`", {"`a`"}, {"`a`"}),
            "INSERT INTO `t` (`a`) VALUES (?) ON DUPLICATE KEY UPDATE `a` = `a`");
}

TEST(MysqlDialect, ReadsTheErrorNumberOfErrors) {
  mysql::MysqlDialect dialect;
  Poco::Data::MySQL::StatementException duplicate(
      "[Comment]: mysql_stmt_execute error\t[mysql_stmt_error]: Duplicate entry 'a' for key "
      "'PRIMARY'\t[mysql_stmt_errno]: 1062\t[mysql_stmt_sqlstate]: 23000");
  EXPECT_EQ(mysql::mysqlErrorNumber(duplicate), 1062);
  EXPECT_TRUE(dialect.isDuplicateKey(duplicate));
  Poco::Data::MySQL::StatementException gone(
      "[mysql_stmt_errno]: 2006\t[mysql_stmt_sqlstate]: HY000");
  EXPECT_TRUE(dialect.isUnavailable(gone));
  EXPECT_FALSE(dialect.isDuplicateKey(gone));
  Poco::Data::MySQL::ConnectionException refused("mysql_real_connect error");
  EXPECT_TRUE(dialect.isUnavailable(refused));
  Poco::Data::MySQL::StatementException deadlock("[mysql_stmt_errno]: 1213");
  EXPECT_TRUE(dialect.isRetryable(deadlock));
  Poco::Data::MySQL::StatementException syntax("[mysql_stmt_errno]: 1064");
  EXPECT_FALSE(dialect.isUnavailable(syntax));
  EXPECT_FALSE(dialect.isRetryable(syntax));
  EXPECT_FALSE(dialect.failedStatementAbortsTransaction());
}

}  // namespace
}  // namespace busbar
