#include "odbc_connection.h"

#include <busbar/errors.h>

#include "odbc_errors.h"
#include "statement_runner.h"

namespace odbc_storage {
namespace {

using busbar::ExecuteResult;
using busbar::Value;

// Statements a fresh session runs first. idle_in_transaction_session_timeout: the database ends
// a transaction whose client went quiet (a frozen server), so that it holds no lock longer.
std::vector<std::string> sessionSetup(const OdbcSettings& settings) {
  if (settings.idle_transaction_timeout_seconds <= 0) return {};
  return {"SET idle_in_transaction_session_timeout = '" +
          std::to_string(settings.idle_transaction_timeout_seconds) + "s'"};
}

void setAutocommit(SessionPool::Lease& lease, bool on) {
  lease.session().setFeature("autoCommit", on);
}

// Rolls back and turns autocommit on again; a session that cannot is marked broken.
void rollbackQuietly(SessionPool::Lease& lease) noexcept {
  if (lease.broken()) return;
  try {
    lease.session().rollback();
    setAutocommit(lease, true);
  } catch (...) {
    lease.markBroken();
  }
}

// The Connection of one transaction: every statement on its session. A failed statement aborts
// a PostgreSQL transaction; psqlODBC's statement-level rollback (Protocol=7.4-2, which the plugin
// asks for) wraps each statement in a savepoint of its own and rolls back to it on an error, so
// that a caller who catches DuplicateKey goes on as on the other backends.
class TransactionConnection : public DbalConnection {
 public:
  // `begin_again` lends another session with autocommit off, for a first statement that found
  // the pooled one broken.
  TransactionConnection(SessionPool::Lease& lease, std::function<SessionPool::Lease()> begin_again)
      : lease_(lease), begin_again_(std::move(begin_again)) {}

  // Joins the outer transaction.
  void transaction(const std::function<void(busbar::Connection&)>& work) override { work(*this); }

 protected:
  ExecuteResult run(const std::string& sql, const std::vector<Value>& params, bool) override {
    if (lease_.broken()) throw busbar::StorageUnavailable("the transaction's ODBC session broke");
    try {
      ExecuteResult result = runStatement(lease_.session(), sql, params);
      begun_ = true;
      return result;
    } catch (const Poco::Exception& error) {
      const Failure failure = classify(error, lease_.session());
      if (failure == Failure::kUnavailable) {
        lease_.markBroken();
        // The first statement on a session that waited in the pool, whose server may have gone
        // away meanwhile (a restart): the transaction began with it, and a server that ran it
        // rolled it back when the session broke, so it runs again on a fresh session.
        if (!begun_ && lease_.reused()) {
          lease_ = begin_again_();
          begun_ = true;  // once
          return run(sql, params, false);
        }
      }
      throwFailure(failure, describe(error));
    }
  }

 private:
  SessionPool::Lease& lease_;
  std::function<SessionPool::Lease()> begin_again_;
  bool begun_ = false;  // a statement ran, or the first one was sent again
};

}  // namespace

OdbcConnection::OdbcConnection(const OdbcSettings& settings)
    : pool_(settings.connection, settings.pool_max, settings.connect_timeout_seconds,
            sessionSetup(settings)) {}

ExecuteResult OdbcConnection::run(const std::string& sql, const std::vector<Value>& params,
                                  bool idempotent) {
  // Two attempts: a pooled session may have died while idle (a database restart); what is safe
  // to send twice goes again on a fresh one.
  for (int attempt = 1;; ++attempt) {
    SessionPool::Lease lease = pool_.acquire();
    try {
      return runStatement(lease.session(), sql, params);
    } catch (const Poco::Exception& error) {
      const Failure failure = classify(error, lease.session());
      if (failure == Failure::kUnavailable) {
        lease.markBroken();
        if (attempt == 1 && idempotent && lease.reused()) continue;
      }
      throwFailure(failure, describe(error));
    }
  }
}

SessionPool::Lease OdbcConnection::beginTransaction() {
  for (int attempt = 1;; ++attempt) {
    SessionPool::Lease lease = pool_.acquire();
    try {
      setAutocommit(lease, false);
      return lease;
    } catch (const Poco::Exception& error) {
      const Failure failure = classify(error, lease.session());
      if (failure == Failure::kUnavailable) {
        lease.markBroken();
        if (attempt == 1 && lease.reused()) continue;  // nothing ran yet
      }
      throwFailure(failure, "cannot begin a transaction: " + describe(error));
    }
  }
}

void OdbcConnection::transaction(const std::function<void(busbar::Connection&)>& work) {
  SessionPool::Lease lease = beginTransaction();
  TransactionConnection bound(lease, [this] { return beginTransaction(); });
  try {
    work(bound);
  } catch (...) {
    rollbackQuietly(lease);
    throw;
  }
  try {
    lease.session().commit();
  } catch (const Poco::Exception& error) {
    Failure failure = classify(error, lease.session());
    // Anything but a conflict or a key: the link may have broken after the database committed.
    if (failure == Failure::kOther) failure = Failure::kUnavailable;
    if (failure == Failure::kUnavailable) {
      lease.markBroken();
    } else {
      rollbackQuietly(lease);
    }
    throwFailure(failure, "cannot commit: " + describe(error));
  }
  try {
    setAutocommit(lease, true);
  } catch (...) {
    lease.markBroken();  // committed: the session that cannot say so more is closed, not lent
  }
}

}  // namespace odbc_storage
