#include "sqlite_statement_cache.h"

#include <sqlite3.h>

#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>

#include "statement_runner.h"

namespace busbar::sqlite {
namespace {

using Poco::Data::SQLite::Utility;

bool onlySpaceIn(const char* text) {
  for (; text != nullptr && *text != '\0'; ++text) {
    if (*text != ' ' && *text != '\t' && *text != '\r' && *text != '\n') return false;
  }
  return true;
}

// Throws the Poco exception for `rc` (its primary code: Poco knows those), with SQLite's message
// and the statement.
[[noreturn]] void fail(sqlite3* db, int rc, const std::string& sql) {
  Utility::throwException(db, rc & 0xff, sql);
  throw Poco::Data::SQLite::SQLiteException("SQLite error " + std::to_string(rc), sql);
}

void bindAll(sqlite3* db, sqlite3_stmt* statement, const std::vector<Value>& params,
             const std::string& sql) {
  if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(statement)) {
    throw Poco::Data::SQLite::ParameterCountMismatchException(
        std::to_string(params.size()) + " values for " +
            std::to_string(sqlite3_bind_parameter_count(statement)) + " parameters",
        sql);
  }
  int index = 1;
  for (const auto& value : params) {
    int rc = SQLITE_OK;
    if (const auto* integer = std::get_if<int64_t>(&value)) {
      rc = sqlite3_bind_int64(statement, index, *integer);
    } else if (const auto* real = std::get_if<double>(&value)) {
      rc = sqlite3_bind_double(statement, index, *real);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      // Static: the values outlive the run, and the bindings are cleared after it.
      rc = sqlite3_bind_text(statement, index, text->data(), static_cast<int>(text->size()),
                             SQLITE_STATIC);
    } else {
      rc = sqlite3_bind_null(statement, index);
    }
    if (rc != SQLITE_OK) fail(db, rc, sql);
    ++index;
  }
}

Value columnValue(sqlite3_stmt* statement, int column) {
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(statement, column));
    case SQLITE_FLOAT:
      return sqlite3_column_double(statement, column);
    case SQLITE_NULL:
      return std::monostate{};
    default: {
      // TEXT, or a BLOB as its bytes; the pointer is read before the size, as SQLite asks.
      const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement, column));
      const int size = sqlite3_column_bytes(statement, column);
      return bytes == nullptr ? std::string() : std::string(bytes, static_cast<size_t>(size));
    }
  }
}

// Steps `statement` to its end: its rows, or the rows it changed. The columns are read after the
// first step, which may have prepared the statement again for a changed table.
ExecuteResult runToEnd(sqlite3* db, sqlite3_stmt* statement, const std::string& sql) {
  ExecuteResult result;
  std::vector<std::string> names;
  for (;;) {
    const int rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(db, rc, sql);
    const int columns = sqlite3_column_count(statement);
    if (names.empty()) {
      for (int column = 0; column < columns; ++column) {
        names.emplace_back(sqlite3_column_name(statement, column));
      }
    }
    Row row;
    for (int column = 0; column < columns; ++column) {
      row.emplace_hint(row.end(), names[static_cast<size_t>(column)],
                       columnValue(statement, column));
    }
    result.rows.push_back(std::move(row));
  }
  // sqlite3_changes() keeps the count of the last INSERT, UPDATE or DELETE through a BEGIN or a
  // COMMIT, which change no row themselves.
  if (sqlite3_column_count(statement) == 0 && !sqlite3_stmt_readonly(statement)) {
    result.affected = static_cast<uint64_t>(sqlite3_changes(db));
  }
  return result;
}

// Resets a statement after its run, whatever happened, and lets go of the values bound.
class RunScope {
 public:
  explicit RunScope(sqlite3_stmt* statement) : statement_(statement) {}
  ~RunScope() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

 private:
  sqlite3_stmt* statement_;
};

}  // namespace

void SqliteStatementCache::FinalizeStatement::operator()(sqlite3_stmt* statement) const noexcept {
  sqlite3_finalize(statement);
}

ExecuteResult SqliteStatementCache::execute(Poco::Data::Session& session,
                                            const sql::Dialect& dialect, const std::string& sql,
                                            const std::vector<Value>& params) {
  sqlite3* db = Utility::dbHandle(session);
  sqlite3_stmt* statement = nullptr;
  if (Statement* kept = statements_.use(sql)) {
    statement = kept->get();
  } else {
    const char* tail = nullptr;
    const int rc =
        sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()) + 1,
                           capacity_ > 0 ? SQLITE_PREPARE_PERSISTENT : 0, &statement, &tail);
    Statement prepared(statement);
    if (rc != SQLITE_OK) fail(db, rc, sql);
    if (statement == nullptr || !onlySpaceIn(tail)) {
      // No statement (only comments) or several: Poco runs them one after the other.
      prepared.reset();
      return sql::executeStatement(session, dialect, sql, params);
    }
    ++prepared_;
    if (capacity_ == 0) {
      RunScope run(statement);
      bindAll(db, statement, params, sql);
      return runToEnd(db, statement, sql);
    }
    if (statements_.size() >= capacity_) statements_.removeLeastRecentlyUsed();
    statements_.add(sql, std::move(prepared));
  }
  RunScope run(statement);
  bindAll(db, statement, params, sql);
  return runToEnd(db, statement, sql);
}

void SqliteStatementCache::clear() noexcept { statements_.clear(); }

}  // namespace busbar::sqlite
