// PostgresqlDialect: SQL differences of PostgreSQL 9.5+ as Poco::Data::PostgreSQL sees them.
//
// Double-quote quoting, text in the "C" collation (byte order, as on the other backends), `$n`
// placeholders (Poco 1.11 hands the statement to PQprepare as it is
// and counts the distinct `$n` in it), ON CONFLICT upserts, errors told apart by SQLSTATE, and
// a savepoint around each statement of a transaction, because a failed statement aborts a
// PostgreSQL transaction, a reachability check before each new session, and broken sessions
// closed without leaking. Immutable after construction but for the kept shells of broken sessions
// (see close()); safe from any thread.
#pragma once

#include "dialect.h"

namespace busbar::postgresql {

class PostgresqlDialect : public sql::Dialect {
 public:
  // `idle_transaction_timeout_seconds`: see ServerSettings (0: the server's default).
  explicit PostgresqlDialect(int idle_transaction_timeout_seconds = 0)
      : idle_transaction_timeout_seconds_(idle_transaction_timeout_seconds) {}

  std::string quote(const std::string& identifier) const override;
  std::string rewritePlaceholders(const std::string& sql) const override;
  std::string columnType(const Column& column) const override;
  std::string upsert(const std::string& table, const std::vector<std::string>& columns,
                     const std::vector<std::string>& keys) const override;
  bool isDuplicateKey(const Poco::Exception& error) const override;
  bool isUnavailable(const Poco::Exception& error) const override;
  bool isRetryable(const Poco::Exception& error) const override;
  bool isResultChanged(const Poco::Exception& error) const override;
  // Statements kept through libpq (PostgresqlStatementCache), not Poco's.
  std::unique_ptr<sql::StatementCache> makeStatementCache(std::size_t capacity) const override;
  bool failedStatementAbortsTransaction() const override { return true; }
  // Connects with libpq first and hangs up: Poco 1.11 leaks the libpq connection of every
  // failed connect (about 17 KiB each), which a database outage would multiply by the requests
  // made during it. Costs one extra connect per new session.
  void beforeOpen(const std::string& connection_string) const override;
  // Poco 1.11 finishes a libpq connection only while it is good, so a broken one would leak;
  // this finishes it and keeps the Poco session, whose destructor would touch the finished
  // connection, for the rest of the process (a few hundred bytes per broken session).
  void close(std::unique_ptr<Poco::Data::Session> session) const noexcept override;
  // The idle transaction timeout (idle_in_transaction_session_timeout), when set.
  std::vector<std::string> sessionSetup() const override;

 private:
  const int idle_transaction_timeout_seconds_;
};

// `sql` with each `?` outside literals, quoted identifiers, comments and dollar quotes numbered
// `$1`, `$2`, ... in order; `count` is set to the placeholders the statement has: the highest
// number given, or written as `$n`.
std::string numberPlaceholders(const std::string& sql, std::size_t& count);

// The SQLSTATE in a Poco PostgreSQL error ("... State: 23505 ..."), or "" when it names none.
std::string postgresqlState(const Poco::Exception& error);

}  // namespace busbar::postgresql
