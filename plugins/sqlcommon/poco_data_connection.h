// PocoDataConnection: busbar::Connection over a Poco::Data session pool, for any Dialect.
//
// Thread-safe: every call borrows a session from the pool; transaction() binds one session to
// the callback's Connection. A session that failed with an "unavailable" error is closed rather
// than returned to the pool, so that a broken link never serves a second request.
#pragma once

#include <memory>
#include <string>

#include <Poco/Data/Session.h>
#include <Poco/Data/SessionPool.h>

#include "dialect.h"
#include "statement_connection.h"

namespace busbar::sql {

struct PoolSettings {
  std::string connector;          // Poco::Data connector: "sqlite", "mysql", "postgresql"
  std::string connection_string;  // in the connector's format; may hold a password: never log it
  int min_sessions = 1;
  int max_sessions = 32;
  int idle_seconds = 60;
};

// Runs one statement on `session` with `?` placeholders bound to `params`; maps Poco errors to
// DuplicateKey, StorageUnavailable or StorageError through the dialect.
ExecuteResult runOnSession(Poco::Data::Session& session, const Dialect& dialect,
                           const std::string& sql, const std::vector<Value>& params);

class PocoDataConnection : public StatementConnection {
 public:
  // Creates the pool; sessions are opened on first use, so a database that is down at this
  // point makes calls fail with StorageUnavailable until it is back.
  PocoDataConnection(std::string driver, std::unique_ptr<Dialect> dialect, PoolSettings pool);
  ~PocoDataConnection() override;

  std::string driver() const override { return driver_; }
  void transaction(const std::function<void(Connection&)>& work) override;

 protected:
  ExecuteResult run(const std::string& sql, const std::vector<Value>& params) override;

 private:
  Poco::Data::Session borrow();

  std::string driver_;
  std::unique_ptr<Dialect> dialect_owned_;
  PoolSettings settings_;
  std::unique_ptr<Poco::Data::SessionPool> pool_;
};

}  // namespace busbar::sql
