// SqliteDialect without a file: types, upserts and how errors are read.
#include <gtest/gtest.h>

#include <Poco/Data/SQLite/SQLiteException.h>

#include "sqlite_dialect.h"

namespace busbar {
namespace {

TEST(SqliteDialect, TypesUpsertAndErrors) {
  sqlite::SqliteDialect dialect;
  EXPECT_EQ(dialect.quote("users"), "\"users\"");
  EXPECT_EQ(dialect.columnType({"t", ColumnType::kText, 64}), "TEXT CHECK (length(\"t\") <= 64)");
  EXPECT_EQ(dialect.columnType({"t", ColumnType::kText, 0}), "TEXT");
  EXPECT_EQ(dialect.upsert("\"t\"", {"\"a\"", "\"b\""}, {"\"a\""}),
            "INSERT INTO \"t\" (\"a\", \"b\") VALUES (?, ?) ON CONFLICT (\"a\") DO UPDATE SET "
            "\"b\" = excluded.\"b\"");
  Poco::Data::SQLite::ConstraintViolationException unique("UNIQUE constraint failed: t.a");
  EXPECT_TRUE(dialect.isDuplicateKey(unique));
  Poco::Data::SQLite::ConstraintViolationException not_null("NOT NULL constraint failed: t.b");
  EXPECT_FALSE(dialect.isDuplicateKey(not_null));
  Poco::Data::SQLite::CantOpenDBFileException cannot_open("unable to open database file");
  EXPECT_TRUE(dialect.isUnavailable(cannot_open));
}

}  // namespace
}  // namespace busbar
