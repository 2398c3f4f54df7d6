// PostgresqlStatementCache: a StatementCache of a PostgreSQL session's own prepared statements,
// run through libpq on the connection under the Poco session.
//
// Poco 1.11's connector prepares, describes, executes and deallocates every statement it runs:
// four round trips, and a statement it keeps cannot run again after a failure (it frees its last
// result twice). This cache speaks libpq directly. A kept statement is prepared once per session
// (PQprepare, under a name of its own: one round trip, plus one to deallocate the statement it
// evicts) and each run is one round trip (PQexecPrepared), parsed once; PostgreSQL plans it for
// its values on the first runs and may then keep a generic plan. With capacity 0, or for a
// statement of more than 100 placeholders (whose SQL varies with the size of its batch), each
// run is one unnamed round trip (PQexecParams), kept nowhere. A run that fails leaves its
// statement prepared, as PostgreSQL does, except when the server no longer holds it or its
// result changed shape (another session altered the table): then it is dropped, and outside a
// transaction it runs once more, prepared anew (the error came before it ran).
//
// Values go out as text, their types inferred by the server from the statement, as Poco's do: a
// NULL binds any type. Results come back as int64 for integers and booleans, double for float,
// double precision and numeric, the bytes for bytea, monostate for NULL (as Poco's connector
// gave them), and PostgreSQL's own text for any other type (Poco made dates, times and uuids
// values of its own). A statement that returns no result set reports the rows it changed.
// Failures throw Poco::Data::PostgreSQL::StatementException, worded as Poco's connector words
// them but with the SQLSTATE first ("... State: <SQLSTATE> ..."), which PostgresqlDialect
// classifies.
//
// A dropped statement is deallocated at the next run outside a transaction (where a failed
// DEALLOCATE would abort it). Each kept statement holds its parse tree, and its plan once it has
// one, in the server's memory for the session: pool.max x capacity per server. Thread-safety and
// clear() as StatementCache says.
#pragma once

#include <string>
#include <vector>

#include "recently_used.h"
#include "statement_cache.h"

struct pg_conn;

namespace busbar::postgresql {

class PostgresqlStatementCache : public sql::StatementCache {
 public:
  explicit PostgresqlStatementCache(std::size_t capacity) : capacity_(capacity) {}
  PostgresqlStatementCache(const PostgresqlStatementCache&) = delete;
  PostgresqlStatementCache& operator=(const PostgresqlStatementCache&) = delete;

  ExecuteResult execute(Poco::Data::Session& session, const sql::Dialect& dialect,
                        const std::string& sql, const std::vector<Value>& params) override;
  // Forgets every statement; the server's copies are deallocated at the session's next run outside
  // a transaction, or go with the session.
  void clear() noexcept override;
  std::size_t size() const override { return statements_.size(); }
  uint64_t prepared() const override { return prepared_; }

 private:
  // A statement the server holds for this session.
  struct Statement {
    std::string name;       // the server's name for it
    std::size_t arity = 0;  // the placeholders it has
  };

  // Prepares `numbered` (`sql` with its `arity` placeholders numbered) under a new name, evicting
  // the least recently used statement when full. On failure throws, and nothing is kept.
  const Statement& prepare(pg_conn* connection, const std::string& sql, const std::string& numbered,
                           std::size_t arity);
  // Has the next deallocateDropped() deallocate the statement `name`, which this cache no longer
  // keeps.
  void deallocateLater(std::string&& name) noexcept;
  // Deallocates the statements dropped, unless a transaction is open on `connection`; after a
  // clear(), every statement of the session, and forgets those kept since.
  void deallocateDropped(pg_conn* connection) noexcept;

  const std::size_t capacity_;
  sql::RecentlyUsed<Statement> statements_;  // keyed by SQL
  std::vector<std::string> to_deallocate_;   // names dropped and still held by the server
  bool deallocate_all_ = false;              // clear() ran: every name of this cache goes
  uint64_t prepared_ = 0;
  uint64_t next_name_ = 0;
};

}  // namespace busbar::postgresql
