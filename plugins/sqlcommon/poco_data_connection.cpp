#include "poco_data_connection.h"

#include "busbar/errors.h"
#include "statement_cache.h"
#include "statement_runner.h"

namespace busbar::sql {
namespace {

constexpr int kStatementAttempts = 3;

// Runs one statement on the lease's session, through the statements it keeps; a statement that
// changes tables runs on its own, and every session of the pool then drops what it kept. A read
// that found its table's columns changed runs again once, prepared anew, unless
// `failure_aborts_transaction` (the caller undoes the failure first).
ExecuteResult runOnLease(SessionPool& pool, SessionPool::Lease& lease, const Dialect& dialect,
                         const std::string& sql, const std::vector<Value>& params,
                         bool failure_aborts_transaction = false) {
  if (!changesSchema(sql)) {
    try {
      return lease.statements().execute(lease.session(), dialect, sql, params);
    } catch (const Poco::Exception& error) {
      // Only such a read runs twice, and not where its failure aborted the transaction.
      if (failure_aborts_transaction || !isRead(sql) || !dialect.isResultChanged(error)) throw;
    }
    return lease.statements().execute(lease.session(), dialect, sql, params);
  }
  lease.statements().clear();  // what they were prepared for changes now
  try {
    ExecuteResult result = executeStatement(lease.session(), dialect, sql, params);
    pool.schemaChanged();
    return result;
  } catch (...) {
    pool.schemaChanged();  // it may have changed a part
    throw;
  }
}

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
  // `begun`: the session holds the transaction already (a BEGIN ran). When it does not, the
  // transaction begins with its first statement (autocommit off), and `begin_again` lends a
  // fresh session for that statement when the pooled one turns out broken.
  TransactionConnection(std::string driver, const Dialect& dialect, SessionPool& pool,
                        SessionPool::Lease& lease, bool begun,
                        std::function<SessionPool::Lease()> begin_again)
      : StatementConnection(dialect),
        driver_(std::move(driver)),
        pool_(pool),
        lease_(lease),
        begun_(begun),
        begin_again_(std::move(begin_again)) {}

  std::string driver() const override { return driver_; }

  // Joins the outer transaction.
  void transaction(const std::function<void(Connection&)>& work) override { work(*this); }

  // True when a statement of the transaction changed tables.
  bool changedSchema() const { return changed_schema_; }

 protected:
  ExecuteResult run(const std::string& sql, const std::vector<Value>& params) override {
    if (lease_.broken()) {
      throw StorageUnavailable("the transaction's " + driver_ + " session broke");
    }
    const bool savepoint = dialect().failedStatementAbortsTransaction();
    try {
      if (savepoint) runOnLease(pool_, lease_, dialect(), "SAVEPOINT busbar_statement", {});
      if (changesSchema(sql)) changed_schema_ = true;
      ExecuteResult result = runOnLease(pool_, lease_, dialect(), sql, params, savepoint);
      if (savepoint) runOnLease(pool_, lease_, dialect(), "RELEASE SAVEPOINT busbar_statement", {});
      begun_ = true;
      return result;
    } catch (const Poco::Exception& error) {
      Failure failure = classify(dialect(), lease_.session(), error);
      if (savepoint && failure == Failure::kOther && !reading_again_ && isRead(sql) &&
          dialect().isResultChanged(error)) {
        // A read that found its table's columns changed: once the transaction is back to before
        // it, again, prepared anew.
        if (!undoStatement()) throwFailure(failure, error.displayText());
        reading_again_ = true;
        struct Done {
          bool& flag;
          ~Done() { flag = false; }
        } done{reading_again_};
        return run(sql, params);
      }
      if (failure == Failure::kUnavailable) {
        lease_.markBroken();
        // The first statement on a session that waited in the pool, whose server may have gone
        // away meanwhile: with autocommit off, a server that ran it rolled it back when the
        // session broke, so it runs again on a fresh session, as a BEGIN that failed would.
        // A statement that changes tables commits by itself, so it is not sent twice.
        if (!begun_ && lease_.reused() && !changesSchema(sql)) {
          lease_.giveBackBroken();
          lease_ = begin_again_();
          return run(sql, params);
        }
      } else if (savepoint) {
        undoStatement();
      }
      throwFailure(failure, error.displayText());
    }
  }

 private:
  // Rolls back to the savepoint before the failed statement; a session that cannot is broken.
  // Returns whether it could.
  bool undoStatement() {
    try {
      executeStatement(lease_.session(), dialect(), "ROLLBACK TO SAVEPOINT busbar_statement", {});
      return true;
    } catch (...) {
      lease_.markBroken();
      return false;
    }
  }

  std::string driver_;
  SessionPool& pool_;
  SessionPool::Lease& lease_;
  bool begun_;
  std::function<SessionPool::Lease()> begin_again_;
  bool changed_schema_ = false;
  bool reading_again_ = false;  // run() runs a read again after its table changed
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
    SessionPool::Lease lease = pool_.acquire(true);
    bool sent = false;  // the statement itself, not the autocommit switch before it
    try {
      if (!lease.autocommit()) {
        executeStatement(lease.session(), dialect(), dialect().autocommitStatement(true), {});
        lease.setAutocommit(true);
      }
      sent = true;
      return runOnLease(pool_, lease, dialect(), sql, params);
    } catch (const Poco::Exception& error) {
      Failure failure = classify(dialect(), lease.session(), error);
      const bool again = attempt < kStatementAttempts;
      if (failure == Failure::kUnavailable) {
        lease.markBroken();
        if (again && (idempotent || !sent) && lease.reused()) continue;
      } else if (failure == Failure::kRetryable && again) {
        continue;
      }
      throwFailure(failure, error.displayText());
    }
  }
}

SessionPool::Lease PocoDataConnection::beginTransaction() {
  const std::string autocommit_off = dialect().autocommitStatement(false);
  for (int attempt = 1;; ++attempt) {
    SessionPool::Lease lease = pool_.acquire(autocommit_off.empty());
    try {
      if (autocommit_off.empty()) {
        runOnLease(pool_, lease, dialect(), dialect().beginStatement(), {});
      } else if (lease.autocommit()) {
        executeStatement(lease.session(), dialect(), autocommit_off, {});
        lease.setAutocommit(false);
      }
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
  TransactionConnection bound(driver_, dialect(), pool_, lease,
                              dialect().autocommitStatement(false).empty(),
                              [this] { return beginTransaction(); });
  try {
    work(bound);
  } catch (...) {
    rollbackQuietly(dialect(), lease);
    throw;
  }
  try {
    runOnLease(pool_, lease, dialect(), "COMMIT", {});
  } catch (const Poco::Exception& error) {
    Failure failure = classify(dialect(), lease.session(), error);
    if (failure == Failure::kUnavailable) lease.markBroken();
    rollbackQuietly(dialect(), lease);
    throwFailure(failure, "cannot commit: " + error.displayText());
  }
  if (bound.changedSchema()) pool_.schemaChanged();  // plans made before the commit saw the old
}

}  // namespace busbar::sql
