// MysqlEventLog: the event log on MariaDB and MySQL. Events are stamped by the server's clock and
// numbered after their commit by one compare-and-set statement (Numbering::kAfterCommit).
// Thread-safe as the Connection is.
#pragma once

#include "sql_event_log.h"

namespace busbar::mysql {

class MysqlEventLog : public sql::SqlEventLog {
 public:
  using SqlEventLog::SqlEventLog;

  Numbering numbering() const override { return Numbering::kAfterCommit; }
  Numbers numberIfHeadUnmoved(const Waiting& waiting) override;

 protected:
  const char* stampSql() const override;
  const char* integerType() const override { return "SIGNED"; }
  std::string tableIdentitiesSql() const override;
  void boundLockWait(Connection& transaction, int seconds) override;
  void unboundLockWait(Connection& transaction) noexcept override;
  std::string unpublishedIndexSql() const override;
};

}  // namespace busbar::mysql
