// PocoStatementCache: a StatementCache of Poco::Data statements, for the MySQL connector.
//
// A Poco::Data::Statement prepares itself on the server when it first runs; run again, it only
// binds and executes: one round trip instead of two on MySQL. Each statement is keyed by its SQL
// and the types of its parameters (a NULL is a type of its own) and bound by reference to slots
// that each run refills; the `capacity` used most recently are kept. A statement whose run fails
// is closed at once (it may hold a result the session must discard before its next statement):
// Poco cannot run a statement again after a failure.
//
// MySQL sessions keep statements in it. SQLite and PostgreSQL have their own
// (SqliteStatementCache, PostgresqlStatementCache): Poco 1.11's SQLite connector parses again on
// every run, and its PostgreSQL connector frees a kept statement's last result twice when a later
// run fails.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>

#include "busbar/storage.h"
#include "dialect.h"
#include "recently_used.h"
#include "statement_cache.h"

namespace busbar::sql {

class PocoStatementCache : public StatementCache {
 public:
  explicit PocoStatementCache(std::size_t capacity);
  ~PocoStatementCache() override;
  PocoStatementCache(const PocoStatementCache&) = delete;
  PocoStatementCache& operator=(const PocoStatementCache&) = delete;

  ExecuteResult execute(Poco::Data::Session& session, const Dialect& dialect,
                        const std::string& sql, const std::vector<Value>& params) override;
  void clear() noexcept override;
  std::size_t size() const override { return statements_.size(); }
  uint64_t prepared() const override { return prepared_; }

 private:
  struct Entry;

  // A new statement for `sql`, bound to slots for params' types; not yet run.
  std::unique_ptr<Entry> prepare(Poco::Data::Session& session, const Dialect& dialect,
                                 const std::string& sql, const std::vector<Value>& params);

  const std::size_t capacity_;
  // Keyed by the parameters' types and the SQL (cacheKey in the .cpp).
  RecentlyUsed<std::unique_ptr<Entry>> statements_;
  uint64_t prepared_ = 0;
};

}  // namespace busbar::sql
