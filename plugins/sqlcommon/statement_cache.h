// StatementCache: the prepared statements of one Poco::Data session, kept to run again.
//
// A Poco::Data::Statement prepares itself on the server when it first runs; run again, it only
// binds and executes. A statement made anew for each call costs two round trips on MySQL
// (prepare, execute) and four on PostgreSQL (parse, describe, execute, deallocate); kept, one.
// The cache holds the `capacity` statements of its session used most recently, each keyed by its
// SQL and the types of its parameters (a NULL is a type of its own) and bound by reference to
// slots that each run refills.
//
// A statement whose run fails is closed at once (it may hold a result the session must discard
// before its next statement) and prepared anew by the next run: its table may have changed, and
// Poco cannot run a statement again after a failure. clear() closes them all, and must run before
// the session closes. Not thread-safe: used by one thread at a time, as its session is.
//
// MySQL sessions keep statements (the mysql plugin's statement_cache). SQLite's would gain
// nothing (Poco's connector parses the SQL again on each run), and PostgreSQL's cannot: Poco
// 1.11's connector frees a kept statement's last result twice when a later run fails.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <Poco/Data/Session.h>

#include "busbar/storage.h"
#include "dialect.h"

namespace busbar::sql {

class StatementCache {
 public:
  explicit StatementCache(std::size_t capacity);
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // Runs `sql` (with `?` placeholders) on `session` with `params` bound in order, through the
  // statement kept for it (prepared now when there is none). Returns what executeStatement()
  // returns. On failure drops the statement and throws what Poco threw.
  ExecuteResult execute(Poco::Data::Session& session, const Dialect& dialect,
                        const std::string& sql, const std::vector<Value>& params);

  // Drops every statement. Never throws.
  void clear() noexcept;

  // Statements kept now.
  std::size_t size() const { return entries_.size(); }

  // Statements prepared since the cache was made (runs that found none kept).
  uint64_t prepared() const { return prepared_; }

 private:
  struct Entry;
  using Entries = std::list<std::unique_ptr<Entry>>;

  // A new statement for `sql`, bound to slots for params' types; not yet run.
  std::unique_ptr<Entry> prepare(Poco::Data::Session& session, const Dialect& dialect,
                                 const std::string& key, const std::string& sql,
                                 const std::vector<Value>& params);
  void drop(Entries::iterator entry) noexcept;

  const std::size_t capacity_;
  Entries entries_;  // most recently used first
  std::unordered_map<std::string, Entries::iterator> by_key_;
  uint64_t prepared_ = 0;
};

// True when `sql` changes tables (it starts with CREATE, ALTER, DROP or RENAME): statements
// prepared before it may no longer fit them, and such a statement is never kept itself.
bool changesSchema(const std::string& sql);

// True when `sql` only reads (it starts with SELECT or SHOW), so that running it twice does what
// running it once does.
bool isRead(const std::string& sql);

}  // namespace busbar::sql
