// Dialect: what differs between SQL backends, so that PocoDataConnection can be shared.
//
// Each storage plugin implements one. Stateless; safe to call from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include "busbar/storage.h"
#include "statement_cache.h"

namespace busbar::sql {

class Dialect {
 public:
  virtual ~Dialect() = default;

  // The identifier quoted for this backend; the caller has validated it.
  virtual std::string quote(const std::string& identifier) const = 0;

  // The statement with each `?` placeholder outside quotes rewritten for this backend (e.g.
  // "$1" for PostgreSQL). The default keeps `?`.
  virtual std::string rewritePlaceholders(const std::string& sql) const { return sql; }

  // The column's type in CREATE TABLE.
  virtual std::string columnType(const Column& column) const = 0;

  // What follows the closing parenthesis of CREATE TABLE (e.g. engine and collation); may be "".
  virtual std::string tableOptions() const { return ""; }

  // INSERT ... that updates the non-key columns on a key conflict, with `?` placeholders.
  // `columns` are quoted, in the order their values are bound; `keys` are the quoted keys.
  virtual std::string upsert(const std::string& table, const std::vector<std::string>& columns,
                             const std::vector<std::string>& keys) const = 0;

  // True when the exception is a unique or primary key violation.
  virtual bool isDuplicateKey(const Poco::Exception& error) const = 0;

  // True when the exception means the database is unreachable or the session is broken.
  virtual bool isUnavailable(const Poco::Exception& error) const = 0;

  // True when a single statement outside a transaction failed only because of concurrency
  // (deadlock, lock timeout) and running it again is safe.
  virtual bool isRetryable(const Poco::Exception& error) const { return false; }

  // True when a read failed only because its table's columns changed after the connector had
  // described its result (another server altered the table): the same read run again, prepared
  // anew, reads the new columns.
  virtual bool isResultChanged(const Poco::Exception& error) const { return false; }

  // True when a failed statement aborts the whole transaction (PostgreSQL): then each statement
  // of a transaction runs under a savepoint, so that a caller who catches, say, DuplicateKey can
  // go on as on the other backends.
  virtual bool failedStatementAbortsTransaction() const { return false; }

  // The rows a statement matched, given the count the connector reported for it on `session`.
  // The default trusts the report (SQLite and PostgreSQL count the rows an UPDATE matched).
  virtual uint64_t matchedRows(Poco::Data::Session& session, uint64_t reported) const {
    return reported;
  }

  // Called before the pool opens a session with `connection_string`; throws a Poco::Exception
  // when the database cannot be reached, so that the connector is not asked. The default does
  // nothing.
  virtual void beforeOpen(const std::string& connection_string) const {}

  // Closes `session` for good, broken or not; never throws. The default closes it through Poco.
  virtual void close(std::unique_ptr<Poco::Data::Session> session) const noexcept {
    try {
      session->close();
    } catch (...) {
      // A session of a server that is gone may fail to close; it is dropped all the same.
    }
  }

  // Statements run once on each new session before it is used (e.g. PRAGMAs); may be empty.
  virtual std::vector<std::string> sessionSetup() const { return {}; }

  // The statement that starts a transaction. Transactions are plain statements (COMMIT and
  // ROLLBACK end them), not Poco's Session::begin(): Poco 1.11's MySQL session leaves
  // autocommit off after commit(), and its PostgreSQL session keeps a transaction flag of its
  // own that a failed COMMIT leaves set.
  virtual std::string beginStatement() const { return "BEGIN"; }

  // The statement that turns the session's autocommit on or off, or "" when the backend has no
  // such session state (the default). When it has, a session that serves transactions runs with
  // autocommit off, so that a transaction begins with its first statement instead of a
  // beginStatement() round trip; a statement outside transactions turns autocommit on again
  // first. The pool lends sessions already in the wanted state when it has one, so switches are
  // rare.
  virtual std::string autocommitStatement(bool on) const { return ""; }

  // A cache for one session of this backend, keeping at most `capacity` prepared statements (0:
  // none). The default keeps Poco::Data statements (PocoStatementCache).
  virtual std::unique_ptr<StatementCache> makeStatementCache(std::size_t capacity) const;

  // True when the database lets one transaction write at a time (SQLite). The connection then
  // queues its own transactions on a mutex, so the next one starts as soon as the previous
  // commits; the database's busy wait is left to writers in other processes.
  virtual bool singleWriter() const { return false; }
};

}  // namespace busbar::sql
