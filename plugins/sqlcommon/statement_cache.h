// StatementCache: the prepared statements of one database session, kept to run again.
//
// A statement made anew for each call is parsed and planned each time, and on a server may cost
// round trips of its own: two on MySQL (prepare, execute), four on PostgreSQL through Poco
// (parse, describe, execute, deallocate). A cache keeps the statements its session used most recently, up to a
// capacity, and runs them again with new values. Each backend's Dialect makes its sessions'
// caches (Dialect::makeStatementCache): Poco's statements for MySQL, SQLite's own for SQLite,
// libpq's for PostgreSQL.
//
// A failed run leaves the cache usable: the next run of the same SQL works as a first one would.
// clear() drops every statement, and must run before the session closes. Not thread-safe: used
// by one thread at a time, as its session is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>

#include "busbar/storage.h"

namespace busbar::sql {

class Dialect;

class StatementCache {
 public:
  virtual ~StatementCache() = default;

  // Runs `sql` (with `?` placeholders) on `session` with `params` bound in order, through the
  // statement kept for it (prepared now when there is none). On success returns the rows of a
  // statement that returns rows, else the count of rows it changed. On failure throws a
  // Poco::Exception, which the dialect classifies.
  virtual ExecuteResult execute(Poco::Data::Session& session, const Dialect& dialect,
                                const std::string& sql, const std::vector<Value>& params) = 0;

  // Drops every statement. Never throws.
  virtual void clear() noexcept = 0;

  // Statements kept now.
  virtual std::size_t size() const = 0;

  // Statements prepared since the cache was made (runs that found none kept).
  virtual uint64_t prepared() const = 0;
};

// True when `sql` changes tables (it starts with CREATE, ALTER, DROP or RENAME): statements
// prepared before it may no longer fit them, and such a statement is never kept itself.
bool changesSchema(const std::string& sql);

// True when `sql` only reads (it starts with SELECT or SHOW), so that running it twice does what
// running it once does.
bool isRead(const std::string& sql);

}  // namespace busbar::sql
