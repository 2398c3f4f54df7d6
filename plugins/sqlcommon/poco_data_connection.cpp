#include "poco_data_connection.h"

#include "busbar/errors.h"
#include "statement_runner.h"

namespace busbar::sql {
namespace {

constexpr int kStatementAttempts = 3;

// Rolls back; a session that cannot even roll back is marked broken.
void rollbackQuietly(const Dialect& dialect, SessionPool::Lease& lease) {
  if (lease.broken()) return;
  try {
    executeStatement(lease.session(), dialect, "ROLLBACK", {});
  } catch (...) {
    lease.markBroken();
  }
}

// The Connection of one transaction: every statement on the transaction's session.
class TransactionConnection : public StatementConnection {
 public:
  TransactionConnection(std::string driver, const Dialect& dialect, SessionPool::Lease& lease)
      : StatementConnection(dialect), driver_(std::move(driver)), lease_(lease) {}

  std::string driver() const override { return driver_; }

  // Joins the outer transaction.
  void transaction(const std::function<void(Connection&)>& work) override { work(*this); }

 protected:
  ExecuteResult run(const std::string& sql, const std::vector<Value>& params) override {
    if (lease_.broken()) {
      throw StorageUnavailable("the transaction's " + driver_ + " session broke");
    }
    const bool savepoint = dialect().failedStatementAbortsTransaction();
    try {
      if (savepoint)
        executeStatement(lease_.session(), dialect(), "SAVEPOINT busbar_statement", {});
      ExecuteResult result = executeStatement(lease_.session(), dialect(), sql, params);
      if (savepoint) {
        executeStatement(lease_.session(), dialect(), "RELEASE SAVEPOINT busbar_statement", {});
      }
      return result;
    } catch (const Poco::Exception& error) {
      Failure failure = classify(dialect(), lease_.session(), error);
      if (failure == Failure::kUnavailable) {
        lease_.markBroken();
      } else if (savepoint) {
        undoStatement();
      }
      throwFailure(failure, error.displayText());
    }
  }

 private:
  // Rolls back to the savepoint before the failed statement; a session that cannot is broken.
  void undoStatement() {
    try {
      executeStatement(lease_.session(), dialect(), "ROLLBACK TO SAVEPOINT busbar_statement", {});
    } catch (...) {
      lease_.markBroken();
    }
  }

  std::string driver_;
  SessionPool::Lease& lease_;
};

}  // namespace

PocoDataConnection::PocoDataConnection(std::string driver, std::unique_ptr<Dialect> dialect,
                                       PoolSettings pool)
    : StatementConnection(*dialect),
      driver_(std::move(driver)),
      dialect_owned_(std::move(dialect)),
      pool_(std::move(pool), *dialect_owned_) {}

PocoDataConnection::~PocoDataConnection() = default;

ExecuteResult PocoDataConnection::run(const std::string& sql, const std::vector<Value>& params) {
  return runPooled(sql, params, false);
}

ExecuteResult PocoDataConnection::runIdempotent(const std::string& sql,
                                                const std::vector<Value>& params) {
  return runPooled(sql, params, true);
}

ExecuteResult PocoDataConnection::runPooled(const std::string& sql,
                                            const std::vector<Value>& params, bool idempotent) {
  for (int attempt = 1;; ++attempt) {
    SessionPool::Lease lease = pool_.acquire();
    try {
      return executeStatement(lease.session(), dialect(), sql, params);
    } catch (const Poco::Exception& error) {
      Failure failure = classify(dialect(), lease.session(), error);
      const bool again = attempt < kStatementAttempts;
      if (failure == Failure::kUnavailable) {
        lease.markBroken();
        if (again && idempotent && lease.reused()) continue;
      } else if (failure == Failure::kRetryable && again) {
        continue;
      }
      throwFailure(failure, error.displayText());
    }
  }
}

SessionPool::Lease PocoDataConnection::beginTransaction() {
  for (int attempt = 1;; ++attempt) {
    SessionPool::Lease lease = pool_.acquire();
    try {
      executeStatement(lease.session(), dialect(), dialect().beginStatement(), {});
      return lease;
    } catch (const Poco::Exception& error) {
      Failure failure = classify(dialect(), lease.session(), error);
      if (failure == Failure::kUnavailable) {
        lease.markBroken();
        // Nothing ran yet: begin again on a fresh session.
        if (lease.reused() && attempt < kStatementAttempts) continue;
      }
      throwFailure(failure, "cannot begin a transaction: " + error.displayText());
    }
  }
}

void PocoDataConnection::transaction(const std::function<void(Connection&)>& work) {
  // SQLite's own wait for the write lock polls with sleeps of up to 100 ms; queued here, the next
  // writer starts when the previous one commits.
  std::unique_lock<std::recursive_mutex> single_writer(writer_mutex_, std::defer_lock);
  if (dialect().singleWriter()) single_writer.lock();
  SessionPool::Lease lease = beginTransaction();
  TransactionConnection bound(driver_, dialect(), lease);
  try {
    work(bound);
  } catch (...) {
    rollbackQuietly(dialect(), lease);
    throw;
  }
  try {
    executeStatement(lease.session(), dialect(), "COMMIT", {});
  } catch (const Poco::Exception& error) {
    Failure failure = classify(dialect(), lease.session(), error);
    if (failure == Failure::kUnavailable) lease.markBroken();
    rollbackQuietly(dialect(), lease);
    throwFailure(failure, "cannot commit: " + error.displayText());
  }
}

}  // namespace busbar::sql
