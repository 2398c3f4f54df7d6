// MysqlDialect: SQL differences of MariaDB 10.3+ as Poco::Data::MySQL 1.11 sees them.
//
// Backtick quoting, ON DUPLICATE KEY UPDATE, InnoDB tables in utf8mb4 with a binary no-pad
// collation (so text compares and keys byte for byte, as on the other backends), and errors told
// apart by the server's error number. Unbounded text columns are TEXT: at most 65,535 bytes (see
// columnType). Immutable after construction; safe from any thread.
#pragma once

#include "dialect.h"

namespace busbar::mysql {

class MysqlDialect : public sql::Dialect {
 public:
  // `idle_transaction_timeout_seconds`: see ServerSettings (0: the server's default).
  explicit MysqlDialect(int idle_transaction_timeout_seconds = 0)
      : idle_transaction_timeout_seconds_(idle_transaction_timeout_seconds) {}

  std::string quote(const std::string& identifier) const override;
  std::string columnType(const Column& column) const override;
  std::string tableOptions() const override;
  std::string upsert(const std::string& table, const std::vector<std::string>& columns,
                     const std::vector<std::string>& keys) const override;
  bool isDuplicateKey(const Poco::Exception& error) const override;
  bool isUnavailable(const Poco::Exception& error) const override;
  bool isRetryable(const Poco::Exception& error) const override;
  bool isResultChanged(const Poco::Exception& error) const override;
  // Strict mode on every session, so that a too long value fails instead of being cut
  // whatever the server's default; and the idle transaction timeout.
  std::vector<std::string> sessionSetup() const override;
  // MySQL reports the rows an UPDATE changed; this reads the rows it matched from mysql_info(),
  // as the other backends count them.
  uint64_t matchedRows(Poco::Data::Session& session, uint64_t reported) const override;
  std::string beginStatement() const override { return "START TRANSACTION"; }
  std::string autocommitStatement(bool on) const override {
    return on ? "SET autocommit = 1" : "SET autocommit = 0";
  }

 private:
  const int idle_transaction_timeout_seconds_;
};

// The server's error number behind a Poco MySQL exception (its code, or the "errno]: N" of its
// message), or 0 when it names none.
int mysqlErrorNumber(const Poco::Exception& error);

}  // namespace busbar::mysql
