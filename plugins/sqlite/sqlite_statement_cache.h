// SqliteStatementCache: a StatementCache of SQLite's own prepared statements.
//
// Poco's SQLite connector parses a statement's SQL again on every run, even of a statement it
// kept; with one writer at a time, that parse is time every other writer waits. This cache keeps
// sqlite3_stmt handles of its session's connection, keyed by SQL, and runs them again with
// sqlite3_reset and new bindings: parsed once per session. Results are read column by column in
// the type SQLite stored (INTEGER, REAL, TEXT, NULL; a BLOB as text), named as the statement
// names them: an expression such as COUNT(*) is an integer here, where Poco's connector gave
// text. A statement that returns no rows reports the rows it changed (0 for BEGIN or COMMIT). A
// statement SQLite must prepare again because another connection changed the schema is prepared
// again by SQLite itself (sqlite3_prepare_v3). SQL holding more than one statement, or none, runs
// through Poco, unkept. Failures throw Poco's SQLite exceptions, as Poco's own statements do.
//
// Thread-safety and clear() as StatementCache says.
#pragma once

#include <memory>
#include <string>

#include "recently_used.h"
#include "statement_cache.h"

struct sqlite3_stmt;

namespace busbar::sqlite {

class SqliteStatementCache : public sql::StatementCache {
 public:
  explicit SqliteStatementCache(std::size_t capacity) : capacity_(capacity) {}
  SqliteStatementCache(const SqliteStatementCache&) = delete;
  SqliteStatementCache& operator=(const SqliteStatementCache&) = delete;

  ExecuteResult execute(Poco::Data::Session& session, const sql::Dialect& dialect,
                        const std::string& sql, const std::vector<Value>& params) override;
  void clear() noexcept override;
  std::size_t size() const override { return statements_.size(); }
  uint64_t prepared() const override { return prepared_; }

 private:
  struct FinalizeStatement {
    void operator()(sqlite3_stmt* statement) const noexcept;
  };
  using Statement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

  const std::size_t capacity_;
  sql::RecentlyUsed<Statement> statements_;  // keyed by SQL
  uint64_t prepared_ = 0;
};

}  // namespace busbar::sqlite
