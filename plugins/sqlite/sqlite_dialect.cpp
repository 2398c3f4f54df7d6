#include "sqlite_dialect.h"

#include <Poco/Data/SQLite/SQLiteException.h>

#include "sqlite_statement_cache.h"
#include "upsert_sql.h"

namespace busbar::sqlite {

std::string SqliteDialect::quote(const std::string& identifier) const {
  return "\"" + identifier + "\"";
}

std::string SqliteDialect::columnType(const Column& column) const {
  switch (column.type) {
    case ColumnType::kInteger:
      return "INTEGER";
    case ColumnType::kReal:
      return "REAL";
    case ColumnType::kText:
      break;
  }
  if (column.max_length <= 0) return "TEXT";
  // SQLite ignores declared lengths; the check rejects what the other backends reject.
  return "TEXT CHECK (length(" + quote(column.name) + ") <= " + std::to_string(column.max_length) +
         ")";
}

std::string SqliteDialect::upsert(const std::string& table, const std::vector<std::string>& columns,
                                  const std::vector<std::string>& keys) const {
  return sql::onConflictUpsert(table, columns, keys, "excluded");
}

bool SqliteDialect::isDuplicateKey(const Poco::Exception& error) const {
  return dynamic_cast<const Poco::Data::SQLite::ConstraintViolationException*>(&error) != nullptr &&
         (error.message().find("UNIQUE") != std::string::npos ||
          error.message().find("PRIMARY KEY") != std::string::npos ||
          error.displayText().find("UNIQUE") != std::string::npos);
}

bool SqliteDialect::isUnavailable(const Poco::Exception& error) const {
  return dynamic_cast<const Poco::Data::SQLite::CantOpenDBFileException*>(&error) != nullptr ||
         dynamic_cast<const Poco::Data::SQLite::DBLockedException*>(&error) != nullptr ||
         dynamic_cast<const Poco::Data::SQLite::TableLockedException*>(&error) != nullptr ||
         dynamic_cast<const Poco::Data::SQLite::IOErrorException*>(&error) != nullptr ||
         dynamic_cast<const Poco::Data::SQLite::DatabaseFullException*>(&error) != nullptr;
}

bool SqliteDialect::isResultChanged(const Poco::Exception& error) const {
  // SQLite prepares a statement again by itself when another connection changed its table, after
  // Poco 1.11 read the result's columns; Poco then fails this assertion instead of reading on.
  return dynamic_cast<const Poco::AssertionViolationException*>(&error) != nullptr &&
         error.message().find("columnsReturned() == sqlite3_column_count") != std::string::npos;
}

std::unique_ptr<sql::StatementCache> SqliteDialect::makeStatementCache(std::size_t capacity) const {
  return std::make_unique<SqliteStatementCache>(capacity);
}

std::vector<std::string> SqliteDialect::sessionSetup() const {
  // Writers from several sessions wait for each other instead of failing at once.
  return {"PRAGMA busy_timeout = 5000"};
}

}  // namespace busbar::sqlite
