// PocoDataConnection: busbar::Connection over a pool of Poco::Data sessions, for any Dialect.
//
// Thread-safe: every call borrows a session from the pool; transaction() binds one session to
// the Connection its callback gets. A session that failed with an "unavailable" error is closed
// rather than returned, together with the idle ones, so a broken link never serves a second
// request and the next call opens a new session: service resumes by itself when the database is
// back. What is safe to send again is sent again once on a fresh session when a pooled one turns
// out broken: a BEGIN, the first statement of a transaction, a read, CREATE TABLE IF NOT EXISTS;
// so the first requests after a quiet database restart succeed. A single statement outside a
// transaction that hit a deadlock runs again, at most three times in all. On backends whose
// sessions can turn autocommit off (MariaDB), transactions run on sessions with it off and send
// no BEGIN: one round trip fewer per transaction (Dialect::autocommitStatement()).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "dialect.h"
#include "session_pool.h"
#include "statement_connection.h"

namespace busbar::sql {

class PocoDataConnection : public StatementConnection {
 public:
  // Opens nothing yet: sessions are opened on first use, so a database that is down now makes
  // calls fail with StorageUnavailable until it is back. The connector must be registered.
  PocoDataConnection(std::string driver, std::unique_ptr<Dialect> dialect, PoolSettings pool);
  ~PocoDataConnection() override;

  std::string driver() const override { return driver_; }
  void transaction(const std::function<void(Connection&)>& work) override;

  // Opens the pool's minimum of sessions. Throws StorageUnavailable when the database is down.
  void warmUp() { pool_.warmUp(); }

  // The sessions open now, lent or idle.
  int openSessions() const { return pool_.openSessions(); }

  // The pool's figures, for the metrics.
  SessionPool::Stats poolStats() const { return pool_.stats(); }

 protected:
  ExecuteResult run(const std::string& sql, const std::vector<Value>& params) override;
  ExecuteResult runIdempotent(const std::string& sql, const std::vector<Value>& params) override;

 private:
  // Runs one statement on a pooled session; `idempotent` allows sending it again on a fresh
  // session when a reused one is broken.
  ExecuteResult runPooled(const std::string& sql, const std::vector<Value>& params,
                          bool idempotent);
  // A lease whose session has begun a transaction, or whose next statement begins one.
  SessionPool::Lease beginTransaction();

  std::string driver_;
  std::unique_ptr<Dialect> dialect_owned_;
  SessionPool pool_;
  // Held through a transaction when the dialect is singleWriter(). Recursive so that a
  // transaction opened on this connection from inside another one on the same thread meets the
  // database's busy timeout, as it would without the mutex, rather than hanging.
  std::recursive_mutex writer_mutex_;
};

}  // namespace busbar::sql
