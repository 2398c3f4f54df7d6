// OdbcConnection: busbar::Connection over a SessionPool of ODBC sessions.
//
// Outside a transaction each statement borrows a session and runs in autocommit; a read that
// finds a pooled session broken (the database restarted) goes again once on a fresh one, and so
// does a transaction's first statement, since nothing of the transaction ran. transaction()
// turns autocommit off on one session, hands `work` a Connection bound to that session, and ends
// with COMMIT (SQLEndTran) or ROLLBACK. A failed statement leaves the transaction usable
// (psqlODBC's statement-level rollback, see OdbcSettings::connection). A COMMIT that fails other
// than by a conflict or a key is StorageUnavailable: its outcome is unknown, and the host settles
// it from the event log. Thread-safe; the transaction's Connection belongs to the thread of `work`.
#pragma once

#include <functional>
#include <memory>

#include "dbal_connection.h"
#include "odbc_settings.h"
#include "session_pool.h"

namespace odbc_storage {

class OdbcConnection : public DbalConnection {
 public:
  // Opens nothing yet: a database that is down makes calls fail with StorageUnavailable until it
  // is back.
  explicit OdbcConnection(const OdbcSettings& settings);

  void transaction(const std::function<void(busbar::Connection&)>& work) override;

  // Opens one session now. Throws StorageUnavailable when the database does not answer.
  void warmUp() { pool_.warmUp(); }

 protected:
  busbar::ExecuteResult run(const std::string& sql, const std::vector<busbar::Value>& params,
                            bool idempotent) override;

 private:
  // A lease whose session has autocommit off: its next statement begins a transaction.
  SessionPool::Lease beginTransaction();

  SessionPool pool_;
};

}  // namespace odbc_storage
